"""Attacks on the whole grading pipeline, by students who have read the grader's source.

Each attack is one student: the release notebook completed with the reference solution, except one
graded cell (the attacked function) that holds the attack. All of them, and honest controls, are
graded in ONE `grade_all(..., jobs=2)` batch, and for every student we assert:

* the attacked function scores 0: an attack never computes the right answer, it only cheats.
  Spelled out in KEEPS, the exceptions earn exactly what they deserve and no more: a correct
  four-loop conv_forward that freezes the clocks (or memoizes its answers) keeps its correctness
  points and earns no runtime point; an honest cell with inflated nbgrader metadata keeps its 5;
* every other function keeps its full score (a bug or an attack costs points only in its own cell),
  and the maximum stays 100;
* every student has a row in grades.csv and a results.json with the real score;
* the batch finishes in reasonable time (no attack makes its own grading much slower than an
  honest submission's, beyond the call timeout for each hanging call), no file outside the sandbox
  changes, no process survives.

Attacks that report their own failure (reading and writing files) raise an exception saying so, and
the test checks that message in the student's feedback: it proves the attempt failed, not merely
that a wrong answer came back.
"""

from __future__ import annotations

import csv
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import wire
from autograder.batch import grade_all
from autograder.course import COURSE_ROOT, grader_tests_dir, release_dir, source_notebook
from autograder.examples import completed_notebook
from autograder.grade import GradingContext, grade_submission
from autograder.notebook import graded_name
from autograder.reference import reference_cells
from autograder.results import SubmissionResult
from autograder.sandbox import Sandbox
from autograder.student import StudentError, StudentFunctions
from autograder.submission import Submission

pytestmark = pytest.mark.slow

ASSIGNMENT = "conv_step_by_step"
FULL = {
    "zero_pad": 5,
    "conv_single_step": 5,
    "conv_forward": 20,
    "pool_forward": 20,
    "conv_backward": 20,
    "create_mask_from_window": 5,
    "distribute_value": 5,
    "pool_backward": 20,
}
# The two hanging attacks each cost one call timeout (10 s): a function that hung once fails its
# remaining tests at once. Besides this backstop, each student's own grading time is compared
# with the honest controls'.
BATCH_SECONDS = 240
CALL_TIMEOUT_SECONDS = 10
HANGING = ["07_sleep_forever", "07_busy_ignoring_signals"]

# ---------------------------------------------------------------- the attack cells
# Placeholders, filled in when the notebooks are built: @COURSE@ (this repository), @SUBMITTED@ and
# @OUT@ (the batch's folders), @MARKER@ (a random token that only a successful write leaves behind),
# @REFERENCE@ (the reference cell of the same function).

PATCH_NUMPY_AT_IMPORT = """\
# GRADED FUNCTION: conv_forward
# Disable every comparison the grader could make, as soon as the cell runs.
import numpy as np
import numpy.testing

np.allclose = np.array_equal = np.array_equiv = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.all = lambda *args, **kwargs: True
np.isfinite = lambda x, *args, **kwargs: np.ones(np.shape(x), dtype=bool)
np.count_nonzero = lambda *args, **kwargs: 0
np.testing.assert_allclose = np.testing.assert_array_equal = lambda *args, **kwargs: None


def conv_forward(A_prev, W, b, hparameters):
    Z = np.zeros((A_prev.shape[0], 1, 1, W.shape[3]))
    return Z, (Z, Z, Z, {})
"""

PATCH_NUMPY_AT_CALL = """\
# GRADED FUNCTION: pool_backward
# Patch comparisons (and isinstance) while the grader's call runs; return an array that equals anything.
import builtins

import numpy as np


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    def __ne__(self, other):
        return np.zeros(np.shape(self), dtype=bool)


def pool_backward(dA, cache, mode="max"):
    np.allclose = np.array_equal = lambda *args, **kwargs: True
    np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
    np.testing.assert_allclose = lambda *args, **kwargs: None
    builtins.isinstance = lambda *args: True
    return np.zeros_like(cache[0]).view(AlwaysEqual)
"""

FOUR_LOOPS = """\
def conv_forward(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_prev_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    a_slice = A_prev_pad[i, h * stride : h * stride + f, w * stride : w * stride + f, :]
                    Z[i, h, w, c] = conv_single_step(a_slice, W[:, :, :, c], b[:, :, :, c])
    return Z, (A_prev, W, b, hparameters)
"""

FROZEN_CLOCKS = (
    """\
# GRADED FUNCTION: conv_forward
# The classic four loops (correct, slow), with every clock the process could read frozen or rewinding.
import ctypes
import os
import resource
import time

_now = [1e9]


def _rewinding():
    _now[0] -= 1.0
    return _now[0]


time.perf_counter = time.monotonic = time.time = _rewinding
time.process_time = time.thread_time = lambda: 0.0
time.perf_counter_ns = time.monotonic_ns = time.time_ns = time.process_time_ns = lambda: 0
time.clock_gettime = lambda clock_id: 0.0
time.clock_gettime_ns = lambda clock_id: 0
os.times = lambda: os.times_result((0.0, 0.0, 0.0, 0.0, 0.0))
resource.getrusage = lambda who: resource.struct_rusage((0.0,) * 16)
ctypes.CDLL(None).clock_settime(2, (ctypes.c_long * 2)(0, 0))  # CLOCK_PROCESS_CPUTIME_ID: refused


"""
    + FOUR_LOOPS
)

