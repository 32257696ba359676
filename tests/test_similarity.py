"""Near-identical graded functions across submissions (autograder.similarity): renaming, reformatting
and recommenting do not hide a copy; different implementations, stubs, one-liners, versions the
whole class shares and hostile sources are never evidence.

The implementations are written as different students would write them."""

import time
from pathlib import Path

import pytest

from autograder.notebook import graded_cells, read_cells
from autograder.similarity import MAX_SOURCE_BYTES, Pair, normalise, similar_pairs, similarity

REPO = Path(__file__).resolve().parents[1]

ZERO_PAD_STUB = '''# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    """Pad every image of X with zeros around its height and width."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")
    return X_pad
'''

CONV_FORWARD_STUB = '''# GRADED FUNCTION: conv_forward
from numpy.lib.stride_tricks import sliding_window_view


def conv_forward(A_prev, W, b, hparameters):
    """Forward pass of a convolution layer (cross-correlation, no kernel flip)."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")
    cache = (A_prev, W, b, hparameters)
    return Z, cache
'''

POOL_FORWARD_STUB = '''# GRADED FUNCTION: pool_forward
def pool_forward(A_prev, hparameters, mode="max"):
    """Forward pass of a pooling layer, applied to every channel separately."""
    # YOUR CODE HERE
    raise NotImplementedError("replace this line with your code")
    cache = (A_prev, hparameters)
    return A, cache
'''

RELEASED = {"zero_pad": ZERO_PAD_STUB, "conv_forward": CONV_FORWARD_STUB, "pool_forward": POOL_FORWARD_STUB}

# --- Alice: the course's four loops ---------------------------------------------------------------

ALICE_ZERO_PAD = '''# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    """Pad every image of X with zeros around its height and width."""
    m, n_H, n_W, n_C = X.shape
    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C))
    X_pad[:, pad : pad + n_H, pad : pad + n_W, :] = X
    return X_pad
'''

ALICE_CONV_FORWARD = '''# GRADED FUNCTION: conv_forward
from numpy.lib.stride_tricks import sliding_window_view


def conv_forward(A_prev, W, b, hparameters):
    """Forward pass of a convolution layer (cross-correlation, no kernel flip)."""
    # Retrieve dimensions from A_prev's shape and W's shape
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    # output size, from the formula
    n_H = int((n_H_prev + 2 * pad - f) / stride) + 1
    n_W = int((n_W_prev + 2 * pad - f) / stride) + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):  # loop over the batch of training examples
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):  # loop over vertical axis of the output volume
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):  # loop over horizontal axis of the output volume
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):  # loop over channels (= #filters) of the output volume
                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    weights = W[:, :, :, c]
                    biases = b[:, :, :, c]
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, weights, biases)
    cache = (A_prev, W, b, hparameters)
    return Z, cache
'''

ALICE_POOL_FORWARD = '''# GRADED FUNCTION: pool_forward
def pool_forward(A_prev, hparameters, mode="max"):
    """Forward pass of a pooling layer, applied to every channel separately."""
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    f = hparameters["f"]
    stride = hparameters["stride"]
    n_H = int(1 + (n_H_prev - f) / stride)
    n_W = int(1 + (n_W_prev - f) / stride)
    n_C = n_C_prev
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(a_prev_slice)
                    elif mode == "average":
                        A[i, h, w, c] = np.mean(a_prev_slice)
    cache = (A_prev, hparameters)
    return A, cache
'''

# --- Bob: Alice's conv_forward and pool_forward, renamed, reformatted and recommented ------------

BOB_ZERO_PAD = """# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=(0, 0))
"""

BOB_CONV_FORWARD = '''# GRADED FUNCTION: conv_forward
from numpy.lib.stride_tricks import sliding_window_view


def conv_forward(inputs, filters, bias, hp):
    """My convolution: slide each filter over the padded input and take a dot product at each place."""
    (batch, height_in, width_in, channels_in) = inputs.shape
    (size, size, channels_in, channels_out) = filters.shape

    s = hp['stride']
    p = hp['pad']

    # how big the output is
    height = int( (height_in + 2*p - size) / s ) + 1
    width  = int( (width_in + 2*p - size) / s ) + 1

    out = np.zeros((batch, height, width, channels_out))
    padded = zero_pad(inputs, p)

    for example in range(batch):
        one = padded[example]
        for row in range(height):
            top = row * s
            bottom = top + size
            for col in range(width):
                left = col * s
                right = left + size
                for k in range(channels_out):
                    # the window this filter sees
                    window = one[top:bottom, left:right, :]
                    kernel = filters[:, :, :, k]
                    offset = bias[:, :, :, k]
                    out[example, row, col, k] = conv_single_step(window, kernel, offset)

    cache = (inputs, filters, bias, hp)
    return out, cache
'''

