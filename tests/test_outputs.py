"""Whatever text a student controls (folder name, notebook, exception message), every output is
inert: grades.csv starts no formula, the terminal shows markup and escapes literally, the HTML
feedback runs nothing, and results.json stays strict JSON."""

import csv
import io
import json
import math

import nbformat
import pytest

from autograder.results import NOT_GRADED, SubmissionResult, failed_row, write_grades_csv, write_results_json
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


def test_results_json_has_gradescopes_fields_and_marks_every_text_plain(tmp_path):
    result = result_of("alice", output="values differ")
    data = json.loads(write_results_json(result, tmp_path).read_text())
    assert (data["score"], data["max_score"], data["execution_time"]) == (2.5, 25, 0.5)
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "hidden"
    # Gradescope renders the top-level output as HTML unless told otherwise ("simple_format").
    assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"
    assert data["output"] == "zero_pad: 2.5/5\nconv_forward: 0/20"
    assert data["extra_data"] == {"assignment": A}
    first, second = data["tests"]
    assert first == {
        "name": "zero_pad: shape",
        "name_format": "text",
        "score": 2.5,
        "max_score": 5.0,
        "status": "failed",
        "output": "values differ",
        "output_format": "text",
        "tags": ["zero_pad", "correctness"],
        "visibility": "visible",
    }
    assert second["status"] == "failed"
    full = SubmissionResult("bob", A, [Row("zero_pad: shape", "zero_pad", "correctness", 5.0, 5.0)])
    assert json.loads(write_results_json(full, tmp_path).read_text())["tests"][0]["status"] == "passed"


def test_a_notebook_that_cannot_be_graded_says_why_once(tmp_path):
    """Every test of such a notebook fails with the same reason: results.json says it once, at the
    top, and each test, still listed with its points, refers to it."""
    problem = "notebook conv_step_by_step.ipynb is not a readable .ipynb file: Expecting value"
    result = result_of("broken", problem=problem, output=problem[:1000])
    result.tests.append(Row("conv_forward: runtime", "conv_forward", "runtime", 0.0, 5.0, "slower"))
    data = json.loads(write_results_json(result, tmp_path).read_text())
    assert data["output"].startswith(f"Not graded: {problem}\n")
    assert json.dumps(data).count("Expecting value") == 1
    assert [test["output"] for test in data["tests"]] == [NOT_GRADED, NOT_GRADED, "slower"]
    assert [test["max_score"] for test in data["tests"]] == [5.0, 20.0, 5.0]
    nothing = json.loads(write_results_json(failed_row("lost", A, "grading timed out"), tmp_path).read_text())
    assert nothing["output"] == "Not graded: grading timed out" and nothing["tests"] == []


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


HIDDEN_TESTS_CELL = """# Hidden tests: `zero_pad` is graded on correctness by tests you do not see (5 points).
# Other graded functions it may call (their reference versions): none.
### BEGIN HIDDEN TESTS
# grader_tests/conv_step_by_step/test_zero_pad.py runs here, in the grader's sandbox.
### END HIDDEN TESTS
"""


def feedback_notebook(result, grade_id="zero_pad_hidden_tests"):
    from autograder.nbgrader_plugin import write_feedback_cells

    cell = nbformat.v4.new_code_cell(HIDDEN_TESTS_CELL)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": True, "points": 5, "locked": True}
    nb = nbformat.v4.new_notebook(cells=[cell])
    write_feedback_cells(nb, result)
    return nb, cell.outputs[0]["text"]


def feedback_html(nb, score=2.5):
    """The notebook as `nbgrader generate_feedback` renders it: nbgrader's feedback template, after
    its GetGrades step has put each grade cell's score and points into the cell's metadata."""
    import os

    import nbgrader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    templates = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [os.path.join(templates, "templates")]
    config.HTMLExporter.extra_template_paths = [
        os.path.join(templates, "static", "node_modules", "bootstrap", "dist", "css")
    ]
    for cell in nb.cells:
        cell.metadata["nbgrader"]["score"] = score
    info = {"notebook": A, "score": score, "max_score": 5, "late_penalty": 0}
    html, _ = HTMLExporter(config=config).from_notebook_node(nb, resources={"nbgrader": info})
    return html


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
    classic, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    for html in [classic, feedback_html(nb)]:
        assert "<script>alert(" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert 'class="ansi-green' not in html  # an escape sequence is shown, not turned into a style


