"""Students fetch and submit through nbgrader's exchange with students/nbgrader_config.py, and the
instructor collects and grades what they handed in."""

import shutil
import subprocess
import sys

import pytest
from helpers import COURSE

from autograder.release import nbgrader_environment

pytestmark = pytest.mark.slow
A = "conv_step_by_step"


def nbgrader(folder, exchange, *args, ok=True):
    env = {**nbgrader_environment(), "NBGRADER_EXCHANGE": str(exchange)}
    command = [sys.executable, "-m", "nbgrader", *args]
    completed = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert (completed.returncode == 0) == ok, completed.stdout + completed.stderr
    return completed.stdout + completed.stderr


def test_a_student_fetches_and_submits_and_the_instructor_collects(tmp_path):
    course, student, exchange = tmp_path / "course", tmp_path / "student", tmp_path / "exchange"
    for folder in ("source", "release", "grader_tests"):
        shutil.copytree(COURSE.root / folder / A, course / folder / A)
    shutil.copy(COURSE.root / "nbgrader_config.py", course)
    exchange.mkdir(mode=0o777)
    student.mkdir()
    nbgrader(course, exchange, "release_assignment", A)

    nbgrader(student, exchange, "fetch_assignment", A, ok=False)  # no course, no exchange configured
    shutil.copy(COURSE.root / "students" / "nbgrader_config.py", student)
    nbgrader(student, exchange, "fetch_assignment", A)
    fetched = student / A
    assert {"testkit.py", "limits.json", "public_tests.py", f"{A}.ipynb"} <= {
        p.name for p in fetched.iterdir()
    }
    nbgrader(student, exchange, "submit", A)

    nbgrader(course, exchange, "collect", A)
    collected = list((course / "submitted").glob(f"*/{A}/{A}.ipynb"))
    assert len(collected) == 1 and collected[0].read_bytes() == (fetched / f"{A}.ipynb").read_bytes()
