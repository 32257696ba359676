"""Public tests for "Convolutional networks, step by step".

Each exercise of the notebook ends with a cell such as ``conv_forward_test(conv_forward)``.
A test runs your function on

* the course's published example (the numbers you may know from the classic assignment), and
* a few more cases: stride 2 and 3, no padding, non-square inputs, sizes that the stride does
  not divide, both pooling modes.

The inputs of every case are regenerated from a random seed (see ``CASES`` and
``case_inputs``); the expected outputs of the extra cases are read from ``public_tests.h5``,
which the instructors computed with their own solution.

When something is wrong, the test stops at the first problem and raises ``PublicTestFailure``
with one sentence saying which case failed and what to look at. Passing these tests is a good
sign, not a guarantee: the grader runs more cases (and times your code).
"""

from __future__ import annotations

import copy
import numbers
import time
from pathlib import Path

import h5py
import numpy as np

__all__ = [
    "PublicTestFailure",
    "zero_pad_test",
    "conv_single_step_test",
    "conv_forward_test",
    "pool_forward_test",
    "conv_backward_test",
    "create_mask_from_window_test",
    "distribute_value_test",
    "pool_backward_test",
]

EXPECTED_PATH = Path(__file__).resolve().with_name("public_tests.h5")
RTOL, ATOL = 1e-6, 1e-8


class PublicTestFailure(AssertionError):
    """One failed check of a public test; the message says what is wrong."""


# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------


