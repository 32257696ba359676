"""The sandbox that runs student code: the wire format, sessions, CPU timing, and attacks.

Each attack test asserts two things: the attack fails (or is contained), and the grader
carries on with a clear status.
"""

from __future__ import annotations

import os
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import sandbox as sandbox_module
from autograder import wire
from autograder.sandbox import (
    CallResult,
    Sandbox,
    SandboxWarning,
    SessionLoadError,
    kill_uid,
    processes_of_uid,
)

COURSE = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- wire format


def roundtrip(value):
    return wire.decode(wire.encode(value))


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -1, 2**200, -(2**70), 1.5, float("inf"), -0.0, 1 + 2j, "", "héllo ✓", b"\x00\xff"],
)
def test_wire_scalars_roundtrip(value):
    result = roundtrip(value)
    assert type(result) is type(value) and result == value


def test_wire_nan_and_containers_keep_their_types():
    assert np.isnan(roundtrip(float("nan")))
    value = {"t": (1, (2, [3, (4,)])), "l": [(), []], "d": {"x": None}}
    result = roundtrip(value)
    assert result == value
    assert type(result["t"]) is tuple and type(result["t"][1]) is tuple and type(result["t"][1][1]) is list
    assert type(result["l"][0]) is tuple and type(result["l"][1]) is list


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.float64).reshape(2, 3, 4),
        np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        np.arange(10)[::3],
        np.array([True, False]),
        np.array(3.5),
        np.zeros((0, 3), dtype=np.uint8),
        np.array([1 + 2j], dtype=np.complex64),
        np.arange(4, dtype=">f8"),
        np.float16([1.5, -2]),
    ],
)
def test_wire_arrays_are_exact(array):
    result = roundtrip(array)
    assert type(result) is np.ndarray and result.dtype == array.dtype and result.shape == array.shape
    np.testing.assert_array_equal(result, array)
    assert result.flags.writeable


@pytest.mark.parametrize(
    "scalar", [np.float64(1.25), np.int32(-7), np.bool_(True), np.complex128(1j), np.uint8(200)]
)
def test_wire_numpy_scalars_stay_numpy_scalars(scalar):
    result = roundtrip(scalar)
    assert type(result) is type(scalar) and result == scalar


class Foo:
    pass


@pytest.mark.parametrize(
    "value, name",
    [
        (np.array([1, "a"], dtype=object), "numpy.ndarray[object]"),
        (np.array(["ab"]), "numpy.ndarray[<U2]"),
        (Foo(), "Foo"),
        (len, "builtin_function_or_method"),
        ({1, 2}, "set"),
        ({1: 2}, "dict with non-str keys"),
        (np.ma.masked_array([1.0]), "MaskedArray"),
    ],
)
def test_wire_unsupported_values_become_markers(value, name):
    result = roundtrip([value])[0]
    assert isinstance(result, wire.Unsupported) and name in result.type_name


def test_wire_limits_the_number_of_items():
    payload = wire.encode([None] * 10)
    assert wire.decode(payload, max_items=11) == [None] * 10
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode(payload, max_items=10)


def test_wire_refuses_cycles_and_oversized_values():
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(wire.WireError):
        wire.encode(cycle)
    with pytest.raises(wire.WireError):
        wire.encode(np.zeros(1000), max_size=100)


def valid_payload() -> bytes:
    return wire.encode({"ok": True, "value": (np.arange(6.0).reshape(2, 3), [1, "x"], np.int64(3))})


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"Q",  # unknown tag
        b"s" + struct.pack(">Q", 10) + b"abc",  # truncated string
        b"s" + struct.pack(">Q", 2) + b"\xff\xfe",  # invalid utf-8
        b"l" + struct.pack(">I", 2**32 - 1),  # count larger than the message
        b"NN",  # trailing bytes
        b"d" + struct.pack(">I", 1) + b"N" + b"N",  # non-string key
        b"a\x03|O8\x01" + struct.pack(">QQ", 1, 8) + b"\0" * 8,  # object dtype
        b"a\x03<U1\x01" + struct.pack(">QQ", 1, 4) + b"\0" * 4,  # string dtype
        b"a\x03<f8\x01" + struct.pack(">QQ", 2, 8) + b"\0" * 8,  # shape needs 16 bytes
        b"a\x03<f8\x01" + struct.pack(">QQ", 2**62, 0),  # absurd shape
        b"S\x03<f8" + struct.pack(">Q", 4) + b"\0" * 4,  # scalar of wrong size
        b"i" + struct.pack(">I", 10**6),  # int too large
        b"l\x00\x00\x00\x01" * 200 + b"N",  # nested deeper than the limit
    ],
)
def test_wire_malformed_payloads_raise_wire_error(payload):
    with pytest.raises(wire.WireError):
        wire.decode(payload)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_wire_mutated_payloads_never_raise_anything_but_wire_error(data):
    payload = bytearray(valid_payload())
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(payload) - 1))
        payload[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(payload)))
    try:
        wire.decode(bytes(payload[:cut]))
    except wire.WireError:
        pass


