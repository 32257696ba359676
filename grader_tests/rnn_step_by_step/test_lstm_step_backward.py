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

pytestmark = pytest.mark.graded("lstm_step_backward")

NAMES = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")


def run(student, reference, case, seed, h_scale=1.0, c_scale=1.0):
    inputs = case.lstm_inputs()
    next_h, next_c, cache = reference.lstm_step_forward(*inputs)
    dnext_h, dnext_c = (
        normal(seed, *next_h.shape, scale=h_scale),
        normal(seed + 1, *next_c.shape, scale=c_scale),
    )
    got = call_backward(student, "lstm_step_backward", (dnext_h, dnext_c, cache), 6, case.describe)
    return got, inputs, (dnext_h, dnext_c, cache)


@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES[:3], ids=lambda case: case.id)
def test_gradients(student, reference, case):
    got, _, arguments = run(student, reference, case, case.seed + 7)
    expect_gradients(got, reference.lstm_step_backward(*arguments), NAMES, case.describe)


@pytest.mark.points(2)
def test_gradient_on_the_cell_state_only(student, reference):
    case = STEP_CASES[3]
    got, _, arguments = run(student, reference, case, 48, h_scale=0.0)
    expect_gradients(got, reference.lstm_step_backward(*arguments), NAMES, f"{case.describe} and dnext_h = 0")


@pytest.mark.points(2)
def test_gradient_on_the_hidden_state_only(student, reference):
    case = STEP_CASES[3]
    got, _, arguments = run(student, reference, case, 49, c_scale=0.0)
    expect_gradients(got, reference.lstm_step_backward(*arguments), NAMES, f"{case.describe} and dnext_c = 0")


@pytest.mark.points(4)
def test_matches_numeric_gradient(student, reference, cached):
    case = NUMERIC_STEP
    got, inputs, (dnext_h, dnext_c, _) = run(student, reference, case, 68)

    def loss():
        next_h, next_c, _ = reference.lstm_step_forward(*inputs)
        return float(np.sum(next_h * dnext_h) + np.sum(next_c * dnext_c))

    for name, actual, array in zip(NAMES, got, inputs):
        expect_gradient(actual, cached(numeric_gradient, loss, array), name, case.describe)
