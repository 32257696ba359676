"""Hidden tests of rnn_step_forward and lstm_step_forward, one time step forward. The RNN's next_h
and the LSTM's next_h and next_c each have their own test; the tests of the cache run for both
functions alike, parametrized over the layer, and draw their upstream gradients from each layer's
own seed."""

import pytest
from cases import (
    LSTM,
    RNN,
    STEP_CASES,
    check_step_cache_holds_the_inputs,
    check_step_cache_with_reference_backward,
    check_step_forward,
    layers,
)

# The seed of each layer's upstream gradients in test_cache_works_with_the_reference_backward.
UPSTREAM_SEED = {RNN: 45, LSTM: 46}


@pytest.mark.graded("rnn_step_forward")
@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES[:3], ids=lambda case: case.id)
def test_next_h(student, reference, diagnosis, case):
    check_step_forward(student, reference, RNN, case, diagnosis=diagnosis)


@pytest.mark.graded("lstm_step_forward")
@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES[:3], ids=lambda case: case.id)
def test_next_h_and_next_c(student, reference, diagnosis, case):
    check_step_forward(student, reference, LSTM, case, diagnosis=diagnosis)


@layers("step_forward", 2, 2)
def test_cache_holds_the_inputs_unchanged(student, reference, layer):
    check_step_cache_holds_the_inputs(student, reference, layer, STEP_CASES[3])


@layers("step_forward", 2, 2)
def test_cache_works_with_the_reference_backward(student, reference, layer):
    check_step_cache_with_reference_backward(
        student, reference, layer, STEP_CASES[3], upstream_seed=UPSTREAM_SEED[layer]
    )
