"""How the zygote is started: which layers this machine offers, the host directory of one
sandbox, and the launch plan (bubblewrap's argv, the worker's command line, the environment,
the rlimits and, for a dedicated uid without a runtime tree, the staging mounts that make the
Python installation reachable), applied between fork and exec."""

from __future__ import annotations

import os
import resource
import shutil
import stat
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import landlock
from autograder.sandbox.errors import SandboxWarning
from autograder.sandbox.runtime_tree import WORKER_FILES, RuntimeTree, remove_tree
from autograder.sandbox.uid_slots import become

INSIDE_LIB = "/sandbox/lib"
INSIDE_SCRATCH = "/sandbox/scratch"
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
OPEN_FILES = 64
# bwrap's monitor process + the zygote's init + the zygote + one session child; see the
# test that checks a session can neither fork nor start a thread.
PROCESS_LIMIT = 4

SHARED_SESSIONS = (
    "sessions share one scratch directory and IPC namespace, which are wiped between sessions, "
    "but their counters (inode numbers, IPC ids, pids) carry over from one session to the next"
)


def python_dirs() -> list[str]:
    """The interpreter's installation and virtualenv, resolved, without duplicates."""
    dirs: list[str] = []
    for prefix in (sys.base_prefix, sys.prefix):
        path = os.path.realpath(prefix)
        if not any(path == d or path.startswith(d + os.sep) for d in dirs):
            dirs.append(path)
    return dirs


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


def detect_layers() -> dict[str, bool | int]:
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
    elif not layers["bwrap"] and not all(map(_usable_by_others, [sys.executable, *python_dirs()])):
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


@dataclass
class Layout:
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
    def create(cls, uid: int | None) -> Layout:
        layout = cls(Path(tempfile.mkdtemp(prefix="autograder-sandbox-")), uid)
        layout.root.chmod(0o711)
        layout.lib.mkdir(mode=0o755)
        for source in WORKER_FILES:
            shutil.copyfile(source, layout.lib / source.name)
            (layout.lib / source.name).chmod(0o644)
        layout.lib.chmod(0o755)
        for index, _ in enumerate(python_dirs()):
            layout.staging(index).mkdir(parents=True, mode=0o755)
        (layout.root / "mnt").chmod(0o711)
        layout.reset_scratch()
        return layout

    def reset_scratch(self) -> None:
        """A fresh, empty scratch dir owned by the sandbox uid (call with no process alive)."""
        remove_tree(self.scratch)
        self.scratch.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(self.scratch, self.uid, self.uid)

    def remove(self) -> None:
        remove_tree(self.root)


@dataclass(frozen=True)
class Limits:
    """What a sandbox's processes may use (rlimits and scratch size) and the largest message."""

    memory_bytes: int
    output_bytes: int
    cpu_backstop_s: int
    scratch_bytes: int
    max_message_bytes: int


@dataclass(frozen=True)
class Plan:
    """Everything subprocess.Popen needs to start the zygote."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    pass_fds: tuple[int, ...]
    prepare: Callable[[], None]  # runs after fork, before exec
    new_session: bool  # without a pid namespace, a process group to kill


def plan(
    layout: Layout,
    uid: int | None,
    runtime: RuntimeTree | None,
    fds: tuple[int, int, int],
    bwrap: bool,
    limits: Limits,
) -> Plan:
    """The zygote's launch: the worker run by path (in bwrap if there), fds: its pipe ends."""
    staged = bwrap and uid is not None and runtime is None
    lib, scratch = (INSIDE_LIB, INSIDE_SCRATCH) if bwrap else (str(layout.lib), str(layout.scratch))
    read_only = ["/usr", "/etc/ld.so.cache", lib, *python_dirs()]
    command = [sys.executable, "-I", "-B", f"{lib}/worker.py"]
    command += ["--requests", str(fds[0]), "--replies", str(fds[1]), "--status", str(fds[2])]
    command += ["--scratch", scratch, "--output-bytes", str(limits.output_bytes)]
    command += ["--max-message", str(limits.max_message_bytes)]
    if bwrap:
        command += ["--fresh-namespaces", "--scratch-bytes", str(limits.scratch_bytes)]
    for path in read_only:
        command += ["--read-only", path]
    argv = (bwrap_argv(layout, staged, limits.scratch_bytes, runtime) if bwrap else []) + command
    nproc = PROCESS_LIMIT if uid is not None else None
    rlimits = (limits.memory_bytes, limits.output_bytes, limits.cpu_backstop_s, nproc)

    def prepare() -> None:
        if staged:
            stage_mounts(layout)
        set_rlimits(*rlimits)
        if uid is not None:
            become(uid)

    return Plan(argv, environment(scratch), str(layout.scratch), fds, prepare, new_session=not bwrap)


def bwrap_argv(
    layout: Layout, staged: bool, scratch_bytes: int, runtime: RuntimeTree | None = None
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
        for index, path in enumerate(python_dirs()):
            source = str(layout.staging(index)) if staged else path
            argv += ["--ro-bind", source, path]
        argv += ["--ro-bind", str(layout.lib), INSIDE_LIB]
    argv += ["--size", str(scratch_bytes), "--tmpfs", INSIDE_SCRATCH]
    argv += ["--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue", "--remount-ro", "/"]
    argv += ["--chdir", INSIDE_SCRATCH, "--clearenv"]
    for key, value in environment(INSIDE_SCRATCH).items():
        argv += ["--setenv", key, value]
    return argv + ["--"]


def environment(home: str) -> dict[str, str]:
    """All the environment student code gets: no grader variables leak in."""
    env = {"PATH": "/usr/bin:/bin", "HOME": home}
    env.update({name: "1" for name in BLAS_THREADS})
    # glibc keeps freed memory, large blocks included, for the next allocation: a function's
    # repeated timed runs then measure its work, not the page faults of freshly mapped memory.
    env["GLIBC_TUNABLES"] = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"
    return env


def stage_mounts(layout: Layout) -> None:
    """In a private mount namespace, bind the Python dirs to paths the sandbox uid can reach.

    Runs in the forked child before exec, as root: the mounts vanish with the sandbox.
    """
    landlock.unshare(landlock.CLONE_NEWNS)
    landlock.mount("none", "/", None, landlock.MS_REC | landlock.MS_PRIVATE)
    for index, path in enumerate(python_dirs()):
        landlock.mount(path, str(layout.staging(index)), None, landlock.MS_BIND | landlock.MS_REC)


def set_rlimits(memory_bytes: int, output_bytes: int, cpu_s: int, nproc: int | None) -> None:
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
