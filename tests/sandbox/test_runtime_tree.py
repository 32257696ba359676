"""The host page cache is no channel between sessions: every file a session can read is a
tmpfs copy (RAM, never written back, never evicted without swap), so no session can load or
evict a page another session could later probe (preadv RWF_NOWAIT, read timing)."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

from autograder.sandbox import Sandbox, SandboxWarning, runtime_tree

TMPFS_MAGIC = 0x01021994


def on_tmpfs(path: str) -> bool:
    buf = (ctypes.c_long * 16)()
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.statfs(os.fsencode(path), buf) == 0 and buf[0] & 0xFFFFFFFF == TMPFS_MAGIC


pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None or not on_tmpfs("/dev/shm"), reason="needs bubblewrap and a tmpfs /dev/shm"
)


PROBES = """\
import ctypes, errno, mmap, os, stat, sys
import numpy

TMPFS_MAGIC = 0x01021994
MADV_PAGEOUT = 21

def fs_type(path):
    buf = (ctypes.c_long * 16)()
    if ctypes.CDLL(None, use_errno=True).statfs(os.fsencode(path), buf) != 0:
        return None
    return buf[0] & 0xFFFFFFFF

def survey(roots):
    files, not_tmpfs = 0, []
    for root in roots:
        for top, dirs, names in os.walk(root):
            if fs_type(top) != TMPFS_MAGIC:
                not_tmpfs.append(top)
            for name in names:
                path = os.path.join(top, name)
                if stat.S_ISREG(os.lstat(path).st_mode):
                    files += 1
                    if fs_type(path) != TMPFS_MAGIC:
                        not_tmpfs.append(path)
    return {"files": files, "not_tmpfs": not_tmpfs[:20]}

def readable(paths):
    found = []
    for path in paths:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                with open(path, "rb") as file:
                    file.read(1)
            found.append(path)
        except OSError:
            pass
    return found

def blas():
    folder = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "numpy.libs")
    return max((os.path.join(folder, n) for n in os.listdir(folder)), key=os.path.getsize)

def not_resident(fd, size):
    # pages of the file mincore(2) reports as not in memory
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    int_ = ctypes.c_int
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, int_, int_, int_, ctypes.c_long]
    address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vector = (ctypes.c_ubyte * pages)()
    try:
        if libc.mincore(ctypes.c_void_p(address), ctypes.c_size_t(size), vector) != 0:
            raise OSError(ctypes.get_errno(), "mincore")
        return sum(1 for flag in vector if not flag & 1)
    finally:
        libc.munmap(ctypes.c_void_p(address), ctypes.c_size_t(size))

def probe(path, evict):
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if evict:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            with mmap.mmap(fd, 0, prot=mmap.PROT_READ) as mapped:
                try:
                    mapped.madvise(getattr(mmap, "MADV_PAGEOUT", MADV_PAGEOUT))
                except OSError:
                    pass
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        buf, missing, unsupported, pages = bytearray(1), 0, 0, 0
        for offset in range(0, size, mmap.PAGESIZE):
            pages += 1
            try:
                os.preadv(fd, [buf], offset, os.RWF_NOWAIT)
            except BlockingIOError:
                missing += 1
            except OSError as error:  # tmpfs before Linux 6.x: no RWF_NOWAIT at all, no signal
                if error.errno != errno.EOPNOTSUPP:
                    raise
                unsupported += 1
        return {"pages": pages, "missing": missing, "unsupported": unsupported,
                "not_resident": not_resident(fd, size), "fs": fs_type(path)}
    finally:
        os.close(fd)
"""


def run(sandbox: Sandbox, name: str, *args):
    session = sandbox.session([PROBES], name)
    try:
        result = session.call(name, list(args))
    finally:
        session.close()
    assert result.status == "ok", result
    return result.value


def test_every_file_a_session_can_read_is_on_tmpfs(sandbox):
    roots = ["/usr", "/etc", "/sandbox/lib", os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)]
    found = run(sandbox, "survey", roots)
    assert found["files"] > 1000  # the stdlib and numpy are there
    assert found["not_tmpfs"] == []


def test_disk_files_outside_the_runtime_are_not_readable(sandbox):
    base, venv = os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    candidates = [
        "/usr/lib/jvm",
        "/usr/bin",
        "/usr/share",
        "/usr/lib/x86_64-linux-gnu/gconv",
        "/etc/passwd",
        "/etc/hostname",
        "/etc/os-release",
        "/tmp",
        "/var",
        "/home",
        os.path.join(base, "lib", version, "test"),
        os.path.join(base, "lib", version, "site-packages"),
        os.path.join(venv, "lib", version, "site-packages", "pytest"),
        str(Path(runtime_tree.__file__).resolve().parents[2] / "README.md"),
    ]
    present = [path for path in candidates if os.path.exists(path)]
    assert present, "nothing to check on this host"
    assert run(sandbox, "readable", present) == []


def test_a_session_can_neither_evict_nor_miss_a_page(sandbox):
    path = run(sandbox, "blas")
    evicted = run(sandbox, "probe", path, True)
    assert evicted["fs"] == TMPFS_MAGIC
    assert evicted["pages"] > 1000  # several MiB: a channel would have room
    # Every page stays in memory: RWF_NOWAIT never blocks (or tmpfs does not take it at all,
    # for every page alike) and mincore finds every page resident.
    assert evicted["missing"] == 0
    assert evicted["unsupported"] in (0, evicted["pages"])
    assert evicted["not_resident"] == 0
    again = run(sandbox, "probe", path, False)  # what the next session sees
    assert again["missing"] == again["not_resident"] == 0


def test_the_runtime_tree_is_built_once_per_process_and_removed_at_exit():
    script = (
        "from autograder.sandbox import runtime_tree as s\n"
        "a = s.shared(); b = s.shared(); assert a is b\n"
        "print(a.root, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    root = done.stdout.strip()
    assert root.startswith("/dev/shm/") or root.startswith("/run/shm/")
    assert not os.path.exists(root)


def test_swap_is_reported(monkeypatch):
    built = types.SimpleNamespace(remove=lambda: None)
    monkeypatch.setattr(runtime_tree, "_shared", None)
    monkeypatch.setattr(runtime_tree, "swap_enabled", lambda: True)
    monkeypatch.setattr(runtime_tree.RuntimeTree, "build", classmethod(lambda cls, parent: built))
    monkeypatch.setattr(runtime_tree.atexit, "register", lambda *args: None)
    with pytest.warns(SandboxWarning, match="swap"):
        assert runtime_tree.shared() is built


def test_without_tmpfs_the_open_channel_is_reported(monkeypatch):
    monkeypatch.setattr(runtime_tree, "_shared", None)
    monkeypatch.setattr(runtime_tree, "filesystem_type", lambda path: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert runtime_tree.shared() is None
    assert any("page cache" in str(w.message) for w in caught)
