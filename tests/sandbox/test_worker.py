"""The worker inside the sandbox. Nothing passes from one session to the next, counters
included, and student code never holds a capability: each session has the same pid, fresh mount
and IPC namespaces and its own tmpfs scratch, and drops every capability before its cells run
(without them, the janitor wipes what sessions share). And `Session.call(...,
read_only_inputs=True)`: the function gets its arrays in sealed memory that nothing in its
process can make writable, lists as tuples and dicts as read-only mappings."""

from __future__ import annotations

import ctypes
import mmap
import warnings

import numpy as np
import pytest
from programs import ATTACKS

from autograder.sandbox import Sandbox, SandboxWarning, channel, launch, worker


def test_nothing_carries_over_between_sessions(sandbox):
    first = sandbox.session([ATTACKS], "leave_traces")
    assert first.call("leave_traces").value >= 0
    first.close()
    second = sandbox.session([ATTACKS], "find_traces")
    files, shm = second.call("find_traces").value
    assert files == [] and shm == -1
    second.close()


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
    assert before[0] == channel.PIPE_BYTES


def without_caps(argv):
    """bwrap's options with no capability kept for the zygote."""
    kept = list(argv)
    while "--cap-add" in kept:
        index = kept.index("--cap-add")
        del kept[index : index + 2]
    return kept


def test_when_bwrap_keeps_no_capability_sessions_fall_back_to_wiping(monkeypatch):
    original = launch.bwrap_argv
    monkeypatch.setattr(launch, "bwrap_argv", lambda *args: without_caps(original(*args)))
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
    monkeypatch.setattr(launch.shutil, "which", lambda name: None)
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


FUNCTIONS = """\
import ctypes, errno, fcntl, mmap, os, types
import numpy as np

def scale(x):
    x *= 2
    return x

def assign(cache, where):
    if where == "array":
        cache[2]["W"][0, 0] = 7.0
    elif where == "list":
        cache[1][0] = 7.0
    elif where == "dict":
        cache[2]["b"] = 7.0
    elif where == "append":
        cache[1].append(7.0)
    else:
        list(cache).append(7.0)
        np.zeros(2)[0] = 7.0
        raise ValueError("not about inputs")
    return "assigned"

def unflag(x):
    try:
        x.flags.writeable = True
    except ValueError as error:
        return str(error)
    return "writable"

def unflag_base(x):
    base = x
    while getattr(base, "base", None) is not None:
        base = base.base
    try:
        np.frombuffer(base, np.uint8)[0] = 1
    except (TypeError, ValueError) as error:
        return type(error).__name__
    return "written"

def poke(x):
    ctypes.memmove(x.ctypes.data, b"\\xff" * 8, 8)
    return "poked"

def protect(x):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = x.ctypes.data & ~(mmap.PAGESIZE - 1)
    if libc.mprotect(page, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE) == 0:
        return "writable"
    return errno.errorcode[ctypes.get_errno()]

def handles(x):
    found = []
    for fd in range(64):
        try:
            found.append((fd, fcntl.fcntl(fd, fcntl.F_GET_SEALS)))
        except OSError:
            pass
    start, end = x.ctypes.data, x.ctypes.data + x.nbytes  # the mapping of a page-sized array
    try:
        os.open(f"/proc/self/map_files/{start:x}-{end:x}", os.O_RDWR)
        reopened = "reopened"
    except OSError as error:
        reopened = errno.errorcode[error.errno]
    return [fd for fd, seals in found if seals & fcntl.F_SEAL_WRITE], reopened

def map_sealed():
    fd = os.memfd_create("probe", os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, mmap.PAGESIZE)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
    try:
        mmap.mmap(fd, mmap.PAGESIZE, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError as error:
        return errno.errorcode[error.errno]
    return "mapped"

def describe(value):
    if isinstance(value, np.ndarray):
        return ["array", str(value.dtype), value.shape, bool(value.flags.writeable)]
    if isinstance(value, (tuple, list)):
        return [type(value).__name__, [describe(item) for item in value]]
    if isinstance(value, (dict, types.MappingProxyType)):
        return [type(value).__name__, {key: describe(item) for key, item in value.items()}]
    return type(value).__name__

def echo(*args, **kwargs):
    return args, kwargs, describe(args), describe(kwargs)

def total(cache):
    return float(sum(array.sum() for array in cache))
"""


@pytest.fixture(scope="module")
def session():
    with Sandbox() as sandbox:
        session = sandbox.session([FUNCTIONS], "scale")
        yield session
        session.close()


def test_an_in_place_write_fails_and_says_it_wrote_an_input(session):
    x = np.arange(4.0)
    result = session.call("scale", [x], read_only_inputs=True)
    assert result.status == "error" and result.wrote_input, result
    assert result.error_type == "ValueError" and "read-only" in result.error_message
    cache = (np.zeros(2), [np.ones(3)], {"W": np.eye(2)})
    for where in ("array", "list", "dict", "append"):
        nested = session.call("assign", [cache, where], read_only_inputs=True)
        assert nested.status == "error" and nested.wrote_input, (where, nested)
    other = session.call("assign", [cache, "own"], read_only_inputs=True)
    assert other.status == "error" and not other.wrote_input, other
    assert x.tolist() == [0, 1, 2, 3] and cache[1][0].tolist() == [1, 1, 1] and cache[2]["W"][0, 0] == 1
    plain = session.call("scale", [x])  # without the option inputs stay writable copies
    assert plain.ok and not plain.wrote_input and plain.value.tolist() == [0, 2, 4, 6]


