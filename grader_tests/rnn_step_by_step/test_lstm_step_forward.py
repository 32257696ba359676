import pytest
from rnn_cases import LSTM_CACHE, STEP_CASES, expect_step_cache, normal

from autograder.checks import expect_array, expect_tuple

pytestmark = pytest.mark.graded("lstm_step_forward")


def check_next_h_and_next_c(student, reference, case, inputs):
    """next_h and next_c against the reference's; returns the student's cache."""
    next_h, next_c, cache = expect_tuple(
        student.lstm_step_forward(*inputs), 3, "lstm_step_forward", case.describe
    )
    expected_h, expected_c, _ = reference.lstm_step_forward(*inputs)
    expect_array(next_h, expected_h, "next_h", case.describe)
    expect_array(next_c, expected_c, "next_c", case.describe)
    return cache


@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES[:3], ids=lambda case: case.id)
def test_next_h_and_next_c(student, reference, case):
    check_next_h_and_next_c(student, reference, case, case.lstm_inputs())


@pytest.mark.points(2)
def test_cache_holds_the_inputs_unchanged(student, reference):
    case = STEP_CASES[3]
    inputs = case.lstm_inputs()
    cache = check_next_h_and_next_c(student, reference, case, inputs)
    cache = expect_step_cache(cache, reference.lstm_step_forward(*inputs)[2], LSTM_CACHE, case.describe)
    for name, got, sent in zip(LSTM_CACHE[:5], cache, inputs):
        expect_array(
            got,
            sent,
            f"the cache's {name}",
            f"{case.describe} (the cache must hold the {name} passed in, unchanged)",
        )


@pytest.mark.points(2)
def test_cache_works_with_the_reference_backward(student, reference):
    case = STEP_CASES[3]
    inputs = case.lstm_inputs()
    next_h, next_c, expected_cache = reference.lstm_step_forward(*inputs)
    cache = check_next_h_and_next_c(student, reference, case, inputs)
    cache = expect_step_cache(cache, expected_cache, LSTM_CACHE, case.describe)
    dnext_h, dnext_c = normal(46, *next_h.shape), normal(47, *next_c.shape)
    describe = f"{case.describe}, the reference lstm_step_backward given your cache"
    for name, got, wanted in zip(
        ["dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"],
        reference.lstm_step_backward(dnext_h, dnext_c, cache),
        reference.lstm_step_backward(dnext_h, dnext_c, expected_cache),
    ):
        expect_array(got, wanted, name, describe)
