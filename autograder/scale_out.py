"""Grading on a Dask cluster: the same grading, on worker processes anywhere.

`autograder grade ... --scheduler tcp://host:8786` sends each submission to an existing Dask
distributed cluster instead of local processes. The course travels with the work: the source
notebook (the reference) and the hidden tests are scattered to the workers once, each notebook
goes with its task, and results come back to the instructor's machine, which writes them. Workers
need this package installed (`pip install cnn-autograder[dask]`), nothing of the course.

Each worker process keeps one GradingContext per course (the same as a local grading process:
its sandboxes, the reference's timings, cached expected values) and grades one submission at a
time: start workers with one thread each and as many processes as cores, with single-threaded
BLAS, e.g. `OPENBLAS_NUM_THREADS=1 dask worker tcp://host:8786 --nworkers 8 --nthreads 1`.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from autograder.course import grader_tests_dir, source_notebook
from autograder.grade import GradingContext, grade_submission, internal_error_row, process_context
from autograder.notebook import NotebookError, check_size
from autograder.results import SubmissionResult
from autograder.runtime import RuntimePolicy

SOURCE = "source.ipynb"
TESTS = "grader_tests"


@dataclass(frozen=True)
class CourseBundle:
    """The files a worker grades an assignment with: the source notebook and the hidden tests."""

    assignment: str
    files: dict[str, bytes]  # path relative to the bundle's folder -> content

    @classmethod
    def of(cls, assignment: str) -> CourseBundle:
        files = {SOURCE: source_notebook(assignment).read_bytes()}
        for path in sorted(grader_tests_dir(assignment).iterdir()):
            if path.is_file() and path.suffix in (".py", ".ini", ".h5"):
                files[f"{TESTS}/{path.name}"] = path.read_bytes()
        return cls(assignment, files)

    @cached_property
    def digest(self) -> str:
        digest = hashlib.blake2b(self.assignment.encode(), digest_size=12)
        for name, content in sorted(self.files.items()):
            digest.update(name.encode() + b"\0" + hashlib.blake2b(content).digest())
        return digest.hexdigest()

    def unpack(self) -> Path:
        """Write the files to a folder of their own (named by their digest) on this machine."""
        root = Path(tempfile.mkdtemp(prefix=f"autograder-{self.assignment}-{self.digest}-"))
        for name, content in self.files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        return root


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
            with tempfile.TemporaryDirectory() as scratch:
                path = None
                if notebook is not None:
                    path = Path(scratch) / f"{bundle.assignment}.ipynb"
                    path.write_bytes(notebook)
                return grade_submission(context, student_id, path, problem=problem)
        except Exception:
            return internal_error_row(student_id, bundle.assignment)


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
        for job in jobs:
            notebook, problem = _read(job)
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


def _read(job) -> tuple[bytes | None, str]:
    if job.notebook is None:
        return None, job.problem
    try:
        check_size(job.notebook)
        return job.notebook.read_bytes(), job.problem
    except NotebookError as error:
        return None, str(error)
    except OSError as error:
        return None, f"the notebook could not be read: {error.strerror or error}"