class Draw:
    """Placeholder for a random array of the case's generator (drawn in the order of "draw")."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Draw({self.name!r})"


class Output:
    """Placeholder for an expected output of another case (read from public_tests.h5)."""

    def __init__(self, case_id, index):
        self.case_id, self.index = case_id, index

    def __repr__(self):
        return f"Output({self.case_id!r}, {self.index})"


def _case(function, description, draw, args, kwargs=None, seed=0, legacy=False, hint=""):
    """A case: `draw` maps input names to shapes, drawn in order from the seeded generator.

    legacy=True uses np.random.seed(seed) / np.random.randn, as the classic course did.
    """
    return {
        "function": function,
        "description": description,
        "seed": seed,
        "legacy": legacy,
        "draw": draw,
        "args": args,
        "kwargs": kwargs or {},
        "hint": hint,
    }


def _conv_case(description, m, n_H, n_W, n_C_prev, f, n_C, stride, pad, seed, legacy=False, hint=""):
    return _case(
        "conv_forward",
        description,
        {"A_prev": (m, n_H, n_W, n_C_prev), "W": (f, f, n_C_prev, n_C), "b": (1, 1, 1, n_C)},
        [Draw("A_prev"), Draw("W"), Draw("b"), {"pad": pad, "stride": stride}],
        seed=seed,
        legacy=legacy,
        hint=hint,
    )


def _conv_backward_case(description, m, n_H, n_W, n_C_prev, f, n_C, stride, pad, seed, hint=""):
    out_H = (n_H + 2 * pad - f) // stride + 1
    out_W = (n_W + 2 * pad - f) // stride + 1
    return _case(
        "conv_backward",
        description,
        {
            "A_prev": (m, n_H, n_W, n_C_prev),
            "W": (f, f, n_C_prev, n_C),
            "b": (1, 1, 1, n_C),
            "dZ": (m, out_H, out_W, n_C),
        },
        [Draw("dZ"), (Draw("A_prev"), Draw("W"), Draw("b"), {"stride": stride, "pad": pad})],
        seed=seed,
        hint=hint,
    )


def _pool_case(description, m, n_H, n_W, n_C, f, stride, mode, seed, legacy=False, hint=""):
    return _case(
        "pool_forward",
        description,
        {"A_prev": (m, n_H, n_W, n_C)},
        [Draw("A_prev"), {"f": f, "stride": stride}],
        {"mode": mode},
        seed=seed,
        legacy=legacy,
        hint=hint,
    )


def _pool_backward_case(description, m, n_H, n_W, n_C, f, stride, mode, seed, legacy=False, hint=""):
    out_H = (n_H - f) // stride + 1
    out_W = (n_W - f) // stride + 1
    return _case(
        "pool_backward",
        description,
        {"A_prev": (m, n_H, n_W, n_C), "dA": (m, out_H, out_W, n_C)},
        [Draw("dA"), (Draw("A_prev"), {"f": f, "stride": stride})],
        {"mode": mode},
        seed=seed,
        legacy=legacy,
        hint=hint,
    )


STRIDE_HINT = (
    "the window of output position (h, w) starts at row h*stride and column w*stride of the (padded) input"
)

MODE_HINT = "mode='max' takes the maximum of each window, mode='average' its mean"

CASES = {
    # zero_pad ------------------------------------------------------------------------
    "zero_pad/classic": _case(
        "zero_pad",
        "the course's example (seed 1, x of shape 4×3×3×2, pad=3)",
        {"x": (4, 3, 3, 2)},
        [Draw("x"), 3],
        seed=1,
        legacy=True,
    ),
    "zero_pad/pad2_nonsquare": _case(
        "zero_pad",
        "pad=2 on a batch of 2 non-square 3×5 images with 3 channels",
        {"x": (2, 3, 5, 3)},
        [Draw("x"), 2],
        seed=101,
        hint="pad only axes 1 and 2 (height and width), by pad on each side",
    ),
    "zero_pad/pad0": _case(
        "zero_pad",
        "pad=0 (nothing to add) on a 2×4×3×2 batch",
        {"x": (2, 4, 3, 2)},
        [Draw("x"), 0],
        seed=102,
        hint="with pad=0 the output must equal the input; a slice like [pad:-pad] is empty when pad is 0",
    ),
    # conv_single_step ----------------------------------------------------------------
    "conv_single_step/classic": _case(
        "conv_single_step",
        "the course's example (seed 1, 4×4×3 slice)",
        {"a_slice_prev": (4, 4, 3), "W": (4, 4, 3), "b": (1, 1, 1)},
        [Draw("a_slice_prev"), Draw("W"), Draw("b")],
        seed=1,
        legacy=True,
        hint="multiply element-wise, sum everything, then add the bias once",
    ),
    "conv_single_step/f3_two_channels": _case(
        "conv_single_step",
        "a 3×3×2 slice and filter",
        {"a_slice_prev": (3, 3, 2), "W": (3, 3, 2), "b": (1, 1, 1)},
        [Draw("a_slice_prev"), Draw("W"), Draw("b")],
        seed=201,
        hint="multiply element-wise, sum everything, then add the bias once",
    ),
    # conv_forward ---------------------------------------------------------------------
    "conv_forward/classic": _conv_case(
        "the course's example (seed 1, stride=2, pad=1, 3×3 filters on 2 inputs of 5×7×4)",
        2,
        5,
        7,
        4,
        3,
        8,
        stride=2,
        pad=1,
        seed=1,
        legacy=True,
        hint=STRIDE_HINT,
    ),
    "conv_forward/stride1_pad1_same": _conv_case(
        "stride=1, pad=1 ('same' convolution), 3×3 filters on 2 inputs of 4×6×3",
        2,
        4,
        6,
        3,
        3,
        2,
        stride=1,
        pad=1,
        seed=301,
        hint="check that you apply every filter c to all input channels and add b[..., c]",
    ),
    "conv_forward/stride2_pad0_nonsquare": _conv_case(
        "stride=2, pad=0, 3×3 filters on 3 inputs of 7×5×2",
        3,
        7,
        5,
        2,
        3,
        4,
        stride=2,
        pad=0,
        seed=302,
        hint="with pad=0 nothing is added around the input (watch out for [pad:-pad] slices); " + STRIDE_HINT,
    ),
    "conv_forward/stride3_pad1_nondivisible": _conv_case(
        "stride=3, pad=1, 2×2 filters on 2 inputs of 8×6×3, where the stride does not divide n + 2*pad - f",
        2,
        8,
        6,
        3,
        2,
        3,
        stride=3,
        pad=1,
        seed=303,
        hint=STRIDE_HINT,
    ),
    "conv_forward/classic_pad2_stride2": _conv_case(
        "the course's backward example (seed 1, stride=2, pad=2, 2×2 filters on 10 inputs of 4×4×3)",
        10,
        4,
        4,
        3,
        2,
        8,
        stride=2,
        pad=2,
        seed=1,
        legacy=True,
        hint=STRIDE_HINT,
    ),
    # pool_forward ----------------------------------------------------------------------
    "pool_forward/classic_max": _pool_case(
        "the course's example (seed 1, f=2, stride=1, mode='max')",
        2,
        5,
        5,
        3,
        2,
        1,
        "max",
        seed=1,
        legacy=True,
        hint=MODE_HINT,
    ),
    "pool_forward/classic_average": _pool_case(
        "the course's example (seed 1, f=2, stride=1, mode='average')",
        2,
        5,
        5,
        3,
        2,
        1,
        "average",
        seed=1,
        legacy=True,
        hint=MODE_HINT,
    ),
    "pool_forward/max_f3_stride2_nonsquare": _pool_case(
        "mode='max', f=3, stride=2 on 2 inputs of 7×6×3 (overlapping windows, 6-3 not divisible by 2)",
        2,
        7,
        6,
        3,
        3,
        2,
        "max",
        seed=401,
        hint=STRIDE_HINT,
    ),
    "pool_forward/average_f3_stride2_nonsquare": _pool_case(
        "mode='average', f=3, stride=2 on 2 inputs of 7×6×3 (overlapping windows, 6-3 not divisible by 2)",
        2,
        7,
        6,
        3,
        3,
        2,
        "average",
        seed=401,
        hint=STRIDE_HINT,
    ),
    "pool_forward/max_f2_stride3_gapped": _pool_case(
        "mode='max', f=2, stride=3 on 2 inputs of 8×7×2 (gaps between windows)",
        2,
        8,
        7,
        2,
        2,
        3,
        "max",
        seed=402,
        hint=STRIDE_HINT,
    ),
    "pool_forward/average_f2_stride3_gapped": _pool_case(
        "mode='average', f=2, stride=3 on 2 inputs of 8×7×2 (gaps between windows)",
        2,
        8,
        7,
        2,
        2,
        3,
        "average",
        seed=402,
        hint=STRIDE_HINT,
    ),
    # conv_backward ----------------------------------------------------------------------
    "conv_backward/classic": _case(
        "conv_backward",
        "the course's example (seed 1, stride=2, pad=2, 2×2 filters on 10 inputs of 4×4×3, dZ = Z)",
        {"A_prev": (10, 4, 4, 3), "W": (2, 2, 3, 8), "b": (1, 1, 1, 8)},
        [
            Output("conv_forward/classic_pad2_stride2", 0),
            (Draw("A_prev"), Draw("W"), Draw("b"), {"pad": 2, "stride": 2}),
        ],
        seed=1,
        legacy=True,
        hint=STRIDE_HINT,
    ),
    "conv_backward/stride1_pad1_same": _conv_backward_case(
        "stride=1, pad=1, 3×3 filters on 2 inputs of 5×4×3",
        2,
        5,
        4,
        3,
        3,
        2,
        stride=1,
        pad=1,
        seed=501,
        hint="with stride 1 the windows overlap, so their contributions to dA_prev and dW add up "
        "(+=, not =); dA_prev is the padded gradient with the padding cut off",
    ),
    "conv_backward/stride2_pad0_nonsquare": _conv_backward_case(
        "stride=2, pad=0, 3×3 filters on 2 inputs of 7×5×3",
        2,
        7,
        5,
        3,
        3,
        4,
        stride=2,
        pad=0,
        seed=502,
        hint="with pad=0, a slice like dA_pad[:, pad:-pad] is empty; " + STRIDE_HINT,
    ),
    "conv_backward/stride3_pad1_nondivisible": _conv_backward_case(
        "stride=3, pad=1, 2×2 filters on 2 inputs of 8×6×2, where the stride does not divide n + 2*pad - f",
        2,
        8,
        6,
        2,
        2,
        3,
        stride=3,
        pad=1,
        seed=503,
        hint=STRIDE_HINT,
    ),
    # create_mask_from_window ------------------------------------------------------------
    "create_mask_from_window/3x3": _case(
        "create_mask_from_window", "a random 3×3 window", {"x": (3, 3)}, [Draw("x")], seed=601
    ),
    "create_mask_from_window/2x4": _case(
        "create_mask_from_window", "a random non-square 2×4 window", {"x": (2, 4)}, [Draw("x")], seed=602
    ),
    # distribute_value --------------------------------------------------------------------
    "distribute_value/2x3": _case(
        "distribute_value",
        "dz=3.0 and shape (2, 3)",
        {},
        [3.0, (2, 3)],
        hint="each of the n_H*n_W elements gets dz / (n_H * n_W)",
    ),
    "distribute_value/3x3_negative": _case(
        "distribute_value",
        "dz=-1.8 and shape (3, 3)",
        {},
        [-1.8, (3, 3)],
        hint="each of the n_H*n_W elements gets dz / (n_H * n_W)",
    ),
    "distribute_value/1x4": _case(
        "distribute_value",
        "dz=2.0 and shape (1, 4)",
        {},
        [2.0, (1, 4)],
        hint="each of the n_H*n_W elements gets dz / (n_H * n_W)",
    ),
    # pool_backward --------------------------------------------------------------------------
    "pool_backward/classic_max": _pool_backward_case(
        "the course's example (seed 1, f=2, stride=1, mode='max')",
        5,
        5,
        3,
        2,
        2,
        1,
        "max",
        seed=1,
        legacy=True,
        hint="the whole gradient of a window goes to its maximum; with stride 1 < f "
        "the windows overlap and their gradients add up (+=, not =)",
    ),
    "pool_backward/classic_average": _pool_backward_case(
        "the course's example (seed 1, f=2, stride=1, mode='average')",
        5,
        5,
        3,
        2,
        2,
        1,
        "average",
        seed=1,
        legacy=True,
        hint="each element of a window gets dA / (f*f); with stride 1 < f the "
        "windows overlap and their gradients add up (+=, not =)",
    ),
    "pool_backward/max_f2_stride2": _pool_backward_case(
        "mode='max', f=2, stride=2 on 2 inputs of 6×4×3",
        2,
        6,
        4,
        3,
        2,
        2,
        "max",
        seed=701,
        hint="dA[i, h, w, c] is the gradient of the window starting at row h*stride, column w*stride",
    ),
    "pool_backward/average_f2_stride2": _pool_backward_case(
        "mode='average', f=2, stride=2 on 2 inputs of 6×4×3",
        2,
        6,
        4,
        3,
        2,
        2,
        "average",
        seed=701,
        hint="dA[i, h, w, c] is the gradient of the window starting at row h*stride, column w*stride",
    ),
    "pool_backward/max_f3_stride2_overlap": _pool_backward_case(
        "mode='max', f=3, stride=2 on 2 inputs of 7×6×2 (overlapping windows)",
        2,
        7,
        6,
        2,
        3,
        2,
        "max",
        seed=702,
        hint="where windows overlap, their gradients add up (+=, not =)",
    ),
    "pool_backward/average_f3_stride2_overlap": _pool_backward_case(
        "mode='average', f=3, stride=2 on 2 inputs of 7×6×2 (overlapping windows)",
        2,
        7,
        6,
        2,
        3,
        2,
        "average",
        seed=702,
        hint="each element of a window gets dA / (f*f) (f*f = 9 here); where windows overlap, "
        "their gradients add up (+=, not =)",
    ),
    "pool_backward/average_f2_stride3_gapped": _pool_backward_case(
        "mode='average', f=2, stride=3 on 2 inputs of 8×7×2 (gaps between windows)",
        2,
        8,
        7,
        2,
        2,
        3,
        "average",
        seed=703,
        hint="elements outside every window get a zero gradient; " + STRIDE_HINT,
    ),
}

# What each function returns; None marks a cache, which is checked but not compared.
OUTPUTS = {
    "zero_pad": ("X_pad",),
    "conv_single_step": ("Z",),
    "conv_forward": ("Z", None),
    "pool_forward": ("A", None),
    "conv_backward": ("dA_prev", "dW", "db"),
    "create_mask_from_window": ("mask",),
    "distribute_value": ("a",),
    "pool_backward": ("dA_prev",),
}

ARGUMENTS = {
    "zero_pad": ("X", "pad"),
    "conv_single_step": ("a_slice_prev", "W", "b"),
    "conv_forward": ("A_prev", "W", "b", "hparameters"),
    "pool_forward": ("A_prev", "hparameters"),
    "conv_backward": ("dZ", "cache"),
    "create_mask_from_window": ("x",),
    "distribute_value": ("dz", "shape"),
    "pool_backward": ("dA", "cache"),
}


def _read_expected(case_id, index=None, path=None):
    """An expected output of a case from the HDF5 file ("<case_id>" or "<case_id>/<index>")."""
    path = Path(path or EXPECTED_PATH)
    key = case_id if index is None else f"{case_id}/{index}"
    if not path.exists():
        raise PublicTestFailure(
            f"the file of expected values {path.name} is missing: it must sit next to public_tests.py"
        )
    with h5py.File(path, "r") as file:
        if key not in file:
            raise PublicTestFailure(f"{path.name} has no expected values for case {key!r}")
        return file[key][()]


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
    if case["legacy"]:
        state = np.random.RandomState(case["seed"])  # the same numbers as np.random.seed + randn
        arrays = {name: state.randn(*shape) for name, shape in case["draw"].items()}
    else:
        rng = np.random.default_rng(case["seed"])
        arrays = {name: rng.standard_normal(shape) for name, shape in case["draw"].items()}
    lookup = lookup or _read_expected
    args = _fill(case["args"], arrays, lookup)
    kwargs = _fill(case["kwargs"], arrays, lookup)
    return list(args), dict(kwargs)


def write_expected(reference, path):
    """Run every case with the reference functions (attributes of `reference`) and store the outputs.

    Single outputs are stored as dataset "<case_id>", tuple outputs as "<case_id>/0",
    "<case_id>/1", ...; caches are skipped.
    """
    results = {}

    def lookup(case_id, index):
        return results[case_id][index]

    with h5py.File(path, "w") as file:
        file.attrs["about"] = (
            "Expected outputs of the public tests of conv_step_by_step, computed with the "
            "instructors' reference solution; inputs are regenerated by public_tests.case_inputs."
        )
        for case_id, case in CASES.items():
            name = case["function"]
            args, kwargs = case_inputs(case_id, lookup)
            output = getattr(reference, name)(*args, **kwargs)
            names = OUTPUTS[name]
            outputs = tuple(output) if len(names) > 1 else (output,)
            results[case_id] = outputs
            if len(names) == 1:
                file.create_dataset(case_id, data=np.asarray(outputs[0]))
            else:
                for index, (label, value) in enumerate(zip(names, outputs, strict=True)):
                    if label is not None:
                        file.create_dataset(f"{case_id}/{index}", data=np.asarray(value))
            file[case_id].attrs["description"] = case["description"]
    write_speed(reference, path)


# --------------------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------------------

# The grader times these functions on inputs of these sizes against the instructors' vectorized
# solution, and gives the runtime points when yours takes at most SPEED_LIMIT times as long.
SPEED_LIMIT = 10
SPEED_INPUTS = {
    "conv_forward": {"A_prev": (16, 32, 32, 8), "W": (3, 3, 8, 16), "b": (1, 1, 1, 16)},
    "conv_backward": {"dZ": (16, 32, 32, 16), "A_prev": (16, 32, 32, 8), "W": (3, 3, 8, 16), "b": (1, 1, 1, 16)},
    "pool_forward": {"A_prev": (16, 32, 32, 16)},
    "pool_backward": {"dA": (16, 16, 16, 16), "A_prev": (16, 32, 32, 16)},
}
SPEED_MODES = {"conv_forward": [None], "conv_backward": [None], "pool_forward": ["max", "average"],
               "pool_backward": ["max", "average"]}


def speed_inputs(name, mode=None):
    """(args, kwargs) of the timed call of `name`, the size the grader uses."""
    rng = np.random.default_rng(2024)
    x = {key: rng.standard_normal(shape) for key, shape in SPEED_INPUTS[name].items()}
    conv, pool = {"stride": 1, "pad": 1}, {"f": 2, "stride": 2}
    args = {
        "conv_forward": lambda: [x["A_prev"], x["W"], x["b"], conv],
        "conv_backward": lambda: [x["dZ"], (x["A_prev"], x["W"], x["b"], conv)],
        "pool_forward": lambda: [x["A_prev"], pool],
        "pool_backward": lambda: [x["dA"], (x["A_prev"], pool)],
    }[name]()
    return args, ({"mode": mode} if mode else {})


def yardstick_seconds():
    """Time of a fixed numpy workload: it calibrates this machine against the instructors'.

    Wall-clock time, best of several runs: CPU time would count the busy-waiting of numpy's
    multi-threaded BLAS. (The grader itself runs single-threaded and reads CPU clocks.)"""
    rng = np.random.default_rng(0)
    a, w, big = rng.standard_normal((4096, 72)), rng.standard_normal((72, 16)), rng.standard_normal(2**20)
    best = float("inf")
    for _ in range(10):
        start = time.perf_counter()
        for _ in range(4):
            a @ w
            np.maximum(big[::2], big[1::2])
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
        for name, modes in SPEED_MODES.items():
            for mode in modes:
                args, kwargs = speed_inputs(name, mode)
                function = getattr(reference, name)
                seconds = min(_seconds(lambda: function(*args, **kwargs)) for _ in range(10))
                group.attrs[f"{name}/{mode}"] = seconds / yardstick


def _check_speed(name, target):
    """Time `target` as the grader will, and say whether it is within the limit (an estimate:
    the grader measures the reference on its own machine, in the same run)."""
    with h5py.File(EXPECTED_PATH, "r") as file:
        relative = dict(file["speed"].attrs) if "speed" in file else {}
    yardstick = yardstick_seconds()
    for mode in SPEED_MODES[name]:
        args, kwargs = speed_inputs(name, mode)
        reference = relative[f"{name}/{mode}"] * yardstick
        label = f"{name}" + (f" (mode={mode!r})" if mode else "")
        seconds, runs = _seconds(lambda: target(*args, **kwargs)), 1
        # Unless hopeless, take the best of several runs, as the grader does. A notebook's timings
        # jump when other programs keep the cores busy (the grader keeps numpy to one thread and
        # reads CPU clocks, which is steadier), so near the limit keep trying for two seconds.
        deadline = time.perf_counter() + 2.0
        while seconds < 3 * SPEED_LIMIT * reference and (
            runs < 3 or (seconds > SPEED_LIMIT * reference and time.perf_counter() < deadline)
        ):
            seconds, runs = min(seconds, _seconds(lambda: target(*args, **kwargs))), runs + 1
        ratio = seconds / reference
        if ratio > 3 * SPEED_LIMIT:
            _fail(
                f"{label} is correct but slow: {seconds:.3f} s on the grader's input size, about {ratio:.0f}× "
                f"the reference (the limit is {SPEED_LIMIT}×). Loop over the f×f filter offsets or the output "
                "positions, not over every example, position and channel: see the hints"
            )
        if ratio > SPEED_LIMIT:
            print(
                f"\u26a0\ufe0f {label} took about {ratio:.0f}× the reference's time on this run, over the limit of "
                f"{SPEED_LIMIT}×. Timings in a notebook vary with what else the computer is doing: run the "
                "cell again, and if it stays over the limit, vectorize more (see the hints)."
            )
        else:
            print(f"\u2705 {label} is fast enough: about {ratio:.1f}× the reference's time (limit {SPEED_LIMIT}×).")


# --------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------


def _fail(message):
    raise PublicTestFailure(message)


def _type_name(value):
    return type(value).__name__


def _array_text(value):
    """An array on one line, for messages (nested lists, 8 decimals)."""
    value = np.asarray(value)
    if value.dtype == bool:
        return str(value.tolist())
    return str((np.round(value.astype(float), 8) + 0.0).tolist())


def _max_error(got, expected):
    with np.errstate(invalid="ignore"):
        return np.max(np.abs(np.asarray(got, dtype=float) - np.asarray(expected, dtype=float)), initial=0.0)


def _same(a, b):
    """Deep equality of inputs (arrays, tuples, dicts, numbers) for the mutation check."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _call(name, target, case_id, args, kwargs):
    description = CASES[case_id]["description"]
    if not callable(target):
        _fail(f"{name}_test expects your function {name}, but got a {_type_name(target)}")
    try:
        return target(*args, **kwargs)
    except NotImplementedError:
        raise PublicTestFailure(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except Exception as error:
        raise PublicTestFailure(
            f"{name} raised {_type_name(error)} with {description}: {error} "
            "(the traceback above shows the line of your code)"
        ) from error


def _call_example(name, target, *args):
    """Call `target` on the course's example (no case id), with the same error reporting as _call."""
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
            f"{name} raised {_type_name(error)} on the course's example: {error} "
            "(the traceback above shows the line of your code)"
        ) from error


