"""Grader side of the sandbox that runs untrusted student code.

`Sandbox` starts `worker.py` as a zygote process (numpy imported once) and asks it
for one forked session per graded function; `Session.call` runs a function on
inputs the grader chooses and returns plain data (see wire.py: nothing is ever
unpickled or eval'd here) together with the CPU time the session child used,
measured from outside through its process CPU clock.

Layers, each a kernel mechanism. A missing layer is reported with a
`SandboxWarning` naming the protection lost, and the others still apply:

1. bubblewrap (when `bwrap` is on PATH): new user, pid, net, ipc, uts and cgroup
   namespaces; no nested user namespaces; the zygote's init is pid 1, so killing it
   (or the zygote) tears down every process in the sandbox; dies with the grader; a
   read-only root holding only what sessions need (the interpreter, its stdlib,
   numpy, the shared libraries they load, /etc/ld.so.cache) and a private copy of
   worker.py/wire.py/landlock.py, all from a copy in RAM (tmpfs, built once per
   process: see runtime_tree), so no session can pass data to a later one through
   the page cache of a disk file; a size-limited tmpfs scratch dir is the only
   writable place. The course folder does not exist in there.
   The zygote keeps CAP_SYS_ADMIN and CAP_SETPCAP of the sandbox's own user namespace
   (nothing outside it) so that each session gets fresh mount and IPC namespaces, a
   fresh tmpfs scratch and the same pid as every other, and no loopback; the session
   child then drops every capability for good (bounding and ambient sets, locked
   securebits) before any student code runs (worker.py says how).
   Missing: no filesystem, pid or network isolation (Landlock still limits files),
   scratch is a host directory wiped between sessions, and the dedicated uid is only
   used if the Python installation is reachable by other users (it is not under a
   0700 /root).
2. a dedicated uid (61000 + slot, claimed with an flock'ed file in /tmp) when the
   grader runs as root: RLIMIT_NPROC is enforced (it is not for root), root-only
   files are unreadable, and close() can kill every process of that uid. bwrap then
   runs unprivileged as that uid; the Python installation, which may sit under a
   root-only directory such as /root, is bind-mounted to a reachable staging path
   in a private mount namespace first. Missing (grader not root): processes run
   as the grader's own user.
3. rlimits set before exec: address space, CPU seconds (a backstop behind the
   grader's own CPU budget), processes (4 = bwrap + the zygote's init + zygote + one
   session, as measured), file size, open files, no core dumps. Each session child also sets
   RLIMIT_NPROC to 0: it can neither fork nor start threads. The kernel ignores
   RLIMIT_NPROC for root, so this holds unless student code runs as root (bwrap
   missing and the Python installation unreachable for the dedicated uid).
4. Landlock, in each session child (worker.py): read-only access to the Python and
   system dirs, read-write to scratch only, no TCP, and no signals or abstract unix
   sockets outside its domain, plus PR_SET_NO_NEW_PRIVS; the zygote is
   non-dumpable so it cannot be ptraced or have its memory read. Missing (no
   Landlock in the kernel): only layers 1-3 confine files and signals.

A session holds the reference versions of the other functions, so nothing may pass
from one session to the next, counters included (worker.py says how): each session
gets fresh namespaces and scratch (or, without them, scratch is emptied and IPC
objects deleted after it); extended attributes, kernel keyrings and the shared pipes'
state are restored; and the zygote, whose memory every session inherits, never reads a
request or a session's output itself. Every request carries a random id its reply must
echo, so replies forged ahead of time (outside the measured call) are rejected as
"protocol" errors. The grader decodes every reply with size, depth, item and time
limits, trusts none of its fields beyond their type and length, and never blocks on a
pipe without a deadline.
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import functools
import mmap
import os
import resource
import secrets
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder import landlock, wire

DEFAULT_MEMORY_BYTES = 2 << 30
DEFAULT_OUTPUT_BYTES = 1 << 20
DEFAULT_SCRATCH_BYTES = 64 << 20
DEFAULT_WALL_TIMEOUT_S = 10.0
DEFAULT_CPU_BACKSTOP_S = 60
START_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 3.0
# A reply or status that takes longer to decode was crafted to: the call fails as "protocol".
DECODE_DEADLINE_S = 5.0
POLL_S = 0.005
OPEN_FILES = 64
F_SETPIPE_SZ = 1031
PIPE_BYTES = 1 << 20  # /proc/sys/fs/pipe-max-size's default
# bwrap's monitor process + the zygote's init + the zygote + one session child; see the
# test that checks a session can neither fork nor start a thread.
PROCESS_LIMIT = 4

BASE_UID = 61000
UID_SLOTS = 256
LOCK_DIR = "/tmp"
INSIDE_LIB = "/sandbox/lib"
INSIDE_SCRATCH = "/sandbox/scratch"
WORKER_FILES = ("worker.py", "wire.py", "landlock.py")
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
STATUSES = frozenset({"ok", "error", "timeout", "cpu_limit", "crashed", "protocol"})
# Bounds on the structured error fields, applied again here: the session may have forged them.
ERROR_CHARS, TRACEBACK_CHARS = 1000, 8000
ERROR_TYPE_CHARS, ERROR_MESSAGE_CHARS, ERROR_SOURCE_CHARS = 60, 200, 120


SHARED_SESSIONS = (
    "sessions share one scratch directory and IPC namespace, which are wiped between sessions, "
    "but their counters (inode numbers, IPC ids, pids) carry over from one session to the next"
)


class SandboxWarning(UserWarning):
    """A protection layer is unavailable on this machine; the message names it."""


class SandboxError(RuntimeError):
    """The sandbox could not be started or has failed in a way it cannot recover from."""


class SessionLoadError(SandboxError):
    """The session's cells could not be loaded: a cell raised, timed out or crashed.

    error_type, error_message, error_line and error_source: as in CallResult.
    """

    def __init__(
        self,
        status: str,
        error: str,
        traceback: str = "",
        error_type: str = "",
        error_message: str = "",
        error_line: int | None = None,
        error_source: str = "",
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.traceback = traceback
        self.error_type = error_type
        self.error_message = error_message
        self.error_line = error_line
        self.error_source = error_source


@dataclass(frozen=True)
class CallResult:
    """What one call returned: plain data, never an object of the student's.

    On status "error", error_type is the exception type's name, error_message the first
    line of its message, error_line and error_source the innermost line of the student's
    cell it went through (None and "" if none): short, and only as true as the session
    that sent them. wrote_input: it failed writing into a read-only input.
    """

    status: str  # one of STATUSES
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

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# ---------------------------------------------------------------- processes and CPU clocks

_libc = ctypes.CDLL(None, use_errno=True)
_CLK_TCK = os.sysconf("SC_CLK_TCK")
CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MS_BIND = 0x1000


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
    """SIGKILL every process of uid, from a helper that becomes that uid and kills -1.

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
        helper = os.fork()
        if helper == 0:
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(helper, 0)
        time.sleep(0.01)
    return True


