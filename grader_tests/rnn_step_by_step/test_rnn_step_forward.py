import pytest
from rnn_cases import RNN_CACHE, STEP_CASES, expect_step_cache, normal

from autograder.checks import expect_array, expect_tuple

pytestmark = pytest.mark.graded("rnn_step_forward")


def check_next_h(student, reference, case, inputs):
    """next_h against the reference's; returns the student's cache."""
    next_h, cache = expect_tuple(student.rnn_step_forward(*inputs), 2, "rnn_step_forward", case.describe)
    expect_array(next_h, reference.rnn_step_forward(*inputs)[0], "next_h", case.describe)
    return cache


@pytest.mark.points(2)
@pytest.mark.parametrize("case", STEP_CASES[:3], ids=lambda case: case.id)
def test_next_h(student, reference, case):
    check_next_h(student, reference, case, case.rnn_inputs())


@pytest.mark.points(2)
def test_cache_holds_the_inputs_unchanged(student, reference):
    case = STEP_CASES[3]
    inputs = case.rnn_inputs()
    cache = check_next_h(student, reference, case, inputs)
    cache = expect_step_cache(cache, reference.rnn_step_forward(*inputs)[1], RNN_CACHE, case.describe)
    for name, got, sent in zip(RNN_CACHE[:4], cache, inputs):
        expect_array(
            got,
            sent,
            f"the cache's {name}",
            f"{case.describe} (the cache must hold the {name} passed in, unchanged)",
        )


@pytest.mark.points(2)
def test_cache_works_with_the_reference_backward(student, reference):
    case = STEP_CASES[3]
    inputs = case.rnn_inputs()
    next_h, expected_cache = reference.rnn_step_forward(*inputs)
    cache = expect_step_cache(
        check_next_h(student, reference, case, inputs), expected_cache, RNN_CACHE, case.describe
    )
    dnext_h = normal(45, *next_h.shape)
    describe = f"{case.describe}, the reference rnn_step_backward given your cache"
    for name, got, wanted in zip(
        ["dx", "dprev_h", "dWx", "dWh", "db"],
        reference.rnn_step_backward(dnext_h, cache),
        reference.rnn_step_backward(dnext_h, expected_cache),
    ):
        expect_array(got, wanted, name, describe)