def _check_not_mutated(name, case_id, before, args, kwargs):
    for position, (old, new) in enumerate(zip(before[0], args, strict=True)):
        if not _same(old, new):
            argument = ARGUMENTS[name][position]
            _fail(
                f"{name} changed its input {argument} in place with {CASES[case_id]['description']}: "
                "work on a new array (e.g. np.zeros(...), .copy(), or the result of zero_pad) "
                "instead of modifying the arrays you are given"
            )
    for key, old in before[1].items():
        if not _same(old, kwargs[key]):
            _fail(f"{name} changed its input {key} in place; leave the inputs as they are")


def _check_array(name, label, value, expected, case_id):
    """Type and shape of one output array."""
    description = CASES[case_id]["description"]
    hint = f"; hint: {CASES[case_id]['hint']}" if CASES[case_id]["hint"] else ""
    if not isinstance(value, np.ndarray):
        _fail(f"{label} should be a numpy array, got {_type_name(value)} (with {description})")
    if value.shape != expected.shape:
        advice = {
            "zero_pad": "pad only the height and width axes (1 and 2), by pad on each side",
            "conv_forward": "check the output-size formula and its floor, and that Z has n_C channels",
            "pool_forward": "check the output-size formula and its floor; "
            "pooling keeps the number of channels",
            "conv_backward": f"{label} must have the shape of "
            f"{ {'dA_prev': 'A_prev', 'dW': 'W', 'db': 'b'}.get(label, 'its input') }",
            "create_mask_from_window": "the mask has the shape of the window x",
            "distribute_value": "the result has the given shape",
            "pool_backward": "dA_prev has the shape of A_prev",
        }[name]
        _fail(
            f"with {description} your {label} has shape {value.shape} but should be "
            f"{expected.shape}: {advice}{hint}"
        )
    if not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
        _fail(f"{label} should hold numbers, but its dtype is {value.dtype} (with {description})")


