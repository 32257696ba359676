"""Comparisons for hidden tests whose failure messages name the case, never the hidden data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder import testkit
from autograder.testkit import rel_error

__all__ = [
    "Mismatch",
    "describe",
    "expect_array",
    "expect_dtype",
    "expect_scalar",
    "expect_tuple",
    "length_text",
    "numeric_gradient",
    "rel_error",
    "shape_text",
]


class Mismatch(AssertionError):
    """A student's result is wrong; the message is the feedback the student reads."""


# What a message may repeat of a student's result: the sizes of a plausible array, the length of a
# plausible tuple. Anything larger is described, not quoted, so a result cannot carry data out in
# its shape (an empty array may have 64 dimensions of any size).
SHOWN_DIMENSIONS = 8
SHOWN_SIZE = 100_000


def shape_text(shape: tuple) -> str:
    """A student's array shape as feedback may show it."""
    if len(shape) <= SHOWN_DIMENSIONS and all(0 <= n < SHOWN_SIZE for n in shape):
        return str(tuple(int(n) for n in shape))
    return f"a shape of {len(shape)} dimensions"


def length_text(length: int) -> str:
    return str(length) if length < SHOWN_SIZE else "a very large number of"


def expect_tuple(value: Any, length: int, what: str, case: str) -> tuple:
    if not isinstance(value, tuple | list) or len(value) != length:
        raise Mismatch(f"{case}: {what} should return a tuple of {length} values, got {describe(value)}")
    return tuple(value)


def expect_array(
    actual: Any, expected: np.ndarray, what: str, case: str, rtol: float = 1e-6, atol: float = 1e-8
) -> None:
    """Full-array comparison: type, then shape, then dtype, then every value."""
    if not isinstance(actual, np.ndarray):
        raise Mismatch(f"{case}: {what} should be a numpy array, got {describe(actual)}")
    if actual.shape != expected.shape:
        got = shape_text(actual.shape)
        raise Mismatch(f"{case}: {what} has shape {got} but should have shape {expected.shape}")
    if actual.dtype.kind not in "biuf":
        raise Mismatch(f"{case}: {what} should hold real numbers, got dtype {actual.dtype}")
    expect_dtype(actual.dtype, expected.dtype, what, case)
    if expected.dtype.kind == "b":
        wrong = int(np.count_nonzero(actual != expected))
        if wrong:
            raise Mismatch(f"{case}: {what} is wrong at {wrong} of {expected.size} positions")
        return
    actual = actual.astype(float)
    if not np.all(np.isfinite(actual)):
        raise Mismatch(f"{case}: {what} contains NaN or infinity")
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        error = float(np.max(np.abs(actual - expected)))
        wrong = int(np.count_nonzero(~np.isclose(actual, expected, rtol=rtol, atol=atol)))
        raise Mismatch(
            f"{case}: {what} values differ at {wrong} of {expected.size} positions, max abs error {error:.3g}"
        )


def expect_scalar(actual: Any, expected: float, what: str, case: str, rtol: float = 1e-6) -> None:
    """One number (a Python or numpy scalar, or an array holding one), of the expected's dtype."""
    array = np.asarray(actual) if isinstance(actual, int | float | np.generic | np.ndarray) else None
    if array is None or array.size != 1 or array.dtype.kind not in "iuf":
        raise Mismatch(f"{case}: {what} should be a single number, got {describe(actual)}")
    expect_dtype(array.dtype, np.asarray(expected).dtype, what, case)
    value = float(array.reshape(()))
    if not np.isclose(value, expected, rtol=rtol, atol=1e-9):
        raise Mismatch(f"{case}: {what} differs from the expected value by {abs(value - expected):.3g}")


def expect_dtype(actual: np.dtype, expected: np.dtype, what: str, case: str) -> None:
    """Where the reference's result is float64 or bool, a student's must be too (in any byte
    order): a float32 result passes a tolerance with a fraction of the precision asked for."""
    actual, expected = np.dtype(actual).newbyteorder("="), np.dtype(expected).newbyteorder("=")
    if expected not in (np.float64, np.bool_) or actual == expected:
        return
    if expected == np.bool_:
        hint = " (True and False, such as the result of a comparison)"
    elif actual.kind == "f" and actual.itemsize < expected.itemsize:
        hint = f" (keep float64: {actual} loses precision)"
    else:
        hint = ""
    raise Mismatch(f"{case}: {what} has dtype {actual} but should be {expected}{hint}")


def numeric_gradient(loss: Callable[[], float], array: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Centred differences of a scalar function of `array`, one element at a time (in place,
    restored after each element): the student kit's numeric gradient, of the loss itself."""
    return testkit.numeric_gradient(loss, array, 1.0, step)


def describe(value: Any) -> str:
    """A short, data-free description of a returned value."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {shape_text(value.shape)} and dtype {value.dtype}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of length {length_text(len(value))}"
    return f"a {type(value).__name__}"