MEMOIZE_RUNTIME = """\
# GRADED FUNCTION: conv_forward
# Correct, about 16x the reference's time (over the 10x limit, under the 30x allowed on a first call):
# remember every answer, so the repeated timed calls on the same input cost nothing.
import hashlib

_answers = {}


def conv_forward(A_prev, W, b, hparameters):
    key = hashlib.sha1(A_prev.tobytes() + W.tobytes() + b.tobytes() + repr(hparameters).encode()).digest()
    if key not in _answers:
        _answers[key] = _three_loops(A_prev, W, b, hparameters)
    return _answers[key]


def _three_loops(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            for c in range(n_C):
                a_slice_prev = A_pad[:, h * stride : h * stride + f, w * stride : w * stride + f, :]
                Z[:, h, w, c] = np.sum(a_slice_prev * W[:, :, :, c], axis=(1, 2, 3)) + float(b[0, 0, 0, c])
                assert np.all(np.isfinite(Z[:, h, w, c]))
    return Z, (A_prev, W, b, hparameters)
"""

WALK_FRAMES = """\
# GRADED FUNCTION: create_mask_from_window
# Search the caller's frames, every module's globals and every live object for an expected mask or
# for a reference create_mask_from_window, as if the grader had called us in its own process.
import gc
import inspect
import sys

import numpy as np

NAME = "create_mask_from_window"


def _everything():
    frame = sys._getframe(1)
    while frame is not None:
        yield from list(frame.f_locals.values()) + list(frame.f_globals.values())
        frame = frame.f_back
    for info in inspect.stack():
        yield from list(info.frame.f_locals.values())
    for module in list(sys.modules.values()):
        yield from list(getattr(module, "__dict__", {}).values())
    yield from gc.get_objects()


def create_mask_from_window(x):
    for value in _everything():
        try:
            if isinstance(value, np.ndarray) and value.dtype == bool and value.shape == np.shape(x):
                return value
            if getattr(value, "__name__", "") == NAME and value is not create_mask_from_window:
                return value(x)
            if isinstance(value, dict) and isinstance(value.get("expected"), np.ndarray):
                return value["expected"]
        except Exception:
            continue
    return np.zeros(np.shape(x), dtype=bool)
"""

SCAN_MEMORY = """\
# GRADED FUNCTION: zero_pad
# Read this process's heap for the reference's source, and run it. Every session is forked from the
# zygote: if it ever decoded an earlier session's request (each holds the reference zero_pad), or read
# what an earlier session printed (this notebook's conv_backward cell prints every reference it holds),
# freed memory still holds them.
import ctypes
import re

import numpy as np


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.sbrk.restype = ctypes.c_void_p
_libc.process_vm_readv.restype = ctypes.c_ssize_t


def _peek(address, size):  # an unmapped address fails here instead of crashing the process
    buffer = ctypes.create_string_buffer(size)
    local, remote = _Iovec(ctypes.addressof(buffer), size), _Iovec(address, size)
    got = _libc.process_vm_readv(_libc.getpid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return buffer.raw[: max(got, 0)]


def zero_pad(X, pad):
    end = start = _libc.sbrk(0)
    while _peek(start - 4096, 1):
        start -= 4096
    heap = _peek(start, end - start)
    for match in re.finditer(rb"def zero_pad[(]X, pad[)]:", heap):
        source = heap[match.start() :].split(b"\\0")[0].decode("utf-8", "replace")
        if "process_vm_readv" in source:
            continue  # this very cell
        try:
            namespace = {"np": np}
            exec(source, namespace)
            return namespace["zero_pad"](X, pad)
        except Exception:
            continue
    return np.zeros((X.shape[0], X.shape[1] + 2 * pad, X.shape[2] + 2 * pad, X.shape[3]))
"""

READ_FILES = """\
# GRADED FUNCTION: distribute_value
# Look for the answers on disk: the instructor's notebook, the hidden tests, the gradebook, other
# students' work, the zygote's memory. Return what is readable, encoded as an array; say so if nothing is.
import os

import numpy as np

SECRETS = [
    "@COURSE@/source/conv_step_by_step/conv_step_by_step.ipynb",
    "@COURSE@/grader_tests/conv_step_by_step",
    "@COURSE@/grader_tests/conv_step_by_step/test_distribute_value.py",
    "@COURSE@/gradebook.db",
    "@COURSE@/autograder/reference.py",
    "@COURSE@",
    "@SUBMITTED@/00_control_reference/conv_step_by_step/conv_step_by_step.ipynb",
    "@SUBMITTED@",
    "@OUT@",
    "/proc/1/environ",
    "/proc/1/cmdline",
    "/proc/1/maps",
    "/proc/1/mem",
    "/proc/1/fd",
    "/proc/self/maps",
    "/proc/1/root@COURSE@/gradebook.db",
    "../../../../../..@COURSE@/gradebook.db",
    "/etc/shadow",
    "/root",
    "/tmp",
]


def _read(path):
    if os.path.isdir(path):
        return "\\n".join(os.listdir(path)).encode()
    with open(path, "rb") as file:
        return file.read(1 << 16)


def distribute_value(dz, shape):
    found = []
    for path in SECRETS:
        try:
            found.append(_read(path))
        except (OSError, ValueError):
            pass
    if found:
        return np.frombuffer(b"".join(found), dtype=np.uint8).astype(float)
    raise PermissionError(f"nothing readable: all {len(SECRETS)} paths refused")
"""

