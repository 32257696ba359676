"""Sessions and what their calls return: a `Session` is one forked child holding one namespace of
cells, `Session.call` runs a function there on inputs the grader chooses and returns a
`CallResult` of plain data with the CPU time the child used, measured from outside, and a
`Status`. Every field of a reply may have been forged by the session, so each is taken only if
it has the expected type, and cut to its length again."""

from __future__ import annotations

import enum
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autograder.sandbox import wire
from autograder.sandbox.errors import SandboxError
from autograder.sandbox.procfs import EXIT_TIMEOUT_S
from autograder.sandbox.zygote import Child, Outcome, Zygote

if TYPE_CHECKING:
    from autograder.sandbox.sandbox import Sandbox

# Bounds on the structured error fields, applied again here: the session may have forged them.
ERROR_CHARS, TRACEBACK_CHARS = 1000, 8000
ERROR_TYPE_CHARS, ERROR_MESSAGE_CHARS, ERROR_SOURCE_CHARS = 60, 200, 120


class Status(enum.StrEnum):
    """How a call or a load ended; each compares equal to (and encodes as) its string."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    CPU_LIMIT = "cpu_limit"
    CRASHED = "crashed"
    PROTOCOL = "protocol"


@dataclass(eq=False, repr=False)
class SessionLoadError(SandboxError):
    """The session's cells could not be loaded: a cell raised, timed out or crashed.

    error_type, error_message, error_line and error_source: as in CallResult.
    """

    status: Status
    error: str
    traceback: str = ""
    error_type: str = ""
    error_message: str = ""
    error_line: int | None = None
    error_source: str = ""

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        super().__init__(self.error)


@dataclass(frozen=True)
class CallResult:
    """What one call returned: plain data, never an object of the student's.

    On status "error", error_type is the exception type's name, error_message the first
    line of its message, error_line and error_source the innermost line of the student's
    cell it went through (None and "" if none): short, and only as true as the session
    that sent them. wrote_input: it failed writing into a read-only input.
    """

    status: Status
    value: Any = None
    error: str | None = None
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    traceback: str = ""
    error_type: str = ""
    error_message: str = ""
    error_line: int | None = None
    error_source: str = ""
    wrote_input: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))

    @property
    def ok(self) -> bool:
        return self.status == Status.OK


class Session:
    """One forked child holding one namespace of cells; calls run there, one at a time.

    If the child dies (a crash, a limit, a timeout), the next call transparently forks
    a fresh session from the same cells first: state never carries over between calls
    anyway, since inputs are sent afresh each time. `output` holds what the student's
    code printed (at most output_bytes), filled in each time the session child ends.
    """

    def __init__(self, sandbox: Sandbox, cells: list[str], target: str | None, pin: list[str]) -> None:
        self._sandbox = sandbox
        self._zygote: Zygote | None = None
        self._request = {"op": "session", "cells": cells, "target": target, "pin": pin}
        self._child: Child | None = None
        self.output = ""

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self, timeout: float) -> None:
        """Fork the session child and load the cells (SessionLoadError when that fails)."""
        zygote = self._zygote = self._sandbox.attach(self)
        ident = secrets.randbits(63)
        start = time.monotonic()
        if not zygote.send({**self._request, "id": ident}, start + timeout):
            raise SessionLoadError(Status.PROTOCOL, "could not send the session request")
        outcome = zygote.wait(ident, None, start + timeout)
        self._child = outcome.child
        message = outcome.message if isinstance(outcome.message, dict) else {}
        if outcome.kind == "reply" and message.get("ok") is True and message.get("stage") == "load":
            self._child = self._child or zygote.session_child()
            if self._child is None:
                self._finish_outcome(Outcome("protocol"))
                raise SessionLoadError(Status.CRASHED, "the session process vanished after loading")
            return
        if outcome.kind == "reply":
            self._finish(kill=False)
            raise SessionLoadError(
                Status.ERROR,
                _text(message.get("error"), ERROR_CHARS) or "bad load reply",
                _text(message.get("traceback"), TRACEBACK_CHARS),
                **_error_fields(message),
            )
        self._finish_outcome(outcome)
        raise SessionLoadError(
            _status_of(outcome), _describe_outcome(outcome, "loading the cells", wall=timeout)
        )

    def call(
        self,
        name: str,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
        cpu_budget_s: float | None = None,
        wall_timeout_s: float | None = None,
        read_only_inputs: bool = False,
    ) -> CallResult:
        """Call name(*args, **kwargs) in the session; CPU time is measured from outside.

        cpu_budget_s: the session child is killed as soon as its CPU time for this call
        exceeds it (status "cpu_limit"); wall_timeout_s is a backstop (status "timeout").
        read_only_inputs: the function gets every array in memory the session cannot make
        writable, lists as tuples and dicts as read-only mappings; writing into one fails
        the call (CallResult.wrote_input when numpy refused the write, "crashed" when a
        raw write faulted). The grader's own inputs are never changed either way.
        """
        wall = self._sandbox.wall_timeout if wall_timeout_s is None else wall_timeout_s
        if self._child is None or self._sandbox.attached is not self:
            try:
                self.open(wall)
            except SessionLoadError as error:
                return CallResult(error.status, error=f"the session could not be restarted: {error}")
        child, zygote = self._child, self._zygote
        assert child is not None and zygote is not None
        ident = secrets.randbits(63)
        request = {"op": "call", "id": ident, "name": name, "args": list(args), "kwargs": dict(kwargs or {})}
        if read_only_inputs:
            request["read_only_inputs"] = True
        start = time.monotonic()
        cpu_start = child.cpu()
        try:
            sent = zygote.send(request, start + wall)
        except wire.WireError as error:
            return CallResult(Status.ERROR, error=f"arguments cannot be sent: {error}")
        if not sent:
            self._finish_outcome(Outcome("protocol"))
            return CallResult(
                Status.PROTOCOL, error="could not send the call", wall_seconds=time.monotonic() - start
            )
        outcome = zygote.wait(ident, child, start + wall, cpu_budget_s, cpu_start)
        wall_seconds = time.monotonic() - start
        if outcome.kind == "reply":
            return _result_of_reply(outcome, wall_seconds)
        self._finish_outcome(outcome)
        return CallResult(
            _status_of(outcome),
            error=_describe_outcome(outcome, f"calling {name}", cpu_budget_s, wall),
            cpu_seconds=outcome.cpu_seconds,
            wall_seconds=wall_seconds,
        )

    def close(self) -> None:
        """End the session child; the zygote reports its exit (and output) and wipes scratch."""
        if self._child is not None and self._zygote is not None:
            ended = self._zygote.send({"op": "end"}, time.monotonic() + EXIT_TIMEOUT_S)
            self._finish(kill=not ended)
        self._sandbox.detach(self)

    def abandon(self) -> None:
        """The sandbox is going away: forget the child without talking to it."""
        if self._child is not None:
            self._child.close()
            self._child = None

    def _finish(self, kill: bool) -> None:
        """Wait for the zygote's exit report of this session (killing the child if asked)."""
        zygote = self._zygote
        assert zygote is not None
        child = self._child or zygote.session_child()
        if kill and child is not None:
            child.kill()
        status = zygote.wait_status(time.monotonic() + EXIT_TIMEOUT_S)
        if status is None and child is not None and not kill:
            child.kill()
            status = zygote.wait_status(time.monotonic() + EXIT_TIMEOUT_S)
        self.output = zygote.session_ended(status)
        if child is not None:
            child.close()
        self._child = None

    def _finish_outcome(self, outcome: Outcome) -> None:
        """Clean up after a call or load that did not end with a reply."""
        zygote = self._zygote
        assert zygote is not None
        if outcome.kind == "exit":
            self.output = zygote.session_ended(outcome.message)
            if self._child is not None:
                self._child.close()
            self._child = None
            return
        self._finish(kill=True)  # killed already (timeout, cpu) or not to be trusted
        if outcome.kind == "protocol":
            zygote.distrust()


