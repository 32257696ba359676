import numpy as np
import pytest
from rnn_cases import (
    BACKWARD_CASES,
    NUMERIC_SEQUENCE,
    RUNTIME_CASE,
    call_backward,
    expect_gradient,
    expect_gradients,
    normal,
    numeric_gradient,
)

from autograder.checks import expect_tuple
from autograder.runtime import TimedCall

pytestmark = pytest.mark.graded("rnn_backward")

NAMES = ("dx", "dh0", "dWx", "dWh", "db")


def run(student, reference, case, dh_seed, last_step_only=False):
    inputs = case.rnn_inputs()
    h, cache = reference.rnn_forward(*inputs)
    dh = normal(dh_seed, *h.shape)
    if last_step_only:
        dh[:, :-1, :] = 0.0
    got = call_backward(student, "rnn_backward", (dh, cache), 5, case.describe)
    return got, inputs, cache, dh


@pytest.mark.points(2)
@pytest.mark.parametrize("case", BACKWARD_CASES, ids=lambda case: case.id)
def test_gradients(student, reference, case):
    got, _, cache, dh = run(student, reference, case, case.seed + 7)
    expect_gradients(got, reference.rnn_backward(dh, cache), NAMES, case.describe)


@pytest.mark.points(2)
def test_loss_on_the_last_step_only(student, reference):
    case = BACKWARD_CASES[1]
    got, _, cache, dh = run(student, reference, case, 128, last_step_only=True)
    expect_gradients(
        got, reference.rnn_backward(dh, cache), NAMES, f"{case.describe}, dh zero but at the last step"
    )


@pytest.mark.points(3)
def test_matches_numeric_gradient(student, reference, cached):
    case = NUMERIC_SEQUENCE
    got, inputs, _, dh = run(student, reference, case, 167)

    def loss():
        return float(np.sum(reference.rnn_forward(*inputs)[0] * dh))

    for name, actual, array in zip(NAMES, got, inputs):
        expect_gradient(actual, cached(numeric_gradient, loss, array), name, case.describe)


@pytest.mark.runtime
@pytest.mark.points(3)
def test_runtime(runtime, reference):
    def timed_call(run):
        case = RUNTIME_CASE.timed_run(run)
        h, cache = reference.rnn_forward(*case.rnn_inputs())
        dh = normal(case.seed + 10, *h.shape)
        expected = reference.rnn_backward(dh, cache)

        def verify(out):
            expect_gradients(expect_tuple(out, 5, "rnn_backward", "runtime"), expected, NAMES, case.describe)

        return TimedCall((dh, cache), verify=verify)

    runtime("rnn_backward", timed_call)