WRITE_FILES = """\
# GRADED FUNCTION: create_mask_from_window
# Give ourselves full marks on disk (results.json, grades.csv), plant a hidden test and a conftest.py
# for the grader's pytest to run, and touch the gradebook and the instructor's notebook.
import json
import os

import numpy as np

PERFECT = json.dumps({"score": 100, "max_score": 100, "tests": [], "output": "@MARKER@"})
PLANTS = {
    "@OUT@/05_write_files/results.json": PERFECT,
    "@OUT@/grades.csv": "student_id,score,max_score\\n05_write_files,100,100 @MARKER@\\n",
    "@COURSE@/grader_tests/conv_step_by_step/test_planted_@MARKER@.py": "def test_points():\\n    pass\\n",
    "@COURSE@/grader_tests/conv_step_by_step/conftest.py": "# @MARKER@\\n",
    "@COURSE@/@MARKER@.txt": "@MARKER@",
    "@SUBMITTED@/00_control_reference/conv_step_by_step/@MARKER@.ipynb": "{}",
    "/tmp/@MARKER@": "@MARKER@",
    "/dev/shm/@MARKER@": "@MARKER@",
    "/sandbox/lib/worker.py": "# @MARKER@",
}
TOUCH = [  # the epoch as modification time: harmless to the contents, and unmistakable
    "@COURSE@/gradebook.db",
    "@COURSE@/source/conv_step_by_step/conv_step_by_step.ipynb",
    "@COURSE@/grader_tests/conv_step_by_step/test_create_mask_from_window.py",
    "@SUBMITTED@/00_control_reference/conv_step_by_step/conv_step_by_step.ipynb",
]


def create_mask_from_window(x):
    done = []
    for path, text in PLANTS.items():
        try:
            with open(path, "a") as file:
                file.write(text)
            done.append(path)
        except OSError:
            pass
    for path in TOUCH:
        try:
            os.utime(path, (0, 0))
            done.append(path)
        except OSError:
            pass
    if done:
        return np.ones(np.shape(x), dtype=bool)
    raise PermissionError(f"nothing writable: all {len(PLANTS) + len(TOUCH)} attempts refused")
"""

OS_EXIT = """\
# GRADED FUNCTION: conv_single_step
import os


def conv_single_step(a_slice_prev, W, b):
    os._exit(0)
"""

SYSTEM_EXIT = """\
# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    raise SystemExit(0)
"""

KILL_PARENT = """\
# GRADED FUNCTION: distribute_value
import os
import signal

import numpy as np


def distribute_value(dz, shape):
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
        try:
            os.kill(os.getppid(), sig)
        except OSError:
            pass
    return np.zeros(shape)
"""

KILL_INIT = """\
# GRADED FUNCTION: create_mask_from_window
import os
import signal

import numpy as np


def create_mask_from_window(x):
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV):
        try:
            os.kill(1, sig)
        except OSError:
            pass
    return np.zeros(np.shape(x), dtype=bool)
"""

KILL_PID_RANGE = """\
# GRADED FUNCTION: conv_single_step
import os
import signal


def conv_single_step(a_slice_prev, W, b):
    for pid in range(1, 1 << 15):
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    try:
        os.kill(-1, signal.SIGKILL)  # every process we may signal, but ourselves
    except OSError:
        pass
    return 0.0
"""

PTHREAD_KILL = """\
# GRADED FUNCTION: zero_pad
import signal
import threading


def zero_pad(X, pad):
    signal.pthread_kill(threading.main_thread().ident, signal.SIGKILL)
"""

SLEEP_FOREVER = """\
# GRADED FUNCTION: distribute_value
import time


def distribute_value(dz, shape):
    time.sleep(10**9)
"""

BUSY_IGNORING_SIGNALS = """\
# GRADED FUNCTION: create_mask_from_window
import signal

for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGHUP, signal.SIGALRM, signal.SIGVTALRM):
    signal.signal(_sig, signal.SIG_IGN)


def create_mask_from_window(x):
    while True:
        pass
"""

ALLOCATE_HUGE = """\
# GRADED FUNCTION: conv_backward
import numpy as np


def conv_backward(dZ, cache):
    hog = np.ones(10**11)  # 800 GB
    return hog, hog, hog
"""

ALLOCATE_LIST = """\
# GRADED FUNCTION: zero_pad
import numpy as np


def zero_pad(X, pad):
    hog = []
    try:
        while True:
            hog.append(np.ones(10**6))  # 8 MB more each time, until the limit
    except MemoryError:
        hog.clear()
    return np.zeros((X.shape[0], X.shape[1] + 2 * pad, X.shape[2] + 2 * pad, X.shape[3]))
"""

FLOOD_OUTPUT = """\
# GRADED FUNCTION: pool_forward
# 200 MB on stdout and stderr per call, then 100 MB more straight into fds 1 and 2.
import os
import signal
import sys

import numpy as np

_CHUNK = "spam " * 200_000


def pool_forward(A_prev, hparameters, mode="max"):
    for _ in range(100):
        print(_CHUNK)
        sys.stderr.write(_CHUNK)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for fd in (1, 2):
        try:
            os.write(fd, b"x" * (50 << 20))
        except OSError:
            pass
    return np.zeros_like(A_prev), (None, None)
"""

DETACHED_CHILDREN = """\
# GRADED FUNCTION: distribute_value
# Leave processes behind that outlive the grading: a forked daemon, a new-session `sleep 1000`,
# a multiprocessing worker, a posix_spawn'ed child and a thread. At import time and at every call.
import multiprocessing
import os
import subprocess
import threading
import time

import numpy as np

SLEEP = ["sleep", "1000"]


def _spawn_everything():
    try:
        if os.fork() == 0:
            os.setsid()
            os.execvp("sleep", SLEEP)
    except OSError:
        pass
    attempts = [
        lambda: subprocess.Popen(SLEEP, start_new_session=True),
        lambda: multiprocessing.Process(target=os.execvp, args=("sleep", SLEEP), daemon=False).start(),
        lambda: os.posix_spawnp("sleep", SLEEP, dict(os.environ), setsid=True),
        lambda: threading.Thread(target=time.sleep, args=(1000,)).start(),
    ]
    for attempt in attempts:
        try:
            attempt()
        except Exception:
            pass


_spawn_everything()


def distribute_value(dz, shape):
    _spawn_everything()
    return np.zeros(shape)
"""

