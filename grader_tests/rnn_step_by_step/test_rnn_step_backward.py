import pytest
from cases import RNN, STEP_CASES, check_step_backward, check_step_backward_numerically

pytestmark = pytest.mark.graded("rnn_step_backward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES, ids=lambda case: case.id)
def test_gradients(student, reference, case):
    check_step_backward(student, reference, RNN, case, upstream_seed=case.seed + 7)


@pytest.mark.points(4)
def test_matches_numeric_gradient(student, reference, cached):
    check_step_backward_numerically(student, reference, cached, RNN, upstream_seed=67)
