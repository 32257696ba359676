"""Comparisons for hidden tests whose failure messages name the case, never the hidden data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder import testkit
from autograder.testkit import pattern, position_text, recognised, rel_error

__all__ = [
    "Diagnoses",
    "Diagnosis",
    "Mismatch",
    "describe",
    "expect_array",
    "expect_arrays",
    "expect_dtype",
    "expect_scalar",
    "expect_tuple",
    "length_text",
    "numeric_gradient",
    "rel_error",
    "shape_text",
]


WRONG_SHAPE, WRONG_VALUES, WRONG_VALUE = "wrong shape", "wrong values", "wrong value"
COMPARISONS = {WRONG_SHAPE, WRONG_VALUES, WRONG_VALUE}  # the failures a known mistake may explain


class Mismatch(AssertionError):
    """A student's result is wrong; the message is the feedback the student reads. For the class
    report: `says`, the known mistake it names (if any), `category`, the kind of failure, and
    `ratio`, a runtime test's measured time as a multiple of the reference's."""

    def __init__(self, message: str = "", category: str = "", says: str = "", ratio: float | None = None):
        super().__init__(message)
        self.category, self.says, self.ratio = category, says, ratio

    @property
    def recognised(self) -> bool:
        return bool(self.says)


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


@dataclass
class Diagnosis:
    """What a wrong `output` of `function` on these inputs shows: a common mistake of the
    assignment's public_tests.py (each computed with the reference, only once a result is wrong),
    or a pattern of where it is right. Says nothing of the hidden values themselves."""

    misconceptions: tuple = ()
    axes: tuple = ()
    reference: Any = None
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def candidates(self):
        for misconception in self.misconceptions:
            args, kwargs = copy.deepcopy((self.args, self.kwargs))
            try:
                yield misconception.says, np.asarray(misconception.wrong(self.reference, *args, **kwargs))
            except Exception:  # a mistake that cannot happen on these inputs
                continue

    def explain(self, actual: np.ndarray, expected: np.ndarray) -> str:
        """'; <what it shows>' or ''."""
        says = recognised(actual, expected, self.candidates()) or pattern(actual, expected, self.axes)
        return f"; {says}" if says else ""

    def where(self, index: tuple) -> str:
        return position_text(index, self.axes) if self.axes else "position " + testkit.index_text(index)


NO_DIAGNOSIS = Diagnosis()


@dataclass
class Diagnoses:
    """The common mistakes and named axes of an assignment's functions, from its public_tests.py
    (the student's public tests recognise the same ones)."""

    misconceptions: tuple = ()
    functions: dict = field(default_factory=dict)  # name -> testkit.Function
    reference: Any = None

    def __call__(self, function: str, output: str, *args: Any, **kwargs: Any) -> Diagnosis:
        spec = self.functions.get(function)
        return Diagnosis(
            tuple(m for m in self.misconceptions if (m.function, m.output) == (function, output)),
            spec.axes.get(output, ()) if spec else (),
            self.reference,
            args,
            kwargs,
        )


def expect_tuple(value: Any, length: int, what: str, case: str) -> tuple:
    if not isinstance(value, tuple | list) or len(value) != length:
        raise Mismatch(
            f"{case}: {what} should return a tuple of {length} values, got {describe(value)}",
            "wrong return value",
        )
    return tuple(value)


def expect_array(
    actual: Any,
    expected: np.ndarray,
    what: str,
    case: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    diagnosis: Diagnosis = NO_DIAGNOSIS,
) -> None:
    """Full-array comparison: type, then shape, then dtype, then every value; `diagnosis` says
    what a wrong shape or wrong values show."""
    if not isinstance(actual, np.ndarray):
        raise Mismatch(f"{case}: {what} should be a numpy array, got {describe(actual)}", "not an array")
    if actual.shape != expected.shape:
        got = shape_text(actual.shape)
        raise _mismatch(
            f"{case}: {what} has shape {got} but should have shape {expected.shape}",
            diagnosis.explain(actual, expected),
            WRONG_SHAPE,
        )
    if actual.dtype.kind not in "biuf":
        raise Mismatch(f"{case}: {what} should hold real numbers, got dtype {actual.dtype}", "wrong dtype")
    expect_dtype(actual.dtype, expected.dtype, what, case)
    if expected.dtype.kind == "b":
        wrong = int(np.count_nonzero(actual != expected))
        if wrong:
            raise Mismatch(f"{case}: {what} is wrong at {wrong} of {expected.size} positions", WRONG_VALUES)
        return
    actual = actual.astype(float)
    if not np.all(np.isfinite(actual)):
        raise Mismatch(f"{case}: {what} contains NaN or infinity", "NaN or infinity")
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        error = float(np.max(np.abs(actual - expected)))
        wrong = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
        first = tuple(int(i) for i in np.argwhere(wrong)[0]) if expected.ndim else ()
        at = f", the first at {diagnosis.where(first)}" if first else ""
        raise _mismatch(
            f"{case}: {what} values differ at {int(np.count_nonzero(wrong))} of {expected.size} positions"
            f"{at}, max abs error {error:.3g}",
            diagnosis.explain(actual, expected),
            WRONG_VALUES,
        )


def _mismatch(message: str, shows: str, category: str) -> Mismatch:
    return Mismatch(message + shows, category, shows.removeprefix("; "))


def expect_arrays(checks: list[tuple], case: str) -> None:
    """Several outputs, each (actual, expected, what, diagnosis): the first that is wrong is
    reported, unless a later one names a known mistake (it says more about the bug)."""
    failures = []
    for actual, expected, what, diagnosis in checks:
        try:
            expect_array(actual, expected, what, case, diagnosis=diagnosis)
        except Mismatch as mismatch:
            failures.append(mismatch)
    if failures:
        raise next((failure for failure in failures if failure.recognised), failures[0])


def expect_scalar(
    actual: Any,
    expected: float,
    what: str,
    case: str,
    rtol: float = 1e-6,
    diagnosis: Diagnosis = NO_DIAGNOSIS,
) -> None:
    """One number (a Python or numpy scalar, or an array holding one), of the expected's dtype."""
    array = np.asarray(actual) if isinstance(actual, int | float | np.generic | np.ndarray) else None
    if array is None or array.size != 1 or array.dtype.kind not in "iuf":
        raise Mismatch(f"{case}: {what} should be a single number, got {describe(actual)}", "not a number")
    expect_dtype(array.dtype, np.asarray(expected).dtype, what, case)
    value = float(array.reshape(()))
    if not np.isclose(value, expected, rtol=rtol, atol=1e-9):
        shows = diagnosis.explain(np.asarray(value), np.asarray(expected, dtype=float))
        raise _mismatch(
            f"{case}: {what} differs from the expected value by {abs(value - expected):.3g}",
            shows,
            "wrong value",
        )


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
    raise Mismatch(f"{case}: {what} has dtype {actual} but should be {expected}{hint}", "wrong dtype")


def numeric_gradient(loss: Callable[[], float], array: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Centred differences of a scalar function of `array`, one element at a time (in place,
    restored after each element): the student kit's numeric gradient, of the loss itself."""
    return testkit.numeric_gradient(loss, array, 1.0, step)


def describe(value: Any) -> str:
    """A short, data-free description of a returned value."""
    if value is None:
        return "None (is the function finished? it returns nothing)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {shape_text(value.shape)} and dtype {value.dtype}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of length {length_text(len(value))}"
    return f"a {type(value).__name__}"