def test_feedback_names_the_function_and_its_score_and_hides_the_cells_internals():
    result = result_of("alice", output="values differ " * 30)
    nb, text = feedback_notebook(result)
    cell = nb.cells[0]
    assert cell.source == "# zero_pad: 2.5 / 5 points"
    assert text == f"FAIL zero_pad: shape (2.5/5): {'values differ ' * 30}\n"
    assert cell.outputs[-1]["data"]["text/plain"] == "2.5"  # the partial credit nbgrader records
    html = feedback_html(nb)
    for internal in ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "Other graded functions", "grader's sandbox"]:
        assert internal not in html
    # The template's table of contents says "Test cell" and its panel "Grade cell: <grade id>":
    # the page's style names the function in both, and wraps long lines instead of scrolling them.
    assert '#toc a[href="#zero_pad_hidden_tests"]::after { content: "zero_pad"; ' in html
    assert 'content: "zero_pad: hidden tests"' in html
    assert "div.output_stream pre { white-space: pre-wrap;" in html
    assert '<span class="c1"># zero_pad: 2.5 / 5 points</span>' in html


def test_a_grade_id_that_is_not_a_plain_name_reaches_no_style_sheet():
    """nbgrader drops the grade ids its gradebook does not know, so these are the instructor's;
    the style sheet quotes only plain names all the same."""
    grade_id = 'x"]{}</style><script>alert(1)</script>_hidden_tests'
    result = result_of("mallory")
    for test in result.tests:
        test.function = grade_id.removesuffix("_hidden_tests")
    nb, _ = feedback_notebook(result, grade_id=grade_id)
    style = nb.cells[0].outputs[-1]["data"]["text/html"]
    assert "<script>" not in style and "alert" not in style and "content:" not in style
    assert "white-space: pre-wrap" in style


def test_a_broken_notebooks_feedback_says_why_once_per_function():
    problem = "<b>notebook</b> is not a readable .ipynb file"
    result = result_of("broken", problem=problem, output=problem)
    _, text = feedback_notebook(result)
    assert text.splitlines() == [
        f"Problem with this submission: {problem}",
        f"FAIL zero_pad: shape (2.5/5): {NOT_GRADED}",
    ]


def test_a_functions_note_is_in_its_feedback_cell():
    result = result_of("alice")
    result.notes = {"zero_pad": "zero_pad was graded from the `def zero_pad` in cell 4\x1b[31m"}
    _, text = feedback_notebook(result)
    assert text.splitlines()[-1] == "zero_pad was graded from the `def zero_pad` in cell 4\\x1b[31m"
    assert text.startswith("FAIL zero_pad: shape")


def test_every_test_cell_of_a_function_is_named_after_it_in_the_feedback():
    from autograder.nbgrader_plugin import write_feedback_cells

    public = nbformat.v4.new_code_cell("zero_pad_test(zero_pad)")
    public.metadata["nbgrader"] = {"grade_id": "zero_pad_public_test", "grade": True, "points": 0}
    hidden = nbformat.v4.new_code_cell(HIDDEN_TESTS_CELL)
    hidden.metadata["nbgrader"] = {"grade_id": "zero_pad_hidden_tests", "grade": True, "points": 5}
    other = nbformat.v4.new_code_cell("check()")  # no graded function's: the template's name stays
    other.metadata["nbgrader"] = {"grade_id": "final_check", "grade": True, "points": 0}
    nb = nbformat.v4.new_notebook(cells=[public, hidden, other])
    write_feedback_cells(nb, result_of("alice"))
    assert public.outputs == [] and public.source == "zero_pad_test(zero_pad)"  # left as it is
    html = feedback_html(nb)
    assert '#toc a[href="#zero_pad_public_test"]::after { content: "zero_pad: public test"; ' in html
    assert '#toc a[href="#zero_pad_hidden_tests"]::after { content: "zero_pad"; ' in html
    assert "final_check" not in html.split("<style>\n")[-1].split("</style>")[0]
