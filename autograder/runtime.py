"""Runtime as a scored test: the student's CPU time against the reference's, measured side by side.

Both run in identical sandboxes (single-threaded BLAS) and the grader reads their CPU clocks from
outside, so nothing the student's process does to its own clocks counts, and a machine busy with
other work slows both alike. Calls interleave reference and student; the minimum of several runs
of each is compared. Every timed call runs in a fresh session, on both sides, and every result is
checked: a submission cannot answer the repeated calls from what an earlier one computed (a memo,
or a fast wrong answer once the first one was right). A call that exceeds its budget is killed at
once, so a slow submission costs the grader little more than the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograder.checks import Mismatch
from autograder.reference import fingerprint
from autograder.sandbox import Sandbox
from autograder.student import StudentError, StudentFunctions


@dataclass(frozen=True)
class RuntimePolicy:
    factor: float = 10.0  # allowed CPU time, as a multiple of the reference's
    repeats: int = 2  # timed runs after the first; the fastest of all counts
    slack_seconds: float = 0.003  # per-call allowance so tiny operations do not fail on overhead
    first_call_factor: float = 3.0  # the first call may also pay one-off costs (imports, caches)


class RuntimeJudge:
    def __init__(self, policy: RuntimePolicy, reference_cells: dict[str, str], sandbox: Sandbox):
        self.policy = policy
        self._reference_cells = reference_cells
        self._sandbox = sandbox
        # The reference's timings of each timed input, over this grading process: the first
        # submission measures it several times, interleaved with the student's runs; every later
        # one adds a fresh measurement, so each verdict still rests on a side-by-side run.
        self._history: dict[str, list[float]] = {}

    def _reference_seconds(self, name: str, args: tuple, kwargs: dict) -> float:
        """One timed call of the reference, in a fresh session like the student's."""
        cells = list(self._reference_cells.values())
        with self._sandbox.session(cells, target=name, pin=[]) as session:
            result = session.call(name, list(args), dict(kwargs), wall_timeout_s=60.0)
        if result.status != "ok":
            raise RuntimeError(f"the reference {name} failed in its sandbox: {result.status} {result.error}")
        return result.cpu_seconds

    def check(
        self, student: StudentFunctions, name: str, args: tuple, kwargs: dict, verify: Callable[[Any], None]
    ) -> str:
        """Raise Mismatch unless the student's result is right and within the time limit;
        returns a one-line report of the measured ratio."""
        policy = self.policy
        reference = self._history.setdefault(fingerprint((name, args, kwargs)), [])
        reference.append(self._reference_seconds(name, args, kwargs))
        budget = policy.factor * min(reference) * policy.first_call_factor + policy.slack_seconds
        first = student.call(name, args, kwargs, cpu_budget=budget, fresh=True)
        self._raise_if_over(first, reference, name)
        _verify(verify, first.value)
        timings = [first.cpu_seconds]
        for _ in range(policy.repeats):
            if len(reference) <= policy.repeats:
                reference.append(self._reference_seconds(name, args, kwargs))
            budget = policy.factor * min(reference) + policy.slack_seconds
            result = student.call(name, args, kwargs, cpu_budget=budget, fresh=True)
            self._raise_if_over(result, reference, name)
            _verify(verify, result.value)
            timings.append(result.cpu_seconds)
        ratio = min(timings) / min(reference)
        if min(timings) > policy.factor * min(reference) + policy.slack_seconds:
            raise Mismatch(f"slower than the limit: {ratio:.1f}× the reference, limit {policy.factor:g}×")
        return f"{ratio:.1f}× the reference's time (limit {policy.factor:g}×)"

    def _raise_if_over(self, result, reference: list[float], name: str) -> None:
        if result.status == "cpu_limit":
            ratio = result.cpu_seconds / min(reference)
            raise Mismatch(
                f"slower than the limit: stopped after {ratio:.0f}× the reference's time, "
                f"limit {self.policy.factor:g}× (a vectorized {name} fits easily)"
            )


def _verify(verify: Callable[[Any], None], value: Any) -> None:
    try:
        verify(value)
    except (Mismatch, StudentError) as wrong:
        raise Mismatch(f"runtime points require a correct result, and this one is not: {wrong}") from None
