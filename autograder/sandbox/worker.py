"""The program that runs inside the sandbox: a zygote that forks one child per session.

Importing numpy takes ~0.1 s, and grading runs one session per graded function (so
that no process ever holds the reference version of the function under test), so
the zygote imports numpy once and forks a fresh child for every session. The child
confines itself further (Landlock, no capabilities, no forking, output to a bounded
file), executes the session's cells in one fresh namespace and answers call requests.

Channels are inherited pipe fds passed by number, never stdin/stdout, so nothing the
student prints can be taken for a message:
  requests  grader -> worker   {"op": "session" | "call" | "end" | "shutdown", ...}
  replies   session child -> grader   {"ok": ..., "stage": "load"} / {"ok": ..., "value": ...}
  status    zygote -> grader only     {"stage": "ready"} / {"stage": "exit", "exitcode": n, "output": s}
The session child closes the status fd before running student code, so student code
can forge replies for its own session but never a zygote status, and whatever it
leaves in a pipe is drained before the next session.

Nothing passes from one session to the next, counters included. Inside bubblewrap
(--fresh-namespaces) the zygote keeps CAP_SYS_ADMIN of the sandbox's user namespace and
makes itself pid 1 of pid and network namespaces of its own (its parent stays behind as
an init that only waits): there it may set the pid its next child gets, so every session
has the same pid, and the loopback stays down. Before any student code, the session
child enters new mount and IPC namespaces, mounts a new size-limited tmpfs on scratch
(and a new mqueue and proc), then drops every capability for good: files, IPC objects,
tmpfs inode numbers, IPC ids and pids all start afresh. Without that (no bwrap, or no capabilities in it)
the sessions share one scratch and one IPC namespace, which the janitor wipes. Either
way the janitor restores what stays shared: the attributes of /dev and of scratch, the
uid's keyrings, and the state of the pipes every session inherits.

Every session is forked from the zygote and inherits its memory, freed blocks
included, whose contents stay until reused. So the zygote never holds anything a
session could use: not a request (each session request carries the reference cells
of the other functions), not what a session left behind (its output, names of its
files). A child forked once a request is waiting reads it and becomes the session; after
it, a second child (the janitor) cleans up and writes the exit status into a pipe,
which the zygote relays through a buffer it zeroes, once the janitor is gone (so the
grader, which takes the zygote's only child for the session child, never meets it).
What the session prints goes to a memfd the zygote creates empty before the fork and
closes once the janitor, who reads it, is forked: the zygote holds the descriptor,
never the contents, and no later session inherits it.

Every request carries a random "id" that its reply echoes: a reply cannot be written
before its request was sent, so answers forged ahead of time (outside the CPU-measured
call) are detected.

With "read_only_inputs", every array of a call's inputs is put into memory the session
can never write: sealed memfds (F_SEAL_WRITE and friends) mapped read-only, whose fds
are closed before the function runs; lists arrive as tuples and dicts as mapping proxies.

This file imports only the standard library, numpy and its two siblings wire.py and
landlock.py; the sandbox copies the three files into a directory of their own.
"""

from __future__ import annotations

import argparse
import builtins
import ctypes
import errno
import fcntl
import functools
import io
import linecache
import mmap
import os
import platform
import re
import resource
import select
import shutil
import signal
import stat
import struct
import sys
import traceback
import types
from dataclasses import dataclass, field, replace
from typing import Any

if __package__:
    from . import landlock, wire
else:  # run by path inside the sandbox: the siblings sit next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import landlock  # type: ignore[no-redef]
    import wire  # type: ignore[no-redef]

import numpy as np

ERROR_CHARS = 500
TRACEBACK_CHARS = 4000
TYPE_CHARS = 60
MESSAGE_CHARS = 200
SOURCE_CHARS = 120
PREAMBLE = "import numpy as np\n"
STUDENT_CELL = "<student cell>"
# Enough for any honest use; each inode costs kernel memory that the size limit does not count.
SCRATCH_INODES = 1 << 16
# Every session's pid (with fresh namespaces): the zygote sets ns_last_pid before each fork.
SESSION_PID = 100
SESSION_NAMESPACES = landlock.CLONE_NEWNS | landlock.CLONE_NEWIPC
MOUNT_FLAGS = landlock.MS_NOSUID | landlock.MS_NODEV | landlock.MS_NOEXEC


