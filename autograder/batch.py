"""Grade a folder of submissions; every student gets a row.

The stages: find and safely read the submissions (autograder.intake), grade them with an
executor, in processes on this machine (autograder.local_processes.LocalProcesses) or on a Dask
cluster (autograder.scale_out.DaskCluster), and write each student's results.json and the
grades.csv (autograder.results). A caller follows the batch through `on_result`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from autograder.course import Assignment
from autograder.grade import grade_bytes
from autograder.intake import Job, find_submissions, read_job
from autograder.local_processes import LocalProcesses
from autograder.results import SubmissionResult, write_grades_csv, write_results_json
from autograder.runtime import RuntimePolicy

# Job, read_job and grade_bytes are here too for the batch's other hosts (autograder.scale_out, the
# nbgrader plugin): every host reads and grades a submission the same way.
__all__ = ["Executor", "Job", "find_submissions", "grade_all", "grade_bytes", "read_job"]


class Executor(Protocol):
    """Where submissions are graded: yields (job, result) for every job, as results come."""

    def grade(
        self, assignment: Assignment, work: list[Job], policy: RuntimePolicy
    ) -> Iterator[tuple[Job, SubmissionResult]]: ...


def grade_all(
    assignment: Assignment,
    submitted: Path,
    out: Path,
    policy: RuntimePolicy,
    executor: Executor | None = None,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission; write OUT/<student>/results.json and OUT/grades.csv.

    `executor` defaults to LocalProcesses() (one grading process per core); on_start(count) is
    called once the submissions are found, on_result(result) as each one is written."""
    work = find_submissions(submitted, assignment.name)
    out.mkdir(parents=True, exist_ok=True)
    if on_start:
        on_start(len(work))
    results: list[SubmissionResult] = []
    for _job, result in (executor or LocalProcesses()).grade(assignment, work, policy):
        write_results_json(result, out)
        results.append(result)
        if on_result:
            on_result(result)
    write_grades_csv(results, out / "grades.csv")
    return sorted(results, key=lambda r: r.student_id)
