"""Public tests for "Recurrent networks, step by step".

This file lists the cases of each exercise (``CASES``); ``testkit.py``, next to it, runs them (its
docstring says what a test checks, in order, and what it says when something is wrong). Each
exercise of the notebook ends with a cell such as ``rnn_forward_test(rnn_forward)``, which runs
your function on

* the course's published example (the numbers you may know from the classic cs231n
  assignment, built with ``np.linspace``), and
* a few random cases where N (examples), T (time steps), D (input size) and H (hidden size)
  are all different, so that a transposed matrix or a wrong axis cannot go unnoticed.

The backward tests also take your forward function, as in
``rnn_step_backward_test(rnn_step_backward, rnn_step_forward)``: they compare your gradients
with numeric gradients of your own forward pass (centred differences), and check that calling
the backward pass leaves its cache untouched (calling it twice must give the same answer).
"""

import numpy as np
from testkit import (
    Cache,
    Call,
    Case,
    Draw,
    Function,
    GradientCheck,
    Linspace,
    Misconception,
    Normal,
    Output,
    PublicTestFailure,
    Published,
    Speed,
    Suite,
    Yardstick,
    rel_error,
    timed,
)

# --------------------------------------------------------------------------------------
# What each function takes and returns
# --------------------------------------------------------------------------------------

RNN_STEP = Cache(("x", "prev_h", "Wx", "Wh", "next_h"))
LSTM_STEP = Cache(("x", "prev_h", "prev_c", "Wx", "Wh", "i", "f", "o", "g", "next_c"))
RNN_SEQUENCE = Cache(RNN_STEP.fields, steps=True)
LSTM_SEQUENCE = Cache(LSTM_STEP.fields, steps=True)
SEQUENCE_INPUTS = ("x", "h0", "Wx", "Wh", "b")
GRADIENTS = ("dx", "dh0", "dWx", "dWh", "db")

STATE = ("example", "unit")  # what each axis counts
SEQUENCE = ("example", "time step", "unit")
AXES = {
    "next_h": STATE, "next_c": STATE, "dprev_h": STATE, "dprev_c": STATE, "dh0": STATE,
    "h": SEQUENCE, "dx": ("example", "time step", "input"),
}  # fmt: skip


def _function(arguments, outputs, forward=""):
    """A Function whose outputs' axes are named as in AXES (a step's dx is (N, D): not named)."""
    names = {getattr(output, "name", output) for output in outputs}
    step = "next_h" in names or "dprev_h" in names
    axes = {name: AXES[name] for name in names if name in AXES and not (step and name == "dx")}
    return Function(arguments, outputs, forward, axes)


FUNCTIONS = {
    "rnn_step_forward": _function(("x", "prev_h", "Wx", "Wh", "b"), ("next_h", RNN_STEP)),
    "rnn_step_backward": _function(
        ("dnext_h", RNN_STEP), ("dx", "dprev_h", "dWx", "dWh", "db"), forward="rnn_step_forward"
    ),
    "rnn_forward": _function(SEQUENCE_INPUTS, ("h", RNN_SEQUENCE)),
    "rnn_backward": _function(("dh", RNN_SEQUENCE), GRADIENTS, forward="rnn_forward"),
    "lstm_step_forward": _function(
        ("x", "prev_h", "prev_c", "Wx", "Wh", "b"), ("next_h", "next_c", LSTM_STEP)
    ),
    "lstm_step_backward": _function(
        ("dnext_h", "dnext_c", LSTM_STEP),
        ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
        forward="lstm_step_forward",
    ),
    "lstm_forward": _function(SEQUENCE_INPUTS, ("h", LSTM_SEQUENCE)),
    "lstm_backward": _function(("dh", LSTM_SEQUENCE), GRADIENTS, forward="lstm_forward"),
}