@dataclass(frozen=True)
class Config:
    requests: int
    replies: int
    status: int
    scratch: str
    output_bytes: int
    max_message: int
    read_only: tuple[str, ...]
    fresh: bool = False  # fresh namespaces and scratch per session (see the module doc)
    scratch_bytes: int = 64 << 20
    bounding: int | None = None  # the zygote's capability bounding set, once known


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--replies", type=int, required=True)
    parser.add_argument("--status", type=int, required=True)
    parser.add_argument("--scratch", required=True)
    parser.add_argument("--output-bytes", type=int, default=1 << 20)
    parser.add_argument("--max-message", type=int, default=wire.DEFAULT_MAX_SIZE)
    parser.add_argument("--read-only", action="append", default=[])
    parser.add_argument("--fresh-namespaces", action="store_true")
    parser.add_argument("--scratch-bytes", type=int, default=64 << 20)
    args = parser.parse_args(argv)
    return Config(
        args.requests,
        args.replies,
        args.status,
        args.scratch,
        args.output_bytes,
        args.max_message,
        tuple(args.read_only),
        args.fresh_namespaces,
        args.scratch_bytes,
    )


# ---------------------------------------------------------------- zygote


def main(argv: list[str] | None = None) -> int:
    """Serve sessions until the grader closes the request pipe or asks to shut down."""
    config = parse_args(argv)
    harden_zygote()
    last_pid = own_namespaces(config) if config.fresh else None
    config = replace(config, fresh=last_pid is not None, bounding=landlock.capability_sets()["bounding"])
    baseline = Baseline.take(config)
    write_seal()  # probed once here, inherited by every session
    ready = {"stage": "ready", "landlock": landlock.abi_version(), "fresh": config.fresh}
    send(config.status, ready)
    while True:
        output = os.memfd_create("output", os.MFD_CLOEXEC)  # the next session's stdout and stderr
        try:
            told, exitcode = run_session(config, last_pid, output)
            if told == SESSION and not report_exit(config, baseline, exitcode, output):
                return 3
        finally:
            os.close(output)
        if told == STOP:
            return 0
        if told not in (SESSION, IGNORED):
            return 3  # the stream is out of step, or no child: the grader restarts the sandbox


def harden_zygote() -> None:
    """Keep session children from ptracing us or reading our memory; pid 1 ignores SIGINT."""
    landlock.set_dumpable(False)
    landlock.set_no_new_privs()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def own_namespaces(config: Config) -> int | None:
    """Become pid 1 of new pid and network namespaces, owned by our user namespace; return an
    fd of its ns_last_pid, None (and nothing forked) when the kernel refuses.

    bwrap made its pid namespace before the user namespace we hold CAP_SYS_ADMIN in; in
    this one we may write ns_last_pid, and so give every session the same pid (fork_child)
    however many were forked before it. A pid namespace per session would make each one
    its init, which ignores the signals it sends itself (a student's self-SIGKILL).
    The parent stays as the init of bwrap's namespace and only waits: killing either ends
    the sandbox. The network namespace is shared by the sessions, and its loopback stays
    down (bringing it up needs a capability): no packet can move a counter there. (One
    per session would cost ~0.5 ms to make, and more to tear down.)
    """
    try:
        landlock.unshare(landlock.CLONE_NEWPID | landlock.CLONE_NEWNET)
    except OSError:
        return None
    pid = os.fork()
    if pid == 0:
        return os.open("/proc/sys/kernel/ns_last_pid", os.O_WRONLY | os.O_CLOEXEC)
    for fd in (config.requests, config.replies, config.status):
        os.close(fd)
    code = reap(pid)
    os._exit(code if code is not None and code >= 0 else 1)


def send(fd: int, message: dict) -> None:
    wire.write_message(fd, message)


# What the child forked for the next request tells the zygote, before any student code runs.
SESSION, IGNORED, STOP = b"S", b"I", b"Q"


def run_session(config: Config, last_pid: int | None, output: int) -> tuple[bytes, int | None]:
    """Fork a child that reads the next request and, if it opens a session, becomes it.

    Returns what the child told (b"" if it died first or could not be forked) and its exit
    code (negative: killed by a signal), once it has ended. The child is forked only once a
    request is waiting: until then the zygote has no child, which is how the grader finds it.
    """
    select.select([config.requests], [], [])
    told_r, told_w = os.pipe()
    try:
        pid = fork_child(last_pid)
    except OSError:
        os.close(told_r)
        os.close(told_w)
        return b"", None
    if pid == 0:
        os.close(told_r)
        if last_pid is not None:
            os.close(last_pid)
        code = 70
        try:
            code = next_request(config, told_w, output)
        finally:
            os._exit(code)
    os.close(told_w)
    try:
        told = os.read(told_r, 1)
    finally:
        os.close(told_r)
    return told, reap(pid)


