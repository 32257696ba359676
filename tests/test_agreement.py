"""The reference of each assignment agrees with its independent instructor/plain_loops.py on random
inputs (autograder/agreement.py), and a deliberately broken reference is reported, naming the
function and the shapes and hyperparameters of a small input that shows the bug."""

import sys
import types

import numpy as np
import pytest
from helpers import assignment

from autograder.agreement import NO_HYPOTHESIS, NO_PLAIN_LOOPS, check_agreement
from autograder.course import Assignment
from autograder.reference import load_reference

CONV, RNN = assignment("conv_step_by_step"), assignment("rnn_step_by_step")


@pytest.fixture(scope="module")
def rnn_reference():
    return load_reference(RNN)


def broken(reference: types.SimpleNamespace, **replacements) -> types.SimpleNamespace:
    """A copy of the reference namespace with some functions replaced."""
    return types.SimpleNamespace(**{**vars(reference), **replacements})


@pytest.mark.slow
@pytest.mark.parametrize("course_assignment", [CONV, RNN], ids=lambda a: a.name)
def test_the_reference_agrees_with_the_plain_loops(course_assignment):
    assert check_agreement(course_assignment, examples=30) == []


def test_a_flipped_kernel_is_reported(conv_reference):
    def flipped(A_prev, W, b, hparameters):
        Z, _ = conv_reference.conv_forward(A_prev, W[::-1, ::-1], b, hparameters)
        return Z, (A_prev, W, b, hparameters)

    reference = broken(conv_reference, conv_forward=flipped)
    [problem] = check_agreement(CONV, examples=20, reference=reference, functions=["conv_forward"])
    assert problem.startswith("conv_forward: the reference and instructor/plain_loops.py disagree on ")
    assert "A_prev (" in problem
    assert "W (2, 2, " in problem  # the smallest kernel a flip changes
    assert "pad 0" in problem and ": Z differs at " in problem


def test_a_dropped_stride_is_reported_with_the_stride_and_pad(conv_reference):
    def stride_one(A_prev, W, b, hparameters):
        Z, _ = conv_reference.conv_forward(A_prev, W, b, {**hparameters, "stride": 1})
        return Z, (A_prev, W, b, hparameters)

    reference = broken(conv_reference, conv_forward=stride_one)
    [problem] = check_agreement(CONV, examples=20, reference=reference, functions=["conv_forward"])
    assert problem.startswith("conv_forward: ")
    assert "stride 2, pad 0" in problem and ": Z has shape " in problem


def test_pool_backward_ignoring_the_stride_is_reported(conv_reference):
    def stride_one(dA, cache, mode="max"):
        A_prev, hparameters = cache
        return conv_reference.pool_backward(dA, (A_prev, {**hparameters, "stride": 1}), mode=mode)

    reference = broken(conv_reference, pool_backward=stride_one)
    [problem] = check_agreement(CONV, examples=20, reference=reference, functions=["pool_backward"])
    assert problem.startswith("pool_backward: ")
    assert "stride 2, mode " in problem and ": dA_prev differs at " in problem


def test_a_wrong_dtype_is_reported(conv_reference):
    def integer_mask(x):
        return conv_reference.create_mask_from_window(x).astype(np.int64)

    reference = broken(conv_reference, create_mask_from_window=integer_mask)
    [problem] = check_agreement(CONV, examples=5, reference=reference, functions=["create_mask_from_window"])
    assert problem.endswith("mask is int64 in the reference, bool in the plain loops")


def test_lstm_backward_without_the_cell_gradient_is_reported(rnn_reference):
    def no_cell_gradient(dnext_h, dnext_c, cache):
        return rnn_reference.lstm_step_backward(dnext_h, np.zeros_like(dnext_c), cache)

    reference = broken(rnn_reference, lstm_step_backward=no_cell_gradient)
    [problem] = check_agreement(RNN, examples=20, reference=reference, functions=["lstm_step_backward"])
    assert problem.startswith("lstm_step_backward: the reference and instructor/plain_loops.py disagree on ")
    assert "dnext_c (" in problem and "next_c (" in problem and " differs at " in problem


def test_a_wrong_cache_is_reported_by_its_field(rnn_reference):
    def swapped_gates(*args):
        next_h, next_c, cache = rnn_reference.lstm_step_forward(*args)
        x, prev_h, prev_c, Wx, Wh, i, f, o, g, c = cache
        return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, f, i, o, g, c)

    reference = broken(rnn_reference, lstm_step_forward=swapped_gates)
    [problem] = check_agreement(RNN, examples=20, reference=reference, functions=["lstm_step_forward"])
    assert ": cache.i differs at " in problem


def test_a_function_that_raises_is_reported(rnn_reference):
    def unfinished(*args):
        raise NotImplementedError("todo")

    reference = broken(rnn_reference, rnn_forward=unfinished)
    [problem] = check_agreement(RNN, examples=5, reference=reference, functions=["rnn_forward"])
    assert problem.startswith("rnn_forward: ") and "the reference raises NotImplementedError: todo" in problem


def test_a_graded_function_without_inputs_is_reported(rnn_reference):
    reference = broken(rnn_reference, gru_step_forward=lambda *args: None)
    problems = check_agreement(RNN, reference=reference, functions=["gru_step_forward", "no_such_function"])
    assert problems == [
        "no_such_function: no graded function of that name",
        "gru_step_forward: not in the INPUTS of instructor/plain_loops.py, so the reference's "
        "gru_step_forward is compared with nothing",
    ]


def test_an_assignment_without_plain_loops_is_a_problem_unless_not_required(tmp_path):
    scaffolded = Assignment(tmp_path, "fresh")
    assert check_agreement(scaffolded) == [NO_PLAIN_LOOPS]
    assert check_agreement(scaffolded, required=False) == []


def test_without_hypothesis_the_check_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # `import hypothesis` raises ImportError
    assert check_agreement(CONV) == [NO_HYPOTHESIS]
