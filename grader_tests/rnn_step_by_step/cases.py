"""Inputs and checks for the hidden tests of rnn_step_by_step: seeded, so every run grades the
same data, except the timed runs of runtime tests, which draw their values from the generator the
`runtime` fixture gives.

Every case has N (examples), T (time steps), D (input size) and H (hidden size) all different,
so a transposed matrix or a wrong axis cannot pass; initial states are non-zero, most cases have
T > 1 (the gradient must flow through time, through both h and c for the LSTM), and one step
case has weights large enough to saturate tanh and the gates.

The RNN and the LSTM take the same tests: each check below is written once and told which layer
it checks (`RNN` or `LSTM`), and each test module covers one stage (a step forward, say) of both,
its tests parametrized over the layer (`layers`).
"""

from dataclasses import dataclass

import numpy as np
import pytest

from autograder import checks
from autograder.checks import (
    NO_DIAGNOSIS,
    Mismatch,
    describe,
    expect_array,
    expect_arrays,
    expect_dtype,
    expect_tuple,
    rel_error,
    shape_text,
)
from autograder.runtime import TimedCall

GRADIENT_STEP = 1e-5  # centred differences, as in cs231n
GRADIENT_TOLERANCE = 1e-6  # on cs231n's rel_error; the reference is around 1e-9 on these cases


# Every seeded value is drawn from (SALT, seed): a case's seed alone, guessed from a value a
# student's code printed into an exception, does not rebuild the hidden inputs. Change it when
# the hidden tests may have been seen (a new term): only the values change, never a verdict.
SALT = 0xFDDB53D067E80AFD