def fork_child(last_pid: int | None) -> int:
    """os.fork(); given the fd of our ns_last_pid, the child gets SESSION_PID, always."""
    if last_pid is not None:
        os.pwrite(last_pid, b"%d" % (SESSION_PID - 1), 0)
    return os.fork()


def next_request(config: Config, told: int, output: int) -> int:
    """In the forked child: read one request; serve it as a session, or tell the zygote why not."""
    try:
        request = wire.read_message(config.requests, max_size=config.max_message)
    except EOFError:
        request = {"op": "shutdown"}
    except wire.WireError:
        return 3
    op = request.get("op") if isinstance(request, dict) else None
    # any op but these is a leftover of a session that died before reading it
    os.write(told, {"session": SESSION, "shutdown": STOP}.get(op, IGNORED))
    os.close(told)
    return session_main(config, request, output) if op == "session" else 0


def report_exit(config: Config, baseline: Baseline, exitcode: int | None, output: int) -> bool:
    """Clean up after a session and send its exit status, through the janitor (see the module
    doc); False if that failed, and the sandbox must be restarted."""
    frame_r, frame_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(frame_r)
        os.close(frame_w)
        return False
    if pid == 0:
        os.close(frame_r)
        try:
            landlock.clear_capabilities()  # it reads what the session wrote
            text = read_output(output, config.output_bytes)
            drain(config.requests)
            clean = clean_up(config, baseline)
            message = {"stage": "exit", "exitcode": exitcode, "output": text, "clean": clean}
            wire.write_message(frame_w, message, max_size=config.max_message)
        finally:
            os._exit(0)
    os.close(frame_w)
    reader = wire.FrameReader(config.max_message)
    try:
        reader.read_from(frame_r)
        payload = reader.payload()
    except wire.WireError:
        payload = None
    finally:
        os.close(frame_r)
    reap(pid)
    if payload is None:
        return False
    wire.write_all(config.status, wire.HEADER.pack(wire.MAGIC, len(payload)))
    wire.write_all(config.status, payload)
    payload[:] = bytes(len(payload))  # the session's output: gone before the next fork
    return True


def read_output(fd: int, limit: int) -> str:
    """What the session printed: the start of its output memfd, at most limit bytes."""
    return os.pread(fd, limit, 0).decode("utf-8", "replace")


def reap(pid: int) -> int | None:
    """Wait for the session child (reaping any other orphan, as pid 1 must)."""
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return None
        if done == pid:
            return os.waitstatus_to_exitcode(status)


def drain(fd: int) -> None:
    """Drop requests a dead session never read, so they are not taken for new ones."""
    os.set_blocking(fd, False)
    try:
        while os.read(fd, 1 << 16):
            pass
    except BlockingIOError:
        pass
    finally:
        os.set_blocking(fd, True)


def clean_up(config: Config, baseline: Baseline | None = None) -> bool:
    """Remove what the session left; False if that failed (the grader then restarts us).

    With fresh namespaces its scratch and IPC objects are already gone with it.
    """
    try:
        if not config.fresh:
            remove_ipc_objects()
            wipe(config.scratch)
            if os.listdir(config.scratch):
                return False
        return baseline is None or baseline.restore()
    except Exception:  # noqa: BLE001 - e.g. RecursionError on an absurdly deep tree
        return False


# keyctl(2) has no wrapper in Python or glibc; its syscall number differs per architecture.
KEYCTL = {"x86_64": 250, "aarch64": 219, "riscv64": 219}.get(platform.machine())
KEYCTL_GET_KEYRING_ID, KEYCTL_UNLINK, KEYCTL_READ = 0, 9, 11
KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -4, -5


