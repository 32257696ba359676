"""`autograder report`: what the whole class got wrong, from the results of a grading run.

It reads the results.json files `autograder grade` writes (OUT/<student>/results.json), and, for
the similarity of the graded cells, the submitted notebooks (nbgrader's submitted/ folder), and
writes three files: report.html (one self-contained page, figures embedded, see
autograder.report_page), cases.csv (each hidden test's pass rate, hardest first) and similar.csv
(pairs of submissions whose graded cells are identical or near-identical, autograder.similarity).

Every result file and notebook is a student's in the end (their folder names, what their code
raised): each is read with a size bound, a file that cannot be read is listed as such, and every
text is escaped where it is shown.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from autograder.checks import COMPARISONS
from autograder.course import Assignment
from autograder.results import csv_text
from autograder.runtime import WRONG_WHEN_TIMED
from autograder.text import visible

MAX_RESULTS_BYTES = 4 * 1024 * 1024  # a results.json is a few KB; anything this large is not ours
NOT_GRADED = "Not graded: "
REPORT, CASES, SIMILAR = "report.html", "cases.csv", "similar.csv"
# Failures that only say a result was wrong: left out of a student's list for a function where a
# known mistake was recognised (another test's wrong result is most likely the same mistake).
GENERIC = COMPARISONS | {WRONG_WHEN_TIMED}


@dataclass(frozen=True)
class Test:
    name: str
    function: str
    kind: str  # "correctness" or "runtime"
    score: float
    max_score: float
    failure: str = ""
    ratio: float | None = None
    recognised: bool = False  # the failure is a known mistake, recognised from the numbers

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass(frozen=True)
class Graded:
    """One student's results, as results.json holds them."""

    student: str
    score: float
    max_score: float
    tests: tuple[Test, ...]
    problem: str = ""


@dataclass(frozen=True)
class FunctionSummary:
    name: str
    points: float
    mean: float
    full_share: float  # of the graded submissions, those with every point of the function


@dataclass(frozen=True)
class CaseSummary:
    test: str
    function: str
    passed: int
    failed: int

    @property
    def pass_rate(self) -> float:
        return self.passed / (self.passed + self.failed) if self.passed + self.failed else 0.0


@dataclass(frozen=True)
class Diagnosis:
    function: str
    says: str
    students: tuple[str, ...]


@dataclass
class ClassReport:
    assignment: str
    results: list[Graded]
    functions: list[FunctionSummary]
    cases: list[CaseSummary]  # hardest first
    diagnoses: dict[str, list[Diagnosis]]  # function -> most common first
    ratios: dict[str, list[float]]  # timed function -> each graded submission's best-known ratio
    limit: float
    broken: list[tuple[str, str]]  # (student, why it was not graded)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # results that could not be read
    similar: list = field(default_factory=list)  # autograder.similarity.Pair

    @property
    def graded(self) -> list[Graded]:
        return [result for result in self.results if not result.problem]


# ---------------------------------------------------------------- reading results


def read_results(folder: Path) -> tuple[list[Graded], list[tuple[str, str]]]:
    """Every OUT/<student>/results.json: (the results, (student, why) for those unreadable)."""
    results, unreadable = [], []
    for path in sorted(Path(folder).glob("*/results.json")):
        student = path.parent.name
        try:
            results.append(parse_results(student, read_bounded(path)))
        except (OSError, ValueError, TypeError, KeyError) as error:
            unreadable.append((student, f"{type(error).__name__}: {visible(str(error))[:200]}"))
    return results, unreadable


def read_bounded(path: Path) -> dict:
    if path.is_symlink() or not path.is_file():
        raise ValueError("not a regular file")
    with path.open("rb") as stream:
        raw = stream.read(MAX_RESULTS_BYTES + 1)
    if len(raw) > MAX_RESULTS_BYTES:
        raise ValueError(f"larger than {MAX_RESULTS_BYTES} bytes")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def parse_results(student: str, data: dict) -> Graded:
    tests = tuple(_test(entry) for entry in data.get("tests", []))
    output = str(data.get("output", ""))
    problem = output.splitlines()[0].removeprefix(NOT_GRADED) if output.startswith(NOT_GRADED) else ""
    return Graded(student, float(data["score"]), float(data.get("max_score", 0.0)), tests, problem)


def _test(entry: dict) -> Test:
    tags = entry.get("tags") or ["", ""]
    extra = entry.get("extra_data") or {}
    ratio = extra.get("ratio")
    return Test(
        str(entry["name"]),
        str(tags[0]),
        str(tags[1]) if len(tags) > 1 else "",
        float(entry["score"]),
        float(entry["max_score"]),
        str(extra.get("failure", "")),
        float(ratio) if isinstance(ratio, int | float) else None,
        extra.get("recognised") is True,
    )


# ---------------------------------------------------------------- what the numbers say


def class_report(assignment: str, results: list[Graded], limit: float, similar=()) -> ClassReport:
    graded = [result for result in results if not result.problem]
    return ClassReport(
        assignment,
        results,
        function_summaries(graded),
        case_summaries(graded),
        diagnoses(graded),
        runtime_ratios(graded),
        limit,
        [(result.student, result.problem) for result in results if result.problem],
        similar=list(similar),
    )


