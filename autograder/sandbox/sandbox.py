"""The sandbox's lifecycle: `Sandbox` detects the layers, claims a dedicated uid and a host
directory, launches the zygote and restarts it when it is lost or no longer trusted, keeps at most
one session attached to it, and on close kills every process of the sandbox, removes its files
and releases its uid."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence

from autograder.sandbox import launch, runtime_tree, wire
from autograder.sandbox.channel import Channel
from autograder.sandbox.errors import SandboxError, SandboxWarning
from autograder.sandbox.procfs import children, cpu_seconds, kill_uid, processes_of_uid
from autograder.sandbox.session import Session
from autograder.sandbox.uid_slots import UidSlot
from autograder.sandbox.zygote import Zygote

DEFAULT_MEMORY_BYTES = 2 << 30
DEFAULT_OUTPUT_BYTES = 1 << 20
DEFAULT_SCRATCH_BYTES = 64 << 20
DEFAULT_WALL_TIMEOUT_S = 10.0
DEFAULT_CPU_BACKSTOP_S = 60
START_TIMEOUT_S = 30.0


class Sandbox:
    """A sandboxed zygote that runs student cells in forked sessions (see the package doc).

    Use as a context manager. Not thread-safe: one Sandbox per grading thread, and
    start it from the thread that uses it: bwrap's --die-with-parent fires when the
    thread that started it exits. After a session crashes or is killed the zygote
    reports and serves the next session; if the zygote itself is lost, or the
    channel can no longer be trusted, the next `session()` restarts the sandbox.
    `limits` holds what its processes may use; `wall_timeout` is each call's default backstop.
    """

    def __init__(
        self,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        output_bytes: int = DEFAULT_OUTPUT_BYTES,
        wall_timeout: float = DEFAULT_WALL_TIMEOUT_S,
        cpu_backstop_s: int = DEFAULT_CPU_BACKSTOP_S,
        max_message_bytes: int = wire.DEFAULT_MAX_SIZE,
        scratch_bytes: int = DEFAULT_SCRATCH_BYTES,
    ) -> None:
        self.limits = launch.Limits(
            memory_bytes, output_bytes, cpu_backstop_s, scratch_bytes, max_message_bytes
        )
        self.wall_timeout = wall_timeout
        self.layers: dict[str, bool | int] = {}
        self.restarts = 0
        self._slot: UidSlot | None = None
        self._layout: launch.Layout | None = None
        self._zygote: Zygote | None = None
        self._session: Session | None = None

    # -- lifecycle

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the zygote and wait until it has imported numpy and is ready."""
        if self._zygote is not None:
            return
        self.layers = launch.detect_layers()
        if self._slot is None and self.layers["uid"]:
            self._slot = UidSlot.claim()
        uid = self._slot.uid if self._slot else None
        if self._layout is None:
            self._layout = launch.Layout.create(uid)
        if uid is not None and not kill_uid(uid):
            raise SandboxError(f"processes of uid {uid} survive SIGKILL")
        try:
            self._launch(uid)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Kill every process of the sandbox, remove its files, release its uid."""
        if self._session is not None:
            self._session.abandon()
            self._session = None
        try:
            self._stop_processes()
        finally:
            if self._layout is not None:
                self._layout.remove()
                self._layout = None
            if self._slot is not None:
                self._slot.release()
                self._slot = None

    @property
    def uid(self) -> int | None:
        return self._slot.uid if self._slot else None

    def pids(self) -> list[int]:
        """Every live process of the sandbox (bwrap, zygote, session), for checks and tests."""
        if self._zygote is None:
            return []
        found, todo = [], [self._zygote.process.pid]
        while todo:
            pid = todo.pop()
            if cpu_seconds(pid) is not None:
                found.append(pid)
            todo.extend(children(pid))
        if self.uid is not None:
            found.extend(pid for pid in processes_of_uid(self.uid) if pid not in found)
        return found

    def log_tail(self, limit: int = 4000) -> str:
        """The end of bwrap's and the zygote's own error output (not student output)."""
        if self._layout is None:
            return ""
        try:
            with open(self._layout.log, "rb") as file:
                file.seek(max(0, os.fstat(file.fileno()).st_size - limit))
                return file.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _launch(self, uid: int | None) -> None:
        assert self._layout is not None
        layout = self._layout
        channel = Channel(self.limits.max_message_bytes)
        bwrap = bool(self.layers["bwrap"])
        runtime = runtime_tree.shared() if bwrap else None
        self.layers["tmpfs_runtime"] = runtime is not None
        plan = launch.plan(layout, uid, runtime, channel.child_fds(), bwrap, self.limits)
        self._zygote = Zygote.spawn(plan, channel, layout.log, self.limits)
        ready = self._zygote.wait_ready(time.monotonic() + START_TIMEOUT_S)
        if ready is None:
            raise SandboxError(f"sandbox did not start: {self.log_tail()}")
        self._note_fresh_sessions(bwrap and ready.get("fresh") is True)

    def _note_fresh_sessions(self, fresh: bool) -> None:
        """Record whether sessions get fresh namespaces; warn (once) when bwrap could not give them."""
        if self.layers.get("bwrap") and not fresh and self.layers.get("fresh") is not False:
            warnings.warn(
                "bwrap did not give the zygote CAP_SYS_ADMIN in its user namespace: "
                + launch.SHARED_SESSIONS,
                SandboxWarning,
                stacklevel=4,
            )
        self.layers["fresh"] = fresh

    def _stop_processes(self) -> None:
        if self._zygote is None:
            return
        self._zygote.kill()
        if self.uid is not None and not kill_uid(self.uid):
            warnings.warn(f"processes of uid {self.uid} survived SIGKILL", SandboxWarning, stacklevel=2)
        self._zygote.close()
        self._zygote = None

    def _restart(self) -> None:
        self._stop_processes()
        assert self._layout is not None
        self._layout.reset_scratch()
        self.restarts += 1
        self._launch(self.uid)

    # -- sessions

    def session(
        self,
        cells: Sequence[str],
        target: str | None,
        pin: Sequence[str] = (),
        timeout: float | None = None,
    ) -> Session:
        """Fork a session that executes the cells in order; raise SessionLoadError if they fail.

        target: the function the session is for; it must be defined once the cells have run
        (None: no such check, and any failing cell fails the load).
        pin: names that the last cell (the student's) cannot rebind.
        """
        session = Session(self, [str(cell) for cell in cells], target, list(pin))
        session.open(self.wall_timeout if timeout is None else timeout)
        return session

    @property
    def attached(self) -> Session | None:
        """The one session the zygote serves now (its child may have ended since)."""
        return self._session

    def attach(self, session: Session) -> Zygote:
        """Make session the one the zygote serves: the one before it is closed, and the zygote
        (re)started if it is not running or no longer trusted."""
        if self._session is not None and self._session is not session:
            self._session.close()
        if self._zygote is None:
            self.start()
        elif not self._zygote.usable:
            self._restart()
        assert self._zygote is not None
        self._session = session
        return self._zygote

    def detach(self, session: Session) -> None:
        """session has ended its child: the zygote serves none."""
        if self._session is session:
            self._session = None
