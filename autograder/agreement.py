"""Does the reference solution agree with an independent implementation, on many random inputs?

The reference (the solution cells of the source notebook) is vectorized for speed, which makes it
hard to read and easy to get subtly wrong. An assignment's ``instructor/plain_loops.py`` (never
released: the course ignores ``instructor/``) holds the same graded functions written as plain,
obviously right loops, and, for each of them, a hypothesis strategy drawing its inputs:

- ``INPUTS``: graded function name -> strategy of ``(args, kwargs)``;
- ``OUTPUTS`` (optional): name -> the names of what the function returns, e.g. ``("Z", "cache")``
  (one name: the function returns that one value, not a tuple);
- ``CACHE_FIELDS`` (optional): name -> the names of the fields of the cache it takes or returns.
  A cache that is a tuple of step caches (one per time step) has these fields in every step.

`check_agreement` runs every function of ``INPUTS`` in both, on the same inputs (each side on its
own copy), and looks for an input on which they differ with ``hypothesis.find``: reproducible
(derandomized, no example database), and shrunk to a small input once found. Every output is
compared, caches field by field: arrays must have the reference's shape and dtype and be close
(``np.isclose`` with FORWARD_TOLERANCE, or BACKWARD_TOLERANCE for gradients: the functions named
``*_backward``), anything else equal. A problem names the function, the shapes and
hyperparameters of the input (never whole arrays) and what differs, e.g.

    conv_forward: the reference and instructor/plain_loops.py disagree on A_prev (2, 5, 4, 3),
    W (3, 3, 3, 2), b (1, 1, 1, 2), stride 2, pad 0: Z differs at 6 of 24 positions (...)

An assignment without ``instructor/plain_loops.py`` is a problem by default, since its reference
is compared with nothing; a caller checking a freshly scaffolded assignment, which has none yet,
passes ``required=False``. hypothesis is imported only here, when a check runs: it belongs to the
project's test extra, and without it the check returns one problem saying so.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from autograder.course import Assignment
from autograder.reference import load_reference

PLAIN_LOOPS = Path("instructor") / "plain_loops.py"
FORWARD_TOLERANCE = {"rtol": 1e-6, "atol": 1e-8}
BACKWARD_TOLERANCE = {"rtol": 1e-6, "atol": 1e-7}  # gradients sum more terms
NO_PLAIN_LOOPS = f"no {PLAIN_LOOPS}: the reference is not compared with an independent implementation"
NO_HYPOTHESIS = (
    f"hypothesis is not installed (pip install 'cnn-autograder[test]'): the reference cannot be "
    f"compared with {PLAIN_LOOPS}"
)


def check_agreement(
    assignment: Assignment,
    examples: int = 50,
    *,
    reference: types.SimpleNamespace | None = None,
    functions: Iterable[str] | None = None,
    required: bool = True,
) -> list[str]:
    """One problem per graded function on which the reference and instructor/plain_loops.py
    disagree (or that is not compared at all); [] when they agree on `examples` random inputs each.

    `reference` replaces the assignment's reference (default: load_reference(assignment)), e.g. by
    a deliberately broken copy; `functions` limits the check to those graded functions; with
    `required=False` an assignment without instructor/plain_loops.py has no problem.
    """
    try:
        import hypothesis  # noqa: F401  (the test extra: only needed when a check runs)
    except ImportError:
        return [NO_HYPOTHESIS]
    script = assignment.source_dir / PLAIN_LOOPS
    if not script.is_file():
        return [NO_PLAIN_LOOPS] if required else []
    try:
        plain = load_plain_loops(assignment)
        reference = reference if reference is not None else load_reference(assignment)
    except Exception as error:
        return [f"{PLAIN_LOOPS} or the reference cannot be loaded: {type(error).__name__}: {error}"]
    graded = list(vars(reference))
    chosen = graded if functions is None else list(functions)
    names = [name for name in graded if name in chosen]
    problems = [f"{name}: no graded function of that name" for name in chosen if name not in graded]
    problems += coverage_problems(plain, graded, names)
    for name in names:
        if name in plain.INPUTS and callable(getattr(plain, name, None)):
            problem = disagreement(name, getattr(reference, name), plain, examples)
            problems += [problem] if problem else []
    return problems


def load_plain_loops(assignment: Assignment) -> types.ModuleType:
    """The assignment's instructor/plain_loops.py, loaded by path, with a dict INPUTS."""
    script = assignment.source_dir / PLAIN_LOOPS
    spec = importlib.util.spec_from_file_location(f"_plain_loops_{assignment.name}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not isinstance(getattr(module, "INPUTS", None), dict):
        raise TypeError("it must define INPUTS, a dict: graded function name -> strategy of (args, kwargs)")
    return module


def coverage_problems(plain: types.ModuleType, graded: list[str], names: list[str]) -> list[str]:
    """Graded functions (of `names`) that are not compared, and INPUTS of no graded function."""
    problems = [
        f"{name}: not in the INPUTS of {PLAIN_LOOPS}, so the reference's {name} is compared with nothing"
        for name in names
        if name not in plain.INPUTS
    ]
    problems += [
        f"{name}: in the INPUTS of {PLAIN_LOOPS}, which defines no function {name}"
        for name in names
        if name in plain.INPUTS and not callable(getattr(plain, name, None))
    ]
    if len(names) == len(graded):
        problems += [
            f"{name}: in the INPUTS of {PLAIN_LOOPS} but not a graded function of the notebook"
            for name in plain.INPUTS
            if name not in graded
        ]
    return problems


# ----------------------------------------------------------------------------------------------
# One function: a search for an input on which the two disagree


def disagreement(name: str, reference: Callable, plain: types.ModuleType, examples: int) -> str | None:
    """The problem with `name` on the smallest input hypothesis finds that shows one, or None."""
    import hypothesis

    comparison = Comparison(name, reference, getattr(plain, name), plain)
    settings = hypothesis.settings(max_examples=examples, deadline=None, database=None, derandomize=True)
    try:
        inputs = hypothesis.find(plain.INPUTS[name], comparison.differs, settings=settings)
    except hypothesis.errors.NoSuchExample:
        return None
    except Exception as error:  # the strategy itself fails
        error = f"{type(error).__name__}: {error}"
        return f"{name}: the inputs of {PLAIN_LOOPS} cannot be drawn or compared: {error}"
    return (
        f"{name}: the reference and {PLAIN_LOOPS} disagree on {comparison.describe(inputs)}: "
        f"{comparison.difference(inputs)}"
    )


class Comparison:
    """The reference's and the plain loops' `name`, run on the same inputs and compared."""

    def __init__(self, name: str, reference: Callable, plain_function: Callable, plain: types.ModuleType):
        self.name, self.reference, self.plain_function = name, reference, plain_function
        self.outputs = tuple(getattr(plain, "OUTPUTS", {}).get(name, ()))
        self.fields = tuple(getattr(plain, "CACHE_FIELDS", {}).get(name, ()))
        self.tolerance = BACKWARD_TOLERANCE if name.endswith("_backward") else FORWARD_TOLERANCE

    def differs(self, inputs: tuple) -> bool:
        return self.difference(inputs) is not None

    def difference(self, inputs: tuple) -> str | None:
        """What differs between the two results on `inputs`, or None."""
        expected, error = run(self.reference, inputs)
        if error:
            return f"the reference raises {error}"
        actual, error = run(self.plain_function, inputs)
        if error:
            return f"{PLAIN_LOOPS} raises {error}"
        expected, actual = self.named(expected), self.named(actual)
        if len(expected) != len(actual):
            return f"the reference returns {len(expected)} values, the plain loops {len(actual)}"
        for (label, want), (_, got) in zip(expected, actual):
            found = tree_difference(label, want, got, self.fields, self.tolerance)
            if found:
                return found
        return None

    def named(self, result: Any) -> list[tuple[str, Any]]:
        """The outputs of a result with their names: OUTPUTS' when they fit, else by position."""
        if len(self.outputs) == 1:
            return [(self.outputs[0], result)]
        if not isinstance(result, tuple):
            return [("the result", result)]
        labels = self.outputs if len(self.outputs) == len(result) else ()
        return [(labels[k] if labels else f"output {k + 1}", value) for k, value in enumerate(result)]

    def describe(self, inputs: tuple) -> str:
        """The shapes and hyperparameters of the inputs, by argument name."""
        args, kwargs = inputs
        try:
            arguments = inspect.signature(self.plain_function).bind(*args, **kwargs).arguments
        except (TypeError, ValueError):
            arguments = {f"argument {k + 1}": value for k, value in enumerate(args)} | kwargs
        return ", ".join(describe(label, value, self.fields) for label, value in arguments.items())


def run(function: Callable, inputs: tuple) -> tuple[Any, str | None]:
    """function(*args, **kwargs) on a copy of the inputs: (its result, None), or (None, the error)."""
    args, kwargs = copy.deepcopy(inputs)
    try:
        return function(*args, **kwargs), None
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"


# ----------------------------------------------------------------------------------------------
# Comparing results and describing inputs


def field_labels(label: str, value: tuple, fields: tuple[str, ...]) -> list[str]:
    """`label.field` for the fields of a cache, `label[k]` for the steps of a cache or other tuples."""
    if len(value) == len(fields) and not any(isinstance(item, tuple) for item in value):
        return [f"{label}.{field}" for field in fields]
    return [f"{label}[{k}]" for k in range(len(value))]


def tree_difference(label: str, expected: Any, actual: Any, fields: tuple[str, ...], tolerance: dict):
    """The first difference between two results (tuples, dicts, arrays, numbers), or None."""
    if isinstance(expected, tuple | list) or isinstance(actual, tuple | list):
        if type(expected) is not type(actual):
            return f"{label} is a {kind(expected)} in the reference, a {kind(actual)} in the plain loops"
        if len(expected) != len(actual):
            return f"{label} has {len(expected)} elements in the reference, {len(actual)} in the plain loops"
        for sub_label, want, got in zip(field_labels(label, expected, fields), expected, actual):
            found = tree_difference(sub_label, want, got, fields, tolerance)
            if found:
                return found
        return None
    if isinstance(expected, dict) or isinstance(actual, dict):
        if not (isinstance(expected, dict) and isinstance(actual, dict)) or expected != actual:
            return f"{label} is {expected!r} in the reference, {actual!r} in the plain loops"
        return None
    return array_difference(label, expected, actual, tolerance)


def array_difference(label: str, expected: Any, actual: Any, tolerance: dict) -> str | None:
    """Shape, dtype, then values (numbers: np.isclose with `tolerance`, others: ==)."""
    want, got = np.asarray(expected), np.asarray(actual)
    if want.shape != got.shape:
        return f"{label} has shape {want.shape} in the reference, {got.shape} in the plain loops"
    if want.dtype != got.dtype:
        return f"{label} is {want.dtype} in the reference, {got.dtype} in the plain loops"
    numeric = np.issubdtype(want.dtype, np.number) and not np.issubdtype(want.dtype, np.bool_)
    wrong = ~np.isclose(got, want, **tolerance) if numeric else want != got
    if not np.any(wrong):
        return None
    if want.ndim == 0:
        return f"{label} is {number(want)} in the reference, {number(got)} in the plain loops"
    first = tuple(int(k) for k in np.argwhere(wrong)[0])
    return (
        f"{label} differs at {int(np.sum(wrong))} of {want.size} positions (the first at {first}: "
        f"{number(want[first])} in the reference, {number(got[first])} in the plain loops)"
    )


def kind(value: Any) -> str:
    return type(value).__name__


def number(value: Any) -> str:
    value = np.asarray(value).item()
    return f"{value:.10g}" if isinstance(value, float) else repr(value)


def plain_value(value: Any) -> Any:
    """numpy scalars as Python numbers, so they print as 3, not np.int64(3)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(plain_value(item) for item in value)
    return value


def describe(label: str, value: Any, fields: tuple[str, ...]) -> str:
    """An input by its shape (arrays), its items (hyperparameter dicts: "stride 2, pad 0"), its
    fields (caches) or its value (numbers, strings, shapes)."""
    if isinstance(value, np.ndarray):
        return f"{label} {value.shape}"
    if isinstance(value, dict):
        return ", ".join(f"{key} {plain_value(item)!r}" for key, item in value.items())
    if isinstance(value, tuple) and value and all(isinstance(item, tuple) for item in value):
        return f"{label} of {len(value)} time steps, each with {describe(label, value[0], fields)}"
    if isinstance(value, tuple) and any(isinstance(item, np.ndarray | dict) for item in value):
        labels = fields if len(fields) == len(value) else [f"{label}[{k}]" for k in range(len(value))]
        return ", ".join(describe(sub_label, item, fields) for sub_label, item in zip(labels, value))
    value = plain_value(value)
    return f"{label} {value:.4g}" if isinstance(value, float) else f"{label} {value!r}"
