import numpy as np
import pytest
from cases import CONV_CASES, RUNTIME_CONV, ConvCase, normal

from autograder.checks import expect_array, expect_arrays, expect_tuple, numeric_gradient
from autograder.runtime import TimedCall

pytestmark = pytest.mark.graded("conv_backward")

BACKWARD_CASES = [CONV_CASES[0], CONV_CASES[1], CONV_CASES[2], CONV_CASES[5]]


def gradients(student, case: ConvCase, dZ_seed: int):
    """The student's gradients, from a call that may not write into dZ or the cache."""
    A_prev, W, b, hparameters = case.inputs()
    n_H = (A_prev.shape[1] + 2 * case.pad - case.f) // case.stride + 1
    n_W = (A_prev.shape[2] + 2 * case.pad - case.f) // case.stride + 1
    dZ = normal(dZ_seed, A_prev.shape[0], n_H, n_W, case.n_C)
    result = student.read_only("conv_backward", dZ, (A_prev, W, b, hparameters))
    return expect_tuple(result, 3, "conv_backward", case.describe), (A_prev, W, b, hparameters), dZ


@pytest.mark.points(3)
@pytest.mark.parametrize("case", BACKWARD_CASES, ids=lambda case: case.id)
def test_gradients(student, reference, diagnosis, case):
    got, cache, dZ = gradients(student, case, dZ_seed=case.seed + 7)
    expected = reference.conv_backward(dZ, cache)
    names = ["dA_prev", "dW", "db"]
    checks = [
        (*pair, name, diagnosis("conv_backward", name, dZ, cache))
        for name, *pair in zip(names, got, expected)
    ]
    expect_arrays(checks, case.describe)


@pytest.mark.points(3)
def test_matches_numeric_gradient(student, reference, cached):
    case = ConvCase("numeric", (2, 4, 5, 2), f=3, n_C=2, stride=2, pad=1, seed=70)
    got, (A_prev, W, b, hparameters), dZ = gradients(student, case, dZ_seed=77)

    def loss():
        return float(np.sum(reference.conv_forward(A_prev, W, b, hparameters)[0] * dZ))

    for name, actual, array in zip(["dA_prev", "dW", "db"], got, [A_prev, W, b]):
        expect_array(
            actual,
            cached(numeric_gradient, loss, array),
            name,
            f"{case.describe}, against a numeric gradient",
            rtol=1e-5,
            atol=1e-6,
        )


@pytest.mark.runtime
@pytest.mark.points(5)
def test_runtime(runtime, reference):
    def timed_call(rng):
        Z, cache = reference.conv_forward(*RUNTIME_CONV.inputs(rng))
        dZ = normal(rng, *Z.shape)
        expected = reference.conv_backward(dZ, cache)

        def verify(out):
            for name, actual, wanted in zip(
                ["dA_prev", "dW", "db"], expect_tuple(out, 3, "conv_backward", "runtime"), expected
            ):
                expect_array(actual, wanted, name, RUNTIME_CONV.describe)

        return TimedCall((dZ, cache), verify=verify)

    runtime("conv_backward", timed_call)
