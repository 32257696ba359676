"""The command line turns bad arguments into clear errors (exit 2), never a traceback."""

import pytest

from autograder.cli import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["grade", "nope"], "no assignment 'nope': source/nope/nope.ipynb does not exist"),
        (["release", "conv_step_by_step", "nope"], "no assignment 'nope'"),
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
