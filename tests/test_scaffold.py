"""`autograder new NAME` scaffolds a working assignment: release, check and grade work on it at
once, and nothing else of the course changes."""

import hashlib
import shutil

import pytest
from helpers import COURSE

from autograder.cli import main
from autograder.course import Course
from autograder.examples import build_examples

pytestmark = pytest.mark.slow

NEW = "attention_step_by_step"


def files(root):
    return {
        path.relative_to(root).as_posix(): hashlib.blake2b(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture
def course(tmp_path):
    """A copy of this course: its assignments, examples, hidden tests and configuration."""
    for folder in ("source", "release", "grader_tests", "examples"):
        shutil.copytree(COURSE.root / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(COURSE.root / "nbgrader_config.py", tmp_path)
    return tmp_path


def test_a_new_assignment_releases_checks_and_grades_at_once(course, capsys):
    before = files(course)
    assert main(["--course", str(course), "new", NEW]) == 0
    assert main(["--course", str(course), "release", NEW]) == 0
    assert main(["--course", str(course), "check", NEW]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"{NEW}: sound"

    after = files(course)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    ours = (f"source/{NEW}/", f"release/{NEW}/", f"grader_tests/{NEW}/", f"examples/{NEW}/")
    assert {path for path in changed if not path.startswith(ours)} == {"gradebook.db"}  # nbgrader's entry
    assert f"release/{NEW}/testkit.py" in changed and f"grader_tests/{NEW}/test_relu.py" in changed

    assignment = Course.load(course).assignment(NEW)
    build_examples(assignment, course / "submitted")  # as `nbgrader collect` leaves them
    assert main(["--course", str(course), "grade", NEW]) == 0
    grades = (course / "grades" / NEW / "grades.csv").read_text().splitlines()
    scores = {row.split(",")[0]: row.split(",")[1] for row in grades[1:]}
    assert scores == {"empty_stub": "0", "reference": "10", "relu_of_abs": "0"}


def test_an_existing_or_unusable_name_is_refused(course, capsys):
    assert main(["--course", str(course), "new", "conv_step_by_step"]) == 2
    assert "conv_step_by_step exists already: source/conv_step_by_step" in capsys.readouterr().out
    assert main(["--course", str(course), "new", "not-a-name"]) == 2
    assert "must be a Python identifier" in capsys.readouterr().out