SHAPE_ADVICE = {
    "next_h": "next_h has shape (N, H)",
    "next_c": "next_c has shape (N, H)",
    "h": "h has shape (N, T, H): one hidden state per example and time step",
    "dx": "dx has the shape of x",
    "dprev_h": "dprev_h has the shape of prev_h, (N, H)",
    "dprev_c": "dprev_c has the shape of prev_c, (N, H)",
    "dh0": "dh0 has the shape of h0, (N, H)",
    "dWx": "dWx has the shape of Wx",
    "dWh": "dWh has the shape of Wh",
    "db": "db has the shape of b: sum over the batch (and the time steps), keeping one value per unit",
}

MUTATION_ADVICE = (
    "Work on new arrays (e.g. `next_c = f * prev_c + i * g`, `d = dh[:, t] + dprev_h`) instead of "
    "modifying the arrays you are given (`+=`, `*=` on an input change it for the caller)"
)

# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------

TANH_HINT = "next_h = tanh(x Wx + prev_h Wh + b): x @ Wx has shape (N, H), prev_h @ Wh too, b broadcasts"
GATES_HINT = (
    "a = x @ Wx + prev_h @ Wh + b has shape (N, 4H); its four blocks of H columns are, in this "
    "order, the input gate i, the forget gate f, the output gate o (sigmoids) and g (tanh)"
)
TIME_HINT = (
    "the gradient of h_t is dh[:, t] (from the loss at step t) plus dprev_h (from step t+1): "
    "add both before calling the step's backward pass"
)
CELL_HINT = (
    "through time, the gradient flows back along h (dprev_h) and along the cell state c "
    "(dprev_c): carry both from step t to step t-1, and start both at zero after the last step"
)


def _weights(D, H, gates=1, scale=0.5):
    """Random Wx (D, gates*H), Wh (H, gates*H) and b (gates*H,)."""
    return {
        "Wx": Normal((D, gates * H), scale),
        "Wh": Normal((H, gates * H), scale),
        "b": Normal((gates * H,), scale),
    }


def _case(function, description, draw, seed=0, hint="", published=()):
    """A forward case: every input of `draw` is an argument, in this order."""
    return Case(
        function, description, draw, [Draw(name) for name in draw], seed=seed, hint=hint, published=published
    )


def _backward(function, description, forward_case, upstream, seed, hint):
    """A backward case: upstream gradients drawn (name -> Normal), then the cache of `forward_case`."""
    return Case(
        function,
        description,
        upstream,
        [*map(Draw, upstream), Output(forward_case, -1)],
        seed=seed,
        hint=hint,
    )


def _classic(function, description, hint="", **inputs):
    """The course's example: every input from np.linspace, and the outputs it published."""
    published = tuple(Published(name, value) for name, value in inputs.pop("published").items())
    description = f"the course's example ({description}, inputs from np.linspace)"
    return _case(function, description, inputs, hint=hint, published=published)


