import pytest
from cases import (
    FORWARD_CASES,
    LSTM,
    SEQUENCE_CASES,
    check_cache_with_reference_backward,
    check_forward_h,
    forward_timed_call,
)

pytestmark = pytest.mark.graded("lstm_forward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", FORWARD_CASES, ids=lambda case: case.id)
def test_h(student, reference, case):
    check_forward_h(student, reference, LSTM, case)


@pytest.mark.points(2)
def test_cache_works_with_the_reference_backward(student, reference):
    check_cache_with_reference_backward(student, reference, LSTM, SEQUENCE_CASES[3], dh_seed=148)


@pytest.mark.runtime
@pytest.mark.points(4)
def test_runtime(runtime, reference):
    runtime("lstm_forward", forward_timed_call(reference, LSTM))