@dataclass
class Baseline:
    """State outside scratch's contents that a session can change and the next one read.

    Landlock governs file contents, not the mode, times or extended attributes of the
    writable directories the sessions share (bwrap's /dev and /dev/shm, and scratch itself
    when it is not fresh per session), nor the kernel keyrings of the sandbox's uid, nor
    the flags, size and locks of the pipes every session inherits: each would let the
    session that holds the reference of `conv_forward` hand it to the session that grades
    the student's. The zygote records them before the first session; the janitor puts
    them back after each one.
    """

    inodes: dict[str, tuple[int, int, int, dict[str, bytes]]] = field(default_factory=dict)
    keys: dict[int, set[int]] = field(default_factory=dict)
    pipes: dict[int, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def take(cls, config: Config) -> Baseline:
        baseline = cls()
        paths = ([] if config.fresh else [config.scratch]) + ["/dev", "/dev/mqueue"]
        for folder in ("/dev", "/dev/pts"):
            try:
                paths += [os.path.join(folder, name) for name in sorted(os.listdir(folder))]
            except OSError:
                pass
        for path in dict.fromkeys(paths):
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if info.st_uid == os.getuid():  # only an owner can set times, mode or user xattrs
                baseline.inodes[path] = (info.st_mode, info.st_atime_ns, info.st_mtime_ns, _xattrs(path))
        if KEYCTL is not None and _own_user_namespace():
            for spec in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
                ring = _keyctl(KEYCTL_GET_KEYRING_ID, spec, 1)
                if ring > 0:
                    baseline.keys[ring] = set(_keyring(ring))
        for fd in (config.requests, config.replies):
            baseline.pipes[fd] = (fcntl.fcntl(fd, fcntl.F_GETFL), fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
        return baseline

    def restore(self) -> bool:
        """Put everything back; False if something could not be (the sandbox is then restarted)."""
        try:
            for path, (mode, atime, mtime, xattrs) in self.inodes.items():
                for name, value in _xattrs(path).items():
                    if xattrs.get(name) != value:
                        os.removexattr(path, name, follow_symlinks=False)
                for name, value in xattrs.items():
                    if _xattrs(path).get(name) != value:
                        os.setxattr(path, name, value, follow_symlinks=False)
                info = os.lstat(path)
                if not stat.S_ISLNK(mode) and info.st_mode != mode:
                    os.chmod(path, stat.S_IMODE(mode))
                if (info.st_atime_ns, info.st_mtime_ns) != (atime, mtime):
                    os.utime(path, ns=(atime, mtime), follow_symlinks=False)
            for ring, keys in self.keys.items():
                for key in set(_keyring(ring)) - keys:
                    if _keyctl(KEYCTL_UNLINK, key, ring) < 0:
                        return False
            for fd, (flags, size) in self.pipes.items():
                fcntl.flock(fd, fcntl.LOCK_UN)  # the lock belongs to the open file all sessions share
                fcntl.fcntl(fd, fcntl.F_SETOWN, 0)
                fcntl.fcntl(fd, fcntl.F_SETFL, flags)
                if fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) != size:
                    fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
        except OSError:
            return False
        return True


def _xattrs(path: str) -> dict[str, bytes]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:  # e.g. not supported by the file system
        return {}
    return {name: os.getxattr(path, name, follow_symlinks=False) for name in names}


def _own_user_namespace() -> bool:
    """True inside a user namespace of the sandbox's own (bwrap): then its uid's keyrings are
    the sandbox's alone, and clearing them cannot touch a key of the grader's user."""
    try:
        with open("/proc/self/uid_map") as file:
            return file.read().split() != ["0", "0", "4294967295"]
    except OSError:
        return False


def _keyctl(operation: int, *args: int | ctypes.Array) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(KEYCTL, operation, *(ctypes.c_long(a) if isinstance(a, int) else a for a in args))


def _keyring(ring: int) -> list[int]:
    """Serials of the keys linked in a keyring (empty if it cannot be read)."""
    buffer = ctypes.create_string_buffer(1 << 16)
    size = _keyctl(KEYCTL_READ, ring, buffer, len(buffer))
    if size <= 0:
        return []
    size = min(size, len(buffer)) // 4
    return list(struct.unpack(f"{size}i", buffer.raw[: 4 * size]))


def remove_ipc_objects() -> None:
    """Delete SysV IPC objects and POSIX message queues a session created (no fresh namespaces).

    They outlive processes, and the sandbox's IPC namespace is then shared by all its
    sessions: left alone they would let one session hand data to the next.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    removers = {
        "shm": lambda ident: libc.shmctl(ident, 0, None),
        "msg": lambda ident: libc.msgctl(ident, 0, None),
        "sem": lambda ident: libc.semctl(ident, 0, 0),
    }
    for kind, remove in removers.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                rows = table.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and fields[1].isdigit():
                remove(int(fields[1]))
    try:
        for name in os.listdir("/dev/mqueue"):
            os.unlink(os.path.join("/dev/mqueue", name))
    except OSError:
        pass


def wipe(directory: str) -> None:
    """Empty the scratch directory so no file survives into the next session."""
    try:
        os.chmod(directory, 0o700)
    except OSError:
        return
    for root, dirs, _files in os.walk(directory):
        for name in dirs:
            path = os.path.join(root, name)
            if stat.S_ISDIR(os.lstat(path).st_mode):
                os.chmod(path, 0o700)
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


# ---------------------------------------------------------------- session child


def session_main(config: Config, request: dict, output: int) -> int:
    """Run in the forked child: isolate and confine, load the cells, then answer calls until "end"."""
    os.close(config.status)
    ident = request.get("id")
    try:
        isolate(config)
    except OSError as error:
        reply(config, error_reply("SandboxError", f"session isolation failed: {error}", stage="load"), ident)
        return 1
    redirect_output(config, output)
    abi = confine(config)
    if abi < 0:
        reply(config, error_reply("SandboxError", "Landlock could not be applied", stage="load"), ident)
        return 1
    namespace, failed = load(request)
    if failed is not None:
        reply(config, failed, ident)
        return 1
    reply(config, {"ok": True, "stage": "load", "landlock": abi}, ident)
    return serve(config, namespace)


def isolate(config: Config) -> None:
    """Fresh namespaces (when the zygote can give them), then no capability ever again."""
    if config.fresh:
        enter_fresh_namespaces(config)
    landlock.drop_capabilities(config.bounding)
    left = landlock.capability_sets()
    if not config.fresh:
        del left["bounding"]  # only CAP_SETPCAP can empty it; no_new_privs makes it moot
    held = {name: hex(mask) for name, mask in left.items() if mask}
    if held:
        raise OSError(errno.EPERM, f"capabilities left: {held}")


def enter_fresh_namespaces(config: Config) -> None:
    """New mount and IPC namespaces, with a new scratch tmpfs, mqueue and proc.

    Nothing an earlier session made is there, nor any counter it moved: tmpfs inode
    numbers, SysV IPC ids; and /proc shows the zygote's pid namespace, where this process
    has the pid every session has (fork_child), not bwrap's, where pids count sessions.
    """
    # bwrap's mounts are all private, so these new ones show nowhere but here.
    landlock.unshare(SESSION_NAMESPACES)
    options = f"size={config.scratch_bytes},nr_inodes={SCRATCH_INODES},mode=0700"
    landlock.mount("tmpfs", config.scratch, "tmpfs", MOUNT_FLAGS, options)
    landlock.mount("mqueue", "/dev/mqueue", "mqueue", MOUNT_FLAGS)
    landlock.mount("proc", "/proc", "proc", MOUNT_FLAGS | landlock.MS_RDONLY)
    os.chdir(config.scratch)  # the old cwd is the scratch now hidden underneath


class BoundedOutput(io.TextIOBase):
    """sys.stdout/sys.stderr for student code: writes to the output file up to a budget,
    then silently drops the rest, so a flood costs neither disk nor an exception."""

    def __init__(self, fd: int, budget: list[int]) -> None:
        self._fd = fd
        self._budget = budget  # shared between stdout and stderr

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._budget[0] > 0:
            data = str(text).encode("utf-8", "replace")[: self._budget[0]]
            self._budget[0] -= len(data)
            try:
                wire.write_all(self._fd, data)
            except OSError:
                self._budget[0] = 0
        return len(text)


def redirect_output(config: Config, output: int) -> None:
    """fd 0 from /dev/null, fds 1 and 2 into the output memfd (RLIMIT_FSIZE bounds it)."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    budget = [config.output_bytes]
    sys.stdout = BoundedOutput(1, budget)
    sys.stderr = BoundedOutput(2, budget)


def confine(config: Config) -> int:
    """No new processes or threads, and Landlock: read the Python dirs, write scratch.

    Returns the Landlock ABI applied (0 when the kernel has none), -1 on failure.
    """
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    try:
        return landlock.restrict(list(config.read_only), [config.scratch, os.devnull])
    except landlock.LandlockError:
        return -1


# ---------------------------------------------------------------- errors


def type_name(error: BaseException) -> str:
    """The exception type's own name, whatever its metaclass pretends (cut to TYPE_CHARS)."""
    try:
        name = type.__dict__["__name__"].__get__(type(error))
        return str.__str__(name)[:TYPE_CHARS]
    except BaseException:  # noqa: BLE001
        return "?"


def message_of(error: BaseException) -> str:
    """str(error) as an exact str; never fails on a hostile __str__."""
    try:
        return str.__str__(str(error))
    except BaseException:  # noqa: BLE001 - a student's __str__ may raise anything
        return "<unprintable message>"


def describe(error: BaseException) -> str:
    """ "ExceptionType: message", cut to ERROR_CHARS; never fails on odd exceptions."""
    message = message_of(error)
    text = f"{type_name(error)}: {message}" if message else type_name(error)
    return text[:ERROR_CHARS]


def student_line(error: BaseException) -> tuple[int | None, str]:
    """Line number and stripped text of the innermost frame in the student's cell."""
    try:
        found = None
        for frame, lineno in traceback.walk_tb(error.__traceback__):
            if frame.f_code.co_filename == STUDENT_CELL:
                found = lineno
        if type(found) is not int:
            return None, ""
        return found, str.__str__(linecache.getline(STUDENT_CELL, found)).strip()[:SOURCE_CHARS]
    except BaseException:  # noqa: BLE001
        return None, ""


def student_traceback(error: BaseException) -> str:
    """The traceback restricted to frames in the student's cell (no reference code lines)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == STUDENT_CELL]
    listing = "".join(traceback.format_list(frames))[-TRACEBACK_CHARS:]
    return f"{listing}{describe(error)}\n"


def error_reply(kind: str, message: str, line: int | None = None, source: str = "", **extra: Any) -> dict:
    """An error reply with the structured fields the grader builds short feedback from."""
    return {
        "ok": False,
        "error": (f"{kind}: {message}" if message else kind)[:ERROR_CHARS],
        "error_type": kind[:TYPE_CHARS],
        "error_message": (message[:MESSAGE_CHARS].splitlines() or [""])[0],
        "error_line": line,
        "error_source": source,
        **extra,
    }


def failure(error: BaseException, read_only: bool = False, **extra: Any) -> dict:
    """The error reply for an exception of the student's code."""
    try:
        trace = student_traceback(error)
    except BaseException:  # noqa: BLE001
        trace = ""
    line, source = student_line(error)
    result = error_reply(type_name(error), message_of(error), line, source, traceback=trace, **extra)
    result["error"] = describe(error)
    if read_only and wrote_input(error, result["error_message"]):
        result["wrote_input"] = True
    return result


# What read-only inputs answer a write with: numpy for sealed arrays; Python for the tuples
# and mapping proxies that lists and dicts became.
_MUTATORS = "append|extend|insert|pop|remove|clear|sort|reverse|update|setdefault|popitem"
READ_ONLY_WRITES = (
    (ValueError, re.compile(r"read-only")),
    (TypeError, re.compile(r"'(tuple|mappingproxy)' object does(n't| not) support item (assign|delet)")),
    (AttributeError, re.compile(rf"'(tuple|mappingproxy)' object has no attribute '({_MUTATORS})'")),
)


def wrote_input(error: BaseException, message: str) -> bool:
    """Whether the error is the refusal of a write into a read-only input (a guess from the
    message: the student's own read-only arrays or tuples fail the same way)."""
    kind = type(error)
    return any(issubclass(kind, refused) and pattern.search(message) for refused, pattern in READ_ONLY_WRITES)


# ---------------------------------------------------------------- loading and calling


def load(request: dict) -> tuple[dict, dict | None]:
    """Execute the cells in one namespace; pinned names keep their pre-last-cell objects."""
    cells = list(request.get("cells") or [])
    target = request.get("target")
    pin = list(request.get("pin") or [])
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    pinned: dict[str, Any] = {}
    for index, source in enumerate(cells):
        last = index == len(cells) - 1
        if last:
            pinned = {name: namespace[name] for name in pin if name in namespace}
        filename = STUDENT_CELL if last else f"<cell {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), namespace)
        except BaseException as error:  # noqa: BLE001 - SystemExit in a cell is a load error too
            # Left-over debugging code after the function (a call on a notebook variable,
            # say) fails on its own; the function it already defined is still graded.
            if not (last and callable(namespace.get(target))):
                return namespace, failure(error, stage="load")
    namespace.update(pinned)
    if target is not None and not callable(namespace.get(target)):
        return namespace, error_reply("NameError", f"function {target!r} is not defined", stage="load")
    return namespace, None


def reply(config: Config, message: dict, ident: Any) -> None:
    """Send a reply tagged with its request's id; a result that cannot be sent is an error."""
    try:
        data = wire.pack({**message, "id": ident}, max_size=config.max_message)
    except BaseException as error:  # noqa: BLE001 - too deep, too large, or a hostile object
        failed = error_reply("ResultError", f"cannot send the result: {describe(error)}")
        data = wire.pack({**failed, "id": ident})
    wire.write_all(config.replies, data)


def call(namespace: dict, request: dict) -> dict:
    """Call one function on freshly decoded inputs (read-only ones if the request says so)."""
    name = request.get("name")
    function = namespace.get(name) if isinstance(name, str) else None
    if not callable(function):
        return error_reply("NameError", f"function {name!r} is not defined")
    args, kwargs = list(request.get("args") or ()), dict(request.get("kwargs") or {})
    read_only = request.get("read_only_inputs") is True
    if read_only:
        try:
            args, kwargs = read_only_inputs(args, kwargs)
        except Exception as error:  # noqa: BLE001 - e.g. RLIMIT_FSIZE or RLIMIT_AS too low
            return error_reply("SandboxError", f"read-only inputs could not be made: {describe(error)}")
    try:
        value = function(*args, **kwargs)
    except BaseException as error:  # noqa: BLE001 - SystemExit and friends are answers too
        return failure(error, read_only)
    return {"ok": True, "value": value}


def serve(config: Config, namespace: dict) -> int:
    """Answer call requests until "end" (or the grader going away)."""
    while True:
        try:
            request = wire.read_message(config.requests, max_size=config.max_message)
        except (EOFError, wire.WireError):
            return 2
        op = request.get("op") if isinstance(request, dict) else None
        if op == "end":
            return 0
        ident = request.get("id")
        if op != "call":
            reply(config, error_reply("ProtocolError", f"unknown op {op!r}"), ident)
            continue
        reply(config, call(namespace, request), ident)


# ---------------------------------------------------------------- read-only inputs

SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW  # | write_seal()
F_SEAL_FUTURE_WRITE = 0x0010  # not in Python 3.11's fcntl module
ARRAY_ALIGN = 64  # every array starts on a cache line, as numpy's own allocations do
IOV_MAX = 1024
MAP_FIXED = 0x10  # not in Python 3.11's mmap module
_PADDING = bytes(ARRAY_ALIGN)
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]


