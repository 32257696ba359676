"""Stock nbgrader commands on a copy of the course: `nbgrader autograde` grades with the same
sandboxed engine and gives the same scores as `autograder grade`; scores reach the gradebook,
`nbgrader export` lists them and `nbgrader generate_feedback` writes each student's report."""

import csv
import shutil
import subprocess
import sys

import pytest

from autograder.batch import grade_all
from autograder.course import COURSE_ROOT
from autograder.examples import build_examples
from autograder.release import nbgrader_environment

ASSIGNMENT = "conv_step_by_step"
STUDENTS = ["course_loops", "flipped_kernel", "reference"]


def nbgrader(course, *args):
    command = [sys.executable, "-m", "nbgrader", *args]
    completed = subprocess.run(
        command, cwd=course, capture_output=True, text=True, env=nbgrader_environment()
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(COURSE_ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    examples = tmp_path_factory.mktemp("examples")
    build_examples(ASSIGNMENT, examples)
    for student in STUDENTS:
        shutil.copytree(examples / student, course / "submitted" / student)
    # nbgrader before `autograder grade`, so it cannot reuse results: it grades with the engine itself.
    nbgrader(course, "autograde", ASSIGNMENT)
    return course


@pytest.mark.slow
def test_nbgrader_autograde_matches_autograder_grade_and_feeds_the_gradebook(course):
    nbgrader(course, "export", "--to", "export.csv")
    with open(course / "export.csv") as stream:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}

    results = grade_all(
        ASSIGNMENT, course / "submitted", course / "grades" / ASSIGNMENT, jobs=2, show_progress=False
    )
    assert exported == {result.student_id: result.score for result in results}
    assert exported["reference"] == 100 and exported["course_loops"] == 80


@pytest.mark.slow
def test_generate_feedback_explains_each_lost_point(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    report = (course / "feedback" / "flipped_kernel" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "FAIL conv_forward: output [stride2-pad1-nonsquare]" in report
    assert "values differ" in report and "max abs error" in report
