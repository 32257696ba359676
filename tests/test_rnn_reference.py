"""The reference of rnn_step_by_step (the solution cells of the source notebook): exact gradients on
random shapes, caches and inputs left untouched, the cache contract the hidden tests rely on, a
stable sigmoid, and agreement with a plain one-example-at-a-time implementation."""

import numpy as np
import pytest
from helpers import assignment
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.checks import numeric_gradient
from autograder.reference import load_reference

TOLERANCE = 1e-10
STEP = 1e-5  # centred differences, as in cs231n


@pytest.fixture(scope="module")
def rnn_reference():
    return load_reference(assignment("rnn_step_by_step"))


# ---------------------------------------------------------------------------------------------------
# Problems


@st.composite
def sequences(draw, max_T=5):
    """(kind, inputs, rng) with inputs (x, h0, Wx, Wh, b) of random, often unequal, sizes."""
    kind = draw(st.sampled_from(["rnn", "lstm"]))
    N, T, D, H = (
        draw(st.integers(1, 4)),
        draw(st.integers(1, max_T)),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 4)),
    )
    scale = draw(st.sampled_from([0.3, 1.0, 2.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    gates = 4 if kind == "lstm" else 1
    inputs = (
        rng.standard_normal((N, T, D)),
        rng.standard_normal((N, H)),
        scale * rng.standard_normal((D, gates * H)),
        scale * rng.standard_normal((H, gates * H)),
        scale * rng.standard_normal(gates * H),
    )
    return kind, inputs, rng


def sequence_functions(reference, kind):
    """The forward and backward functions of a sequence of `kind` ("rnn" or "lstm")."""
    return getattr(reference, f"{kind}_forward"), getattr(reference, f"{kind}_backward")


def copies(tree):
    """A deep copy of a tree of tuples and arrays."""
    if isinstance(tree, tuple):
        return tuple(copies(item) for item in tree)
    return np.array(tree, copy=True)


def assert_same_tree(actual, expected):
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same_tree(a, e)
    else:
        np.testing.assert_array_equal(actual, expected)


# ---------------------------------------------------------------------------------------------------
# Numeric gradients


@settings(max_examples=40, deadline=None)
@given(sequences())
def test_sequence_backward_matches_numeric_gradients(rnn_reference, problem):
    kind, inputs, rng = problem
    forward, backward = sequence_functions(rnn_reference, kind)
    h, cache = forward(*inputs)
    dh = rng.standard_normal(h.shape)
    gradients = backward(dh, cache)

    def loss():
        return float(np.sum(forward(*inputs)[0] * dh))

    for name, gradient, array in zip(["dx", "dh0", "dWx", "dWh", "db"], gradients, inputs):
        assert gradient.shape == array.shape, name
        np.testing.assert_allclose(
            gradient, numeric_gradient(loss, array, STEP), rtol=1e-5, atol=1e-7, err_msg=name
        )


@settings(max_examples=40, deadline=None)
@given(sequences(max_T=1))
def test_step_backward_matches_numeric_gradients(rnn_reference, problem):
    kind, (x, h0, Wx, Wh, b), rng = problem
    x = x[:, 0, :].copy()
    if kind == "rnn":
        inputs = [x, h0, Wx, Wh, b]
        next_h, cache = rnn_reference.rnn_step_forward(*inputs)
        upstream = [rng.standard_normal(next_h.shape)]
        gradients = rnn_reference.rnn_step_backward(*upstream, cache)

        def loss():
            return float(np.sum(rnn_reference.rnn_step_forward(*inputs)[0] * upstream[0]))

        names = ["dx", "dprev_h", "dWx", "dWh", "db"]
    else:
        inputs = [x, h0, rng.standard_normal(h0.shape), Wx, Wh, b]
        next_h, next_c, cache = rnn_reference.lstm_step_forward(*inputs)
        upstream = [rng.standard_normal(next_h.shape), rng.standard_normal(next_c.shape)]
        gradients = rnn_reference.lstm_step_backward(*upstream, cache)

        def loss():
            next_h, next_c, _ = rnn_reference.lstm_step_forward(*inputs)
            return float(np.sum(next_h * upstream[0]) + np.sum(next_c * upstream[1]))

        names = ["dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"]
    for name, gradient, array in zip(names, gradients, inputs):
        assert gradient.shape == array.shape, name
        np.testing.assert_allclose(
            gradient, numeric_gradient(loss, array, STEP), rtol=1e-5, atol=1e-7, err_msg=name
        )


def test_lstm_gradient_flows_through_the_cell_state(rnn_reference):
    """With a loss on the last step only, the input of the first step gets its gradient through
    time; cutting dprev_c (the classic bug) changes it."""
    rng = np.random.default_rng(5)
    N, T, D, H = 2, 6, 3, 4
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    b[H : 2 * H] += 3.0  # forget gates close to 1
    h, cache = rnn_reference.lstm_forward(x, h0, Wx, Wh, b)
    dh = np.zeros_like(h)
    dh[:, -1, :] = rng.standard_normal((N, H))
    dx = rnn_reference.lstm_backward(dh, cache)[0]
    dprev_h, cut = np.zeros((N, H)), np.zeros((N, T, D))
    for t in reversed(range(T)):
        cut[:, t], dprev_h, *_ = rnn_reference.lstm_step_backward(
            dh[:, t] + dprev_h, np.zeros((N, H)), cache[t]
        )
    assert np.abs(dx[:, 0]).max() > 1e-3
    assert not np.allclose(dx[:, 0], cut[:, 0], rtol=1e-3, atol=1e-6)


# ---------------------------------------------------------------------------------------------------
# Contracts: caches, no mutation, the sequence functions call the step functions


@settings(max_examples=30, deadline=None)
@given(sequences())
def test_nothing_is_mutated_and_backward_is_repeatable(rnn_reference, problem):
    kind, inputs, rng = problem
    forward, backward = sequence_functions(rnn_reference, kind)
    saved_inputs = copies(inputs)
    h, cache = forward(*inputs)
    assert_same_tree(inputs, saved_inputs)
    saved_cache = copies(cache)
    dh = rng.standard_normal(h.shape)
    saved_dh = dh.copy()
    first = backward(dh, cache)
    assert_same_tree(cache, saved_cache)
    np.testing.assert_array_equal(dh, saved_dh)
    second = backward(dh, cache)
    assert_same_tree(second, first)

    # The step backward passes, on every step cache of the sequence.
    step_backward = getattr(rnn_reference, f"{kind}_step_backward")
    for step_cache in cache:
        before = copies(step_cache)
        # For the LSTM, dnext_h and dnext_c are one array: an in-place update of either would
        # show in the other (and in the result).
        upstream = [rng.standard_normal(step_cache[1].shape)] * (2 if kind == "lstm" else 1)
        saved_upstream = copies(tuple(upstream))
        step_backward(*upstream, step_cache)
        assert_same_tree(step_cache, before)
        assert_same_tree(tuple(upstream), saved_upstream)


def test_cache_contract(rnn_reference):
    rng = np.random.default_rng(11)
    N, T, D, H = 3, 4, 5, 2
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    prev_c = rng.standard_normal((N, H))
    for kind, gates, fields in [("rnn", 1, 5), ("lstm", 4, 10)]:
        Wx, Wh, b = (
            rng.standard_normal((D, gates * H)),
            rng.standard_normal((H, gates * H)),
            rng.standard_normal(gates * H),
        )
        h, cache = getattr(rnn_reference, f"{kind}_forward")(x, h0, Wx, Wh, b)
        assert isinstance(cache, tuple) and len(cache) == T
        assert all(isinstance(step, tuple) and len(step) == fields for step in cache)
        assert all(step[0].shape == (N, D) for step in cache)
        np.testing.assert_array_equal(cache[0][1], h0)
        if kind == "rnn":
            next_h, step = rnn_reference.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
            assert (
                step[0] is not None
                and step[1] is h0
                and step[2] is Wx
                and step[3] is Wh
                and step[4] is next_h
            )
            for t in range(T):
                np.testing.assert_array_equal(cache[t][4], h[:, t])
        else:
            next_h, next_c, step = rnn_reference.lstm_step_forward(x[:, 0], h0, prev_c, Wx, Wh, b)
            assert (
                step[1] is h0 and step[2] is prev_c and step[3] is Wx and step[4] is Wh and step[9] is next_c
            )
            i, f, o, g = step[5:9]
            np.testing.assert_allclose(next_c, f * prev_c + i * g, rtol=0, atol=TOLERANCE)
            np.testing.assert_allclose(next_h, o * np.tanh(next_c), rtol=0, atol=TOLERANCE)
            np.testing.assert_array_equal(cache[0][2], np.zeros((N, H)))  # the initial cell state


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_sequence_functions_call_the_step_functions(rnn_reference, kind):
    """So that the grader, which runs each function with the reference versions of the others,
    isolates a bug in the function where it is."""
    rng = np.random.default_rng(3)
    N, T, D, H = 2, 3, 4, 5
    gates = 4 if kind == "lstm" else 1
    inputs = (
        rng.standard_normal((N, T, D)),
        rng.standard_normal((N, H)),
        rng.standard_normal((D, gates * H)),
        rng.standard_normal((H, gates * H)),
        rng.standard_normal(gates * H),
    )
    forward, backward = sequence_functions(rnn_reference, kind)
    namespace = forward.__globals__
    calls = []
    for name in (f"{kind}_step_forward", f"{kind}_step_backward"):
        original = namespace[name]

        def counting(*args, _original=original, _name=name):
            calls.append(_name)
            return _original(*args)

        namespace[name] = counting
    try:
        h, cache = forward(*inputs)
        backward(np.ones_like(h), cache)
    finally:
        namespace[f"{kind}_step_forward"] = getattr(rnn_reference, f"{kind}_step_forward")
        namespace[f"{kind}_step_backward"] = getattr(rnn_reference, f"{kind}_step_backward")
    assert calls == [f"{kind}_step_forward"] * T + [f"{kind}_step_backward"] * T


def test_sigmoid_is_stable_for_large_inputs(rnn_reference):
    rng = np.random.default_rng(2)
    N, D, H = 3, 4, 2
    x, prev_h, prev_c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    Wx, Wh, b = (
        1000 * rng.standard_normal((D, 4 * H)),
        1000 * rng.standard_normal((H, 4 * H)),
        np.zeros(4 * H),
    )
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        next_h, next_c, cache = rnn_reference.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    for gate in cache[5:8]:
        assert np.all((gate >= 0) & (gate <= 1))
    assert np.all(np.isfinite(next_h)) and np.all(np.isfinite(next_c))
    z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        s = rnn_reference.lstm_step_forward.__globals__["sigmoid"](z)
    np.testing.assert_allclose(
        s, [0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5, 1 / (1 + np.exp(-40.0)), 1.0]
    )


# ---------------------------------------------------------------------------------------------------
# A one-example-at-a-time implementation, written from the formulas


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loop_forward(kind, x, h0, Wx, Wh, b):
    """h, and per time step the values the reference caches, one example at a time."""
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    saved = {key: np.zeros((N, T, H)) for key in ("prev_h", "prev_c", "i", "f", "o", "g", "c")}
    for n in range(N):
        prev_h, prev_c = h0[n].copy(), np.zeros(H)
        for t in range(T):
            a = np.zeros(Wx.shape[1])
            for k in range(Wx.shape[1]):
                a[k] = (
                    sum(x[n, t, d] * Wx[d, k] for d in range(D))
                    + sum(prev_h[j] * Wh[j, k] for j in range(H))
                    + b[k]
                )
            saved["prev_h"][n, t], saved["prev_c"][n, t] = prev_h, prev_c
            if kind == "rnn":
                prev_h = np.tanh(a)
            else:
                i, f, o, g = (
                    sigmoid(a[:H]),
                    sigmoid(a[H : 2 * H]),
                    sigmoid(a[2 * H : 3 * H]),
                    np.tanh(a[3 * H :]),
                )
                prev_c = f * prev_c + i * g
                prev_h = o * np.tanh(prev_c)
                for key, value in zip("ifog", (i, f, o, g)):
                    saved[key][n, t] = value
                saved["c"][n, t] = prev_c
            h[n, t] = prev_h
    return h, saved


def loop_backward(kind, dh, x, Wx, Wh, h, saved):
    N, T, D = x.shape
    H = dh.shape[2]
    dx, dh0 = np.zeros_like(x), np.zeros((N, H))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wx.shape[1])
    for n in range(N):
        dnext_h, dnext_c = np.zeros(H), np.zeros(H)
        for t in reversed(range(T)):
            dht = dh[n, t] + dnext_h
            if kind == "rnn":
                da = dht * (1 - h[n, t] ** 2)
            else:
                i, f, o, g, c = (saved[key][n, t] for key in ("i", "f", "o", "g", "c"))
                dc = dnext_c + dht * o * (1 - np.tanh(c) ** 2)
                da = np.concatenate(
                    [
                        dc * g * i * (1 - i),
                        dc * saved["prev_c"][n, t] * f * (1 - f),
                        dht * np.tanh(c) * o * (1 - o),
                        dc * i * (1 - g**2),
                    ]
                )
                dnext_c = dc * f
            for k in range(len(da)):
                for d in range(D):
                    dx[n, t, d] += Wx[d, k] * da[k]
                    dWx[d, k] += x[n, t, d] * da[k]
                for j in range(H):
                    dWh[j, k] += saved["prev_h"][n, t, j] * da[k]
                db[k] += da[k]
            dnext_h = Wh @ da
        dh0[n] = dnext_h
    return dx, dh0, dWx, dWh, db


@settings(max_examples=40, deadline=None)
@given(sequences(max_T=4))
def test_reference_agrees_with_a_loop_over_examples(rnn_reference, problem):
    kind, inputs, rng = problem
    x, h0, Wx, Wh, b = inputs
    forward, backward = sequence_functions(rnn_reference, kind)
    h, cache = forward(*inputs)
    expected_h, saved = loop_forward(kind, *inputs)
    np.testing.assert_allclose(h, expected_h, rtol=0, atol=TOLERANCE)
    for t, step in enumerate(cache):
        np.testing.assert_allclose(step[1], saved["prev_h"][:, t], rtol=0, atol=TOLERANCE)
        if kind == "lstm":
            for key, value in zip(("prev_c", "i", "f", "o", "g", "c"), step[2:3] + step[5:]):
                np.testing.assert_allclose(value, saved[key][:, t], rtol=0, atol=TOLERANCE, err_msg=key)
    dh = rng.standard_normal(h.shape)
    gradients = backward(dh, cache)
    for name, actual, expected in zip(
        ["dx", "dh0", "dWx", "dWh", "db"], gradients, loop_backward(kind, dh, x, Wx, Wh, expected_h, saved)
    ):
        np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE, err_msg=name)