def _check_scalar(value, case_id):
    """conv_single_step returns one number: a Python float, a NumPy scalar or a 0-d array."""
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            _fail(
                f"conv_single_step must return a scalar (one number), but your Z is an array of shape "
                f"{value.shape}: b has shape (1, 1, 1), so add it as a number with b.item() "
                "(or np.squeeze(b))"
            )
        if np.issubdtype(value.dtype, np.number):
            return
    elif isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_)):
        return
    _fail(f"Z should be a number, got {_type_name(value)} (with {CASES[case_id]['description']})")


def _check_cache(name, cache, args, case_id):
    description = CASES[case_id]["description"]
    if name == "conv_forward":
        contract, names = "(A_prev, W, b, hparameters)", ("A_prev", "W", "b", "hparameters")
    else:
        contract, names = "(A_prev, hparameters)", ("A_prev", "hparameters")
    if not isinstance(cache, (tuple, list)) or len(cache) != len(names):
        got = f"a {_type_name(cache)}"
        if isinstance(cache, (tuple, list)):
            got += f" of length {len(cache)}"
        _fail(f"cache must be {contract}, the inputs of {name} in this order, but it is {got}")
    for position, (label, value) in enumerate(zip(names, cache, strict=True)):
        if not _same(value, args[position]):
            _fail(
                f"cache must be {contract}, the inputs of {name} unchanged and in this order, "
                f"but element {position} of your cache is not {label} (with {description})"
            )


