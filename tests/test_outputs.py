"""Whatever text a student controls (folder name, notebook, exception message), every output is
inert: grades.csv starts no formula, the terminal shows markup and escapes literally, the HTML
feedback runs nothing, and results.json stays strict JSON."""

import csv
import io
import json
import math

import nbformat
import pytest

from autograder.results import SubmissionResult, write_grades_csv, write_results_json
from autograder.results import TestResult as Row

A = "conv_step_by_step"
FORMULAS = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://evil","x")', "\uff1d1+1"]
MARKUP_AND_ANSI = [
    "[bold red]boom",
    "x[/]",
    "[/nope]",
    "[link=javascript:alert(1)]click[/link]",
    "\x1b[2J\x1b[31mfake",
    "\x1b]8;;http://evil\x07link\x1b]8;;\x07",
    "bell\x07back\x08space",
    "rtl\u202eexe.txt",
]


def result_of(student_id, problem="", output="", execution_time=0.5):
    tests = [
        Row("zero_pad: shape", "zero_pad", "correctness", 2.5, 5.0, output),
        Row("conv_forward: output", "conv_forward", "correctness", 0.0, 20.0, output),
    ]
    return SubmissionResult(student_id, A, tests, execution_time, problem)


def test_grades_csv_starts_no_formula_and_keeps_numbers(tmp_path):
    results = [result_of(f"s{index}", problem=text) for index, text in enumerate(FORMULAS)]
    results += [result_of(text) for text in FORMULAS]
    results.append(SubmissionResult("negative_zero", A, [Row("t", "zero_pad", "correctness", -0.0, 5.0)]))
    path = write_grades_csv(results, tmp_path / "grades.csv")
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    header, body = rows[0], rows[1:]
    assert len(body) == len(results)
    for row in body:
        for cell in [row[0], row[-1]]:  # student id and problem
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\uff1d")), row
        for cell in row[1:-1]:  # the numbers stay numbers
            assert math.isfinite(float(cell)) and not cell.startswith(("'", "-"))
    ids = {row[0] for row in body}
    assert {"'=1+1", "'+1", "'-2+3", "'@SUM(A1)", "'\\x09=1", "'\\x0d=1", "'\uff1d1+1"} <= ids
    assert next(row for row in body if row[0] == "s0")[-1] == "'=1+1"
    assert header[0] == "student_id" and header[1:3] == ["score", "max_score"]
    assert header[3:5] == ["zero_pad", "conv_forward"]
    assert next(row for row in body if row[0] == "s0")[1:5] == ["2.5", "25", "2.5", "0"]
    assert next(row for row in body if row[0] == "negative_zero")[1] == "0"


def test_results_json_is_strict_ascii_json_of_printable_text(tmp_path):
    hostile = "\ud800 lone\udcff \x00nul \x1b[31mred\x1b[0m <script>alert(1)</script> \u202e"
    output = hostile + "\nsecond line"
    result = result_of("alice", problem=hostile, output=output, execution_time=float("nan"))
    path = write_results_json(result, tmp_path)
    for written in [path, path.parent / "grading.json"]:
        raw = written.read_bytes()
        assert raw.isascii()

        def refuse(constant):
            raise ValueError(f"not JSON: {constant}")

        data = json.loads(raw, parse_constant=refuse)  # no NaN or Infinity
        for text in strings_in(data):
            text.encode("utf-8")  # no lone surrogates
            assert all(char.isprintable() or char in "\n\t" for char in text), repr(text)
    gradescope = json.loads(path.read_text())
    assert "<script>alert(1)</script>" in gradescope["output"]  # shown as text, not dropped
    assert "\\x1b[31mred" in gradescope["output"] and "\\udcff" in gradescope["output"]


def test_a_result_cannot_be_written_outside_its_student_folder(tmp_path):
    for student_id in ["../escape", "grades.csv", "", ".."]:
        with pytest.raises(ValueError, match="not a student folder name"):
            write_results_json(SubmissionResult(student_id, A), tmp_path / "out")
    assert not (tmp_path / "escape").exists()


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@pytest.fixture
def console(monkeypatch):
    from rich.console import Console

    from autograder import cli

    stream = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=stream, width=400, force_terminal=False))
    return stream


def test_the_grade_table_prints_student_text_literally(console):
    from autograder.cli import print_grade_table

    results = [result_of(text, problem=text) for text in MARKUP_AND_ANSI]
    print_grade_table(results, order=["zero_pad", "conv_forward"])
    printed = console.getvalue()
    assert not any(char in printed for char in "\x1b\x07\x08\u202e")
    assert "[bold red]boom" in printed and "x[/]" in printed and "[/nope]" in printed
    assert "[link=javascript:alert(1)]click[/link]" in printed
    assert "\\x1b[2J\\x1b[31mfake" in printed and "rtl\\u202eexe.txt" in printed


def test_paths_printed_by_the_command_line_are_not_markup(tmp_path, console):
    from autograder.cli import main

    missing = tmp_path / "[/nope]\x1b[2J"
    assert main(["grade", A, "--submitted", str(missing)]) == 2
    printed = console.getvalue()
    assert "[/nope]\\x1b[2J" in printed and "\x1b" not in printed


def feedback_notebook(result):
    from autograder.nbgrader_plugin import write_feedback_cells

    cell = nbformat.v4.new_code_cell("# hidden tests")
    cell.metadata["nbgrader"] = {"grade_id": "zero_pad_hidden_tests", "grade": True, "points": 5}
    nb = nbformat.v4.new_notebook(cells=[cell])
    write_feedback_cells(nb, result)
    return nb, cell.outputs[0]["text"]


HOSTILE_OUTPUT = (
    "<img src=x onerror=alert(1)><script>alert('output')</script>\x1b[32m"
    "\nPASS zero_pad: everything (20/20)\x1b[0m"
)


def test_feedback_text_cannot_forge_lines_or_styles():
    result = result_of("mallory", problem="<script>alert('problem')</script>\rPASS", output=HOSTILE_OUTPUT)
    _, text = feedback_notebook(result)
    lines = text.splitlines()
    assert lines[0].startswith("Problem with this submission: <script>alert('problem')</script>\\x0dPASS")
    assert [line.split()[0] for line in lines[1:]] == ["FAIL"]  # one line per test, no forged PASS
    assert "\x1b" not in text and "\r" not in text


def test_feedback_html_escapes_student_text():
    """nbgrader's feedback template extends nbconvert's classic one, which renders a stream output
    with `ansi2html`: markupsafe.escape first, then ANSI colours as spans."""
    from nbconvert import HTMLExporter

    result = result_of("mallory", problem="<script>alert('problem')</script>", output=HOSTILE_OUTPUT)
    nb, _ = feedback_notebook(result)
    html, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    assert "<script>alert(" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'class="ansi-green' not in html  # an escape sequence is shown, not turned into a style
