"""Calling a student's functions: each graded function in its own sandboxed session.

A session holds the reference versions of every other graded function and the student's cell
for the one under test, so a bug in `zero_pad` costs points only in `zero_pad`, and no process
that runs student code ever holds the reference of the function being graded.
"""

from __future__ import annotations

from typing import Any

from autograder.sandbox import Sandbox, SessionLoadError
from autograder.submission import Submission, imports_for


class StudentError(AssertionError):
    """The student's code could not produce a result; the message says why, for the student."""


def session_cells(
    target: str, student_cell: str, reference_cells: dict[str, str], imports: str = ""
) -> list[str]:
    """Cells a session executes, in order (after the worker's own `import numpy as np`): the
    notebook's imports the student's cell uses, the reference for the others, the student's cell."""
    others = [source for name, source in reference_cells.items() if name != target]
    return [imports_for(student_cell, imports), *others, student_cell]


class StudentFunctions:
    """`student.conv_forward(...)` runs the student's conv_forward in its sandboxed session."""

    def __init__(
        self,
        submission: Submission | None,
        reference_cells: dict[str, str],
        sandbox: Sandbox | None,
        problem: str = "",
        call_timeout: float = 10.0,
    ):
        self._submission = submission
        self._reference_cells = reference_cells
        self._sandbox = sandbox
        self._problem = problem
        self._sessions: dict[str, Any] = {}
        self._call_timeout = call_timeout
        # A function that hung once fails its remaining tests at once, so a submission that
        # never returns costs one timeout per function, not one per test.
        self._hung: dict[str, str] = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, args, kwargs).value

    def with_inputs(self, name: str, *args, **kwargs) -> tuple[Any, list]:
        """Call `name`; return its result and its positional inputs as the function left them."""
        value = self.call(name, args, kwargs, return_inputs=True).value
        if not isinstance(value, dict) or "result" not in value:
            raise StudentError(f"{name} broke the connection to the grader (a malformed reply)")
        return value["result"], value["args"]

    def call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        cpu_budget: float | None = None,
        return_inputs: bool = False,
    ):
        """Run one call; returns the sandbox's CallResult, raising StudentError unless it is ok
        (or merely over `cpu_budget`, which the runtime test reports itself)."""
        if name in self._hung:
            raise StudentError(self._hung[name])
        session = self._session(name)
        result = session.call(
            name,
            list(args),
            dict(kwargs),
            cpu_budget_s=cpu_budget,
            wall_timeout_s=self._call_timeout,
            return_inputs=return_inputs,
        )
        if result.status == "cpu_limit" and cpu_budget is not None:
            self._sessions.pop(name, None)
            return result
        if result.status != "ok":
            self._sessions.pop(name, None)  # a failed session is not reused
            message = describe_failure(name, result)
            if result.status == "timeout":
                self._hung[name] = f"{message} (on an earlier test; not run again)"
            raise StudentError(message)
        return result

    def _session(self, name: str):
        if self._problem:
            raise StudentError(self._problem)
        if name not in self._reference_cells:
            raise StudentError(f"{name} is not a graded function of this assignment")
        if name not in self._submission.cells:
            raise StudentError(f"no cell starting with '# GRADED FUNCTION: {name}' was found in the notebook")
        session = self._sessions.get(name)
        if session is None:
            cells = session_cells(
                name, self._submission.cells[name], self._reference_cells, self._submission.imports
            )
            others = [other for other in self._reference_cells if other != name]
            try:
                session = self._sandbox.session(cells, target=name, pin=others)
            except SessionLoadError as error:
                raise StudentError(f"the cell of {name} failed when run on its own: {error.error}") from None
            self._sessions[name] = session
        return session

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()


def describe_failure(name: str, result) -> str:
    messages = {
        "error": f"{name} raised {result.error}",
        "timeout": f"{name} did not finish within {result.wall_seconds:.0f} s",
        "cpu_limit": f"{name} used more CPU time than allowed",
        "crashed": f"{name} crashed the process running it ({result.error or 'killed'})",
        "protocol": f"{name} broke the connection to the grader ({result.error})",
    }
    return messages.get(result.status, f"{name} failed: {result.error}")
