"""Calling a student's functions: each graded function in its own sandboxed session.

A session holds the student's cell for the function under test (or the `def` it is graded from:
autograder.submission), the imports, helper functions and constants of the notebook that cell uses,
and the reference versions of only the graded functions it may call (its hidden-tests cell in the
source notebook names them), so a bug in `zero_pad` costs points only in `zero_pad`, and no session
can assemble the function it is graded on from the reference of another one. No helper is named
like a graded function, and helpers run before the references: none replaces one.

Everything that comes back is student-controlled: feedback quotes an exception by its type, the
line of the student's cell it came from and a short, clipped message, never long text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from autograder.sandbox import CallResult, Sandbox, SessionLoadError
from autograder.submission import Helper, Submission, session_prelude
from autograder.testkit import explain_error
from autograder.text import clip

# What of a student's exception feedback quotes: enough for "operands could not be broadcast
# together with shapes (2,3) (3,2)", too little to carry hidden inputs out.
MESSAGE_CHARS = 100
TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


class StudentError(AssertionError):
    """The student's code could not produce a result; the message says why, for the student, and
    `category` in a few words, for the class report."""

    def __init__(self, message: str = "", category: str = ""):
        super().__init__(message)
        self.category = category


class StudentCallError(StudentError):
    """The student's function raised on the inputs of a test (the feedback names the case)."""


def session_cells(
    target: str,
    student_cell: str,
    reference_cells: dict[str, str],
    may_call: tuple[str, ...] = (),
    imports: str = "",
    helpers: Mapping[str, Helper] | None = None,
) -> list[str]:
    """Cells a session executes, in order (after the worker's own `import numpy as np`): the
    notebook's imports, constants and helper functions the student's cell uses (none named like a
    graded function), the reference of each function the target may call (in notebook order), the
    student's cell."""
    allowed = [source for name, source in reference_cells.items() if name in may_call and name != target]
    graded = {target, *reference_cells}
    return [session_prelude(student_cell, imports, helpers or {}, graded), *allowed, student_cell]


class StudentFunctions:
    """`student.conv_forward(...)` runs the student's conv_forward in its sandboxed session."""

    def __init__(
        self,
        submission: Submission | None,
        reference_cells: dict[str, str],
        sandbox: Sandbox | None,
        problem: str = "",
        may_call: Mapping[str, tuple[str, ...]] | None = None,
        call_timeout: float = 10.0,
        call_cpu_seconds: float = 5.0,
    ):
        self._submission = submission
        self._reference_cells = reference_cells
        self._may_call = dict(may_call or {})
        self._sandbox = sandbox
        self._problem = problem
        self._sessions: dict[str, Any] = {}
        self._call_timeout = call_timeout
        self._call_cpu_seconds = call_cpu_seconds
        # A function that hung once fails its remaining tests at once, so a submission that
        # never returns costs one timeout per function, not one per test.
        self._hung: dict[str, str] = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, args, kwargs).value

    def read_only(self, name: str, *args, **kwargs) -> Any:
        """Call `name` with every input array in memory its process cannot write: a function that
        changes its inputs in place fails this call, whatever it reports."""
        return self.call(name, args, kwargs, read_only=True).value

    def call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        cpu_budget: float | None = None,
        read_only: bool = False,
    ) -> CallResult:
        """Run one call; returns the sandbox's CallResult, raising StudentError unless it is ok
        (or over an explicit `cpu_budget`, which the runtime test reports itself). Every call has
        a CPU budget: `cpu_budget`, or the grader's per-call budget for untimed calls."""
        if name in self._hung:
            raise StudentError(self._hung[name], "did not finish")
        session = self._session(name)
        result = session.call(
            name,
            list(args),
            dict(kwargs),
            cpu_budget_s=self._call_cpu_seconds if cpu_budget is None else cpu_budget,
            wall_timeout_s=self._call_timeout,
            **({"read_only_inputs": True} if read_only else {}),
        )
        if result.status == "cpu_limit" and cpu_budget is not None:
            self._sessions.pop(name, None)
            return result
        if result.status != "ok":
            self._sessions.pop(name, None)  # a failed session is not reused
            message = describe_failure(name, result, self._call_cpu_seconds)
            if result.status == "timeout":
                self._hung[name] = f"{message} (on an earlier test; not run again)"
            unfinished = getattr(result, "error_type", "") == "NotImplementedError"
            error = StudentCallError if result.status == "error" and not unfinished else StudentError
            raise error(message, failure_category(result))
        return result

    def _session(self, name: str):
        if self._problem:
            raise StudentError(self._problem, "not graded")
        if name not in self._reference_cells:
            raise StudentError(f"{name} is not a graded function of this assignment")
        if name not in self._submission.cells:
            raise StudentError(
                f"no cell starting with '# GRADED FUNCTION: {name}', and no top-level `def {name}` in a "
                "code cell, was found in the notebook",
                "missing",
            )
        session = self._sessions.get(name)
        if session is None:
            may_call = self._may_call.get(name, ())
            submission = self._submission
            cells = session_cells(
                name,
                submission.cells[name],
                self._reference_cells,
                may_call,
                submission.imports,
                submission.helpers,
            )
            try:
                session = self._sandbox.session(cells, target=name, pin=list(may_call))
            except SessionLoadError as error:
                reason = quote_error(error)
                raise StudentError(
                    f"the cell of {name} failed when run on its own: {reason}", "its cell failed"
                ) from None
            self._sessions[name] = session
        return session

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()


