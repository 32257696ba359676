"""Grade submissions in processes on this machine, each submission with a deadline.

A grading process that dies or exceeds its deadline costs only the submission it was grading: its
student gets a row saying so, and a fresh process grades the rest. Processes that cannot start
(a broken course) are replaced too, until MAX_START_FAILURES in a row: then every submission left
gets a row saying why.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from autograder.course import Assignment
from autograder.grade import grade_bytes, process_context
from autograder.intake import Job, read_job
from autograder.results import SubmissionResult, failed_row
from autograder.runtime import RuntimePolicy
from autograder.text import visible

STARTUP_SECONDS = 300.0  # for a grading process to build its context (measured: a few seconds)
# Per submission, on top of its hidden tests' calls (see submission_deadline): pytest's start,
# loading each function's session, a sandbox restart or two.
SUBMISSION_OVERHEAD_SECONDS = 60.0
STOP_SECONDS = 5.0  # for a stopped grading process to close its sandboxes before it is killed
MAX_START_FAILURES = 3  # grading processes in a row that could not start: the course is broken

Graded = Iterator[tuple[Job, SubmissionResult]]  # (job, its result), as they come


def submission_deadline(tests: int, policy: RuntimePolicy) -> float:
    """Seconds a grading process may spend on one submission before it is stopped. Every call of
    a student's function is stopped at the call timeout (and a function that hung is not called
    again), and a hidden test makes a few calls (a runtime test repeats + 1 timed runs): allowing
    each test repeats + 1 calls that all run until the timeout, plus the overhead, is far above
    any honest submission (conv_step_by_step: 1,500 s for its 48 tests; the slowest bundled
    example takes 3 s) and still ends a grading process that hangs."""
    return SUBMISSION_OVERHEAD_SECONDS + max(tests, 1) * (policy.repeats + 1) * policy.call_timeout_seconds


def start_grading(assignment: Assignment, policy: RuntimePolicy):
    """A grading process's setup: its GradingContext, and how many hidden tests it runs."""
    context = process_context(assignment, policy)
    return context, len(context.hidden_tests)


@dataclass(frozen=True)
class LocalProcesses:
    """The executor that grades on this machine: `jobs` grading processes (default: one per core)."""

    jobs: int | None = None

    def grade(self, assignment: Assignment, work: list[Job], policy: RuntimePolicy) -> Graded:
        return grade_on_local_cores(assignment, work, self.jobs, policy)