def read_only_inputs(args: list, kwargs: dict) -> tuple[tuple, dict]:
    """The call's inputs with every array in sealed read-only memory, lists made tuples and
    dicts mapping proxies, so the function can change none of them in place."""
    arrays: list[np.ndarray] = []
    _collect([args, kwargs], arrays)
    frozen = iter(sealed_arrays(arrays))
    return _rebuild(args, frozen), {key: _rebuild(value, frozen) for key, value in kwargs.items()}


def _collect(value: Any, arrays: list[np.ndarray]) -> None:
    if type(value) is np.ndarray:
        arrays.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, arrays)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, arrays)


def _rebuild(value: Any, frozen: Any) -> Any:
    """value with its arrays replaced, in _collect's order, by the frozen ones."""
    if type(value) is np.ndarray:
        return next(frozen)
    if isinstance(value, (list, tuple)):
        return tuple(_rebuild(item, frozen) for item in value)
    if isinstance(value, dict):
        return types.MappingProxyType({key: _rebuild(item, frozen) for key, item in value.items()})
    return value


def _align(n: int, to: int) -> int:
    return -(-n // to) * to


def sealed_arrays(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Read-only copies of the arrays, all in one region of sealed memfd pages (sealed_region)."""
    offsets, total = [], 0
    for array in arrays:
        total = _align(total, ARRAY_ALIGN)
        offsets.append(total)
        total += array.nbytes
    pieces = [(offset, _raw_bytes(array)) for offset, array in zip(offsets, arrays) if array.nbytes]
    region = sealed_region(pieces, total) if total else b""
    # np.ndarray over a read-only buffer (empty arrays: over b"") is read-only for good
    return [
        np.ndarray(array.shape, array.dtype, region if array.nbytes else b"", offset if array.nbytes else 0)
        for offset, array in zip(offsets, arrays)
    ]


def _raw_bytes(array: np.ndarray) -> memoryview:
    if array.flags.c_contiguous:  # always, for decoded arrays: no copy
        return array.data.cast("B")
    return memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def sealed_region(pieces: list[tuple[int, memoryview]], total: int) -> mmap.mmap:
    """A read-only mapping holding each piece's bytes at its offset, which nothing can make writable.

    The region is reserved as one read-only mmap (munmapped as a whole when the last array
    over it is gone), then filled, chunk by chunk, with memfds: sized, written, sealed
    against writes (write_seal), shrinking, growing and further seals, mapped read-only
    over their part with MAP_FIXED, and closed. A write-sealed memfd can be mapped only
    without VM_MAYWRITE, so mprotect cannot make it writable, and no fd remains to map it
    again.
    A chunk stays within RLIMIT_FSIZE, which a memfd's size obeys.
    """
    size = _align(total, mmap.PAGESIZE)
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
    base = np.frombuffer(region, np.uint8).__array_interface__["data"][0]
    chunk = _chunk_bytes(size)
    pending = iter(pieces)
    piece = next(pending, None)
    for start in range(0, size, chunk):
        length = min(chunk, size - start)
        fd = os.memfd_create("inputs", os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, length)
            piece = _write_chunk(fd, start, start + length, piece, pending)
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, SEALS | write_seal())
            flags = mmap.MAP_SHARED | MAP_FIXED | mmap.MAP_POPULATE  # no page faults in the call
            if _libc.mmap(base + start, length, mmap.PROT_READ, flags, fd, 0) != base + start:
                code = ctypes.get_errno()
                raise OSError(code, f"mmap: {os.strerror(code)}")
        finally:
            os.close(fd)
    return region


@functools.lru_cache(maxsize=1)
def write_seal() -> int:
    """F_SEAL_WRITE where a write-sealed memfd may be mapped read-only (Linux 6.7 on), else
    F_SEAL_FUTURE_WRITE (5.1 on): it forbids the same writes and writable mappings, and
    likewise maps read-only without VM_MAYWRITE."""
    fd = os.memfd_create("probe", os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, mmap.PAGESIZE)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)
        mmap.mmap(fd, mmap.PAGESIZE, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ).close()
        return fcntl.F_SEAL_WRITE
    except OSError:
        return F_SEAL_FUTURE_WRITE
    finally:
        os.close(fd)


def _chunk_bytes(size: int) -> int:
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit == resource.RLIM_INFINITY:
        return size
    chunk = limit // mmap.PAGESIZE * mmap.PAGESIZE
    if chunk <= 0:
        raise OSError(errno.EFBIG, "RLIMIT_FSIZE is below a page")
    return chunk


def _write_chunk(fd: int, start: int, end: int, piece: Any, pending: Any) -> Any:
    """Write the pieces (offset, bytes), from piece on, that fall in [start, end) at offset - start,
    in as few pwritev calls as IOV_MAX allows; returns the first piece (or rest of one) past end."""
    vectors: list[Any] = []
    at = position = 0  # where the batch starts in the chunk, and where its next byte lands
    while piece is not None and piece[0] < end:
        offset, data = piece
        if len(vectors) >= IOV_MAX - 1:
            _pwritev(fd, vectors, at)
            vectors = []
        if not vectors:
            at = position = offset - start
        elif offset - start > position:
            vectors.append(_PADDING[: offset - start - position])  # gaps are shorter than ARRAY_ALIGN
        vectors.append(data[: end - offset])
        position = min(offset + len(data), end) - start
        if offset + len(data) > end:
            piece = (end, data[end - offset :])  # runs on into the next chunk
            break
        piece = next(pending, None)
    if vectors:
        _pwritev(fd, vectors, at)
    return piece


def _pwritev(fd: int, vectors: list[Any], at: int) -> None:
    if os.pwritev(fd, vectors, at) != sum(len(vector) for vector in vectors):
        raise OSError(errno.EIO, "short write of the read-only inputs")


if __name__ == "__main__":
    sys.exit(main())
