"""No stale grade: a result or a cache is reused only while the submission, every file of the
hidden tests, the source notebook and the grading settings are all unchanged.

A tiny course of its own (one graded function, one hidden test) keeps these fast: `nbgrader
autograde`'s preprocessor runs in this process, as in a Jupyter server's, on it."""

import json

import nbformat
import pytest
from helpers import TINY, TINY_TEST, tiny_course, tiny_notebook, tiny_reference
from traitlets.config import Config

from autograder.course import Assignment
from autograder.fingerprint import fingerprint, grade_key
from autograder.notebook import read_cells
from autograder.results import SubmissionResult, write_results_json
from autograder.results import TestResult as Row
from autograder.settings import default_policy
from autograder.submission import submission_digest

ASSIGNMENT = TINY


def notebook(graded_source):
    return tiny_notebook(graded_source)


def reference_source(factor):
    return tiny_reference(factor)


@pytest.fixture
def course(tmp_path):
    """tmp_path as the course root: source/, grader_tests/, submitted/, grades/."""
    tiny_course(tmp_path)
    from autograder import grade

    before = dict(grade._contexts)
    yield tmp_path
    for key, context in list(grade._contexts.items()):
        if before.get(key) is not context:
            context.close()
            del grade._contexts[key]


def autograde(course, runtime_factor=10.0) -> str:
    """`nbgrader autograde`'s step for student s1: the feedback it writes in the hidden-tests cell."""
    from autograder.nbgrader_plugin import SandboxedGrading

    config = Config()
    config.CourseDirectory.root = str(course)
    config.Autograder.runtime_factor = runtime_factor
    preprocessor = SandboxedGrading(config=config)
    nb = nbformat.read(course / "submitted" / "s1" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    resources = {"nbgrader": {"student": "s1", "assignment": ASSIGNMENT, "notebook": ASSIGNMENT}}
    nb, _ = preprocessor.preprocess(nb, resources)
    return nb.cells[2].outputs[0]["text"]


def leave_result_of_autograder_grade(course, runtime_factor=10.0):
    """grades/tiny/s1/grading.json as `autograder grade` leaves it for the course as it is now,
    with a result no grading gives, to tell reuse from grading again."""
    digest = submission_digest(read_cells(course / "submitted" / "s1" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    result = SubmissionResult("s1", ASSIGNMENT, [Row("double: stale", "double", "correctness", 1, 1)])
    result.digest = digest
    policy = default_policy(runtime_factor=runtime_factor)
    result.fingerprint = grade_key(fingerprint(Assignment(course, ASSIGNMENT), policy), digest)
    write_results_json(result, course / "grades" / ASSIGNMENT)


def change_hidden_test(course):
    (course / "grader_tests" / ASSIGNMENT / "test_double.py").write_text(
        TINY_TEST.format(name="changed", points=1)
    )


def change_data_file(course):
    (course / "grader_tests" / ASSIGNMENT / "cases.json").write_text(json.dumps({"x": 21}))


def change_helper_in_subfolder(course):
    (course / "grader_tests" / ASSIGNMENT / "data").mkdir()
    (course / "grader_tests" / ASSIGNMENT / "data" / "inputs.txt").write_text("21\n")


def change_source_notebook(course):
    nbformat.write(notebook(reference_source(3)), course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


@pytest.mark.parametrize(
    "change",
    [change_hidden_test, change_data_file, change_helper_in_subfolder, change_source_notebook],
    ids=lambda change: change.__name__,
)
def test_grading_json_is_reused_until_the_course_changes(course, change):
    leave_result_of_autograder_grade(course)
    assert "double: stale" in autograde(course)  # nothing changed: reused
    change(course)
    feedback = autograde(course)
    assert "double: stale" not in feedback
    assert feedback.startswith(("PASS double:", "FAIL double:"))


def test_grading_json_is_not_reused_under_another_runtime_factor(course):
    leave_result_of_autograder_grade(course, runtime_factor=10.0)
    assert "double: stale" in autograde(course, runtime_factor=10.0)
    assert "double: stale" not in autograde(course, runtime_factor=3.0)


def test_grading_json_of_an_old_grader_is_not_reused(course):
    """grading.json keyed by the submission's digest alone (before the fingerprint) says nothing
    of the hidden tests it was graded with."""
    digest = submission_digest(read_cells(course / "submitted" / "s1" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    stale = SubmissionResult("s1", ASSIGNMENT, [Row("double: stale", "double", "correctness", 1, 1)])
    path = course / "grades" / ASSIGNMENT / "s1" / "grading.json"
    path.parent.mkdir(parents=True)
    result = {**stale.__dict__, "tests": [stale.tests[0].__dict__]}
    path.write_text(json.dumps({"digest": digest, "result": result}))
    assert "double: stale" not in autograde(course)


def test_a_result_of_autograder_grade_is_reused_and_grading_does_not_run(course, monkeypatch):
    from autograder import grade

    context = grade.process_context(Assignment(course, ASSIGNMENT), default_policy())
    data = (course / "submitted" / "s1" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
    result = grade.grade_bytes(context, "s1", data, "")
    assert result.fingerprint and [test.score for test in result.tests] == [1.0]
    write_results_json(result, course / "grades" / ASSIGNMENT)

    def refuse(*_, **__):
        raise AssertionError("graded again")

    monkeypatch.setattr(grade, "grade_submission", refuse)
    assert autograde(course).startswith("PASS double: two")


def test_a_long_lived_process_grades_with_the_current_course(course):
    """The preprocessor's process keeps its GradingContext, the hidden tests it imported and the
    expected values they cached: none may outlive a change of the hidden tests or the reference."""
    assert autograde(course).startswith("PASS double: two")
    assert autograde(course).startswith("PASS double: two")
    change_hidden_test(course)
    assert autograde(course).startswith("PASS double: changed")
    change_source_notebook(course)  # the reference now triples: the cached double(21) must go
    assert autograde(course).startswith("FAIL double: changed (0/1): double(21) is wrong")
