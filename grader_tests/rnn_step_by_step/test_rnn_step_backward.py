import numpy as np
import pytest
from rnn_cases import (
    NUMERIC_STEP,
    STEP_CASES,
    call_backward,
    expect_gradient,
    expect_gradients,
    normal,
    numeric_gradient,
)

pytestmark = pytest.mark.graded("rnn_step_backward")

NAMES = ("dx", "dprev_h", "dWx", "dWh", "db")


@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES, ids=lambda case: case.id)
def test_gradients(student, reference, case):
    next_h, cache = reference.rnn_step_forward(*case.rnn_inputs())
    dnext_h = normal(case.seed + 7, *next_h.shape)
    got = call_backward(student, "rnn_step_backward", (dnext_h, cache), 5, case.describe)
    expect_gradients(got, reference.rnn_step_backward(dnext_h, cache), NAMES, case.describe)


@pytest.mark.points(4)
def test_matches_numeric_gradient(student, reference, cached):
    case = NUMERIC_STEP
    inputs = case.rnn_inputs()
    next_h, cache = reference.rnn_step_forward(*inputs)
    dnext_h = normal(67, *next_h.shape)
    got = call_backward(student, "rnn_step_backward", (dnext_h, cache), 5, case.describe)

    def loss():
        return float(np.sum(reference.rnn_step_forward(*inputs)[0] * dnext_h))

    for name, actual, array in zip(NAMES, got, inputs):
        expect_gradient(actual, cached(numeric_gradient, loss, array), name, case.describe)
