"""The graded functions of "Recurrent networks, step by step" as plain loops, and the random inputs
on which the reference solution must agree with them.

Never released to students (the course ignores instructor/). `autograder.agreement` runs every
function of ``INPUTS`` on inputs drawn by hypothesis, here and in the reference (the vectorized
solution cells of the source notebook), and reports any input on which the two differ.

The functions follow cs231n's API (x is (N, T, D), hidden states (N, H), LSTM gates in the order
i, f, o, g) and build the same caches as the reference, since the backward functions take them.
They are written to be obviously right, not fast: every matrix product is a loop over examples,
output units and the summed index, every nonlinearity and its derivative is taken one number at a
time, and the gradients are derived anew, unit by unit, from the forward formulas. They call only
each other, never the reference.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

# ----------------------------------------------------------------------------------------------
# Building blocks


def matmul(a: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The matrix product a B: out[n, k] = sum over j of a[n, j] * B[j, k]."""
    rows, inner = a.shape
    out = np.zeros((rows, B.shape[1]))
    for n, k in np.ndindex(out.shape):
        for j in range(inner):
            out[n, k] += a[n, j] * B[j, k]
    return out


def column_sums(a: np.ndarray) -> np.ndarray:
    """The sum over examples (rows) of a, one number per column."""
    sums = np.zeros(a.shape[1])
    for n, k in np.ndindex(a.shape):
        sums[k] += a[n, k]
    return sums


def elementwise(function, a: np.ndarray) -> np.ndarray:
    """`function` of every element of a, one at a time."""
    out = np.zeros(a.shape)
    for index in np.ndindex(a.shape):
        out[index] = function(a[index])
    return out


def sigmoid(z: float) -> float:
    """1 / (1 + e^-z), computed without overflow for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def affine_backward(da: np.ndarray, x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray):
    """The gradients of a = x Wx + prev_h Wh + b, given da: dx, dprev_h, dWx, dWh, db."""
    return matmul(da, Wx.T), matmul(da, Wh.T), matmul(x.T, da), matmul(prev_h.T, da), column_sums(da)


# ----------------------------------------------------------------------------------------------
# Vanilla RNN


def rnn_step_forward(x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray):
    """next_h = tanh(x Wx + prev_h Wh + b), and the cache (x, prev_h, Wx, Wh, next_h)."""
    next_h = elementwise(math.tanh, matmul(x, Wx) + matmul(prev_h, Wh) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h: np.ndarray, cache: tuple):
    """dx, dprev_h, dWx, dWh, db of one step: next_h = tanh(a), so da = dnext_h * (1 - next_h^2)."""
    x, prev_h, Wx, Wh, next_h = cache
    da = np.zeros(dnext_h.shape)
    for n, k in np.ndindex(da.shape):
        da[n, k] = dnext_h[n, k] * (1.0 - next_h[n, k] ** 2)
    return affine_backward(da, x, prev_h, Wx, Wh)


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray):
    """The hidden states of every time step, h (N, T, H), and the tuple of the T step caches."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    step_caches = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        step_caches.append(step_cache)
    return h, tuple(step_caches)


def rnn_backward(dh: np.ndarray, cache: tuple):
    """dx, dh0, dWx, dWh, db through time: step t's hidden state gets dh[:, t] from the loss and
    the gradient of step t + 1's input prev_h; the weights add up their gradients of every step."""
    N, T, _ = dh.shape
    x0, _, Wx, Wh, _ = cache[0]
    dx = np.zeros((N, T, x0.shape[1]))
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wh.shape[1])
    dh_from_later = np.zeros(dh[:, 0, :].shape)
    for t in reversed(range(T)):
        dx_t, dh_from_later, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dh_from_later, cache[t])
        dx[:, t, :] = dx_t
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dh_from_later, dWx, dWh, db


# ----------------------------------------------------------------------------------------------
# LSTM: a = x Wx + prev_h Wh + b in four blocks of H columns, the gates i, f, o, g in this order;
# next_c = f * prev_c + i * g and next_h = o * tanh(next_c), unit by unit.