# ---------------------------------------------------------------- uid slots


class UidSlot:
    """A dedicated uid for one sandbox, held through an flock so sandboxes never share one."""

    def __init__(self, uid: int, lock_fd: int) -> None:
        self.uid = uid
        self._lock_fd = lock_fd

    @classmethod
    def claim(cls) -> UidSlot:
        for slot in range(UID_SLOTS):
            uid = BASE_UID + slot
            path = os.path.join(LOCK_DIR, f"autograder-uid-{uid}.lock")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return cls(uid, fd)
        raise SandboxError(f"all {UID_SLOTS} sandbox uids are in use")

    def release(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


# ---------------------------------------------------------------- launch plan


def _usable_by_others(path: str) -> bool:
    """Whether an unprivileged uid can reach path (every ancestor searchable by others)."""
    current = Path(os.path.realpath(path))
    for directory in [current, *current.parents]:
        try:
            mode = directory.stat().st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return False
    return True


def _python_dirs() -> list[str]:
    """The interpreter's installation and virtualenv, resolved, without duplicates."""
    dirs: list[str] = []
    for prefix in (sys.base_prefix, sys.prefix):
        path = os.path.realpath(prefix)
        if not any(path == d or path.startswith(d + os.sep) for d in dirs):
            dirs.append(path)
    return dirs


# ---------------------------------------------------------------- runtime tree in RAM
#
# Every file a session can read is a copy in a tmpfs (RAM, never written back, and with no
# swap never evicted), so no session can change or observe the residency of a disk-backed
# page: the host page cache is no channel between sessions (reading a cold page of a file
# under /usr to load it, or posix_fadvise(DONTNEED) to evict it, and a later session
# probing with preadv(RWF_NOWAIT) or read timing). The tree holds only what a session needs:
# the interpreter, its stdlib, numpy, the shared libraries they link and the worker files;
# it is built once per process, shared by its sandboxes, and removed at exit.

TMPFS_MAGIC = 0x01021994
RUNTIME_PARENTS = ("/dev/shm", "/run/shm")
RUNTIME_PREFIX = "autograder-runtime-"
STDLIB_SKIP = frozenset(
    {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages", "__phello__"}
)
VENV_PACKAGES = ("numpy", "numpy.libs")
ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NEEDED, DT_STRTAB = 1, 5


class _Statfs(ctypes.Structure):
    _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_long * 15)]


def filesystem_type(path: str) -> int | None:
    """statfs(2)'s f_type of the filesystem holding path (TMPFS_MAGIC for tmpfs)."""
    buf = _Statfs()
    if _libc.statfs(os.fsencode(path), ctypes.byref(buf)) != 0:
        return None
    return buf.f_type & 0xFFFFFFFF


def swap_enabled() -> bool:
    try:
        with open("/proc/swaps") as swaps:
            return len(swaps.read().strip().splitlines()) > 1
    except OSError:
        return False


def _elf_info(path: str) -> tuple[list[str], str | None] | None:
    """DT_NEEDED sonames and PT_INTERP of an ELF64 little-endian file (None if not one)."""
    try:
        with open(path, "rb") as file:
            data = mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ)
    except (OSError, ValueError):
        return None
    with data:
        return _elf_fields(data)


