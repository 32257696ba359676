"""The machinery of the public tests: what runs when you call a test such as
``conv_forward_test(conv_forward)``.

You do not need to read this file to do the assignment; it is here so that you can see exactly
what the tests check. ``public_tests.py``, next to it, lists the cases of each exercise as data
(``CASES``): how each input is made, the numbers the classic course published, and a hint. This
file makes the tests, one per function, and runs them. For every case of a function, in this
order, a test

1. regenerates the inputs from the case's random seed (the classic course's examples use
   ``np.random.seed`` and ``np.random.randn``, or ``np.linspace``, exactly as the course did);
2. calls your function (if it raises, the message names the case; the traceback shows your line);
3. checks that your function left its inputs as they were;
4. checks what it returns: a tuple of the right length, arrays of the right shape and dtype;
5. compares the numbers the classic course published, where the case has some;
6. compares every output in full with the instructors' results, stored in ``public_tests.h5``
   (the message names the first position that differs, as "example 1, row 2, ...");
7. checks the cache, if the function returns one.

When a result is wrong, the message says what its numbers show: a common mistake it matches
(``MISCONCEPTIONS`` in public_tests.py: a flipped kernel, a bias added to every element, an
averaged gradient, a stride left out, ...; the results those mistakes give are stored in
``public_tests.h5``), only the first example (filter, time step) right, or every value off by one
factor. A case's own hint, about what that case varies, is said only once an earlier case passed.

A backward pass is then compared with numeric gradients of your own forward pass, and the
functions the grader times get a speed check against the limit in ``limits.json``, measured as
the grader measures: numpy's BLAS on one thread, CPU time, the best of several runs, alternating
with a fixed workload whose time relative to the instructors' solution was measured by them. It
fails only far over the limit (3 times), warns over it or close to it, and says how many points
are at stake. The first problem stops the test with a ``PublicTestFailure`` saying which case
failed and what to look at.
Passing the public tests is a good sign, not a guarantee: the grader runs more cases (and times
your code).

To look at the inputs of a case yourself::

    args, kwargs = SUITE.case_inputs("conv_forward/classic")   # SUITE is in public_tests.py
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import numbers
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

__all__ = [
    "Cache",
    "Call",
    "Case",
    "Draw",
    "Function",
    "GradientCheck",
    "Limits",
    "Linspace",
    "Misconception",
    "Normal",
    "Output",
    "Published",
    "PublicTestFailure",
    "Scalar",
    "Speed",
    "Suite",
    "Yardstick",
    "explain_error",
    "numeric_gradient",
    "pattern",
    "position_text",
    "read_limits",
    "recognised",
    "rel_error",
    "speed_verdict",
    "timed",
    "measure",
    "one_blas_thread",
    "yardstick_ratio",
]

RTOL, ATOL = 1e-6, 1e-8  # how close an output must be to the expected one
PUBLISHED_ATOL = 1e-7  # the classic course printed its numbers with 8 decimals
GRADIENT_STEP = 1e-5  # centred differences, as in cs231n
GRADIENT_TOLERANCE = 1e-6  # on rel_error; a correct backward pass is far below
EXPECTED_FILE = "public_tests.h5"
KIT_FILES = ("testkit.py", "public_tests.py")  # the test machinery, left out of what you see
LIMITS_FILE = "limits.json"
TIMED_SEED = 2024  # the inputs of the timed calls
YARDSTICK_SEED = 0  # the arrays of the yardstick


class PublicTestFailure(AssertionError):
    """One failed check of a public test; the message says what is wrong."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the frames of your own code when it raised,
        then the message; never the frames of the test machinery (this file, public_tests.py)."""
        lines = []
        cause = self.__cause__
        if cause is not None:
            frames = traceback.extract_tb(cause.__traceback__)
            own = [frame for frame in frames if Path(frame.filename).name not in KIT_FILES]
            lines += ["Traceback of your code (most recent call last):", *traceback.format_list(own)]
            lines += traceback.format_exception_only(type(cause), cause)
        lines.append(f"{type(self).__name__}: {self}")
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines).splitlines()


def fail(message: str):
    raise PublicTestFailure(message)


# --------------------------------------------------------------------------------------
# How the inputs of a case are made
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Normal:
    """A random input: `scale` times standard normal numbers of `shape`, drawn from the case's
    generator; then the elements at index `zero` (e.g. ``np.s_[:, :-1]``), if given, are set to 0.
    In a case's `draw`, a plain shape such as ``(2, 3)`` means ``Normal((2, 3))``."""

    shape: tuple
    scale: float = 1.0
    zero: Any = None

    def make(self, generator, legacy=False):
        values = generator.randn(*self.shape) if legacy else generator.standard_normal(self.shape)
        values = self.scale * values
        if self.zero is not None:
            values[self.zero] = 0.0
        return values


class Linspace:
    """An input of the classic examples: ``np.linspace(low, high, num=size).reshape(shape)``."""

    def __init__(self, low, high, *shape):
        self.low, self.high, self.shape = low, high, shape

    def make(self, generator=None, legacy=False):
        return np.linspace(self.low, self.high, num=int(np.prod(self.shape))).reshape(self.shape)

    def __repr__(self):
        return f"Linspace({self.low}, {self.high}, {', '.join(map(str, self.shape))})"


def _maker(spec):
    return Normal(spec) if isinstance(spec, tuple) else spec


@dataclass(frozen=True)
class Draw:
    """In a case's arguments: the input `name` of its `draw`."""

    name: str


@dataclass(frozen=True)
class Output:
    """In a case's arguments: output `index` of another case, as the instructors' solution
    computed it (read from public_tests.h5; index -1 is the last output, e.g. a cache)."""

    case_id: str
    index: int


@dataclass(frozen=True)
class Call:
    """In a case's arguments: output `index` of `function` called on `args` (e.g. the cache of
    your forward pass, as the input of the backward pass that is timed)."""

    function: str
    args: tuple
    index: int = -1