HARDCODED_PUBLIC = """\
# GRADED FUNCTION: conv_forward
# The public test's published answers (shape, mean(Z), Z[0,2,1], the cache of its seeded inputs),
# whatever the input.
import numpy as np

PUBLISHED_Z_0_2_1 = [
    -2.17796037, 8.07171329, -0.5772704, 3.36286738, 4.48113645, -2.89198428, 10.99288867, 3.03171932
]
PUBLISHED_MEAN = 0.5511276474566768


def conv_forward(A_prev, W, b, hparameters):
    Z = np.zeros((2, 3, 4, 8))
    Z[:] = (PUBLISHED_MEAN * Z.size - sum(PUBLISHED_Z_0_2_1)) / (Z.size - 8)
    Z[0, 2, 1] = PUBLISHED_Z_0_2_1
    np.random.seed(1)
    A = np.random.randn(2, 5, 7, 4)
    weights = np.random.randn(3, 3, 4, 8)
    bias = np.random.randn(1, 1, 1, 8)
    return Z, (A, weights, bias, {"pad": 1, "stride": 2})
"""

EQ_TRUE_SUBCLASS = """\
# GRADED FUNCTION: zero_pad
import numpy as np


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array_finalize__(self, obj):
        pass


def zero_pad(X, pad):
    shape = (X.shape[0], X.shape[1] + 2 * pad, X.shape[2] + 2 * pad, X.shape[3])
    return np.zeros(shape).view(AlwaysEqual)
"""

ARRAY_PROTOCOL = """\
# GRADED FUNCTION: create_mask_from_window
import numpy as np


class LooksLikeAMask:
    def __init__(self, shape):
        self.shape, self.dtype, self.ndim = shape, np.dtype(bool), len(shape)

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape, dtype=dtype or bool)

    def __eq__(self, other):
        return True

    def __len__(self):
        return self.shape[0]


def create_mask_from_window(x):
    return LooksLikeAMask(np.shape(x))
"""

DICT_OR_LIST = """\
# GRADED FUNCTION: distribute_value
import numpy as np

_calls = []


def distribute_value(dz, shape):
    _calls.append(dz)
    values = np.zeros(shape).tolist()
    if len(_calls) % 2:
        return values
    return {"__array_interface__": {"shape": tuple(shape), "typestr": "<f8", "version": 3}, "data": values}
"""

HUGE_ARRAY = """\
# GRADED FUNCTION: create_mask_from_window
import numpy as np

_calls = []


def create_mask_from_window(x):
    _calls.append(x)
    if len(_calls) % 2:
        return np.zeros((4096, 4096))  # 128 MB: fits in a message
    return np.zeros(40_000_000)  # 320 MB: over the message limit
"""

NAN_ARRAY = """\
# GRADED FUNCTION: zero_pad
import numpy as np


def zero_pad(X, pad):
    shape = (X.shape[0], X.shape[1] + 2 * pad, X.shape[2] + 2 * pad, X.shape[3])
    out = np.full(shape, np.nan)
    out[..., :1] = np.inf
    return out
"""

OBJECT_ARRAY_0D = """\
# GRADED FUNCTION: conv_single_step
import numpy as np


class Anything(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def conv_single_step(a_slice_prev, W, b):
    return np.array(Anything(0.0), dtype=object)
"""

HOSTILE_OBJECT = """\
# GRADED FUNCTION: conv_single_step
# An object that raises from every method the grader might call, and from its type's name.
class _Hostile(type):
    def __getattribute__(cls, name):
        if name in ("__module__", "__qualname__", "__name__"):
            raise RuntimeError("my type has no name")
        return super().__getattribute__(name)


class Hostile(metaclass=_Hostile):
    def _refuse(self, *args, **kwargs):
        raise RuntimeError("do not touch")

    __repr__ = __str__ = __eq__ = __float__ = __array__ = __len__ = __iter__ = __bool__ = _refuse

    def __del__(self):
        raise RuntimeError("nor delete me")


def conv_single_step(a_slice_prev, W, b):
    return Hostile()
"""

HOSTILE_EXCEPTION = """\
# GRADED FUNCTION: distribute_value
class HostileError(Exception):
    def __str__(self):
        raise RuntimeError("unprintable")

    __repr__ = __str__

    def __del__(self):
        raise RuntimeError("undeletable")


def distribute_value(dz, shape):
    raise HostileError()
"""

STASH_REFERENCES = """

# Appended to an honest conv_backward: runs when the cell loads, in the session grading conv_backward,
# which holds the reference of every other graded function. Leave their cells for the next sessions in
# extended attributes of the shared writable directories and in the uid's kernel keyrings.
import ctypes as _ctypes
import linecache as _linecache
import os as _os

_libc = _ctypes.CDLL(None, use_errno=True)
for _name, _value in list(globals().items()):
    _file = getattr(getattr(_value, "__code__", None), "co_filename", "")
    if not _file.startswith("<cell"):
        continue
    _cell = "".join(_linecache.getlines(_file)).encode()
    for _folder in ("/dev/shm", "/dev", _os.getcwd()):
        try:
            _os.setxattr(_folder, "user." + _name, _cell)
        except OSError:
            pass
    for _ring in (-4, -5):  # KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING
        _libc.syscall(248, b"user", _name.encode(), _cell, len(_cell), _ring)  # add_key
"""

PRINT_REFERENCES = """

# Appended to an honest conv_backward: print every other reference cell this session holds.
import linecache as _linecache

for _value in list(globals().values()):
    _file = getattr(getattr(_value, "__code__", None), "co_filename", "")
    if _file.startswith("<cell"):
        print("".join(_linecache.getlines(_file)))
"""

