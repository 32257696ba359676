"""The program that runs inside the sandbox: a zygote that forks one child per session.

Importing numpy takes ~0.1 s, and grading runs one session per graded function (so
that no process ever holds the reference version of the function under test), so
the zygote imports numpy once and forks a fresh child for every session. The child
confines itself further (Landlock, no forking, output to a bounded file), executes
the session's cells in one fresh namespace and answers call requests.

Channels are inherited pipe fds passed by number, never stdin/stdout, so nothing the
student prints can be taken for a message:
  requests  grader -> worker   {"op": "session" | "call" | "end" | "shutdown", ...}
  replies   session child -> grader   {"ok": ..., "stage": "load"} / {"ok": ..., "value": ...}
  status    zygote -> grader only     {"stage": "ready"} / {"stage": "exit", "exitcode": n, "output": s}
The session child closes the status fd before running student code, so student code
can forge replies for its own session but never a zygote status, and whatever it
leaves in a pipe is drained before the next session.

Every session is forked from the zygote and inherits its memory, freed blocks
included, whose contents stay until reused. So the zygote never holds anything a
session could use: not a request (each session request carries the reference cells
of the other functions), not what a session left behind (its output, names of its
files). A child forked once a request is waiting reads it and becomes the session; after
it, a second child (the janitor) cleans up and writes the exit status into a pipe,
which the zygote relays through a buffer it zeroes, once the janitor is gone (so the
grader, which takes the zygote's only child for the session child, never meets it).

Every request carries a random "id" that its reply echoes: a reply cannot be written
before its request was sent, so answers forged ahead of time (outside the CPU-measured
call) are detected.

This file imports only the standard library, numpy and its two siblings wire.py and
landlock.py; the sandbox copies the three files into a directory of their own.
"""

from __future__ import annotations

import argparse
import builtins
import ctypes
import io
import linecache
import os
import platform
import resource
import select
import shutil
import signal
import stat
import struct
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any

if __package__:
    from . import landlock, wire
else:  # run by path inside the sandbox: the siblings sit next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import landlock  # type: ignore[no-redef]
    import wire  # type: ignore[no-redef]

import numpy as np  # noqa: F401  (imported once here, shared by every forked session)

ERROR_CHARS = 500
TRACEBACK_CHARS = 4000
OUTPUT_FILE = "output.txt"
PREAMBLE = "import numpy as np\n"
STUDENT_CELL = "<student cell>"


@dataclass(frozen=True)
class Config:
    requests: int
    replies: int
    status: int
    scratch: str
    output_bytes: int
    max_message: int
    read_only: tuple[str, ...]


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--replies", type=int, required=True)
    parser.add_argument("--status", type=int, required=True)
    parser.add_argument("--scratch", required=True)
    parser.add_argument("--output-bytes", type=int, default=1 << 20)
    parser.add_argument("--max-message", type=int, default=wire.DEFAULT_MAX_SIZE)
    parser.add_argument("--read-only", action="append", default=[])
    args = parser.parse_args(argv)
    return Config(
        args.requests,
        args.replies,
        args.status,
        args.scratch,
        args.output_bytes,
        args.max_message,
        tuple(args.read_only),
    )


# ---------------------------------------------------------------- zygote


def main(argv: list[str] | None = None) -> int:
    """Serve sessions until the grader closes the request pipe or asks to shut down."""
    config = parse_args(argv)
    harden_zygote()
    baseline = Baseline.take(config.scratch)
    send(config.status, {"stage": "ready", "landlock": landlock.abi_version()})
    while True:
        told, exitcode = run_session(config)
        if told == SESSION:
            if not report_exit(config, baseline, exitcode):
                return 3
        elif told == STOP:
            return 0
        elif told != IGNORED:
            return 3  # the stream is out of step, or no child: the grader restarts the sandbox


def harden_zygote() -> None:
    """Keep session children from ptracing us or reading our memory; pid 1 ignores SIGINT."""
    landlock.set_dumpable(False)
    landlock.set_no_new_privs()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def send(fd: int, message: dict) -> None:
    wire.write_message(fd, message)


# What the child forked for the next request tells the zygote, before any student code runs.
SESSION, IGNORED, STOP = b"S", b"I", b"Q"


def run_session(config: Config) -> tuple[bytes, int | None]:
    """Fork a child that reads the next request and, if it opens a session, becomes it.

    Returns what the child told (b"" if it died first or could not be forked) and its exit
    code (negative: killed by a signal), once it has ended. The child is forked only once a
    request is waiting: until then the zygote has no child, which is how the grader finds it.
    """
    select.select([config.requests], [], [])
    told_r, told_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(told_r)
        os.close(told_w)
        return b"", None
    if pid == 0:
        os.close(told_r)
        code = 70
        try:
            code = next_request(config, told_w)
        finally:
            os._exit(code)
    os.close(told_w)
    try:
        told = os.read(told_r, 1)
    finally:
        os.close(told_r)
    return told, reap(pid)


