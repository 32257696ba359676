"""Mutation testing (autograder/mutants.py): the operators make the mutants they should, only inside
the solution region, each once; equivalent mutants are recognised; end to end on a tiny course."""

import ast
import json
import shutil
import time

import numpy as np
import pytest
from helpers import ASSIGNMENTS, COURSE

from autograder import results
from autograder.cli import main
from autograder.course import Course
from autograder.mutants import (
    OPERATORS,
    CheckTask,
    Mutant,
    MutantReport,
    Probe,
    capped,
    equivalent_on,
    hidden_verdict,
    mutants_of_cell,
    outcome,
    redrawn,
    run_in_children,
    run_mutants,
    same,
    solution_lines,
    strip_markers,
)
from autograder.runtime import SLOW, WRONG_WHEN_TIMED

SAMPLE = '''# GRADED FUNCTION: layer
def layer(A_prev, W, b, hparameters, cache):
    """A sample: x = x + 1 in the docstring stays as it is."""
    A_cached, W_cached = cache
    ### BEGIN SOLUTION
    stride, pad = hparameters["stride"], hparameters["pad"]
    n = (A_prev.shape[1] + 2 * pad - 3) // stride + 1
    Z = np.sum(A_prev[:, 0 : n * stride : stride] * W[0]) + b
    total = A_prev.sum(axis=1)
    A_prev = A_prev + Z
    out = np.transpose(A_prev, (0, 2, 1, 3))
    for i in range(n):
        if i > 0:
            Z += max(i, 1) - total[i]
    W_flat = W.copy()
    e = np.einsum("ij,jk->ik", W_flat, W_flat).T
    ### END SOLUTION
    return Z, -out, e
'''

# A line each operator's mutants must include (the `+` line of its diff, stripped).
EXPECTED = {
    "slice off by one": [
        "Z = np.sum(A_prev[:, 1 : n * stride : stride] * W[0]) + b",
        "for i in range(n + 1):",
    ],
    "index off by one": ["Z += max(i, 1) - total[i - 1]"],
    "dropped stride": [
        "Z = np.sum(A_prev[:, 0 : n : stride] * W[0]) + b",
        "Z = np.sum(A_prev[:, 0:n * stride] * W[0]) + b",
        "n = A_prev.shape[1] + 2 * pad - 3 + 1",
    ],
    "dropped factor": ["Z = np.sum(A_prev[:, 0 : n * stride : stride]) + b"],
    "dropped pad": ["n = (A_prev.shape[1] + 2 * 0 - 3) // stride + 1"],
    "swapped axis": [
        "total = A_prev.sum(axis=2)",
        "out = np.transpose(A_prev, (0, 1, 2, 3))",
        'e = np.einsum("ij,jk->ki", W_flat, W_flat).T',
        'e = np.einsum("ij,jk->ik", W_flat, W_flat)',
    ],
    "flipped kernel": [
        "Z = np.sum(A_prev[:, 0 : n * stride : stride] * W[::-1, ::-1][0]) + b",
        "W_flat = W[::-1, ::-1].copy()",
    ],
    "sum turned into mean": [
        "Z = np.mean(A_prev[:, 0 : n * stride : stride] * W[0]) + b",
        "total = A_prev.mean(axis=1)",
    ],
    "dropped term": ["Z = np.sum(A_prev[:, 0 : n * stride : stride] * W[0])", "Z = max(i, 1) - total[i]"],
    "wrong sign": [
        "Z = np.sum(A_prev[:, 0 : n * stride : stride] * W[0]) - b",
        "Z -= max(i, 1) - total[i]",
        "Z += max(i, 1) + total[i]",
    ],
    "in-place write": ["A_prev += Z", "W_flat = W"],
    "comparison flip": ["if i >= 0:"],
    "max/min swapped": ["Z += min(i, 1) - total[i]"],
    "constant off by one": ["n = (A_prev.shape[1] + 3 * pad - 3) // stride + 1", "if i > 1:"],
}


def added(mutant: Mutant) -> list[str]:
    return [line[1:].strip() for line in mutant.diff.splitlines()[2:] if line.startswith("+")]


@pytest.fixture(scope="module")
def sample():
    return mutants_of_cell("layer", SAMPLE, limit=1000)


def test_every_operator_makes_its_mutants(sample):
    assert set(EXPECTED) == set(OPERATORS)
    for operator, lines in EXPECTED.items():
        made = {line for mutant in sample if mutant.operator == operator for line in added(mutant)}
        for line in lines:
            assert line in made, f"{operator}: {line!r} not among {sorted(made)}"


