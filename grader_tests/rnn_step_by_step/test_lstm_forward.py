import pytest
from rnn_cases import FORWARD_CASES, LSTM_CACHE, RUNTIME_CASE, SEQUENCE_CASES, expect_sequence_cache, normal

from autograder.checks import expect_array, expect_tuple
from autograder.runtime import TimedCall

pytestmark = pytest.mark.graded("lstm_forward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", FORWARD_CASES, ids=lambda case: case.id)
def test_h(student, reference, case):
    inputs = case.lstm_inputs()
    h, _ = expect_tuple(student.lstm_forward(*inputs), 2, "lstm_forward", case.describe)
    expect_array(h, reference.lstm_forward(*inputs)[0], "h", case.describe)


@pytest.mark.points(2)
def test_cache_works_with_the_reference_backward(student, reference):
    case = SEQUENCE_CASES[3]
    inputs = case.lstm_inputs()
    h, expected_cache = reference.lstm_forward(*inputs)
    _, cache = expect_tuple(student.lstm_forward(*inputs), 2, "lstm_forward", case.describe)
    cache = expect_sequence_cache(cache, expected_cache, LSTM_CACHE, case.describe)
    dh = normal(148, *h.shape)
    describe = f"{case.describe}, the reference lstm_backward given your cache"
    for name, got, wanted in zip(
        ["dx", "dh0", "dWx", "dWh", "db"],
        reference.lstm_backward(dh, cache),
        reference.lstm_backward(dh, expected_cache),
    ):
        expect_array(got, wanted, name, describe + " (cache[t] must be the step cache of time step t)")


@pytest.mark.runtime
@pytest.mark.points(4)
def test_runtime(runtime, reference):
    def timed_call(run):
        case = RUNTIME_CASE.timed_run(run)
        inputs = case.lstm_inputs()
        expected = reference.lstm_forward(*inputs)[0]
        return TimedCall(
            inputs,
            verify=lambda out: expect_array(
                expect_tuple(out, 2, "lstm_forward", "runtime input")[0], expected, "h", case.describe
            ),
        )

    runtime("lstm_forward", timed_call)