def _check_structure(name, output, args, case_id, expected):
    """Types, shapes and cache of one result; returns the outputs as a tuple."""
    labels = OUTPUTS[name]
    if len(labels) > 1:
        shape = ", ".join(label or "cache" for label in labels)
        if not isinstance(output, (tuple, list)):
            _fail(f"{name} must return a tuple ({shape}), got {_type_name(output)}")
        if len(output) != len(labels):
            _fail(
                f"{name} must return a tuple ({shape}) of {len(labels)} elements, got {len(output)} elements"
            )
        outputs = tuple(output)
    else:
        outputs = (output,)
    for index, (label, value) in enumerate(zip(labels, outputs, strict=True)):
        if label is None:
            _check_cache(name, value, args, case_id)
        elif name == "conv_single_step":
            _check_scalar(value, case_id)
        else:
            _check_array(name, label, value, expected[index], case_id)
    return outputs


def _check_values(name, outputs, case_id, expected):
    """Every output compared in full with the expected values."""
    case = CASES[case_id]
    hint = f"; hint: {case['hint']}" if case["hint"] else ""
    for index, label in enumerate(OUTPUTS[name]):
        if label is None:
            continue
        got, want = outputs[index], expected[index]
        if np.allclose(got, want, rtol=RTOL, atol=ATOL):
            continue
        if name == "conv_single_step":
            _fail(
                f"with {case['description']} your Z is {np.asarray(got).item():.10g} but should be "
                f"{want.item():.10g}{hint}"
            )
        _fail(
            f"with {case['description']} your {label} differs from the expected values "
            f"(max abs error {_max_error(got, want):.3g}){hint}"
        )


