"""`autograder report`: the figures it states are those of the results it is given, its page is
self-contained and shows every text from a submission literally, and it opens in a real browser."""

import csv
import re

import pytest
from helpers import ASSIGNMENTS, assignment

from autograder.report import CASES, REPORT, SIMILAR, read_results, write_report
from autograder.results import SubmissionResult, failed_row, write_results_json
from autograder.results import TestResult as Row
from autograder.similarity import Pair

A = "conv_step_by_step"
HOSTILE = "<img src=x onerror=alert(1)>"
FLIPPED = "it matches the result with the kernel flipped"
PADS = "it pads every axis"
SLOW = "over the time limit"


def test_(name, function, score, points, failure="", ratio=None, kind="correctness", recognised=False):
    return Row(name, function, kind, score, points, "", failure, ratio, recognised)


test_.__test__ = False  # a helper, not a test


def student(name, *, forward_ok=True, pad_ok=True, ratio=1.0, flipped=False):
    """A result with four tests: two of conv_forward (one runtime), two of zero_pad."""
    wrong = not forward_ok or flipped
    first, second = (FLIPPED if flipped else "wrong values", "wrong values") if wrong else ("", "")
    slow = ratio > 10
    return SubmissionResult(
        name,
        A,
        [
            test_(
                "conv_forward: output [a]", "conv_forward", 0 if wrong else 2, 2, first, recognised=flipped
            ),
            test_("conv_forward: output [b]", "conv_forward", 0 if wrong else 2, 2, second),
            test_(
                "conv_forward: runtime",
                "conv_forward",
                0 if slow else 5,
                5,
                SLOW if slow else "",
                ratio,
                "runtime",
            ),
            test_(
                "zero_pad: pads",
                "zero_pad",
                5 if pad_ok else 0,
                5,
                "" if pad_ok else PADS,
                recognised=not pad_ok,
            ),
        ],
    )


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "grades"
    for result in [
        student("s1"),
        student("s2", flipped=True),
        student("s3", flipped=True, pad_ok=False),
        student(HOSTILE, forward_ok=False, ratio=30.0),
        failed_row("s5", A, "notebook s5.ipynb is not a readable .ipynb file"),
    ]:
        write_results_json(result, folder)
    (folder / "s6").mkdir()
    (folder / "s6" / "results.json").write_text("{not json")
    return folder


def rows(path):
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def test_the_report_states_the_figures_of_its_results(results, tmp_path):
    report = write_report(assignment(A), results, tmp_path / "out", limit=10.0, submitted=None)
    assert len(report.results) == 5 and len(report.graded) == 4
    assert report.broken == [("s5", "notebook s5.ipynb is not a readable .ipynb file")]
    assert [student for student, _ in report.unreadable] == ["s6"]
    functions = {f.name: f for f in report.functions}
    assert functions["conv_forward"].mean == pytest.approx((9 + 5 + 5 + 0) / 4)  # s1 9, s2 s3 5, hostile 0
    assert functions["conv_forward"].full_share == pytest.approx(1 / 4)
    assert functions["zero_pad"].full_share == pytest.approx(3 / 4)
    cases = rows(tmp_path / "out" / CASES)
    assert [row["test"] for row in cases][:2] == ["conv_forward: output [a]", "conv_forward: output [b]"]
    assert cases[0] == {
        "test": "conv_forward: output [a]", "function": "conv_forward", "passed": "1", "failed": "3",
        "pass_rate": "0.250",
    }  # fmt: skip
    assert [(row["test"], row["pass_rate"]) for row in cases][2:] == [
        ("conv_forward: runtime", "0.750"),
        ("zero_pad: pads", "0.750"),
    ]  # ties in the notebook's order
    mistakes = {d.says: d.students for d in report.diagnoses["conv_forward"]}
    # a known mistake hides the generic "wrong values" of the same student's other tests
    assert mistakes == {FLIPPED: ("s2", "s3"), "wrong values": (HOSTILE,), SLOW: (HOSTILE,)}
    assert sorted(report.ratios["conv_forward"]) == [1.0, 1.0, 1.0, 30.0] and list(report.ratios) == [
        "conv_forward"
    ]
    assert rows(tmp_path / "out" / SIMILAR) == []


def test_the_page_is_self_contained_and_shows_student_text_literally(results, tmp_path):
    write_report(assignment(A), results, tmp_path / "out", limit=10.0, submitted=None)
    page = (tmp_path / "out" / REPORT).read_text()
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page.lower() and not re.search(r"<[^>]*\s(src|href)=(?!'data:)", page)
    assert page.count("data:image/png;base64,") == 2  # the score distribution and the runtimes
    for heading in (
        "Scores",
        "Per function",
        "Hidden test cases, hardest first",
        "Common mistakes",
        "Runtime",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert "notebook s5.ipynb is not a readable .ipynb file" in page and "results unreadable" in page


def test_similar_pairs_go_to_the_csv_and_the_page(results, tmp_path, monkeypatch):
    pair = Pair("s1", HOSTILE, 0.97, ("conv_forward", "zero_pad"))
    monkeypatch.setattr("autograder.report.similar_submissions", lambda *args: [pair])
    write_report(assignment(A), results, tmp_path / "out", limit=10.0, submitted=tmp_path)
    assert rows(tmp_path / "out" / SIMILAR) == [
        {"student_a": "s1", "student_b": HOSTILE, "similarity": "0.970", "functions": "conv_forward zero_pad"}
    ]
    assert "97%" in (tmp_path / "out" / REPORT).read_text()


def test_oversized_or_linked_results_are_listed_not_read(tmp_path):
    folder = tmp_path / "grades"
    (folder / "big").mkdir(parents=True)
    (folder / "big" / "results.json").write_bytes(b" " * (5 * 1024 * 1024))
    (folder / "link").mkdir()
    (folder / "link" / "results.json").symlink_to("/etc/passwd")
    results, unreadable = read_results(folder)
    assert results == [] and sorted(student for student, _ in unreadable) == ["big", "link"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_demo_report_of_the_examples(name, tmp_path):
    """The bundled examples, graded, give a report whose figures are those of their results."""
    from helpers import grade_folder

    from autograder.examples import build_examples

    submitted = tmp_path / "submitted"
    build_examples(assignment(name), submitted)
    graded = grade_folder(assignment(name), submitted, tmp_path / "grades")
    report = write_report(assignment(name), tmp_path / "grades", tmp_path / "out", 10.0, submitted)
    assert len(report.results) == len(graded)
    reference = next(result for result in graded if result.student_id == "reference")
    for case in report.cases:
        tests = [t for result in graded if not result.problem for t in result.tests if t.name == case.test]
        assert (case.passed, case.failed) == (
            sum(t.score >= t.max_score for t in tests),
            sum(t.score < t.max_score for t in tests),
        )
    assert all(any(t.name == case.test for t in reference.tests) for case in report.cases)