BOB_POOL_FORWARD = """# GRADED FUNCTION: pool_forward
def pool_forward(x, params, mode = "max"):
    # pooling, done with four loops
    (n, h_in, w_in, c_in) = x.shape
    window = params["f"]; step = params["stride"]
    h_out = int(1 + (h_in - window) / step)
    w_out = int(1 + (w_in - window) / step)
    c_out = c_in
    out = np.zeros((n, h_out, w_out, c_out))
    for e in range(n):
        for r in range(h_out):
            r0 = r * step
            r1 = r0 + window
            for q in range(w_out):
                q0 = q * step
                q1 = q0 + window
                for ch in range(c_out):
                    patch = x[e, r0:r1, q0:q1, ch]
                    if mode == "max":
                        out[e, r, q, ch] = np.max(patch)   # biggest value
                    elif mode == "average":
                        out[e, r, q, ch] = np.mean(patch)  # mean value
    cache = (x, params)
    return out, cache
"""

# --- Carol: her own vectorised versions ----------------------------------------------------------

CAROL_ZERO_PAD = '''# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    """Pad every image of X with zeros around its height and width."""
    widths = [(0, 0)] * X.ndim
    widths[1] = widths[2] = (pad, pad)
    out = np.zeros(tuple(n + a + b for n, (a, b) in zip(X.shape, widths)), dtype=X.dtype)
    out[:, pad : out.shape[1] - pad, pad : out.shape[2] - pad] = X
    return out
'''

CAROL_CONV_FORWARD = '''# GRADED FUNCTION: conv_forward
from numpy.lib.stride_tricks import sliding_window_view


def conv_forward(A_prev, W, b, hparameters):
    """Forward pass of a convolution layer (cross-correlation, no kernel flip)."""
    stride, pad = hparameters["stride"], hparameters["pad"]
    f = W.shape[0]
    A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    # every f x f window of every example, with a stride: (m, n_H, n_W, n_C_prev, f, f)
    windows = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    Z = np.einsum("mhwcij,ijcn->mhwn", windows, W, optimize=True) + b.reshape(1, 1, 1, -1)
    cache = (A_prev, W, b, hparameters)
    return Z, cache
'''

CAROL_POOL_FORWARD = '''# GRADED FUNCTION: pool_forward
def pool_forward(A_prev, hparameters, mode="max"):
    """Forward pass of a pooling layer, applied to every channel separately."""
    f, stride = hparameters["f"], hparameters["stride"]
    windows = np.lib.stride_tricks.sliding_window_view(A_prev, (f, f), axis=(1, 2))
    windows = windows[:, ::stride, ::stride]
    if mode == "max":
        A = windows.max(axis=(-2, -1))
    elif mode == "average":
        A = windows.mean(axis=(-2, -1))
    else:
        raise ValueError(f"unknown mode {mode}")
    cache = (A_prev, hparameters)
    return A, cache
'''

# --- Dave: the course's loops too, in his own way ------------------------------------------------

DAVE_CONV_FORWARD = """# GRADED FUNCTION: conv_forward
from numpy.lib.stride_tricks import sliding_window_view


def conv_forward(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    n_H = (n_H_prev - f + 2 * pad) // stride + 1
    n_W = (n_W_prev - f + 2 * pad) // stride + 1
    A_pad = zero_pad(A_prev, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            # all examples and all filters at once for this output position
            patch = A_pad[:, h * stride : h * stride + f, w * stride : w * stride + f, :]
            Z[:, h, w, :] = np.tensordot(patch, W, axes=([1, 2, 3], [0, 1, 2])) + b[0, 0, 0]
    cache = (A_prev, W, b, hparameters)
    return Z, cache
"""

