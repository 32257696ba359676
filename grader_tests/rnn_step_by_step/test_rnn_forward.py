import pytest
from cases import (
    FORWARD_CASES,
    RNN,
    SEQUENCE_CASES,
    check_cache_with_reference_backward,
    check_forward_h,
    forward_timed_call,
)

pytestmark = pytest.mark.graded("rnn_forward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", FORWARD_CASES, ids=lambda case: case.id)
def test_h(student, reference, case):
    check_forward_h(student, reference, RNN, case)


@pytest.mark.points(2)
def test_cache_works_with_the_reference_backward(student, reference):
    check_cache_with_reference_backward(student, reference, RNN, SEQUENCE_CASES[3], dh_seed=147)


@pytest.mark.runtime
@pytest.mark.points(4)
def test_runtime(runtime, reference):
    runtime("rnn_forward", forward_timed_call(reference, RNN))
