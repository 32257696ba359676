"""Public tests for "Convolutional networks, step by step".

This file lists the cases of each exercise (``CASES``); ``testkit.py``, next to it, runs them (its
docstring says what a test checks, in order, and what it says when something is wrong). Each
exercise of the notebook ends with a cell such as ``conv_forward_test(conv_forward)``, which runs
your function on

* the course's published example (the numbers you may know from the classic assignment), and
* a few more cases: stride 2 and 3, no padding, non-square inputs, sizes that the stride does
  not divide, both pooling modes.
"""

import numpy as np
from testkit import (
    Cache,
    Case,
    Draw,
    Function,
    Misconception,
    Output,
    PublicTestFailure,
    Published,
    Scalar,
    Speed,
    Suite,
    Yardstick,
    timed,
)

# --------------------------------------------------------------------------------------
# What each function takes and returns
# --------------------------------------------------------------------------------------

CONV_CACHE = Cache(("A_prev", "W", "b", "hparameters"), inputs=True)
POOL_CACHE = Cache(("A_prev", "hparameters"), inputs=True)
BIAS_ADVICE = "b has shape (1, 1, 1), so add it as a number with b.item() (or np.squeeze(b))"

IMAGES = ("example", "row", "column", "channel")  # what each axis of a batch of images counts
OUTPUTS = ("example", "row", "column", "filter")
FILTERS = ("row", "column", "input channel", "filter")

FUNCTIONS = {
    "zero_pad": Function(("X", "pad"), ("X_pad",), axes={"X_pad": IMAGES}),
    "conv_single_step": Function(("a_slice_prev", "W", "b"), (Scalar("Z", BIAS_ADVICE),)),
    "conv_forward": Function(("A_prev", "W", "b", "hparameters"), ("Z", CONV_CACHE), axes={"Z": OUTPUTS}),
    "pool_forward": Function(("A_prev", "hparameters"), ("A", POOL_CACHE), axes={"A": IMAGES}),
    "conv_backward": Function(
        ("dZ", CONV_CACHE), ("dA_prev", "dW", "db"), axes={"dA_prev": IMAGES, "dW": FILTERS, "db": FILTERS}
    ),
    "create_mask_from_window": Function(("x",), ("mask",)),
    "distribute_value": Function(("dz", "shape"), ("a",)),
    "pool_backward": Function(("dA", POOL_CACHE), ("dA_prev",), axes={"dA_prev": IMAGES}),
}

SHAPE_ADVICE = {
    "X_pad": "pad only the height and width axes (1 and 2), by pad on each side",
    "Z": "check the output-size formula and its floor, and that Z has n_C channels",
    "A": "check the output-size formula and its floor; pooling keeps the number of channels",
    "dA_prev": "dA_prev must have the shape of A_prev",
    "dW": "dW must have the shape of W",
    "db": "db must have the shape of b",
    "mask": "the mask has the shape of the window x",
    "a": "the result has the given shape",
}

MUTATION_ADVICE = (
    "Work on a new array (e.g. np.zeros(...), .copy(), or the result of zero_pad) instead of "
    "modifying the arrays you are given"
)

# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------

STRIDE_HINT = (
    "the window of output position (h, w) starts at row h*stride and column w*stride of the (padded) input"
)
MODE_HINT = "mode='max' takes the maximum of each window, mode='average' its mean"
STEP_HINT = "multiply element-wise, sum everything, then add the bias once"
SPREAD_HINT = "each of the n_H*n_W elements gets dz / (n_H * n_W)"
OVERLAP_HINT = "where windows overlap, their gradients add up (+=, not =)"


def _zero_pad(description, x, pad, seed, legacy=False, hint="", published=()):
    """zero_pad on x of that shape."""
    return Case("zero_pad", description, {"x": x}, [Draw("x"), pad], {}, seed, legacy, hint, published)


