import pytest
from cases import CONV_CASES, RUNTIME_CONV

from autograder.checks import Mismatch, expect_array, expect_tuple
from autograder.runtime import TimedCall

pytestmark = pytest.mark.graded("conv_forward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda case: case.id)
def test_output(student, reference, diagnosis, case):
    inputs = case.inputs()
    Z, _ = expect_tuple(student.conv_forward(*inputs), 2, "conv_forward", case.describe)
    shows = diagnosis("conv_forward", "Z", *inputs)
    expect_array(Z, reference.conv_forward(*inputs)[0], "Z", case.describe, diagnosis=shows)


@pytest.mark.points(3)
def test_cache_holds_the_inputs_unchanged(student, reference):
    case = CONV_CASES[0]
    A_prev, W, b, hparameters = case.inputs()
    Z, cache = expect_tuple(student.conv_forward(A_prev, W, b, hparameters), 2, "conv_forward", case.describe)
    expect_array(Z, reference.conv_forward(A_prev, W, b, hparameters)[0], "Z", case.describe)
    cache = expect_tuple(
        cache, 4, "the cache", f"{case.describe}: cache must be (A_prev, W, b, hparameters) and"
    )
    for name, got, sent in zip(["A_prev", "W", "b"], cache, [A_prev, W, b]):
        expect_array(
            got, sent, f"cache's {name}", f"{case.describe}: the cache must hold the inputs unchanged, and"
        )
    if cache[3] != hparameters:
        raise Mismatch("the cache's last element must be the hparameters dict passed in")


@pytest.mark.runtime
@pytest.mark.points(5)
def test_runtime(runtime, reference):
    def timed_call(rng):
        inputs = RUNTIME_CONV.inputs(rng)
        expected = reference.conv_forward(*inputs)[0]
        return TimedCall(
            inputs,
            verify=lambda out: expect_array(
                expect_tuple(out, 2, "conv_forward", "runtime input")[0], expected, "Z", RUNTIME_CONV.describe
            ),
        )

    runtime("conv_forward", timed_call)
