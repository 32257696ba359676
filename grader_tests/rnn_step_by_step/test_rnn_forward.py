import pytest
from rnn_cases import FORWARD_CASES, RNN_CACHE, RUNTIME_CASE, SEQUENCE_CASES, expect_sequence_cache, normal

from autograder.checks import expect_array, expect_tuple
from autograder.runtime import TimedCall

pytestmark = pytest.mark.graded("rnn_forward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", FORWARD_CASES, ids=lambda case: case.id)
def test_h(student, reference, case):
    inputs = case.rnn_inputs()
    h, _ = expect_tuple(student.rnn_forward(*inputs), 2, "rnn_forward", case.describe)
    expect_array(h, reference.rnn_forward(*inputs)[0], "h", case.describe)


@pytest.mark.points(2)
def test_cache_works_with_the_reference_backward(student, reference):
    case = SEQUENCE_CASES[3]
    inputs = case.rnn_inputs()
    h, expected_cache = reference.rnn_forward(*inputs)
    _, cache = expect_tuple(student.rnn_forward(*inputs), 2, "rnn_forward", case.describe)
    cache = expect_sequence_cache(cache, expected_cache, RNN_CACHE, case.describe)
    dh = normal(147, *h.shape)
    describe = f"{case.describe}, the reference rnn_backward given your cache"
    for name, got, wanted in zip(
        ["dx", "dh0", "dWx", "dWh", "db"],
        reference.rnn_backward(dh, cache),
        reference.rnn_backward(dh, expected_cache),
    ):
        expect_array(got, wanted, name, describe + " (cache[t] must be the step cache of time step t)")


@pytest.mark.runtime
@pytest.mark.points(4)
def test_runtime(runtime, reference):
    def timed_call(run):
        case = RUNTIME_CASE.timed_run(run)
        inputs = case.rnn_inputs()
        expected = reference.rnn_forward(*inputs)[0]
        return TimedCall(
            inputs,
            verify=lambda out: expect_array(
                expect_tuple(out, 2, "rnn_forward", "runtime input")[0], expected, "h", case.describe
            ),
        )

    runtime("rnn_forward", timed_call)