# fmt: off
CASES = {
    # rnn_step_forward ---------------------------------------------------------------------------
    "rnn_step_forward/classic": _classic(
        "rnn_step_forward", "N=3, D=10, H=4", TANH_HINT,
        x=Linspace(-0.4, 0.7, 3, 10), prev_h=Linspace(-0.2, 0.5, 3, 4),
        Wx=Linspace(-0.1, 0.9, 10, 4), Wh=Linspace(-0.3, 0.7, 4, 4), b=Linspace(-0.2, 0.4, 4),
        published={"next_h": [[-0.58172089, -0.50182032, -0.41232771, -0.31410098],
                              [0.66854692, 0.79562378, 0.87755553, 0.92795967],
                              [0.97934501, 0.99144213, 0.99646691, 0.99854353]]},
    ),
    "rnn_step_forward/random": _case(
        "rnn_step_forward", "random inputs with N=4, D=5, H=3",
        {"x": (4, 5), "prev_h": (4, 3), **_weights(5, 3)}, seed=101, hint=TANH_HINT,
    ),
    "rnn_step_forward/one_example": _case(
        "rnn_step_forward", "a single example (N=1) with D=2, H=6",
        {"x": (1, 2), "prev_h": (1, 6), **_weights(2, 6)}, seed=102, hint=TANH_HINT,
    ),
    # rnn_step_backward --------------------------------------------------------------------------
    "rnn_step_backward/random": _backward(
        "rnn_step_backward", "the cache of the random rnn_step_forward case (N=4, D=5, H=3)",
        "rnn_step_forward/random", {"dnext_h": (4, 3)}, seed=201,
        hint="with a = x Wx + prev_h Wh + b, da = dnext_h * (1 - next_h**2); then dx = da Wx^T, "
        "dprev_h = da Wh^T, dWx = x^T da, dWh = prev_h^T da, db = da summed over the batch",
    ),
    "rnn_step_backward/one_example": _backward(
        "rnn_step_backward", "the cache of the single-example rnn_step_forward case (N=1, D=2, H=6)",
        "rnn_step_forward/one_example", {"dnext_h": (1, 6)}, seed=202,
        hint="db has shape (H,): sum da over the batch axis 0",
    ),
    # rnn_forward --------------------------------------------------------------------------------
    "rnn_forward/classic": _classic(
        "rnn_forward", "N=2, T=3, D=4, H=5",
        "h[:, t] is rnn_step_forward of x[:, t] and the previous hidden state (h0 at t = 0)",
        x=Linspace(-0.1, 0.3, 2, 3, 4), h0=Linspace(-0.3, 0.1, 2, 5),
        Wx=Linspace(-0.2, 0.4, 4, 5), Wh=Linspace(-0.4, 0.1, 5, 5), b=Linspace(-0.7, 0.1, 5),
        published={"h": [[[-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
                          [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
                          [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525]],
                         [[-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
                          [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
                          [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043]]]},
    ),
    "rnn_forward/random": _case(
        "rnn_forward", "random inputs with N=3, T=4, D=2, H=5",
        {"x": (3, 4, 2), "h0": (3, 5), **_weights(2, 5)}, seed=301,
        hint="feed each step the hidden state the previous step returned, starting from h0",
    ),
    # rnn_backward -------------------------------------------------------------------------------
    "rnn_backward/random": _backward(
        "rnn_backward",
        "the cache of the random rnn_forward case (N=3, T=4, D=2, H=5) and a gradient dh at every step",
        "rnn_forward/random", {"dh": (3, 4, 5)}, seed=401, hint=TIME_HINT,
    ),
    # lstm_step_forward --------------------------------------------------------------------------
    "lstm_step_forward/classic": _classic(
        "lstm_step_forward", "N=3, D=4, H=5", GATES_HINT,
        x=Linspace(-0.4, 1.2, 3, 4), prev_h=Linspace(-0.3, 0.7, 3, 5), prev_c=Linspace(-0.4, 0.9, 3, 5),
        Wx=Linspace(-2.1, 1.3, 4, 20), Wh=Linspace(-0.7, 2.2, 5, 20), b=Linspace(0.3, 0.7, 20),
        published={"next_h": [[0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
                              [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
                              [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299]],
                   "next_c": [[0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407],
                              [0.66382255, 0.76674007, 0.87195994, 0.97902709, 1.08751345],
                              [0.74192008, 0.90592151, 1.07717006, 1.25120233, 1.42395676]]},
    ),
    "lstm_step_forward/random": _case(
        "lstm_step_forward", "random inputs with N=2, D=3, H=4",
        {"x": (2, 3), "prev_h": (2, 4), "prev_c": (2, 4), **_weights(3, 4, gates=4)}, seed=501,
        hint=GATES_HINT,
    ),
    "lstm_step_forward/saturated": _case(
        "lstm_step_forward", "large weights (scale 10, most gates saturated) with N=3, D=5, H=2",
        {"x": (3, 5), "prev_h": (3, 2), "prev_c": (3, 2), **_weights(5, 2, gates=4, scale=10.0)}, seed=502,
        hint="use the sigmoid() helper given in the cell for i, f and o, and np.tanh for g and tanh(next_c)",
    ),
    # lstm_step_backward -------------------------------------------------------------------------
    "lstm_step_backward/random": _backward(
        "lstm_step_backward", "the cache of the random lstm_step_forward case (N=2, D=3, H=4)",
        "lstm_step_forward/random", {"dnext_h": (2, 4), "dnext_c": (2, 4)}, seed=601,
        hint="dnext_c and the part of dnext_h that goes through tanh(next_c) add up into one gradient of "
        "next_c; stack the four gate gradients in the order i, f, o, g",
    ),
    "lstm_step_backward/cell_only": _backward(
        "lstm_step_backward",
        "the random lstm_step_forward cache with dnext_h = 0 (gradient on the cell only)",
        "lstm_step_forward/random", {"dnext_h": Normal((2, 4), 0.0), "dnext_c": (2, 4)}, seed=602,
        hint="with dnext_h = 0 the gradient reaches the gates only through next_c = f*prev_c + i*g; "
        "dprev_c = dnext_c * f",
    ),
    # lstm_forward -------------------------------------------------------------------------------
    "lstm_forward/classic": _classic(
        "lstm_forward", "N=2, T=3, D=5, H=4",
        "the initial cell state is zero; h0 is only the initial hidden state",
        x=Linspace(-0.4, 0.6, 2, 3, 5), h0=Linspace(-0.4, 0.8, 2, 4),
        Wx=Linspace(-0.2, 0.9, 5, 16), Wh=Linspace(-0.3, 0.6, 4, 16), b=Linspace(0.2, 0.7, 16),
        published={"h": [[[0.01764008, 0.01823233, 0.01882671, 0.0194232],
                          [0.11287491, 0.12146228, 0.13018446, 0.13902939],
                          [0.31358768, 0.33338627, 0.35304453, 0.37250975]],
                         [[0.45767879, 0.4761092, 0.4936887, 0.51041945],
                          [0.6704845, 0.69350089, 0.71486014, 0.7346449],
                          [0.81733511, 0.83677871, 0.85403753, 0.86935314]]]},
    ),
    "lstm_forward/random": _case(
        "lstm_forward", "random inputs with N=3, T=5, D=4, H=2",
        {"x": (3, 5, 4), "h0": (3, 2), **_weights(4, 2, gates=4)}, seed=701,
        hint="feed each step the h and c that the previous step returned, starting from h0 and c = 0",
    ),
    # lstm_backward ------------------------------------------------------------------------------
    "lstm_backward/random": _backward(
        "lstm_backward",
        "the cache of the random lstm_forward case (N=3, T=5, D=4, H=2) and a gradient dh at every step",
        "lstm_forward/random", {"dh": (3, 5, 2)}, seed=801, hint=CELL_HINT,
    ),
    "lstm_backward/last_step_only": _backward(
        "lstm_backward",
        "the cache of the random lstm_forward case with a gradient on the last step only (dh[:, :-1] = 0)",
        "lstm_forward/random", {"dh": Normal((3, 5, 2), zero=np.s_[:, :-1])}, seed=802, hint=CELL_HINT,
    ),
}
# fmt: on

# --------------------------------------------------------------------------------------
# Gradient checks: random inputs of the forward pass, and upstream gradients
# --------------------------------------------------------------------------------------

GRADIENT_CHECKS = {
    "rnn_step_backward": GradientCheck(
        {"x": (4, 3), "prev_h": (4, 5), **_weights(3, 5)}, 211, {"dnext_h": Normal((4, 5))}, 212
    ),
    "rnn_backward": GradientCheck(
        {"x": (2, 4, 3), "h0": (2, 5), **_weights(3, 5)}, 411, {"dh": Normal((2, 4, 5))}, 412
    ),
    "lstm_step_backward": GradientCheck(
        {"x": (3, 5), "prev_h": (3, 4), "prev_c": (3, 4), **_weights(5, 4, gates=4)},
        611,
        {"dnext_h": Normal((3, 4)), "dnext_c": Normal((3, 4))},
        612,
    ),
    "lstm_backward": GradientCheck(
        {"x": (2, 4, 5), "h0": (2, 3), **_weights(5, 3, gates=4)}, 811, {"dh": Normal((2, 4, 3))}, 812
    ),
}

# --------------------------------------------------------------------------------------
# Speed: the grader times these functions on inputs of this size against the instructors'
# solution, and gives the runtime points when yours takes at most runtime_factor
# (limits.json) times as long. A backward pass is timed on the cache of your forward pass.
# --------------------------------------------------------------------------------------

SPEED_SIZE = "N=1024, T=20, D=2, H=3"


def _timed(layer, backward=False):
    N, T, D, H = 1024, 20, 2, 3
    draw = {"x": (N, T, D), "h0": (N, H), **_weights(D, H, gates=4 if layer == "lstm" else 1)}
    inputs = [Draw(name) for name in draw]
    if not backward:
        return timed(f"{layer}_forward", SPEED_SIZE, draw, inputs)
    draw["dh"] = (N, T, H)
    return timed(f"{layer}_backward", SPEED_SIZE, draw, [Draw("dh"), Call(f"{layer}_forward", inputs)])


def _rnn_like(x, w):
    """The yardstick's work: like an RNN's, a small matrix product and tanh."""
    np.tanh(x @ w)


SPEED = Speed(
    cases={
        "rnn_forward": _timed("rnn"),
        "rnn_backward": _timed("rnn", backward=True),
        "lstm_forward": _timed("lstm"),
        "lstm_backward": _timed("lstm", backward=True),
    },
    yardstick=Yardstick({"x": (256, 24), "w": (24, 64)}, _rnn_like, repeats=50),
    advice="Loop over the time steps only and process the whole minibatch at each step: no loop over the "
    "examples or the hidden units",
    see="see section 3",
)

# --------------------------------------------------------------------------------------
# Common mistakes, recognised from the numbers: each computes, with the instructors' functions
# (`ref`), what a function with that mistake returns. The public tests and the grader compare a
# wrong result with each of them before they say where it differs.
# --------------------------------------------------------------------------------------


def _gates(order):
    """Columns of a = x Wx + h Wh + b rearranged so that the reference reads its blocks in `order`
    (a permutation of "ifog") where the API puts i, f, o, g."""

    def rearrange(a):
        H = a.shape[-1] // 4
        blocks = {gate: a[..., k * H : (k + 1) * H] for k, gate in enumerate("ifog")}
        return np.concatenate([blocks[gate] for gate in order], axis=-1)

    return rearrange


def _step_forward_in_order(order):
    def wrong(ref, x, prev_h, prev_c, Wx, Wh, b):
        put = _gates(order)
        return ref.lstm_step_forward(x, prev_h, prev_c, put(Wx), put(Wh), put(b))

    return wrong


def _rnn_without_time(ref, dh, cache):
    """rnn_backward where each step gets only its own dh[:, t], not dprev_h from step t+1."""
    N, T, H = dh.shape
    grads = [ref.rnn_step_backward(dh[:, t], cache[t]) for t in range(T)]
    dx = np.stack([g[0] for g in grads], axis=1)
    return dx, grads[0][1], sum(g[2] for g in grads), sum(g[3] for g in grads), sum(g[4] for g in grads)


def _rnn_last_dh_only(ref, dh, cache):
    """rnn_backward that starts from dh[:, T-1] and never adds the other steps' dh[:, t]."""
    T = dh.shape[1]
    dprev_h, grads = dh[:, T - 1], [None] * T
    for t in reversed(range(T)):
        grads[t] = ref.rnn_step_backward(dprev_h, cache[t])
        dprev_h = grads[t][1]
    dx = np.stack([g[0] for g in grads], axis=1)
    return dx, dprev_h, sum(g[2] for g in grads), sum(g[3] for g in grads), sum(g[4] for g in grads)


def _lstm_without_cell_path(ref, dh, cache):
    """lstm_backward that never carries dprev_c to the step before."""
    N, T, H = dh.shape
    dprev_h, grads = np.zeros((N, H)), [None] * T
    for t in reversed(range(T)):
        grads[t] = ref.lstm_step_backward(dh[:, t] + dprev_h, np.zeros((N, H)), cache[t])
        dprev_h = grads[t][1]
    dx = np.stack([g[0] for g in grads], axis=1)
    return dx, dprev_h, sum(g[3] for g in grads), sum(g[4] for g in grads), sum(g[5] for g in grads)


def _tanh_twice(ref, dnext_h, cache):
    """rnn_step_backward with da = dnext_h * (1 - tanh(next_h)**2), as if next_h were a."""
    next_h = cache[4]
    return ref.rnn_step_backward(dnext_h * (1 - np.tanh(next_h) ** 2) / (1 - next_h**2), cache)


def _cell_path_without_h(ref, dnext_h, dnext_c, cache):
    """lstm_step_backward whose cell gradient is dnext_c alone: the part of dnext_h that goes
    through tanh(next_c) is cancelled out of the reference's."""
    o, next_c = cache[7], cache[9]
    return ref.lstm_step_backward(dnext_h, dnext_c - dnext_h * o * (1 - np.tanh(next_c) ** 2), cache)


def _rnn_from_h0(ref, x, h0, Wx, Wh, b):
    """rnn_forward where every step starts from h0 instead of the previous step's state."""
    return np.stack([ref.rnn_step_forward(x[:, t], h0, Wx, Wh, b)[0] for t in range(x.shape[1])], axis=1)


def _mean_over_batch(function, index):
    """Output `index` of the reference's `function`, divided by the number of examples."""
    return lambda ref, *inputs: getattr(ref, function)(*inputs)[index] / len(inputs[0])


SWAPPED_GATES = ("fiog", "ifgo", "figo")  # two gates (or two pairs) swapped
WRONG_ORDER = (
    "it matches the gates read in the order {order}: the four blocks of H columns of "
    "a = x @ Wx + prev_h @ Wh + b are, in this order, i, f, o and g"
)
AVERAGED = (
    "it is the right gradient divided by N, the number of examples: the gradient of a sum over the "
    "examples adds their contributions, it does not average them"
)

MISCONCEPTIONS = (
    Misconception(
        "rnn_step_forward",
        "next_h",
        "it leaves out the tanh: next_h = tanh(x Wx + prev_h Wh + b)",
        lambda ref, x, prev_h, Wx, Wh, b: x @ Wx + prev_h @ Wh + b,
    ),
    Misconception(
        "rnn_step_forward",
        "next_h",
        "it uses Wh for x and Wx for prev_h: next_h = tanh(x Wx + prev_h Wh + b)",
        lambda ref, x, prev_h, Wx, Wh, b: np.tanh(x @ Wh + prev_h @ Wx + b),
    ),
    Misconception("rnn_step_backward", "dWx", AVERAGED, _mean_over_batch("rnn_step_backward", 2)),
    Misconception("rnn_step_backward", "dWh", AVERAGED, _mean_over_batch("rnn_step_backward", 3)),
    Misconception("rnn_step_backward", "db", AVERAGED, _mean_over_batch("rnn_step_backward", 4)),
    Misconception(
        "rnn_step_backward",
        "db",
        "it keeps one row per example: db = np.sum(da, axis=0), one value per unit",
        lambda ref, dnext_h, cache: dnext_h * (1 - cache[4] ** 2),
    ),
    Misconception(
        "rnn_forward",
        "h",
        "every step starts from h0: feed each step the hidden state the previous step returned",
        _rnn_from_h0,
    ),
    *(
        Misconception(
            "rnn_backward",
            output,
            "it leaves out the gradient through time: the gradient of h_t is dh[:, t] plus dprev_h "
            "from step t+1",
            lambda ref, dh, cache, k=k: _rnn_without_time(ref, dh, cache)[k],
        )
        for k, output in enumerate(GRADIENTS)
        if output != "dh0"
    ),
    Misconception("rnn_backward", "dWx", AVERAGED, _mean_over_batch("rnn_backward", 2)),
    *(
        Misconception(
            "rnn_backward",
            output,
            "it starts from dh[:, T-1] only: every step t gets dh[:, t] (the loss at step t) plus dprev_h "
            "from step t+1",
            lambda ref, dh, cache, k=k: _rnn_last_dh_only(ref, dh, cache)[k],
        )
        for k, output in enumerate(GRADIENTS)
    ),
    *(
        Misconception(
            "lstm_backward",
            output,
            "it drops the gradient along the cell state: carry dprev_c from step t to step t-1 as its "
            "dnext_c (it starts at zero after the last step)",
            lambda ref, dh, cache, k=k: _lstm_without_cell_path(ref, dh, cache)[k],
        )
        for k, output in enumerate(GRADIENTS)
    ),
    *(
        Misconception(
            "rnn_step_backward",
            output,
            "it takes the tanh of next_h again: next_h is already tanh(a), so da = dnext_h * (1 - next_h**2)",
            lambda ref, *inputs, k=k: _tanh_twice(ref, *inputs)[k],
        )
        for k, output in enumerate(("dx", "dprev_h", "dWx", "dWh", "db"))
    ),
    *(
        Misconception(
            "lstm_step_backward",
            output,
            "its cell gradient misses the path through next_h: "
            "dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2)",
            lambda ref, *inputs, k=k: _cell_path_without_h(ref, *inputs)[k],
        )
        for k, output in enumerate(("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"))
    ),
    *(
        Misconception(
            "lstm_step_forward",
            output,
            WRONG_ORDER.format(order=", ".join(order)),
            lambda ref, *inputs, order=order, k=k: _step_forward_in_order(order)(ref, *inputs)[k],
        )
        for order in SWAPPED_GATES
        for k, output in enumerate(("next_h", "next_c"))
    ),
    *(
        Misconception(
            "lstm_step_backward",
            output,
            f"it stacks the gate gradients in the order {', '.join(order)}: stack them as i, f, o, g, "
            "the order of the blocks of a",
            lambda ref, *inputs, order=order, k=k: _gates(order)(ref.lstm_step_backward(*inputs)[k]),
        )
        for order in SWAPPED_GATES
        for k, output in ((3, "dWx"), (4, "dWh"), (5, "db"))
    ),
    Misconception(
        "lstm_step_forward",
        "next_h",
        "it is o * next_c, without the tanh: next_h = o * tanh(next_c)",
        lambda ref, *inputs: ref.lstm_step_forward(*inputs)[2][7] * ref.lstm_step_forward(*inputs)[1],
    ),
    Misconception("lstm_step_backward", "dWx", AVERAGED, _mean_over_batch("lstm_step_backward", 3)),
)

SUITE = Suite(
    __file__,
    assignment="rnn_step_by_step",
    functions=FUNCTIONS,
    cases=CASES,
    mutation_advice=MUTATION_ADVICE,
    shape_advice=SHAPE_ADVICE,
    gradient_checks=GRADIENT_CHECKS,
    speed=SPEED,
    misconceptions=MISCONCEPTIONS,
)

# One test per exercise, named after its function: rnn_step_forward_test(rnn_step_forward), ...; a
# backward test takes your forward pass too, for its gradient check (testkit.py makes them)
TESTS = SUITE.tests()
globals().update(TESTS)

__all__ = ["PublicTestFailure", *TESTS, "rel_error"]