MASK = """# GRADED FUNCTION: create_mask_from_window
def create_mask_from_window(x):
    mask = x == np.max(x)
    return mask
"""


# --- normalise -----------------------------------------------------------------------------------


def test_renaming_reformatting_and_comments_change_nothing():
    assert normalise(BOB_CONV_FORWARD) == normalise(ALICE_CONV_FORWARD)
    assert normalise(BOB_POOL_FORWARD) == normalise(ALICE_POOL_FORWARD)
    assert similarity(ALICE_CONV_FORWARD, BOB_CONV_FORWARD) == 1.0
    assert similarity(ALICE_POOL_FORWARD, BOB_POOL_FORWARD) == 1.0


def test_docstrings_annotations_and_line_breaks_change_nothing():
    plain = "def f(x, y):\n    z = x + y\n    return z * 2\n"
    dressed = '''
def f(a: np.ndarray, b: "int") -> float:
    """Add them.

    Twice."""
    "a stray string statement"

    c = a + b  # the sum
    return (c *
            2)
'''
    assert normalise(dressed) == normalise(plain)
    assert normalise(plain.replace("    ", "\t")) == normalise(plain)


def test_tokens_keep_attributes_modules_builtins_literals_and_drop_local_names():
    tokens = normalise(ALICE_CONV_FORWARD)
    for kept in (".shape", "np", ".zeros", "range", "int", "'stride'", "zero_pad", "conv_single_step", "2"):
        assert kept in tokens
    for local in ("A_prev", "hparameters", "vert_start", "a_slice_prev", "i", "c"):
        assert local not in tokens
    start = tokens.index("FunctionDef")
    assert tokens[start : start + 7] == ["FunctionDef", "v0", "arguments", "v1", "v2", "v3", "v4"]
    assert not any(token.startswith("#") or "Retrieve" in token for token in tokens)


def test_import_aliases_read_as_what_they_import():
    assert normalise("import numpy as xp\ny = xp.sum(xp.ones(3))") == normalise(
        "import numpy as np\ny = np.sum(np.ones(3))"
    )
    assert normalise("from numpy import sum as total\ny = total(3)") == normalise(
        "from numpy import sum\ny = sum(3)"
    )


def test_a_global_named_like_a_renamed_name_stays_apart():
    assert normalise("def f():\n    return v0")[-4:] == ["Return", "$v0", "}", "}"]


def test_ipython_magic_lines_are_dropped():
    with_magic = ALICE_POOL_FORWARD.replace("    A = np.zeros", "    %time x = 1\n    !ls\n    A = np.zeros")
    assert normalise(with_magic) == normalise(ALICE_POOL_FORWARD)


def test_different_implementations_are_far_apart():
    assert similarity(ALICE_CONV_FORWARD, CAROL_CONV_FORWARD) < 0.5
    assert similarity(ALICE_POOL_FORWARD, CAROL_POOL_FORWARD) < 0.5
    assert similarity(ALICE_ZERO_PAD, CAROL_ZERO_PAD) < 0.5
    assert similarity(ALICE_CONV_FORWARD, DAVE_CONV_FORWARD) < 0.9  # the same loops, written otherwise
    assert similarity(ALICE_CONV_FORWARD, ALICE_POOL_FORWARD) < 0.9


def test_a_few_edits_keep_a_copy_near_but_not_identical():
    edited = BOB_CONV_FORWARD.replace("    out = np.zeros", "    assert s > 0\n    out = np.zeros")
    assert 0.9 <= similarity(ALICE_CONV_FORWARD, edited) < 1.0
    dummy_first = BOB_CONV_FORWARD.replace("    (batch,", "    unused = 0\n    (batch,", 1)
    assert similarity(ALICE_CONV_FORWARD, dummy_first) >= 0.9  # no renumbering of everything after it


# --- similar_pairs -------------------------------------------------------------------------------


def test_the_copied_pair_and_only_it():
    submissions = dict(
        alice={
            "zero_pad": ALICE_ZERO_PAD,
            "conv_forward": ALICE_CONV_FORWARD,
            "pool_forward": ALICE_POOL_FORWARD,
        },
        bob={"pool_forward": BOB_POOL_FORWARD, "zero_pad": BOB_ZERO_PAD, "conv_forward": BOB_CONV_FORWARD},
        carol={
            "zero_pad": CAROL_ZERO_PAD,
            "conv_forward": CAROL_CONV_FORWARD,
            "pool_forward": CAROL_POOL_FORWARD,
        },
    )
    pairs = similar_pairs(submissions, RELEASED)
    assert pairs == [Pair("alice", "bob", 1.0, ("conv_forward", "pool_forward"))]  # Bob's zero_pad is short


