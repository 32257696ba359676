"""Grades as data, and the files they are written to: Gradescope's results.json and grades.csv."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class TestResult:
    name: str
    function: str
    kind: str  # "correctness" or "runtime"
    score: float
    max_score: float
    output: str = ""

    def gradescope(self) -> dict:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "output": self.output,
            "tags": [self.function, self.kind],
            "visibility": "visible",
        }


@dataclass
class SubmissionResult:
    student_id: str
    assignment: str
    tests: list[TestResult] = field(default_factory=list)
    execution_time: float = 0.0
    problem: str = ""  # why a submission could not be graded normally, for the grade table
    digest: str = ""  # of the graded cells, so nbgrader's autograde can reuse this result

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

    def gradescope(self) -> dict:
        result = {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "tests": [test.gradescope() for test in self.tests],
        }
        if self.problem:
            result["output"] = self.problem
        return result

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SubmissionResult:
        data = dict(data)
        tests = [TestResult(**test) for test in data.pop("tests")]
        return cls(tests=tests, **data)


def write_results_json(result: SubmissionResult, out_dir: Path) -> Path:
    """Gradescope's results.json, and beside it the full result for nbgrader to reuse."""
    path = out_dir / result.student_id / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.gradescope(), indent=2))
    grading = {"digest": result.digest, "result": result.to_json()}
    (path.parent / "grading.json").write_text(json.dumps(grading, indent=1))
    return path


def write_grades_csv(results: list[SubmissionResult], path: Path) -> Path:
    functions = sorted(
        {test.function for result in results for test in result.tests}, key=_function_order(results)
    )
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["student_id", "score", "max_score", *functions, "problem"])
        for result in sorted(results, key=lambda r: r.student_id):
            totals = result.by_function()
            writer.writerow(
                [result.student_id, _number(result.score), _number(result.max_score)]
                + [_number(totals.get(name, (0.0, 0.0))[0]) for name in functions]
                + [result.problem]
            )
    return path


def _function_order(results: list[SubmissionResult]):
    order: dict[str, int] = {}
    for result in results:
        for test in result.tests:
            order.setdefault(test.function, len(order))
    return lambda name: order[name]


def _number(value: float) -> str:
    return f"{value:g}"
