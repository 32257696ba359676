import pytest
from cases import POOL_CASES, RUNTIME_POOL

from autograder.checks import Mismatch, expect_array, expect_tuple
from autograder.runtime import TimedCall

pytestmark = pytest.mark.graded("pool_forward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda case: case.id)
def test_output(student, reference, diagnosis, case):
    A_prev, hparameters = case.inputs()
    A, _ = expect_tuple(
        student.pool_forward(A_prev, hparameters, mode=case.mode), 2, "pool_forward", case.describe
    )
    shows = diagnosis("pool_forward", "A", A_prev, hparameters, mode=case.mode)
    expect_array(
        A, reference.pool_forward(A_prev, hparameters, mode=case.mode)[0], "A", case.describe, diagnosis=shows
    )


@pytest.mark.points(1)
def test_max_is_the_default_mode(student, reference):
    case = POOL_CASES[0]
    A_prev, hparameters = case.inputs()
    A, _ = expect_tuple(
        student.pool_forward(A_prev, hparameters), 2, "pool_forward", "without a mode argument"
    )
    expect_array(
        A, reference.pool_forward(A_prev, hparameters)[0], "A", "without a mode argument (max pooling)"
    )


@pytest.mark.points(2)
def test_cache_holds_the_inputs_unchanged(student, reference, diagnosis):
    case = POOL_CASES[3]
    A_prev, hparameters = case.inputs()
    A, cache = expect_tuple(
        student.pool_forward(A_prev, hparameters, mode=case.mode), 2, "pool_forward", case.describe
    )
    shows = diagnosis("pool_forward", "A", A_prev, hparameters, mode=case.mode)
    expect_array(
        A, reference.pool_forward(A_prev, hparameters, mode=case.mode)[0], "A", case.describe, diagnosis=shows
    )
    cache = expect_tuple(cache, 2, "the cache", f"{case.describe}: cache must be (A_prev, hparameters) and")
    expect_array(
        cache[0], A_prev, "cache's A_prev", f"{case.describe}: the cache must hold A_prev unchanged, and"
    )
    if cache[1] != hparameters:
        raise Mismatch("the cache's second element must be the hparameters dict passed in")


@pytest.mark.runtime
@pytest.mark.parametrize("case", RUNTIME_POOL)  # one per mode, each with its points
def test_runtime(runtime, reference, case):
    def timed_call(rng):
        A_prev, hparameters = case.inputs(rng)
        expected = reference.pool_forward(A_prev, hparameters, mode=case.mode)[0]
        return TimedCall(
            (A_prev, hparameters),
            {"mode": case.mode},
            verify=lambda out: expect_array(
                expect_tuple(out, 2, "pool_forward", "runtime input")[0], expected, "A", case.describe
            ),
        )

    runtime("pool_forward", timed_call)
