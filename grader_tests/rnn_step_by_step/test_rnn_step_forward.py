import pytest
from cases import (
    RNN,
    STEP_CASES,
    check_step_cache_holds_the_inputs,
    check_step_cache_with_reference_backward,
    check_step_forward,
)

pytestmark = pytest.mark.graded("rnn_step_forward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES[:3], ids=lambda case: case.id)
def test_next_h(student, reference, case):
    check_step_forward(student, reference, RNN, case)


@pytest.mark.points(2)
def test_cache_holds_the_inputs_unchanged(student, reference):
    check_step_cache_holds_the_inputs(student, reference, RNN, STEP_CASES[3])


@pytest.mark.points(2)
def test_cache_works_with_the_reference_backward(student, reference):
    check_step_cache_with_reference_backward(student, reference, RNN, STEP_CASES[3], upstream_seed=45)