def quote_error(error: CallResult | SessionLoadError) -> str:
    """`ValueError at line 12 of its cell: operands could not be ...`: the type, where in the
    student's cell, and a clipped first line of the message. Every field comes from the student's
    process, so each is bounded: the type must look like a class name, the line like a line
    number, and the source line itself is not quoted (the student has it)."""
    kind = getattr(error, "error_type", "")
    kind = kind if isinstance(kind, str) and TYPE_NAME.fullmatch(kind) else "an exception"
    line = getattr(error, "error_line", None)
    message = clip(getattr(error, "error_message", ""), MESSAGE_CHARS)
    where = f" at line {line} of its cell" if type(line) is int and 0 < line < 1_000_000 else ""
    return f"{kind}{where}" + (f": {message}" if message else "")


def failure_category(result: CallResult) -> str:
    """A failed call in a few words, for the class report."""
    kind = getattr(result, "error_type", "")
    if result.status == "error":
        if kind == "NotImplementedError":
            return "not implemented"
        if getattr(result, "wrote_input", False):
            return "changed its input in place"
        return (
            f"raised {kind}" if isinstance(kind, str) and TYPE_NAME.fullmatch(kind) else "raised an exception"
        )
    return {
        "timeout": "did not finish",
        "cpu_limit": "over the CPU budget",
        "crashed": "crashed",
        "protocol": "broke the connection",
    }.get(str(result.status), "failed")


def describe_failure(name: str, result: CallResult, cpu_seconds: float) -> str:
    if result.status == "error" and getattr(result, "wrote_input", False):
        return (
            f"{name} changed its input in place ({quote_error(result)}); the caller still needs its "
            "inputs (a cache, an upstream gradient): work on a copy, e.g. `dZ = dZ.copy()`"
        )
    if result.status == "error" and getattr(result, "error_type", "") == "NotImplementedError":
        return f"{name} is not implemented: replace `raise NotImplementedError()` with your code"
    kind, message = getattr(result, "error_type", ""), getattr(result, "error_message", "")
    meaning = explain_error(clip(str(kind), 40), clip(str(message), MESSAGE_CHARS))
    messages = {
        "error": f"{name} raised {quote_error(result)}" + (f"; {meaning}" if meaning else ""),
        "timeout": f"{name} did not finish within {result.wall_seconds:.0f} s",
        "cpu_limit": f"{name} used more than {cpu_seconds:g} s of CPU time on one call (small inputs)",
        "crashed": f"{name} crashed the process running it ({clip(result.error or 'killed', MESSAGE_CHARS)})",
        "protocol": f"{name} broke the connection to the grader ({clip(result.error or '', MESSAGE_CHARS)})",
    }
    return messages.get(result.status, f"{name} failed ({clip(result.status, 20)})")
