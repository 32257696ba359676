"""Grading on a Dask cluster: the same grading, on worker processes anywhere.

`autograder grade ... --scheduler tcp://host:8786` sends each submission to an existing Dask
distributed cluster instead of local processes. The course travels with the work: the source
notebook (the reference) and the hidden tests are scattered to the workers once, each notebook
goes with its task, and results come back to the instructor's machine, which writes them. Workers
need this package installed (`pip install cnn-autograder[dask]`), nothing of the course. The
notebooks are read on the instructor's machine by the batch's one safe reader (a link, a special
file or an oversized notebook is shipped as its problem, never read), and the bundle is every file
of the hidden tests: its digest is part of each grade's fingerprint (autograder.fingerprint).

Each worker process keeps one GradingContext per course (the same as a local grading process:
its sandboxes, the reference's timings, cached expected values) and grades one submission at a
time: start workers with one thread each and as many processes as cores, with single-threaded
BLAS, e.g. `OPENBLAS_NUM_THREADS=1 dask worker tcp://host:8786 --nworkers 8 --nthreads 1`.

Each submission has the local batch's time limits: STARTUP_SECONDS for a worker process to build
its context, then the submission deadline for its hidden tests (autograder.local_processes). A task tells
the instructor's machine when its clock starts (a Dask event: a task queued behind another one has
not started); past its time, its student gets a "grading timed out" row, the task is cancelled and
its worker restarted (through its nanny; a worker without one is removed), since a cancelled task
keeps running and holds the worker's thread, and the submissions queued there, until it ends.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import threading
import time
from dataclasses import dataclass

from autograder.batch import grade_bytes, read_job
from autograder.course import Assignment
from autograder.fingerprint import CourseBundle
from autograder.grade import GradingContext, internal_error_row, process_context
from autograder.local_processes import STARTUP_SECONDS, Graded, submission_deadline
from autograder.results import SubmissionResult, failed_row
from autograder.runtime import RuntimePolicy

__all__ = ["CourseBundle", "ScaleOutError", "grade_on_cluster", "grade_on_worker"]

TIME_LIMITS = "autograder-time-limit"  # the topic of the events tasks start their clocks with
POLL_SECONDS = 1.0  # how often the instructor's machine looks for tasks past their time

_unpacked: dict[str, Assignment] = {}  # bundle digest -> the assignment unpacked on this worker
# pytest and the sandboxes serve one submission at a time in a process, whatever the thread count.
_lock = threading.Lock()


def _context_for(bundle: CourseBundle, policy: RuntimePolicy) -> tuple[GradingContext, int]:
    """This worker process's context for the bundle, and how many hidden tests it runs."""
    assignment = _unpacked.get(bundle.digest)
    if assignment is None:
        assignment = _unpacked[bundle.digest] = bundle.unpack()
        atexit.register(shutil.rmtree, assignment.root, ignore_errors=True)  # runs after the context's close
    context = process_context(assignment, policy)
    return context, len(context.hidden_tests)


def _time_limit(seconds: float) -> None:
    """Tell grade_on_cluster that this task must end within `seconds` from now."""
    from distributed import get_worker

    with contextlib.suppress(ValueError):  # not on a worker: nobody is waiting
        worker = get_worker()
        message = {"key": worker.get_current_task(), "worker": worker.address, "seconds": seconds}
        worker.log_event(TIME_LIMITS, message)


def grade_on_worker(
    bundle: CourseBundle, policy: RuntimePolicy, student_id: str, notebook: bytes | None, problem: str
) -> SubmissionResult:
    """Runs on a Dask worker: grade one submission handed over as the notebook's bytes."""
    with _lock:
        _time_limit(STARTUP_SECONDS)  # the context is built once per worker process, then reused
        try:
            context, tests = _context_for(bundle, policy)
        except Exception:
            return internal_error_row(student_id, bundle.assignment)
        _time_limit(submission_deadline(tests, policy))
        return grade_bytes(context, student_id, notebook, problem)


class ScaleOutError(RuntimeError):
    """The cluster cannot be used: no `distributed` package, or no scheduler at the address."""


@dataclass(frozen=True)
class DaskCluster:
    """The executor that grades on the Dask cluster whose scheduler is at `scheduler`."""

    scheduler: str

    def grade(self, assignment: Assignment, work: list, policy: RuntimePolicy) -> Graded:
        return grade_on_cluster(assignment, work, self.scheduler, policy)


def grade_on_cluster(assignment: Assignment, jobs: list, scheduler: str, policy: RuntimePolicy) -> Graded:
    """Yield (job, SubmissionResult) as the cluster's workers finish them, or as their time runs out."""
    try:
        from distributed import Client, wait
    except ImportError as error:
        raise ScaleOutError(
            "grading on a Dask cluster needs the dask extra: pip install 'cnn-autograder[dask]'"
        ) from error
    try:  # waits for the scheduler up to Dask's distributed.comm.timeouts.connect
        client = Client(scheduler)
    except (OSError, TimeoutError) as error:
        raise ScaleOutError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from error
    with client:
        limits: dict[str, tuple[float, float, str]] = {}  # task key -> (time up, seconds, worker)

        def start_clock(event: tuple) -> None:  # runs on the client's event loop
            _, message = event
            seconds = message["seconds"]
            limits[message["key"]] = (time.monotonic() + seconds, seconds, message["worker"])

        client.subscribe_topic(TIME_LIMITS, start_clock)
        bundle = client.scatter(CourseBundle.of(assignment), broadcast=True)
        futures = {}
        for job in jobs:  # read on this machine, by the one safe reader, one at a time
            notebook, problem = read_job(job)
            future = client.submit(
                grade_on_worker, bundle, policy, job.student_id, notebook, problem, pure=False, retries=1
            )
            futures[future] = job
        pending = set(futures)
        while pending:
            try:
                done = wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            now = time.monotonic()
            late = {f for f in pending - done if f.key in limits and limits[f.key][0] <= now}
            for future in late:
                _, seconds, worker = limits[future.key]
                future.cancel()  # first, or Dask would run it again elsewhere when its worker goes
                client.restart_workers([worker], raise_for_error=False)
            pending -= done | late
            for future in done:
                yield futures[future], _result(future, futures[future], assignment.name)
            for future in late:
                problem = f"grading timed out: no result after {limits[future.key][1]:.0f} s"
                yield futures[future], failed_row(futures[future].student_id, assignment.name, problem)


def _result(future, job, assignment: str) -> SubmissionResult:
    try:
        return future.result()
    except Exception as error:  # the worker died twice, or the cluster went away
        return failed_row(job.student_id, assignment, f"grading failed: {error!r}")