def test_a_near_identical_copy_is_found():
    edited = BOB_CONV_FORWARD.replace("    out = np.zeros", "    assert s > 0, 'stride'\n    out = np.zeros")
    submissions = dict(alice={"conv_forward": ALICE_CONV_FORWARD}, bob={"conv_forward": edited})
    [pair] = similar_pairs(submissions, RELEASED)
    assert (pair.student_a, pair.student_b, pair.functions) == ("alice", "bob", ("conv_forward",))
    assert 0.9 <= pair.similarity < 1.0
    assert similar_pairs(submissions, RELEASED, threshold=0.99) == []


def test_similarity_is_the_mean_over_the_functions_both_wrote_that_count():
    dave_zero_pad = CAROL_ZERO_PAD.replace("out", "padded")  # Dave's and Carol's zero_pad match
    submissions = dict(
        carol={
            "zero_pad": CAROL_ZERO_PAD,
            "conv_forward": CAROL_CONV_FORWARD,
            "pool_forward": POOL_FORWARD_STUB,
        },
        dave={
            "conv_forward": DAVE_CONV_FORWARD,
            "zero_pad": dave_zero_pad,
            "pool_forward": CAROL_POOL_FORWARD,
        },
    )
    [pair] = similar_pairs(submissions, RELEASED)
    conv_forward = similarity(CAROL_CONV_FORWARD, DAVE_CONV_FORWARD, stub=CONV_FORWARD_STUB)
    expected = (1.0 + conv_forward) / 2  # Carol's pool_forward, the stub, does not count
    assert (pair.student_a, pair.student_b, pair.functions) == ("carol", "dave", ("zero_pad",))
    assert pair.similarity == pytest.approx(expected, abs=1e-6) and pair.similarity < 1.0


def test_the_stub_never_counts_untouched_or_recommented():
    recommented = CONV_FORWARD_STUB.replace("# YOUR CODE HERE", "# TODO: four loops\n    # no idea yet")
    submissions = dict(
        ann={"conv_forward": CONV_FORWARD_STUB},
        ben={"conv_forward": CONV_FORWARD_STUB},
        cat={"conv_forward": recommented},
        dan={"conv_forward": recommented.replace('"""Forward', '"""My forward')},
    )
    assert similar_pairs(submissions, RELEASED, min_tokens=0) == []
    started = {
        name: {"conv_forward": recommented.replace("raise", "Z = 0\n    raise")} for name in ("ann", "ben")
    }
    assert [p.functions for p in similar_pairs(started, RELEASED, min_tokens=0)] == [("conv_forward",)]


def test_the_released_notebooks_stubs_never_count():
    released = graded_cells(read_cells(REPO / "release" / "conv_step_by_step" / "conv_step_by_step.ipynb"))
    assert len(released) == 8 and all(normalise(stub) for stub in released.values())
    submissions = {name: dict(released) for name in ("ann", "ben", "cat")}
    assert similar_pairs(submissions, released, min_tokens=0) == []


def test_short_functions_never_count():
    submissions = dict(ann={"create_mask_from_window": MASK}, ben={"create_mask_from_window": MASK})
    assert len(normalise(MASK)) < 40
    assert similar_pairs(submissions, {}) == []
    assert [p.functions for p in similar_pairs(submissions, {}, min_tokens=10)] == [
        ("create_mask_from_window",)
    ]


