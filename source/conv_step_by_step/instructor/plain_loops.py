"""The graded functions of "Convolutional networks, step by step" as plain loops, and the random
inputs on which the reference solution must agree with them.

Never released to students (the course ignores instructor/). `autograder.agreement` runs every
function of ``INPUTS`` on inputs drawn by hypothesis, here and in the reference (the vectorized
solution cells of the source notebook), and reports any input on which the two differ.

The functions are written to be obviously right, not fast: channels-last, one loop over every
example, output row, output column and channel, each window cut out of the (padded) input by its
top-left corner (h * stride, w * stride), as the classic course writes them. They call only each
other, never the reference.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

# ----------------------------------------------------------------------------------------------
# Padding and convolution


def output_size(n_prev: int, f: int, stride: int, pad: int = 0) -> int:
    """How many windows of size f fit, `stride` apart, in n_prev + 2 * pad positions."""
    return (n_prev + 2 * pad - f) // stride + 1


def zero_pad(X: np.ndarray, pad: int) -> np.ndarray:
    """X with `pad` rows of zeros above and below, and `pad` columns left and right, of every image."""
    m, n_H, n_W, n_C = X.shape
    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C), dtype=X.dtype)
    for i, h, w, c in np.ndindex(X.shape):
        X_pad[i, h + pad, w + pad, c] = X[i, h, w, c]
    return X_pad


def conv_single_step(a_slice_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    """The sum of a_slice_prev * W over the whole window, plus the bias, once."""
    Z = 0.0
    for h, w, c in np.ndindex(a_slice_prev.shape):
        Z += a_slice_prev[h, w, c] * W[h, w, c]
    return Z + b[0, 0, 0]


def conv_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hparameters: dict) -> tuple:
    """Every filter applied to every window of every padded example: Z and the cache
    (A_prev, W, b, hparameters)."""
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    n_H, n_W = output_size(n_H_prev, f, stride, pad), output_size(n_W_prev, f, stride, pad)
    A_prev_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    for i, h, w, c in np.ndindex(Z.shape):
        top, left = h * stride, w * stride
        a_slice_prev = A_prev_pad[i, top : top + f, left : left + f, :]
        Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])
    cache = (A_prev, W, b, hparameters)
    return Z, cache


def conv_backward(dZ: np.ndarray, cache: tuple) -> tuple:
    """dA_prev, dW, db: each output Z[i, h, w, c] = sum(window * W[..., c]) + b[c] sends
    dZ[i, h, w, c] * W[..., c] back to its window, window * dZ[i, h, w, c] to W[..., c], and
    dZ[i, h, w, c] to b[c]."""
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    _, n_H_prev, n_W_prev, _ = A_prev.shape
    f = W.shape[0]
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = np.zeros(A_prev_pad.shape)
    dW = np.zeros(W.shape)
    db = np.zeros(b.shape)
    for i, h, w, c in np.ndindex(dZ.shape):
        top, left = h * stride, w * stride
        window = (i, slice(top, top + f), slice(left, left + f), slice(None))
        dA_prev_pad[window] += W[:, :, :, c] * dZ[i, h, w, c]
        dW[:, :, :, c] += A_prev_pad[window] * dZ[i, h, w, c]
        db[0, 0, 0, c] += dZ[i, h, w, c]
    dA_prev = dA_prev_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev, :]
    return dA_prev, dW, db


# ----------------------------------------------------------------------------------------------
# Pooling


def pool_window(window: np.ndarray, mode: str) -> float:
    """The largest element of a 2-D window (mode "max") or the mean of its elements ("average")."""
    values = [window[r, s] for r, s in np.ndindex(window.shape)]
    if mode == "max":
        return max(values)
    if mode == "average":
        return sum(values) / len(values)
    raise ValueError(f"mode must be 'max' or 'average', not {mode!r}")


def pool_forward(A_prev: np.ndarray, hparameters: dict, mode: str = "max") -> tuple:
    """Every f x f window of every example and channel pooled to one number: A and the cache
    (A_prev, hparameters)."""
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    A = np.zeros((m, output_size(n_H_prev, f, stride), output_size(n_W_prev, f, stride), n_C))
    for i, h, w, c in np.ndindex(A.shape):
        top, left = h * stride, w * stride
        A[i, h, w, c] = pool_window(A_prev[i, top : top + f, left : left + f, c], mode)
    cache = (A_prev, hparameters)
    return A, cache


def create_mask_from_window(x: np.ndarray) -> np.ndarray:
    """A boolean array shaped like x, True where x holds its largest value."""
    largest = x[0, 0]
    for r, s in np.ndindex(x.shape):
        if x[r, s] > largest:
            largest = x[r, s]
    mask = np.zeros(x.shape, dtype=bool)
    for r, s in np.ndindex(x.shape):
        mask[r, s] = x[r, s] == largest
    return mask


def distribute_value(dz: float, shape: tuple) -> np.ndarray:
    """An array of `shape` (n_H, n_W), every element dz / (n_H * n_W)."""
    n_H, n_W = shape
    a = np.zeros((n_H, n_W))
    for r, s in np.ndindex(n_H, n_W):
        a[r, s] = dz / (n_H * n_W)
    return a


def pool_backward(dA: np.ndarray, cache: tuple, mode: str = "max") -> np.ndarray:
    """dA_prev: each dA[i, h, w, c] goes back to its window of A_prev, all of it to the window's
    maximum (mode "max") or shared evenly ("average"); overlapping windows add up."""
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', not {mode!r}")
    dA_prev = np.zeros(A_prev.shape)
    for i, h, w, c in np.ndindex(dA.shape):
        top, left = h * stride, w * stride
        window = (i, slice(top, top + f), slice(left, left + f), c)
        if mode == "max":
            dA_prev[window] += create_mask_from_window(A_prev[window]) * dA[i, h, w, c]
        else:
            dA_prev[window] += distribute_value(dA[i, h, w, c], (f, f))
    return dA_prev


# ----------------------------------------------------------------------------------------------
# What the functions return, and the fields of their caches (named in reports)

CONV_CACHE = ("A_prev", "W", "b", "hparameters")
POOL_CACHE = ("A_prev", "hparameters")

OUTPUTS = {
    "zero_pad": ("X_pad",),
    "conv_single_step": ("Z",),
    "conv_forward": ("Z", "cache"),
    "pool_forward": ("A", "cache"),
    "conv_backward": ("dA_prev", "dW", "db"),
    "create_mask_from_window": ("mask",),
    "distribute_value": ("a",),
    "pool_backward": ("dA_prev",),
}

CACHE_FIELDS = {
    "conv_forward": CONV_CACHE,
    "conv_backward": CONV_CACHE,
    "pool_forward": POOL_CACHE,
    "pool_backward": POOL_CACHE,
}

# ----------------------------------------------------------------------------------------------
# Random inputs: small sizes (the loops are slow), strides 1 to 3, pad 0 to 2, square or not,
# divisible by the stride or not, windows overlapping (stride < f) or leaving gaps (stride > f);
# now and then a convolution large enough for the reference to split it into blocks.
# Values come from a numpy Generator seeded by a drawn integer, so hypothesis can shrink them.
# Continuous random values have no tied maxima, so "max" pooling has one answer.

SIZE = st.integers(1, 3)  # examples, channels, filters
F = st.integers(1, 4)
STRIDE = st.integers(1, 3)
PAD = st.integers(0, 2)
MODE = st.sampled_from(["max", "average"])
LARGEST_IMAGE = 8


def generator(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def image_sizes(draw, smallest: int) -> tuple[int, int]:
    """n_H and n_W, each from `smallest` to LARGEST_IMAGE, drawn separately."""
    sizes = st.integers(smallest, LARGEST_IMAGE)
    return draw(sizes), draw(sizes)


@st.composite
def zero_pad_inputs(draw) -> tuple:
    n_H, n_W = image_sizes(draw, 1)
    shape = (draw(SIZE), n_H, n_W, draw(SIZE))
    pad = draw(st.integers(0, 3))
    return (generator(draw).standard_normal(shape), pad), {}


@st.composite
def conv_single_step_inputs(draw) -> tuple:
    shape = (draw(F), draw(F), draw(SIZE))
    rng = generator(draw)
    return (rng.standard_normal(shape), rng.standard_normal(shape), rng.standard_normal((1, 1, 1))), {}


def small_conv_sizes(draw) -> tuple:
    """m, n_H, n_W, f, stride, pad: any small convolution that fits its padded input."""
    f, stride, pad = draw(F), draw(STRIDE), draw(PAD)
    n_H, n_W = image_sizes(draw, max(1, f - 2 * pad))
    return draw(SIZE), n_H, n_W, f, stride, pad


def blocked_conv_sizes(draw) -> tuple:
    """m, n_H, n_W, f, stride, pad of a batch of 4 to 6 examples of 529 to 1024 output positions
    each: the reference computes a batch in blocks of about 2048 output positions, so this one
    in several, the last one shorter."""
    f = draw(st.integers(1, 3))
    sizes = st.integers(24, 32)
    return draw(st.integers(4, 6)), draw(sizes), draw(sizes), f, 1, (f - 1) // 2


def draw_conv_layer(draw) -> tuple:
    """A_prev, W, b and hparameters of a convolution that fits its padded input (now and then a
    larger one, in several blocks), and a Generator."""
    several_blocks = draw(st.integers(0, 3)) == 3  # about one in four; shrinks to 0, small
    m, n_H, n_W, f, stride, pad = (blocked_conv_sizes if several_blocks else small_conv_sizes)(draw)
    n_C_prev, n_C = draw(SIZE), draw(SIZE)
    rng = generator(draw)
    A_prev = rng.standard_normal((m, n_H, n_W, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    return A_prev, W, b, {"stride": stride, "pad": pad}, rng


@st.composite
def conv_forward_inputs(draw) -> tuple:
    A_prev, W, b, hparameters, _ = draw_conv_layer(draw)
    return (A_prev, W, b, hparameters), {}


@st.composite
def conv_backward_inputs(draw) -> tuple:
    A_prev, W, b, hparameters, rng = draw_conv_layer(draw)
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H, n_W = output_size(n_H_prev, f, stride, pad), output_size(n_W_prev, f, stride, pad)
    dZ = rng.standard_normal((m, n_H, n_W, n_C))
    return (dZ, (A_prev, W, b, hparameters)), {}


def draw_pool_layer(draw) -> tuple:
    """A_prev and hparameters of a pooling layer whose windows fit, and a Generator."""
    f, stride = draw(F), draw(STRIDE)
    n_H, n_W = image_sizes(draw, f)
    rng = generator(draw)
    A_prev = rng.standard_normal((draw(SIZE), n_H, n_W, draw(SIZE)))
    return A_prev, {"f": f, "stride": stride}, rng


@st.composite
def pool_forward_inputs(draw) -> tuple:
    A_prev, hparameters, _ = draw_pool_layer(draw)
    return (A_prev, hparameters), {"mode": draw(MODE)}


@st.composite
def pool_backward_inputs(draw) -> tuple:
    A_prev, hparameters, rng = draw_pool_layer(draw)
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    dA = rng.standard_normal((m, output_size(n_H_prev, f, stride), output_size(n_W_prev, f, stride), n_C))
    return (dA, (A_prev, hparameters)), {"mode": draw(MODE)}


@st.composite
def create_mask_from_window_inputs(draw) -> tuple:
    f = draw(F)
    return (generator(draw).standard_normal((f, f)),), {}


@st.composite
def distribute_value_inputs(draw) -> tuple:
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    rng = generator(draw)
    dz = int(rng.integers(-5, 6)) if draw(st.booleans()) else float(rng.standard_normal())
    return (dz, shape), {}


INPUTS = {
    "zero_pad": zero_pad_inputs(),
    "conv_single_step": conv_single_step_inputs(),
    "conv_forward": conv_forward_inputs(),
    "pool_forward": pool_forward_inputs(),
    "conv_backward": conv_backward_inputs(),
    "create_mask_from_window": create_mask_from_window_inputs(),
    "distribute_value": distribute_value_inputs(),
    "pool_backward": pool_backward_inputs(),
}
