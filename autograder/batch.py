"""Grade a folder of submissions on every core, with a progress bar; every student gets a row."""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autograder.grade import GradingContext, grade_submission, internal_error_row
from autograder.results import SubmissionResult, write_grades_csv, write_results_json
from autograder.runtime import RuntimePolicy


@dataclass(frozen=True)
class Job:
    student_id: str
    notebook: Path | None  # None: nothing to grade was found
    problem: str = ""


def find_submissions(submitted: Path, assignment: str) -> list[Job]:
    """nbgrader's layout: submitted/<student_id>/<assignment>/<assignment>.ipynb. A student without
    that assignment's folder has not submitted it; a folder without a clear notebook gets a row."""
    jobs = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        folder = student_dir / assignment
        if not folder.is_dir():
            continue
        preferred = folder / f"{assignment}.ipynb"
        notebooks = sorted(folder.glob("*.ipynb"))
        if preferred.exists():
            jobs.append(Job(student_dir.name, preferred))
        elif len(notebooks) == 1:
            jobs.append(Job(student_dir.name, notebooks[0]))
        else:
            reason = (
                "no notebook"
                if not notebooks
                else f"{len(notebooks)} notebooks and none named {preferred.name}"
            )
            jobs.append(Job(student_dir.name, None, f"{reason} in {folder}"))
    return jobs


_context: GradingContext | None = None


def _start_worker(assignment: str, policy: RuntimePolicy) -> None:
    global _context
    _context = GradingContext(assignment, policy)
    # Pool workers end with os._exit, which skips atexit: multiprocessing's own finalizers run.
    multiprocessing.util.Finalize(_context, _context.close, exitpriority=10)


def _grade(job: Job) -> SubmissionResult:
    try:
        return grade_submission(_context, job.student_id, job.notebook, problem=job.problem)
    except Exception:
        return internal_error_row(job.student_id, _context.assignment)


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


def grade_on_local_cores(
    assignment: str, work: list[Job], jobs: int | None, policy: RuntimePolicy
) -> Iterator[tuple[Job, SubmissionResult]]:
    """Yield (job, result) as `jobs` grading processes on this machine finish them."""
    workers = max(1, min(jobs or os.cpu_count() or 1, len(work) or 1))
    # Each grading process computes expected values with numpy: one BLAS thread each, since the
    # processes already fill the cores (and multi-threaded BLAS stalls badly on a busy machine).
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(assignment, policy),
    ) as pool:
        futures = {pool.submit(_grade, job): job for job in work}
        for future in as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except Exception as error:  # the worker process itself died
                result = SubmissionResult(
                    job.student_id, assignment, problem=f"grading process failed: {error!r}"
                )
            yield job, result
