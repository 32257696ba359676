"""Hidden tests of relu: every test names the graded function it covers and its points; together
they give the points of relu's hidden-tests cell in the source notebook (10)."""

import numpy as np
import pytest

from autograder.checks import expect_array
from autograder.runtime import TimedCall

pytestmark = pytest.mark.graded("relu")

SHAPES = [(3,), (2, 5), (4, 3, 2)]


def inputs(shape, rng):
    """Z of `shape` from rng, with negative values (every other one), a zero and positive values:
    a random draw alone may have no negative value, and then relu's bugs go unseen."""
    Z = np.abs(rng.standard_normal(shape))
    Z.flat[::2] *= -1
    Z.flat[1] = 0.0
    return (Z,)


@pytest.mark.points(2)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: "x".join(map(str, shape)))
def test_values(student, reference, shape):
    (Z,) = inputs(shape, np.random.default_rng(len(shape)))
    expect_array(student.relu(Z), reference.relu(Z), "A", f"relu on an array of shape {shape}")


@pytest.mark.runtime
@pytest.mark.points(4)
def test_runtime(runtime, reference):
    def timed_call(rng):
        args = inputs((256, 1024), rng)
        expected = reference.relu(*args)
        return TimedCall(args, verify=lambda out: expect_array(out, expected, "A", "the runtime input"))

    runtime("relu", timed_call)