def test_wire_frames_check_magic_and_size():
    framed = wire.pack([1, 2, 3])
    reader = wire.FrameReader(max_size=1024)
    reader.feed(framed[:5])
    assert reader.payload() is None
    reader.feed(framed[5:])
    assert wire.decode(reader.payload()) == [1, 2, 3]
    with pytest.raises(wire.WireError, match="magic"):
        wire.FrameReader().feed(b"EVIL" + framed[4:])
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.FrameReader(max_size=1024).feed(wire.HEADER.pack(wire.MAGIC, 2**40))


def test_wire_blocking_message_roundtrip_over_a_pipe():
    r, w = os.pipe()
    try:
        wire.write_message(w, {"op": "call", "args": [np.eye(2)]})
        message = wire.read_message(r)
        np.testing.assert_array_equal(message["args"][0], np.eye(2))
        os.write(w, wire.HEADER.pack(wire.MAGIC, 100))
        with pytest.raises(wire.WireError):
            wire.read_message(r, max_size=10)
    finally:
        os.close(r)
        os.close(w)


# ---------------------------------------------------------------- sessions

STUDENT = """\
# GRADED FUNCTION: double
def double(x):
    return x * 2, (x.sum(), [x.shape])
"""

ATTACKS = """\
import os, signal, subprocess, sys, threading, time
import numpy as np

def read(path):
    with open(path, "rb") as file:
        return file.read(100)

def write(path):
    with open(path, "w") as file:
        file.write("pwned")
    return "written"

def listdir(path):
    return sorted(os.listdir(path))

def busy(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return "done"

def sleep(seconds):
    time.sleep(seconds)
    return "slept"

def spin_ignoring_signals():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass

def exit_hard(code):
    os._exit(code)

def exit_soft():
    raise SystemExit(4)

def kill(pid, sig=9):
    os.kill(pid, sig)
    return "sent"

def kill_parent():
    os.kill(os.getppid(), 9)
    return os.getppid()

def allocate(gigabytes):
    block = np.ones(int(gigabytes * 2**30) // 8)
    return block.nbytes

def flood(megabytes):
    line = "x" * 999 + "\\n"
    for _ in range(megabytes * 1000):
        print(line, end="")
    return "flooded"

def flood_fd(megabytes):
    os.write(1, b"y" * (megabytes << 20))
    return "flooded"

def fork():
    pid = os.fork()
    if pid == 0:
        time.sleep(1000)
        os._exit(0)
    return pid

def popen():
    return subprocess.Popen(["sleep", "1000"]).pid

def thread():
    threading.Thread(target=time.sleep, args=(1000,)).start()
    return "started"

def patch_the_world():
    np.allclose = lambda *a, **k: True
    np.testing.assert_allclose = lambda *a, **k: None
    time.perf_counter = lambda: 0.0
    return np.allclose(1, 2)

def fill_scratch(megabytes):
    block = b"z" * 2**20
    for index in range(megabytes):
        try:
            with open(f"fill{index}", "wb") as file:
                file.write(block)
        except OSError:
            return index
    return megabytes

def environment():
    return dict(os.environ)

def weird_result():
    class Secret:
        pass
    return [Secret(), np.array([None]), lambda: 1, (1, 2)]

def forge(text):
    fd = int(sys.argv[sys.argv.index("--replies") + 1])
    os.write(fd, text.encode())
    return "forged"

def leave_traces():
    write("trace.txt")
    import ctypes
    libc = ctypes.CDLL(None)
    return libc.shmget(1234, 4096, 0o1666)

def dig(depth):
    for _ in range(depth):
        os.mkdir("d")
        os.chdir("d")
    return depth

def find_traces():
    import ctypes
    libc = ctypes.CDLL(None)
    return [os.listdir("."), libc.shmget(1234, 4096, 0o666)]
"""


@pytest.fixture
def attacks(sandbox):
    session = sandbox.session([ATTACKS], "read")
    yield session
    session.close()


