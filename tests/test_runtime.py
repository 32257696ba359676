"""The runtime verdict, with the sandbox's clocks replaced by scripted timings."""

import pytest

from autograder.checks import Mismatch
from autograder.runtime import RuntimeJudge, TimedCall
from autograder.sandbox import CallResult
from autograder.settings import default_policy


class ScriptedStudent:
    """Answers each call with its inputs' tag and a scripted CPU time (None: over the budget)."""

    def __init__(self, seconds):
        self.seconds = list(seconds)
        self.budgets = []

    def call(self, name, args, kwargs, cpu_budget=None):
        self.budgets.append(cpu_budget)
        used = self.seconds.pop(0)
        if used > cpu_budget:  # killed as soon as it is over
            return CallResult("cpu_limit", cpu_seconds=cpu_budget)
        return CallResult("ok", value=args[0], cpu_seconds=used)


def judge_with_reference(seconds):
    judge = RuntimeJudge(
        default_policy(runtime_factor=10, runtime_repeats=2, runtime_slack_seconds=0.0), {}, sandbox=None
    )
    timings = iter(seconds)
    judge._reference_seconds = lambda name, call: next(timings)
    return judge


def calls():
    """Three timed runs, each with its own input; a result must echo its own run's input."""

    def verify(run):
        def check(value):
            if value != run:
                raise Mismatch(f"answered run {value} instead of run {run}")

        return check

    return [TimedCall((run,), verify=verify(run)) for run in range(3)]


def test_first_submission_measures_the_reference_on_every_run_later_ones_once():
    judge = judge_with_reference([1.0, 1.0, 1.0, 1.0])
    judge.check(ScriptedStudent([2.0, 2.0, 2.0]), "f", calls(), key="t")
    judge.check(ScriptedStudent([2.0, 2.0, 2.0]), "f", calls(), key="t")
    with pytest.raises(StopIteration):  # a third submission needs exactly one more measurement
        judge.check(ScriptedStudent([2.0, 2.0, 2.0]), "f", calls(), key="t")


def test_an_early_lucky_reference_run_does_not_hold_later_students_to_it():
    # the second submission's reference run is 10x faster than usual; three submissions later it
    # has left the window of the latest repeats + 1 runs
    judge = judge_with_reference([1.0, 1.0, 1.0, 0.1, 1.0, 1.0, 1.0])
    verdicts = []
    for _ in range(5):
        try:
            verdicts.append(judge.check(ScriptedStudent([5.0, 5.0, 5.0]), "f", calls(), key="t").report)
        except Mismatch as error:
            verdicts.append(str(error))
    assert verdicts[0].startswith("5.0× the reference")
    assert all("slower than the limit" in verdict for verdict in verdicts[1:4])
    assert verdicts[4].startswith("5.0× the reference")


def test_the_first_run_gets_a_larger_budget_and_runs_over_budget_fail():
    judge = judge_with_reference([1.0, 1.0, 1.0])
    student = ScriptedStudent([25.0, 12.0, 12.0])
    with pytest.raises(Mismatch, match="slower than the limit: 25.0× the reference, limit 10×"):
        judge.check(student, "f", calls(), key="t")
    assert student.budgets == [30.0, 10.0, 10.0]
    judge = judge_with_reference([1.0, 1.0, 1.0])
    with pytest.raises(Mismatch, match="stopped after 10× the reference's time, limit 10×"):
        judge.check(ScriptedStudent([31.0, 12.0, 12.0]), "f", calls(), key="t")


def test_one_run_killed_at_its_budget_is_not_the_verdict():
    # a busy moment slows one run past its budget; the fastest of the others counts
    judge = judge_with_reference([1.0, 1.0, 1.0])
    assert judge.check(ScriptedStudent([2.0, 50.0, 2.0]), "f", calls(), key="t").ratio == 2.0


def test_every_run_must_be_right_for_its_own_input():
    judge = judge_with_reference([1.0, 1.0, 1.0])

    class RemembersTheFirstAnswer(ScriptedStudent):
        def call(self, name, args, kwargs, cpu_budget=None):
            result = super().call(name, args, kwargs, cpu_budget)
            return CallResult("ok", value=0, cpu_seconds=result.cpu_seconds)

    with pytest.raises(Mismatch, match="runtime points require a correct result.*instead of run 1"):
        judge.check(RemembersTheFirstAnswer([1.0, 0.1, 0.1]), "f", calls(), key="t")
