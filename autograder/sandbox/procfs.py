"""Processes as the grader sees them from outside, through /proc and CPU clocks: a process's
children, the CPU time it has used, every process of a uid, and killing them all. The grader
measures a session's CPU time this way, so nothing the session reports about itself counts."""

from __future__ import annotations

import ctypes
import os
import signal
import time

from autograder.sandbox.uid_slots import become

# How long a process killed with SIGKILL, or a zygote asked for a status, gets before it is
# taken as gone.
EXIT_TIMEOUT_S = 3.0

_libc = ctypes.CDLL(None, use_errno=True)
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_HAS_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")  # CONFIG_PROC_CHILDREN


def children(pid: int) -> list[int]:
    """Direct children of a process, as pids of the grader's pid namespace."""
    if not _HAS_CHILDREN_FILES:
        return [other for other in _all_pids() if _parent(other) == pid]
    found: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as file:
                found.extend(int(child) for child in file.read().split())
        except OSError:
            continue  # the thread or the process is gone
    return found


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which the student controls)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rpartition(")")[2].split()
    except OSError:
        return None


def _parent(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def cpu_clock(pid: int) -> int | None:
    """The process CPU-time clock id of pid (clock_getcpuclockid), None if unavailable."""
    clock = ctypes.c_int()
    if _libc.clock_getcpuclockid(ctypes.c_int(pid), ctypes.byref(clock)) != 0:
        return None
    return clock.value


def cpu_seconds(pid: int, clock: int | None = None) -> float | None:
    """CPU seconds (user + system) used so far by pid; None once it is gone."""
    if clock is not None:
        try:
            return time.clock_gettime(clock)
        except OSError:
            pass
    fields = _stat_fields(pid)
    if not fields or fields[0] in ("Z", "X"):
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def processes_of_uid(uid: int, zombies: bool = False) -> list[int]:
    """Pids whose real uid is uid: every process a sandbox left running.

    Zombies can do nothing, but they still count against RLIMIT_NPROC until reaped.
    """
    found = []
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/status") as file:
                fields = dict(line.split(":", 1) for line in file if ":" in line)
        except OSError:
            continue
        state, uids = fields.get("State", "Z").split(), fields.get("Uid", "").split()
        if uids and int(uids[0]) == uid and state and (zombies or state[0] not in ("Z", "X")):
            found.append(pid)
    return found


def kill_uid(uid: int, timeout: float = EXIT_TIMEOUT_S) -> bool:
    """SIGKILL every process of uid, from a forked child that becomes that uid and kills -1.

    kill(-1) as the uid reaches its processes in every pid namespace, including ones
    forked while we look. True when none is left, not even a zombie still to be reaped
    (by its parent or by init), which would count against the next sandbox's NPROC.
    """
    deadline = time.monotonic() + timeout
    while processes_of_uid(uid, zombies=True):
        if time.monotonic() > deadline:
            return False
        if not processes_of_uid(uid):
            time.sleep(0.01)
            continue
        killer = os.fork()
        if killer == 0:
            try:
                become(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(killer, 0)
        time.sleep(0.01)
    return True
