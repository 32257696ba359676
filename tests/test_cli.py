"""The command line finds the course from where it runs, takes its settings from the course's
nbgrader_config.py, and turns bad arguments into clear errors (exit 2), never a traceback."""

import pytest
from helpers import COURSE

from autograder.cli import main, settings_for


@pytest.fixture(autouse=True)
def in_the_course(monkeypatch):
    monkeypatch.chdir(COURSE.root / "source")  # below the course folder: found upwards


@pytest.mark.parametrize(
    "argv, message",
    [
        (["grade", "conv_step_by_step", "--jobs", "0"], "--jobs: must be greater than 0, got 0"),
        (["grade", "conv_step_by_step", "--runtime-factor", "-1"], "must be greater than 0, got -1"),
        (["grade", "conv_step_by_step", "--runtime-factor", "fast"], "not a number: 'fast'"),
    ],
)
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["grade", "nope"], ["release", "conv_step_by_step", "nope"], ["check", "../source"]]
)
def test_an_unknown_assignment_is_named_with_the_ones_there_are(argv, capsys):
    assert main(argv) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "does not exist" in out and "(assignments: conv_step_by_step, rnn_step_by_step)" in out


def test_outside_a_course_the_command_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["grade", "conv_step_by_step"]) == 2
    assert "no nbgrader_config.py in the working directory or above it" in capsys.readouterr().out
    assert main(["--course", str(tmp_path / "none"), "release"]) == 2
    assert "no course folder" in capsys.readouterr().out


def test_a_flag_overrides_the_course_setting_for_one_run_and_says_so(capsys):
    class Args:
        runtime_factor, jobs = 5.0, None

    settings = settings_for(COURSE, Args())
    assert settings.runtime_factor == 5.0 and settings.policy().factor == 5.0
    assert COURSE.settings().runtime_factor == 10.0  # the course's own setting is unchanged
    out = " ".join(capsys.readouterr().out.split())
    assert "--runtime-factor 5: Autograder.runtime_factor for this run only (the course's setting: 10)" in out


def test_missing_or_empty_submissions_folder(tmp_path, capsys):
    assert main(["grade", "conv_step_by_step", "--submitted", str(tmp_path / "none")]) == 2
    assert "no submissions folder" in capsys.readouterr().out
    (tmp_path / "bob" / "rnn_step_by_step").mkdir(parents=True)
    out = tmp_path / "out"
    assert main(["grade", "conv_step_by_step", "--submitted", str(tmp_path), "--out", str(out)]) == 0
    assert "no submissions of conv_step_by_step in" in capsys.readouterr().out
    assert (out / "grades.csv").read_text().count("\n") == 1  # the header: an empty, valid table


def test_out_must_be_a_folder(tmp_path, capsys):
    (tmp_path / "submitted").mkdir()
    (tmp_path / "out").write_text("keep me")
    argv = ["grade", "conv_step_by_step", "--submitted", str(tmp_path / "submitted"), "--out"]
    assert main([*argv, str(tmp_path / "out")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().out
    assert (tmp_path / "out").read_text() == "keep me"