def _single_step(description, shape, seed, legacy=False, published=()):
    """conv_single_step on a slice and a filter of that shape, and a bias."""
    shapes = {"a_slice_prev": shape, "W": shape, "b": (1, 1, 1)}
    args = [Draw("a_slice_prev"), Draw("W"), Draw("b")]
    return Case("conv_single_step", description, shapes, args, {}, seed, legacy, STEP_HINT, published)


def _conv(description, A_prev, f, n_C, stride, pad, seed, legacy=False, hint=STRIDE_HINT, published=()):
    """conv_forward on A_prev of shape (m, n_H, n_W, n_C_prev) and n_C filters of f×f."""
    shapes = {"A_prev": A_prev, "W": (f, f, A_prev[3], n_C), "b": (1, 1, 1, n_C)}
    args = [Draw("A_prev"), Draw("W"), Draw("b"), {"pad": pad, "stride": stride}]
    return Case(
        "conv_forward", description, shapes, args, seed=seed, legacy=legacy, hint=hint, published=published
    )


def _conv_backward(description, A_prev, f, n_C, stride, pad, seed, hint=STRIDE_HINT):
    """conv_backward with the cache of such a conv_forward and a random dZ."""
    m, n_H, n_W, n_C_prev = A_prev
    Z = (m, (n_H + 2 * pad - f) // stride + 1, (n_W + 2 * pad - f) // stride + 1, n_C)
    shapes = {"A_prev": A_prev, "W": (f, f, n_C_prev, n_C), "b": (1, 1, 1, n_C), "dZ": Z}
    args = [Draw("dZ"), (Draw("A_prev"), Draw("W"), Draw("b"), {"stride": stride, "pad": pad})]
    return Case("conv_backward", description, shapes, args, seed=seed, hint=hint)


def _pool(description, A_prev, f, stride, mode, seed, legacy=False, hint=STRIDE_HINT, published=()):
    """pool_forward on A_prev of shape (m, n_H, n_W, n_C)."""
    args = [Draw("A_prev"), {"f": f, "stride": stride}]
    return Case(
        "pool_forward", description, {"A_prev": A_prev}, args, {"mode": mode}, seed, legacy, hint, published
    )


def _pool_backward(description, A_prev, f, stride, mode, seed, legacy=False, hint=STRIDE_HINT, published=()):
    """pool_backward with the cache of such a pool_forward and a random dA."""
    m, n_H, n_W, n_C = A_prev
    shapes = {"A_prev": A_prev, "dA": (m, (n_H - f) // stride + 1, (n_W - f) // stride + 1, n_C)}
    args = [Draw("dA"), (Draw("A_prev"), {"f": f, "stride": stride})]
    return Case("pool_backward", description, shapes, args, {"mode": mode}, seed, legacy, hint, published)


def _spread(dz, shape):
    return Case("distribute_value", f"dz={dz} and shape {shape}", args=[dz, shape], hint=SPREAD_HINT)


def _classic_pool(mode):
    return f"the course's example (seed 1, f=2, stride=1, mode={mode!r})"


# fmt: off
CASES = {
    # zero_pad ------------------------------------------------------------------------
    "zero_pad/classic": _zero_pad(
        "the course's example (seed 1, x of shape 4×3×3×2, pad=3)", (4, 3, 3, 2), pad=3, seed=1, legacy=True,
        published=(
            Published("X_pad.shape", (4, 9, 9, 2)),
            Published("X_pad[1, 1]", np.zeros((9, 2)), "a row of padding"),
            Published(
                "X_pad[1, 4, 3:6]",
                [[0.90085595, -0.68372786], [-0.12289023, -0.93576943], [-0.26788808, 0.53035547]],
                "the original x[1, 1]",
            ),
        ),
    ),
    "zero_pad/pad2_nonsquare": _zero_pad(
        "pad=2 on a batch of 2 non-square 3×5 images with 3 channels", (2, 3, 5, 3), pad=2, seed=101,
        hint="pad only axes 1 and 2 (height and width), by pad on each side",
    ),
    "zero_pad/pad0": _zero_pad(
        "pad=0 (nothing to add) on a 2×4×3×2 batch", (2, 4, 3, 2), pad=0, seed=102,
        hint="with pad=0 the output must equal the input; a slice like [pad:-pad] is empty when pad is 0",
    ),
    # conv_single_step ----------------------------------------------------------------
    "conv_single_step/classic": _single_step(
        "the course's example (seed 1, 4×4×3 slice)", (4, 4, 3), seed=1, legacy=True,
        published=(Published("Z", -6.999089450680221),),
    ),
    "conv_single_step/f3_two_channels": _single_step("a 3×3×2 slice and filter", (3, 3, 2), seed=201),
    # conv_forward ---------------------------------------------------------------------
    "conv_forward/classic": _conv(
        "the course's example (seed 1, stride=2, pad=1, 3×3 filters on 2 inputs of 5×7×4)",
        (2, 5, 7, 4), f=3, n_C=8, stride=2, pad=1, seed=1, legacy=True,
        published=(
            Published("np.mean(Z)", 0.5511276474566768),
            Published(
                "Z[0, 2, 1]",
                [-2.17796037, 8.07171329, -0.5772704, 3.36286738,
                 4.48113645, -2.89198428, 10.99288867, 3.03171932],
            ),
        ),
    ),
    "conv_forward/stride1_pad1_same": _conv(
        "stride=1, pad=1 ('same' convolution), 3×3 filters on 2 inputs of 4×6×3",
        (2, 4, 6, 3), f=3, n_C=2, stride=1, pad=1, seed=301,
        hint="check that you apply every filter c to all input channels and add b[..., c]",
    ),
    "conv_forward/stride2_pad0_nonsquare": _conv(
        "stride=2, pad=0, 3×3 filters on 3 inputs of 7×5×2",
        (3, 7, 5, 2), f=3, n_C=4, stride=2, pad=0, seed=302,
        hint="with pad=0 nothing is added around the input (watch out for [pad:-pad] slices); " + STRIDE_HINT,
    ),
    "conv_forward/stride3_pad1_nondivisible": _conv(
        "stride=3, pad=1, 2×2 filters on 2 inputs of 8×6×3, where the stride does not divide n + 2*pad - f",
        (2, 8, 6, 3), f=2, n_C=3, stride=3, pad=1, seed=303,
    ),
    "conv_forward/one_channel": _conv(
        "stride=1, pad=0, 2×2 filters on 3 inputs of 4×6 with one channel (grayscale)",
        (3, 4, 6, 1), f=2, n_C=3, stride=1, pad=0, seed=304,
    ),
    "conv_forward/classic_pad2_stride2": _conv(
        "the course's backward example (seed 1, stride=2, pad=2, 2×2 filters on 10 inputs of 4×4×3)",
        (10, 4, 4, 3), f=2, n_C=8, stride=2, pad=2, seed=1, legacy=True,
    ),
    # pool_forward ----------------------------------------------------------------------
    "pool_forward/classic_max": _pool(
        _classic_pool("max"), (2, 5, 5, 3), f=2, stride=1, mode="max", seed=1, legacy=True, hint=MODE_HINT,
        published=(Published("A[1, 1, 0]", [1.19891788, 0.74055645, 0.07734007]),),
    ),
    "pool_forward/classic_average": _pool(
        _classic_pool("average"), (2, 5, 5, 3), f=2, stride=1, mode="average", seed=1, legacy=True,
        hint=MODE_HINT,
        published=(Published("A[1, 1, 0]", [0.11583785, 0.34545544, -0.6561907]),),
    ),
    "pool_forward/max_f3_stride2_nonsquare": _pool(
        "mode='max', f=3, stride=2 on 2 inputs of 7×6×3 (overlapping windows, 6-3 not divisible by 2)",
        (2, 7, 6, 3), f=3, stride=2, mode="max", seed=401,
    ),
    "pool_forward/average_f3_stride2_nonsquare": _pool(
        "mode='average', f=3, stride=2 on 2 inputs of 7×6×3 (overlapping windows, 6-3 not divisible by 2)",
        (2, 7, 6, 3), f=3, stride=2, mode="average", seed=401,
    ),
    "pool_forward/max_f2_stride3_gapped": _pool(
        "mode='max', f=2, stride=3 on 2 inputs of 8×7×2 (gaps between windows)",
        (2, 8, 7, 2), f=2, stride=3, mode="max", seed=402,
    ),
    "pool_forward/average_f2_stride3_gapped": _pool(
        "mode='average', f=2, stride=3 on 2 inputs of 8×7×2 (gaps between windows)",
        (2, 8, 7, 2), f=2, stride=3, mode="average", seed=402,
    ),
    # conv_backward ----------------------------------------------------------------------
    "conv_backward/classic": Case(
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
        published=(
            Published("np.mean(dA_prev)", 1.4524377, atol=1e-6),
            Published("np.mean(dW)", 1.7269914, atol=1e-6),
            Published("np.mean(db)", 7.8392325, atol=1e-6),
        ),
    ),
    "conv_backward/stride1_pad1_same": _conv_backward(
        "stride=1, pad=1, 3×3 filters on 2 inputs of 5×4×3",
        (2, 5, 4, 3), f=3, n_C=2, stride=1, pad=1, seed=501,
        hint="with stride 1 the windows overlap, so their contributions to dA_prev and dW add up "
        "(+=, not =); dA_prev is the padded gradient with the padding cut off",
    ),
    "conv_backward/stride2_pad0_nonsquare": _conv_backward(
        "stride=2, pad=0, 3×3 filters on 2 inputs of 7×5×3",
        (2, 7, 5, 3), f=3, n_C=4, stride=2, pad=0, seed=502,
        hint="with pad=0, a slice like dA_pad[:, pad:-pad] is empty; " + STRIDE_HINT,
    ),
    "conv_backward/stride3_pad1_nondivisible": _conv_backward(
        "stride=3, pad=1, 2×2 filters on 2 inputs of 8×6×2, where the stride does not divide n + 2*pad - f",
        (2, 8, 6, 2), f=2, n_C=3, stride=3, pad=1, seed=503,
    ),
    "conv_backward/one_channel": _conv_backward(
        "stride=1, pad=0, 2×2 filters on 3 inputs of 4×6 with one channel (grayscale)",
        (3, 4, 6, 1), f=2, n_C=3, stride=1, pad=0, seed=504,
    ),
    # create_mask_from_window ------------------------------------------------------------
    "create_mask_from_window/classic": Case(
        "create_mask_from_window",
        "the course's example x = [[-1, 2, 3], [2, -3, 2], [1, 5, -2]]",
        args=[np.array([[-1, 2, 3], [2, -3, 2], [1, 5, -2]])],
        hint="the mask is True only where x is largest: row 2, column 1 (the 5)",
        published=(Published("mask", [[False, False, False], [False, False, False], [False, True, False]]),),
    ),
    "create_mask_from_window/3x3": Case(
        "create_mask_from_window", "a random 3×3 window", {"x": (3, 3)}, [Draw("x")], seed=601
    ),
    "create_mask_from_window/2x4": Case(
        "create_mask_from_window", "a random non-square 2×4 window", {"x": (2, 4)}, [Draw("x")], seed=602
    ),
    # distribute_value --------------------------------------------------------------------
    "distribute_value/classic": Case(
        "distribute_value",
        "the course's example (dz=2 and shape (2, 2))",
        args=[2, (2, 2)],
        hint=SPREAD_HINT,
        published=(Published("a", [[0.5, 0.5], [0.5, 0.5]]),),
    ),
    "distribute_value/2x3": _spread(3.0, (2, 3)),
    "distribute_value/3x3_negative": _spread(-1.8, (3, 3)),
    "distribute_value/1x4": _spread(2.0, (1, 4)),
    # pool_backward --------------------------------------------------------------------------
    "pool_backward/classic_max": _pool_backward(
        _classic_pool("max"), (5, 5, 3, 2), f=2, stride=1, mode="max", seed=1, legacy=True,
        hint="the whole gradient of a window goes to its maximum; with stride 1 < f the windows overlap "
        "and their gradients add up (+=, not =)",
        published=(Published("dA_prev[1, 1]", [[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]]),),
    ),
    "pool_backward/classic_average": _pool_backward(
        _classic_pool("average"), (5, 5, 3, 2), f=2, stride=1, mode="average", seed=1, legacy=True,
        hint="each element of a window gets dA / (f*f); with stride 1 < f the windows overlap and their "
        "gradients add up (+=, not =)",
        published=(
            Published("dA_prev[1, 1]",
                      [[0.08485462, 0.2787552], [1.26461098, -0.25749373], [1.17975636, -0.53624893]]),
        ),
    ),
    "pool_backward/max_f2_stride2": _pool_backward(
        "mode='max', f=2, stride=2 on 2 inputs of 6×4×3",
        (2, 6, 4, 3), f=2, stride=2, mode="max", seed=701,
        hint="dA[i, h, w, c] is the gradient of the window starting at row h*stride, column w*stride",
    ),
    "pool_backward/average_f2_stride2": _pool_backward(
        "mode='average', f=2, stride=2 on 2 inputs of 6×4×3",
        (2, 6, 4, 3), f=2, stride=2, mode="average", seed=701,
        hint="dA[i, h, w, c] is the gradient of the window starting at row h*stride, column w*stride",
    ),
    "pool_backward/max_f3_stride2_overlap": _pool_backward(
        "mode='max', f=3, stride=2 on 2 inputs of 7×6×2 (overlapping windows)",
        (2, 7, 6, 2), f=3, stride=2, mode="max", seed=702, hint=OVERLAP_HINT,
    ),
    "pool_backward/average_f3_stride2_overlap": _pool_backward(
        "mode='average', f=3, stride=2 on 2 inputs of 7×6×2 (overlapping windows)",
        (2, 7, 6, 2), f=3, stride=2, mode="average", seed=702,
        hint="each element of a window gets dA / (f*f) (f*f = 9 here); " + OVERLAP_HINT,
    ),
    "pool_backward/average_f2_stride3_gapped": _pool_backward(
        "mode='average', f=2, stride=3 on 2 inputs of 8×7×2 (gaps between windows)",
        (2, 8, 7, 2), f=2, stride=3, mode="average", seed=703,
        hint="elements outside every window get a zero gradient; " + STRIDE_HINT,
    ),
    **{
        f"pool_backward/{mode}_f2_stride2_nondivisible": _pool_backward(
            f"mode={mode!r}, f=2, stride=2 on 2 inputs of 5×7×2 (the last row and column in no window)",
            (2, 5, 7, 2), f=2, stride=2, mode=mode, seed=704,
            hint="the last row and column are in no window: their gradient is 0",
        )
        for mode in ("max", "average")
    },
}
# fmt: on

# --------------------------------------------------------------------------------------
# Speed: the grader times these calls against the instructors' vectorized solution, and gives
# the runtime points when yours takes at most runtime_factor (limits.json) times as long.
# --------------------------------------------------------------------------------------

CONV_SHAPES = {"A_prev": (16, 32, 32, 8), "W": (3, 3, 8, 16), "b": (1, 1, 1, 16)}
CONV_INPUTS = (Draw("A_prev"), Draw("W"), Draw("b"), {"stride": 1, "pad": 1})
CONV_SIZE = "16 inputs of 32×32×8, 16 filters of 3×3, stride 1, pad 1"
POOL_INPUTS = (Draw("A_prev"), {"f": 2, "stride": 2})
POOL_SIZE = "16 inputs of 32×32×16, f=2, stride 2"
POOL_SHAPES = {"dA": (16, 16, 16, 16), "A_prev": (16, 32, 32, 16)}  # pool_forward draws only A_prev


def _convolution_like(a, w, big):
    """The yardstick's work: like a convolution's, a matrix product and a maximum."""
    a @ w
    np.maximum(big[::2], big[1::2])


SPEED = Speed(
    cases={
        "conv_forward": timed("conv_forward", CONV_SIZE, CONV_SHAPES, [*CONV_INPUTS]),
        "conv_backward": timed(
            "conv_backward", CONV_SIZE, {"dZ": (16, 32, 32, 16), **CONV_SHAPES}, [Draw("dZ"), CONV_INPUTS]
        ),
        **{
            f"pool_forward/{mode}": timed(
                "pool_forward", POOL_SIZE, {"A_prev": POOL_SHAPES["A_prev"]}, [*POOL_INPUTS], {"mode": mode}
            )
            for mode in ("max", "average")
        },
        **{
            f"pool_backward/{mode}": timed(
                "pool_backward", POOL_SIZE, POOL_SHAPES, [Draw("dA"), POOL_INPUTS], {"mode": mode}
            )
            for mode in ("max", "average")
        },
    },
    yardstick=Yardstick({"a": (4096, 72), "w": (72, 16), "big": (2**20,)}, _convolution_like, repeats=4),
    advice="Loop over the f×f filter offsets or the output positions, not over every example, position "
    "and channel: see the hints",
    see="see the hints",
)

# --------------------------------------------------------------------------------------
# Common mistakes, recognised from the numbers: each computes, with the instructors' functions
# (`ref`), what a function with that mistake returns. The public tests and the grader compare a
# wrong result with each of them before they say where it differs.
# --------------------------------------------------------------------------------------


def _stride_one(hparameters):
    return {**hparameters, "stride": 1}


def _crop(values, like):
    """values cut to the first rows and columns of the right output's size."""
    return values[:, : like.shape[1], : like.shape[2]]


def _conv_windows_unstrided(ref, A_prev, W, b, hparameters):
    right = ref.conv_forward(A_prev, W, b, hparameters)[0]
    return _crop(ref.conv_forward(A_prev, W, b, _stride_one(hparameters))[0], right)


def _pool_windows_unstrided(ref, A_prev, hparameters, mode="max"):
    right = ref.pool_forward(A_prev, hparameters, mode)[0]
    return _crop(ref.pool_forward(A_prev, _stride_one(hparameters), mode)[0], right)


def _pool_backward_unstrided(ref, dA, cache, mode="max"):
    """pool_backward with the window of dA[i, h, w, c] at row h, column w instead of h*stride,
    w*stride: the gradient of stride 1 with dA in its first rows and columns, zeros elsewhere."""
    A_prev, hparameters = cache
    unstrided = ref.pool_forward(A_prev, _stride_one(hparameters), mode)[0]
    padded = np.zeros_like(unstrided)
    padded[:, : dA.shape[1], : dA.shape[2]] = dA
    return ref.pool_backward(padded, (A_prev, _stride_one(hparameters)), mode)


def _last_window_only(ref, dZ, cache):
    """dW and db of the last window alone: `dW[..., c] = ...` where `+=` belongs."""
    A_prev, W, b, hparameters = cache
    stride, pad, f = hparameters["stride"], hparameters["pad"], W.shape[0]
    m, n_H, n_W, _ = dZ.shape
    A_pad = ref.zero_pad(A_prev, pad)
    h, w = (n_H - 1) * stride, (n_W - 1) * stride
    return A_pad[m - 1, h : h + f, w : w + f, :, None] * dZ[m - 1, n_H - 1, n_W - 1]


def _average_undivided(ref, dA, cache, mode="max"):
    if mode != "average":
        raise ValueError("only in average mode")
    return ref.pool_backward(dA, cache, mode) * cache[1]["f"] ** 2


def m(dZ):
    """The number of examples."""
    return dZ.shape[0]


OTHER_MODE = {"max": "average", "average": "max"}
FLIPPED = (
    "it matches the result with the kernel flipped (W[::-1, ::-1]): in a CNN, 'convolution' is "
    "cross-correlation, so W[h, w] multiplies the window's element [h, w], with no flip"
)
AVERAGED = (
    "it is the right gradient divided by m, the number of examples: the gradient of a sum over the "
    "examples adds their contributions, it does not average them"
)
STRIDE_IGNORED = (
    "it matches windows that start at row h and column w instead of h*stride and w*stride: the "
    "window of output position (h, w) starts at row h*stride, column w*stride of the padded input"
)

MISCONCEPTIONS = (
    Misconception(
        "zero_pad",
        "X_pad",
        "it pads every axis: pad only the height and width, axes 1 and 2",
        lambda ref, X, pad: np.pad(X, pad),
    ),
    Misconception(
        "zero_pad",
        "X_pad",
        "it pads the channels too: pad only the height and width, axes 1 and 2",
        lambda ref, X, pad: np.pad(X, ((0, 0), (pad, pad), (pad, pad), (pad, pad))),
    ),
    Misconception(
        "zero_pad",
        "X_pad",
        "it pads the example and channel axes (0 and 3) instead of height and width (1 and 2)",
        lambda ref, X, pad: np.pad(X, ((pad, pad), (0, 0), (0, 0), (pad, pad))),
    ),
    Misconception(
        "zero_pad",
        "X_pad",
        "it pads one side only: pad adds pad zeros on each side, 2*pad per axis",
        lambda ref, X, pad: np.pad(X, ((0, 0), (pad, 0), (pad, 0), (0, 0))),
    ),
    Misconception(
        "conv_single_step",
        "Z",
        "it adds the bias to every element before summing (f*f*n_C times): sum the products, then add b once",
        lambda ref, a, W, b: np.sum(a * W + b),
    ),
    Misconception(
        "conv_single_step",
        "Z",
        "it leaves out the bias: add b once, after the sum",
        lambda ref, a, W, b: np.sum(a * W),
    ),
    Misconception(
        "conv_forward",
        "Z",
        FLIPPED,
        lambda ref, A_prev, W, b, hp: ref.conv_forward(A_prev, W[::-1, ::-1], b, hp)[0],
    ),
    Misconception(
        "conv_forward",
        "Z",
        "it adds the bias to every product of the window: conv_single_step sums the products, "
        "then adds b once",
        lambda ref, A_prev, W, b, hp: ref.conv_forward(A_prev, W, b, hp)[0] + b * (W[..., 0].size - 1),
    ),
    Misconception(
        "conv_forward",
        "Z",
        "it leaves out the bias b[..., c] of each filter",
        lambda ref, A_prev, W, b, hp: ref.conv_forward(A_prev, W, b, hp)[0] - b,
    ),
    Misconception("conv_forward", "Z", STRIDE_IGNORED, _conv_windows_unstrided),
    Misconception(
        "conv_forward",
        "Z",
        "its size ignores the stride: n_H = floor((n_H_prev + 2*pad - f) / stride) + 1",
        lambda ref, A_prev, W, b, hp: ref.conv_forward(A_prev, W, b, _stride_one(hp))[0],
    ),
    Misconception(
        "conv_forward",
        "Z",
        "its size ignores the padding: n_H = floor((n_H_prev + 2*pad - f) / stride) + 1, and the "
        "windows slide over the padded input",
        lambda ref, A_prev, W, b, hp: ref.conv_forward(A_prev, W, b, {**hp, "pad": 0})[0],
    ),
    Misconception(
        "pool_forward",
        "A",
        "it is the other pooling mode: mode='max' takes each window's maximum, mode='average' its mean",
        lambda ref, A_prev, hp, mode="max": ref.pool_forward(A_prev, hp, OTHER_MODE[mode])[0],
    ),
    Misconception("pool_forward", "A", STRIDE_IGNORED, _pool_windows_unstrided),
    Misconception(
        "pool_forward",
        "A",
        "its size ignores the stride: n_H = floor((n_H_prev - f) / stride) + 1",
        lambda ref, A_prev, hp, mode="max": ref.pool_forward(A_prev, _stride_one(hp), mode)[0],
    ),
    Misconception(
        "conv_backward",
        "dA_prev",
        "it still has the padding: cut it off, dA_prev[i] = da_prev_pad[pad:-pad, pad:-pad] "
        "(and with pad = 0, keep everything)",
        lambda ref, dZ, cache: ref.zero_pad(ref.conv_backward(dZ, cache)[0], cache[3]["pad"]),
    ),
    Misconception(
        "conv_backward",
        "dA_prev",
        FLIPPED,
        lambda ref, dZ, cache: ref.conv_backward(dZ, (cache[0], cache[1][::-1, ::-1], *cache[2:]))[0],
    ),
    Misconception(
        "conv_backward",
        "dW",
        FLIPPED,
        lambda ref, dZ, cache: ref.conv_backward(dZ, cache)[1][::-1, ::-1],
    ),
    Misconception(
        "conv_backward", "dW", AVERAGED, lambda ref, dZ, cache: ref.conv_backward(dZ, cache)[1] / m(dZ)
    ),
    Misconception(
        "conv_backward", "db", AVERAGED, lambda ref, dZ, cache: ref.conv_backward(dZ, cache)[2] / m(dZ)
    ),
    Misconception(
        "conv_backward",
        "dW",
        "it is the gradient of the last window only: each window adds its part (+=, not =)",
        _last_window_only,
    ),
    Misconception(
        "conv_backward",
        "db",
        "it is one element of dZ: db[..., c] is the sum of dZ[..., c] over every example and position "
        "(+=, not =)",
        lambda ref, dZ, cache: dZ[-1, -1, -1].reshape(1, 1, 1, -1),
    ),
    Misconception(
        "distribute_value",
        "a",
        "it does not divide: each element gets dz / (n_H * n_W)",
        lambda ref, dz, shape: np.full(shape, float(dz)),
    ),
    Misconception(
        "distribute_value",
        "a",
        "it divides by n_H + n_W: each element gets dz / (n_H * n_W)",
        lambda ref, dz, shape: np.full(shape, dz / (shape[0] + shape[1])),
    ),
    Misconception(
        "create_mask_from_window",
        "mask",
        "it marks the minimum: the mask is True where x is largest",
        lambda ref, x: x == np.min(x),
    ),
    Misconception(
        "pool_backward",
        "dA_prev",
        "it is the other mode's gradient: mode='max' sends each window's gradient to its maximum, "
        "mode='average' spreads it evenly",
        lambda ref, dA, cache, mode="max": ref.pool_backward(dA, cache, OTHER_MODE[mode]),
    ),
    Misconception(
        "pool_backward",
        "dA_prev",
        "it does not divide by f*f: in average mode each element of a window gets dA / (f*f)",
        _average_undivided,
    ),
    Misconception("pool_backward", "dA_prev", STRIDE_IGNORED, _pool_backward_unstrided),
)

SUITE = Suite(
    __file__,
    assignment="conv_step_by_step",
    functions=FUNCTIONS,
    cases=CASES,
    mutation_advice=MUTATION_ADVICE,
    shape_advice=SHAPE_ADVICE,
    speed=SPEED,
    misconceptions=MISCONCEPTIONS,
)

# One test per exercise, named after its function: zero_pad_test(zero_pad), ... (testkit.py makes them)
TESTS = SUITE.tests()
globals().update(TESTS)

__all__ = ["PublicTestFailure", *TESTS]