def _elf_fields(data: Any) -> tuple[list[str], str | None] | None:
    if data[:4] != ELF_MAGIC or data[4] != 2 or data[5] != 1:
        return None
    phoff, phentsize, phnum = struct.unpack_from("<Q", data, 32)[0], *struct.unpack_from("<HH", data, 54)
    loads, dynamic, interp = [], None, None
    for index in range(phnum):
        kind, _, offset, vaddr, _, filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + index * phentsize
        )
        if kind == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif kind == PT_DYNAMIC:
            dynamic = (offset, filesz)
        elif kind == PT_INTERP:
            interp = data[offset : offset + filesz].rstrip(b"\0").decode()
    if dynamic is None:
        return [], interp
    entries = [struct.unpack_from("<qQ", data, dynamic[0] + at) for at in range(0, dynamic[1], 16)]
    strtab = next((value for tag, value in entries if tag == DT_STRTAB), None)
    base = next(
        (off + strtab - va for va, off, size in loads if strtab is not None and va <= strtab < va + size),
        None,
    )
    if base is None:
        return [], interp
    needed = []
    for tag, value in entries:
        if tag == DT_NEEDED:
            end = data.find(b"\0", base + value)
            needed.append(data[base + value : end].decode())
    return needed, interp


def _library_index() -> dict[str, str]:
    """soname -> path, from the dynamic linker's cache (this machine's architecture)."""
    machine = "x86-64" if sys.maxsize > 2**32 and os.uname().machine == "x86_64" else None
    found: dict[str, str] = {}
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        for line in listing.splitlines()[1:]:
            name, _, rest = line.strip().partition(" (")
            flags, _, path = rest.partition(") => ")
            if path and (machine is None or machine in flags) and name not in found:
                found[name] = path
        break
    return found


class _Runtime:
    """The tmpfs tree holding, at their real paths under root/, the files sessions read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.owner = os.getpid()
        self.binds: list[str] = []  # absolute paths, each bound from root/<path>
        self.bytes = 0
        self.files = 0
        self.seconds = 0.0

    def inside(self, path: str) -> str:
        return f"{self.root}/fs/{path.lstrip('/')}"

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    def remove(self) -> None:
        if os.getpid() == self.owner:
            _remove_tree(self.root)

    # -- building

    def _dir(self, path: str) -> None:
        os.makedirs(self.inside(path), mode=0o755, exist_ok=True)

    def _file(self, source: str, target: str | Path) -> None:
        info = os.stat(source)
        shutil.copyfile(source, target, follow_symlinks=True)
        os.chmod(target, (info.st_mode & 0o555) | 0o444)
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))  # .pyc files check the mtime
        self.bytes += info.st_size
        self.files += 1

    def add(self, path: str) -> str:
        """Copy path (and every symlink on the way to it) into the tree; return its real path."""
        directory, name = os.path.split(os.path.abspath(path))
        directory = os.path.realpath(directory)
        path = os.path.join(directory, name)
        target = self.inside(path)
        if os.path.islink(path):
            if not os.path.islink(target):
                self._dir(directory)
                os.symlink(os.readlink(path), target)
            return self.add(os.path.join(directory, os.readlink(path)))
        if os.path.isdir(path):
            self._dir(path)
        elif not os.path.exists(target):
            self._dir(directory)
            self._file(path, target)
        return path

    def add_tree(self, source: str, skip: frozenset[str] = frozenset()) -> None:
        """Copy a directory, without skipped names, stale caches or other optimisation levels."""
        tag = f".{sys.implementation.cache_tag}.pyc"
        for top, dirs, files in os.walk(source):
            dirs[:] = [d for d in dirs if d not in skip and not (top == source and d.startswith("config-"))]
            self._dir(top)
            in_cache = os.path.basename(top) == "__pycache__"
            for name in files:
                if name in skip or (in_cache and not name.endswith(tag)):
                    continue
                full = os.path.join(top, name)
                if os.path.islink(full):
                    link = self.inside(full)
                    if not os.path.islink(link):
                        os.symlink(os.readlink(full), link)
                elif os.path.isfile(full):
                    self._file(full, self.inside(full))

    def add_libraries(self, objects: list[str]) -> None:
        """Every shared library the objects need, transitively, with the dynamic loader."""
        index: dict[str, str] | None = None
        todo, seen = list(objects), set()
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            info = _elf_info(path)
            if info is None:
                continue
            needed, interp = info
            if interp:
                todo.append(self.add(interp))
            for soname in needed:
                local = self._beside(path, soname)
                if local is None:
                    index = _library_index() if index is None else index
                    local = index.get(soname)
                if local is None:
                    raise SandboxError(f"shared library {soname} of {path} not found")
                todo.append(self.add(local))

    @staticmethod
    def _beside(path: str, soname: str) -> str | None:
        """soname in the object's own RPATH-ish places: its dir, ../lib and numpy.libs (wheels)."""
        here = os.path.dirname(os.path.realpath(path))
        for directory in (here, os.path.join(here, "..", "lib"), *_wheel_lib_dirs(here)):
            candidate = os.path.join(directory, soname)
            if os.path.exists(candidate):
                return os.path.normpath(candidate)
        return None

    @classmethod
    def build(cls, parent: str) -> _Runtime:
        started = time.monotonic()
        runtime = cls(Path(tempfile.mkdtemp(prefix=f"{RUNTIME_PREFIX}{os.getpid()}-", dir=parent)))
        try:
            runtime.root.chmod(0o755)
            base, venv = (os.path.realpath(p) for p in (sys.base_prefix, sys.prefix))
            version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
            objects = [runtime.add(sys.executable)]
            runtime.add_tree(os.path.join(base, "lib", version), STDLIB_SKIP | {"_tkinter" + _ext_suffix()})
            for name in os.listdir(os.path.join(base, "lib")):
                if name.startswith("libpython"):
                    runtime.add(os.path.join(base, "lib", name))
            if venv != base:
                for name in ("pyvenv.cfg", "lib64"):
                    if os.path.lexists(os.path.join(venv, name)):
                        runtime.add(os.path.join(venv, name))
                site = os.path.join(venv, "lib", version, "site-packages")
                for name in VENV_PACKAGES:
                    if os.path.isdir(os.path.join(site, name)):
                        runtime.add_tree(os.path.join(site, name), frozenset({"tests"}))
            for top in (base, venv):
                for folder, _, files in os.walk(runtime.inside(top)):
                    objects += [
                        os.path.join(folder, f)[len(str(runtime.root / "fs")) :] for f in files if ".so" in f
                    ]
            runtime.add_libraries(objects)
            if os.path.isfile("/etc/ld.so.cache"):
                runtime.add("/etc/ld.so.cache")
            runtime.lib.mkdir(mode=0o755)
            here = Path(__file__).resolve().parent
            for name in WORKER_FILES:
                runtime._file(str(here / name), runtime.lib / name)
            runtime.binds = sorted(
                "/" + name for name in os.listdir(runtime.root / "fs") if not os.path.islink(f"/{name}")
            )
            runtime.binds = [p for p in runtime.binds if p != "/etc"] + (
                ["/etc/ld.so.cache"] if os.path.exists(runtime.inside("/etc/ld.so.cache")) else []
            )
        except BaseException:
            _remove_tree(runtime.root)
            raise
        runtime.seconds = time.monotonic() - started
        return runtime


