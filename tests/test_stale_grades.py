"""No stale grade: a result or a cache is reused only while the submission, every file of the
hidden tests, the source notebook and the grading settings are all unchanged.

A tiny course of its own (one graded function, one hidden test) keeps these fast: `nbgrader
autograde`'s preprocessor runs in this process, as in a Jupyter server's, on it."""

import importlib.util
import json

import nbformat
import pytest
from traitlets.config import Config

from autograder.notebook import read_cells
from autograder.results import SubmissionResult, write_results_json
from autograder.results import TestResult as Row
from autograder.runtime import RuntimePolicy
from autograder.submission import submission_digest

ASSIGNMENT = "tiny"
HIDDEN_CELL = (
    "# Hidden tests of double\n# Other graded functions it may call (their reference versions): none.\n"
)
TEST_MODULE = """import pytest

pytestmark = pytest.mark.graded("double")


@pytest.mark.points(1)
def test_{name}(student, reference, cached):
    assert student.double(21) == cached(reference.double, 21), "double(21) is wrong"
"""


def notebook(graded_source):
    hidden = nbformat.v4.new_code_cell(HIDDEN_CELL)
    hidden.metadata["nbgrader"] = {"grade_id": "double_hidden_tests", "grade": True, "points": 1}
    hidden.metadata["nbgrader"]["locked"] = True
    imports = nbformat.v4.new_code_cell("import numpy as np")
    return nbformat.v4.new_notebook(cells=[imports, nbformat.v4.new_code_cell(graded_source), hidden])


def reference_source(factor):
    body = f"    ### BEGIN SOLUTION\n    return {factor} * x\n    ### END SOLUTION\n"
    return "# GRADED FUNCTION: double\ndef double(x):\n" + body


@pytest.fixture
def course(tmp_path, monkeypatch):
    """tmp_path as the course root: source/, grader_tests/, submitted/, grades/."""
    source = tmp_path / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(notebook(reference_source(2)), source)
    tests = tmp_path / "grader_tests" / ASSIGNMENT
    tests.mkdir(parents=True)
    (tests / "pytest.ini").write_text("[pytest]\npythonpath = .\npython_files = test_*.py\n")
    (tests / "test_double.py").write_text(TEST_MODULE.format(name="two"))
    submission = tmp_path / "submitted" / "s1" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    submission.parent.mkdir(parents=True)
    nbformat.write(notebook("# GRADED FUNCTION: double\ndef double(x):\n    return x + x\n"), submission)
    patches = [
        ("autograder.grade", "grader_tests_dir"),
        ("autograder.grade", "source_notebook"),
        ("autograder.fingerprint", "grader_tests_dir"),
        ("autograder.fingerprint", "source_notebook"),
        ("autograder.reference", "source_notebook"),
    ]
    places = {"grader_tests_dir": lambda a: tmp_path / "grader_tests" / a}
    places["source_notebook"] = lambda a: tmp_path / "source" / a / f"{a}.ipynb"
    for module, name in patches:
        if importlib.util.find_spec(module) is not None:  # the old grader had no fingerprint module
            monkeypatch.setattr(f"{module}.{name}", places[name])
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
    preprocessor = SandboxedGrading(config=config)
    preprocessor.results_directory = str(course / "grades")
    preprocessor.runtime_factor = runtime_factor
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
    try:
        from autograder.fingerprint import fingerprint, grade_key

        result.fingerprint = grade_key(fingerprint(ASSIGNMENT, RuntimePolicy(factor=runtime_factor)), digest)
    except ImportError:
        pass  # the old grader keyed grading.json by the digest alone
    write_results_json(result, course / "grades" / ASSIGNMENT)


def change_hidden_test(course):
    (course / "grader_tests" / ASSIGNMENT / "test_double.py").write_text(TEST_MODULE.format(name="changed"))


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

    context = grade.process_context(ASSIGNMENT, RuntimePolicy())
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