def _functions_in_order(graded: list[Graded]) -> list[str]:
    order: dict[str, None] = {}
    for result in graded:
        for test in result.tests:
            order.setdefault(test.function)
    return list(order)


def function_summaries(graded: list[Graded]) -> list[FunctionSummary]:
    summaries = []
    for name in _functions_in_order(graded):
        scores = [
            (
                sum(t.score for t in result.tests if t.function == name),
                sum(t.max_score for t in result.tests if t.function == name),
            )
            for result in graded
        ]
        points = max((maximum for _, maximum in scores), default=0.0)
        mean = sum(score for score, _ in scores) / len(scores) if scores else 0.0
        full = sum(1 for score, maximum in scores if score >= maximum) / len(scores) if scores else 0.0
        summaries.append(FunctionSummary(name, points, mean, full))
    return summaries


def case_summaries(graded: list[Graded]) -> list[CaseSummary]:
    """Each hidden test's pass rate; the hardest first (ties in the notebook's order)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for result in graded:
        for test in result.tests:
            passed_failed = counts.setdefault((test.name, test.function), [0, 0])
            passed_failed[0 if test.passed else 1] += 1
    cases = [
        CaseSummary(name, function, passed, failed) for (name, function), (passed, failed) in counts.items()
    ]
    order = {case.test: index for index, case in enumerate(cases)}
    return sorted(cases, key=lambda case: (case.pass_rate, order[case.test]))


def diagnoses(graded: list[Graded]) -> dict[str, list[Diagnosis]]:
    """Per function, what its failures say (a known mistake, or the kind of failure), each with
    the students it was said to (once per student), the most common first."""
    said: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for result in graded:
        by_function: dict[str, set[str]] = defaultdict(set)
        recognised: set[str] = set()
        for test in result.tests:
            if not test.passed and test.failure:
                by_function[test.function].add(test.failure)
                recognised |= {test.function} if test.recognised else set()
        for function, failures in by_function.items():
            for failure in failures - GENERIC if function in recognised else failures:
                said[function][failure].add(result.student)
    return {
        function: sorted(
            (Diagnosis(function, says, tuple(sorted(students))) for says, students in by_text.items()),
            key=lambda diagnosis: (-len(diagnosis.students), diagnosis.says),
        )
        for function, by_text in said.items()
    }


def runtime_ratios(graded: list[Graded]) -> dict[str, list[float]]:
    """Per timed function, each submission's slowest measured ratio over its runtime tests (a
    failed runtime test stopped early holds a lower bound)."""
    ratios: dict[str, list[float]] = defaultdict(list)
    for result in graded:
        per_function: dict[str, float] = {}
        for test in result.tests:
            if test.kind == "runtime" and test.ratio is not None:
                per_function[test.function] = max(per_function.get(test.function, 0.0), test.ratio)
        for function, ratio in per_function.items():
            ratios[function].append(ratio)
    return dict(ratios)


# ---------------------------------------------------------------- writing


def write_cases_csv(report: ClassReport, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["test", "function", "passed", "failed", "pass_rate"])
        for case in report.cases:
            writer.writerow(
                [
                    csv_text(case.test),
                    csv_text(case.function),
                    case.passed,
                    case.failed,
                    f"{case.pass_rate:.3f}",
                ]
            )
    return path


def write_similar_csv(report: ClassReport, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["student_a", "student_b", "similarity", "functions"])
        for pair in report.similar:
            writer.writerow(
                [
                    csv_text(pair.student_a),
                    csv_text(pair.student_b),
                    f"{pair.similarity:.3f}",
                    csv_text(" ".join(pair.functions)),
                ]
            )
    return path


def similar_submissions(assignment: Assignment, submitted: Path, functions: list[str]) -> list:
    """Pairs of submissions in nbgrader's submitted/ folder whose graded cells are (near-)identical
    (the released stubs never count)."""
    from autograder.intake import find_submissions
    from autograder.notebook import NotebookError, graded_cells, read_cells
    from autograder.similarity import similar_pairs
    from autograder.submission import load_submission

    sources = {}
    for job in find_submissions(submitted, assignment.name) if Path(submitted).is_dir() else ():
        if job.notebook is None:
            continue
        try:
            cells = graded_cells(read_cells(job.notebook))  # the marked cells: enough, and quick
            if not set(functions) <= set(cells):  # a classic layout: the grader's way of finding them
                cells = load_submission(job.student_id, job.notebook, functions).cells
        except NotebookError:
            continue
        sources[job.student_id] = cells
    released = (
        graded_cells(read_cells(assignment.release_notebook)) if assignment.release_notebook.exists() else {}
    )
    return similar_pairs(sources, released)


def write_report(
    assignment: Assignment, results_dir: Path, out: Path, limit: float, submitted: Path | None
) -> ClassReport:
    """Read the results (and the submissions, for similarity) and write the three files into out."""
    from autograder.report_page import report_html

    results, unreadable = read_results(results_dir)
    functions = _functions_in_order([result for result in results if not result.problem])
    similar = similar_submissions(assignment, submitted, functions) if submitted else []
    report = class_report(assignment.name, results, limit, similar)
    report.unreadable = unreadable
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT).write_text(report_html(report), encoding="utf-8")
    write_cases_csv(report, out / CASES)
    write_similar_csv(report, out / SIMILAR)
    return report