def _expected_outputs(name, case_id):
    labels = OUTPUTS[name]
    if len(labels) == 1:
        return {0: np.asarray(_read_expected(case_id))}
    return {i: np.asarray(_read_expected(case_id, i)) for i, label in enumerate(labels) if label is not None}


def _published(case_id, what, got, expected, atol=1e-7):
    """Compare a value with a number published by the classic course."""
    case = CASES[case_id]
    if np.shape(got) != np.shape(expected):
        _fail(
            f"with {case['description']} your {what} has shape {np.shape(got)} "
            f"but should be {np.shape(expected)}"
        )
    if not np.allclose(got, expected, rtol=RTOL, atol=atol):
        _fail(
            f"with {case['description']} your {what} is {_array_text(got)} "
            f"but should be {_array_text(expected)}" + (f"; hint: {case['hint']}" if case["hint"] else "")
        )


def _run(name, target, published=None):
    """Run every case of `name`; `published` maps a case id to a check of its outputs.

    Order of the checks in each case: the call itself, inputs left unchanged, types and
    shapes (and the cache), the numbers published by the classic course, then every
    output compared in full with public_tests.h5.
    """
    published = published or {}
    case_ids = [case_id for case_id, case in CASES.items() if case["function"] == name]
    for case_id in case_ids:
        args, kwargs = case_inputs(case_id)
        before = (copy.deepcopy(args), copy.deepcopy(kwargs))
        output = _call(name, target, case_id, args, kwargs)
        _check_not_mutated(name, case_id, before, args, kwargs)
        expected = _expected_outputs(name, case_id)
        outputs = _check_structure(name, output, args, case_id, expected)
        if case_id in published:
            published[case_id](outputs)
        _check_values(name, outputs, case_id, expected)
    if name in SPEED_INPUTS:
        _check_speed(name, target)
    print(f"\u2705 All tests passed. ({name}: {len(case_ids)} cases)")