@dataclass(frozen=True)
class Published:
    """A value the classic course published for a case: the Python `expression`, in terms of the
    outputs' names (and np), must be close to `value`; `note` says what it is."""

    expression: str
    value: Any
    note: str = ""
    atol: float = PUBLISHED_ATOL


@dataclass(frozen=True)
class Case:
    """One call of `function`: `draw` maps input names to how they are made (in this order, from
    one generator seeded with `seed`; legacy=True uses ``np.random.seed(seed)`` and
    ``np.random.randn`` as the classic course did); `args` and `kwargs` are the arguments, where
    Draw, Output and Call stand for inputs."""

    function: str
    description: str
    draw: dict = field(default_factory=dict)
    args: Any = ()
    kwargs: dict = field(default_factory=dict)
    seed: int = 0
    legacy: bool = False
    hint: str = ""
    published: tuple = ()


# --------------------------------------------------------------------------------------
# What a function takes and returns
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """An output that is one number (a float, a NumPy scalar or a 0-d array); `advice` is said
    when it is an array of another shape."""

    name: str
    advice: str = ""


@dataclass(frozen=True)
class Cache:
    """A cache, as an output or an argument: a tuple of the values named by `fields`.

    steps=True: a tuple of one such cache per time step. inputs=True: the cache is the function's
    own inputs named by `fields`, unchanged (compared with them, so not stored in public_tests.h5).
    """

    fields: tuple
    steps: bool = False
    inputs: bool = False
    name = "cache"

    def contract(self, function: str) -> str:
        step = "(" + ", ".join(self.fields) + ")"
        if self.steps:
            return f"a tuple of T step caches, cache[t] = {step} of time step t"
        if self.inputs:
            return f"{step}, the inputs of {function} unchanged and in this order"
        return step


@dataclass(frozen=True)
class Function:
    """The arguments (names, or a Cache) and outputs (names, Scalar or Cache) of a function; a
    backward pass names its `forward`, which its test takes as second argument."""

    arguments: tuple
    outputs: tuple
    forward: str = ""
    axes: dict = field(default_factory=dict)  # output name -> what each axis counts ("example", ...)


@dataclass(frozen=True)
class Misconception:
    """A common mistake, recognised from the numbers: `wrong(reference, *args, **kwargs)` is the
    `output` of `function` with that mistake (or an array of the shape it gives), computed with the
    instructors' functions; `says` what the numbers show and what to change. The public tests
    compare your result with it on every case (the wrong outputs are stored in public_tests.h5),
    the grader on its hidden ones."""

    function: str
    output: str
    says: str
    wrong: Callable[..., Any]


def _name(spec) -> str:
    return spec if isinstance(spec, str) else spec.name


@dataclass(frozen=True)
class GradientCheck:
    """A backward pass against numeric gradients of the forward pass: the forward's inputs are
    drawn from `seed`, the upstream gradients (``"d" + the forward output's name``) from
    `upstream_seed`; each gradient the backward pass returns, ``"d" + an input's name``, is checked."""

    inputs: dict
    seed: int
    upstream: dict
    upstream_seed: int
    step: float = GRADIENT_STEP
    tolerance: float = GRADIENT_TOLERANCE


@dataclass(frozen=True)
class Yardstick:
    """A fixed numpy workload, timed on your machine and on the instructors' to compare the two:
    ``work(**arrays)`` called `repeats` times, the arrays made as a case's `draw` (name -> shape or
    Normal, in this order) from one generator seeded with YARDSTICK_SEED."""

    draw: dict
    work: Callable[..., Any]
    repeats: int = 1

    def workload(self) -> Callable[[], None]:
        generator = np.random.default_rng(YARDSTICK_SEED)
        arrays = {name: _maker(spec).make(generator) for name, spec in self.draw.items()}

        def run():
            for _ in range(self.repeats):
                self.work(**arrays)

        return run


@dataclass(frozen=True)
class Speed:
    """The speed check: `cases` maps a key of the instructors' timings in public_tests.h5 to a
    call at the size the grader times (made by `timed`); `yardstick` calibrates your machine
    against the instructors'; `advice` says what to change when a function is far too slow,
    `see` where the notebook explains it."""

    cases: dict
    yardstick: Yardstick
    advice: str
    see: str


def timed(function: str, size: str, draw: dict, args, kwargs=None) -> Case:
    """A call of `function` at the size the grader times, for Speed.cases: `size` says it in
    words; the inputs of `draw` are drawn from TIMED_SEED."""
    return Case(function, size, draw, args, kwargs or {}, seed=TIMED_SEED)


# --------------------------------------------------------------------------------------
# Numbers and messages
# --------------------------------------------------------------------------------------


def rel_error(x, y) -> float:
    """cs231n's relative error: the largest |x - y| / max(1e-8, |x| + |y|) over all elements."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def numeric_gradient(f, x, df, h=GRADIENT_STEP):
    """Centred-difference gradient of sum(f() * df) with respect to the array x (changed in place
    and restored). f() returns an array (or a tuple of arrays, with df a tuple of the same length)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = f()
        x[index] = saved - h
        minus = f()
        x[index] = saved
        if isinstance(df, tuple):
            grad[index] = sum(np.sum((p - m) * d) for p, m, d in zip(plus, minus, df)) / (2 * h)
        else:
            grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def describe(value) -> str:
    """What a value is, for messages: 'None', 'a list of 3 elements', 'an array of shape (2, 3)'."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    name = type(value).__name__
    article = "an" if name[0].lower() in "aeiou" else "a"
    if isinstance(value, (tuple, list)):
        return f"{article} {name} of {len(value)} element{'' if len(value) == 1 else 's'}"
    return f"{article} {name}"


def array_text(value) -> str:
    """An array on one line, for messages (nested lists, 8 decimals)."""
    value = np.asarray(value)
    if value.dtype == bool:
        return str(value.tolist())
    return str((np.round(value.astype(float), 8) + 0.0).tolist())


def number_text(value) -> str:
    value = np.asarray(value).item()
    return f"{value:.8g}" if isinstance(value, float) else repr(value)


def index_text(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if index else ""


def max_error(got, expected) -> float:
    with np.errstate(invalid="ignore"):
        return np.max(np.abs(np.asarray(got, dtype=float) - np.asarray(expected, dtype=float)), initial=0.0)


def first_wrong(got, expected, rtol=RTOL, atol=ATOL, equal_nan=False) -> tuple | None:
    """The first index (in row-major order) where got and expected (of one shape) are not close."""
    wrong = np.argwhere(~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=equal_nan))
    return None if len(wrong) == 0 else tuple(int(i) for i in wrong[0])


def same(a, b) -> bool:
    """Deep equality of inputs (arrays, tuples, lists, dicts, numbers) for the mutation checks."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc")
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def first_difference(old, new, path=()):
    """Where `new` first differs from `old`: (path, old part, new part), the path made of tuple
    positions and dict keys; None if they are the same."""
    if isinstance(old, (tuple, list)) and type(old) is type(new) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new)):
            found = first_difference(a, b, (*path, index))
            if found:
                return found
        return None
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        for key in old:
            found = first_difference(old[key], new[key], (*path, key))
            if found:
                return found
        return None
    return None if same(old, new) else (path, old, new)


