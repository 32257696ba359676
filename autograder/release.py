"""Generate the student version of an assignment with stock nbgrader, with the student test kit.

Before nbgrader copies the assignment's folder, the kit every assignment's `public_tests.py`
builds on (autograder/testkit.py) and the course's limits (`limits.json`, from the course's
Autograder settings) are written into source/<assignment>/, so that the instructor's notebook runs
in place and the release gets the same files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.course import Assignment, CourseError
from autograder.settings import Autograder

TESTKIT = Path(__file__).resolve().with_name("testkit.py")
SHIPPED = ("testkit.py", "limits.json")  # what ship_kit writes into an assignment's folder


def limits_text(settings: Autograder) -> str:
    return json.dumps(settings.limits(), indent=2, sort_keys=True) + "\n"


def ship_kit(folder: Path, settings: Autograder) -> None:
    """Write the student test kit and the course's limits into an assignment's folder."""
    shutil.copyfile(TESTKIT, folder / "testkit.py")
    (folder / "limits.json").write_text(limits_text(settings))


def generate_release(assignment: Assignment, settings: Autograder, gradebook: Path | None = None) -> Path:
    """Run `nbgrader generate_assignment` for the course at assignment.root; returns the release
    folder. nbgrader records the assignment in the course's gradebook, or in `gradebook` (a scratch
    one, for a release that must leave the course's gradebook as it is)."""
    ship_kit(assignment.source_dir, settings)
    root = assignment.root
    gradebook = gradebook or root / "gradebook.db"
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        assignment.name,
        "--force",
        f"--CourseDirectory.root={root}",
        f"--CourseDirectory.db_url=sqlite:///{gradebook}",
    ]
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True, env=nbgrader_environment())
    if completed.returncode != 0:
        raise CourseError(f"nbgrader generate_assignment failed:\n{completed.stdout}\n{completed.stderr}")
    return assignment.release_dir


def nbgrader_environment() -> dict[str, str]:
    """nbgrader runs `alembic` from PATH: put this interpreter's scripts folder first."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