# --------------------------------------------------------------------------------------
# One test per exercise
# --------------------------------------------------------------------------------------


def zero_pad_test(target):
    def classic(outputs):
        (x_pad,) = outputs
        case_id = "zero_pad/classic"
        _published(case_id, "x_pad.shape", x_pad.shape, (4, 9, 9, 2))
        _published(case_id, "x_pad[1, 1] (a row of padding)", x_pad[1, 1], np.zeros((9, 2)))
        _published(
            case_id,
            "x_pad[1, 4, 3:6] (the original x[1, 1])",
            x_pad[1, 4, 3:6],
            np.array([[0.90085595, -0.68372786], [-0.12289023, -0.93576943], [-0.26788808, 0.53035547]]),
        )

    _run("zero_pad", target, {"zero_pad/classic": classic})


def conv_single_step_test(target):
    def classic(outputs):
        _published("conv_single_step/classic", "Z", np.asarray(outputs[0]).item(), -6.999089450680221)

    _run("conv_single_step", target, {"conv_single_step/classic": classic})


def conv_forward_test(target):
    def classic(outputs):
        Z = outputs[0]
        case_id = "conv_forward/classic"
        _published(case_id, "np.mean(Z)", np.mean(Z), 0.5511276474566768)
        _published(
            case_id,
            "Z[0, 2, 1]",
            Z[0, 2, 1],
            np.array(
                [
                    -2.17796037,
                    8.07171329,
                    -0.5772704,
                    3.36286738,
                    4.48113645,
                    -2.89198428,
                    10.99288867,
                    3.03171932,
                ]
            ),
        )

    _run("conv_forward", target, {"conv_forward/classic": classic})


