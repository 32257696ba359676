"""Grade a folder of submissions on every core, with a progress bar; every student gets a row.

The submissions folder is the students': its names, links and special files are hostile. Only
regular files inside a student's own folder are read, through `notebook.read_untrusted`; anything
else is that student's row with the reason. A grading process that dies or exceeds its deadline
costs only the submission it was grading: its student gets a row saying so, and a fresh process
grades the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import multiprocessing
import multiprocessing.connection
import os
import signal
import stat
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autograder.fingerprint import grade_key
from autograder.grade import grade_submission, internal_error_row, process_context
from autograder.notebook import NotebookError, kind_of, open_folder, read_untrusted
from autograder.results import (
    RESERVED_NAMES,
    SubmissionResult,
    visible,
    write_grades_csv,
    write_results_json,
)
from autograder.runtime import RuntimePolicy

MAX_ID_CHARS = 64
MAX_FOLDER_ENTRIES = 10_000  # in an assignment folder: nbgrader's hold a handful
STARTUP_SECONDS = 300.0  # for a grading process to build its context (measured: a few seconds)
# Per submission, on top of its hidden tests' calls (see submission_deadline): pytest's start,
# loading each function's session, a sandbox restart or two.
SUBMISSION_OVERHEAD_SECONDS = 60.0
STOP_SECONDS = 5.0  # for a stopped grading process to close its sandboxes before it is killed
MAX_START_FAILURES = 3  # grading processes in a row that could not start: the course is broken


@dataclass(frozen=True)
class Job:
    student_id: str  # safe to show and to name a folder with (see safe_student_id)
    notebook: Path | None  # the notebook found; None: nothing to grade was found
    problem: str = ""
    submitted: Path | None = None  # the submissions folder `parts` are relative to
    parts: tuple[str, ...] = ()  # the notebook below it: student folder, assignment folder, file

    def read(self) -> bytes:
        """The notebook's bytes, read safely (NotebookError saying why it cannot be)."""
        return read_untrusted(self.submitted, self.parts)


def safe_student_id(name: str) -> str:
    """The id a student folder's row is shown and written under: the folder's name when it is
    plain (printable UTF-8, at most MAX_ID_CHARS long, no leading dash or surrounding space, not
    a name the results folder uses); otherwise that name made visible and shortened, between a
    leading '_' and a '~' with a hash of the exact name, so that odd names stay distinct."""
    raw = os.fsencode(name)
    shown = visible(raw.decode("utf-8", "backslashreplace"))
    plain = shown == name and name == name.strip() and not name.startswith("-")
    if plain and len(name) <= MAX_ID_CHARS and name not in RESERVED_NAMES:
        return name
    return f"_{shown.strip()[: MAX_ID_CHARS - 10]}~{hashlib.blake2b(raw, digest_size=4).hexdigest()}"


