"""Hidden tests of rnn_step_backward and lstm_step_backward, one time step backward. The tests of
the gradients and the numeric gradient check run for both functions alike, parametrized over the
layer (the RNN's gradients on every step case, the LSTM's on the first three); the LSTM alone is
also tested with an upstream gradient on one of its two states only."""

import pytest
from cases import (
    LSTM,
    RNN,
    STEP_CASES,
    check_step_backward,
    check_step_backward_numerically,
    layers,
)

# The seed of each layer's upstream gradients in test_matches_numeric_gradient.
NUMERIC_SEED = {RNN: 67, LSTM: 68}


@layers("step_backward", 2, 2, cases={RNN: STEP_CASES, LSTM: STEP_CASES[:3]})
def test_gradients(student, reference, diagnosis, layer, case):
    check_step_backward(student, reference, layer, case, upstream_seed=case.seed + 7, diagnosis=diagnosis)


@pytest.mark.graded("lstm_step_backward")
@pytest.mark.points(2)
def test_gradient_on_the_cell_state_only(student, reference):
    check_step_backward(student, reference, LSTM, STEP_CASES[3], upstream_seed=48, zero="dnext_h")


@pytest.mark.graded("lstm_step_backward")
@pytest.mark.points(2)
def test_gradient_on_the_hidden_state_only(student, reference):
    check_step_backward(student, reference, LSTM, STEP_CASES[3], upstream_seed=49, zero="dnext_c")


@layers("step_backward", 4, 4)
def test_matches_numeric_gradient(student, reference, cached, layer):
    check_step_backward_numerically(student, reference, cached, layer, upstream_seed=NUMERIC_SEED[layer])
