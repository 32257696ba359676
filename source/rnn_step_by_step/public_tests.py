"""Public tests for "Recurrent networks, step by step".

Each exercise of the notebook ends with a cell such as ``rnn_forward_test(rnn_forward)``.
A test runs your function on

* the course's published example (the numbers you may know from the classic cs231n
  assignment, built with ``np.linspace``), and
* a few random cases where N (examples), T (time steps), D (input size) and H (hidden size)
  are all different, so that a transposed matrix or a wrong axis cannot go unnoticed.

The backward tests also take your forward function, as in
``rnn_step_backward_test(rnn_step_backward, rnn_step_forward)``: they compare your gradients
with numeric gradients of your own forward pass (centred differences), and check that calling
the backward pass leaves its cache untouched (calling it twice must give the same answer).

The inputs of every case are regenerated from a random seed (see ``CASES`` and
``case_inputs``); the expected outputs are read from ``public_tests.h5``, which the
instructors computed with their own solution.

When something is wrong, the test stops at the first problem and raises ``PublicTestFailure``
with one sentence saying which case failed and what to look at. Passing these tests is a good
sign, not a guarantee: the grader runs more cases (and times your code).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import h5py
import numpy as np

__all__ = [
    "PublicTestFailure",
    "rnn_step_forward_test",
    "rnn_step_backward_test",
    "rnn_forward_test",
    "rnn_backward_test",
    "lstm_step_forward_test",
    "lstm_step_backward_test",
    "lstm_forward_test",
    "lstm_backward_test",
    "rel_error",
]

EXPECTED_PATH = Path(__file__).resolve().with_name("public_tests.h5")
RTOL, ATOL = 1e-6, 1e-8
GRADIENT_STEP = 1e-5  # centred differences, as in cs231n
GRADIENT_TOLERANCE = 1e-6  # on rel_error; a correct backward pass is below 1e-7 here


class PublicTestFailure(AssertionError):
    """One failed check of a public test; the message says what is wrong."""


def rel_error(x, y):
    """cs231n's relative error: the largest |x - y| / max(1e-8, |x| + |y|) over all elements."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------


