"""Time autograder.similarity on a synthetic class, and check it finds the planted copies and no more.

The class (--students, 500 by default) submits the eight graded functions of conv_step_by_step,
each version built from a base implementation: the reference solution of the source notebook or
one of the course-style versions below. Every student names the variables their own way, is
reformatted (ast.unparse), writes their own comments and docstrings; an honest student also
adds a few statements of their own (checks, debug prints, intermediate values), so honest
versions of one base differ as real ones do. Besides:

* some students submit the textbook version (the base, renamed and recommented only) of a few
  functions: shared by far more than 10 % of the class, it must not count;
* some leave a function as the released stub (with or without comments of their own), or out;
* COPIED_PAIRS students copy half or more of the functions of another (renamed, reformatted,
  recommented, a long one sometimes with one statement added), and three students copy a fourth
  (renamed and recommented only; a group of four: six pairs).

A planted pair's expected functions are those copied that count (at least min_tokens tokens, not
a textbook version). The script prints the time of similar_pairs and the pairs found against the
planted ones, and exits 1 unless they are the same pairs with the same functions.

    python bench/similarity_speed.py [--students 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import ast
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the autograder package, when run as a plain script

from autograder.notebook import graded_cells, read_cells  # noqa: E402
from autograder.similarity import normalise, similar_pairs  # noqa: E402

ASSIGNMENT = "conv_step_by_step"
COPIED_PAIRS = 15
TEXTBOOK_SHARE = 0.2  # of students who submit the textbook version of a function
STUB_SHARE = 0.03
MISSING_SHARE = 0.02
TOKENS_PER_OWN_STATEMENT = 40  # an honest student adds 2-3 statements, and one more per 40 tokens

LOOP_BASES = {
    "zero_pad": [
        """
def zero_pad(X, pad):
    m, n_H, n_W, n_C = X.shape
    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C))
    X_pad[:, pad:pad + n_H, pad:pad + n_W, :] = X
    return X_pad
"""
    ],
    "conv_single_step": [
        """
def conv_single_step(a_slice_prev, W, b):
    s = np.multiply(a_slice_prev, W)
    Z = np.sum(s)
    Z = Z + float(b)
    return Z
"""
    ],
    "conv_forward": [
        """
def conv_forward(A_prev, W, b, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    n_H = int((n_H_prev + 2 * pad - f) / stride) + 1
    n_W = int((n_W_prev + 2 * pad - f) / stride) + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    weights = W[:, :, :, c]
                    biases = b[:, :, :, c]
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, weights, biases)
    cache = (A_prev, W, b, hparameters)
    return Z, cache
""",
        """
