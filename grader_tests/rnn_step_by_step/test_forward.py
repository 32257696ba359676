"""Hidden tests of rnn_forward and lstm_forward, a whole sequence forward: every test runs for both
functions alike, parametrized over the layer, and the test of the cache draws dh from each layer's
own seed."""

import pytest
from cases import (
    FORWARD_CASES,
    LSTM,
    RNN,
    SEQUENCE_CASES,
    check_cache_with_reference_backward,
    check_forward_h,
    forward_timed_call,
    layers,
)

# The seed of each layer's dh in test_cache_works_with_the_reference_backward.
DH_SEED = {RNN: 147, LSTM: 148}


@layers("forward", 2, 2, cases=FORWARD_CASES)
def test_h(student, reference, diagnosis, layer, case):
    check_forward_h(student, reference, layer, case, diagnosis=diagnosis)


@layers("forward", 2, 2)
def test_cache_works_with_the_reference_backward(student, reference, layer):
    check_cache_with_reference_backward(student, reference, layer, SEQUENCE_CASES[3], dh_seed=DH_SEED[layer])


@pytest.mark.runtime
@layers("forward", 4, 4)
def test_runtime(runtime, reference, layer):
    runtime(layer.forward, forward_timed_call(reference, layer))
