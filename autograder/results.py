"""Grades as data, and the files they are written to: Gradescope's results.json and grades.csv.

Student ids, problems and test outputs carry student-controlled text. Every file written here is
inert whatever that text is: results.json is valid JSON of printable text, every text in it is
marked as plain text for Gradescope (`output_format`, `name_format`: its default for the
top-level output renders HTML), and no cell of grades.csv can start a spreadsheet formula
(`visible`, `csv_text`).

results.json follows Gradescope's autograder specification (its "Output format"): the score, the
execution time, an output for the whole submission (each function's score, and why a submission
could not be graded: said once there, while its tests say "not graded: see above"), visibility,
and each test with its name, score, maximum, status, output and tags (the function and the kind
of test). `max_score` beside the score is not Gradescope's (it takes the assignment's points) and
is kept for other readers of the file.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.text import visible

# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets (OWASP's
# CSV injection list, and the full-width forms some locales accept).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
RESERVED_NAMES = {"grades.csv"}  # what write_grades_csv puts next to the student folders
NOT_GRADED = "not graded: see above"  # a test's output when it failed with the submission's problem
VISIBLE = "visible"  # Gradescope's visibility of the results and tests: shown to the student at once


def csv_text(text: object) -> str:
    """A text cell of grades.csv: visible, and prefixed with a single quote when a spreadsheet
    would take it for a formula."""
    raw = text if isinstance(text, str) else str(text)
    shown = visible(raw)
    return "'" + shown if raw.startswith(FORMULA_START) or shown.startswith(FORMULA_START) else shown


@dataclass
class TestResult:
    name: str
    function: str
    kind: str  # "correctness" or "runtime"
    score: float
    max_score: float
    output: str = ""
    failure: str = ""  # what went wrong, in a few words: a known mistake, or the kind of failure
    ratio: float | None = None  # a runtime test's time, as a multiple of the reference's
    recognised: bool = False  # the failure is a known mistake, recognised from the numbers

    def gradescope(self, output: str | None = None) -> dict:
        """This test in Gradescope's results.json (`output` in place of its own, if given); its
        `extra_data` holds the failure and the ratio, for the class report."""
        extra = {"failure": self.failure} if self.failure else {}
        extra |= {"recognised": True} if self.recognised else {}
        extra |= {"ratio": round(self.ratio, 4)} if self.ratio is not None else {}
        return {
            "name": self.name,
            "name_format": "text",
            "score": self.score,
            "max_score": self.max_score,
            "status": "passed" if self.score >= self.max_score else "failed",
            "output": self.output if output is None else output,
            "output_format": "text",
            "tags": [self.function, self.kind],
            "visibility": VISIBLE,
            **({"extra_data": extra} if extra else {}),
        }


@dataclass
class SubmissionResult:
    student_id: str
    assignment: str
    tests: list[TestResult] = field(default_factory=list)
    execution_time: float = 0.0
    problem: str = ""  # why a submission could not be graded normally, for the grade table
    digest: str = ""  # of the graded cells and imports (autograder.submission.submission_digest)
    fingerprint: str = ""  # of everything the grade depends on (autograder.fingerprint.grade_key)
    notes: dict[str, str] = field(default_factory=dict)  # per graded function: how its code was found

    @property
    def score(self) -> float:
        return round(sum(test.score for test in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(test.max_score for test in self.tests), 6)

    def by_function(self) -> dict[str, tuple[float, float]]:
        totals: dict[str, tuple[float, float]] = {}
        for test in self.tests:
            score, maximum = totals.get(test.function, (0.0, 0.0))
            totals[test.function] = (score + test.score, maximum + test.max_score)
        return totals

    def test_output(self, test: TestResult) -> str:
        """A test's output as shown below the submission's problem: a test that failed with the
        problem itself (every test of a notebook that could not be graded) says so in short."""
        if self.problem and test.output and self.problem.startswith(test.output):
            return NOT_GRADED
        return test.output

    def summary(self) -> str:
        """What the whole submission's results say first: why it could not be graded, if so, then
        each function's score, in the tests' order, then the notes (a function graded from its `def`)."""
        lines = [f"Not graded: {self.problem}", ""] if self.problem else []
        lines += [f"{name}: {score:g}/{maximum:g}" for name, (score, maximum) in self.by_function().items()]
        lines += ["", *self.notes.values()] if self.notes else []
        return "\n".join(lines).strip()

    def gradescope(self) -> dict:
        """Gradescope's results.json (its autograder specification, "Output format")."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "output": self.summary(),
            "output_format": "text",
            "test_output_format": "text",
            "test_name_format": "text",
            "visibility": VISIBLE,
            "stdout_visibility": "hidden",  # the grader's log, for the instructor
            "extra_data": {"assignment": self.assignment},
            "tests": [test.gradescope(self.test_output(test)) for test in self.tests],
        }

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SubmissionResult:
        data = dict(data)
        tests = [TestResult(**test) for test in data.pop("tests")]
        return cls(tests=tests, **data)


def failed_row(student_id: str, assignment: str, problem: str) -> SubmissionResult:
    """The row of a submission no grade could be computed for, saying why: every host and stage
    (reading, grading processes, Dask workers, the grader's own failures) writes it this way."""
    return SubmissionResult(student_id, assignment, problem=problem)


def write_results_json(result: SubmissionResult, out_dir: Path) -> Path:
    """Gradescope's results.json, and beside it the full result for nbgrader to reuse, keyed by
    the fingerprint of everything it depends on (a result without one is never reused)."""
    name = result.student_id
    if not name or name in (".", "..") or "/" in name or "\0" in name or name in RESERVED_NAMES:
        raise ValueError(f"not a student folder name: {visible(name)!r}")
    path = out_dir / name / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(gradescope_json(result), encoding="utf-8")
    grading = {"fingerprint": result.fingerprint, "result": result.to_json()}
    (path.parent / "grading.json").write_text(_json(grading, indent=1), encoding="utf-8")
    return path


def gradescope_json(result: SubmissionResult) -> str:
    """The text of a results.json: strict, ASCII JSON of printable text."""
    return _json(result.gradescope(), indent=2)


def _json(data, indent: int) -> str:
    """Strict JSON (RFC 8259: no NaN, no lone surrogates), ASCII, with printable strings."""
    return json.dumps(_inert(data), indent=indent, allow_nan=False)


def _inert(value):
    if isinstance(value, str):
        return visible(value, newlines=True)
    if isinstance(value, float) and not math.isfinite(value):
        return 0.0
    if isinstance(value, dict):
        return {_inert(str(key)): _inert(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_inert(item) for item in value]
    return value


def write_grades_csv(results: list[SubmissionResult], path: Path) -> Path:
    functions = sorted(
        {test.function for result in results for test in result.tests}, key=_function_order(results)
    )
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        header = ["student_id", "score", "max_score", *functions, "problem"]
        writer.writerow([csv_text(name) for name in header])
        for result in sorted(results, key=lambda r: r.student_id):
            totals = result.by_function()
            writer.writerow(
                [csv_text(result.student_id), _number(result.score), _number(result.max_score)]
                + [_number(totals.get(name, (0.0, 0.0))[0]) for name in functions]
                + [csv_text(result.problem)]
            )
    return path


def _function_order(results: list[SubmissionResult]):
    order: dict[str, int] = {}
    for result in results:
        for test in result.tests:
            order.setdefault(test.function, len(order))
    return lambda name: order[name]


def _number(value: float) -> str:
    """A number as a spreadsheet reads one (never "-0", "nan" or "inf")."""
    return f"{value + 0.0:g}" if math.isfinite(value) else "0"
