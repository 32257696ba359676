import pytest
from cases import (
    BACKWARD_CASES,
    RNN,
    backward_timed_call,
    check_backward,
    check_backward_numerically,
)

pytestmark = pytest.mark.graded("rnn_backward")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", BACKWARD_CASES, ids=lambda case: case.id)
def test_gradients(student, reference, case):
    check_backward(student, reference, RNN, case, dh_seed=case.seed + 7)


@pytest.mark.points(2)
def test_loss_on_the_last_step_only(student, reference):
    check_backward(student, reference, RNN, BACKWARD_CASES[1], dh_seed=128, last_step_only=True)


@pytest.mark.points(3)
def test_matches_numeric_gradient(student, reference, cached):
    check_backward_numerically(student, reference, cached, RNN, dh_seed=167)


@pytest.mark.runtime
@pytest.mark.points(3)
def test_runtime(runtime, reference):
    runtime("rnn_backward", backward_timed_call(reference, RNN))