def pool_forward_test(target):
    def classic_max(outputs):
        _published(
            "pool_forward/classic_max",
            "A[1, 1, 0]",
            outputs[0][1, 1, 0],
            np.array([1.19891788, 0.74055645, 0.07734007]),
        )

    def classic_average(outputs):
        _published(
            "pool_forward/classic_average",
            "A[1, 1, 0]",
            outputs[0][1, 1, 0],
            np.array([0.11583785, 0.34545544, -0.6561907]),
        )

    _run(
        "pool_forward",
        target,
        {"pool_forward/classic_max": classic_max, "pool_forward/classic_average": classic_average},
    )


def conv_backward_test(target):
    def classic(outputs):
        dA_prev, dW, db = outputs
        case_id = "conv_backward/classic"
        _published(case_id, "np.mean(dA_prev)", np.mean(dA_prev), 1.4524377, atol=1e-6)
        _published(case_id, "np.mean(dW)", np.mean(dW), 1.7269914, atol=1e-6)
        _published(case_id, "np.mean(db)", np.mean(db), 7.8392325, atol=1e-6)

    _run("conv_backward", target, {"conv_backward/classic": classic})


def create_mask_from_window_test(target):
    name = "create_mask_from_window"
    x = np.array([[-1, 2, 3], [2, -3, 2], [1, 5, -2]])
    x_before = x.copy()
    mask = _call_example(name, target, x)
    if not np.array_equal(x, x_before):
        _fail(f"{name} changed its input x in place; build a new array instead")
    if not isinstance(mask, np.ndarray):
        _fail(f"mask should be a numpy array, got {_type_name(mask)}")
    expected = np.zeros((3, 3), dtype=bool)
    expected[2, 1] = True
    if mask.shape != (3, 3) or not np.array_equal(mask, expected):
        _fail(
            "on the course's example [[-1, 2, 3], [2, -3, 2], [1, 5, -2]] the mask should be True only "
            f"at row 2, column 1 (the 5), but yours is {_array_text(mask)}"
        )
    _run(name, target)


def distribute_value_test(target):
    name = "distribute_value"
    a = _call_example(name, target, 2, (2, 2))
    if not isinstance(a, np.ndarray):
        _fail(f"a should be a numpy array, got {_type_name(a)}")
    if a.shape != (2, 2) or not np.allclose(a, 0.5, rtol=RTOL, atol=ATOL):
        _fail(f"distribute_value(2, (2, 2)) should be a 2×2 array of 0.5, but yours is {_array_text(a)}")
    _run(name, target)


def pool_backward_test(target):
    def classic_max(outputs):
        _published(
            "pool_backward/classic_max",
            "dA_prev[1, 1]",
            outputs[0][1, 1],
            np.array([[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]]),
        )

    def classic_average(outputs):
        _published(
            "pool_backward/classic_average",
            "dA_prev[1, 1]",
            outputs[0][1, 1],
            np.array([[0.08485462, 0.2787552], [1.26461098, -0.25749373], [1.17975636, -0.53624893]]),
        )

    _run(
        "pool_backward",
        target,
        {"pool_backward/classic_max": classic_max, "pool_backward/classic_average": classic_average},
    )
