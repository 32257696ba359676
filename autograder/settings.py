"""The grader's settings, configured in `nbgrader_config.py` like nbgrader's own.

    c.Autograder.runtime_factor = 10
    c.Autograder.call_timeout_seconds = 10

`Autograder` is the one source of every default: `autograder grade`, `nbgrader autograde`, the
Dask workers and the release (which tells students the limits, see `limits`) all read it from the
course's configuration. A command-line flag may override a setting for one run.
"""

from __future__ import annotations

from traitlets import Float, Int, TraitError, validate
from traitlets.config import Configurable

from autograder.runtime import RuntimePolicy


class Autograder(Configurable):
    """Limits of grading: how long a student's function may take, and how it is timed."""

    runtime_factor = Float(
        10.0, help="Allowed CPU time of a timed run, as a multiple of the reference's"
    ).tag(config=True)
    runtime_repeats = Int(2, help="Timed runs after the first; the fastest of all counts").tag(config=True)
    runtime_slack_seconds = Float(
        0.003, help="Allowance per timed call, so that tiny operations do not fail on overhead"
    ).tag(config=True)
    first_call_factor = Float(
        3.0,
        help="The first timed run may take this many times the limit (one-off costs: growing the heap)",
    ).tag(config=True)
    call_cpu_seconds = Float(5.0, help="CPU budget of every untimed call of a student's function").tag(
        config=True
    )
    call_timeout_seconds = Float(10.0, help="Wall-clock backstop of every call of a student's function").tag(
        config=True
    )
    jobs = Int(0, help="Grading processes on this machine; 0: one per core").tag(config=True)

    @validate("runtime_factor", "first_call_factor", "call_cpu_seconds", "call_timeout_seconds")
    def _positive(self, proposal):
        if proposal["value"] <= 0:
            raise TraitError(
                f"Autograder.{proposal['trait'].name} must be greater than 0, got {proposal['value']:g}"
            )
        return proposal["value"]

    @validate("runtime_repeats", "jobs")
    def _not_negative(self, proposal):
        if proposal["value"] < 0:
            raise TraitError(
                f"Autograder.{proposal['trait'].name} must be at least 0, got {proposal['value']}"
            )
        return proposal["value"]

    def policy(self) -> RuntimePolicy:
        """The settings a grade depends on, as the value grading processes share."""
        return RuntimePolicy(
            factor=self.runtime_factor,
            repeats=self.runtime_repeats,
            slack_seconds=self.runtime_slack_seconds,
            first_call_factor=self.first_call_factor,
            call_cpu_seconds=self.call_cpu_seconds,
            call_timeout_seconds=self.call_timeout_seconds,
        )

    def limits(self) -> dict[str, float]:
        """What students are told (the release's limits.json, read by the public tests)."""
        return {
            "runtime_factor": self.runtime_factor,
            "runtime_repeats": self.runtime_repeats,
            "call_cpu_seconds": self.call_cpu_seconds,
            "call_timeout_seconds": self.call_timeout_seconds,
        }


def default_policy(**settings: float) -> RuntimePolicy:
    """The policy of the default settings, with `settings` (Autograder trait names) changed."""
    return Autograder(**settings).policy()