class Draw:
    """Placeholder for an input array of the case (drawn in the order of "draw")."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Draw({self.name!r})"


class Output:
    """Placeholder for an output of another case (read from public_tests.h5); index 1 of a
    forward case is its cache."""

    def __init__(self, case_id, index):
        self.case_id, self.index = case_id, index

    def __repr__(self):
        return f"Output({self.case_id!r}, {self.index})"


class Linspace:
    """An input of the classic examples: np.linspace(low, high, num=size).reshape(shape)."""

    def __init__(self, low, high, *shape):
        self.low, self.high, self.shape = low, high, shape

    def make(self):
        return np.linspace(self.low, self.high, num=int(np.prod(self.shape))).reshape(self.shape)


def _case(function, description, draw, args, seed=0, hint=""):
    """A case: `draw` maps input names to shapes (standard normal, drawn in order from the
    seeded generator), to (shape, scale) pairs, or to Linspace inputs."""
    return {
        "function": function,
        "description": description,
        "seed": seed,
        "draw": draw,
        "args": args,
        "kwargs": {},
        "hint": hint,
    }


def _rnn_step(description, N, D, H, seed, scale=0.5, hint=""):
    draw = {
        "x": ((N, D), 1.0),
        "prev_h": ((N, H), 1.0),
        "Wx": ((D, H), scale),
        "Wh": ((H, H), scale),
        "b": ((H,), scale),
    }
    return _case(
        "rnn_step_forward",
        description,
        draw,
        [Draw("x"), Draw("prev_h"), Draw("Wx"), Draw("Wh"), Draw("b")],
        seed,
        hint,
    )


def _lstm_step(description, N, D, H, seed, scale=0.5, hint=""):
    draw = {
        "x": ((N, D), 1.0),
        "prev_h": ((N, H), 1.0),
        "prev_c": ((N, H), 1.0),
        "Wx": ((D, 4 * H), scale),
        "Wh": ((H, 4 * H), scale),
        "b": ((4 * H,), scale),
    }
    return _case(
        "lstm_step_forward",
        description,
        draw,
        [Draw("x"), Draw("prev_h"), Draw("prev_c"), Draw("Wx"), Draw("Wh"), Draw("b")],
        seed,
        hint,
    )


def _sequence(function, description, N, T, D, H, seed, gates=1, scale=0.5, hint=""):
    draw = {
        "x": ((N, T, D), 1.0),
        "h0": ((N, H), 1.0),
        "Wx": ((D, gates * H), scale),
        "Wh": ((H, gates * H), scale),
        "b": ((gates * H,), scale),
    }
    return _case(
        function, description, draw, [Draw("x"), Draw("h0"), Draw("Wx"), Draw("Wh"), Draw("b")], seed, hint
    )


def _backward(function, description, forward_case, upstream, seed, hint=""):
    """A backward case: upstream gradients drawn (name -> (shape, scale)), the cache is the
    output of `forward_case`."""
    names = list(upstream)
    return _case(
        function,
        description,
        upstream,
        [*(Draw(name) for name in names), Output(forward_case, -1)],
        seed,
        hint,
    )


TANH_HINT = "next_h = tanh(x Wx + prev_h Wh + b): x @ Wx has shape (N, H), prev_h @ Wh too, b broadcasts"
GATES_HINT = (
    "a = x @ Wx + prev_h @ Wh + b has shape (N, 4H); its four blocks of H columns are, in this "
    "order, the input gate i, the forget gate f, the output gate o (sigmoids) and g (tanh)"
)
TIME_HINT = (
    "the gradient of h_t is dh[:, t] (from the loss at step t) plus dprev_h (from step t+1): "
    "add both before calling the step's backward pass"
)
CELL_HINT = (
    "through time, the gradient flows back along h (dprev_h) and along the cell state c "
    "(dprev_c): carry both from step t to step t-1, and start both at zero after the last step"
)

CASES = {
    # rnn_step_forward ---------------------------------------------------------------------------
    "rnn_step_forward/classic": _case(
        "rnn_step_forward",
        "the course's example (N=3, D=10, H=4, inputs from np.linspace)",
        {
            "x": Linspace(-0.4, 0.7, 3, 10),
            "prev_h": Linspace(-0.2, 0.5, 3, 4),
            "Wx": Linspace(-0.1, 0.9, 10, 4),
            "Wh": Linspace(-0.3, 0.7, 4, 4),
            "b": Linspace(-0.2, 0.4, 4),
        },
        [Draw("x"), Draw("prev_h"), Draw("Wx"), Draw("Wh"), Draw("b")],
        hint=TANH_HINT,
    ),
    "rnn_step_forward/random": _rnn_step(
        "random inputs with N=4, D=5, H=3", 4, 5, 3, seed=101, hint=TANH_HINT
    ),
    "rnn_step_forward/one_example": _rnn_step(
        "a single example (N=1) with D=2, H=6", 1, 2, 6, seed=102, hint=TANH_HINT
    ),
    # rnn_step_backward --------------------------------------------------------------------------
    "rnn_step_backward/random": _backward(
        "rnn_step_backward",
        "the cache of the random rnn_step_forward case (N=4, D=5, H=3)",
        "rnn_step_forward/random",
        {"dnext_h": ((4, 3), 1.0)},
        seed=201,
        hint="with a = x Wx + prev_h Wh + b, da = dnext_h * (1 - next_h**2); then dx = da Wx^T, "
        "dprev_h = da Wh^T, dWx = x^T da, dWh = prev_h^T da, db = da summed over the batch",
    ),
    "rnn_step_backward/one_example": _backward(
        "rnn_step_backward",
        "the cache of the single-example rnn_step_forward case (N=1, D=2, H=6)",
        "rnn_step_forward/one_example",
        {"dnext_h": ((1, 6), 1.0)},
        seed=202,
        hint="db has shape (H,): sum da over the batch axis 0",
    ),
    # rnn_forward --------------------------------------------------------------------------------
    "rnn_forward/classic": _case(
        "rnn_forward",
        "the course's example (N=2, T=3, D=4, H=5, inputs from np.linspace)",
        {
            "x": Linspace(-0.1, 0.3, 2, 3, 4),
            "h0": Linspace(-0.3, 0.1, 2, 5),
            "Wx": Linspace(-0.2, 0.4, 4, 5),
            "Wh": Linspace(-0.4, 0.1, 5, 5),
            "b": Linspace(-0.7, 0.1, 5),
        },
        [Draw("x"), Draw("h0"), Draw("Wx"), Draw("Wh"), Draw("b")],
        hint="h[:, t] is rnn_step_forward of x[:, t] and the previous hidden state (h0 at t = 0)",
    ),
    "rnn_forward/random": _sequence(
        "rnn_forward",
        "random inputs with N=3, T=4, D=2, H=5",
        3,
        4,
        2,
        5,
        seed=301,
        hint="feed each step the hidden state the previous step returned, starting from h0",
    ),
    # rnn_backward -------------------------------------------------------------------------------
    "rnn_backward/random": _backward(
        "rnn_backward",
        "the cache of the random rnn_forward case (N=3, T=4, D=2, H=5) and a gradient dh at every step",
        "rnn_forward/random",
        {"dh": ((3, 4, 5), 1.0)},
        seed=401,
        hint=TIME_HINT,
    ),
    # lstm_step_forward --------------------------------------------------------------------------
    "lstm_step_forward/classic": _case(
        "lstm_step_forward",
        "the course's example (N=3, D=4, H=5, inputs from np.linspace)",
        {
            "x": Linspace(-0.4, 1.2, 3, 4),
            "prev_h": Linspace(-0.3, 0.7, 3, 5),
            "prev_c": Linspace(-0.4, 0.9, 3, 5),
            "Wx": Linspace(-2.1, 1.3, 4, 20),
            "Wh": Linspace(-0.7, 2.2, 5, 20),
            "b": Linspace(0.3, 0.7, 20),
        },
        [Draw("x"), Draw("prev_h"), Draw("prev_c"), Draw("Wx"), Draw("Wh"), Draw("b")],
        hint=GATES_HINT,
    ),
    "lstm_step_forward/random": _lstm_step(
        "random inputs with N=2, D=3, H=4", 2, 3, 4, seed=501, hint=GATES_HINT
    ),
    "lstm_step_forward/saturated": _lstm_step(
        "large weights (scale 10, most gates saturated) with N=3, D=5, H=2",
        3,
        5,
        2,
        seed=502,
        scale=10.0,
        hint="use the sigmoid() helper given in the cell for i, f and o, and np.tanh for g and tanh(next_c)",
    ),
    # lstm_step_backward -------------------------------------------------------------------------
    "lstm_step_backward/random": _backward(
        "lstm_step_backward",
        "the cache of the random lstm_step_forward case (N=2, D=3, H=4)",
        "lstm_step_forward/random",
        {"dnext_h": ((2, 4), 1.0), "dnext_c": ((2, 4), 1.0)},
        seed=601,
        hint="dnext_c and the part of dnext_h that goes through tanh(next_c) add up into one gradient of "
        "next_c; stack the four gate gradients in the order i, f, o, g",
    ),
    "lstm_step_backward/cell_only": _backward(
        "lstm_step_backward",
        "the random lstm_step_forward cache with dnext_h = 0 (gradient on the cell only)",
        "lstm_step_forward/random",
        {"dnext_h": ((2, 4), 0.0), "dnext_c": ((2, 4), 1.0)},
        seed=602,
        hint="with dnext_h = 0 the gradient reaches the gates only through next_c = f*prev_c + i*g; "
        "dprev_c = dnext_c * f",
    ),
    # lstm_forward -------------------------------------------------------------------------------
    "lstm_forward/classic": _case(
        "lstm_forward",
        "the course's example (N=2, T=3, D=5, H=4, inputs from np.linspace)",
        {
            "x": Linspace(-0.4, 0.6, 2, 3, 5),
            "h0": Linspace(-0.4, 0.8, 2, 4),
            "Wx": Linspace(-0.2, 0.9, 5, 16),
            "Wh": Linspace(-0.3, 0.6, 4, 16),
            "b": Linspace(0.2, 0.7, 16),
        },
        [Draw("x"), Draw("h0"), Draw("Wx"), Draw("Wh"), Draw("b")],
        hint="the initial cell state is zero; h0 is only the initial hidden state",
    ),
    "lstm_forward/random": _sequence(
        "lstm_forward",
        "random inputs with N=3, T=5, D=4, H=2",
        3,
        5,
        4,
        2,
        seed=701,
        gates=4,
        hint="feed each step the h and c that the previous step returned, starting from h0 and c = 0",
    ),
    # lstm_backward ------------------------------------------------------------------------------
    "lstm_backward/random": _backward(
        "lstm_backward",
        "the cache of the random lstm_forward case (N=3, T=5, D=4, H=2) and a gradient dh at every step",
        "lstm_forward/random",
        {"dh": ((3, 5, 2), 1.0)},
        seed=801,
        hint=CELL_HINT,
    ),
    "lstm_backward/last_step_only": _backward(
        "lstm_backward",
        "the cache of the random lstm_forward case with a gradient on the last step only (dh[:, :-1] = 0)",
        "lstm_forward/random",
        {"dh": ((3, 5, 2), 1.0)},
        seed=802,
        hint=CELL_HINT,
    ),
}

# What each function returns; None marks a cache.
OUTPUTS = {
    "rnn_step_forward": ("next_h", None),
    "rnn_step_backward": ("dx", "dprev_h", "dWx", "dWh", "db"),
    "rnn_forward": ("h", None),
    "rnn_backward": ("dx", "dh0", "dWx", "dWh", "db"),
    "lstm_step_forward": ("next_h", "next_c", None),
    "lstm_step_backward": ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
    "lstm_forward": ("h", None),
    "lstm_backward": ("dx", "dh0", "dWx", "dWh", "db"),
}

ARGUMENTS = {
    "rnn_step_forward": ("x", "prev_h", "Wx", "Wh", "b"),
    "rnn_step_backward": ("dnext_h", "cache"),
    "rnn_forward": ("x", "h0", "Wx", "Wh", "b"),
    "rnn_backward": ("dh", "cache"),
    "lstm_step_forward": ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
    "lstm_step_backward": ("dnext_h", "dnext_c", "cache"),
    "lstm_forward": ("x", "h0", "Wx", "Wh", "b"),
    "lstm_backward": ("dh", "cache"),
}

# The cache contract of each step (what the reference's step forward returns as its cache).
STEP_CACHE = {
    "rnn": ("x", "prev_h", "Wx", "Wh", "next_h"),
    "lstm": ("x", "prev_h", "prev_c", "Wx", "Wh", "i", "f", "o", "g", "next_c"),
}


def _cache_fields(name):
    return STEP_CACHE["lstm" if name.startswith("lstm") else "rnn"]


# --------------------------------------------------------------------------------------
# Inputs and expected values
# --------------------------------------------------------------------------------------


def _store(file, key, value):
    """Arrays as datasets, tuples (caches) as groups with one member per element."""
    if isinstance(value, (tuple, list)):
        group = file.create_group(key)
        group.attrs["length"] = len(value)
        for index, item in enumerate(value):
            _store(file, f"{key}/{index}", item)
    else:
        file.create_dataset(key, data=np.asarray(value))


def _load(node):
    if isinstance(node, h5py.Group):
        return tuple(_load(node[str(index)]) for index in range(int(node.attrs["length"])))
    return node[()]


def _read_expected(case_id, index, path=None):
    """An output of a case from the HDF5 file ("<case_id>/<index>"; a cache is a group)."""
    path = Path(path or EXPECTED_PATH)
    index = index % len(OUTPUTS[CASES[case_id]["function"]])
    key = f"{case_id}/{index}"
    if not path.exists():
        raise PublicTestFailure(
            f"the file of expected values {path.name} is missing: it must sit next to public_tests.py"
        )
    with h5py.File(path, "r") as file:
        if key not in file:
            raise PublicTestFailure(f"{path.name} has no expected values for case {key!r}")
        return _load(file[key])


def _fill(template, arrays, lookup):
    if isinstance(template, Draw):
        return arrays[template.name]
    if isinstance(template, Output):
        return lookup(template.case_id, template.index)
    if isinstance(template, tuple):
        return tuple(_fill(item, arrays, lookup) for item in template)
    if isinstance(template, list):
        return [_fill(item, arrays, lookup) for item in template]
    if isinstance(template, dict):
        return {key: _fill(value, arrays, lookup) for key, value in template.items()}
    return template


def case_inputs(case_id, lookup=None):
    """Regenerate the (args, kwargs) of a case from its seed.

    lookup(case_id, index) supplies the outputs of other cases that a case uses as input
    (by default they are read from public_tests.h5).
    """
    case = CASES[case_id]
    rng = np.random.default_rng(case["seed"])
    arrays = {}
    for name, spec in case["draw"].items():
        if isinstance(spec, Linspace):
            arrays[name] = spec.make()
        else:
            shape, scale = spec
            arrays[name] = scale * rng.standard_normal(shape)
    if case_id == "lstm_backward/last_step_only":
        arrays["dh"][:, :-1] = 0.0
    lookup = lookup or _read_expected
    args = _fill(case["args"], arrays, lookup)
    kwargs = _fill(case["kwargs"], arrays, lookup)
    return list(args), dict(kwargs)


def write_expected(reference, path):
    """Run every case with the reference functions (attributes of `reference`) and store the outputs.

    Output k of a case is stored as "<case_id>/<k>"; caches (tuples) as groups.
    """
    results = {}

    def lookup(case_id, index):
        return results[case_id][index]

    with h5py.File(path, "w") as file:
        file.attrs["about"] = (
            "Expected outputs of the public tests of rnn_step_by_step, computed with the "
            "instructors' reference solution; inputs are regenerated by public_tests.case_inputs."
        )
        for case_id, case in CASES.items():
            args, kwargs = case_inputs(case_id, lookup)
            outputs = tuple(getattr(reference, case["function"])(*args, **kwargs))
            results[case_id] = outputs
            for index, value in enumerate(outputs):
                _store(file, f"{case_id}/{index}", value)
            file[case_id].attrs["description"] = case["description"]
    write_speed(reference, path)


# --------------------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------------------

# The grader times these functions on inputs of this size against the instructors' solution, and
# gives the runtime points when yours takes at most SPEED_LIMIT times as long.
SPEED_LIMIT = 10
SPEED_SIZE = {"N": 1024, "T": 20, "D": 2, "H": 3}
SPEED_FORWARD = {
    "rnn_forward": "rnn_forward",
    "rnn_backward": "rnn_forward",
    "lstm_forward": "lstm_forward",
    "lstm_backward": "lstm_forward",
}


def speed_inputs(name, forward):
    """The arguments of the timed call of `name`, at the size the grader uses; a backward pass
    gets the cache that `forward` (a function) returns."""
    rng = np.random.default_rng(2024)
    N, T, D, H = (SPEED_SIZE[key] for key in "NTDH")
    gates = 4 if name.startswith("lstm") else 1
    inputs = [
        rng.standard_normal((N, T, D)),
        rng.standard_normal((N, H)),
        0.5 * rng.standard_normal((D, gates * H)),
        0.5 * rng.standard_normal((H, gates * H)),
        0.5 * rng.standard_normal(gates * H),
    ]
    if name.endswith("_forward"):
        return inputs
    h, cache = forward(*inputs)
    return [rng.standard_normal(h.shape), cache]


def yardstick_seconds():
    """Time of a fixed numpy workload like an RNN's (many small matrix products and tanh): it
    calibrates this machine against the instructors'. Wall-clock time, best of several runs."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((256, 24)), rng.standard_normal((24, 64))
    best = float("inf")
    for _ in range(10):
        start = time.perf_counter()
        for _ in range(50):
            np.tanh(x @ w)
        best = min(best, time.perf_counter() - start)
    return best


