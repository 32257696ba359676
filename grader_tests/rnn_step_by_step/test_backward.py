"""Hidden tests of rnn_backward and lstm_backward, a whole sequence backward: every test runs for
both functions alike, parametrized over the layer, with dh drawn from each layer's own seeds; the
numeric gradient check and the runtime test are worth more for the LSTM."""

import pytest
from cases import (
    BACKWARD_CASES,
    LSTM,
    RNN,
    backward_timed_call,
    check_backward,
    check_backward_numerically,
    layers,
)

# Each layer's seeds of dh: in test_gradients a case's seed plus `offset`, in the other tests one seed.
SEEDS = {
    RNN: {"offset": 7, "last_step_only": 128, "numeric": 167},
    LSTM: {"offset": 8, "last_step_only": 129, "numeric": 168},
}


@layers("backward", 2, 2, cases=BACKWARD_CASES)
def test_gradients(student, reference, diagnosis, layer, case):
    check_backward(
        student, reference, layer, case, dh_seed=case.seed + SEEDS[layer]["offset"], diagnosis=diagnosis
    )


@layers("backward", 2, 2)
def test_loss_on_the_last_step_only(student, reference, layer):
    seed = SEEDS[layer]["last_step_only"]
    check_backward(student, reference, layer, BACKWARD_CASES[1], dh_seed=seed, last_step_only=True)


@layers("backward", 3, 4)
def test_matches_numeric_gradient(student, reference, cached, layer):
    check_backward_numerically(student, reference, cached, layer, dh_seed=SEEDS[layer]["numeric"])


@pytest.mark.runtime
@layers("backward", 3, 4)
def test_runtime(runtime, reference, layer):
    runtime(layer.backward, backward_timed_call(reference, layer))
