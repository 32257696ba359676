"""Runtime as a scored test: the student's CPU time against the reference's, measured side by side.

Both run in identical sandboxes (single-threaded BLAS) and the grader reads their CPU clocks from
outside, so nothing the student's process does to its own clocks counts, and a machine busy with
other work slows both alike. Timed runs interleave reference and student; the minimum of several
runs of each is compared. Every timed run gets inputs of its own (same sizes, different values) and
every result is checked, so no run can be answered from what an earlier one computed (a memo, or a
fast wrong answer once the first one was right). A call that exceeds its budget is killed at once,
so a slow submission costs the grader little more than its budgets; and one run killed at its
budget (a busy moment) is not the verdict: the fastest of the runs that finished counts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograder.checks import Mismatch
from autograder.sandbox import Sandbox, Session
from autograder.student import StudentError, StudentFunctions

SLOW = "over the time limit"  # the categories of a runtime test's failures, for the class report
WRONG_WHEN_TIMED = "wrong result when timed"


@dataclass(frozen=True)
class Timing:
    """A passed runtime test: what it says, and the measured ratio to the reference's time."""

    report: str
    ratio: float


@dataclass(frozen=True)
class RuntimePolicy:
    """The grading settings a grade depends on; made by autograder.settings.Autograder.policy(),
    whose traits document each field and hold its default."""

    factor: float  # allowed CPU time, as a multiple of the reference's
    repeats: int  # timed runs after the first; the fastest of all counts
    slack_seconds: float  # per-call allowance so tiny operations do not fail on overhead
    first_call_factor: float  # the first call may also pay one-off costs (growing the heap)
    call_cpu_seconds: float  # the budget of every untimed call (the hidden tests' inputs are small)
    call_timeout_seconds: float  # the wall-clock backstop of every call


@dataclass(frozen=True)
class TimedCall:
    """The inputs of one timed run, and the check its result must pass."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    verify: Callable[[Any], None] = lambda _: None


class RuntimeJudge:
    def __init__(self, policy: RuntimePolicy, reference_cells: dict[str, str], sandbox: Sandbox):
        self.policy = policy
        self._reference_cells = reference_cells
        self._sandbox = sandbox
        self._session: Session | None = None  # one session holds the whole reference
        # The reference's latest timings of each runtime test in this grading process: the first
        # submission measures it on every run, interleaved with the student's; every later one
        # replaces the oldest with a fresh measurement, so each verdict rests on a side-by-side
        # run, and the reference's minimum, like the student's, is over repeats + 1 runs (a
        # minimum over every submission so far would favour the early students).
        self._history: dict[str, deque[float]] = {}

    def _reference_seconds(self, name: str, call: TimedCall) -> float:
        """One timed call of the reference, in a sandbox like the student's."""
        if self._session is None:
            self._session = self._sandbox.session(list(self._reference_cells.values()), target=None)
        result = self._session.call(name, list(call.args), dict(call.kwargs), wall_timeout_s=60.0)
        if result.status != "ok":
            raise RuntimeError(f"the reference {name} failed in its sandbox: {result.status} {result.error}")
        return result.cpu_seconds

    def check(self, student: StudentFunctions, name: str, calls: list[TimedCall], key: str) -> Timing:
        """Raise Mismatch unless every timed run of the student's function is right and the
        fastest is within the time limit; returns the Timing: a one-line report and the measured ratio.

        calls: the inputs of each timed run (policy.repeats + 1 of them), each with values of its
        own; key: names the runtime test, whose reference timings this process remembers."""
        policy = self.policy
        reference = self._history.setdefault(key, deque(maxlen=policy.repeats + 1))
        timings, stopped = [], []
        for run, call in enumerate(calls):
            if run == 0 or len(reference) < len(calls):
                reference.append(self._reference_seconds(name, call))
            factor = policy.factor * (policy.first_call_factor if run == 0 else 1.0)
            budget = factor * min(reference) + policy.slack_seconds
            result = student.call(name, call.args, call.kwargs, cpu_budget=budget)
            if result.status == "cpu_limit":  # killed at its budget; one slow run is not the verdict
                stopped.append(result.cpu_seconds)
                continue
            _verify(call.verify, result.value)
            timings.append(result.cpu_seconds)
        if not timings:
            self._raise_stopped(min(stopped), reference, name)
        ratio = min(timings) / min(reference)
        if min(timings) > policy.factor * min(reference) + policy.slack_seconds:
            raise Mismatch(
                f"slower than the limit: {ratio:.1f}× the reference, limit {policy.factor:g}×",
                SLOW,
                ratio=ratio,
            )
        return Timing(f"{ratio:.1f}× the reference's time (limit {policy.factor:g}×)", ratio)

    def _raise_stopped(self, seconds: float, reference: deque[float], name: str) -> None:
        """Every timed run was over its budget."""
        ratio = seconds / min(reference)
        raise Mismatch(
            f"slower than the limit: stopped after {ratio:.0f}× the reference's time, "
            f"limit {self.policy.factor:g}× (a vectorized {name} fits easily)",
            SLOW,
            ratio=ratio,
        )


def _verify(verify: Callable[[Any], None], value: Any) -> None:
    try:
        verify(value)
    except (Mismatch, StudentError) as wrong:
        raise Mismatch(
            f"runtime points require a correct result, and this one is not: {wrong}",
            WRONG_WHEN_TIMED,
        ) from None
