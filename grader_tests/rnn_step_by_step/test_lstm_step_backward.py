import pytest
from cases import LSTM, STEP_CASES, check_step_backward, check_step_backward_numerically

pytestmark = pytest.mark.graded("lstm_step_backward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES[:3], ids=lambda case: case.id)
def test_gradients(student, reference, case):
    check_step_backward(student, reference, LSTM, case, upstream_seed=case.seed + 7)


@pytest.mark.points(2)
def test_gradient_on_the_cell_state_only(student, reference):
    check_step_backward(student, reference, LSTM, STEP_CASES[3], upstream_seed=48, zero="dnext_h")


@pytest.mark.points(2)
def test_gradient_on_the_hidden_state_only(student, reference):
    check_step_backward(student, reference, LSTM, STEP_CASES[3], upstream_seed=49, zero="dnext_c")


@pytest.mark.points(4)
def test_matches_numeric_gradient(student, reference, cached):
    check_step_backward_numerically(student, reference, cached, LSTM, upstream_seed=68)
