"""`autograder check`: an assignment is sound when its parts agree.

- the source notebook and the hidden tests agree on the functions and their points
  (autograder.spec.read_spec);
- every figure of instructor/figures.py is embedded in the markdown cell that shows it
  (autograder.figures);
- the reference agrees with the independent plain-loop implementation of instructor/plain_loops.py
  on random inputs drawn by hypothesis (autograder.agreement);
- the source notebook runs top to bottom, in a scratch copy with the student test kit, and every
  public test passes;
- every bundled example, graded with the hidden tests, gets exactly the scores it states (the
  reference full marks, runtime included, the untouched release zero; autograder.examples);
- the committed release is what `autograder release` makes of the source now.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.agreement import check_agreement
from autograder.course import Assignment, CourseError
from autograder.examples import build_examples, expected_scores
from autograder.figures import figure_problems
from autograder.release import release_differences, ship_kit
from autograder.results import SubmissionResult
from autograder.settings import Autograder
from autograder.spec import AssignmentSpec, read_spec


@dataclass
class CheckReport:
    assignment: str
    problems: list[str] = field(default_factory=list)
    public_tests_passed: int = 0
    examples: list[SubmissionResult] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # the graded functions, in notebook order

    @property
    def verdict(self) -> str:
        count = len(self.problems)
        return f"{self.assignment}: sound" if not count else f"{self.assignment}: {count} problem(s)"


def check_assignment(
    assignment: Assignment,
    settings: Autograder,
    on_result: Callable[[SubmissionResult], None] | None = None,
    keep: Path | None = None,
) -> CheckReport:
    """`keep`: grade the examples into keep/submitted and keep/grades (replaced), not a scratch folder."""
    report = CheckReport(assignment.name)
    try:
        spec = read_spec(assignment)
    except CourseError as error:
        report.problems.append(str(error))
        return report
    report.order = list(spec.functions)
    report.problems += figure_problems(assignment)
    report.problems += check_agreement(assignment)
    report.problems += run_source_notebook(assignment, settings, report)
    report.problems += grade_examples(assignment, spec, settings, report, on_result, keep)
    report.problems += release_differences(assignment, settings)
    return report


def run_source_notebook(assignment: Assignment, settings: Autograder, report: CheckReport) -> list[str]:
    """Run the source notebook in a scratch copy of its folder; a problem per failing cell."""
    from autograder.execute import run_notebook

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(shutil.copytree(assignment.source_dir, Path(scratch) / assignment.name))
        ship_kit(assignment, settings, folder)
        run = run_notebook(folder / assignment.source_notebook.name, allow_errors=True)
    report.public_tests_passed = run.outputs_text().count("All tests passed")
    return [
        f"source notebook, cell {error.index} ({error.grade_id or '-'}): {error.ename}: {error.evalue}"
        for error in run.errors
    ]


def grade_examples(
    assignment: Assignment,
    spec: AssignmentSpec,
    settings: Autograder,
    report: CheckReport,
    on_result: Callable[[SubmissionResult], None] | None,
    keep: Path | None = None,
) -> list[str]:
    """Grade every example in a scratch folder (or `keep`); a problem per function whose score differs."""
    from autograder.batch import grade_all
    from autograder.local_processes import LocalProcesses

    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep or Path(scratch)
        submitted, out = folder / "submitted", folder / "grades"
        for old in (submitted, out):
            shutil.rmtree(old, ignore_errors=True)
        build_examples(assignment, submitted)
        executor = LocalProcesses(settings.jobs or None)
        report.examples = grade_all(
            assignment, submitted, out, settings.policy(), executor, on_result=on_result
        )
    for result in report.examples:
        expected = expected_scores(assignment, result.student_id, spec.functions)
        got = {name: score for name, (score, _) in result.by_function().items()}
        for name, points in expected.items():
            if abs(got.get(name, 0.0) - points) > 1e-9:
                problems.append(
                    f"example {result.student_id}: {name} scored {got.get(name, 0.0):g}, it states {points:g}"
                    + (f" ({result.problem})" if result.problem and name not in got else "")
                )
    return problems
