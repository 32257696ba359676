"""Installed without `-e`, the package grades any course folder with that course's own files:
`autograder release|grade` and `nbgrader autograde` run in a course that is not this repository."""

import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from helpers import COURSE, tiny_course

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package as `pip install .` puts it (a wheel's files), in a folder of its own."""
    project = tmp_path_factory.mktemp("project")  # a copy: building writes build/ beside the sources
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(COURSE.root / name, project)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(COURSE.root / "autograder", project / "autograder", ignore=ignore)
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    completed = subprocess.run(
        [*command, "--target", str(target), str(project)], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    return target


def run(installed, course, *args):
    """A command run in the course folder with the installed package first on the path."""
    scripts = os.path.dirname(sys.executable)
    env = {**os.environ, "PYTHONPATH": str(installed), "PATH": scripts + os.pathsep + os.environ["PATH"]}
    completed = subprocess.run(args, cwd=course, capture_output=True, text=True, env=env, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_a_course_anywhere_grades_with_its_own_files(installed, tmp_path):
    course = tmp_path / "another course"
    course.mkdir()
    tiny_course(course)
    shutil.copy(COURSE.root / "nbgrader_config.py", course)
    where = run(installed, course, sys.executable, "-c", "import autograder; print(autograder.__file__)")
    assert where.strip().startswith(str(installed))
    assert (installed / "autograder" / "sandbox" / "worker.py").is_file()
    assert (installed / "autograder" / "scaffold" / "template" / "grader_tests" / "test_relu.py").is_file()

    run(installed, course, sys.executable, "-m", "autograder.cli", "release", "tiny")
    assert (course / "release" / "tiny" / "tiny.ipynb").is_file()
    assert json.loads((course / "release" / "tiny" / "limits.json").read_text())["runtime_factor"] == 10

    run(installed, course, sys.executable, "-m", "autograder.cli", "grade", "tiny")
    result = json.loads((course / "grades" / "tiny" / "s1" / "results.json").read_text())
    assert (result["score"], result["max_score"]) == (1, 1)

    shutil.rmtree(course / "grades")  # nothing to reuse: nbgrader's preprocessor grades it itself
    run(installed, course, sys.executable, "-m", "nbgrader", "autograde", "tiny")
    autograded = nbformat.read(course / "autograded" / "s1" / "tiny" / "tiny.ipynb", as_version=4)
    feedback = "".join(
        output.get("text", "") for cell in autograded.cells for output in cell.get("outputs", [])
    )
    assert "PASS double: two (1/1)" in feedback