def test_session_calls_a_function_and_returns_arrays(sandbox):
    session = sandbox.session([STUDENT], "double")
    result = session.call("double", [np.arange(6.0).reshape(2, 3)])
    assert result.ok, result.error
    doubled, (total, shapes) = result.value
    np.testing.assert_array_equal(doubled, np.arange(6.0).reshape(2, 3) * 2)
    assert type(total) is np.float64 and total == 15.0
    assert shapes == [(2, 3)] and type(shapes[0]) is tuple
    second = session.call("double", args=(np.int64(4),))
    assert second.ok and second.value[0] == 8
    session.close()


def test_inputs_are_fresh_copies_per_call(sandbox):
    session = sandbox.session(["def grow(a):\n    a += 1\n    return a\n"], "grow")
    data = np.zeros(3)
    assert session.call("grow", [data]).value.tolist() == [1, 1, 1]
    assert session.call("grow", [data]).value.tolist() == [1, 1, 1]
    assert data.tolist() == [0, 0, 0]
    session.close()


def test_load_error_reports_only_the_students_lines(sandbox):
    reference = "def helper():\n    secret_reference_line = 1 / 0\n"
    student = "# GRADED FUNCTION: f\nhelper()\ndef f():\n    pass\n"
    with pytest.raises(SessionLoadError) as info:
        sandbox.session([reference, student], "f")
    assert info.value.status == "error"
    assert info.value.error.startswith("ZeroDivisionError")
    assert "helper()" in info.value.traceback and "secret_reference_line" not in info.value.traceback


def test_leftover_code_failing_after_the_function_keeps_the_function(sandbox):
    student = "# GRADED FUNCTION: f\ndef f():\n    return 7\nf(undefined_notebook_variable)\n"
    assert sandbox.session([student], "f").call("f").value == 7


def test_missing_target_is_a_load_error(sandbox):
    with pytest.raises(SessionLoadError, match="NameError"):
        sandbox.session(["x = 1"], "f")


def test_pinned_names_survive_the_students_cell(sandbox):
    reference = "def helper():\n    return 'reference'\n"
    student = "def helper():\n    return 'student'\ndef f():\n    return helper()\n"
    session = sandbox.session([reference, student], "f", pin=["helper"])
    assert session.call("f").value == "reference"
    session.close()


def test_call_errors_are_reported_with_a_short_message(sandbox):
    session = sandbox.session(["def f(n):\n    raise ValueError('x' * n)\n"], "f")
    result = session.call("f", [5000])
    assert (
        result.status == "error" and result.error.startswith("ValueError: xxx") and len(result.error) <= 500
    )
    assert "raise ValueError" in result.traceback
    assert session.call("nope").status == "error"
    session.close()


def test_cpu_time_is_measured_from_outside(attacks):
    busy = attacks.call("busy", [0.2])
    assert busy.ok and 0.15 <= busy.cpu_seconds <= 0.5, busy
    asleep = attacks.call("sleep", [0.3])
    assert asleep.ok and asleep.cpu_seconds < 0.05 and asleep.wall_seconds >= 0.3, asleep


def test_results_of_unsupported_types_are_named(attacks):
    value = attacks.call("weird_result").value
    assert [type(v) for v in value[:3]] == [wire.Unsupported] * 3
    assert "Secret" in value[0].type_name and "object" in value[1].type_name
    assert value[3] == (1, 2)


# ---------------------------------------------------------------- attacks


def secret_paths() -> list[str]:
    paths = [COURSE / "README.md", COURSE / "gradebook.db", COURSE / "autograder" / "sandbox.py"]
    paths += (
        list((COURSE / "grader_tests").rglob("*.py"))[:2] + list((COURSE / "source").rglob("*.ipynb"))[:1]
    )
    return [str(p) for p in paths if p.exists()] + ["/etc/shadow", "/root/.bashrc", "/proc/1/environ"]


def test_files_outside_scratch_cannot_be_read(attacks):
    for path in secret_paths():
        result = attacks.call("read", [path])
        assert result.status == "error" and ("Error" in result.error), (path, result)
    assert attacks.call("listdir", [str(COURSE)]).status == "error"
    assert attacks.call("read", [np.__file__]).ok  # reading what sessions run on is fine