def find_submissions(submitted: Path, assignment: str) -> list[Job]:
    """nbgrader's layout: submitted/<student_id>/<assignment>/<assignment>.ipynb. A student without
    that assignment's folder has not submitted it; a folder without a clear notebook, or with links
    or special files where the folders and notebook should be, gets a row with the reason. Nothing
    is followed or opened but folders (without following links); the notebook is read later."""
    submitted = Path(submitted)
    jobs: list[Job] = []
    taken: set[str] = set()
    root = os.open(submitted, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with os.scandir(root) as entries:
            names = sorted(entry.name for entry in entries if not entry.name.startswith("."))
        for name in names:
            found = _look_in(root, name, assignment)
            if found is None:
                continue
            student_id = safe_student_id(name)
            while student_id in taken:
                student_id += "~"
            taken.add(student_id)
            if isinstance(found, str):
                jobs.append(Job(student_id, None, found))
            else:
                jobs.append(Job(student_id, submitted.joinpath(*found), "", submitted, found))
    finally:
        os.close(root)
    return jobs


def _look_in(root: int, name: str, assignment: str) -> tuple[str, ...] | str | None:
    """The notebook's path parts in the student folder `name`, a problem, or None (no submission)."""
    refused = "only regular files inside the student's own folder are graded"
    try:
        mode = os.stat(name, dir_fd=root, follow_symlinks=False).st_mode
    except OSError:
        return None  # gone since the listing
    if stat.S_ISLNK(mode):
        return f"the student folder is a symbolic link: {refused}"
    if not stat.S_ISDIR(mode):
        return None  # a stray file, not a student's folder
    try:
        student = open_folder(name, root)
    except OSError as error:
        return f"the student folder could not be opened: {error.strerror}"
    try:
        try:
            mode = os.stat(assignment, dir_fd=student, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return None  # this student has not submitted this assignment
        except OSError as error:
            return f"the {assignment} folder could not be read: {error.strerror}"
        if stat.S_ISLNK(mode):
            return f"the {assignment} folder is a symbolic link: {refused}"
        if not stat.S_ISDIR(mode):
            return f"{assignment} in the student folder is {kind_of(mode)}, not a folder: {refused}"
        try:
            folder = open_folder(assignment, student)
        except OSError as error:
            return f"the {assignment} folder could not be opened: {error.strerror}"
        try:
            notebooks, entries = [], 0
            with os.scandir(folder) as listing:
                for entry in listing:
                    entries += 1
                    if entries > MAX_FOLDER_ENTRIES:
                        return f"the {assignment} folder holds more than {MAX_FOLDER_ENTRIES} files"
                    if entry.name.endswith(".ipynb") and not entry.name.startswith("."):
                        notebooks.append(entry.name)
        finally:
            os.close(folder)
    finally:
        os.close(student)
    preferred = f"{assignment}.ipynb"
    if preferred in notebooks:
        return (name, assignment, preferred)
    if len(notebooks) == 1:
        return (name, assignment, notebooks[0])
    if not notebooks:
        return f"no notebook in the {assignment} folder"
    return f"{len(notebooks)} notebooks and none named {preferred} in the {assignment} folder"


def read_job(job: Job) -> tuple[bytes | None, str]:
    """(the notebook's bytes, "") or (None, why there is nothing to grade)."""
    if job.problem or job.notebook is None:
        return None, job.problem or "no notebook"
    try:
        return job.read(), ""
    except NotebookError as error:
        return None, str(error)
    except OSError as error:
        return None, f"the notebook could not be read: {error.strerror or type(error).__name__}"
    except Exception as error:  # a grader bug must not cost the batch
        return None, f"the notebook could not be read ({type(error).__name__})"


def grade_bytes(context, student_id: str, data: bytes | None, problem: str = "") -> SubmissionResult:
    """Grade a notebook handed over as its bytes (None with the problem when there is none); the
    result carries the grade key it may be reused under. Never raises: a grader failure is a row."""
    try:
        with tempfile.TemporaryDirectory(prefix="autograder-submission-") as scratch:
            path = None
            if data is not None and not problem:
                path = Path(scratch) / f"{context.assignment}.ipynb"
                path.write_bytes(data)
            problem = problem or ("" if path else "no notebook")
            result = grade_submission(context, student_id, path, problem=problem)
    except Exception:
        return internal_error_row(student_id, context.assignment)
    result.fingerprint = grade_key(getattr(context, "fingerprint", ""), result.digest)
    return result


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


# ------------------------------------------------------------------ grading processes


def submission_deadline(tests: int, policy: RuntimePolicy) -> float:
    """Seconds a grading process may spend on one submission before it is stopped. Every call of
    a student's function is stopped at the call timeout (and a function that hung is not called
    again), and a hidden test makes a few calls (a runtime test repeats + 1 timed runs): allowing
    each test repeats + 1 calls that all run until the timeout, plus the overhead, is far above
    any honest submission (conv_step_by_step: 1,500 s for its 48 tests; the slowest bundled
    example takes 3 s) and still ends a grading process that hangs."""
    return SUBMISSION_OVERHEAD_SECONDS + max(tests, 1) * (policy.repeats + 1) * policy.call_timeout_seconds


def count_hidden_tests(tests_dir: Path) -> int:
    """How many tests pytest collects in tests_dir (parametrized cases counted one by one)."""
    from autograder.pytest_plugin import MARKERS

    class Counter:
        count = 0

        def pytest_configure(self, config) -> None:
            for marker in MARKERS:
                config.addinivalue_line("markers", marker)

        def pytest_collection_finish(self, session) -> None:
            self.count = len(session.items)

    import pytest

    counter = Counter()
    args = [str(tests_dir), "-c", str(tests_dir / "pytest.ini"), "--rootdir", str(tests_dir)]
    args += ["--collect-only", "-q", "--import-mode=importlib", "-p", "no:cacheprovider"]
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main(args, plugins=[counter])
    return counter.count


def start_grading(assignment: str, policy: RuntimePolicy):
    """A grading process's setup: its GradingContext, and how many hidden tests it runs."""
    context = process_context(assignment, policy)
    return context, count_hidden_tests(context.tests_dir)


def _serve(conn, assignment: str, policy: RuntimePolicy, setup: Callable, grade: Callable) -> None:
    """A grading process: set up, say so, then grade what the batch sends until it sends None."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that its sandboxes are closed
    context = None
    try:
        try:
            context, tests = setup(assignment, policy)
        except Exception as error:
            conn.send(("failed", f"{type(error).__name__}: {error}"[:500]))
            return
        conn.send(("ready", tests))
        while (message := conn.recv()) is not None:
            student_id, data, problem = message
            conn.send(("result", grade(context, student_id, data, problem)))
    except (EOFError, OSError):
        pass  # the batch is gone
    finally:
        if context is not None:
            context.close()


class _Process:
    """One grading process, and the submission it is grading."""

    def __init__(self, mp, assignment: str, policy: RuntimePolicy, setup: Callable, grade: Callable):
        self.conn, child = mp.Pipe()
        self.process = mp.Process(target=_serve, args=(child, assignment, policy, setup, grade))
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.deadline: float | None = None  # seconds per submission, once it is ready
        self.asked = False  # to stop
        self.expires = time.monotonic() + STARTUP_SECONDS

    @property
    def ready(self) -> bool:
        return self.deadline is not None

    def give(self, job: Job) -> None:
        data, problem = read_job(job)
        self.job = job
        self.expires = time.monotonic() + self.deadline
        self.conn.send((job.student_id, data, problem))

    def ask_to_stop(self) -> None:
        """An idle process ends once it has closed its sandboxes."""
        if self.job is None and self.ready and not self.asked:
            with contextlib.suppress(OSError):
                self.conn.send(None)
                self.asked = True

    def stop(self) -> None:
        """End the process: ask, then SIGTERM (it closes its sandboxes), then SIGKILL."""
        self.ask_to_stop()
        if self.asked:
            self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()

    def exit_reason(self) -> str:
        code = self.process.exitcode
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"


def grade_on_local_cores(
    assignment: str,
    work: list[Job],
    jobs: int | None,
    policy: RuntimePolicy,
    deadline: float | None = None,
    setup: Callable = start_grading,
    grade: Callable = grade_bytes,
) -> Iterator[tuple[Job, SubmissionResult]]:
    """Yield (job, result) as `jobs` grading processes on this machine finish them.

    Each submission gets `deadline` seconds (default: submission_deadline for the hidden tests);
    a process past it, or one that dies, is replaced, and its student gets a row saying what
    happened. `setup(assignment, policy) -> (context, tests)` and
    `grade(context, student_id, data, problem) -> SubmissionResult` run in the grading processes."""
    count = max(1, min(jobs or os.cpu_count() or 1, len(work) or 1))
    # Each grading process computes expected values with numpy: one BLAS thread each, since the
    # processes already fill the cores (and multi-threaded BLAS stalls badly on a busy machine).
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    mp = multiprocessing.get_context("spawn")
    pending = deque(work)
    processes: list[_Process] = []
    start_failures = 0

    def row(job: Job, problem: str) -> tuple[Job, SubmissionResult]:
        return job, SubmissionResult(job.student_id, assignment, problem=problem)

    def replace(process: _Process) -> None:
        process.stop()
        processes.remove(process)
        if pending:
            processes.append(_Process(mp, assignment, policy, setup, grade))

    def could_not_start(process: _Process, reason: str) -> Iterator[tuple[Job, SubmissionResult]]:
        nonlocal start_failures
        start_failures += 1
        if start_failures >= MAX_START_FAILURES:
            while pending:
                yield row(pending.popleft(), f"grading process could not start: {reason}")
        replace(process)

    try:
        if work:
            processes.extend(_Process(mp, assignment, policy, setup, grade) for _ in range(count))
        while pending or any(process.job for process in processes):
            for process in processes:
                if process.ready and process.job is None and pending:
                    with contextlib.suppress(OSError):  # it died: noticed below
                        process.give(pending.popleft())
            expires = min((process.expires for process in processes), default=float("inf"))
            wait = None if expires == float("inf") else max(0.0, expires - time.monotonic())
            handles = [process.conn for process in processes] + [p.process.sentinel for p in processes]
            multiprocessing.connection.wait(handles, timeout=wait)
            for process in list(processes):
                message = None
                try:
                    if process.conn.poll():
                        message = process.conn.recv()
                except (EOFError, OSError):  # it is ending: let it, then see below
                    process.process.join(STOP_SECONDS)
                if message is not None and message[0] == "result":
                    job, process.job = process.job, None
                    process.expires = float("inf")
                    yield job, message[1]
                elif message is not None and message[0] == "ready":
                    start_failures = 0
                    process.deadline = deadline or submission_deadline(message[1], policy)
                    process.expires = float("inf")
                elif message is not None and message[0] == "failed":
                    yield from could_not_start(process, visible(message[1]))
                elif not process.process.is_alive():
                    if process.job is not None:
                        yield row(process.job, f"grading process died ({process.exit_reason()})")
                        process.job = None
                        replace(process)
                    else:
                        yield from could_not_start(process, f"it ended ({process.exit_reason()})")
                elif time.monotonic() >= process.expires:
                    if process.job is not None:
                        yield row(process.job, f"grading timed out: no result after {process.deadline:.0f} s")
                        process.job = None
                        replace(process)
                    else:
                        yield from could_not_start(process, f"not ready after {STARTUP_SECONDS:.0f} s")
    finally:
        for process in processes:
            process.ask_to_stop()
        for process in processes:
            process.stop()
