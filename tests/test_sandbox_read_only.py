"""`Session.call(..., read_only_inputs=True)`: the function gets its arrays in sealed memory that
nothing in its process can make writable, lists as tuples and dicts as read-only mappings."""

from __future__ import annotations

import ctypes
import mmap

import numpy as np
import pytest

from autograder import worker
from autograder.sandbox import Sandbox

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