def test_mutants_parse_differ_once_each_and_change_one_line_of_the_solution(sample):
    original = ast.dump(ast.parse(SAMPLE))
    dumps = [ast.dump(ast.parse(mutant.source)) for mutant in sample]
    assert original not in dumps
    assert len(set(dumps)) == len(dumps)
    ((first, last),) = solution_lines(SAMPLE)
    lines = SAMPLE.splitlines()
    for mutant in sample:
        changed = [n for n, (a, b) in enumerate(zip(lines, mutant.source.splitlines()), 1) if a != b]
        assert changed == [mutant.line] and first <= mutant.line <= last, mutant.diff
        assert len(mutant.source.splitlines()) == len(lines)
        assert mutant.diff.startswith("--- layer (reference)\n+++ layer (mutant)\n@@")


def test_the_unchanged_function_and_what_lies_outside_the_solution_are_never_mutants():
    cell = SAMPLE.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")
    assert mutants_of_cell("layer", cell) == []  # no solution region: nothing to mutate
    same_twice = "def f(x):\n    ### BEGIN SOLUTION\n    y = x\n    ### END SOLUTION\n    return -x + 1\n"
    assert mutants_of_cell("f", same_twice) == []


def test_a_replacement_keeps_the_text_around_it_and_of_the_operands_it_keeps():
    cell = "def f(x, stride):\n    ### BEGIN SOLUTION\n    y = 2 * (x  +  stride * 3)\n    ### END SOLUTION\n"
    made = {line for mutant in mutants_of_cell("f", cell) for line in added(mutant)}
    assert "y = 2 * (x  +  3)" in made  # dropped stride
    assert "y = 2 * (x - stride * 3)" in made  # wrong sign
    assert "y = 2 * (x)" in made  # dropped term


def test_the_cap_keeps_every_operator_and_the_order():
    mutants = [Mutant("f", operator, line, "", str(line)) for line, operator in enumerate("aaaaaabbc")]
    kept = capped(mutants, 4)
    assert [m.operator for m in kept] == ["a", "a", "b", "c"]
    assert [m.line for m in kept] == sorted(m.line for m in kept)
    assert capped(mutants, 20) == mutants


def probes(function, *inputs):
    return [Probe([x], {}, outcome(function, [x], {})) for x in inputs]


def test_an_equivalent_mutant_is_recognised_and_a_wrong_one_is_not():
    column = np.arange(3.0).reshape(3, 1)
    wide = np.arange(6.0).reshape(3, 2)

    def reference(x):
        return x.sum(axis=1), (x,)

    def mean_instead(x):  # the same on an axis of size 1
        return x.mean(axis=1), (x,)

    def times_one(x):
        return (x * 1).sum(axis=1), (x,)

    assert equivalent_on(mean_instead, probes(reference, column))
    assert equivalent_on(times_one, probes(reference, column, wide))
    assert not equivalent_on(mean_instead, probes(reference, column, wide))
    assert not equivalent_on(reference, [])  # nothing tried, nothing shown


def test_an_input_written_in_place_or_an_other_dtype_or_an_exception_is_not_equivalent():
    x = np.arange(4.0)

    def reference(x):
        return x + 1

    def in_place(x):
        x += 1
        return x

    def as_int(x):
        return (x + 1).astype(int)

    def raises(x):
        raise ValueError("no")

    for mutant in (in_place, as_int, raises):
        assert not equivalent_on(mutant, probes(reference, x))


def test_values_are_compared_through_caches():
    assert same((np.ones(2), {"pad": 1}), (np.ones(2) + 1e-12, {"pad": 1}))
    assert not same((np.ones(2), {"pad": 1}), (np.ones(2), {"pad": 2}))
    assert not same((np.ones(2),), [np.ones(2)])
    assert not same(np.ones((2, 1)), np.ones(2))
    assert same(np.float64(1.0), np.float64(1.0)) and not same(1.0, np.float64(1.0))


def test_redrawn_inputs_keep_shapes_dtypes_sizes_and_settings():
    rng = np.random.default_rng(0)
    args = [np.ones((2, 3)), (np.arange(4), {"stride": 2, "pad": 1}), 3, 0.5, "max"]
    new = redrawn(args, rng)
    assert new[0].shape == (2, 3) and new[0].dtype == float and not np.allclose(new[0], 1)
    assert new[1][0].dtype == args[1][0].dtype and new[1][1] == {"stride": 2, "pad": 1}
    assert new[2] == 3 and new[3] != 0.5 and new[4] == "max"