def conv_forward(A_prev, W, b, hparameters):
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    f = W.shape[0]
    A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = sliding_window_view(A, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    Z = np.einsum("mhwcij,ijcn->mhwn", windows, W) + b.reshape(1, 1, 1, -1)
    cache = (A_prev, W, b, hparameters)
    return Z, cache
""",
    ],
    "pool_forward": [
        """
def pool_forward(A_prev, hparameters, mode="max"):
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
"""
    ],
    "conv_backward": [
        """
def conv_backward(dZ, cache):
    (A_prev, W, b, hparameters) = cache
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    (m, n_H, n_W, n_C) = dZ.shape
    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))
    dW = np.zeros((f, f, n_C_prev, n_C))
    db = np.zeros((1, 1, 1, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    window = (slice(vert_start, vert_end), slice(horiz_start, horiz_end))
                    da_prev_pad[window] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
        if pad > 0:
            dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]
        else:
            dA_prev[i, :, :, :] = da_prev_pad
    return dA_prev, dW, db
"""
    ],
    "create_mask_from_window": [
        """
def create_mask_from_window(x):
    mask = (x == np.max(x))
    return mask
"""
    ],
    "distribute_value": [
        """
def distribute_value(dz, shape):
    (n_H, n_W) = shape
    average = dz / (n_H * n_W)
    a = np.ones(shape) * average
    return a
"""
    ],
    "pool_backward": [
        """
def pool_backward(dA, cache, mode="max"):
    (A_prev, hparameters) = cache
    stride = hparameters["stride"]
    f = hparameters["f"]
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    if mode == "max":
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = create_mask_from_window(a_prev_slice)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask * dA[i, h, w, c]
                    elif mode == "average":
                        da = dA[i, h, w, c]
                        shape = (f, f)
                        spread = distribute_value(da, shape)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += spread
    return dA_prev
"""
    ],
}

WORDS = "the this we here now loop over slice window pad sum max mean shape grad step get update".split()
STYLES = ("{}", "my_{}", "{}_", "{}2", "tmp_{}", "{}_val", "x_{}", "the_{}")


# --- building versions ---------------------------------------------------------------------------


def bound_names(tree: ast.AST) -> list[str]:
    """The names the code binds, in order of appearance (what a student may rename)."""
    names: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names[node.id] = None
        elif isinstance(node, ast.arg):
            names[node.arg] = None
    return list(names)


def rename(tree: ast.AST, rng: random.Random) -> None:
    """Rename every bound name in one student's style (the function's own name stays)."""
    style = rng.choice(STYLES)
    mapping = {name: style.format(name.lower() if rng.random() < 0.5 else name) for name in bound_names(tree)}
    if len(set(mapping.values())) < len(mapping):
        mapping = {name: f"{name}_{index}" for index, name in enumerate(mapping)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
        elif isinstance(node, ast.arg):
            node.arg = mapping[node.arg]


def phrase(rng: random.Random, words: int = 4) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def own_statement(function: ast.FunctionDef, rng: random.Random) -> ast.stmt:
    """A statement of the student's own: a shape check, a debug print or an intermediate value."""
    argument = rng.choice(function.args.args).arg
    number = rng.randrange(1000)
    templates = [
        f"assert {argument} is not None, {phrase(rng)!r}",
        f"print({phrase(rng, 2)!r}, {number})",
        f"{rng.choice(WORDS)}_{number} = {number} * {rng.randrange(2, 9)}",
        f"debug = {number} > {rng.randrange(1000)}",
        f"eps = 1e-{rng.randrange(3, 12)} + {number}",
    ]
    return ast.parse(rng.choice(templates)).body[0]


def add_own_statements(function: ast.FunctionDef, count: int, rng: random.Random) -> None:
    for _ in range(count):
        function.body.insert(rng.randrange(len(function.body)), own_statement(function, rng))


def recomment(source: str, rng: random.Random) -> str:
    """The student's own comments and blank lines between the lines of the code."""
    lines = []
    for line in source.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        if rng.random() < 0.25:
            lines.append(f"{indent}# {phrase(rng)}")
        if rng.random() < 0.1:
            lines.append("")
        lines.append(line + (f"  # {phrase(rng, 2)}" if rng.random() < 0.15 else ""))
    return "\n".join(lines) + "\n"


def version(base: str, rng: random.Random, own: int, name: str) -> str:
    """One student's version of a base implementation: renamed, `own` statements added, with their
    own docstring and comments, as a graded cell."""
    tree = ast.parse(base)
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef))
    rename(function, rng)
    add_own_statements(function, own, rng)
    if rng.random() < 0.5:
        function.body.insert(0, ast.Expr(ast.Constant(phrase(rng, 6))))
    return f"# GRADED FUNCTION: {name}\n" + recomment(ast.unparse(tree), rng)


def stub_version(stub: str, rng: random.Random) -> str:
    return stub if rng.random() < 0.5 else recomment(stub, rng)


# --- the class -----------------------------------------------------------------------------------


