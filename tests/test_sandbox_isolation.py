"""Nothing passes from one session to the next, counters included, and student code never holds
a capability: each session has the same pid, fresh mount and IPC namespaces and its own tmpfs
scratch, and drops every capability before its cells run."""

from __future__ import annotations

import warnings

import pytest

from autograder import sandbox as sandbox_module
from autograder.sandbox import Sandbox, SandboxWarning

COUNTERS = """\
import ctypes, errno, fcntl, os, socket, sys

IPC_PRIVATE_CREATE = 0o1600  # IPC_CREAT | 0600

def libc():
    return ctypes.CDLL(None, use_errno=True)

def leave(n):
    c = libc()
    for index in range(n):
        open(f"file{index}", "w").close()
        os.mkdir(f"dir{index}")
        c.shmget(0, 4096, IPC_PRIVATE_CREATE)
        c.msgget(0, IPC_PRIVATE_CREATE)
        c.semget(0, 1, IPC_PRIVATE_CREATE)
    c.mq_open(b"/note", os.O_CREAT | os.O_RDWR, 0o600, None)
    return os.getpid()

def udp():
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"note", ("127.0.0.1", 9))
        return "sent"
    except OSError as error:
        return errno.errorcode.get(error.errno, "?")

def look():
    c = libc()
    open("probe", "w").close()
    return {
        "inode": os.stat("probe").st_ino,
        "files": sorted(os.listdir(".")),
        "shm": c.shmget(0, 4096, IPC_PRIVATE_CREATE),
        "msg": c.msgget(0, IPC_PRIVATE_CREATE),
        "sem": c.semget(0, 1, IPC_PRIVATE_CREATE),
        "mqueue": c.mq_open(b"/note", os.O_RDONLY, 0, None),
        "pid": os.getpid(),
        "proc_self": os.readlink("/proc/self"),
        "proc_pids": [pid for pid in range(1, 200) if os.path.exists(f"/proc/{pid}")],
        "udp": udp(),
    }

def crash():
    os._exit(3)

def fd(name):
    return int(sys.argv[sys.argv.index(name) + 1])

def tamper_with_pipes():
    fcntl.fcntl(fd("--replies"), fcntl.F_SETPIPE_SZ, 4096)
    fcntl.fcntl(fd("--requests"), fcntl.F_SETFL, os.O_NONBLOCK)
    fcntl.flock(fd("--replies"), fcntl.LOCK_EX)
    return "tampered"

def pipes():
    return fcntl.fcntl(fd("--replies"), fcntl.F_GETPIPE_SZ), fcntl.fcntl(fd("--requests"), fcntl.F_GETFL)

def status():
    try:
        with open("/proc/self/status") as file:
            return file.read()
    except OSError as error:
        return type(error).__name__

def capabilities():
    c = libc()
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    data = (ctypes.c_uint32 * 6)()
    assert c.capget(ctypes.byref(Header(0x20080522, 0)), data) == 0
    known = [cap for cap in range(64) if c.prctl(23, cap, 0, 0, 0) >= 0]  # PR_CAPBSET_READ
    return {
        "effective": data[0] | data[3] << 32,
        "permitted": data[1] | data[4] << 32,
        "inheritable": data[2] | data[5] << 32,
        "bounding": [cap for cap in known if c.prctl(23, cap, 0, 0, 0) == 1],
        "ambient": [cap for cap in known if c.prctl(47, 1, cap, 0, 0) == 1],  # PR_CAP_AMBIENT_IS_SET
        "securebits": c.prctl(27, 0, 0, 0, 0),
        "no_new_privs": c.prctl(39, 0, 0, 0, 0),
    }

def escape():
    c = libc()
    tried = {}
    for name, attempt in {
        "mount tmpfs": lambda: c.mount(b"tmpfs", b".", b"tmpfs", 0, None),
        "mount proc": lambda: c.mount(b"proc", b"/proc", b"proc", 0, None),
        "umount scratch": lambda: c.umount2(os.getcwd().encode(), 2),
        "remount root": lambda: c.mount(None, b"/", None, 32 | 1, None),
        "unshare mount": lambda: c.unshare(0x00020000),
        "unshare ipc": lambda: c.unshare(0x08000000),
        "unshare user": lambda: c.unshare(0x10000000),
        "unshare pid": lambda: c.unshare(0x20000000),
        "sethostname": lambda: c.sethostname(b"pwned", 5),
    }.items():
        result = attempt()
        tried[name] = "succeeded" if result == 0 else errno.errorcode.get(ctypes.get_errno(), "?")
    return tried
"""