def test_summary_and_survivors_leave_the_equivalent_ones_aside():
    mutants = [Mutant("f", "op", n, "", str(n)) for n in range(5)]
    report = MutantReport(mutants, caught_hidden={0, 1}, caught_public={0}, equivalent={4})
    assert report.summary() == (
        "mutants: 2 of 4 caught by the hidden tests, 1 of 4 by the public tests (1 equivalent set aside)"
    )
    assert report.survivors() == mutants[2:4]


def test_the_submitted_cell_has_no_solution_markers():
    stripped = strip_markers(SAMPLE).splitlines()
    assert stripped == [line for line in SAMPLE.splitlines() if "### " not in line]
    assert len(stripped) == len(SAMPLE.splitlines()) - 2


def test_a_hidden_verdict_counts_a_slow_mutant_apart():
    def result(*tests):
        rows = [results.TestResult("t", *test) for test in tests]
        return results.SubmissionResult("m0001", "a", tests=rows)

    right, wrong = ("f", "correctness", 2.0, 2.0), ("f", "correctness", 0.0, 2.0)
    slow = ("f", "runtime", 0.0, 5.0, "", SLOW)
    wrong_when_timed = ("f", "runtime", 0.0, 5.0, "", WRONG_WHEN_TIMED)
    other = ("g", "correctness", 0.0, 2.0)
    assert hidden_verdict(result(right, other), "f") == "passed"
    assert hidden_verdict(result(right, slow), "f") == "slow"
    assert hidden_verdict(result(wrong, slow), "f") == "caught"
    assert hidden_verdict(result(right, wrong_when_timed), "f") == "caught"
    assert hidden_verdict(results.SubmissionResult("m0001", "a", problem="timed out"), "f") == "caught"
    assert hidden_verdict(None, "f") == "caught"


def test_a_child_that_hangs_is_stopped_and_one_that_fails_says_so():
    hangs = "def f(x):\n    while True:\n        pass\n"
    broken = "def f(x):\n    return x +\n"
    probe = [Probe([1], {}, (1, [1], {}))]
    somewhere = COURSE.assignment(ASSIGNMENTS[0])  # not used: neither gets to its public test
    tasks = [CheckTask(somewhere, "f", {"f": cell}, probe, "", None) for cell in (hangs, broken)]
    started = time.monotonic()
    messages = run_in_children(tasks, jobs=2, timeout=1.0)
    assert time.monotonic() - started < 15
    assert messages[0] == [("timeout",)]
    assert messages[1] == [("equivalent", False), ("public", True, "the cell does not run: SyntaxError")]


@pytest.mark.slow
def test_a_tiny_course_end_to_end(tmp_path, capsys):
    """A scaffolded assignment whose reference reads `np.where(Z > 0, Z, 0.0)`: `Z >= 0` is
    equivalent, `Z > 1` and `Z > -1` are caught by both the public and the hidden tests."""
    shutil.copy(COURSE.root / "nbgrader_config.py", tmp_path)
    assert main(["--course", str(tmp_path), "new", "tiny_relu"]) == 0
    assert main(["--course", str(tmp_path), "release", "tiny_relu"]) == 0
    capsys.readouterr()
    course = Course.load(tmp_path)
    assignment = course.assignment("tiny_relu")
    notebook = json.loads(assignment.source_notebook.read_text())
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]).replace("np.maximum(Z, 0.0)", "np.where(Z > 0, Z, 0.0)")
    assignment.source_notebook.write_text(json.dumps(notebook))
    stages = set()
    report = run_mutants(
        assignment, course.settings(), jobs=2, on_progress=lambda stage, *_: stages.add(stage)
    )
    assert sorted(added(mutant)[0] for mutant in report.mutants) == [
        "A = np.where(Z > -1, Z, 0.0)",
        "A = np.where(Z > 1, Z, 0.0)",
        "A = np.where(Z >= 0, Z, 0.0)",
    ]
    equivalent = [report.mutants[index] for index in report.equivalent]
    assert [added(mutant)[0] for mutant in equivalent] == ["A = np.where(Z >= 0, Z, 0.0)"]
    assert report.summary() == (
        "mutants: 2 of 2 caught by the hidden tests, 2 of 2 by the public tests (1 equivalent set aside)"
    )
    assert report.survivors() == [] and report.warnings == []
    assert {"checking", "grading"} <= stages
