"""Where a course keeps its assignments: the nbgrader folders under the course root."""

from __future__ import annotations

from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent


def source_dir(assignment: str, root: Path = COURSE_ROOT) -> Path:
    return root / "source" / assignment


def source_notebook(assignment: str, root: Path = COURSE_ROOT) -> Path:
    """The instructor notebook of an assignment, which holds the reference solution."""
    return source_dir(assignment, root) / f"{assignment}.ipynb"


def release_dir(assignment: str, root: Path = COURSE_ROOT) -> Path:
    return root / "release" / assignment


def grader_tests_dir(assignment: str, root: Path = COURSE_ROOT) -> Path:
    return root / "grader_tests" / assignment
