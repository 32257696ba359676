"""`autograder gradescope` bundles an assignment as a Gradescope autograder: setup.sh and
run_autograder at the top of autograder.zip, the package, the source notebook and hidden tests.
Its run_autograder, run here in Gradescope's layout (/autograder, moved by AUTOGRADER_ROOT) with
the package already importable, grades the submission with the engine of `autograder grade` and
leaves a results.json whatever happens."""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest
from helpers import COURSE, assignment

from autograder import gradescope
from autograder.cli import main
from autograder.examples import build_examples
from autograder.fingerprint import CourseBundle
from autograder.intake import read_job
from autograder.results import NOT_GRADED
from autograder.spec import read_spec

A = "conv_step_by_step"
CONV = assignment(A)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope")
    assert main(["--course", str(COURSE.root), "gradescope", A, "--out", str(out)]) == 0
    return out / "autograder.zip"


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("examples")
    build_examples(CONV, folder)
    return folder


def unpack(bundle, root):
    """The zip as Gradescope lays it out: its files in root/source, with their permissions."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = root / "source" / info.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(info))
            path.chmod(stat.S_IMODE(info.external_attr >> 16))
    (root / "submission").mkdir()
    return root


def run_autograder(root, python=sys.executable):
    """Gradescope's step for a submission: run_autograder in root (the package is importable
    here, so setup.sh is not run)."""
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python}
    completed = subprocess.run(
        [str(root / "source" / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads((root / "results" / "results.json").read_text()), completed.stdout


def test_the_zip_holds_the_scripts_at_its_top_the_package_and_the_course_of_the_assignment(bundle):
    with zipfile.ZipFile(bundle) as archive:
        modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in archive.infolist()}
        config = archive.read("course/nbgrader_config.py").decode()
    names = set(modes)
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    course = {name.removeprefix("course/") for name in names if name.startswith("course/")}
    assert course == {"nbgrader_config.py", *CourseBundle.of(CONV).files}
    assert f"source/{A}/{A}.ipynb" in course and f"grader_tests/{A}/test_conv_forward.py" in course
    package = {name.removeprefix("package/") for name in names if name.startswith("package/")}
    assert {"pyproject.toml", "autograder/gradescope.py", "autograder/sandbox/worker.py"} <= package
    assert "autograder/scaffold/template/grader_tests/test_relu.py" in package  # package data too
    assert names == {"setup.sh", "run_autograder"} | {f"course/{n}" for n in course} | {
        f"package/{n}" for n in package
    }
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    others = [name for name in course if not name.startswith((f"source/{A}/", f"grader_tests/{A}/"))]
    assert others == ["nbgrader_config.py"]  # no examples, release, submissions or other assignments
    settings = COURSE.settings()
    assert f"c.Autograder.runtime_factor = {settings.runtime_factor!r}" in config
    assert f"c.Autograder.call_timeout_seconds = {settings.call_timeout_seconds!r}" in config


def test_setup_sh_and_run_autograder_are_valid_bash(bundle, tmp_path):
    root = unpack(bundle, tmp_path / "autograder")
    for script in ["setup.sh", "run_autograder"]:
        assert (root / "source" / script).read_text().startswith("#!/usr/bin/env bash\n")
        completed = subprocess.run(
            ["bash", "-n", str(root / "source" / script)], capture_output=True, text=True
        )
        assert completed.returncode == 0, completed.stderr
    setup = (root / "source" / "setup.sh").read_text()
    assert "apt-get install -y -qq bubblewrap" in setup and 'pip install --quiet "$SOURCE/package"' in setup


def test_the_bundled_course_gives_the_settings_and_spec_of_the_course(bundle, tmp_path):
    from autograder.course import Course

    root = unpack(bundle, tmp_path / "autograder")
    bundled = Course.load(root / "source" / "course")
    assert bundled.assignments() == [A]
    assert bundled.settings().policy() == COURSE.settings().policy()
    spec, expected = read_spec(bundled.assignment(A)), read_spec(CONV)
    assert spec.functions == expected.functions
    assert [test.function for test in spec.hidden_tests] == [test.function for test in expected.hidden_tests]


@pytest.mark.slow
def test_the_bundled_package_installs_with_pip(bundle, tmp_path):
    root = unpack(bundle, tmp_path / "autograder")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    target = tmp_path / "site"
    completed = subprocess.run(
        [*command, "--target", str(target), str(root / "source" / "package")], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    assert (target / "autograder" / "gradescope.py").is_file()
    assert (target / "autograder" / "scaffold" / "template" / "grader_tests" / "test_relu.py").is_file()


@pytest.mark.slow
def test_run_autograder_grades_the_reference_to_full_marks(bundle, examples, tmp_path):
    root = unpack(bundle, tmp_path / "autograder")
    shutil.copy(examples / "reference" / A / f"{A}.ipynb", root / "submission")
    data, stdout = run_autograder(root)
    assert data["score"] == 100 and data["execution_time"] > 0
    assert len(data["tests"]) == len(read_spec(CONV).hidden_tests)
    assert all(test["status"] == "passed" for test in data["tests"])
    assert data["output_format"] == "text" and "conv_forward: 20/20" in data["output"].splitlines()
    assert f"{A}: 100/100" in stdout  # the instructor's log


@pytest.mark.slow
def test_run_autograder_gives_a_broken_notebook_zero_with_the_reason(bundle, tmp_path):
    root = unpack(bundle, tmp_path / "autograder")
    shutil.copy(COURSE.root / "examples" / A / "broken_file.ipynb", root / "submission")  # the only notebook
    data, _ = run_autograder(root)
    assert data["score"] == 0 and data["output"].startswith("Not graded: notebook")
    assert json.dumps(data).count("not a readable .ipynb file") == 1
    assert len(data["tests"]) == len(read_spec(CONV).hidden_tests)
    assert {test["output"] for test in data["tests"]} == {NOT_GRADED}


@pytest.mark.slow
def test_run_autograder_writes_a_results_json_when_the_grader_cannot_run(bundle, tmp_path):
    root = unpack(bundle, tmp_path / "autograder")
    (root / "results").mkdir()
    (root / "results" / "results.json").write_text('{"score": 100}')  # not this run's
    data, _ = run_autograder(root, python="/bin/false")
    assert data["score"] == 0 and data["tests"] == [] and data["output_format"] == "text"
    assert "exit status 1" in data["output"]


def test_a_grader_failure_is_a_results_json_that_quotes_no_detail(tmp_path, capsys):
    (tmp_path / "submission").mkdir()
    result = gradescope.run(tmp_path, A)  # no course in source/: the grader's own failure
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    assert result.score == 0 and data["tests"] == []
    assert data["output"].startswith("Not graded: the autograder failed (CourseError)")
    assert "CourseError" in capsys.readouterr().out  # the traceback, for the instructor only


def write(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_notebook_is_the_one_named_for_the_assignment_or_the_only_one(tmp_path):
    write(tmp_path / "notes.ipynb")
    write(tmp_path / "work" / f"{A}.ipynb")
    write(tmp_path / f"{A}.ipynb")
    write(tmp_path / ".ipynb_checkpoints" / f"{A}-checkpoint.ipynb")
    assert gradescope.find_notebook(tmp_path, A).parts == (f"{A}.ipynb",)  # the shallowest
    (tmp_path / f"{A}.ipynb").unlink()
    assert gradescope.find_notebook(tmp_path, A).parts == ("work", f"{A}.ipynb")
    (tmp_path / "work" / f"{A}.ipynb").unlink()
    assert gradescope.find_notebook(tmp_path, A).parts == ("notes.ipynb",)  # the only notebook
    write(tmp_path / "more.ipynb")
    job = gradescope.find_notebook(tmp_path, A)
    assert job.notebook is None and job.problem == f"2 notebooks and none named {A}.ipynb in the submission"
    for name in ["notes.ipynb", "more.ipynb"]:
        (tmp_path / name).unlink()
    assert gradescope.find_notebook(tmp_path, A).problem == f"no notebook in the submission: upload {A}.ipynb"


def test_a_linked_notebook_in_the_submission_is_graded_as_that_problem(tmp_path):
    secret = write(tmp_path / "secret.ipynb", '{"cells": []}')
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / f"{A}.ipynb").symlink_to(secret)
    (tmp_path / "submission" / "linked").symlink_to(tmp_path, target_is_directory=True)  # not followed
    job = gradescope.find_notebook(tmp_path / "submission", A)
    assert job.parts == (f"{A}.ipynb",)
    data, problem = read_job(job)
    assert data is None and "symbolic link" in problem


def test_the_command_refuses_a_file_as_its_out_folder(tmp_path):
    (tmp_path / "taken").write_text("")
    assert main(["--course", str(COURSE.root), "gradescope", A, "--out", str(tmp_path / "taken")]) == 2
    assert not (tmp_path / "autograder.zip").exists()
