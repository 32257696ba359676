import numpy as np
import pytest
from cases import POOL_CASES, RUNTIME_POOL, PoolCase, normal, source

from autograder.checks import expect_array, numeric_gradient
from autograder.runtime import TimedCall

pytestmark = pytest.mark.graded("pool_backward")


# The student's pool_backward is called read-only: writing into dA or the cache fails the test.


def upstream(case: PoolCase, reference, dA_seed: int | None, rng=None):
    """dA and the cache: seeded (dA from dA_seed), or drawn from a timed run's rng."""
    A_prev, hparameters = case.inputs(rng)
    A, cache = reference.pool_forward(A_prev, hparameters, mode=case.mode)
    return normal(source(rng, dA_seed), *A.shape), cache


@pytest.mark.points(2)
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda case: case.id)
def test_gradient(student, reference, diagnosis, case):
    dA, cache = upstream(case, reference, case.seed + 5)
    expect_array(
        student.read_only("pool_backward", dA, cache, mode=case.mode),
        reference.pool_backward(dA, cache, mode=case.mode),
        "dA_prev",
        case.describe,
        diagnosis=diagnosis("pool_backward", "dA_prev", dA, cache, mode=case.mode),
    )


@pytest.mark.points(1)
def test_max_is_the_default_mode(student, reference):
    case = POOL_CASES[4]
    dA, cache = upstream(case, reference, 55)
    expect_array(
        student.read_only("pool_backward", dA, cache),
        reference.pool_backward(dA, cache),
        "dA_prev",
        "without a mode argument (max pooling)",
    )


@pytest.mark.points(1)
@pytest.mark.parametrize("mode", ["max", "average"])
def test_matches_numeric_gradient(student, reference, cached, mode):
    case = PoolCase("numeric", (2, 5, 6, 2), f=3, stride=2, mode=mode, seed=170)
    dA, (A_prev, hparameters) = upstream(case, reference, 171)

    def loss():
        return float(np.sum(reference.pool_forward(A_prev, hparameters, mode=mode)[0] * dA))

    expect_array(
        student.read_only("pool_backward", dA, (A_prev, hparameters), mode=mode),
        cached(numeric_gradient, loss, A_prev),
        "dA_prev",
        f"{case.describe}, against a numeric gradient",
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.runtime
@pytest.mark.parametrize("case", RUNTIME_POOL)  # one per mode, each with its points
def test_runtime(runtime, reference, case):
    def timed_call(rng):
        dA, cache = upstream(case, reference, None, rng)
        expected = reference.pool_backward(dA, cache, mode=case.mode)
        return TimedCall(
            (dA, cache),
            {"mode": case.mode},
            verify=lambda out: expect_array(out, expected, "dA_prev", case.describe),
        )

    runtime("pool_backward", timed_call)
