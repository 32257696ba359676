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


def shipped_limits(assignment: Assignment, settings: Autograder) -> dict:
    """What the public speed check reads: the course's limits, and the points of each function's
    runtime tests (from the hidden tests, so the two cannot disagree)."""
    from autograder.spec import read_spec

    return {**settings.limits(), "runtime_points": read_spec(assignment).runtime_points}


def ship_kit(assignment: Assignment, settings: Autograder, folder: Path | None = None) -> None:
    """Write the student test kit and the limits into the assignment's folder (or `folder`)."""
    folder = Path(folder or assignment.source_dir)
    shutil.copyfile(TESTKIT, folder / "testkit.py")
    limits = shipped_limits(assignment, settings)
    (folder / "limits.json").write_text(json.dumps(limits, indent=2, sort_keys=True) + "\n")


def generate_release(assignment: Assignment, settings: Autograder, gradebook: Path | None = None) -> Path:
    """Run `nbgrader generate_assignment` for the course at assignment.root; returns the release
    folder. nbgrader records the assignment in the course's gradebook, or in `gradebook` (a scratch
    one, for a release that must leave the course's gradebook as it is)."""
    ship_kit(assignment, settings)
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


def comparable(notebook) -> list[tuple]:
    """What matters of a notebook: cell types, sources, nbgrader metadata and attachments (not
    volatile ids)."""
    return [
        (cell.cell_type, cell.source, cell.get("metadata", {}).get("nbgrader"), cell.get("attachments"))
        for cell in notebook.cells
    ]


def release_differences(assignment: Assignment, settings: Autograder) -> list[str]:
    """Where the committed release differs from what `autograder release` makes of the source now
    (generated in a scratch copy of the course: the course's release and gradebook are untouched)."""
    import tempfile

    from autograder.course import Course
    from autograder.notebook import read_notebook

    committed = assignment.release_dir
    if not committed.is_dir():
        return [f"no release: run `autograder release {assignment.name}`"]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shutil.copytree(assignment.source_dir, root / "source" / assignment.name, ignore=_KIT)
        shutil.copytree(assignment.tests_dir, root / "grader_tests" / assignment.name)
        shutil.copy(assignment.root / "nbgrader_config.py", root)
        copy = Course.load(root).assignment(assignment.name)
        fresh = generate_release(copy, settings, root / "gradebook.db")
        files = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
        old = {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
        problems = [f"release/{assignment.name}/{name} is missing" for name in sorted(files - old)]
        problems += [
            f"release/{assignment.name}/{name} is not made from source/" for name in sorted(old - files)
        ]
        for name in sorted(files & old):
            same = (
                comparable(read_notebook(fresh / name)) == comparable(read_notebook(committed / name))
                if name.suffix == ".ipynb"
                else (fresh / name).read_bytes() == (committed / name).read_bytes()
            )
            if not same:
                problems.append(f"release/{assignment.name}/{name} is stale")
    return [f"{problem}: run `autograder release {assignment.name}`" for problem in problems]


_KIT = shutil.ignore_patterns(*SHIPPED, "__pycache__")  # written afresh by the release


def nbgrader_environment() -> dict[str, str]:
    """nbgrader runs `alembic` from PATH: put this interpreter's scripts folder first."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