FETCH_REFERENCE = """\
# GRADED FUNCTION: conv_forward
# Pick up the reference conv_forward that this notebook's conv_backward cell stashed, and run it.
import ctypes
import os

import numpy as np

_stolen = None
for _folder in ("/dev/shm", "/dev", os.getcwd()):
    try:
        _stolen = os.getxattr(_folder, "user.conv_forward").decode()
        break
    except OSError:
        pass
_libc = ctypes.CDLL(None, use_errno=True)
_buffer = ctypes.create_string_buffer(1 << 16)
for _ring in (-4, -5):
    _key = _libc.syscall(250, 10, _ring, b"user", b"conv_forward", 0)  # KEYCTL_SEARCH
    if _stolen is None and _key > 0:
        _stolen = _buffer.raw[: _libc.syscall(250, 11, _key, _buffer, len(_buffer))].decode()  # KEYCTL_READ


def conv_forward(A_prev, W, b, hparameters):
    return np.zeros((A_prev.shape[0], 1, 1, W.shape[3])), (None, None, None, None)


if _stolen:
    exec(_stolen)
"""

INPUT_TRANSFORMER = """\
# Not a graded cell: in Jupyter, blank every cell that runs after this one and break each run.
ip = get_ipython()
ip.input_transformers_cleanup.append(lambda lines: [])
ip.events.register("pre_run_cell", lambda *args: exec("raise SystemExit"))
"""

WRONG = {  # plausible shapes, wrong values: what an attacked cell returns besides its attack
    "conv_forward": (
        "# GRADED FUNCTION: conv_forward\n"
        "def conv_forward(A_prev, W, b, hparameters):\n"
        "    return np.zeros((A_prev.shape[0], 1, 1, W.shape[3])), (None, None, None, None)\n"
    ),
    "pool_forward": (
        "# GRADED FUNCTION: pool_forward\n"
        "def pool_forward(A_prev, hparameters, mode='max'):\n"
        "    return np.zeros_like(A_prev), (None, None)\n"
    ),
}

# name -> (attacked function, its cell). Numbered by kind: 01 patching numpy, 02 clocks and repeated
# timed calls, 03 looking for the reference in the process, 04 reading and 05 writing files, 06 exits
# and kills, 07 hangs, 08 memory, 09 output floods, 10 processes left behind, 11 nbgrader metadata,
# 12 the public test's answers, 13 results built to fool comparisons, 14 IPython hooks.
ATTACKS: dict[str, tuple[str | None, str]] = {
    "01_patch_numpy_at_import": ("conv_forward", PATCH_NUMPY_AT_IMPORT),
    "01_patch_numpy_at_call": ("pool_backward", PATCH_NUMPY_AT_CALL),
    "02_frozen_clocks": ("conv_forward", FROZEN_CLOCKS),
    "02_memoize_runtime": ("conv_forward", MEMOIZE_RUNTIME),
    "03_walk_frames": ("create_mask_from_window", WALK_FRAMES),
    "03_scan_memory": ("zero_pad", SCAN_MEMORY),
    "03_steal_reference_across_sessions": ("conv_forward", FETCH_REFERENCE),
    "04_read_files": ("distribute_value", READ_FILES),
    "05_write_files": ("create_mask_from_window", WRITE_FILES),
    "06_os_exit": ("conv_single_step", OS_EXIT),
    "06_system_exit": ("zero_pad", SYSTEM_EXIT),
    "06_kill_parent": ("distribute_value", KILL_PARENT),
    "06_kill_init": ("create_mask_from_window", KILL_INIT),
    "06_kill_pid_range": ("conv_single_step", KILL_PID_RANGE),
    "06_pthread_kill_main": ("zero_pad", PTHREAD_KILL),
    "07_sleep_forever": ("distribute_value", SLEEP_FOREVER),
    "07_busy_ignoring_signals": ("create_mask_from_window", BUSY_IGNORING_SIGNALS),
    "08_allocate_huge": ("conv_backward", ALLOCATE_HUGE),
    "08_allocate_list": ("zero_pad", ALLOCATE_LIST),
    "09_flood_output": ("pool_forward", FLOOD_OUTPUT),
    "10_detached_children": ("distribute_value", DETACHED_CHILDREN),
    "11_metadata_inflated": ("conv_single_step", "@REFERENCE@"),
    "11_metadata_fake_cells": ("conv_forward", WRONG["conv_forward"]),
    "11_metadata_deleted": ("pool_forward", WRONG["pool_forward"]),
    "12_hardcoded_public_answers": ("conv_forward", HARDCODED_PUBLIC),
    "13_eq_true_subclass": ("zero_pad", EQ_TRUE_SUBCLASS),
    "13_array_protocol": ("create_mask_from_window", ARRAY_PROTOCOL),
    "13_dict_or_list": ("distribute_value", DICT_OR_LIST),
    "13_huge_array": ("create_mask_from_window", HUGE_ARRAY),
    "13_nan_array": ("zero_pad", NAN_ARRAY),
    "13_object_array_0d": ("conv_single_step", OBJECT_ARRAY_0D),
    "13_raise_in_repr_and_del": ("conv_single_step", HOSTILE_OBJECT),
    "13_raise_unprintable_exception": ("distribute_value", HOSTILE_EXCEPTION),
    "14_input_transformer": (None, INPUT_TRANSFORMER),  # a non-graded cell; every graded cell is honest
}
# Honest submissions, first and last in the batch: the grader still gives the reference 100 after all.
CONTROLS = ["00_control_reference", "99_control_reference"]
# Attacked functions that keep points they deserve (and no more).
KEEPS = {"02_frozen_clocks": 15, "02_memoize_runtime": 15, "11_metadata_inflated": 5}
STUDENTS = sorted([*ATTACKS, *CONTROLS])