def next_request(config: Config, told: int) -> int:
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
    return session_main(config, request) if op == "session" else 0


def report_exit(config: Config, baseline: Baseline, exitcode: int | None) -> bool:
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
            output = read_output(config)
            drain(config.requests)
            clean = clean_up(config, baseline)
            message = {"stage": "exit", "exitcode": exitcode, "output": output, "clean": clean}
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


def read_output(config: Config) -> str:
    """What the session printed (at most output_bytes), read without following links."""
    try:
        fd = os.open(os.path.join(config.scratch, OUTPUT_FILE), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.read(fd, config.output_bytes).decode("utf-8", "replace")
    finally:
        os.close(fd)


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
    """Remove what the session left; False if that failed (the grader then restarts us)."""
    try:
        remove_ipc_objects()
        wipe(config.scratch)
        return not os.listdir(config.scratch) and (baseline is None or baseline.restore())
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
    writable directories the sessions share (scratch itself, bwrap's /dev and /dev/shm),
    nor the kernel keyrings of the sandbox's uid: each would let the session that holds
    the reference of `conv_forward` hand it to the session that grades the student's. The
    zygote records them before the first session and puts them back after each one.
    """

    inodes: dict[str, tuple[int, int, int, dict[str, bytes]]] = field(default_factory=dict)
    keys: dict[int, set[int]] = field(default_factory=dict)

    @classmethod
    def take(cls, scratch: str) -> Baseline:
        baseline = cls()
        paths = [scratch, "/dev", "/dev/mqueue"]
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
    """Delete SysV IPC objects and POSIX message queues a session created.

    They outlive processes, and the sandbox's IPC namespace is shared by all its
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


def session_main(config: Config, request: dict) -> int:
    """Run in the forked child: confine, load the cells, then answer calls until "end"."""
    os.close(config.status)
    redirect_output(config)
    abi = confine(config)
    ident = request.get("id")
    if abi < 0:
        error = "SandboxError: Landlock could not be applied"
        reply(config, {"ok": False, "stage": "load", "error": error}, ident)
        return 1
    namespace, failed = load(request)
    if failed is not None:
        reply(config, failed, ident)
        return 1
    reply(config, {"ok": True, "stage": "load", "landlock": abi}, ident)
    return serve(config, namespace)


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


def redirect_output(config: Config) -> None:
    """fd 0 from /dev/null, fds 1 and 2 into a file in scratch (RLIMIT_FSIZE bounds it)."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    path = os.path.join(config.scratch, OUTPUT_FILE)
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
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


def describe(error: BaseException) -> str:
    """ "ExceptionType: message", cut to ERROR_CHARS; never fails on odd exceptions."""
    try:
        message = str(error)
    except BaseException:  # noqa: BLE001 - a student's __str__ may raise anything
        message = "<unprintable message>"
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text[:ERROR_CHARS]


def student_traceback(error: BaseException) -> str:
    """The traceback restricted to frames in the student's cell (no reference code lines)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == STUDENT_CELL]
    listing = "".join(traceback.format_list(frames))[-TRACEBACK_CHARS:]
    return f"{listing}{describe(error)}\n"


def failure(error: BaseException, **extra: Any) -> dict:
    try:
        trace = student_traceback(error)
    except BaseException:  # noqa: BLE001
        trace = ""
    return {"ok": False, "error": describe(error), "traceback": trace, **extra}


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
        return namespace, {
            "ok": False,
            "stage": "load",
            "error": f"NameError: function {target!r} is not defined",
        }
    return namespace, None


def reply(config: Config, message: dict, ident: Any) -> None:
    """Send a reply tagged with its request's id; a result that cannot be sent is an error."""
    try:
        data = wire.pack({**message, "id": ident}, max_size=config.max_message)
    except BaseException as error:  # noqa: BLE001 - too deep, too large, or a hostile object
        error_text = f"ResultError: cannot send the result: {describe(error)}"
        data = wire.pack({"ok": False, "error": error_text, "id": ident})
    wire.write_all(config.replies, data)


def call(namespace: dict, request: dict) -> dict:
    """Call one function on freshly decoded inputs."""
    name = request.get("name")
    function = namespace.get(name) if isinstance(name, str) else None
    if not callable(function):
        return {"ok": False, "error": f"NameError: function {name!r} is not defined"}
    args, kwargs = list(request.get("args") or ()), dict(request.get("kwargs") or {})
    try:
        value = function(*args, **kwargs)
    except BaseException as error:  # noqa: BLE001 - SystemExit and friends are answers too
        return failure(error)
    if request.get("return_inputs"):
        # The inputs as the function left them, so the grader can tell if it changed them.
        value = {"result": value, "args": args, "kwargs": kwargs}
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
            reply(config, {"ok": False, "error": f"ProtocolError: unknown op {op!r}"}, ident)
            continue
        reply(config, call(namespace, request), ident)


if __name__ == "__main__":
    sys.exit(main())