def lstm_step_forward(
    x: np.ndarray, prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
):
    """next_h, next_c and the cache (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)."""
    N, H = prev_h.shape
    a = matmul(x, Wx) + matmul(prev_h, Wh) + b
    i, f, o, g, next_c, next_h = (np.zeros((N, H)) for _ in range(6))
    for n, k in np.ndindex(N, H):
        i[n, k] = sigmoid(a[n, k])
        f[n, k] = sigmoid(a[n, H + k])
        o[n, k] = sigmoid(a[n, 2 * H + k])
        g[n, k] = math.tanh(a[n, 3 * H + k])
        next_c[n, k] = f[n, k] * prev_c[n, k] + i[n, k] * g[n, k]
        next_h[n, k] = o[n, k] * math.tanh(next_c[n, k])
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


def lstm_unit_backward(
    dh: float, dc_later: float, prev_c: float, i: float, f: float, o: float, g: float, c: float
):
    """The gradients of one unit's four gate inputs (a_i, a_f, a_o, a_g) and of its prev_c, given
    the gradients of its next_h (dh) and next_c (dc_later, from the following step)."""
    tanh_c = math.tanh(c)
    dc = dc_later + dh * o * (1.0 - tanh_c**2)  # next_c reaches the loss directly and through next_h
    di, df, do, dg = dc * g, dc * prev_c, dh * tanh_c, dc * i
    # sigmoid'(a) = s (1 - s) and tanh'(a) = 1 - tanh(a)^2, with s and tanh(a) the gates themselves
    gate_inputs = (di * i * (1.0 - i), df * f * (1.0 - f), do * o * (1.0 - o), dg * (1.0 - g**2))
    return gate_inputs, dc * f


def lstm_step_backward(dnext_h: np.ndarray, dnext_c: np.ndarray, cache: tuple):
    """dx, dprev_h, dprev_c, dWx, dWh, db of one LSTM step."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    N, H = dnext_h.shape
    da = np.zeros((N, 4 * H))
    dprev_c = np.zeros((N, H))
    for n, k in np.ndindex(N, H):
        unit = (prev_c[n, k], i[n, k], f[n, k], o[n, k], g[n, k], next_c[n, k])
        gate_inputs, dprev_c[n, k] = lstm_unit_backward(dnext_h[n, k], dnext_c[n, k], *unit)
        for gate, gradient in enumerate(gate_inputs):
            da[n, gate * H + k] = gradient
    dx, dprev_h, dWx, dWh, db = affine_backward(da, x, prev_h, Wx, Wh)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray):
    """h (N, T, H) and the tuple of the T step caches; the cell state starts at zero."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    step_caches = []
    prev_h, prev_c = h0, np.zeros(h0.shape)
    for t in range(T):
        prev_h, prev_c, step_cache = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        step_caches.append(step_cache)
    return h, tuple(step_caches)


def lstm_backward(dh: np.ndarray, cache: tuple):
    """dx, dh0, dWx, dWh, db through time, through both the hidden and the cell state (the
    gradient of c0 is not returned: c0 is no input)."""
    N, T, _ = dh.shape
    x0, _, _, Wx, Wh = cache[0][:5]
    dx = np.zeros((N, T, x0.shape[1]))
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(Wh.shape[1])
    dh_from_later = np.zeros(dh[:, 0, :].shape)
    dc_from_later = np.zeros(dh[:, 0, :].shape)
    for t in reversed(range(T)):
        dx_t, dh_from_later, dc_from_later, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t, :] + dh_from_later, dc_from_later, cache[t]
        )
        dx[:, t, :] = dx_t
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dh_from_later, dWx, dWh, db


# ----------------------------------------------------------------------------------------------
# What the functions return, and the fields of their caches (named in reports)

RNN_CACHE = ("x", "prev_h", "Wx", "Wh", "next_h")
LSTM_CACHE = ("x", "prev_h", "prev_c", "Wx", "Wh", "i", "f", "o", "g", "next_c")