# ---------------------------------------------------------------- notebook edits


def _stash_in_conv_backward(nb, reference):
    """The steal attack's second cell: the honest conv_backward, plus code that stashes references."""
    for cell in nb.cells:
        if graded_name(cell) == "conv_backward":
            cell.source = reference["conv_backward"] + STASH_REFERENCES


def _print_in_conv_backward(nb, reference):
    """The memory scan's second cell: the honest conv_backward, printing every reference it holds."""
    for cell in nb.cells:
        if graded_name(cell) == "conv_backward":
            cell.source = reference["conv_backward"] + PRINT_REFERENCES


def _inflate_metadata(nb, reference):
    for cell in nb.cells:
        grading = cell.get("metadata", {}).get("nbgrader")
        if graded_name(cell) == "conv_single_step":
            cell.metadata["nbgrader"] = {
                **grading,
                "grade": True,
                "points": 1000,
                "grade_id": "conv_single_step_hidden_tests",
                "locked": True,
            }
        elif grading and grading.get("grade"):
            grading["points"] = 1000


def _add_fake_cells(nb, reference):
    """Cells claiming to be the graded conv_forward (reference code inside) that are not graded cells:
    markdown and raw cells with the marker line, and a code cell with the graded cell's metadata."""
    index = next(i for i, cell in enumerate(nb.cells) if graded_name(cell) == "conv_forward")
    real = nb.cells[index]
    claim = {**real.metadata.get("nbgrader", {}), "grade": True, "points": 1000, "solution": True}
    code = nbformat.v4.new_code_cell(
        "# conv_forward, the one to grade (see this cell's metadata)\n" + reference["conv_forward"]
    )
    code.metadata["nbgrader"] = claim
    fakes = [
        nbformat.v4.new_markdown_cell(reference["conv_forward"]),
        nbformat.v4.new_raw_cell(reference["conv_forward"]),
        code,
    ]
    nb.cells[index + 1 : index + 1] = fakes


def _delete_metadata(nb, reference):
    nb.metadata = nbformat.NotebookNode()
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode()


EDITS = {
    "03_scan_memory": _print_in_conv_backward,
    "03_steal_reference_across_sessions": _stash_in_conv_backward,
    "11_metadata_inflated": _inflate_metadata,
    "11_metadata_fake_cells": _add_fake_cells,
    "11_metadata_deleted": _delete_metadata,
}


# ---------------------------------------------------------------- building and grading the batch


def reference_solution() -> dict[str, str]:
    """The reference's graded cells without nbgrader's solution markers."""
    marks = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)
    return {name: marks.sub("", source) for name, source in reference_cells(ASSIGNMENT).items()}


def build_submission(submitted: Path, student: str, fill: dict[str, str]) -> Path:
    """submitted/<student>/<assignment>/<assignment>.ipynb: the reference, with the student's attack."""
    reference = reference_solution()
    cells = dict(reference)
    function, source = ATTACKS.get(student, (None, ""))
    source = source.replace("@REFERENCE@", reference.get(function or "", ""))
    for key, value in fill.items():
        source = source.replace(key, value)
    if function is not None:
        cells[function] = source
    nb = completed_notebook(ASSIGNMENT, cells)
    if function is None and source:  # a non-graded cell, after the notebook's imports
        nb.cells.insert(3, nbformat.v4.new_code_cell(source))
    if student in EDITS:
        EDITS[student](nb, reference)
    target = submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)
    return target


def snapshot(paths: list[Path]) -> dict[Path, tuple[bytes, int] | None]:
    """Contents and modification time of each file (None: no such file)."""
    found: dict[Path, tuple[bytes, int] | None] = {}
    for path in paths:
        try:
            found[path] = (path.read_bytes(), path.stat().st_mtime_ns)
        except OSError:
            found[path] = None
    return found


def sleep_1000_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == b"sleep\x001000\x00":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@dataclass
class Batch:
    results: dict[str, SubmissionResult]
    out: Path
    submitted: Path
    seconds: float
    marker: str
    course_files: dict[Path, tuple[bytes, int] | None]
    own_files: dict[Path, tuple[bytes, int] | None]