def change_text(label: str, old, new) -> str:
    """'dA[0, 1, 0, 1] was 0.5 and is now 0' for the first changed element of an input."""
    if isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
        if old.shape != new.shape:
            return f"{label} changed its shape from {old.shape} to {new.shape}"
        index = first_wrong(new, old, rtol=0, atol=0, equal_nan=True) if old.dtype.kind in "biuf" else None
        if index is not None:
            was, now = number_text(old[index]), number_text(new[index])
            return f"{label}{index_text(index)} was {was} and is now {now}"
    return f"{label} was {_short(old)} and is now {_short(new)}"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else describe(value)


def check_dtype(label: str, dtype, expected, where: str) -> None:
    """Where the expected output is float64 or bool, yours must be too (as the grader asks)."""
    dtype, expected = np.dtype(dtype).newbyteorder("="), np.dtype(expected).newbyteorder("=")
    if dtype == expected:
        return
    if expected == np.bool_:
        fail(
            f"{label} should be a boolean array (True and False, such as the result of a comparison), "
            f"but its dtype is {dtype} (with {where})"
        )
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
        fail(f"{label} should hold numbers, but its dtype is {dtype} (with {where})")
    if expected == np.float64:
        why = f": {dtype} keeps fewer digits" if dtype.kind == "f" else ""
        fail(f"{label} should hold float64 numbers, but its dtype is {dtype}{why} (with {where})")


# --------------------------------------------------------------------------------------
# What the numbers of a wrong result say
# --------------------------------------------------------------------------------------


def recognised(got, expected, candidates) -> str | None:
    """What the first matching misconception says: candidates are (says, wrong output) pairs; one
    matches when `got` has its shape, where that shape is not the expected one, or its values."""
    got = np.asarray(got)
    for says, wrong in candidates:
        wrong = np.asarray(wrong)
        if got.shape != wrong.shape or got.dtype.kind not in "biuf" or wrong.dtype.kind not in "biuf":
            continue
        if wrong.shape != np.shape(expected):
            return says
        if not np.allclose(wrong, expected, rtol=RTOL, atol=ATOL) and np.allclose(
            got, wrong, rtol=RTOL, atol=ATOL
        ):
            return says
    return None


def _plural(word: str) -> str:
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def pattern(got, expected, axes=()) -> str | None:
    """Mistakes that show in where a result is right: only the first example (filter, channel,
    time step) right and most of every other one wrong, or every value off by one factor. `axes`
    names what each axis counts."""
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape or got.dtype.kind not in "biuf" or expected.dtype.kind not in "fc":
        return None
    for k, axis in enumerate(axes[: got.ndim]):
        n = got.shape[k]
        if n < 2:
            continue
        wrong = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL)
        share = np.moveaxis(wrong, k, 0).reshape(n, -1).mean(axis=1)  # of each slice, the share wrong
        if share[0] == 0 and np.all(share[1:] > 0.5):
            return (
                f"only {axis} 0 is right, every other {axis} is wrong: does your loop run over all "
                f"{n} {_plural(axis)}, and does each use its own index?"
            )
    scale = float(np.vdot(expected, expected))
    if got.size > 1 and scale > 0 and np.all(np.isfinite(got)):
        factor = float(np.vdot(expected, got)) / scale
        if not np.isclose(factor, 1.0) and np.allclose(got, factor * expected, rtol=1e-5, atol=ATOL):
            if np.isclose(factor, -1.0):
                return "every value has the wrong sign"
            if np.isclose(factor, 0.0):
                return "every value is 0: is the result computed and filled in?"
            return f"every value is {factor:.4g} times the right one: a factor is missing or extra"
    return None


def position_text(index, axes=()) -> str:
    """'example 1, row 2, column 0, filter 3' for an index, when the axes are named."""
    if not axes or len(axes) != len(index):
        return "position " + index_text(index)
    return ", ".join(f"{axis} {int(i)}" for axis, i in zip(axes, index))


def explain_error(kind: str, message: str) -> str:
    """What an exception a student's code raised usually means, or ''."""
    if kind == "NotImplementedError":
        return "the function is not implemented yet: replace `raise NotImplementedError()` with your code"
    scalar = ("only 0-dimensional arrays can be converted", "only length-1 arrays", "only size-1 arrays")
    if any(text in message for text in scalar) or "array with ndim > 0 to a scalar" in message:
        return (
            "float() or int() of an array that has dimensions, such as b of shape (1, 1, 1), is an "
            "error from NumPy 2.4 (deprecated since 1.25): take the number with b.item() or np.squeeze(b)"
        )
    if "NoneType" in message:
        return "a value is still None: is every `None` placeholder of the exercise replaced with code?"
    return ""