def _seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def write_speed(reference, path):
    """Store, per timed function, the reference's time as a multiple of the yardstick's."""
    yardstick = yardstick_seconds()
    with h5py.File(path, "a") as file:
        group = file.require_group("speed")
        group.attrs["about"] = "reference time / yardstick_seconds(), measured by the instructors"
        for name, forward in SPEED_FORWARD.items():
            args = speed_inputs(name, getattr(reference, forward))
            function = getattr(reference, name)
            seconds = min(_seconds(lambda f=function, a=args: f(*a)) for _ in range(10))
            group.attrs[name] = seconds / yardstick


def _check_speed(name, target, forward):
    """Time `target` as the grader will, and say whether it is within the limit (an estimate:
    the grader measures the reference on its own machine, in the same run)."""
    with h5py.File(EXPECTED_PATH, "r") as file:
        relative = dict(file["speed"].attrs) if "speed" in file else {}
    if name not in relative:
        return
    args = speed_inputs(name, forward)
    reference = relative[name] * yardstick_seconds()
    seconds, runs = _seconds(lambda: target(*args)), 1
    # Unless hopeless, take the best of several runs, as the grader does. A notebook's timings
    # jump when other programs keep the cores busy (the grader keeps numpy to one thread and
    # reads CPU clocks, which is steadier), so near the limit keep trying for two seconds.
    deadline = time.perf_counter() + 2.0
    while seconds < 3 * SPEED_LIMIT * reference and (
        runs < 3 or (seconds > SPEED_LIMIT * reference and time.perf_counter() < deadline)
    ):
        seconds, runs = min(seconds, _seconds(lambda: target(*args))), runs + 1
    ratio = seconds / reference
    size = ", ".join(f"{key}={value}" for key, value in SPEED_SIZE.items())
    if ratio > 3 * SPEED_LIMIT:
        _fail(
            f"{name} is correct but slow: {seconds:.3f} s on the grader's input size ({size}), about "
            f"{ratio:.0f}× the reference (the limit is {SPEED_LIMIT}×). Loop over the time steps only and "
            "process the whole minibatch at each step: no loop over the examples or the hidden units"
        )
    if ratio > SPEED_LIMIT:
        print(
            f"\u26a0\ufe0f {name} took about {ratio:.0f}× the reference's time on this run, over the "
            f"limit of {SPEED_LIMIT}×. Timings in a notebook vary with what else the computer is doing: "
            "run the cell again, and if it stays over the limit, vectorize more (see section 3)."
        )
    else:
        print(
            f"\u2705 {name} is fast enough: about {ratio:.1f}× the reference's time (limit {SPEED_LIMIT}×)."
        )