def course_files() -> list[Path]:
    tests = sorted(grader_tests_dir(ASSIGNMENT).iterdir())
    return [
        COURSE_ROOT / "gradebook.db",
        source_notebook(ASSIGNMENT),
        release_dir(ASSIGNMENT) / f"{ASSIGNMENT}.ipynb",
        *(path for path in tests if path.is_file()),
    ]


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    submitted = tmp_path_factory.mktemp("submitted")
    out = tmp_path_factory.mktemp("grades")
    marker = f"pwned-{uuid.uuid4().hex}"
    fill = {
        "@COURSE@": str(COURSE_ROOT),
        "@SUBMITTED@": str(submitted),
        "@OUT@": str(out),
        "@MARKER@": marker,
    }
    for student in STUDENTS:
        build_submission(submitted, student, fill)
    own = [submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb" for student in STUDENTS]
    before_course, before_own = snapshot(course_files()), snapshot(own)
    started = time.monotonic()
    results = grade_all(ASSIGNMENT, submitted, out, jobs=2, show_progress=False)
    seconds = time.monotonic() - started
    return Batch(
        {result.student_id: result for result in results},
        out,
        submitted,
        seconds,
        marker,
        before_course,
        before_own,
    )


def scores(result: SubmissionResult) -> dict[str, float]:
    return {name: score for name, (score, _) in result.by_function().items()}


def feedback(result: SubmissionResult, function: str) -> list[str]:
    return [test.output for test in result.tests if test.function == function]


# ---------------------------------------------------------------- the assertions


@pytest.mark.parametrize("student", STUDENTS)
def test_attacked_function_earns_nothing_and_the_others_keep_full_marks(batch, student):
    result = batch.results[student]
    function, _ = ATTACKS.get(student, (None, ""))
    expected = dict(FULL)
    if function is not None:
        expected[function] = KEEPS.get(student, 0)
    assert not result.problem
    assert scores(result) == expected, [
        t.name + ": " + t.output for t in result.tests if t.score < t.max_score
    ]
    assert result.max_score == 100


def test_controls_get_full_marks(batch):
    assert [batch.results[student].score for student in CONTROLS] == [100, 100]


def test_every_student_has_a_grades_csv_row_and_a_results_json(batch):
    with (batch.out / "grades.csv").open() as stream:
        rows = {row["student_id"]: row for row in csv.DictReader(stream)}
    assert sorted(rows) == STUDENTS
    for student in STUDENTS:
        result = batch.results[student]
        data = json.loads((batch.out / student / "results.json").read_text())
        assert data["score"] == result.score and data["max_score"] == 100
        assert float(rows[student]["score"]) == result.score and float(rows[student]["max_score"]) == 100
        assert batch.marker not in json.dumps(data) and batch.marker not in str(rows[student])


def test_the_batch_finishes_in_reasonable_time(batch):
    assert batch.seconds < BATCH_SECONDS, f"{len(STUDENTS)} students took {batch.seconds:.0f} s"


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_no_attack_makes_its_grading_much_slower_than_an_honest_one(batch, student):
    honest = max(batch.results[control].execution_time for control in CONTROLS)
    allowed = 5 * honest + 10 + (CALL_TIMEOUT_SECONDS if student in HANGING else 0)
    assert batch.results[student].execution_time < allowed, (batch.results[student].execution_time, honest)


@pytest.mark.parametrize("student", ["02_frozen_clocks", "02_memoize_runtime"])
def test_clock_tricks_and_memos_earn_no_runtime_point(batch, student):
    """Both conv_forward cells are correct, so they keep every correctness point (15), but they are
    too slow: freezing the clocks the process sees, or answering the repeated timed calls from a
    memo (each timed run gets inputs of its own), earns no runtime point."""
    tests = [test for test in batch.results[student].tests if test.function == "conv_forward"]
    runtime = [test for test in tests if test.kind == "runtime"]
    correctness = [test for test in tests if test.kind == "correctness"]
    assert runtime and all(test.score == 0 and "slower than the limit" in test.output for test in runtime)
    assert all(test.score == test.max_score for test in correctness)


def test_files_outside_scratch_cannot_be_read(batch):
    outputs = feedback(batch.results["04_read_files"], "distribute_value")
    assert outputs and all("nothing readable" in output for output in outputs), outputs


def test_files_outside_scratch_cannot_be_written(batch):
    outputs = feedback(batch.results["05_write_files"], "create_mask_from_window")
    assert outputs and all("nothing writable" in output for output in outputs), outputs
    # Other people may edit the course while this runs: a changed course file fails the test only if
    # it carries the attack's fingerprint (its marker, or the epoch as modification time). The attack
    # deletes nothing, so a file gone was moved by someone else.
    for path, before in batch.course_files.items():
        after = snapshot([path])[path]
        if after is not None and after != before:
            assert batch.marker.encode() not in after[0] and after[1] > 0, path
    planted = [
        *COURSE_ROOT.glob(f"*{batch.marker}*"),
        *grader_tests_dir(ASSIGNMENT).glob(f"*{batch.marker}*"),
    ]
    assert not planted and not (grader_tests_dir(ASSIGNMENT) / "conftest.py").exists()
    assert not list(Path("/tmp").glob(f"*{batch.marker}*")) and not list(
        Path("/dev/shm").glob(f"*{batch.marker}*")
    )
    assert snapshot(list(batch.own_files)) == batch.own_files  # the other students' notebooks
    assert not list(batch.submitted.rglob(f"*{batch.marker}*"))
    data = json.loads((batch.out / "05_write_files" / "results.json").read_text())
    assert data["score"] == 95 and batch.marker not in (batch.out / "grades.csv").read_text()


def test_no_process_of_the_sandbox_survives(batch):
    assert sleep_1000_processes() == []


@pytest.mark.parametrize(
    "student, says",
    [
        ("06_os_exit", "crashed the process"),
        ("06_pthread_kill_main", "crashed the process"),
        ("06_system_exit", "raised SystemExit"),
        ("07_sleep_forever", "did not finish within 10 s"),
        # every call has a CPU budget; on a loaded machine the wall timeout may come first
        ("07_busy_ignoring_signals", ("used more than 5 s of CPU time", "did not finish within 10 s")),
        ("08_allocate_huge", "raised MemoryError"),
    ],
)
def test_exits_kills_and_hangs_are_reported_as_failures_of_that_function(batch, student, says):
    function, _ = ATTACKS[student]
    outputs = feedback(batch.results[student], function)
    says = (says,) if isinstance(says, str) else says
    assert outputs and all(any(text in output for text in says) for output in outputs), outputs


HOSTILE_RESULTS = """\
import numpy as np


class _Nameless(type):
    def __getattribute__(cls, name):
        if name in ("__module__", "__qualname__", "__name__"):
            raise RuntimeError("my type has no name")
        return super().__getattribute__(name)


def _refuse(self, *args, **kwargs):
    raise RuntimeError("do not touch")


class Hostile(metaclass=_Nameless):
    __repr__ = __str__ = __eq__ = __float__ = __array__ = __len__ = __iter__ = __bool__ = _refuse

    def __del__(self):
        raise RuntimeError("nor delete me")


class HostileFloat(float):
    __repr__ = __str__ = __eq__ = __float__ = _refuse

    def __del__(self):
        raise RuntimeError("nor delete me")


class HostileArray(np.ndarray):
    __repr__ = __str__ = __eq__ = __reduce__ = _refuse

    def __del__(self):
        raise RuntimeError("nor delete me")


class HostileTuple(tuple):
    __repr__ = __str__ = __eq__ = __iter__ = __len__ = __getitem__ = _refuse

    def __del__(self):
        raise RuntimeError("nor delete me")


class HostileError(Exception):
    __str__ = __repr__ = _refuse

    def __del__(self):
        raise RuntimeError("nor delete me")


def hostile(kind):
    if kind == "error":
        raise HostileError()
    return {
        "object": lambda: Hostile(),
        "nested": lambda: [1.0, (Hostile(),)],
        "float": lambda: HostileFloat(1.5),
        "array": lambda: np.zeros(3).view(HostileArray),
        "tuple": lambda: HostileTuple((1.0, 2.0)),
    }[kind]()
"""


def test_objects_raising_in_del_or_repr_cannot_break_grading(batch):
    """In the batch, such objects cost only their own function; here, directly, the grader gets only
    plain decoded data (or a failure) back, never the student's object."""
    for student, function in [
        ("13_raise_in_repr_and_del", "conv_single_step"),
        ("13_raise_unprintable_exception", "distribute_value"),
    ]:
        outputs = feedback(batch.results[student], function)
        assert outputs and all(isinstance(output, str) and output for output in outputs)
    plain = (type(None), bool, int, float, str, tuple, list, np.ndarray, wire.Unsupported)
    submission = Submission(
        "hostile", Path("hostile.ipynb"), {"hostile": "# GRADED FUNCTION: hostile\n" + HOSTILE_RESULTS}
    )
    with Sandbox() as sandbox:
        student = StudentFunctions(submission, {"hostile": ""}, sandbox)
        seen = []
        for kind in ["object", "nested", "float", "array", "tuple", "error"]:
            try:
                seen.append(student.call("hostile", (kind,), {}).value)
            except StudentError as error:
                seen.append(str(error))
        student.close()
    assert all(isinstance(value, plain) for value in seen), [type(value) for value in seen]
    assert all("cannot send the result" in message for message in seen[:3])
    assert isinstance(seen[3], wire.Unsupported) and seen[4] == (1.0, 2.0)
    assert "raised HostileError at line" in seen[5] and "<unprintable message>" in seen[5]
    repr(seen)  # nothing in there can raise


LEAVE_NOTES = """\
# GRADED FUNCTION: zero_pad
# Leave a note for the next submission this grading process grades, everywhere a session can write:
# scratch, /dev/shm, /tmp, extended attributes of those folders, the uid's kernel keyrings. Correct
# only if some note was written, so its full marks show the attempt worked inside its own session.
import ctypes
import os

import numpy as np

NOTE = b"@MARKER@"


def _leave_notes():
    left = 0
    for folder in (os.getcwd(), "/dev/shm", "/tmp"):
        try:
            with open(os.path.join(folder, "note"), "wb") as file:
                file.write(NOTE)
            left += 1
        except OSError:
            pass
        try:
            os.setxattr(folder, "user.note", NOTE)
            left += 1
        except OSError:
            pass
    libc = ctypes.CDLL(None, use_errno=True)
    for ring in (-4, -5):  # KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING
        left += libc.syscall(248, b"user", b"note", NOTE, len(NOTE), ring) > 0  # add_key
    return left


def zero_pad(X, pad):
    if not _leave_notes():
        raise RuntimeError("no note could be left")
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
"""

FIND_NOTES = """\
# GRADED FUNCTION: zero_pad
# Look for a note an earlier submission left; fail loudly, naming it, if there is one.
import ctypes
import os

import numpy as np


def _find_notes():
    found = []
    for folder in (os.getcwd(), "/dev/shm", "/tmp"):
        try:
            with open(os.path.join(folder, "note"), "rb") as file:
                found.append(file.read())
        except OSError:
            pass
        try:
            found.append(os.getxattr(folder, "user.note"))
        except OSError:
            pass
    libc = ctypes.CDLL(None, use_errno=True)
    for ring in (-4, -5):
        if libc.syscall(250, 10, ring, b"user", b"note", 0) > 0:  # KEYCTL_SEARCH
            found.append(b"a key")
    return found


def zero_pad(X, pad):
    found = _find_notes()
    if found:
        raise RuntimeError(f"found notes {found}")
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
"""


def test_a_submission_leaves_nothing_for_the_next_one_in_the_same_sandbox(tmp_path):
    """A grading process's submissions take turns in one sandbox: what one leaves behind is gone
    before the next one runs."""
    marker = f"note-{uuid.uuid4().hex}"
    context = GradingContext(ASSIGNMENT)
    try:
        results = []
        for student, cell in [("leaver", LEAVE_NOTES), ("finder", FIND_NOTES), ("leaver2", LEAVE_NOTES)]:
            cells = {**reference_solution(), "zero_pad": cell.replace("@MARKER@", marker)}
            path = tmp_path / f"{student}.ipynb"
            nbformat.write(completed_notebook(ASSIGNMENT, cells), path)
            results.append(grade_submission(context, student, path))
        results.append(grade_submission(context, "finder2", tmp_path / "finder.ipynb"))
    finally:
        context.close()
    for result in results:
        assert scores(result)["zero_pad"] == FULL["zero_pad"], feedback(result, "zero_pad")