def _ext_suffix() -> str:
    import sysconfig

    return str(sysconfig.get_config_var("EXT_SUFFIX") or ".so")


@functools.cache
def _wheel_lib_dirs(here: str) -> list[str]:
    """The <package>.libs folders auditwheel puts next to a package (RPATH $ORIGIN/../<pkg>.libs)."""
    found, current = [], here
    for _ in range(4):
        current = os.path.dirname(current)
        try:
            found += [os.path.join(current, n) for n in os.listdir(current) if n.endswith(".libs")]
        except OSError:
            break
    return found


_runtime: _Runtime | None = None
_runtime_lock = threading.Lock()


def _remove_stale_runtimes(parent: str) -> None:
    """Trees left by grading processes that died without their exit handlers (SIGKILL)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        pid = name[len(RUNTIME_PREFIX) :].partition("-")[0]
        if name.startswith(RUNTIME_PREFIX) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            _remove_tree(Path(parent) / name)


def runtime_tree() -> _Runtime | None:
    """This process's tmpfs runtime tree, built on first use; None (with a warning) if no tmpfs."""
    global _runtime
    with _runtime_lock:
        if _runtime is not None and _runtime.owner == os.getpid() and _runtime.root.is_dir():
            return _runtime
        parent = next((p for p in RUNTIME_PARENTS if filesystem_type(p) == TMPFS_MAGIC), None)
        if parent is None:
            warnings.warn(
                "no tmpfs (/dev/shm) for the sandbox's runtime files: sessions read /usr and the Python "
                "installation from disk, and the host page cache is a channel between sessions",
                SandboxWarning,
                stacklevel=4,
            )
            return None
        if swap_enabled():
            warnings.warn(
                "swap is on: the sandbox's runtime files in tmpfs may be swapped out, so the residency "
                "of their pages can be a channel between sessions",
                SandboxWarning,
                stacklevel=4,
            )
        _remove_stale_runtimes(parent)
        _runtime = _Runtime.build(parent)
        atexit.register(_runtime.remove)
        return _runtime


@dataclass
class _Layout:
    """Host paths of one sandbox: a root-owned 0711 directory holding lib/, scratch/, mnt/."""

    root: Path
    uid: int | None

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    @property
    def log(self) -> Path:
        return self.root / "sandbox.log"

    def staging(self, index: int) -> Path:
        return self.root / "mnt" / str(index)

    @classmethod
    def create(cls, uid: int | None) -> _Layout:
        layout = cls(Path(tempfile.mkdtemp(prefix="autograder-sandbox-")), uid)
        layout.root.chmod(0o711)
        layout.lib.mkdir(mode=0o755)
        here = Path(__file__).resolve().parent
        for name in WORKER_FILES:
            shutil.copyfile(here / name, layout.lib / name)
            (layout.lib / name).chmod(0o644)
        layout.lib.chmod(0o755)
        for index, _ in enumerate(_python_dirs()):
            layout.staging(index).mkdir(parents=True, mode=0o755)
        (layout.root / "mnt").chmod(0o711)
        layout.reset_scratch()
        return layout

    def reset_scratch(self) -> None:
        """A fresh, empty scratch dir owned by the sandbox uid (call with no process alive)."""
        _remove_tree(self.scratch)
        self.scratch.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(self.scratch, self.uid, self.uid)

    def remove(self) -> None:
        _remove_tree(self.root)