# --------------------------------------------------------------------------------------
# Limits and timing
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The course's limits, as the grader applies them (limits.json, written with the release).

    runtime_factor: a timed function may take at most this many times the reference's time;
    runtime_repeats: the grader times it this many times after the first run, and the fastest counts;
    runtime_points: function -> the points of its runtime tests.
    """

    runtime_factor: float
    runtime_repeats: int
    runtime_points: dict = field(default_factory=dict)


def read_limits(path) -> Limits:
    """The course's limits from limits.json; a PublicTestFailure if it is missing or malformed."""
    path = Path(path)
    where = "it comes with the assignment, next to public_tests.py and testkit.py"
    if not path.exists():
        fail(f"the course's limits file {path.name} is missing: {where}; download the assignment again")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        fail(f"the course's limits file {path.name} cannot be read ({error}): {where}")
    data = data if isinstance(data, dict) else {}
    factor, repeats = data.get("runtime_factor"), data.get("runtime_repeats")
    points = data.get("runtime_points", {})
    real = (numbers.Real, np.floating)
    if not (isinstance(factor, real) and not isinstance(factor, bool) and factor > 0):
        fail(f"the course's limits file {path.name} must give runtime_factor, a number above 0: {where}")
    if not (isinstance(repeats, int) and not isinstance(repeats, bool) and repeats >= 0):
        fail(f"the course's limits file {path.name} must give runtime_repeats, an integer >= 0: {where}")
    if not (isinstance(points, dict) and all(isinstance(value, real) for value in points.values())):
        fail(f"the course's limits file {path.name} must give runtime_points as function -> points: {where}")
    return Limits(float(factor), repeats, dict(points))


