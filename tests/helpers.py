"""What the project's tests share: this repository's course, its discovered assignments, and
grading a folder of submissions the way `autograder grade` does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.batch import grade_all
from autograder.course import Assignment, Course
from autograder.local_processes import LocalProcesses
from autograder.release import nbgrader_environment
from autograder.results import SubmissionResult
from autograder.settings import default_policy

COURSE = Course.load(Path(__file__).resolve().parents[1])
ASSIGNMENTS = COURSE.assignments()


def assignment(name: str) -> Assignment:
    return COURSE.assignment(name)


def grade_folder(
    assignment: Assignment, submitted: Path, out: Path, jobs: int = 2, **settings: float
) -> list[SubmissionResult]:
    """Grade every submission in `submitted` on `jobs` local processes, default settings but
    `settings` (Autograder trait names)."""
    return grade_all(assignment, submitted, out, default_policy(**settings), LocalProcesses(jobs))


TINY = "tiny"  # the assignment of tiny_course
TINY_TEST = """import pytest

pytestmark = pytest.mark.graded("double")


@pytest.mark.points({points})
def test_{name}(student, reference, cached):
    assert student.double(21) == cached(reference.double, 21), "double(21) is wrong"
"""


def tiny_notebook(graded_source: str, points: float = 1, hidden_cell: str | None = None):
    """A source notebook of one graded function, `double`, with its hidden-tests cell."""
    import nbformat

    hidden = nbformat.v4.new_code_cell(
        hidden_cell
        if hidden_cell is not None
        else f"# Hidden tests of double ({points:g} points)\n"
        "# Other graded functions it may call (their reference versions): none.\n"
    )
    hidden.metadata["nbgrader"] = {"grade_id": "double_hidden_tests", "grade": True, "points": points}
    hidden.metadata["nbgrader"].update(locked=True, solution=False, schema_version=3, task=False)
    imports = nbformat.v4.new_code_cell("import numpy as np")
    graded = nbformat.v4.new_code_cell(graded_source)
    graded.metadata["nbgrader"] = {"grade_id": "double", "grade": False, "solution": True, "locked": False}
    graded.metadata["nbgrader"].update(schema_version=3, task=False)
    return nbformat.v4.new_notebook(cells=[imports, graded, hidden])


def tiny_reference(factor: int = 2) -> str:
    body = f"    ### BEGIN SOLUTION\n    return {factor} * x\n    ### END SOLUTION\n"
    return "# GRADED FUNCTION: double\ndef double(x):\n" + body


def tiny_course(
    root: Path, points: float = 1, test_points: float = 1, hidden_cell: str | None = None
) -> Assignment:
    """A course of one assignment at root: source notebook, hidden tests (one test, `test_two`),
    and the submission of student s1 (a right double)."""
    import nbformat

    tiny = Assignment(root, TINY)
    tiny.source_dir.mkdir(parents=True)
    nbformat.write(tiny_notebook(tiny_reference(2), points, hidden_cell), tiny.source_notebook)
    tiny.tests_dir.mkdir(parents=True)
    (tiny.tests_dir / "pytest.ini").write_text("[pytest]\npythonpath = .\npython_files = test_*.py\n")
    (tiny.tests_dir / "test_double.py").write_text(TINY_TEST.format(name="two", points=test_points))
    submission = root / "submitted" / "s1" / TINY / f"{TINY}.ipynb"
    submission.parent.mkdir(parents=True)
    nbformat.write(tiny_notebook("# GRADED FUNCTION: double\ndef double(x):\n    return x + x\n"), submission)
    return tiny


def nbgrader(
    folder: Path, *args: str, timeout: float | None = None, env: dict | None = None, ok: bool = True
):
    """Run an nbgrader command in `folder` (environment: nbgrader's, with `env` added); it must exit
    0, or not when ok=False. Past `timeout` seconds it is killed with all its processes.
    Returns (stdout, stderr)."""
    command = [sys.executable, "-m", "nbgrader", *args]
    with subprocess.Popen(
        command,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**nbgrader_environment(), **(env or {})},
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            pytest.fail(f"nbgrader {args[0]} did not finish in {timeout} s:\n{stderr[-3000:]}")
    assert (process.returncode == 0) == ok, stdout + stderr
    return stdout, stderr