def test_a_version_the_class_shares_is_no_evidence():
    """Five students of twenty write the same pool_forward (renamed): more than max(3, 10 % of 20),
    so it is no evidence; the copied conv_forward of two of them still is."""
    submissions = {f"s{i:02d}": {"pool_forward": POOL_FORWARD_STUB} for i in range(20)}
    for i in range(5):
        submissions[f"s{i:02d}"]["pool_forward"] = ALICE_POOL_FORWARD.replace("a_prev_slice", f"window{i}")
    submissions["s00"]["conv_forward"] = ALICE_CONV_FORWARD
    submissions["s01"]["conv_forward"] = BOB_CONV_FORWARD
    assert similar_pairs(submissions, RELEASED) == [Pair("s00", "s01", 1.0, ("conv_forward",))]
    assert similar_pairs(submissions, RELEASED, common_floor=4) == [
        Pair("s00", "s01", 1.0, ("conv_forward",))
    ]
    generous = similar_pairs(submissions, RELEASED, common_share=0.25)  # shared by 5 of 20 is evidence
    assert len(generous) == 10 and all("pool_forward" in pair.functions for pair in generous)
    assert generous[0] == Pair("s00", "s01", 1.0, ("pool_forward", "conv_forward"))


def test_pairs_are_sorted_by_similarity_then_names():
    submissions = dict(
        zoe={"conv_forward": ALICE_CONV_FORWARD},
        yan={"conv_forward": BOB_CONV_FORWARD},
        bea={"conv_forward": CAROL_CONV_FORWARD},
        abe={"conv_forward": CAROL_CONV_FORWARD},
        dan={"conv_forward": DAVE_CONV_FORWARD, "pool_forward": ALICE_POOL_FORWARD},
        cid={
            "conv_forward": DAVE_CONV_FORWARD.replace("patch", "window"),
            "pool_forward": CAROL_POOL_FORWARD,
        },
    )
    pairs = similar_pairs(submissions, RELEASED)
    assert [(p.student_a, p.student_b) for p in pairs] == [("abe", "bea"), ("yan", "zoe"), ("cid", "dan")]
    assert [p.similarity for p in pairs[:2]] == [1.0, 1.0] and 0.5 < pairs[2].similarity < 1.0
    assert pairs[2].functions == ("conv_forward",)
    with pytest.raises(AttributeError):
        pairs[0].similarity = 0.5


def test_only_the_released_functions_are_compared():
    submissions = dict(ann={"helper": ALICE_CONV_FORWARD}, ben={"helper": BOB_CONV_FORWARD})
    assert similar_pairs(submissions, RELEASED) == []
    assert similar_pairs(submissions, {}) == [Pair("ann", "ben", 1.0, ("helper",))]


def test_missing_functions_and_an_empty_class():
    assert similar_pairs({}, RELEASED) == []
    submissions = dict(
        ann={}, ben={"conv_forward": ALICE_CONV_FORWARD}, cat={"conv_forward": BOB_CONV_FORWARD}
    )
    assert similar_pairs(submissions, RELEASED) == [Pair("ben", "cat", 1.0, ("conv_forward",))]


# --- hostile sources -----------------------------------------------------------------------------

HOSTILE = {
    "invalid syntax": "def conv_forward(A_prev, W:\n    return ???\n" * 20,
    "1 MB": "x = 1\n" * 180_000,
    "nested parentheses": "(" * 100_000,
    "nested parentheses under the limit": "(" * 60_000,
    "deep unary": "-" * 60_000 + "1",
    "deep sum": "a+" * 30_000 + "a",
    "deep attributes": "a" + ".b" * 30_000,
    "deep calls": "f" + "()" * 30_000,
    "null bytes": "def f(x):\n    return x\0\0\n" * 10,
    "lone surrogate": "x = '\ud800'\n" * 10,
    "not a string": None,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_sources_normalise_to_nothing(name):
    started = time.perf_counter()
    assert normalise(HOSTILE[name]) == []
    assert time.perf_counter() - started < 2.0


def test_huge_literals_are_short_tokens():
    tokens = normalise("x = 0x" + "f" * 60_000)
    assert len(tokens) < 10 and max(map(len, tokens)) < 40


def test_hostile_sources_never_count():
    assert len(HOSTILE["1 MB"]) > MAX_SOURCE_BYTES
    sources = [*HOSTILE.values(), "x = 0x" + "f" * 60_000]
    submissions = {
        f"{twin}{i:02d}": {"conv_forward": s, "pool_forward": s}
        for twin in "ht"
        for i, s in enumerate(sources)
    }
    submissions.update(alice={"conv_forward": ALICE_CONV_FORWARD}, bob={"conv_forward": BOB_CONV_FORWARD})
    assert similar_pairs(submissions, RELEASED) == [Pair("alice", "bob", 1.0, ("conv_forward",))]