def test_files_outside_scratch_cannot_be_written(attacks):
    for path in [str(COURSE / "pwned.txt"), "/tmp/pwned.txt", "/sandbox/lib/worker.py", "/usr/pwned"]:
        result = attacks.call("write", [path])
        assert result.status == "error", (path, result)
    assert not (COURSE / "pwned.txt").exists() and not Path("/tmp/pwned.txt").exists()
    assert attacks.call("write", ["mine.txt"]).ok
    assert attacks.call("read", ["mine.txt"]).value == b"pwned"


def test_grader_environment_does_not_leak(sandbox, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "hunter2")
    sandbox.close()
    sandbox.start()
    session = sandbox.session([ATTACKS], "environment")
    env = session.call("environment").value
    assert "GRADER_SECRET" not in env and env["OPENBLAS_NUM_THREADS"] == "1"
    session.close()


@pytest.mark.parametrize("call, status", [(("exit_hard", [3]), "crashed"), (("exit_soft", []), "error")])
def test_exiting_is_contained_and_the_session_recovers(attacks, sandbox, call, status):
    restarts = sandbox.restarts
    result = attacks.call(*call)
    assert result.status == status, result
    assert "3" in result.error if status == "crashed" else "SystemExit" in result.error
    assert attacks.call("busy", [0.0]).ok  # a fresh session child, same zygote
    assert sandbox.restarts == restarts


def test_killing_the_parent_or_the_grader_does_nothing(attacks, sandbox):
    restarts = sandbox.restarts
    attacks.call("kill_parent")
    result = attacks.call("kill", [os.getpid()])
    assert result.status == "error" and ("ProcessLookupError" in result.error or "Permission" in result.error)
    assert attacks.call("busy", [0.0]).ok
    assert sandbox.restarts == restarts


def test_cpu_hog_ignoring_signals_stops_at_the_budget(attacks):
    start = time.monotonic()
    result = attacks.call("spin_ignoring_signals", cpu_budget_s=0.5, wall_timeout_s=30)
    elapsed = time.monotonic() - start
    assert result.status == "cpu_limit", result
    assert 0.5 <= result.cpu_seconds < 0.7 and elapsed < 0.5 + 1.5
    assert attacks.call("busy", [0.0]).ok


@pytest.mark.slow  # waits out a 1 s wall-clock timeout
def test_sleeping_forever_stops_at_the_wall_timeout(attacks):
    start = time.monotonic()
    result = attacks.call("sleep", [1e6], wall_timeout_s=1.0)
    assert result.status == "timeout" and time.monotonic() - start < 2.5
    assert result.cpu_seconds < 0.1
    assert attacks.call("busy", [0.0]).ok


def test_allocating_8_gib_fails_without_hurting_the_grader(attacks):
    result = attacks.call("allocate", [8])
    assert result.status == "error" and result.error.startswith("MemoryError"), result
    assert attacks.call("allocate", [0.1]).ok


def test_scratch_space_is_bounded(attacks, sandbox):
    result = attacks.call("fill_scratch", [200])
    assert result.ok and result.value * 2**20 <= sandbox.scratch_bytes, result


def test_output_floods_are_bounded(attacks, sandbox):
    start = time.monotonic()
    assert attacks.call("flood", [100]).ok
    fd_flood = attacks.call("flood_fd", [100])
    assert fd_flood.status == "error" and "File too large" in fd_flood.error
    assert time.monotonic() - start < 10
    attacks.close()
    assert attacks.output.startswith("xxx") and len(attacks.output) == sandbox.output_bytes


def test_printed_output_is_returned_after_the_session(sandbox):
    session = sandbox.session(["def f():\n    print('hello from f')\n"], "f")
    assert session.call("f").ok
    session.close()
    assert session.output == "hello from f\n"


@pytest.mark.parametrize("name", ["fork", "popen", "thread"])
def test_no_new_processes_or_threads(attacks, sandbox, name):
    before = sorted(sandbox.pids())
    result = attacks.call(name)
    assert result.status == "error" and (
        "Resource temporarily unavailable" in result.error or "thread" in result.error
    )
    assert sorted(sandbox.pids()) == before


def test_monkeypatching_inside_the_session_does_not_reach_the_grader(attacks):
    assert attacks.call("patch_the_world").value is True
    assert not np.allclose(1, 2)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(1, 2)
    assert time.perf_counter() > 0


def test_forged_replies_are_protocol_errors_and_the_sandbox_recovers(sandbox):
    session = sandbox.session([ATTACKS], "forge")
    result = session.call("forge", ["garbage that is not a frame"])
    assert result.status == "protocol"
    session.close()
    fresh = sandbox.session([STUDENT], "double")
    assert fresh.call("double", [np.ones(2)]).ok
    fresh.close()