def test_the_writeable_flag_cannot_be_set_again(session):
    x = np.arange(6.0).reshape(2, 3)
    assert "cannot set WRITEABLE flag" in session.call("unflag", [x], read_only_inputs=True).value
    assert session.call("unflag_base", [x], read_only_inputs=True).value in ("TypeError", "ValueError")


def test_a_raw_write_into_an_input_kills_the_session_child(session):
    result = session.call("poke", [np.zeros(4)], read_only_inputs=True)
    assert result.status == "crashed" and "signal 11" in result.error, result
    assert session.call("total", [(np.ones(2), np.ones(3))], read_only_inputs=True).value == 5.0


def test_the_sealed_memory_cannot_be_made_writable_nor_reached_again(session):
    x = np.zeros(1024)
    assert session.call("protect", [x], read_only_inputs=True).value in ("EACCES", "EPERM")
    sealed_fds, reopened = session.call("handles", [x], read_only_inputs=True).value
    assert sealed_fds == [] and reopened in ("EACCES", "EPERM")  # every memfd closed before the call
    assert session.call("map_sealed").value == "EPERM"


def test_the_function_reads_exact_values_and_containers_become_read_only(session):
    rng = np.random.default_rng(7)
    big = rng.standard_normal(400_000)  # 3.2 MB: several memfds, as RLIMIT_FSIZE is 1 MiB
    arrays = [
        rng.standard_normal((2, 3, 4)),
        np.arange(5, dtype=">i4"),
        np.zeros((0, 3)),
        np.array(2.5),
        np.array([True, False, True]),
        (rng.standard_normal(7) + 1j).astype(np.complex64),
        rng.standard_normal((3, 3)).astype(np.float16),
        np.asfortranarray(rng.standard_normal((3, 5))),
        big[::2],
    ]
    args = [arrays[0], (arrays[1], [arrays[2], arrays[3]]), {"mask": arrays[4], "deep": {"z": arrays[5]}}]
    kwargs = {"h": arrays[6], "f": arrays[7], "big": [big, arrays[8]], "n": 3, "s": "x"}
    result = session.call("echo", args, kwargs, read_only_inputs=True)
    assert result.ok, result
    got_args, got_kwargs, arg_kinds, kwarg_kinds = result.value
    got = [got_args[0], got_args[1][0], got_args[1][1][0], got_args[1][1][1], got_args[2]["mask"]]
    got += [got_args[2]["deep"]["z"], got_kwargs["h"], got_kwargs["f"], got_kwargs["big"][1]]
    for sent, back in zip(arrays, got):
        assert back.dtype == sent.dtype and back.shape == sent.shape and np.array_equal(back, sent)
    assert np.array_equal(got_kwargs["big"][0], big) and got_kwargs["n"] == 3 and got_kwargs["s"] == "x"
    kinds = arg_kinds[1]  # of each positional argument
    assert kinds[0] == ["array", "float64", (2, 3, 4), False]
    assert kinds[1][0] == "tuple" and kinds[1][1][1][0] == "tuple"  # a tuple stays one, a list becomes one
    assert kinds[2][0] == "mappingproxy" and kinds[2][1]["deep"][0] == "mappingproxy"
    assert kwarg_kinds[1]["big"][0] == "tuple" and kwarg_kinds[1]["f"] == ["array", "float64", (3, 5), False]
    assert type(got_args[2]) is dict and type(got_args[1][1]) is tuple  # proxies come back as dicts


def test_read_only_inputs_are_fast(session):
    """Measured from outside: the CPU time the session child spends on a read-only call over a
    plain one (~0.6 ms for 1 MiB, ~0.4 ms for 200 arrays here; bounds far above, for busy CI)."""
    rng = np.random.default_rng(0)
    large = rng.standard_normal((16, 32, 32, 8))
    cache = tuple(rng.standard_normal((8, 16)) for _ in range(200))
    for inputs in ([large], [cache]):
        plain = min(session.call("total", inputs).cpu_seconds for _ in range(5))
        calls = [session.call("total", inputs, read_only_inputs=True) for _ in range(5)]
        assert all(call.ok for call in calls) and calls[0].value == session.call("total", inputs).value
        extra = min(call.cpu_seconds for call in calls) - plain
        print(f"read-only extra CPU: {extra * 1e6:.0f} us")
        assert extra < 0.02, extra


@pytest.mark.parametrize("kernel", ["before 6.7", "this one"])
def test_the_seal_older_kernels_get_holds_as_well(monkeypatch, kernel):
    """Before Linux 6.7 a memfd sealed with F_SEAL_WRITE cannot be mapped read-only either: the
    worker then seals with F_SEAL_FUTURE_WRITE, which must protect the inputs just the same."""
    seal = worker.F_SEAL_FUTURE_WRITE if kernel == "before 6.7" else worker.write_seal()
    monkeypatch.setattr(worker, "write_seal", lambda: seal)
    args, _ = worker.read_only_inputs([np.arange(1024.0)], {})
    x = args[0]
    assert np.array_equal(x, np.arange(1024.0)) and not x.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        x += 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    assert libc.mprotect(x.ctypes.data, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE) == -1
