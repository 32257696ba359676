"""Stock nbgrader commands on a copy of the course: `nbgrader autograde` grades with the same
sandboxed engine and gives the same scores as `autograder grade`; scores reach the gradebook,
`nbgrader export` lists them and `nbgrader generate_feedback` writes each student's report, in
which nothing a student wrote is live HTML. A submissions folder with a FIFO, a link to /dev/zero
or a linked student folder still grades to the end: those students get zero and the reason."""

import csv
import os
import re
import shutil

import nbformat
import pytest
from helpers import COURSE, grade_folder, nbgrader

from autograder.course import Course
from autograder.examples import build_examples, expected_scores
from autograder.spec import read_spec

ASSIGNMENT = "conv_step_by_step"
STUDENTS = ["broken_file", "course_loops", "flipped_kernel", "reference"]  # broken_file: bad JSON
# Stock nbgrader blocks for ever opening the FIFO and reads /dev/zero until memory runs out.
HOSTILE_FILES = {  # (what the feedback says the notebook is, how to make it)
    "fifo": ("named pipe", lambda path: os.mkfifo(path)),
    "zero": ("symbolic link", lambda path: path.symlink_to("/dev/zero")),
}
SECRET = "root-only-secret-3f9a1c"
AUTOGRADE_SECONDS = 180  # the whole batch: 15 s on two cores
HOSTILE_ZERO_PAD = """# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    raise ValueError("<script>alert('message')</script><img src=x onerror=alert(2)>\\x1b[31m")
"""
HOSTILE_MARKDOWN = (
    "<script>alert('markdown')</script>\n\n[click me](javascript:alert(3)) <b onmouseover=alert(4)>b</b>"
)


