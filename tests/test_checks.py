"""The hidden tests' comparisons and timed inputs.

A result must have the reference's dtype where that is float64 or bool, and the message says what
was expected and what came back. Every runtime test draws every value of its timed inputs from the
generator it is given.
"""

import importlib.util

import numpy as np
import pytest
from helpers import assignment as by_name

from autograder.checks import Mismatch, expect_array, expect_scalar, expect_tuple
from autograder.pytest_plugin import MARKERS, use_hidden_tests
from autograder.reference import load_reference


def rnn_cases():
    path = by_name("rnn_step_by_step").tests_dir / "cases.py"
    spec = importlib.util.spec_from_file_location("rnn_cases_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPECTED = np.linspace(-1.0, 1.0, 6).reshape(2, 3)


@pytest.mark.parametrize("dtype", ["<f8", ">f8"])
def test_float64_passes_in_either_byte_order(dtype):
    expect_array(EXPECTED.astype(dtype), EXPECTED, "Z", "case")


def test_float32_fails_although_within_the_tolerance():
    close = EXPECTED.astype(np.float32)
    assert np.allclose(close, EXPECTED, rtol=1e-6, atol=1e-8)
    with pytest.raises(Mismatch) as error:
        expect_array(close, EXPECTED, "Z", "case")
    assert str(error.value) == (
        "case: Z has dtype float32 but should be float64 (keep float64: float32 loses precision)"
    )


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int64, np.int32, np.uint8, bool])
def test_every_other_real_dtype_fails_against_float64(dtype):
    with pytest.raises(Mismatch, match=f"Z has dtype {np.dtype(dtype)} but should be float64"):
        expect_array(np.zeros((2, 3), dtype=dtype), np.zeros((2, 3)), "Z", "case")


def test_the_shape_is_checked_before_the_dtype():
    with pytest.raises(Mismatch, match=r"shape \(3, 2\) but should have shape \(2, 3\)"):
        expect_array(np.zeros((3, 2), dtype=np.float32), EXPECTED, "Z", "case")


MASK = np.array([[False, True], [False, False]])


def test_a_bool_mask_passes_and_a_wrong_one_says_where():
    expect_array(MASK.copy(), MASK, "mask", "case")
    with pytest.raises(Mismatch, match="mask is wrong at 1 of 4 positions"):
        expect_array(np.zeros_like(MASK), MASK, "mask", "case")


@pytest.mark.parametrize("dtype", [np.int64, np.float64, np.uint8])
def test_a_mask_of_0_and_1_numbers_fails_saying_bool_was_expected(dtype):
    with pytest.raises(Mismatch) as error:
        expect_array(MASK.astype(dtype), MASK, "mask", "case")
    assert str(error.value) == (
        f"case: mask has dtype {np.dtype(dtype)} but should be bool "
        "(True and False, such as the result of a comparison)"
    )


@pytest.mark.parametrize(
    "value",
    [0.5, np.float64(0.5), np.array(0.5), np.full((1, 1, 1), 0.5), np.array([0.5], dtype=">f8")],
    ids=["float", "np.float64", "0-d array", "(1, 1, 1) array", "big-endian"],
)
def test_float64_scalars_pass(value):
    expect_scalar(value, 0.5, "Z", "case")


@pytest.mark.parametrize(
    "value, dtype",
    [(np.float32(0.5), "float32"), (np.array(0.5, dtype=np.float32), "float32"), (1, "int64")],
    ids=["np.float32", "float32 0-d array", "int"],
)
def test_other_scalars_fail_naming_both_dtypes(value, dtype):
    with pytest.raises(Mismatch, match=f"case: Z has dtype {dtype} but should be float64"):
        expect_scalar(value, float(value), "Z", "case")


def test_a_float64_scalar_still_needs_the_right_value():
    with pytest.raises(Mismatch, match="differs from the expected value"):
        expect_scalar(0.6, 0.5, "Z", "case")


def test_rnn_gradients_must_be_float64_too():
    cases = rnn_cases()
    numeric = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    cases.expect_gradient(numeric.copy(), numeric, "dx", "case")
    with pytest.raises(Mismatch, match="dx has dtype float32 but should be float64"):
        cases.expect_gradient(numeric.astype(np.float32), numeric, "dx", "case")


# ---------------------------------------------------------------- the runtime tests' timed inputs


def arrays(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from arrays(item)


class TimedInputs:
    """Runs only the runtime tests; their `runtime` fixture records what make_call gives."""

    def __init__(self, reference):
        self._reference = reference
        self.calls = {}  # test id -> (name, make_call)

    def pytest_configure(self, config):
        for marker in MARKERS:
            config.addinivalue_line("markers", marker)

    @pytest.fixture
    def reference(self):
        return self._reference

    @pytest.fixture
    def runtime(self, request):
        return lambda name, make_call: self.calls.setdefault(request.node.nodeid, (name, make_call))


@pytest.mark.parametrize("assignment, count", [("conv_step_by_step", 6), ("rnn_step_by_step", 4)])
def test_every_timed_input_is_drawn_from_the_generator(assignment, count):
    tests = by_name(assignment).tests_dir
    plugin = TimedInputs(load_reference(by_name(assignment)))
    use_hidden_tests(tests, fresh=True)
    args = [str(tests), "-c", str(tests / "pytest.ini"), "--rootdir", str(tests), "-m", "runtime"]
    args += ["--import-mode=importlib", "-p", "no:cacheprovider", "-q"]
    assert pytest.main(args, plugins=[plugin]) == pytest.ExitCode.OK
    assert len(plugin.calls) == count
    for test, (name, make_call) in plugin.calls.items():
        first, again, other = (make_call(np.random.default_rng(seed)) for seed in (1, 1, 2))
        for a, b, c in zip(arrays(first.args), arrays(again.args), arrays(other.args), strict=True):
            assert np.array_equal(a, b), f"{test}: the same generator gave other inputs"
            if np.ptp(a) > 0:  # not a constant (the LSTM's initial cell state is zero)
                assert not np.any(a == c), f"{test}: an input not drawn from the generator"
        first.verify(getattr(plugin._reference, name)(*first.args, **first.kwargs))
        with pytest.raises(Mismatch):
            first.verify(getattr(plugin._reference, name)(*other.args, **other.kwargs))


@pytest.mark.parametrize("shape", [(0, 3455841920, 8216), (0,) + (3455841,) * 2 + (1,) * 20, (1,) * 20])
def test_a_results_shape_cannot_carry_data_into_the_feedback(shape):
    value = np.empty(shape)
    for check in (
        lambda: expect_array(value, np.zeros((2, 3)), "Z", "case"),
        lambda: expect_tuple(value, 2, "f", "case"),
    ):
        with pytest.raises(Mismatch) as raised:
            check()
        message = str(raised.value)
        assert "3455841" not in message and len(message) < 200, message
        assert f"a shape of {len(shape)} dimensions" in message