OUTPUTS = {
    "rnn_step_forward": ("next_h", "cache"),
    "rnn_step_backward": ("dx", "dprev_h", "dWx", "dWh", "db"),
    "rnn_forward": ("h", "cache"),
    "rnn_backward": ("dx", "dh0", "dWx", "dWh", "db"),
    "lstm_step_forward": ("next_h", "next_c", "cache"),
    "lstm_step_backward": ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
    "lstm_forward": ("h", "cache"),
    "lstm_backward": ("dx", "dh0", "dWx", "dWh", "db"),
}

CACHE_FIELDS = {
    **dict.fromkeys(("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"), RNN_CACHE),
    **dict.fromkeys(("lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"), LSTM_CACHE),
}

# ----------------------------------------------------------------------------------------------
# Random inputs: N, T, D and H small and all different (a swapped axis changes a shape), T = 1
# among them; weights at several scales, up to saturated gates. Values come from a numpy
# Generator seeded by a drawn integer, so hypothesis can shrink them. The backward functions get
# the caches of this module's forward functions, which build them as the reference does.

SCALE = st.sampled_from([0.5, 1.0, 2.0])


def generator(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def draw_layer(draw, gates: int) -> tuple:
    """(N, T, D, H), Wx, Wh, b of a layer with `gates` blocks of H units, and a Generator."""
    N, T, D, H = draw(st.lists(st.integers(1, 6), min_size=4, max_size=4, unique=True))
    scale = draw(SCALE)
    rng = generator(draw)
    Wx = scale * rng.standard_normal((D, gates * H))
    Wh = scale * rng.standard_normal((H, gates * H))
    b = scale * rng.standard_normal(gates * H)
    return (N, T, D, H), Wx, Wh, b, rng


@st.composite
def rnn_step_forward_inputs(draw) -> tuple:
    (N, _, D, H), Wx, Wh, b, rng = draw_layer(draw, 1)
    return (rng.standard_normal((N, D)), rng.standard_normal((N, H)), Wx, Wh, b), {}


@st.composite
def rnn_step_backward_inputs(draw) -> tuple:
    args, _ = draw(rnn_step_forward_inputs())
    next_h, cache = rnn_step_forward(*args)
    return (generator(draw).standard_normal(next_h.shape), cache), {}


@st.composite
def sequence_inputs(draw, gates: int) -> tuple:
    (N, T, D, H), Wx, Wh, b, rng = draw_layer(draw, gates)
    return (rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), Wx, Wh, b), {}


@st.composite
def sequence_backward_inputs(draw, forward, gates: int) -> tuple:
    args, _ = draw(sequence_inputs(gates))
    h, cache = forward(*args)
    return (generator(draw).standard_normal(h.shape), cache), {}


@st.composite
def lstm_step_forward_inputs(draw) -> tuple:
    (N, _, D, H), Wx, Wh, b, rng = draw_layer(draw, 4)
    x, prev_h, prev_c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    return (x, prev_h, prev_c, Wx, Wh, b), {}


@st.composite
def lstm_step_backward_inputs(draw) -> tuple:
    args, _ = draw(lstm_step_forward_inputs())
    next_h, next_c, cache = lstm_step_forward(*args)
    rng = generator(draw)
    return (rng.standard_normal(next_h.shape), rng.standard_normal(next_c.shape), cache), {}


INPUTS = {
    "rnn_step_forward": rnn_step_forward_inputs(),
    "rnn_step_backward": rnn_step_backward_inputs(),
    "rnn_forward": sequence_inputs(1),
    "rnn_backward": sequence_backward_inputs(rnn_forward, 1),
    "lstm_step_forward": lstm_step_forward_inputs(),
    "lstm_step_backward": lstm_step_backward_inputs(),
    "lstm_forward": sequence_inputs(4),
    "lstm_backward": sequence_backward_inputs(lstm_forward, 4),
}