def hostile_notebook(reference_notebook, target):
    """The reference, but zero_pad raises with HTML in its message, and a markdown cell of HTML."""
    nb = nbformat.read(reference_notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("# GRADED FUNCTION: zero_pad"):
            cell.source = HOSTILE_ZERO_PAD
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN))
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder of its own: nbgrader grades it with its own source and hidden tests."""
    course = tmp_path_factory.mktemp("course")
    for folder in ("source", "grader_tests", "examples"):
        shutil.copytree(COURSE.root / folder / ASSIGNMENT, course / folder / ASSIGNMENT)
    shutil.copy(COURSE.root / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    examples = tmp_path_factory.mktemp("examples")
    build_examples(Course.load(course).assignment(ASSIGNMENT), examples)
    for student in STUDENTS:
        shutil.copytree(examples / student, course / "submitted" / student)
    notebook = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    hostile_notebook(examples / "reference" / notebook, course / "submitted" / "hostile" / notebook)
    # A student folder whose notebook is a link to another student's: graded as that problem.
    (course / "submitted" / "copycat" / ASSIGNMENT).mkdir(parents=True)
    (course / "submitted" / "copycat" / notebook).symlink_to(course / "submitted" / "reference" / notebook)
    for student, (_, make) in HOSTILE_FILES.items():
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        make(course / "submitted" / student / notebook)
    # A student folder that is a link to another student's folder.
    (course / "submitted" / "mirror").symlink_to(course / "submitted" / "reference")
    # An honest notebook beside other files nbgrader would copy: a link to a root-only file, a
    # FIFO, and a timestamp.txt that is a FIFO.
    extras = course / "submitted" / "extras" / ASSIGNMENT
    shutil.copytree(examples / "reference" / ASSIGNMENT, extras)
    secret = tmp_path_factory.mktemp("root_only") / "secret.txt"
    secret.write_text(SECRET)
    secret.chmod(0o600)
    (extras / "notes.txt").symlink_to(secret)
    os.mkfifo(extras / "data.bin")
    (extras / "timestamp.txt").unlink(missing_ok=True)
    os.mkfifo(extras / "timestamp.txt")
    # nbgrader before `autograder grade`, so it cannot reuse results: it grades with the engine itself.
    nbgrader(course, "autograde", ASSIGNMENT, timeout=AUTOGRADE_SECONDS)
    return course


@pytest.mark.slow
def test_nbgrader_autograde_matches_autograder_grade_and_feeds_the_gradebook(course):
    nbgrader(course, "export", "--to", "export.csv")
    with open(course / "export.csv") as stream:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}

    assignment = Course.load(course).assignment(ASSIGNMENT)
    results = grade_folder(assignment, course / "submitted", course / "grades" / ASSIGNMENT)
    assert exported == {result.student_id: result.score for result in results}
    assert exported["reference"] == 100 and exported["course_loops"] == 80
    assert exported["hostile"] == 95 and exported["copycat"] == 0 and exported["extras"] == 100
    assert all(exported[student] == 0 for student in ["broken_file", *HOSTILE_FILES, "mirror"])


@pytest.mark.slow
def test_generate_feedback_explains_each_lost_point(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    report = (course / "feedback" / "flipped_kernel" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "FAIL conv_forward: output [stride2-pad1-nonsquare]" in report
    assert "values differ" in report and "max abs error" in report


@pytest.mark.slow
def test_feedback_heads_each_function_with_its_score_and_shows_no_grader_internals(course):
    """nbgrader's template calls every grade cell "Test cell" in its table of contents and
    "Grade cell: <grade id>" above it, and scrolls long lines: each function's cell is named after
    it, with its score, and its messages wrap."""
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    report = feedback_of(course, "flipped_kernel")
    assignment = Course.load(course).assignment(ASSIGNMENT)
    functions = read_spec(assignment).functions
    scores = expected_scores(assignment, "flipped_kernel", functions)
    for name, function in functions.items():
        assert f'#toc a[href="#{name}_hidden_tests"]::after {{ content: "{name}"; ' in report
        assert f'a[name="{name}_hidden_tests"] + .panel-heading .nbgrader-label::after' in report
        others = re.findall(rf'<a href="#({name}_\w+)">Test cell</a>', report)  # its public test
        for grade_id in set(others) - {f"{name}_hidden_tests"}:
            assert f'#toc a[href="#{grade_id}"]::after {{ content: "{name}: ' in report
        heading = f"# {name}: {scores[name]:g} / {function.points:g} points"
        assert f'<span class="c1">{heading}</span>' in report
    for internal in ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "Other graded functions it may call"]:
        assert internal not in report
    assert "runs here, in the grader" not in report and "is graded on correctness by tests" not in report
    assert "div.output_stream pre { white-space: pre-wrap;" in report


@pytest.mark.slow
def test_feedback_of_a_broken_notebook_gives_the_reason_once_per_function(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    report = feedback_of(course, "broken_file")
    functions = read_spec(Course.load(course).assignment(ASSIGNMENT)).functions
    assert report.count("Problem with this submission: notebook") == len(functions)
    # Once in each function's cell, and once where the notebook's text would be.
    assert report.count("not a readable .ipynb file") == len(functions) + 1
    assert "Not shown: notebook" in report and "not graded: see above" in report


def feedback_of(course, student):
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


@pytest.mark.slow
def test_feedback_html_shows_what_a_student_wrote_as_text(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    report = feedback_of(course, "hostile")
    scripts = re.findall(r"<script[^>]*>", report)
    assert all("mathjax" in tag.lower() for tag in scripts), scripts  # nbconvert's own only
    assert "<img src=x" not in report and "onmouseover" not in report.replace("&lt;b onmouseover", "")
    assert 'href="javascript:' not in report
    assert "zero_pad raised ValueError" in report
    assert "&lt;script&gt;alert(" in report and "&lt;img src=x onerror=alert(2)&gt;" in report


@pytest.mark.slow
def test_a_notebook_linked_to_another_students_is_graded_as_that_problem(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    report = feedback_of(course, "copycat")
    assert "Problem with this submission: the notebook is a symbolic link" in report
    assert "np.pad" in feedback_of(course, "reference") and "np.pad" not in report  # none of its code


@pytest.mark.slow
def test_a_fifo_a_device_link_or_a_linked_student_folder_is_zero_with_the_reason(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    for student, (reason, _) in HOSTILE_FILES.items():
        assert f"Problem with this submission: the notebook is a {reason}" in feedback_of(course, student)
    report = feedback_of(course, "mirror")
    assert "Problem with this submission: mirror/ is a symbolic link, not a folder" in report
    assert "np.pad" not in report  # none of the linked student's code


@pytest.mark.slow
def test_a_notebook_that_does_not_parse_is_zero_with_the_reason(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    report = feedback_of(course, "broken_file")
    assert (
        f"Problem with this submission: notebook {ASSIGNMENT}.ipynb is not a readable .ipynb file" in report
    )


@pytest.mark.slow
def test_only_a_students_plain_files_are_copied(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    copied = [path for folder in ("autograded", "feedback") for path in (course / folder).rglob("*")]
    assert not [path for path in copied if path.is_file() and SECRET in path.read_text(errors="replace")]
    extras = course / "autograded" / "extras" / ASSIGNMENT
    assert (extras / f"{ASSIGNMENT}.ipynb").is_file()
    assert not (extras / "notes.txt").exists() and not (extras / "data.bin").exists()