def normal(source: int | np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    """Normal values from a seed (salted), or drawn from a Generator."""
    rng = source if isinstance(source, np.random.Generator) else np.random.default_rng([SALT, source])
    return scale * rng.standard_normal(shape)


def source(rng: np.random.Generator | None, seed: int) -> int | np.random.Generator:
    """What a case draws one array from: a timed run's generator, or else the case's seed."""
    return seed if rng is None else rng


# ---------------------------------------------------------------- the two layers


@dataclass(frozen=True)
class Layer:
    name: str  # "rnn" or "lstm"
    gates: int  # blocks of H columns in Wx, Wh and b
    states: tuple  # what a time step passes on to the next
    cache_fields: tuple  # of each time step's cache
    step_gradients: tuple  # what <name>_step_backward returns

    # The names of its graded functions.
    step_forward = property(lambda self: f"{self.name}_step_forward")
    step_backward = property(lambda self: f"{self.name}_step_backward")
    forward = property(lambda self: f"{self.name}_forward")
    backward = property(lambda self: f"{self.name}_backward")


RNN = Layer(
    "rnn",
    gates=1,
    states=("next_h",),
    cache_fields=("x", "prev_h", "Wx", "Wh", "next_h"),
    step_gradients=("dx", "dprev_h", "dWx", "dWh", "db"),
)
LSTM = Layer(
    "lstm",
    gates=4,
    states=("next_h", "next_c"),
    cache_fields=("x", "prev_h", "prev_c", "Wx", "Wh", "i", "f", "o", "g", "next_c"),
    step_gradients=("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
)
SEQUENCE_GRADIENTS = ("dx", "dh0", "dWx", "dWh", "db")  # what rnn_backward and lstm_backward return


def layers(stage: str, rnn_points: float, lstm_points: float, cases: list | dict | None = None):
    """Parametrize a test over the layers (argument `layer`): it runs for the RNN's and the LSTM's
    function of `stage` ("backward": rnn_backward and lstm_backward), worth these points each.
    Each parameter carries its function's graded and points marks, and the function's name as its
    id, which the test's name leaves out (it starts with the function's name), so a test reads
    `rnn_backward: gradients [N3-T4-D5-H6]`. With `cases` (a list for both layers, or a list per
    layer), the test also runs for each case of the layer (argument `case`)."""
    params = []
    for layer, points in ((RNN, rnn_points), (LSTM, lstm_points)):
        function = getattr(layer, stage)
        marks = [pytest.mark.graded(function), pytest.mark.points(points)]
        if cases is None:
            params.append(pytest.param(layer, marks=marks, id=function))
        else:
            for case in cases[layer] if isinstance(cases, dict) else cases:
                params.append(pytest.param(layer, case, marks=marks, id=f"{function}-{case.id}"))
    return pytest.mark.parametrize("layer" if cases is None else "layer, case", params)


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class StepCase:
    id: str
    N: int
    D: int
    H: int
    seed: int
    scale: float = 0.5  # of the weights and biases; inputs and states are standard normal

    @property
    def describe(self) -> str:
        return f"with N={self.N}, D={self.D}, H={self.H}" + (
            f" and large weights (scale {self.scale:g})" if self.scale > 1 else ""
        )

    def inputs(self, layer: Layer) -> tuple:
        """(x, prev_h, Wx, Wh, b), and for the LSTM (x, prev_h, prev_c, Wx, Wh, b)."""
        N, D, H, s, GH = self.N, self.D, self.H, self.seed, layer.gates * self.H
        prev_c = (normal(s + 5, N, H),) if "next_c" in layer.states else ()
        return (
            normal(s, N, D),
            normal(s + 1, N, H),
            *prev_c,
            normal(s + 2, D, GH, scale=self.scale),
            normal(s + 3, H, GH, scale=self.scale),
            normal(s + 4, GH, scale=self.scale),
        )


@dataclass(frozen=True)
class SequenceCase:
    id: str
    N: int
    T: int
    D: int
    H: int
    seed: int
    scale: float = 0.5

    @property
    def describe(self) -> str:
        return f"with N={self.N}, T={self.T}, D={self.D}, H={self.H}" + (
            f" and large weights (scale {self.scale:g})" if self.scale > 1 else ""
        )

    def inputs(self, layer: Layer, rng: np.random.Generator | None = None) -> tuple:
        """(x, h0, Wx, Wh, b): the case's seeded values, or values drawn from rng."""
        N, T, D, H, s, GH = self.N, self.T, self.D, self.H, self.seed, layer.gates * self.H
        return (
            normal(source(rng, s), N, T, D),
            normal(source(rng, s + 1), N, H),
            normal(source(rng, s + 2), D, GH, scale=self.scale),
            normal(source(rng, s + 3), H, GH, scale=self.scale),
            normal(source(rng, s + 4), GH, scale=self.scale),
        )


STEP_CASES = [
    StepCase("N3-D5-H4", 3, 5, 4, seed=10),
    StepCase("N1-D2-H6-one-example", 1, 2, 6, seed=20),
    StepCase("N6-D3-H2-large-weights", 6, 3, 2, seed=30, scale=6.0),
    StepCase("N4-D7-H5", 4, 7, 5, seed=40, scale=0.8),
]

SEQUENCE_CASES = [
    SequenceCase("N3-T4-D5-H6", 3, 4, 5, 6, seed=110),
    SequenceCase("N2-T7-D3-H4", 2, 7, 3, 4, seed=120),
    SequenceCase("N5-T1-D4-H3-one-step", 5, 1, 4, 3, seed=130),
    SequenceCase("N4-T6-D2-H7-large-weights", 4, 6, 2, 7, seed=140, scale=1.5),
]
# Forward passes are also tested on one time step; backward passes on T > 1 only, where the
# gradient must flow through time.
FORWARD_CASES = SEQUENCE_CASES[:3]
BACKWARD_CASES = [SEQUENCE_CASES[0], SEQUENCE_CASES[1], SEQUENCE_CASES[3]]

# The numeric gradient checks: small enough for centred differences element by element.
NUMERIC_STEP = StepCase("numeric N4-D3-H5", 4, 3, 5, seed=60)
NUMERIC_SEQUENCE = SequenceCase("numeric N3-T5-D2-H4", 3, 5, 2, 4, seed=160)

# The runtime tests' size. The grader's CPU time of a call includes receiving the arguments and
# sending back the result (caches hold a few arrays per time step), which a loop over the
# examples does not slow down: D and H are small, N * T large, so that the per-example Python
# work dominates. Measured (single-threaded BLAS, the sandbox's CPU clocks): a per-example loop
# takes over 30 times the reference's time here, the first run's budget, so it is stopped there
# (150-250 times in-process).
# Its values are drawn afresh for each grading (the seed is not used).
RUNTIME_CASE = SequenceCase("runtime", 1024, 20, 2, 3, seed=0)


# ---------------------------------------------------------------- comparisons


def numeric_gradient(loss, array: np.ndarray, step: float = GRADIENT_STEP) -> np.ndarray:
    """cs231n's centred differences, with its step."""
    return checks.numeric_gradient(loss, array, step)


def expect_gradient(actual, numeric: np.ndarray, what: str, case: str) -> None:
    """A gradient against a numeric gradient, with cs231n's relative error."""
    if not isinstance(actual, np.ndarray):
        raise Mismatch(f"{case}: {what} should be a numpy array, got {describe(actual)}")
    if actual.shape != numeric.shape:
        raise Mismatch(
            f"{case}: {what} has shape {shape_text(actual.shape)} but should have shape {numeric.shape}"
        )
    if actual.dtype.kind not in "biuf" or not np.all(np.isfinite(actual)):
        raise Mismatch(f"{case}: {what} should hold finite real numbers")
    expect_dtype(actual.dtype, numeric.dtype, what, case)
    error = rel_error(actual.astype(float), numeric)
    if not error < GRADIENT_TOLERANCE:
        raise Mismatch(
            f"{case}: {what} disagrees with the numeric gradient (centred differences) of the reference "
            f"forward pass: relative error {error:.1e}, tolerance {GRADIENT_TOLERANCE:g}"
        )


def expect_numeric_gradients(cached, loss, inputs: tuple, actual: tuple, names: tuple, case: str) -> None:
    """The gradient of each input (in the order of the inputs) against the numeric gradient of loss."""
    for name, got, array in zip(names, actual, inputs):
        expect_gradient(got, cached(numeric_gradient, loss, array), name, case)


def expect_gradients(actual: tuple, expected: tuple, names: tuple, case: str, shows=None) -> None:
    """Each gradient against the reference's; shows(name), if given, is its Diagnosis."""
    shows = shows or (lambda _: NO_DIAGNOSIS)
    expect_arrays(
        [(got, wanted, name, shows(name)) for name, got, wanted in zip(names, actual, expected)], case
    )


def expect_step_cache(cache, reference_cache: tuple, fields: tuple, case: str, where: str = "the cache"):
    """Structure and shapes of a step cache, against the reference's; returns it as a tuple."""
    contract = "(" + ", ".join(fields) + ")"
    if not isinstance(cache, tuple | list) or len(cache) != len(fields):
        raise Mismatch(f"{case}: {where} must be the tuple {contract}, got {describe(cache)}")
    for name, got, wanted in zip(fields, cache, reference_cache):
        if not isinstance(got, np.ndarray) or got.shape != wanted.shape:
            raise Mismatch(
                f"{case}: {where} must be {contract}; its {name} should be an array of shape {wanted.shape}, "
                f"got {describe(got)}"
            )
    return tuple(cache)


def expect_sequence_cache(cache, reference_cache: tuple, fields: tuple, case: str) -> tuple:
    """A sequence cache: a tuple of T step caches, each like the reference's."""
    T = len(reference_cache)
    if not isinstance(cache, tuple | list) or len(cache) != T:
        raise Mismatch(
            f"{case}: the cache must be a tuple of T={T} step caches, cache[t] from time step t, "
            f"got {describe(cache)}"
        )
    return tuple(
        expect_step_cache(step, wanted, fields, case, where=f"cache[{t}]")
        for t, (step, wanted) in enumerate(zip(cache, reference_cache))
    )


def expect_backward_accepts(backward, upstream, cache, expected_cache, names: tuple, case: str) -> None:
    """A reference backward pass gives the same gradients from the student's cache as from its own."""
    for name, got, wanted in zip(names, backward(*upstream, cache), backward(*upstream, expected_cache)):
        expect_array(got, wanted, name, case)


def call_backward(student, name: str, args: tuple, outputs: int, case: str) -> tuple:
    """Call a backward function on inputs it cannot write: it must leave its upstream gradients
    and cache unchanged (the reference's forward pass and other layers may still need them)."""
    return expect_tuple(student.read_only(name, *args), outputs, name, case)


# ---------------------------------------------------------------- one time step


def check_step_forward(
    student, reference, layer: Layer, case: StepCase, inputs: tuple | None = None, diagnosis=None
):
    """next_h (and the LSTM's next_c) against the reference's, on the case's inputs unless given;
    returns the student's cache. `diagnosis`: the hidden tests' fixture, to say what a wrong one shows."""
    inputs = inputs or case.inputs(layer)
    name = layer.step_forward
    *states, cache = expect_tuple(getattr(student, name)(*inputs), len(layer.states) + 1, name, case.describe)
    shows = (lambda state: {"diagnosis": diagnosis(name, state, *inputs)}) if diagnosis else lambda _: {}
    for state, got, wanted in zip(layer.states, states, getattr(reference, name)(*inputs)):
        expect_array(got, wanted, state, case.describe, **shows(state))
    return cache


def check_step_cache_holds_the_inputs(student, reference, layer: Layer, case: StepCase) -> None:
    """The states must be right, and the cache must start with every input but b, unchanged."""
    inputs = case.inputs(layer)
    cache = check_step_forward(student, reference, layer, case, inputs)
    expected_cache = getattr(reference, layer.step_forward)(*inputs)[-1]
    cache = expect_step_cache(cache, expected_cache, layer.cache_fields, case.describe)
    held = layer.cache_fields[: len(inputs) - 1]  # the inputs but b, in their order
    for name, got, sent in zip(held, cache, inputs):
        expect_array(
            got,
            sent,
            f"the cache's {name}",
            f"{case.describe} (the cache must hold the {name} passed in, unchanged)",
        )


def check_step_cache_with_reference_backward(
    student, reference, layer: Layer, case: StepCase, upstream_seed: int
) -> None:
    """The states must be right, and the student's cache must serve the reference backward step as
    well as the reference's own."""
    inputs = case.inputs(layer)
    *states, expected_cache = getattr(reference, layer.step_forward)(*inputs)
    cache = check_step_forward(student, reference, layer, case, inputs)
    cache = expect_step_cache(cache, expected_cache, layer.cache_fields, case.describe)
    upstream = [normal(upstream_seed + k, *state.shape) for k, state in enumerate(states)]
    expect_backward_accepts(
        getattr(reference, layer.step_backward),
        upstream,
        cache,
        expected_cache,
        layer.step_gradients,
        f"{case.describe}, the reference {layer.step_backward} given your cache",
    )


def run_step_backward(student, reference, layer: Layer, case: StepCase, upstream_seed: int, zero=""):
    """The student's backward step on the reference's cache: (gradients, inputs, upstream, cache).
    The upstream gradients (dnext_h, and the LSTM's dnext_c) are drawn from upstream_seed on;
    `zero` names one that is all zeros instead."""
    inputs = case.inputs(layer)
    *states, cache = getattr(reference, layer.step_forward)(*inputs)
    upstream = [
        normal(upstream_seed + k, *state.shape, scale=0.0 if f"d{name}" == zero else 1.0)
        for k, (name, state) in enumerate(zip(layer.states, states))
    ]
    arguments = (*upstream, cache)
    got = call_backward(student, layer.step_backward, arguments, len(layer.step_gradients), case.describe)
    return got, inputs, upstream, cache


def check_step_backward(
    student, reference, layer: Layer, case: StepCase, upstream_seed: int, zero="", diagnosis=None
):
    got, _, upstream, cache = run_step_backward(student, reference, layer, case, upstream_seed, zero)
    describe = case.describe + (f" and {zero} = 0" if zero else "")
    expected = getattr(reference, layer.step_backward)(*upstream, cache)
    shows = (lambda name: diagnosis(layer.step_backward, name, *upstream, cache)) if diagnosis else None
    expect_gradients(got, expected, layer.step_gradients, describe, shows)


def check_step_backward_numerically(student, reference, cached, layer: Layer, upstream_seed: int) -> None:
    got, inputs, upstream, _ = run_step_backward(student, reference, layer, NUMERIC_STEP, upstream_seed)

    def loss():
        states = getattr(reference, layer.step_forward)(*inputs)[:-1]
        return float(sum(np.sum(state * d) for state, d in zip(states, upstream)))

    expect_numeric_gradients(cached, loss, inputs, got, layer.step_gradients, NUMERIC_STEP.describe)


# ---------------------------------------------------------------- a whole sequence


def check_forward_h(student, reference, layer: Layer, case: SequenceCase, diagnosis=None) -> None:
    inputs = case.inputs(layer)
    h, _ = expect_tuple(getattr(student, layer.forward)(*inputs), 2, layer.forward, case.describe)
    shows = {"diagnosis": diagnosis(layer.forward, "h", *inputs)} if diagnosis else {}
    expect_array(h, getattr(reference, layer.forward)(*inputs)[0], "h", case.describe, **shows)


def check_cache_with_reference_backward(student, reference, layer: Layer, case: SequenceCase, dh_seed: int):
    """h must be right, and the student's cache must serve the reference backward pass as well as
    the reference's own."""
    inputs = case.inputs(layer)
    h, expected_cache = getattr(reference, layer.forward)(*inputs)
    got_h, cache = expect_tuple(getattr(student, layer.forward)(*inputs), 2, layer.forward, case.describe)
    expect_array(got_h, h, "h", case.describe)
    cache = expect_sequence_cache(cache, expected_cache, layer.cache_fields, case.describe)
    expect_backward_accepts(
        getattr(reference, layer.backward),
        (normal(dh_seed, *h.shape),),
        cache,
        expected_cache,
        SEQUENCE_GRADIENTS,
        f"{case.describe}, the reference {layer.backward} given your cache"
        " (cache[t] must be the step cache of time step t)",
    )


def forward_timed_call(reference, layer: Layer):
    """make_call for the runtime test of a forward pass."""

    def timed_call(rng: np.random.Generator):
        inputs = RUNTIME_CASE.inputs(layer, rng)
        expected = getattr(reference, layer.forward)(*inputs)[0]
        return TimedCall(
            inputs,
            verify=lambda out: expect_array(
                expect_tuple(out, 2, layer.forward, "runtime input")[0], expected, "h", RUNTIME_CASE.describe
            ),
        )

    return timed_call


def run_backward(student, reference, layer: Layer, case: SequenceCase, dh_seed: int, last_step_only=False):
    """The student's backward pass on the reference's cache: (gradients, inputs, cache, dh)."""
    inputs = case.inputs(layer)
    h, cache = getattr(reference, layer.forward)(*inputs)
    dh = normal(dh_seed, *h.shape)
    if last_step_only:
        dh[:, :-1, :] = 0.0
    got = call_backward(student, layer.backward, (dh, cache), 5, case.describe)
    return got, inputs, cache, dh


def check_backward(
    student, reference, layer: Layer, case: SequenceCase, dh_seed: int, last_step_only=False, diagnosis=None
):
    got, _, cache, dh = run_backward(student, reference, layer, case, dh_seed, last_step_only)
    describe = case.describe + (", dh zero but at the last step" if last_step_only else "")
    shows = (lambda name: diagnosis(layer.backward, name, dh, cache)) if diagnosis else None
    expected = getattr(reference, layer.backward)(dh, cache)
    expect_gradients(got, expected, SEQUENCE_GRADIENTS, describe, shows)


def check_backward_numerically(student, reference, cached, layer: Layer, dh_seed: int) -> None:
    got, inputs, _, dh = run_backward(student, reference, layer, NUMERIC_SEQUENCE, dh_seed)

    def loss():
        return float(np.sum(getattr(reference, layer.forward)(*inputs)[0] * dh))

    expect_numeric_gradients(cached, loss, inputs, got, SEQUENCE_GRADIENTS, NUMERIC_SEQUENCE.describe)


def backward_timed_call(reference, layer: Layer):
    """make_call for the runtime test of a backward pass."""

    def timed_call(rng: np.random.Generator):
        h, cache = getattr(reference, layer.forward)(*RUNTIME_CASE.inputs(layer, rng))
        dh = normal(rng, *h.shape)
        expected = getattr(reference, layer.backward)(dh, cache)

        def verify(out):
            result = expect_tuple(out, 5, layer.backward, "runtime")
            expect_gradients(result, expected, SEQUENCE_GRADIENTS, RUNTIME_CASE.describe)

        return TimedCall((dh, cache), verify=verify)

    return timed_call