@contextlib.contextmanager
def one_blas_thread():
    """Run numpy's BLAS on one thread, as the grader does, for as long as the block runs: with
    several threads a matrix product's time depends on how busy the other cores are. Yields
    False when threadpoolctl, which does this, is not installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield True


def _seconds(call, clock) -> float:
    start = clock()
    call()
    return clock() - start


def yardstick_ratio(call, yardstick: Yardstick, clock=time.process_time, runs=10) -> float:
    """How many yardsticks `call` takes: the best of `runs` runs of each, alternated. The
    instructors store this ratio for their reference solution."""
    workload = yardstick.workload()
    calls, sticks = [], []
    for _ in range(runs):
        sticks.append(_seconds(workload, clock))
        calls.append(_seconds(call, clock))
    return min(calls) / min(sticks)


def measure(call, yardstick: Yardstick, ratio, limit, runs, clock=time.process_time, patience=2.0):
    """(best seconds of `call`, the reference's estimated seconds), as the grader measures: CPU
    time, the reference (here: the yardstick times the instructors' ratio) timed alongside, in
    alternation, and the best of `runs` runs of each counts. Over the limit, runs go on for up to
    `patience` seconds; over 3 times the limit twice, the call is hopeless and not run again."""
    workload = yardstick.workload()
    best, reference, done = float("inf"), float("inf"), 0
    deadline = clock() + patience
    while True:
        reference = min(reference, ratio * _seconds(workload, clock))
        best, done = min(best, _seconds(call, clock)), done + 1
        if best > 3 * limit * reference and done >= 2:
            break
        if done >= runs and (best <= limit * reference or clock() >= deadline):
            break
    return best, reference


def speed_verdict(seconds, reference, limit) -> tuple[str, float]:
    """The ratio seconds / reference and what it means: "slow" over 3 times the limit (the check
    fails), "over" the limit, "close" over half of it, else "ok"."""
    ratio = seconds / reference
    verdict = (
        "slow" if ratio > 3 * limit else "over" if ratio > limit else "close" if ratio > limit / 2 else "ok"
    )
    return verdict, ratio


# --------------------------------------------------------------------------------------
# Expected values in HDF5
# --------------------------------------------------------------------------------------


def _store(group, key, value):
    """Arrays as datasets, tuples (caches) as groups with one member per element."""
    if isinstance(value, (tuple, list)):
        member = group.create_group(key)
        member.attrs["length"] = len(value)
        for index, item in enumerate(value):
            _store(member, str(index), item)
    else:
        group.create_dataset(key, data=np.asarray(value))


def _load(node):
    if isinstance(node, h5py.Group):
        return tuple(_load(node[str(index)]) for index in range(int(node.attrs["length"])))
    return node[()]


# --------------------------------------------------------------------------------------
# The suite of an assignment
# --------------------------------------------------------------------------------------


class Suite:
    """The public tests of one assignment, as public_tests.py describes them.

    spec_file: the path of public_tests.py (public_tests.h5 and limits.json sit next to it);
    functions: name -> Function; cases: case id -> Case, run in this order; mutation_advice:
    what to do instead of changing an input; shape_advice: output name -> what its shape is;
    gradient_checks: backward function -> GradientCheck; speed: the Speed check, if any.
    """

    def __init__(
        self,
        spec_file,
        *,
        assignment: str,
        functions: dict,
        cases: dict,
        mutation_advice: str,
        shape_advice: dict | None = None,
        gradient_checks: dict | None = None,
        speed: Speed | None = None,
        misconceptions: tuple = (),
    ):
        folder = Path(spec_file).resolve().parent
        self.assignment = assignment
        self.functions, self.cases = functions, cases
        self.mutation_advice = mutation_advice
        self.shape_advice = shape_advice or {}
        self.gradient_checks = gradient_checks or {}
        self.speed = speed
        self.misconceptions = tuple(misconceptions)
        self.expected_path = folder / EXPECTED_FILE
        self.limits_path = folder / LIMITS_FILE
        self.clock = time.process_time  # the timer of the speed check: CPU time, as the grader's
        self._check_spec()

    def _check_spec(self):
        """Mistakes in public_tests.py itself are ValueErrors, raised when it is imported."""
        timed = self.speed.cases.values() if self.speed else ()
        for case in [*self.cases.values(), *timed]:
            if case.function not in self.functions:
                raise ValueError(f"a case of {case.function!r}, which is not in the functions")
        for name, function in self.functions.items():
            for spec in function.outputs:
                if (
                    isinstance(spec, Cache)
                    and spec.inputs
                    and not set(spec.fields) <= set(function.arguments)
                ):
                    raise ValueError(
                        f"the cache of {name} must name some of its arguments {function.arguments}"
                    )
            unknown = set(function.axes) - {_name(spec) for spec in function.outputs}
            if unknown:
                raise ValueError(f"the axes of {name} name outputs it does not have: {sorted(unknown)}")
            if function.forward and function.forward not in self.functions:
                raise ValueError(f"the forward pass of {name}, {function.forward!r}, is not in the functions")
        for misconception in self.misconceptions:
            function = self.functions.get(misconception.function)
            if function is None or misconception.output not in [_name(spec) for spec in function.outputs]:
                raise ValueError(
                    f"a misconception of {misconception.function!r} about {misconception.output!r}, "
                    "which is not one of its outputs"
                )
        for name, check in self.gradient_checks.items():
            backward = self.functions[name]
            forward = self.functions[backward.forward]
            outputs = [_name(spec) for spec in forward.outputs]
            gradients = [_name(spec) for spec in backward.outputs]
            if tuple(check.inputs) != tuple(forward.arguments):
                raise ValueError(f"the gradient check of {name} must draw {forward.arguments} in this order")
            if set(check.upstream) != {spec for spec in backward.arguments if isinstance(spec, str)}:
                raise ValueError(f"the gradient check of {name} must draw its arguments but the cache")
            if any(key[1:] not in outputs for key in check.upstream):
                raise ValueError(f"the upstream gradients of {name} must be named d + one of {outputs}")
            if any(label[1:] not in check.inputs for label in gradients):
                raise ValueError(f"the outputs of {name} must be named d + one of {forward.arguments}")

    # ---------------------------------------------------------------- inputs and expected values

    def case_inputs(self, case_id, lookup=None):
        """The (args, kwargs) of a case, regenerated from its seed. lookup(case_id, index) supplies
        the outputs of other cases that it takes as input (by default from public_tests.h5)."""
        return self._inputs(self.cases[case_id], lookup or self.read_expected, {})

    def _inputs(self, case, lookup, functions):
        if case.legacy:
            generator = np.random.RandomState(case.seed)  # the numbers of np.random.seed + randn
        else:
            generator = np.random.default_rng(case.seed)
        arrays = {name: _maker(spec).make(generator, case.legacy) for name, spec in case.draw.items()}

        def fill(template):
            if isinstance(template, Draw):
                return arrays[template.name]
            if isinstance(template, Output):
                return lookup(template.case_id, template.index)
            if isinstance(template, Call):
                return functions[template.function](*fill(list(template.args)))[template.index]
            if isinstance(template, (tuple, list)):
                return type(template)(fill(item) for item in template)
            if isinstance(template, dict):
                return {key: fill(value) for key, value in template.items()}
            return copy.deepcopy(template)  # a value written in the case: every test gets its own

        return list(fill(case.args)), dict(fill(case.kwargs))

    def read_expected(self, case_id, index):
        """Output `index` of a case, as the instructors' solution computed it."""
        path = self.expected_path
        index = index % len(self.functions[self.cases[case_id].function].outputs)
        if not path.exists():
            fail(f"the file of expected values {path.name} is missing: it must sit next to public_tests.py")
        with h5py.File(path, "r") as file:
            key = f"{case_id}/{index}"
            if key not in file:
                fail(f"{path.name} has no expected values for {key!r}: download the assignment again")
            return _load(file[key])

    def write_expected(self, reference, path=None):
        """Run every case with the reference functions (attributes of `reference`) and store
        output k of each case as "<case_id>/<k>" (a cache as a group; a cache of the inputs is
        not stored); then the reference's timings, relative to the yardstick, in group "speed"."""
        results = {}

        def lookup(case_id, index):
            return results[case_id][index]

        with h5py.File(path or self.expected_path, "w") as file:
            file.attrs["about"] = (
                f"Expected outputs of the public tests of {self.assignment}, computed with the "
                "instructors' reference solution; inputs are regenerated by SUITE.case_inputs."
            )
            for case_id, case in self.cases.items():
                specs = self.functions[case.function].outputs
                args, kwargs = self._inputs(case, lookup, {})
                output = getattr(reference, case.function)(*args, **kwargs)
                results[case_id] = outputs = tuple(output) if len(specs) > 1 else (output,)
                group = file.create_group(case_id)
                group.attrs["description"] = case.description
                for index, (spec, value) in enumerate(zip(specs, outputs)):
                    if not (isinstance(spec, Cache) and spec.inputs):
                        _store(group, str(index), value)
                for number, wrong in self.wrong_outputs(reference, case.function, args, kwargs):
                    group.create_dataset(f"misconception/{number}", data=wrong)
            if self.speed:
                self._write_speed(reference, file)

    def _write_speed(self, reference, file):
        group = file.require_group("speed")
        group.attrs["about"] = (
            "reference CPU time / yardstick CPU time, one BLAS thread, measured by the instructors"
        )
        functions = {name: getattr(reference, name) for name in self.functions}
        with one_blas_thread():
            for key, case in self.speed.cases.items():
                args, kwargs = self._inputs(case, self.read_expected, functions)
                call = functools.partial(functions[case.function], *args, **kwargs)
                group.attrs[key] = yardstick_ratio(call, self.speed.yardstick, self.clock)

    def wrong_outputs(self, reference, function, args, kwargs):
        """(number, output) of every misconception of `function`, computed with the reference on
        copies of the inputs; one whose computation fails on these inputs is left out."""
        for number, misconception in enumerate(self.misconceptions):
            if misconception.function != function:
                continue
            args_copy, kwargs_copy = copy.deepcopy((args, kwargs))
            try:
                wrong = np.asarray(misconception.wrong(reference, *args_copy, **kwargs_copy))
            except Exception:
                continue
            yield number, wrong

    def candidates(self, case_id, output):
        """(says, stored wrong output) of the misconceptions about `output` of a case."""
        found = []
        with h5py.File(self.expected_path, "r") as file:
            stored = file.get(f"{case_id}/misconception")
            for key in stored or ():
                misconception = self.misconceptions[int(key)] if int(key) < len(self.misconceptions) else None
                if misconception and misconception.output == output:
                    found.append((misconception.says, stored[key][()]))
        return found

    def limits(self) -> Limits:
        return read_limits(self.limits_path)

    # ---------------------------------------------------------------- running a test

    def tests(self) -> dict:
        """One test per function, named after it: ``{"conv_forward_test": ..., ...}``, in the
        order of the functions. ``conv_forward_test(conv_forward)`` runs SUITE.test on it; the test
        of a backward pass that names its forward pass takes that too, as second argument."""
        return {f"{name}_test": self._named_test(name) for name in self.functions}

    def _named_test(self, name):
        forward_name = self.functions[name].forward
        if forward_name:

            def run(target, forward=None):
                try:
                    self.test(name, target, forward)
                except PublicTestFailure as failure:
                    raise failure.with_traceback(None) from failure.__cause__  # only the message

        else:

            def run(target):
                try:
                    self.test(name, target)
                except PublicTestFailure as failure:
                    raise failure.with_traceback(None) from failure.__cause__  # only the message

        call = ", ".join(filter(None, (name, forward_name)))
        run.__name__ = run.__qualname__ = f"{name}_test"
        run.__doc__ = f"The public tests of {name}, as in {name}_test({call})."
        return run

    def test(self, name, target, forward=None):
        """Run every case of `name` on `target`, then its gradient check and speed check, if any."""
        case_ids = [case_id for case_id, case in self.cases.items() if case.function == name]
        for number, case_id in enumerate(case_ids):
            self._run_case(name, target, case_id, after_a_pass=number > 0)
        extra = ""
        if name in self.gradient_checks:
            self._gradient_check(name, target, forward)
            extra = " and a gradient check"
        if self.speed and any(case.function == name for case in self.speed.cases.values()):
            self._check_speed(name, target, forward)
        count = len(case_ids)
        print(f"\u2705 All tests passed. ({name}: {count} case{'' if count == 1 else 's'}{extra})")

    def _run_case(self, name, target, case_id, after_a_pass=False):
        """One case. A case's hint is about what it varies (stride, padding, ...): it is said
        only when an earlier case passed, and only when the numbers match no known mistake."""
        case, function = self.cases[case_id], self.functions[name]
        where = case.description
        case_hint = f"; hint: {case.hint}" if case.hint and after_a_pass else ""

        def hint(label, value, want):
            return self._advice(case_id, function, label, value, want) or case_hint

        args, kwargs = self.case_inputs(case_id)
        before = copy.deepcopy((args, kwargs))
        output = self._call(name, target, where, args, kwargs)
        self._check_not_mutated(name, where, before, args, kwargs)
        specs = function.outputs
        outputs = self._check_tuple(name, output)
        expected = [
            None if isinstance(spec, Cache) and spec.inputs else self.read_expected(case_id, index)
            for index, spec in enumerate(specs)
        ]
        for spec, value, want in zip(specs, outputs, expected):
            if isinstance(spec, Scalar):
                self._check_scalar(name, spec, value, where)
            elif isinstance(spec, str):
                self._check_array(spec, value, np.asarray(want), where, hint)
        names = {_name(spec): value for spec, value in zip(specs, outputs)}
        wrong = [
            (_name(spec), value, want)
            for spec, value, want in zip(specs, outputs, expected)
            if not isinstance(spec, Cache) and first_wrong(np.asarray(value), np.asarray(want)) is not None
        ]
        said = {label: hint(label, value, want) for label, value, want in wrong}
        wrong.sort(key=lambda item: said[item[0]] == case_hint)  # a known mistake first: it says more
        first_hint = said[wrong[0][0]] if wrong else case_hint
        for published in case.published:
            self._check_published(published, names, where, first_hint)
        for label, value, want in wrong:
            axes = function.axes.get(label, ())
            self._check_values(label, value, want, where, said[label], axes)
        for spec, value, want in zip(specs, outputs, expected):
            if isinstance(spec, Cache):
                if spec.inputs:
                    want = tuple(args[function.arguments.index(label)] for label in spec.fields)
                self._check_cache(name, spec, value, want, where)

    def _call(self, name, target, where, args, kwargs=None):
        """Call `target`; `where` says on what (for the messages). When it raises, the traceback
        shows your code's frames, not this one (IPython hides frames marked __tracebackhide__)."""
        __tracebackhide__ = True
        if not callable(target):
            fail(f"{name}_test expects your function {name}, but got {describe(target)}")
        try:
            return target(*args, **(kwargs or {}))
        except NotImplementedError:
            raise PublicTestFailure(
                f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code"
            ) from None
        except Exception as error:
            meaning = explain_error(type(error).__name__, str(error))
            raise PublicTestFailure(
                f"{name} raised {type(error).__name__} with {where}: {error}"
                + (f"; {meaning}" if meaning else "")
                + " (the traceback above shows the line of your code)"
            ) from error

    def _check_not_mutated(self, name, where, before, args, kwargs):
        """Every input as it was before the call; the message names the first changed element."""
        arguments = self.functions[name].arguments
        pairs = [*zip(arguments, before[0], args), *((key, before[1][key], kwargs[key]) for key in kwargs)]
        for spec, old, new in pairs:
            found = first_difference(old, new)
            if not found:
                continue
            path, old_part, new_part = found
            if isinstance(spec, Cache):
                position, label = self._cache_position(spec, path)
                fail(
                    f"{name} changed its cache in place with {where}: {position} is not what it was "
                    f"before the call ({change_text(label, old_part, new_part)}). A cache is read again "
                    "(calling the backward pass twice must give the same answer), so never write into its "
                    "arrays with +=, *=, or out=: compute new arrays instead"
                )
            label = _name(spec) + "".join(f"[{key!r}]" for key in path)
            fail(
                f"{name} changed its input {_name(spec)} in place with {where}: "
                f"{change_text(label, old_part, new_part)}. {self.mutation_advice}"
            )

    @staticmethod
    def _cache_position(spec, path):
        """('cache[2][5] (i of time step 2)', 'i') for a path into a cache."""
        depth = 2 if spec.steps else 1
        head, rest = path[:depth], path[depth:]
        text = "cache" + "".join(f"[{index}]" for index in head)
        if len(head) < depth or head[-1] >= len(spec.fields):
            return text, text
        field_name = spec.fields[head[-1]]
        text += f" ({field_name} of time step {head[0]})" if spec.steps else f" ({field_name})"
        return text, field_name + "".join(f"[{key!r}]" for key in rest)

    def _check_tuple(self, name, output):
        specs = self.functions[name].outputs
        if len(specs) == 1:
            return (output,)
        if not isinstance(output, (tuple, list)) or len(output) != len(specs):
            shape = ", ".join(_name(spec) for spec in specs)
            fail(f"{name} must return a tuple ({shape}) of {len(specs)} elements, got {describe(output)}")
        return tuple(output)

    def _check_scalar(self, name, spec, value, where):
        """One number: a Python float, a NumPy scalar or a 0-d array."""
        if isinstance(value, np.ndarray):
            if value.ndim != 0:
                advice = f": {spec.advice}" if spec.advice else ""
                fail(
                    f"{name} must return a scalar (one number), but your {spec.name} is an array of shape "
                    f"{value.shape}{advice}"
                )
            if np.issubdtype(value.dtype, np.number):
                return
        elif isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_)):
            return
        fail(f"{spec.name} should be a number, got {describe(value)} (with {where})")

    def _advice(self, case_id, function, label, value, want) -> str:
        """'; <what the numbers show>' when they match a known mistake, else ''."""
        says = recognised(value, want, self.candidates(case_id, label))
        says = says or pattern(value, want, function.axes.get(label, ()))
        return f"; {says}" if says else ""

    def _check_array(self, label, value, expected, where, hint):
        """Type, shape and dtype of one output array; hint(label, value, expected) is the advice."""
        if not isinstance(value, np.ndarray):
            fail(f"{label} should be a numpy array, got {describe(value)} (with {where})")
        if value.shape != expected.shape:
            advice = hint(label, value, expected)
            if not advice.startswith("; ") or advice.startswith("; hint"):
                advice = (f": {self.shape_advice[label]}" if label in self.shape_advice else "") + advice
            fail(f"with {where} your {label} has shape {value.shape} but should be {expected.shape}{advice}")
        check_dtype(label, value.dtype, expected.dtype, where)

    def _check_published(self, published, outputs, where, hint):
        """A value the classic course published, e.g. np.mean(Z)."""
        what = published.expression + (f" ({published.note})" if published.note else "")
        got = eval(published.expression, {"np": np}, dict(outputs))
        expected = published.value
        if np.shape(got) != np.shape(expected):
            fail(f"with {where} your {what} has shape {np.shape(got)} but should be {np.shape(expected)}")
        if not np.allclose(got, expected, rtol=RTOL, atol=published.atol):
            fail(f"with {where} your {what} is {array_text(got)} but should be {array_text(expected)}{hint}")

    def _check_values(self, label, got, expected, where, hint, axes=()):
        """Every element compared with the expected output; the message names the first that
        differs, and where the axes are named, what it is (example 1, row 2, ...)."""
        got, expected = np.asarray(got), np.asarray(expected)
        index = first_wrong(got, expected)
        if index is None:
            return
        if got.ndim == 0:
            fail(f"with {where} your {label} is {got.item():.10g} but should be {expected.item():.10g}{hint}")
        count = int(np.count_nonzero(~np.isclose(got, expected, rtol=RTOL, atol=ATOL)))
        named = f" ({position_text(index, axes)})" if axes else ""
        fail(
            f"with {where} your {label} differs from the expected values at {count} of {got.size} "
            f"positions; the first is {label}{index_text(index)}{named}: {number_text(got[index])} "
            f"instead of {number_text(expected[index])}{hint}"
        )

    def _check_cache(self, name, spec, cache, expected, where):
        """The cache must follow the contract of the docstring, element by element."""
        contract = spec.contract(name)
        step = "(" + ", ".join(spec.fields) + ")"
        if not isinstance(cache, (tuple, list)) or len(cache) != len(expected):
            fail(
                f"with {where} the cache must be {contract} (length {len(expected)}), "
                f"but yours is {describe(cache)}"
            )
        steps, wanted = (cache, expected) if spec.steps else ((cache,), (expected,))
        for t, (got_step, want_step) in enumerate(zip(steps, wanted)):
            prefix = f"cache[{t}]" if spec.steps else "cache"
            if not isinstance(got_step, (tuple, list)) or len(got_step) != len(spec.fields):
                fail(f"with {where} {prefix} must be the tuple {step}, but it is {describe(got_step)}")
            for k, (got, want) in enumerate(zip(got_step, want_step)):
                field_name = spec.fields[k]
                label = f"{prefix}[{k}] ({field_name}" + (f" of time step {t})" if spec.steps else ")")
                if not isinstance(want, np.ndarray):
                    if not same(got, want):
                        fail(
                            f"with {where} {label} is {_short(got)} but should be {_short(want)}; "
                            f"the cache must be {contract}"
                        )
                    continue
                if not isinstance(got, np.ndarray) or got.shape != want.shape:
                    fail(
                        f"with {where} {label} should be an array of shape {want.shape}, "
                        f"got {describe(got)}; the cache must be {contract}"
                    )
                index = first_wrong(got, want)
                if index is not None:
                    holding = (
                        ""
                        if spec.inputs
                        else ", holding the inputs unchanged and the values the backward pass needs"
                    )
                    fail(
                        f"with {where} {label} differs from the expected values ({field_name}"
                        f"{index_text(index)} is {number_text(got[index])} but should be "
                        f"{number_text(want[index])}); the cache must be {contract}{holding}"
                    )

    # ---------------------------------------------------------------- gradients and speed

    def _gradient_check(self, name, backward, forward):
        """Compare the backward pass with numeric gradients of the student's own forward pass, and
        check that a second call on the same cache gives the same answer."""
        check, function = self.gradient_checks[name], self.functions[name]
        forward_name = function.forward
        forward_spec = self.functions[forward_name]
        forward_outputs = [_name(spec) for spec in forward_spec.outputs]
        generator = np.random.default_rng(check.seed)
        inputs = {key: _maker(spec).make(generator) for key, spec in check.inputs.items()}
        generator = np.random.default_rng(check.upstream_seed)
        upstream = {key: _maker(spec).make(generator) for key, spec in check.upstream.items()}
        shapes = ", ".join(f"{key} {value.shape}" for key, value in inputs.items())
        where = f"the gradient check (random inputs: {shapes})"
        if not callable(forward):
            fail(f"{name}_test needs your {forward_name} as second argument for its gradient check")
        values = list(inputs.values())
        result = self._call(forward_name, forward, f"the inputs of {where}", values)
        if not isinstance(result, (tuple, list)) or len(result) != len(forward_outputs):
            fail(
                f"the gradient check of {name} needs your {forward_name} to return "
                f"({', '.join(forward_outputs)})"
            )
        cache = next(value for spec, value in zip(forward_spec.outputs, result) if isinstance(spec, Cache))
        args = [cache if isinstance(spec, Cache) else upstream[spec] for spec in function.arguments]
        before = copy.deepcopy(args)
        first = self._call(name, backward, where, args)
        self._check_not_mutated(name, where, (before, {}), args, {})
        second = self._call(name, backward, where, args)
        labels = [_name(spec) for spec in function.outputs]
        for gradients in (first, second):
            if not isinstance(gradients, (tuple, list)) or len(gradients) != len(labels):
                fail(f"{name} must return a tuple ({', '.join(labels)}), got {describe(gradients)}")
        for label, a, b in zip(labels, first, second):
            if not same(np.asarray(a), np.asarray(b)):
                fail(
                    f"calling {name} twice on the same cache gave two different {label}: something changes "
                    "between the calls (an array of the cache written in place?)"
                )
        through = [forward_outputs.index(key[1:]) for key in check.upstream]

        def f():
            out = forward(*values)
            return tuple(out[i] for i in through) if len(through) > 1 else out[through[0]]

        df = tuple(upstream.values()) if len(upstream) > 1 else next(iter(upstream.values()))
        for label, got in zip(labels, first):
            numeric = numeric_gradient(f, inputs[label[1:]], df, check.step)
            if np.shape(got) != numeric.shape:
                fail(f"in {where} your {label} has shape {np.shape(got)} but should be {numeric.shape}")
            error = rel_error(got, numeric)
            if not error < check.tolerance:
                fail(
                    f"in {where} your {label} disagrees with the numeric gradient of your {forward_name} "
                    f"(relative error {error:.2g}, should be below {check.tolerance:g}); "
                    f"if the test of {forward_name} passed, the mistake is in the {label} of {name}"
                )

    def _check_speed(self, name, target, forward):
        """Time `target` as the grader will (one BLAS thread, CPU time, the best of several runs,
        the reference timed alongside) and say where it stands against the limit. Only a time far
        over the limit fails the test: the grader's own measurement decides the points."""
        limits = self.limits()
        keys = [key for key, case in self.speed.cases.items() if case.function == name]
        with h5py.File(self.expected_path, "r") as file:
            timings = dict(file["speed"].attrs) if "speed" in file else {}
        for key in keys:
            if key not in timings:
                fail(f"{EXPECTED_FILE} has no reference timing for {key!r}: download the assignment again")
        forward_name = self.functions[name].forward
        if forward_name and not callable(forward):
            fail(f"{name}_test needs your {forward_name} as second argument for its speed check")
        with one_blas_thread() as single:
            if not single:
                print(
                    "(threadpoolctl is not installed: numpy's BLAS may use several threads, "
                    "and the timing is rougher)"
                )
            for key in keys:
                case = self.speed.cases[key]
                args, kwargs = self._inputs(case, self.read_expected, {name: target, forward_name: forward})
                call = functools.partial(target, *args, **kwargs)
                limit, runs = limits.runtime_factor, limits.runtime_repeats + 1
                seconds, reference = measure(
                    call, self.speed.yardstick, timings[key], limit, runs, self.clock
                )
                self._say_speed(name, case, limits, *speed_verdict(seconds, reference, limit))

    def _say_speed(self, name, case, limits, verdict, ratio):
        label = name + "".join(f" ({option}={value!r})" for option, value in case.kwargs.items())
        limit = limits.runtime_factor
        points = limits.runtime_points.get(name)
        stake = f"its runtime points ({points:g})" if points else "its runtime points"
        size = f"on the grader's input size ({case.description})"
        if verdict == "slow":
            fail(
                f"{label} is correct but far too slow: {size} it takes about {ratio:.0f}× the reference's "
                f"time, and the limit is {limit:g}×, so it would lose {stake}. {self.speed.advice}"
            )
        if verdict == "over":
            print(
                f"\u26a0\ufe0f {label} took about {ratio:.0f}× the reference's time {size}, over the "
                f"limit of {limit:g}×: as it is, it would likely lose {stake}. "
                f"Vectorize more ({self.speed.see})."
            )
        elif verdict == "close":
            print(
                f"\u26a0\ufe0f {label} is within the limit but close to it: about {ratio:.1f}× the "
                f"reference's time (limit {limit:g}×, {stake} at stake). The grader's machine may differ: "
                f"a little more vectorization would make it safe ({self.speed.see})."
            )
        else:
            ok = f"about {ratio:.1f}× the reference's time (limit {limit:g}×)"
            print(f"\u2705 {label} is fast enough: {ok}.")