class SyntheticClass:
    """The submissions, the stubs and the planted pairs (pair -> the functions that should match)."""

    def __init__(self, students: int, seed: int, min_tokens: int) -> None:
        self.rng = random.Random(seed)
        source = graded_cells(read_cells(REPO / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
        self.released = graded_cells(read_cells(REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
        self.bases = {name: [source[name], *LOOP_BASES[name]] for name in self.released}
        self.stubs = {name: normalise(stub) for name, stub in self.released.items()}
        self.base_tokens = {base: len(normalise(base)) for bases in self.bases.values() for base in bases}
        self.min_tokens = min_tokens
        self.names = [f"student{index:04d}" for index in range(students)]
        self.textbook: dict[str, set[str]] = {name: set() for name in self.names}
        self.submissions = {name: self.honest(name) for name in self.names}
        self.planted: dict[tuple[str, str], tuple[str, ...]] = {}
        self.plant_copies()

    def honest(self, student: str) -> dict[str, str]:
        functions = {}
        for name, stub in self.released.items():
            draw = self.rng.random()
            if draw < MISSING_SHARE:
                continue
            if draw < MISSING_SHARE + STUB_SHARE:
                functions[name] = stub_version(stub, self.rng)
                continue
            textbook = self.rng.random() < TEXTBOOK_SHARE
            base = self.bases[name][0 if textbook else self.rng.randrange(len(self.bases[name]))]
            own = self.rng.randint(2, 3) + self.base_tokens[base] // TOKENS_PER_OWN_STATEMENT
            own = 0 if textbook else own
            functions[name] = version(base, self.rng, own, name)
            if textbook:
                self.textbook[student].add(name)
        return functions

    def plant_copies(self) -> None:
        chosen = self.rng.sample(self.names, 2 * COPIED_PAIRS + 4)
        for index in range(COPIED_PAIRS):
            self.copy(chosen[2 * index], [chosen[2 * index + 1]])
        self.copy(chosen[-4], chosen[-3:])  # three students copy a fourth

    def copy(self, original: str, copiers: list[str]) -> None:
        """The copiers take half or more of the original's functions, renamed and recommented; a
        lone copier's long function sometimes gets one statement of their own. Every two of the
        group are a planted pair, with the copied functions that count as evidence."""
        names = list(self.submissions[original])
        taken = self.rng.sample(names, self.rng.randint(max(1, len(names) // 2), len(names)))
        for copier in copiers:
            for name in taken:
                code = self.submissions[original][name]
                own = int(len(copiers) == 1 and len(code.splitlines()) > 25 and self.rng.random() < 0.5)
                self.submissions[copier][name] = version(code, self.rng, own, name)
        evidence = tuple(name for name in taken if self.evidence(original, name))
        group = [original, *copiers]
        for index, a in enumerate(group):
            for b in group[index + 1 :]:
                self.planted[tuple(sorted((a, b)))] = evidence

    def evidence(self, student: str, name: str) -> bool:
        """Whether a copy of the student's version would count: long enough, not the stub or the
        textbook version."""
        tokens = normalise(self.submissions[student][name])
        textbook = name in self.textbook[student]
        return not textbook and len(tokens) >= self.min_tokens and tokens != self.stubs[name]

    def expected(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """Planted pairs with at least one function of evidence, its functions in the order of the
        first student's notebook."""
        result = {}
        for (a, b), functions in self.planted.items():
            ordered = tuple(name for name in self.submissions[a] if name in functions)
            if ordered:
                result[(a, b)] = ordered
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="times similar_pairs runs (the best is shown)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    synthetic = SyntheticClass(args.students, args.seed, min_tokens=40)
    built = time.perf_counter() - started
    sources = sum(len(functions) for functions in synthetic.submissions.values())
    lines = sum(
        code.count("\n") for functions in synthetic.submissions.values() for code in functions.values()
    )
    print(f"{args.students} students, {sources} graded functions, {lines} lines (built in {built:.1f} s)")

    times = []
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        pairs = similar_pairs(synthetic.submissions, synthetic.released)
        times.append(time.perf_counter() - started)
    each = ", ".join(f"{t:.2f}" for t in times)
    print(f"similar_pairs: {min(times):.2f} s (best of {len(times)}: {each})")

    found = {(p.student_a, p.student_b): p.functions for p in pairs}
    expected = synthetic.expected()
    for pair in pairs:
        mark = "planted" if (pair.student_a, pair.student_b) in expected else "NOT PLANTED"
        print(
            f"  {pair.student_a} {pair.student_b} {pair.similarity:.3f} {', '.join(pair.functions)} [{mark}]"
        )
    missed = {pair: functions for pair, functions in expected.items() if pair not in found}
    wrong = {
        pair: (found[pair], functions)
        for pair, functions in expected.items()
        if found.get(pair, functions) != functions
    }
    extra = set(found) - set(expected)
    print(
        f"pairs found {len(found)}, planted {len(expected)}; missed {len(missed)}, not planted {len(extra)}"
    )
    for pair, functions in missed.items():
        print(f"  missed {pair}: {functions}")
    for pair, (got, want) in wrong.items():
        print(f"  {pair}: found {got}, planted {want}")
    return 0 if not missed and not extra and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