def _remove_tree(path: Path) -> None:
    """rmtree that also copes with trees too deep for Python's recursion (student-made)."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], check=False)


def _bwrap_argv(
    layout: _Layout, staged: bool, scratch_bytes: int, runtime: _Runtime | None = None
) -> list[str]:
    """bubblewrap options: fresh namespaces and a minimal read-only root.

    With a runtime tree, every file the root holds is its tmpfs copy (at the path it has on
    the host); without one, /usr and the Python installation are bound from disk.
    """
    argv = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"]
    # Only the zygote holds these, in the sandbox's own user namespace; see worker.py.
    argv += ["--new-session", "--as-pid-1", "--cap-drop", "ALL"]
    argv += ["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP"]
    for name in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(name):
            argv += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name) and runtime is None:
            argv += ["--ro-bind", name, name]
    if runtime is not None:
        for path in runtime.binds:
            argv += ["--ro-bind", runtime.inside(path), path]
        argv += ["--ro-bind", str(runtime.lib), INSIDE_LIB]
    else:
        argv += ["--ro-bind", "/usr", "/usr", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        for index, path in enumerate(_python_dirs()):
            source = str(layout.staging(index)) if staged else path
            argv += ["--ro-bind", source, path]
        argv += ["--ro-bind", str(layout.lib), INSIDE_LIB]
    argv += ["--size", str(scratch_bytes), "--tmpfs", INSIDE_SCRATCH]
    argv += ["--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue", "--remount-ro", "/"]
    argv += ["--chdir", INSIDE_SCRATCH, "--clearenv"]
    for key, value in _environment(INSIDE_SCRATCH).items():
        argv += ["--setenv", key, value]
    return argv + ["--"]


def _environment(home: str) -> dict[str, str]:
    """All the environment student code gets: no grader variables leak in."""
    env = {"PATH": "/usr/bin:/bin", "HOME": home}
    env.update({name: "1" for name in BLAS_THREADS})
    # glibc keeps freed memory, large blocks included, for the next allocation: a function's
    # repeated timed runs then measure its work, not the page faults of freshly mapped memory.
    env["GLIBC_TUNABLES"] = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"
    return env


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _stage_mounts(layout: _Layout) -> None:
    """In a private mount namespace, bind the Python dirs to paths the sandbox uid can reach.

    Runs in the forked child before exec, as root: the mounts vanish with the sandbox.
    """
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
    for index, path in enumerate(_python_dirs()):
        target = str(layout.staging(index)).encode()
        _check(_libc.mount(path.encode(), target, None, MS_BIND | MS_REC, None), "bind mount")


def _set_rlimits(memory_bytes: int, output_bytes: int, cpu_s: int, nproc: int | None) -> None:
    limits = {
        resource.RLIMIT_AS: memory_bytes,
        resource.RLIMIT_CPU: cpu_s,
        resource.RLIMIT_FSIZE: output_bytes,
        resource.RLIMIT_NOFILE: OPEN_FILES,
        resource.RLIMIT_CORE: 0,
    }
    if nproc is not None:
        limits[resource.RLIMIT_NPROC] = nproc
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))


def _drop_to(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


# ---------------------------------------------------------------- the grader's end of the pipes


class _Channel:
    """Non-blocking pipe ends with deadlines: the grader never waits forever on a pipe."""

    def __init__(self, max_message: int) -> None:
        self.max_message = max_message
        self.requests_r, self.requests_w = os.pipe()
        self.replies_r, self.replies_w = os.pipe()
        self.status_r, self.status_w = os.pipe()
        for fd in (self.requests_w, self.replies_r, self.status_r):
            os.set_blocking(fd, False)
        for fd in (self.requests_w, self.replies_r):
            try:  # fewer wake-ups for large arrays; the default pipe holds only 64 KiB
                fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:
                pass
        self.replies = wire.FrameReader(max_message)
        self.status = wire.FrameReader(max_message)

    def child_fds(self) -> tuple[int, int, int]:
        return self.requests_r, self.replies_w, self.status_w

    def close_child_ends(self) -> None:
        for fd in self.child_fds():
            os.close(fd)

    def close(self) -> None:
        for fd in (self.requests_w, self.replies_r, self.status_r):
            try:
                os.close(fd)
            except OSError:
                pass

    def send(self, data: bytes, deadline: float) -> bool:
        """Write a whole frame before the deadline; False if the reader stalled or left."""
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _, writable, _ = select.select([], [self.requests_w], [], min(remaining, 0.05))
            if writable:
                try:
                    view = view[os.write(self.requests_w, view) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    return False
        return True

    @staticmethod
    def _pump(fd: int, reader: wire.FrameReader) -> tuple[bytearray | None, bool]:
        """Read what is available into reader: (completed payload or None, end of file)."""
        eof = reader.read_from(fd)
        return reader.payload(), eof

    def read_reply(self) -> tuple[bytearray | None, bool]:
        return self._pump(self.replies_r, self.replies)

    def read_status(self) -> tuple[bytearray | None, bool]:
        return self._pump(self.status_r, self.status)

    def drain_replies(self) -> None:
        """Discard whatever a dead session left in the reply pipe."""
        try:
            while os.read(self.replies_r, 1 << 20):
                pass
        except BlockingIOError:
            pass
        self.replies = wire.FrameReader(self.max_message)


@dataclass
class _Outcome:
    """What waiting for a session child produced."""

    kind: str  # "reply", "exit", "timeout", "cpu_limit", "protocol"
    message: Any = None
    cpu_seconds: float = 0.0
    child: _Child | None = None  # the session child, once it was found


class _Child:
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


# ---------------------------------------------------------------- the sandbox


class Sandbox:
    """A sandboxed zygote that runs student cells in forked sessions (see the module doc).

    Use as a context manager. Not thread-safe: one Sandbox per grading thread, and
    start it from the thread that uses it: bwrap's --die-with-parent fires when the
    thread that started it exits. After a session crashes or is killed the zygote
    reports and serves the next session; if the zygote itself is lost, or the
    channel can no longer be trusted, the next `session()` restarts the sandbox.
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
        self.memory_bytes = memory_bytes
        self.output_bytes = output_bytes
        self.scratch_bytes = scratch_bytes
        self.wall_timeout = wall_timeout
        self.cpu_backstop_s = cpu_backstop_s
        self.max_message_bytes = max_message_bytes
        self.layers: dict[str, bool | int] = {}
        self.restarts = 0
        self._slot: UidSlot | None = None
        self._layout: _Layout | None = None
        self._process: Any = None
        self._channel: _Channel | None = None
        self._zygote_pid: int | None = None
        self._session: Session | None = None
        self._dirty = False

    # -- lifecycle

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the zygote and wait until it has imported numpy and is ready."""
        if self._process is not None:
            return
        self.layers = self._detect_layers()
        if self._slot is None and self.layers["uid"]:
            self._slot = UidSlot.claim()
        uid = self._slot.uid if self._slot else None
        if self._layout is None:
            self._layout = _Layout.create(uid)
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
            self._session._abandon()
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
        if self._process is None:
            return []
        found, todo = [], [self._process.pid]
        while todo:
            pid = todo.pop()
            if cpu_seconds(pid) is not None:
                found.append(pid)
            todo.extend(children(pid))
        if self.uid is not None:
            found.extend(pid for pid in processes_of_uid(self.uid) if pid not in found)
        return found

    # -- layers and launching

    @staticmethod
    def _detect_layers() -> dict[str, bool | int]:
        """Which layers this machine offers; warn, naming the protection, for each missing one."""
        layers: dict[str, bool | int] = {
            "bwrap": shutil.which("bwrap") is not None,
            "uid": os.geteuid() == 0,
            "rlimits": True,
            "landlock": landlock.abi_version(),
        }
        if not layers["bwrap"]:
            warnings.warn(
                "bwrap not found: no filesystem, pid or network namespace isolation for student code; "
                f"{SHARED_SESSIONS}; sessions read files from disk, so the host page cache is a channel "
                "between sessions",
                SandboxWarning,
                stacklevel=3,
            )
        if not layers["uid"]:
            warnings.warn(
                "grader is not root: student code runs as the grader's user (no dedicated uid, "
                "RLIMIT_NPROC not applied per sandbox)",
                SandboxWarning,
                stacklevel=3,
            )
        elif not layers["bwrap"] and not all(map(_usable_by_others, [sys.executable, *_python_dirs()])):
            layers["uid"] = False
            warnings.warn(
                "without bwrap the Python installation is not reachable by a dedicated uid: student "
                "code runs as root, so sessions can fork (RLIMIT_NPROC does not apply to root)",
                SandboxWarning,
                stacklevel=3,
            )
        if not layers["landlock"]:
            warnings.warn(
                "Landlock unavailable: no per-session file, TCP and signal confinement",
                SandboxWarning,
                stacklevel=3,
            )
        elif int(layers["landlock"]) < 6:
            warnings.warn(
                "Landlock ABI < 6: session children may signal the zygote",
                SandboxWarning,
                stacklevel=3,
            )
        return layers

    def _launch(self, uid: int | None) -> None:
        assert self._layout is not None
        layout = self._layout
        channel = _Channel(self.max_message_bytes)
        bwrap = bool(self.layers["bwrap"])
        runtime = runtime_tree() if bwrap else None
        self.layers["tmpfs_runtime"] = runtime is not None
        staged = bwrap and uid is not None and runtime is None
        lib, scratch = (INSIDE_LIB, INSIDE_SCRATCH) if bwrap else (str(layout.lib), str(layout.scratch))
        read_only = ["/usr", "/etc/ld.so.cache", lib, *_python_dirs()]
        command = [sys.executable, "-I", "-B", f"{lib}/worker.py"]
        fds = channel.child_fds()
        command += ["--requests", str(fds[0]), "--replies", str(fds[1]), "--status", str(fds[2])]
        command += ["--scratch", scratch, "--output-bytes", str(self.output_bytes)]
        command += ["--max-message", str(self.max_message_bytes)]
        if bwrap:
            command += ["--fresh-namespaces", "--scratch-bytes", str(self.scratch_bytes)]
        for path in read_only:
            command += ["--read-only", path]
        argv = (_bwrap_argv(layout, staged, self.scratch_bytes, runtime) if bwrap else []) + command
        nproc = PROCESS_LIMIT if uid is not None else None
        limits = (self.memory_bytes, self.output_bytes, self.cpu_backstop_s, nproc)

        def prepare_child() -> None:  # runs after fork, before exec
            if staged:
                _stage_mounts(layout)
            _set_rlimits(*limits)
            if uid is not None:
                _drop_to(uid)

        with open(layout.log, "ab") as log:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=fds,
                cwd=str(layout.scratch),
                env=_environment(scratch),
                preexec_fn=prepare_child,
                start_new_session=not bwrap,  # without a pid namespace, a process group to kill
            )
        channel.close_child_ends()
        self._channel = channel
        ready = self._wait_status(time.monotonic() + START_TIMEOUT_S)
        if not isinstance(ready, dict) or ready.get("stage") != "ready":
            raise SandboxError(f"sandbox did not start: {self.log_tail()}")
        self._note_fresh_sessions(bwrap and ready.get("fresh") is True)
        self._zygote_pid = self._find_zygote()
        self._dirty = False

    def _note_fresh_sessions(self, fresh: bool) -> None:
        """Record whether sessions get fresh namespaces; warn (once) when bwrap could not give them."""
        if self.layers.get("bwrap") and not fresh and self.layers.get("fresh") is not False:
            warnings.warn(
                f"bwrap did not give the zygote CAP_SYS_ADMIN in its user namespace: {SHARED_SESSIONS}",
                SandboxWarning,
                stacklevel=4,
            )
        self.layers["fresh"] = fresh

    def _find_zygote(self) -> int:
        """Follow the single-child chain from bwrap to the leaf: the zygote (no session yet)."""
        pid = self._process.pid
        while True:
            kids = children(pid)
            if len(kids) != 1:
                return pid
            pid = kids[0]

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

    def _stop_processes(self) -> None:
        if self._process is not None:
            self._kill_tree()
            if self.uid is not None and not kill_uid(self.uid):
                warnings.warn(f"processes of uid {self.uid} survived SIGKILL", SandboxWarning, stacklevel=2)
            self._process = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._zygote_pid = None

    def _kill_tree(self) -> None:
        """SIGKILL the zygote, then bwrap, and reap bwrap.

        The zygote first: as pid 1 its death kills the whole pid namespace, and bwrap,
        still alive, reaps it (killed together, init would inherit the zombie, which
        counts against the uid's RLIMIT_NPROC until init gets to it). Without bwrap the
        zygote leads a process group, killed as a whole before it is reaped.
        """
        process = self._process
        if not self.layers.get("bwrap"):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
        for pid, grace in ((self._zygote_pid, 1.0), (process.pid, EXIT_TIMEOUT_S)):
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

    def _restart(self) -> None:
        self._stop_processes()
        assert self._layout is not None
        self._layout.reset_scratch()
        self.restarts += 1
        self._launch(self.uid)

    def _ensure_running(self) -> None:
        if self._process is None:
            self.start()
        elif self._dirty or self._process.poll() is not None:
            self._restart()

    # -- waiting for the worker

    def _wait_status(self, deadline: float) -> Any:
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

    def _wait(
        self, ident: int, child: _Child | None, deadline: float, cpu_budget: float | None, cpu_start: float
    ) -> _Outcome:
        """Wait for the reply to request `ident` while watching the child's CPU and the wall clock.

        Polls every POLL_S: a call over its CPU budget is killed within a few ms of it.
        """
        channel = self._channel
        assert channel is not None
        while True:
            child = child or self._find_session_child()
            used = child.cpu() - cpu_start if child else 0.0
            remaining = deadline - time.monotonic()
            over_budget = cpu_budget is not None and used > cpu_budget
            if over_budget or remaining <= 0:
                if child is not None:
                    child.kill()
                return _Outcome("cpu_limit" if over_budget else "timeout", cpu_seconds=used, child=child)
            readable, _, _ = select.select(
                [channel.replies_r, channel.status_r], [], [], min(POLL_S, remaining)
            )
            outcome = self._take_reply(ident) if channel.replies_r in readable else None
            if outcome is None and channel.status_r in readable:
                outcome = _Outcome("exit", message=self._wait_status(time.monotonic() + EXIT_TIMEOUT_S))
            if outcome is not None:
                outcome.cpu_seconds = child.cpu() - cpu_start if child else used
                outcome.child = child
                return outcome

    def _take_reply(self, ident: int) -> _Outcome | None:
        """Read what the reply pipe holds; an outcome once a whole frame (or EOF) is there."""
        assert self._channel is not None
        try:
            payload, eof = self._channel.read_reply()
        except wire.WireError as error:
            return _Outcome("protocol", message=str(error))
        if payload is None:
            return (
                _Outcome("exit", message=self._wait_status(time.monotonic() + EXIT_TIMEOUT_S))
                if eof
                else None
            )
        try:
            message = wire.decode(payload, deadline_s=DECODE_DEADLINE_S)
        except wire.WireError as error:
            return _Outcome("protocol", message=str(error))
        if not isinstance(message, dict) or message.get("id") != ident:
            return _Outcome("protocol", message="the reply does not answer the request (forged?)")
        return _Outcome("reply", message=message)

    def _find_session_child(self) -> _Child | None:
        if self._zygote_pid is None:
            return None
        kids = children(self._zygote_pid)
        return _Child(kids[0]) if len(kids) == 1 else None

    def _after_exit(self, status: Any) -> str:
        """A session child is gone: the zygote must have reported, else restart next time.

        Returns what the session printed, as the zygote read it from scratch.
        """
        if not (isinstance(status, dict) and status.get("stage") == "exit"):
            self._dirty = True
            return ""
        if status.get("clean") is not True:
            self._dirty = True  # scratch or IPC objects may survive: use a fresh sandbox
        if self._channel is not None:
            self._channel.drain_replies()
        output = status.get("output")
        return output[: self.output_bytes] if isinstance(output, str) else ""

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

    def _send(self, message: dict, deadline: float) -> bool:
        """Write one request; WireError (nothing written) if it cannot be encoded."""
        if self._channel is None:
            return False
        data = wire.pack(message, max_size=self.max_message_bytes)
        if not self._channel.send(data, deadline):
            self._dirty = True  # a frame may be cut: the stream can no longer be trusted
            return False
        return True


class Session:
    """One forked child holding one namespace of cells; calls run there, one at a time.

    If the child dies (a crash, a limit, a timeout), the next call transparently forks
    a fresh session from the same cells first: state never carries over between calls
    anyway, since inputs are sent afresh each time. `output` holds what the student's
    code printed (at most output_bytes), filled in each time the session child ends.
    """

    def __init__(self, sandbox: Sandbox, cells: list[str], target: str | None, pin: list[str]) -> None:
        self._sandbox = sandbox
        self._request = {"op": "session", "cells": cells, "target": target, "pin": pin}
        self._child: _Child | None = None
        self.output = ""
        self.landlock_abi = 0

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._child is not None

    @property
    def pid(self) -> int | None:
        """The session child's pid in the grader's pid namespace."""
        return self._child.pid if self._child else None

    def open(self, timeout: float) -> None:
        """Fork the session child and load the cells (SessionLoadError when that fails)."""
        sandbox = self._sandbox
        if sandbox._session is not None and sandbox._session is not self:
            sandbox._session.close()
        sandbox._ensure_running()
        sandbox._session = self
        ident = secrets.randbits(63)
        start = time.monotonic()
        if not sandbox._send({**self._request, "id": ident}, start + timeout):
            raise SessionLoadError("protocol", "could not send the session request")
        outcome = sandbox._wait(ident, None, start + timeout, None, 0.0)
        self._child = outcome.child
        message = outcome.message if isinstance(outcome.message, dict) else {}
        if outcome.kind == "reply" and message.get("ok") is True and message.get("stage") == "load":
            self._child = self._child or sandbox._find_session_child()
            if self._child is None:
                self._finish_outcome(_Outcome("protocol"))
                raise SessionLoadError("crashed", "the session process vanished after loading")
            self.landlock_abi = _whole(message.get("landlock")) or 0
            return
        if outcome.kind == "reply":
            self._finish(kill=False)
            raise SessionLoadError(
                "error",
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
        sandbox = self._sandbox
        wall = sandbox.wall_timeout if wall_timeout_s is None else wall_timeout_s
        if self._child is None or sandbox._session is not self:
            try:
                self.open(wall)
            except SessionLoadError as error:
                return CallResult(error.status, error=f"the session could not be restarted: {error}")
        child = self._child
        assert child is not None
        ident = secrets.randbits(63)
        request = {"op": "call", "id": ident, "name": name, "args": list(args), "kwargs": dict(kwargs or {})}
        if read_only_inputs:
            request["read_only_inputs"] = True
        start = time.monotonic()
        cpu_start = child.cpu()
        try:
            sent = sandbox._send(request, start + wall)
        except wire.WireError as error:
            return CallResult("error", error=f"arguments cannot be sent: {error}")
        if not sent:
            self._finish_outcome(_Outcome("protocol"))
            return CallResult(
                "protocol", error="could not send the call", wall_seconds=time.monotonic() - start
            )
        outcome = sandbox._wait(ident, child, start + wall, cpu_budget_s, cpu_start)
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
        if self._child is not None:
            ended = self._sandbox._send({"op": "end"}, time.monotonic() + EXIT_TIMEOUT_S)
            self._finish(kill=not ended)
        if self._sandbox._session is self:
            self._sandbox._session = None

    def _abandon(self) -> None:
        """The sandbox is going away: forget the child without talking to it."""
        if self._child is not None:
            self._child.close()
            self._child = None

    def _finish(self, kill: bool) -> None:
        """Wait for the zygote's exit report of this session (killing the child if asked)."""
        sandbox = self._sandbox
        child = self._child or sandbox._find_session_child()
        if kill and child is not None:
            child.kill()
        status = sandbox._wait_status(time.monotonic() + EXIT_TIMEOUT_S)
        if status is None and child is not None and not kill:
            child.kill()
            status = sandbox._wait_status(time.monotonic() + EXIT_TIMEOUT_S)
        self.output = sandbox._after_exit(status)
        if child is not None:
            child.close()
        self._child = None

    def _finish_outcome(self, outcome: _Outcome) -> None:
        """Clean up after a call or load that did not end with a reply."""
        if outcome.kind == "exit":
            self.output = self._sandbox._after_exit(outcome.message)
            if self._child is not None:
                self._child.close()
            self._child = None
            return
        self._finish(kill=True)  # killed already (timeout, cpu) or not to be trusted
        if outcome.kind == "protocol":
            self._sandbox._dirty = True


def _status_of(outcome: _Outcome) -> str:
    return {"exit": "crashed", "timeout": "timeout", "cpu_limit": "cpu_limit"}.get(outcome.kind, "protocol")


def _describe_outcome(
    outcome: _Outcome, doing: str, cpu_budget: float | None = None, wall: float | None = None
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


def _result_of_reply(outcome: _Outcome, wall_seconds: float) -> CallResult:
    message = outcome.message
    if message.get("ok") is True:
        return CallResult(
            "ok", value=message.get("value"), cpu_seconds=outcome.cpu_seconds, wall_seconds=wall_seconds
        )
    return CallResult(
        "error",
        error=_text(message.get("error"), ERROR_CHARS) or "unknown error",
        cpu_seconds=outcome.cpu_seconds,
        wall_seconds=wall_seconds,
        traceback=_text(message.get("traceback"), TRACEBACK_CHARS),
        wrote_input=message.get("wrote_input") is True,
        **_error_fields(message),
    )


# A reply is plain decoded data (wire.py), but any of it may be forged: each field is
# taken only if it has the expected type, and cut to its length again.


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