# --------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------


def _fail(message):
    raise PublicTestFailure(message)


def _type_name(value):
    return type(value).__name__


def _array_text(value):
    """An array on one line, for messages (nested lists, 8 decimals)."""
    return str((np.round(np.asarray(value, dtype=float), 8) + 0.0).tolist())


def _max_error(got, expected):
    with np.errstate(invalid="ignore"):
        return np.max(np.abs(np.asarray(got, dtype=float) - np.asarray(expected, dtype=float)), initial=0.0)


def _same(a, b):
    """Deep equality of inputs (arrays, tuples, numbers) for the mutation checks."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _call(name, target, where, args):
    """Call `target`; `where` says on what (for the messages)."""
    if not callable(target):
        _fail(f"{name}_test expects your function {name}, but got a {_type_name(target)}")
    try:
        return target(*args)
    except NotImplementedError:
        raise PublicTestFailure(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except Exception as error:
        raise PublicTestFailure(
            f"{name} raised {_type_name(error)} with {where}: {error} "
            "(the traceback above shows the line of your code)"
        ) from error


def _first_difference(old, new, path=()):
    """Where two input trees first differ, as a tuple of indices (None if they are equal)."""
    if isinstance(old, tuple) and isinstance(new, tuple) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            found = _first_difference(a, b, (*path, index))
            if found is not None:
                return found
        return None
    return None if _same(old, new) else path


def _cache_position_text(name, path):
    """'cache[2][5] (i of time step 2)' for a position in a cache."""
    fields = _cache_fields(name)
    text = "cache" + "".join(f"[{index}]" for index in path)
    if name in ("rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward") and len(path) == 2:
        return f"{text} ({fields[path[1]]} of time step {path[0]})"
    if len(path) == 1 and name not in ("rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward"):
        return f"{text} ({fields[path[0]]})"
    return text


def _check_not_mutated(name, where, before, args):
    for position, (old, new) in enumerate(zip(before, args, strict=True)):
        argument = ARGUMENTS[name][position]
        if _same(old, new):
            continue
        if argument == "cache":
            path = _first_difference(old, new) or ()
            _fail(
                f"{name} changed its cache in place with {where}: {_cache_position_text(name, path)} is not "
                "what it was before the call. A cache is read again (calling the backward pass twice must "
                "give the same answer), so never write into its arrays with +=, *=, or out=: compute new "
                "arrays instead"
            )
        _fail(
            f"{name} changed its input {argument} in place with {where}: "
            "work on new arrays (e.g. `next_c = f * prev_c + i * g`, `d = dh[:, t] + dprev_h`) "
            "instead of modifying the arrays you are given (`+=`, `*=` on an input change it for the caller)"
        )


def _check_array(label, value, expected, where, advice=""):
    """Type, shape and values of one output array."""
    if not isinstance(value, np.ndarray):
        _fail(f"{label} should be a numpy array, got {_type_name(value)} (with {where})")
    if value.shape != expected.shape:
        _fail(
            f"with {where} your {label} has shape {value.shape} but should be {expected.shape}"
            + (f": {advice}" if advice else "")
        )
    if not np.issubdtype(value.dtype, np.number):
        _fail(f"{label} should hold numbers, but its dtype is {value.dtype} (with {where})")


SHAPE_ADVICE = {
    "next_h": "next_h has shape (N, H)",
    "next_c": "next_c has shape (N, H)",
    "h": "h has shape (N, T, H): one hidden state per example and time step",
    "dx": "dx has the shape of x",
    "dprev_h": "dprev_h has the shape of prev_h, (N, H)",
    "dprev_c": "dprev_c has the shape of prev_c, (N, H)",
    "dh0": "dh0 has the shape of h0, (N, H)",
    "dWx": "dWx has the shape of Wx",
    "dWh": "dWh has the shape of Wh",
    "db": "db has the shape of b: sum over the batch (and the time steps), keeping one value per unit",
}


def _check_cache(name, cache, expected, where):
    """The cache must follow the contract of the docstring, element by element."""
    fields = _cache_fields(name)
    step = "(" + ", ".join(fields) + ")"
    sequence = name in ("rnn_forward", "lstm_forward")
    contract = f"a tuple of T step caches, cache[t] = {step} of time step t" if sequence else step
    if not isinstance(cache, tuple) or len(cache) != len(expected):
        got = f"a {_type_name(cache)}" + (
            f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""
        )
        _fail(f"with {where} the cache must be {contract} (length {len(expected)}), but yours is {got}")
    steps = cache if sequence else (cache,)
    wanted = expected if sequence else (expected,)
    for t, (got_step, want_step) in enumerate(zip(steps, wanted, strict=True)):
        prefix = f"cache[{t}]" if sequence else "cache"
        if not isinstance(got_step, tuple) or len(got_step) != len(fields):
            _fail(
                f"with {where} {prefix} must be the tuple {step}, but it is a {_type_name(got_step)}"
                + (f" of length {len(got_step)}" if isinstance(got_step, (tuple, list)) else "")
            )
        for k, (got, want) in enumerate(zip(got_step, want_step, strict=True)):
            label = f"{prefix}[{k}] ({fields[k]}" + (f" of time step {t})" if sequence else ")")
            if not isinstance(got, np.ndarray) or got.shape != want.shape:
                shape = got.shape if isinstance(got, np.ndarray) else _type_name(got)
                _fail(
                    f"with {where} {label} should be an array of shape {want.shape}, got {shape}; "
                    f"the cache must be {contract}"
                )
            if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
                _fail(
                    f"with {where} {label} differs from the expected values (max abs error "
                    f"{_max_error(got, want):.3g}); the cache must be {contract}, holding the inputs "
                    "unchanged and the values the backward pass needs"
                )


def _published(where, what, got, expected, hint=""):
    """Compare with the values published by the classic course."""
    if np.shape(got) != np.shape(expected):
        _fail(f"with {where} your {what} has shape {np.shape(got)} but should be {np.shape(expected)}")
    if not np.allclose(got, expected, rtol=RTOL, atol=1e-7):
        _fail(
            f"with {where} your {what} is {_array_text(got)} but should be {_array_text(expected)}"
            + (f"; hint: {hint}" if hint else "")
        )


def _run_case(name, target, case_id, published=None):
    """One case: the call, inputs unchanged, types and shapes, published numbers, full values."""
    case = CASES[case_id]
    where = case["description"]
    hint = f"; hint: {case['hint']}" if case["hint"] else ""
    args, _ = case_inputs(case_id)
    before = copy.deepcopy(args)
    output = _call(name, target, where, args)
    _check_not_mutated(name, where, before, args)
    labels = OUTPUTS[name]
    shape = ", ".join(label or "cache" for label in labels)
    if not isinstance(output, (tuple, list)) or len(output) != len(labels):
        got = f"a {_type_name(output)}" + (
            f" of {len(output)} elements" if isinstance(output, (tuple, list)) else ""
        )
        _fail(f"{name} must return a tuple ({shape}) of {len(labels)} elements, got {got}")
    expected = [_read_expected(case_id, index) for index in range(len(labels))]
    for index, label in enumerate(labels):
        if label is not None:
            _check_array(label, output[index], expected[index], where, SHAPE_ADVICE.get(label, ""))
    if published:
        published(output)
    for index, label in enumerate(labels):
        if label is not None and not np.allclose(output[index], expected[index], rtol=RTOL, atol=ATOL):
            _fail(
                f"with {where} your {label} differs from the expected values "
                f"(max abs error {_max_error(output[index], expected[index]):.3g}){hint}"
            )
    for index, label in enumerate(labels):
        if label is None:
            _check_cache(name, output[index], expected[index], where)
    return output


def _run_cases(name, target, classic=None):
    """Run every case of `name` (`classic` also checks the classic course's published numbers on
    its "/classic" case); returns how many ran."""
    case_ids = [case_id for case_id, case in CASES.items() if case["function"] == name]
    for case_id in case_ids:
        _run_case(name, target, case_id, classic if case_id.endswith("/classic") else None)
    return len(case_ids)


def _passed(name, count, extra=""):
    print(f"\u2705 All tests passed. ({name}: {count} case{'' if count == 1 else 's'}{extra})")


# --------------------------------------------------------------------------------------
# Numeric gradients of your forward pass
# --------------------------------------------------------------------------------------


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
            grad[index] = sum(np.sum((p - m) * d) for p, m, d in zip(plus, minus, df, strict=True)) / (2 * h)
        else:
            grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def _gradient_check(name, forward_name, backward, forward, inputs, upstream, output_of, wrt):
    """Compare the backward pass with numeric gradients of the student's own forward pass, and
    check that a second call on the same cache gives the same answer.

    inputs: dict name -> array (the forward's arguments, in order); upstream: the backward's
    gradient arguments; output_of(forward result) -> the outputs the upstream gradients belong to;
    wrt: (gradient label, input name) in the order the backward returns them.
    """
    shapes = ", ".join(f"{key} {value.shape}" for key, value in inputs.items())
    where = f"the gradient check (random inputs: {shapes})"
    if not callable(forward):
        _fail(f"{name}_test needs your {forward_name} as second argument for its gradient check")
    values = list(inputs.values())
    result = _call(forward_name, forward, f"the inputs of {where}", values)
    if not isinstance(result, (tuple, list)) or len(result) != len(OUTPUTS[forward_name]):
        _fail(
            f"the gradient check of {name} needs your {forward_name} to return "
            f"({', '.join(label or 'cache' for label in OUTPUTS[forward_name])})"
        )
    cache = result[-1]
    cache_before = copy.deepcopy(cache)
    upstream_before = copy.deepcopy(upstream)
    first = _call(name, backward, where, [*upstream, cache])
    if not _same(cache_before, cache):
        path = _first_difference(cache_before, cache) or ()
        _fail(
            f"{name} changed the cache of your {forward_name} in place during {where}: "
            f"{_cache_position_text(name, path)} is not what it was. A cache is read again (calling the "
            "backward pass twice must give the same answer), so never write into its arrays with +=, *=, "
            "or out=: compute new arrays instead"
        )
    if not _same(upstream_before, list(upstream)):
        _fail(
            f"{name} changed its upstream gradient input in place during {where}: compute new arrays "
            "(e.g. `d = dh[:, t] + dprev_h`) instead of `+=` on the arrays you are given"
        )
    second = _call(name, backward, where, [*upstream, cache])
    if not isinstance(first, (tuple, list)) or len(first) != len(OUTPUTS[name]):
        _fail(f"{name} must return a tuple ({', '.join(OUTPUTS[name])})")
    for label, a, b in zip(OUTPUTS[name], first, second, strict=True):
        if not _same(np.asarray(a), np.asarray(b)):
            _fail(
                f"calling {name} twice on the same cache gave two different {label}: something changes "
                "between the calls (an array of the cache written in place?)"
            )

    def f():
        return output_of(forward(*values))

    df = tuple(upstream) if len(upstream) > 1 else upstream[0]
    for (label, input_name), got in zip(wrt, first, strict=True):
        numeric = numeric_gradient(f, inputs[input_name], df)
        if np.shape(got) != numeric.shape:
            _fail(f"in {where} your {label} has shape {np.shape(got)} but should be {numeric.shape}")
        error = rel_error(got, numeric)
        if not error < GRADIENT_TOLERANCE:
            _fail(
                f"in {where} your {label} disagrees with the numeric gradient of your {forward_name} "
                f"(relative error {error:.2g}, should be below {GRADIENT_TOLERANCE:g}); "
                f"if the test of {forward_name} passed, the mistake is in the {label} of {name}"
            )


def _random(seed, shapes, scale=0.5):
    rng = np.random.default_rng(seed)
    return {
        key: (1.0 if key in ("x", "prev_h", "prev_c", "h0") else scale) * rng.standard_normal(shape)
        for key, shape in shapes.items()
    }


# --------------------------------------------------------------------------------------
# One test per exercise
# --------------------------------------------------------------------------------------


def rnn_step_forward_test(target):
    name = "rnn_step_forward"

    def classic(outputs):
        _published(
            CASES["rnn_step_forward/classic"]["description"],
            "next_h",
            outputs[0],
            np.array(
                [
                    [-0.58172089, -0.50182032, -0.41232771, -0.31410098],
                    [0.66854692, 0.79562378, 0.87755553, 0.92795967],
                    [0.97934501, 0.99144213, 0.99646691, 0.99854353],
                ]
            ),
            TANH_HINT,
        )

    count = _run_cases(name, target, classic)
    _passed(name, count)


def rnn_step_backward_test(target, forward=None):
    name = "rnn_step_backward"
    count = _run_cases(name, target)
    N, D, H = 4, 3, 5
    inputs = _random(211, {"x": (N, D), "prev_h": (N, H), "Wx": (D, H), "Wh": (H, H), "b": (H,)})
    dnext_h = np.random.default_rng(212).standard_normal((N, H))
    _gradient_check(
        name,
        "rnn_step_forward",
        target,
        forward,
        inputs,
        [dnext_h],
        lambda out: out[0],
        [("dx", "x"), ("dprev_h", "prev_h"), ("dWx", "Wx"), ("dWh", "Wh"), ("db", "b")],
    )
    _passed(name, count, " and a gradient check")


def rnn_forward_test(target):
    name = "rnn_forward"

    def classic(outputs):
        _published(
            CASES["rnn_forward/classic"]["description"],
            "h",
            outputs[0],
            np.array(
                [
                    [
                        [-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
                        [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
                        [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525],
                    ],
                    [
                        [-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
                        [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
                        [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043],
                    ],
                ]
            ),
            CASES["rnn_forward/classic"]["hint"],
        )

    count = _run_cases(name, target, classic)
    _check_speed(name, target, target)
    _passed(name, count)


def rnn_backward_test(target, forward=None):
    name = "rnn_backward"
    count = _run_cases(name, target)
    N, T, D, H = 2, 4, 3, 5
    inputs = _random(411, {"x": (N, T, D), "h0": (N, H), "Wx": (D, H), "Wh": (H, H), "b": (H,)})
    dh = np.random.default_rng(412).standard_normal((N, T, H))
    _gradient_check(
        name,
        "rnn_forward",
        target,
        forward,
        inputs,
        [dh],
        lambda out: out[0],
        [("dx", "x"), ("dh0", "h0"), ("dWx", "Wx"), ("dWh", "Wh"), ("db", "b")],
    )
    _check_speed(name, target, forward)
    _passed(name, count, " and a gradient check")


def lstm_step_forward_test(target):
    name = "lstm_step_forward"

    def classic(outputs):
        where = CASES["lstm_step_forward/classic"]["description"]
        _published(
            where,
            "next_h",
            outputs[0],
            np.array(
                [
                    [0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
                    [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
                    [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299],
                ]
            ),
            GATES_HINT,
        )
        _published(
            where,
            "next_c",
            outputs[1],
            np.array(
                [
                    [0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407],
                    [0.66382255, 0.76674007, 0.87195994, 0.97902709, 1.08751345],
                    [0.74192008, 0.90592151, 1.07717006, 1.25120233, 1.42395676],
                ]
            ),
            GATES_HINT,
        )

    count = _run_cases(name, target, classic)
    _passed(name, count)


def lstm_step_backward_test(target, forward=None):
    name = "lstm_step_backward"
    count = _run_cases(name, target)
    N, D, H = 3, 5, 4
    inputs = _random(
        611,
        {"x": (N, D), "prev_h": (N, H), "prev_c": (N, H), "Wx": (D, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,)},
    )
    rng = np.random.default_rng(612)
    dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _gradient_check(
        name,
        "lstm_step_forward",
        target,
        forward,
        inputs,
        [dnext_h, dnext_c],
        lambda out: (out[0], out[1]),
        [
            ("dx", "x"),
            ("dprev_h", "prev_h"),
            ("dprev_c", "prev_c"),
            ("dWx", "Wx"),
            ("dWh", "Wh"),
            ("db", "b"),
        ],
    )
    _passed(name, count, " and a gradient check")


def lstm_forward_test(target):
    name = "lstm_forward"

    def classic(outputs):
        _published(
            CASES["lstm_forward/classic"]["description"],
            "h",
            outputs[0],
            np.array(
                [
                    [
                        [0.01764008, 0.01823233, 0.01882671, 0.0194232],
                        [0.11287491, 0.12146228, 0.13018446, 0.13902939],
                        [0.31358768, 0.33338627, 0.35304453, 0.37250975],
                    ],
                    [
                        [0.45767879, 0.4761092, 0.4936887, 0.51041945],
                        [0.6704845, 0.69350089, 0.71486014, 0.7346449],
                        [0.81733511, 0.83677871, 0.85403753, 0.86935314],
                    ],
                ]
            ),
            CASES["lstm_forward/classic"]["hint"],
        )

    count = _run_cases(name, target, classic)
    _check_speed(name, target, target)
    _passed(name, count)


def lstm_backward_test(target, forward=None):
    name = "lstm_backward"
    count = _run_cases(name, target)
    N, T, D, H = 2, 4, 5, 3
    inputs = _random(811, {"x": (N, T, D), "h0": (N, H), "Wx": (D, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,)})
    dh = np.random.default_rng(812).standard_normal((N, T, H))
    _gradient_check(
        name,
        "lstm_forward",
        target,
        forward,
        inputs,
        [dh],
        lambda out: out[0],
        [("dx", "x"), ("dh0", "h0"), ("dWx", "Wx"), ("dWh", "Wh"), ("db", "b")],
    )
    _check_speed(name, target, forward)
    _passed(name, count, " and a gradient check")
