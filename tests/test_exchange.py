"""Students fetch and submit through nbgrader's exchange with students/nbgrader_config.py, and the
instructor collects and grades what they handed in."""

import shutil

import pytest
from helpers import COURSE, nbgrader

pytestmark = pytest.mark.slow
A = "conv_step_by_step"


def exchange_command(folder, exchange, *args, ok=True):
    return nbgrader(folder, *args, timeout=300, env={"NBGRADER_EXCHANGE": str(exchange)}, ok=ok)


def test_a_student_fetches_and_submits_and_the_instructor_collects(tmp_path):
    course, student, exchange = tmp_path / "course", tmp_path / "student", tmp_path / "exchange"
    for folder in ("source", "release", "grader_tests"):
        shutil.copytree(COURSE.root / folder / A, course / folder / A)
    shutil.copy(COURSE.root / "nbgrader_config.py", course)
    exchange.mkdir(mode=0o777)
    student.mkdir()
    exchange_command(course, exchange, "release_assignment", A)

    exchange_command(student, exchange, "fetch_assignment", A, ok=False)  # no course, no exchange configured
    shutil.copy(COURSE.root / "students" / "nbgrader_config.py", student)
    exchange_command(student, exchange, "fetch_assignment", A)
    fetched = student / A
    assert {"testkit.py", "limits.json", "public_tests.py", f"{A}.ipynb"} <= {
        p.name for p in fetched.iterdir()
    }
    exchange_command(student, exchange, "submit", A)

    exchange_command(course, exchange, "collect", A)
    collected = list((course / "submitted").glob(f"*/{A}/{A}.ipynb"))
    assert len(collected) == 1 and collected[0].read_bytes() == (fetched / f"{A}.ipynb").read_bytes()