def grade_on_local_cores(
    assignment: Assignment,
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
    _one_blas_thread_per_process()
    dispatcher = _Dispatcher(assignment, work, policy, deadline, setup, grade)
    try:
        if work:
            dispatcher.start(count)
        while dispatcher.unfinished:
            dispatcher.give_work_to_idle_processes()
            dispatcher.wait()
            yield from dispatcher.handle_every_process()
    finally:
        dispatcher.stop_every_process()


def _one_blas_thread_per_process() -> None:
    """Each grading process computes expected values with numpy: one BLAS thread each, since the
    processes already fill the cores (and multi-threaded BLAS stalls badly on a busy machine)."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


def _serve(conn, assignment: Assignment, policy: RuntimePolicy, setup: Callable, grade: Callable) -> None:
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


class _GradingProcess:
    """One grading process, and the submission it is grading."""

    def __init__(self, mp, assignment: Assignment, policy: RuntimePolicy, setup: Callable, grade: Callable):
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

    @property
    def idle(self) -> bool:
        return self.ready and self.job is None

    def give(self, job: Job) -> None:
        data, problem = read_job(job)
        self.job = job
        self.expires = time.monotonic() + self.deadline
        self.conn.send((job.student_id, data, problem))

    def receive(self) -> tuple | None:
        """The message it sent, if any."""
        try:
            if self.conn.poll():
                return self.conn.recv()
        except (EOFError, OSError):  # it is ending: let it, then its death is handled
            self.process.join(STOP_SECONDS)
        return None

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


class _Dispatcher:
    """The grading processes of one batch, and the submissions not yet handed to one."""

    def __init__(
        self,
        assignment: Assignment,
        work: list[Job],
        policy: RuntimePolicy,
        deadline: float | None,
        setup: Callable,
        grade: Callable,
    ):
        self.assignment = assignment
        self.policy = policy
        self.deadline = deadline  # None: submission_deadline for the hidden tests
        self.setup = setup
        self.grade = grade
        self.mp = multiprocessing.get_context("spawn")
        self.pending = deque(work)
        self.processes: list[_GradingProcess] = []
        self.start_failures = 0  # in a row

    def start(self, count: int) -> None:
        self.processes.extend(self._new_process() for _ in range(count))

    @property
    def unfinished(self) -> bool:
        return bool(self.pending) or any(process.job is not None for process in self.processes)

    def give_work_to_idle_processes(self) -> None:
        for process in self.processes:
            if process.idle and self.pending:
                with contextlib.suppress(OSError):  # it died: handled with its death
                    process.give(self.pending.popleft())

    def wait(self) -> None:
        """Until a process sends a message or ends, or the first deadline passes."""
        expires = min((process.expires for process in self.processes), default=math.inf)
        timeout = None if expires == math.inf else max(0.0, expires - time.monotonic())
        handles = [process.conn for process in self.processes]
        handles += [process.process.sentinel for process in self.processes]
        multiprocessing.connection.wait(handles, timeout=timeout)

    def handle_every_process(self) -> Graded:
        for process in list(self.processes):  # a copy: _replace changes the list
            yield from self._handle(process)

    def stop_every_process(self) -> None:
        for process in self.processes:  # first, so that they close their sandboxes in parallel
            process.ask_to_stop()
        for process in self.processes:
            process.stop()

    def _handle(self, process: _GradingProcess) -> Graded:
        """Act on what became of the process: a message, else its death, else its deadline passing."""
        message = process.receive()
        kind = message[0] if message is not None else None
        if kind == "result":
            yield self._graded(process, message[1])
        elif kind == "ready":
            self._ready(process, message[1])
        elif kind == "failed":
            yield from self._could_not_start(process, visible(message[1]))
        elif not process.process.is_alive():
            yield from self._died(process)
        elif time.monotonic() >= process.expires:
            yield from self._expired(process)

    def _graded(self, process: _GradingProcess, result: SubmissionResult) -> tuple[Job, SubmissionResult]:
        job, process.job = process.job, None
        process.expires = math.inf
        return job, result

    def _ready(self, process: _GradingProcess, tests: int) -> None:
        self.start_failures = 0
        process.deadline = self.deadline or submission_deadline(tests, self.policy)
        process.expires = math.inf

    def _died(self, process: _GradingProcess) -> Graded:
        if process.job is not None:
            yield from self._lose_submission(process, f"grading process died ({process.exit_reason()})")
        else:
            yield from self._could_not_start(process, f"it ended ({process.exit_reason()})")

    def _expired(self, process: _GradingProcess) -> Graded:
        if process.job is not None:
            reason = f"grading timed out: no result after {process.deadline:.0f} s"
            yield from self._lose_submission(process, reason)
        else:
            yield from self._could_not_start(process, f"not ready after {STARTUP_SECONDS:.0f} s")

    def _lose_submission(self, process: _GradingProcess, problem: str) -> Graded:
        """Its submission's row says what happened; a fresh process grades the rest."""
        yield self._row(process.job, problem)
        process.job = None
        self._replace(process)

    def _could_not_start(self, process: _GradingProcess, reason: str) -> Graded:
        """Try a fresh process, unless processes keep failing: then the course is broken, and
        every submission left gets a row saying why."""
        self.start_failures += 1
        if self.start_failures >= MAX_START_FAILURES:
            while self.pending:
                yield self._row(self.pending.popleft(), f"grading process could not start: {reason}")
        self._replace(process)

    def _replace(self, process: _GradingProcess) -> None:
        process.stop()
        self.processes.remove(process)
        if self.pending:
            self.processes.append(self._new_process())

    def _new_process(self) -> _GradingProcess:
        return _GradingProcess(self.mp, self.assignment, self.policy, self.setup, self.grade)

    def _row(self, job: Job, problem: str) -> tuple[Job, SubmissionResult]:
        return job, failed_row(job.student_id, self.assignment.name, problem)