def test_replies_forged_ahead_of_time_are_rejected(sandbox):
    forger = (
        "import sys, wire\n"
        "fd = int(sys.argv[sys.argv.index('--replies') + 1])\n"
        "for _ in range(3):\n"
        "    wire.write_message(fd, {'ok': True, 'stage': 'load', 'value': 42})\n"
        "def f():\n    return 0\n"
    )
    with pytest.raises(SessionLoadError) as info:
        sandbox.session([forger], "f")
    assert info.value.status == "protocol"
    session = sandbox.session([STUDENT], "double")
    assert session.call("double", [np.ones(1)]).ok
    session.close()


def test_nothing_carries_over_between_sessions(sandbox):
    first = sandbox.session([ATTACKS], "leave_traces")
    assert first.call("leave_traces").value >= 0
    first.close()
    second = sandbox.session([ATTACKS], "find_traces")
    files, shm = second.call("find_traces").value
    assert files == [] and shm == -1
    second.close()


@pytest.mark.slow  # digs 3000 directories, then restarts the sandbox
def test_a_scratch_tree_too_deep_to_wipe_gets_a_fresh_sandbox(sandbox):
    digger = sandbox.session([ATTACKS], "dig")
    assert digger.call("dig", [3000]).ok
    digger.close()
    second = sandbox.session([ATTACKS], "find_traces")
    assert second.call("find_traces").value[0] == []
    second.close()


@pytest.mark.slow  # waits out a 1 s wall-clock timeout
def test_load_that_never_ends_times_out(sandbox):
    with pytest.raises(SessionLoadError) as info:
        sandbox.session(["while True:\n    pass\n"], "f", timeout=1.0)
    assert info.value.status == "timeout"
    session = sandbox.session([STUDENT], "double")
    assert session.call("double", [np.ones(1)]).ok
    session.close()


def test_sandbox_restarts_when_the_zygote_dies(sandbox):
    session = sandbox.session([STUDENT], "double")
    os.kill(sandbox._zygote_pid, 9)
    sandbox._process.wait(timeout=5)  # pid 1 gone: the kernel kills its whole pid namespace
    result = session.call("double", [np.ones(1)], wall_timeout_s=3)
    assert result.status in ("crashed", "protocol", "timeout") and not result.ok
    restarts = sandbox.restarts
    again = sandbox.session([STUDENT], "double")
    assert again.call("double", [np.ones(1)]).ok and sandbox.restarts == restarts + 1
    again.close()


def test_close_leaves_no_process_behind():
    with Sandbox() as sb:
        session = sb.session([ATTACKS], "fork")
        for name in ("fork", "popen", "thread"):
            session.call(name)
        pids, uid, files = sb.pids(), sb.uid, sb._layout.root
        assert len(pids) >= 2
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists()
            or Path(f"/proc/{pid}/status").read_text().find("Z (zombie)") > 0
        )
    if uid is not None:
        assert processes_of_uid(uid) == []
    assert not files.exists()


def test_without_bwrap_the_other_layers_still_hold(monkeypatch):
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    with pytest.warns(SandboxWarning, match="bwrap"):
        sb = Sandbox()
        sb.start()
    with sb:
        assert not sb.layers["bwrap"]
        session = sb.session([ATTACKS], "read")
        assert session.call("read", [str(COURSE / "autograder" / "sandbox.py")]).status == "error"
        assert session.call("write", ["/tmp/pwned.txt"]).status == "error"
        assert session.call("busy", [0.0]).ok
        session.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as another uid")
def test_kill_uid_reaches_processes_the_sandbox_lost_track_of():
    uid = sandbox_module.BASE_UID + sandbox_module.UID_SLOTS - 1
    stray = subprocess.Popen(["sleep", "100"], user=uid, group=uid, extra_groups=[])
    try:
        kill_uid(uid, timeout=0.5)  # our unreaped zombie keeps it from reporting success
        assert stray.wait(timeout=2) == -9
        assert processes_of_uid(uid) == []
    finally:
        stray.kill()
        stray.wait()


def test_concurrent_sandboxes_get_distinct_uids():
    with Sandbox() as first, Sandbox() as second:
        if first.uid is None:
            pytest.skip("the grader is not root: no dedicated uids")
        assert first.uid != second.uid


def test_call_result_is_plain_data():
    result = CallResult("ok", value=1)
    assert result.ok and not CallResult("timeout").ok
