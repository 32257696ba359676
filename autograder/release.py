"""Generate the student version of an assignment with stock nbgrader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from autograder.course import COURSE_ROOT


def generate_release(assignment: str, root: Path = COURSE_ROOT) -> Path:
    """Run `nbgrader generate_assignment` for the course at `root`; returns the release folder."""
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        assignment,
        "--force",
        f"--CourseDirectory.root={root}",
        f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}",
    ]
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True, env=nbgrader_environment())
    if completed.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{completed.stdout}\n{completed.stderr}")
    return root / "release" / assignment


def nbgrader_environment() -> dict[str, str]:
    """nbgrader runs `alembic` from PATH: put this interpreter's scripts folder first."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
