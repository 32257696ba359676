"""One running zygote as the grader talks to it: the process tree a launch plan started, the
grader's end of its pipes and the session child it has forked. A session sends requests through
it, waits for each reply under a wall-clock deadline and a CPU budget measured from outside, and
reads the zygote's exit report of every session child; the zygote is distrusted (and restarted
by its sandbox) once a frame may have been cut or a session child's exit was not reported clean.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.sandbox import wire
from autograder.sandbox.channel import Channel
from autograder.sandbox.errors import SandboxWarning
from autograder.sandbox.launch import Limits, Plan
from autograder.sandbox.procfs import EXIT_TIMEOUT_S, children, cpu_clock, cpu_seconds

# A reply or status that takes longer to decode was crafted to: the call fails as "protocol".
DECODE_DEADLINE_S = 5.0
POLL_S = 0.005


@dataclass
class Outcome:
    """What waiting for a session child produced."""

    kind: str  # "reply", "exit", "timeout", "cpu_limit", "protocol"
    message: Any = None
    cpu_seconds: float = 0.0
    child: Child | None = None  # the session child, once it was found


class Child:
    """The session child as the grader sees it: pid, CPU clock, a pidfd to kill it by."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.clock = cpu_clock(pid)
        self.pidfd: int | None
        try:
            self.pidfd = os.pidfd_open(pid)
        except OSError:
            self.pidfd = None
        self.last_cpu = cpu_seconds(pid, self.clock) or 0.0

    def cpu(self) -> float:
        value = cpu_seconds(self.pid, self.clock)
        if value is not None:
            self.last_cpu = value
        return self.last_cpu

    def kill(self) -> None:
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class Zygote:
    """A started zygote: `process` is what the plan started (bwrap, or the worker itself), `pid`
    the zygote's own pid once it is ready. Sessions use send, wait, wait_status, session_child,
    session_ended and distrust; the sandbox starts, kills and closes it."""

    def __init__(self, process: subprocess.Popen, channel: Channel, own_group: bool, limits: Limits) -> None:
        self.process = process
        self.pid: int | None = None
        self._channel: Channel | None = channel
        self._own_group = own_group
        self._limits = limits
        self._trusted = True

    @classmethod
    def spawn(cls, plan: Plan, channel: Channel, log: Path, limits: Limits) -> Zygote:
        """Start the plan, its output going to the log; the worker's pipe ends are then closed here."""
        with open(log, "ab") as file:
            process = subprocess.Popen(
                plan.argv,
                stdin=subprocess.DEVNULL,
                stdout=file,
                stderr=file,
                pass_fds=plan.pass_fds,
                cwd=plan.cwd,
                env=plan.env,
                preexec_fn=plan.prepare,
                start_new_session=plan.new_session,
            )
        channel.close_child_ends()
        return cls(process, channel, plan.new_session, limits)

    def wait_ready(self, deadline: float) -> dict | None:
        """The zygote's ready status (numpy imported), or None; once ready, its pid is known."""
        ready = self.wait_status(deadline)
        if not isinstance(ready, dict) or ready.get("stage") != "ready":
            self._trusted = False
            return None
        self.pid = self._find_pid()
        return ready

    def _find_pid(self) -> int:
        """Follow the single-child chain from bwrap to the leaf: the zygote (no session yet)."""
        pid = self.process.pid
        while True:
            kids = children(pid)
            if len(kids) != 1:
                return pid
            pid = kids[0]

    @property
    def usable(self) -> bool:
        """Still running, and its channel and scratch still to be trusted."""
        return self._trusted and self.process.poll() is None

    def distrust(self) -> None:
        """Something went wrong on the channel: the sandbox restarts the zygote before the next session."""
        self._trusted = False

    # -- what sessions use

    def send(self, message: dict, deadline: float) -> bool:
        """Write one request; WireError (nothing written) if it cannot be encoded."""
        if self._channel is None:
            return False
        data = wire.pack(message, max_size=self._limits.max_message_bytes)
        if not self._channel.send(data, deadline):
            self._trusted = False  # a frame may be cut: the stream can no longer be trusted
            return False
        return True

    def session_child(self) -> Child | None:
        """The zygote's only child, which is the session child, if there is one."""
        if self.pid is None:
            return None
        kids = children(self.pid)
        return Child(kids[0]) if len(kids) == 1 else None

    def wait(
        self,
        ident: int,
        child: Child | None,
        deadline: float,
        cpu_budget: float | None = None,
        cpu_start: float = 0.0,
    ) -> Outcome:
        """Wait for the reply to request `ident` while watching the child's CPU and the wall clock.

        Polls every POLL_S: a call over its CPU budget is killed within a few ms of it.
        """
        channel = self._channel
        assert channel is not None
        while True:
            child = child or self.session_child()
            used = child.cpu() - cpu_start if child else 0.0
            remaining = deadline - time.monotonic()
            over_budget = cpu_budget is not None and used > cpu_budget
            if over_budget or remaining <= 0:
                if child is not None:
                    child.kill()
                return Outcome("cpu_limit" if over_budget else "timeout", cpu_seconds=used, child=child)
            readable, _, _ = select.select(
                [channel.replies_r, channel.status_r], [], [], min(POLL_S, remaining)
            )
            outcome = self._take_reply(ident) if channel.replies_r in readable else None
            if outcome is None and channel.status_r in readable:
                outcome = Outcome("exit", message=self.wait_status(time.monotonic() + EXIT_TIMEOUT_S))
            if outcome is not None:
                outcome.cpu_seconds = child.cpu() - cpu_start if child else used
                outcome.child = child
                return outcome

    def _take_reply(self, ident: int) -> Outcome | None:
        """Read what the reply pipe holds; an outcome once a whole frame (or EOF) is there."""
        assert self._channel is not None
        try:
            payload, eof = self._channel.read_reply()
        except wire.WireError as error:
            return Outcome("protocol", message=str(error))
        if payload is None:
            return (
                Outcome("exit", message=self.wait_status(time.monotonic() + EXIT_TIMEOUT_S)) if eof else None
            )
        try:
            message = wire.decode(payload, deadline_s=DECODE_DEADLINE_S)
        except wire.WireError as error:
            return Outcome("protocol", message=str(error))
        if not isinstance(message, dict) or message.get("id") != ident:
            return Outcome("protocol", message="the reply does not answer the request (forged?)")
        return Outcome("reply", message=message)

    def wait_status(self, deadline: float) -> Any:
        """The next zygote status message, or None on timeout or a broken pipe."""
        if self._channel is None:
            return None
        while time.monotonic() < deadline:
            select.select([self._channel.status_r], [], [], min(0.05, max(0.0, deadline - time.monotonic())))
            try:
                payload, eof = self._channel.read_status()
            except wire.WireError:
                return None
            if payload is not None:
                try:
                    return wire.decode(payload, deadline_s=DECODE_DEADLINE_S)
                except wire.WireError:
                    return None
            if eof:
                return None
        return None

    def session_ended(self, status: Any) -> str:
        """A session child is gone: the zygote must have reported, else restart next time.

        status: the zygote's exit report (or None). Returns what the session printed, as the
        zygote read it from scratch.
        """
        if not (isinstance(status, dict) and status.get("stage") == "exit"):
            self._trusted = False
            return ""
        if status.get("clean") is not True:
            self._trusted = False  # scratch or IPC objects may survive: use a fresh sandbox
        if self._channel is not None:
            self._channel.drain_replies()
        output = status.get("output")
        return output[: self._limits.output_bytes] if isinstance(output, str) else ""

    # -- ending it

    def kill(self) -> None:
        """SIGKILL the zygote, then bwrap, and reap bwrap.

        The zygote first: as pid 1 its death kills the whole pid namespace, and bwrap,
        still alive, reaps it (killed together, init would inherit the zombie, which
        counts against the uid's RLIMIT_NPROC until init gets to it). Without bwrap the
        zygote leads a process group, killed as a whole before it is reaped.
        """
        process = self.process
        if self._own_group:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
        for pid, grace in ((self.pid, 1.0), (process.pid, EXIT_TIMEOUT_S)):
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                pass
        warnings.warn("the sandbox did not exit after SIGKILL", SandboxWarning, stacklevel=3)

    def close(self) -> None:
        """Close the grader's pipe ends: every later send fails and every wait_status is None."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self.pid = None
