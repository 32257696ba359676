"""The vectorized reference in the source notebook agrees with plain loops on awkward shapes."""

import numpy as np
from helpers import assignment
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.checks import numeric_gradient
from autograder.examples import example_functions

# The oracle: the bundled course-style submission, four plain nested loops.
loops = example_functions(assignment("conv_step_by_step"), "course_loops")

TOLERANCE = 1e-10


def conv_inputs(rng, A_shape, f, n_C, stride, pad):
    """A_prev of A_shape, n_C random filters of f×f and their biases (drawn in this order), and the
    hyperparameters."""
    A_prev = rng.standard_normal(A_shape)
    W = rng.standard_normal((f, f, A_shape[3], n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    return A_prev, W, b, {"stride": stride, "pad": pad}


@st.composite
def conv_problems(draw):
    f = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 2))
    # Any size the formula accepts, square or not, divisible by the stride or not.
    n_H = draw(st.integers(max(1, f - 2 * pad), 9))
    n_W = draw(st.integers(max(1, f - 2 * pad), 9))
    m, n_C_prev, n_C = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return *conv_inputs(rng, (m, n_H, n_W, n_C_prev), f, n_C, stride, pad), rng


@st.composite
def pool_problems(draw):
    f = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    n_H, n_W = draw(st.integers(f, 9)), draw(st.integers(f, 9))
    m, n_C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # Continuous random values: window maxima are unique (no ties) with probability 1.
    A_prev = rng.standard_normal((m, n_H, n_W, n_C))
    return A_prev, {"f": f, "stride": stride}, draw(st.sampled_from(["max", "average"])), rng


def assert_close(actual, expected):
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE)


@settings(max_examples=150, deadline=None)
@given(conv_problems())
def test_conv_forward_and_backward_agree_with_loops(conv_reference, problem):
    A_prev, W, b, hparameters, rng = problem
    Z, cache = conv_reference.conv_forward(A_prev, W, b, hparameters)
    expected_Z, _ = loops.conv_forward(A_prev, W, b, hparameters)
    assert_close(Z, expected_Z)

    dZ = rng.standard_normal(Z.shape)
    for actual, expected in zip(conv_reference.conv_backward(dZ, cache), loops.conv_backward(dZ, cache)):
        assert_close(actual, expected)


@settings(max_examples=150, deadline=None)
@given(pool_problems())
def test_pool_forward_and_backward_agree_with_loops(conv_reference, problem):
    A_prev, hparameters, mode, rng = problem
    A, cache = conv_reference.pool_forward(A_prev, hparameters, mode=mode)
    assert_close(A, loops.pool_forward(A_prev, hparameters, mode=mode)[0])

    dA = rng.standard_normal(A.shape)
    assert_close(
        conv_reference.pool_backward(dA, cache, mode=mode), loops.pool_backward(dA, cache, mode=mode)
    )


# Shapes large enough that the reference works through several cache-sized blocks of examples,
# the last one short: conv im2col takes about 2048 output positions a block, pool_backward about
# 2**17 numbers of A_prev when stride == f.
BLOCKED_CONVS = [((5, 30, 30, 2), 3, 1, 0), ((3, 45, 47, 1), 3, 1, 1), ((3, 64, 33, 2), 2, 2, 1)]
BLOCKED_POOLS = [((3, 64, 66, 20), 2), ((5, 30, 30, 30), 2), ((5, 31, 29, 30), 2), ((2, 40, 41, 41), 3)]


def test_conv_in_several_blocks_agrees_with_loops(conv_reference):
    rng = np.random.default_rng(11)
    for shape, f, stride, pad in BLOCKED_CONVS:
        A_prev, W, b, hparameters = conv_inputs(rng, shape, f, 3, stride, pad)
        Z, cache = conv_reference.conv_forward(A_prev, W, b, hparameters)
        assert_close(Z, loops.conv_forward(A_prev, W, b, hparameters)[0])
        dZ = rng.standard_normal(Z.shape)
        for actual, expected in zip(conv_reference.conv_backward(dZ, cache), loops.conv_backward(dZ, cache)):
            assert_close(actual, expected)


def test_pool_in_several_blocks_agrees_with_loops_ties_included(conv_reference):
    rng = np.random.default_rng(12)
    for shape, f in BLOCKED_POOLS:
        # integer values: windows with tied maxima, each of which gets the gradient
        for A_prev in (rng.standard_normal(shape), rng.integers(-1, 2, size=shape).astype(float)):
            for mode in ("max", "average"):
                A, cache = conv_reference.pool_forward(A_prev, {"f": f, "stride": f}, mode=mode)
                dA = rng.standard_normal(A.shape)
                assert_close(
                    conv_reference.pool_backward(dA, cache, mode=mode),
                    loops.pool_backward(dA, cache, mode=mode),
                )


def test_reference_keeps_its_inputs_and_cache_contract(conv_reference):
    A_prev, W, b, hparameters = conv_inputs(np.random.default_rng(7), (2, 5, 6, 3), 3, 4, stride=2, pad=1)
    copies = [A_prev.copy(), W.copy(), b.copy()]
    Z, cache = conv_reference.conv_forward(A_prev, W, b, hparameters)
    assert isinstance(cache, tuple) and cache[0] is A_prev and cache[1] is W and cache[3] == hparameters
    conv_reference.conv_backward(np.ones_like(Z), cache)
    for original, copy in zip([A_prev, W, b], copies):
        np.testing.assert_array_equal(original, copy)


def test_conv_backward_matches_numeric_gradient(conv_reference):
    rng = np.random.default_rng(3)
    A_prev, W, b, hparameters = conv_inputs(rng, (2, 5, 4, 2), 3, 3, stride=2, pad=1)
    Z, cache = conv_reference.conv_forward(A_prev, W, b, hparameters)
    dZ = rng.standard_normal(Z.shape)
    dA_prev, dW, db = conv_reference.conv_backward(dZ, cache)
    for array, gradient in [(A_prev, dA_prev), (W, dW), (b, db)]:
        numeric = numeric_gradient(
            lambda: np.sum(conv_reference.conv_forward(A_prev, W, b, hparameters)[0] * dZ), array
        )
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-7)
