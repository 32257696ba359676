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
"""

from __future__ import annotations

import atexit
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from autograder.batch import grade_bytes, read_job
from autograder.fingerprint import SOURCE, TESTS, CourseBundle
from autograder.grade import GradingContext, internal_error_row, process_context
from autograder.results import SubmissionResult
from autograder.runtime import RuntimePolicy

__all__ = ["CourseBundle", "ScaleOutError", "grade_on_cluster", "grade_on_worker"]

_unpacked: dict[str, Path] = {}  # bundle digest -> its folder on this worker
# pytest and the sandboxes serve one submission at a time in a process, whatever the thread count.
_lock = threading.Lock()


def _context_for(bundle: CourseBundle, policy: RuntimePolicy) -> GradingContext:
    root = _unpacked.get(bundle.digest)
    if root is None:
        root = _unpacked[bundle.digest] = bundle.unpack()
        atexit.register(shutil.rmtree, root, ignore_errors=True)  # runs after the context's close
    return process_context(bundle.assignment, policy, tests_dir=root / TESTS, source=root / SOURCE)


def grade_on_worker(
    bundle: CourseBundle, policy: RuntimePolicy, student_id: str, notebook: bytes | None, problem: str
) -> SubmissionResult:
    """Runs on a Dask worker: grade one submission handed over as the notebook's bytes."""
    with _lock:
        try:
            context = _context_for(bundle, policy)
        except Exception:
            return internal_error_row(student_id, bundle.assignment)
        return grade_bytes(context, student_id, notebook, problem)


class ScaleOutError(RuntimeError):
    """The cluster cannot be used: no `distributed` package, or no scheduler at the address."""


def grade_on_cluster(assignment: str, jobs: list, scheduler: str, policy: RuntimePolicy) -> Iterator:
    """Yield (job, SubmissionResult) as the cluster's workers finish them."""
    try:
        from distributed import Client, as_completed
    except ImportError as error:
        raise ScaleOutError(
            "grading on a Dask cluster needs the dask extra: pip install 'cnn-autograder[dask]'"
        ) from error
    try:  # waits for the scheduler up to Dask's distributed.comm.timeouts.connect
        client = Client(scheduler)
    except (OSError, TimeoutError) as error:
        raise ScaleOutError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from error
    with client:
        bundle = client.scatter(CourseBundle.of(assignment), broadcast=True)
        futures = {}
        for job in jobs:  # read on this machine, by the one safe reader, one at a time
            notebook, problem = read_job(job)
            future = client.submit(
                grade_on_worker, bundle, policy, job.student_id, notebook, problem, pure=False, retries=1
            )
            futures[future] = job
        for future in as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except Exception as error:  # the worker died twice, or the cluster went away
                result = SubmissionResult(job.student_id, assignment, problem=f"grading failed: {error!r}")
            yield job, result
