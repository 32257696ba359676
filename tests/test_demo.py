"""`autograder demo` (what `./run demo` runs) builds the releases, grades the bundled examples into
demo/ and writes their class report: the course's gradebook and its submitted/, autograded/ and
feedback/ folders are left exactly as they were."""

import hashlib
import shutil
import subprocess
import sys

import pytest
from helpers import COURSE

from autograder.cli import main
from autograder.release import nbgrader_environment

pytestmark = pytest.mark.slow
KEPT = ("gradebook.db", "submitted", "autograded", "feedback")


def contents(root):
    found = {}
    for name in KEPT:
        paths = [root / name] if (root / name).is_file() else sorted((root / name).rglob("*"))
        for path in paths:
            if path.is_file():
                found[path.relative_to(root).as_posix()] = hashlib.blake2b(path.read_bytes()).hexdigest()
    return found


def test_the_demo_leaves_the_courses_grading_folders_alone(tmp_path, capsys):
    for folder in ("source", "release", "grader_tests", "examples"):
        shutil.copytree(COURSE.root / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(COURSE.root / "nbgrader_config.py", tmp_path)
    command = [sys.executable, "-m", "nbgrader", "db", "student", "add", "s001", "--last-name=Real"]
    subprocess.run(command, cwd=tmp_path, env=nbgrader_environment(), check=True, capture_output=True)
    for name in ("submitted/s001/conv_step_by_step", "autograded/s001/conv_step_by_step", "feedback/s001"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "work.txt").write_text("a real student's work")
    before = contents(tmp_path)
    assert "gradebook.db" in before and len(before) == 4

    assert main(["--course", str(tmp_path), "demo"]) == 0
    out = capsys.readouterr().out
    assert "conv_step_by_step: sound" in out and "rnn_step_by_step: sound" in out
    assert contents(tmp_path) == before
    for name in ("conv_step_by_step", "rnn_step_by_step"):  # it ends with the examples' class report
        report = tmp_path / "demo" / name / "report"
        assert f"class report of the examples: demo/{name}/report/report.html" in out
        assert "reference" in (report / "report.html").read_text() or (report / "cases.csv").read_text()
        assert (report / "cases.csv").read_text().startswith("test,function,passed,failed,pass_rate")
