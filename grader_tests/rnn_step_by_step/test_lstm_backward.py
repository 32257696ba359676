import pytest
from cases import (
    BACKWARD_CASES,
    LSTM,
    backward_timed_call,
    check_backward,
    check_backward_numerically,
)

pytestmark = pytest.mark.graded("lstm_backward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", BACKWARD_CASES, ids=lambda case: case.id)
def test_gradients(student, reference, case):
    check_backward(student, reference, LSTM, case, dh_seed=case.seed + 8)


@pytest.mark.points(2)
def test_loss_on_the_last_step_only(student, reference):
    check_backward(student, reference, LSTM, BACKWARD_CASES[1], dh_seed=129, last_step_only=True)


@pytest.mark.points(4)
def test_matches_numeric_gradient(student, reference, cached):
    check_backward_numerically(student, reference, cached, LSTM, dh_seed=168)


@pytest.mark.runtime
@pytest.mark.points(4)
def test_runtime(runtime, reference):
    runtime("lstm_backward", backward_timed_call(reference, LSTM))