def _status_of(outcome: Outcome) -> Status:
    kinds = {"exit": Status.CRASHED, "timeout": Status.TIMEOUT, "cpu_limit": Status.CPU_LIMIT}
    return kinds.get(outcome.kind, Status.PROTOCOL)


def _describe_outcome(
    outcome: Outcome, doing: str, cpu_budget: float | None = None, wall: float | None = None
) -> str:
    if outcome.kind == "exit":
        status = outcome.message if isinstance(outcome.message, dict) else None
        code = status.get("exitcode") if status else None
        if status is None:
            return f"the sandbox died while {doing}; it restarts on the next session"
        if not isinstance(code, int):
            return f"the session process could not be started while {doing}"
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        return f"the session process {how} while {doing}"
    if outcome.kind == "cpu_limit":
        return f"CPU budget of {cpu_budget:g} s exceeded while {doing}"
    if outcome.kind == "timeout":
        return f"no answer within {wall:g} s while {doing}" if wall else f"timed out while {doing}"
    return f"protocol error while {doing}: {outcome.message}"


def _result_of_reply(outcome: Outcome, wall_seconds: float) -> CallResult:
    message = outcome.message
    if message.get("ok") is True:
        return CallResult(
            Status.OK, value=message.get("value"), cpu_seconds=outcome.cpu_seconds, wall_seconds=wall_seconds
        )
    return CallResult(
        Status.ERROR,
        error=_text(message.get("error"), ERROR_CHARS) or "unknown error",
        cpu_seconds=outcome.cpu_seconds,
        wall_seconds=wall_seconds,
        traceback=_text(message.get("traceback"), TRACEBACK_CHARS),
        wrote_input=message.get("wrote_input") is True,
        **_error_fields(message),
    )


def _text(value: Any, limit: int) -> str:
    return value[:limit] if type(value) is str else ""


def _whole(value: Any) -> int | None:
    return value if type(value) is int and 0 <= value < 1 << 31 else None


def _error_fields(message: dict) -> dict[str, Any]:
    """error_type, error_message, error_line and error_source of an error reply."""
    return {
        "error_type": _text(message.get("error_type"), ERROR_TYPE_CHARS),
        "error_message": _text(message.get("error_message"), ERROR_MESSAGE_CHARS),
        "error_line": _whole(message.get("error_line")) or None,
        "error_source": _text(message.get("error_source"), ERROR_SOURCE_CHARS),
    }
