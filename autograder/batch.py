"""Grade a folder of submissions on every core, with a progress bar; every student gets a row.

The stages: find and safely read the submissions (autograder.intake), grade them in processes on
this machine (autograder.local_processes) or on a Dask cluster (autograder.scale_out), and write
each student's results.json and the grades.csv (autograder.results).
"""

from __future__ import annotations

from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autograder.grade import grade_bytes
from autograder.intake import Job, find_submissions, read_job
from autograder.local_processes import grade_on_local_cores
from autograder.results import SubmissionResult, write_grades_csv, write_results_json
from autograder.runtime import RuntimePolicy

# Job, read_job and grade_bytes are here too for the batch's other hosts (autograder.scale_out, the
# nbgrader plugin): every host reads and grades a submission the same way.
__all__ = ["Job", "find_submissions", "grade_all", "grade_bytes", "read_job"]


def grade_all(
    assignment: str,
    submitted: Path,
    out: Path,
    jobs: int | None = None,
    policy: RuntimePolicy | None = None,
    show_progress: bool = True,
    scheduler: str | None = None,
) -> list[SubmissionResult]:
    """Grade every submission; write OUT/<student>/results.json and OUT/grades.csv.

    On this machine's cores (`jobs` processes, default one per core), or on the Dask cluster whose
    scheduler is at `scheduler` (see autograder.scale_out)."""
    work = find_submissions(submitted, assignment)
    out.mkdir(parents=True, exist_ok=True)
    policy = policy or RuntimePolicy()
    if scheduler:
        from autograder.scale_out import grade_on_cluster

        graded = grade_on_cluster(assignment, work, scheduler, policy)
    else:
        graded = grade_on_local_cores(assignment, work, jobs, policy)
    results: list[SubmissionResult] = []
    progress = Progress(
        TextColumn("grading {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not show_progress,
    )
    with progress:
        task = progress.add_task(assignment, total=len(work))
        for _job, result in graded:
            write_results_json(result, out)
            results.append(result)
            progress.advance(task)
    write_grades_csv(results, out / "grades.csv")
    return sorted(results, key=lambda r: r.student_id)