def run(sandbox: Sandbox, name: str, *args):
    session = sandbox.session([COUNTERS], name)
    try:
        return session.call(name, list(args))
    finally:
        session.close()


def test_each_session_starts_afresh_counters_included(sandbox):
    first = run(sandbox, "look").value
    assert run(sandbox, "leave", 40).ok
    for _ in range(3):  # each crash costs the zygote forks, which must not show in pids
        assert run(sandbox, "crash").status == "crashed"
    again = run(sandbox, "look").value
    assert again == first, (first, again)
    assert first["files"] == ["probe"] and first["shm"] == first["msg"] == first["sem"] == 0
    assert first["mqueue"] == -1  # no queue of an earlier session's
    assert first["proc_self"] == str(first["pid"]) and first["proc_pids"] == [1, first["pid"]]
    assert first["udp"] == "ENETUNREACH"  # the loopback is down: no counter to move
    assert sandbox.layers["fresh"] is True


def test_student_code_holds_no_capability_for_good(sandbox):
    caps = run(sandbox, "capabilities").value
    assert caps == {
        "effective": 0,
        "permitted": 0,
        "inheritable": 0,
        "bounding": [],
        "ambient": [],
        "securebits": 0xEF,  # noroot, no setuid fixup, no ambient raise, each locked; keep_caps locked off
        "no_new_privs": 1,
    }
    assert run(sandbox, "status").value == "PermissionError"  # /proc is not for student code
    assert set(run(sandbox, "escape").value.values()) <= {"EPERM", "ENOSPC", "EINVAL"}


def test_the_pipes_every_session_inherits_are_reset_between_sessions(sandbox):
    before = run(sandbox, "pipes").value
    assert run(sandbox, "tamper_with_pipes").value == "tampered"
    assert run(sandbox, "pipes").value == before
    assert before[0] == sandbox_module.PIPE_BYTES


def without_caps(argv):
    """bwrap's options with no capability kept for the zygote."""
    kept = list(argv)
    while "--cap-add" in kept:
        index = kept.index("--cap-add")
        del kept[index : index + 2]
    return kept


def test_when_bwrap_keeps_no_capability_sessions_fall_back_to_wiping(monkeypatch):
    original = sandbox_module._bwrap_argv
    monkeypatch.setattr(sandbox_module, "_bwrap_argv", lambda *args: without_caps(original(*args)))
    with pytest.warns(SandboxWarning, match="CAP_SYS_ADMIN.*wiped between sessions"):
        sb = Sandbox()
        sb.start()
    with sb:
        assert sb.layers["bwrap"] and sb.layers["fresh"] is False
        assert run(sb, "leave", 3).ok
        seen = run(sb, "look").value
        assert seen["files"] == ["probe"] and seen["mqueue"] == -1
        assert run(sb, "capabilities").value["effective"] == 0


def test_without_bwrap_the_wiping_fallback_is_reported(monkeypatch):
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb = Sandbox()
        sb.start()
    messages = [str(warning.message) for warning in caught if warning.category is SandboxWarning]
    assert any("bwrap not found" in text and "wiped between sessions" in text for text in messages)
    with sb:
        assert not sb.layers["bwrap"] and not sb.layers.get("fresh")
        assert run(sb, "leave", 3).ok
        seen = run(sb, "look").value
        assert seen["files"] == ["probe"] and seen["mqueue"] == -1
        assert run(sb, "capabilities").value["effective"] == 0
