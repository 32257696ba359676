"""The RAM copy of everything a session can read: the interpreter, its stdlib, numpy, the shared
libraries they link and the files shipped into the sandbox, at their real paths in a tmpfs.

A tmpfs is RAM, never written back, and with no swap never evicted, so no session can change
or observe the residency of a disk-backed page: the host page cache is no channel between
sessions (reading a cold page of a file under /usr to load it, or posix_fadvise(DONTNEED) to
evict it, and a later session probing with preadv(RWF_NOWAIT) or read timing). The tree is
built once per process, shared by its sandboxes, and removed at exit.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import warnings
from pathlib import Path

from autograder.sandbox import elf
from autograder.sandbox.errors import SandboxError, SandboxWarning

# What runs inside the sandbox, copied into it: the worker and the two modules it imports.
WORKER_FILES = tuple(
    Path(__file__).resolve().parent / name for name in ("worker.py", "wire.py", "landlock.py")
)
TMPFS_MAGIC = 0x01021994
RUNTIME_PARENTS = ("/dev/shm", "/run/shm")
RUNTIME_PREFIX = "autograder-runtime-"
STDLIB_SKIP = frozenset(
    {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages", "__phello__"}
)
VENV_PACKAGES = ("numpy", "numpy.libs")

_libc = ctypes.CDLL(None, use_errno=True)


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


def remove_tree(path: Path) -> None:
    """rmtree that also copes with trees too deep for Python's recursion (student-made)."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], check=False)


class RuntimeTree:
    """The tmpfs tree holding, at their real paths under root/fs/, the files sessions read, and
    the worker files under root/lib/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.owner = os.getpid()
        self.binds: list[str] = []  # absolute paths, each bound from root/fs/<path>

    def inside(self, path: str) -> str:
        return f"{self.root}/fs/{path.lstrip('/')}"

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    def remove(self) -> None:
        if os.getpid() == self.owner:
            remove_tree(self.root)

    # -- building

    def _dir(self, path: str) -> None:
        os.makedirs(self.inside(path), mode=0o755, exist_ok=True)

    @staticmethod
    def _file(source: str, target: str | Path) -> None:
        info = os.stat(source)
        shutil.copyfile(source, target, follow_symlinks=True)
        os.chmod(target, (info.st_mode & 0o555) | 0o444)
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))  # .pyc files check the mtime

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
            info = elf.needs(path)
            if info is None:
                continue
            needed, interp = info
            if interp:
                todo.append(self.add(interp))
            for soname in needed:
                local = elf.beside(path, soname)
                if local is None:
                    index = elf.library_index() if index is None else index
                    local = index.get(soname)
                if local is None:
                    raise SandboxError(f"shared library {soname} of {path} not found")
                todo.append(self.add(local))

    @classmethod
    def build(cls, parent: str) -> RuntimeTree:
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
            for source in WORKER_FILES:
                runtime._file(str(source), runtime.lib / source.name)
            runtime.binds = sorted(
                "/" + name for name in os.listdir(runtime.root / "fs") if not os.path.islink(f"/{name}")
            )
            runtime.binds = [p for p in runtime.binds if p != "/etc"] + (
                ["/etc/ld.so.cache"] if os.path.exists(runtime.inside("/etc/ld.so.cache")) else []
            )
        except BaseException:
            remove_tree(runtime.root)
            raise
        return runtime


def _ext_suffix() -> str:
    return str(sysconfig.get_config_var("EXT_SUFFIX") or ".so")


_shared: RuntimeTree | None = None
_shared_lock = threading.Lock()


def _remove_stale_trees(parent: str) -> None:
    """Trees left by grading processes that died without their exit handlers (SIGKILL)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        pid = name[len(RUNTIME_PREFIX) :].partition("-")[0]
        if name.startswith(RUNTIME_PREFIX) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            remove_tree(Path(parent) / name)


def shared() -> RuntimeTree | None:
    """This process's tmpfs runtime tree, built on first use; None (with a warning) if no tmpfs."""
    global _shared
    with _shared_lock:
        if _shared is not None and _shared.owner == os.getpid() and _shared.root.is_dir():
            return _shared
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
        _remove_stale_trees(parent)
        _shared = RuntimeTree.build(parent)
        atexit.register(_shared.remove)
        return _shared
