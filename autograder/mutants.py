"""Mutation testing of an assignment's tests: how many small bugs in the reference solution do the
hidden tests, and the public tests, catch?

The method:

1. **Mutants.** Each graded cell of source/<assignment>/<assignment>.ipynb is parsed with `ast`, and
   every operator of OPERATORS (name -> function over an ast node) proposes replacements for the
   nodes inside the cell's `### BEGIN SOLUTION` / `### END SOLUTION` region. A replacement is
   written in place of the node's source segment, the operands it keeps as the cell writes them (in
   parentheses only where the parse needs them), so the def line, the docstring, the comments and
   the layout stay as they are and the diff is one line. A mutant is kept when its cell parses to
   exactly the tree the replacement means and differs from the reference and from every earlier
   mutant of the function (compared as `ast` dumps, i.e. normalised source). A function with more
   than MAX_PER_FUNCTION keeps that many, taken in turn from each operator, in source order.
2. **Equivalent mutants.** In a child process (forkserver, TIMEOUT_SECONDS each, every core), the
   mutated cell runs in one namespace with numpy and the reference's other graded cells, and the
   function is called on every input the public tests give it (`SUITE.case_inputs`), on
   EXTRA_DRAWS redraws of each (new values, same shapes) and on the public speed check's inputs
   (the size the runtime tests time, where work split into blocks shows). A mutant whose outputs,
   caches included, and whose inputs after the call match the reference's (same types, shapes and
   dtypes, np.allclose) on all of them is *equivalent*: set aside and counted apart.
3. **Public tests.** In the same child, `<function>_test(mutant[, the reference forward pass])`,
   imported from a scratch folder laid out like the release (public_tests.py, public_tests.h5,
   and the kit with the course's limits, autograder.release.ship_kit). The mutant is caught when the
   test raises, or when it does not finish within the timeout (a student's cell that never ends).
   The public speed check fails only far over the limit, so a mutant that is merely slower passes.
4. **Hidden tests.** Every mutant is a submission: the release notebook with the reference
   solution in every graded cell and the mutant in its own cell (nbgrader's
   submitted/m0001/<assignment>/<assignment>.ipynb, ...). One batch grades them all, and the
   reference as a control, with autograder.batch.grade_all: sandboxed, on every core. A mutant is
   caught when its function scores less than full points. One that loses only runtime points,
   over the time limit with right values, is slower than the reference and counts as caught, but
   only when it is over the limit again in a second grading: runtime verdicts are noisy, and a
   right, fast mutant must not count as caught because of one slow run. The equivalent mutants are
   graded too, as a check of that judgment: one the hidden tests catch otherwise than on time has
   been shown to differ (on inputs no public case has), so it is counted with the others, caught
   by the hidden tests, and its public test is run.

Its limits:

- Equivalence is judged on the inputs tried, not proved. A mutant that differs only on inputs the
  public cases (and redraws of their shapes) never produce, such as a pooling window of 1 or a
  single input channel, is set aside as equivalent. Redrawn values are not always inputs a forward
  pass would give (an LSTM cache's gates outside (0, 1)): a mutant that differs only there is
  graded, and survives although equivalent on real caches.
- A mutant that changes speed only (a block size) has the reference's values: it is equivalent
  here and never graded, even where the runtime tests would find it slower.
- One change per mutant. The operators are syntactic and know the meaning of names by convention
  only: `stride` and `pad` by name, a kernel as a name starting with W.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import difflib
import io
import multiprocessing
import multiprocessing.connection
import os
import re
import resource
import shutil
import tempfile
import time
import types
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from autograder.course import Assignment
from autograder.notebook import graded_name
from autograder.reference import reference_cells, reference_functions
from autograder.results import SubmissionResult
from autograder.runtime import SLOW
from autograder.settings import Autograder

MAX_PER_FUNCTION = 60  # mutants of one function, at most
SMALL_CONSTANT = 10  # the largest int constant (in magnitude) shifted by one
EXTRA_DRAWS = 2  # redraws of each public case's inputs, for the equivalence check
TIMEOUT_SECONDS = 20.0  # for one mutant's equivalence check and public test, in its child process
CHILD_MEMORY_BYTES = 8 << 30  # address space of a child process: a mutant's huge array fails there
CONTROL = "reference"  # the student id of the control submission: the reference itself
PRELOAD = ["numpy", "h5py", "autograder.mutants", "autograder.testkit"]  # in the forkserver
SOLUTION = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")

Edit = tuple[ast.AST, ast.AST]  # (a node of the cell, the node that replaces it)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


# ---------------------------------------------------------------------------------- the results


@dataclass(frozen=True)
class Mutant:
    function: str  # the graded function whose cell it changes
    operator: str  # the operator's name, e.g. "slice off by one"
    line: int  # 1-based line in the cell
    diff: str  # a short unified diff of the cell
    source: str  # the mutated cell (as the source notebook has it, solution markers included)


@dataclass
class MutantReport:
    """What run_mutants found. The sets hold indexes into `mutants`; caught_hidden and caught_public
    never hold an equivalent one. public_failures: what the public test of each caught one said
    (its first line); hidden_scores: the score of each mutant's function in the hidden tests."""

    mutants: list[Mutant]
    caught_hidden: set[int] = field(default_factory=set)
    caught_public: set[int] = field(default_factory=set)
    equivalent: set[int] = field(default_factory=set)
    public_failures: dict[int, str] = field(default_factory=dict)
    hidden_scores: dict[int, str] = field(default_factory=dict)  # "7/12", or why there is none
    warnings: list[str] = field(default_factory=list)  # e.g. the control lost points
    seconds: float = 0.0  # the whole run

    def summary(self) -> str:
        """`mutants: K of N caught by the hidden tests, J of N by the public tests (E equivalent set
        aside)`, N counting the non-equivalent mutants only."""
        count = len(self.mutants) - len(self.equivalent)
        return (
            f"mutants: {len(self.caught_hidden - self.equivalent)} of {count} caught by the hidden tests, "
            f"{len(self.caught_public - self.equivalent)} of {count} by the public tests "
            f"({len(self.equivalent)} equivalent set aside)"
        )

    def survivors(self) -> list[Mutant]:
        """The non-equivalent mutants the hidden tests did not catch."""
        return [
            mutant
            for index, mutant in enumerate(self.mutants)
            if index not in self.equivalent and index not in self.caught_hidden
        ]


# ---------------------------------------------------------------------------------- node helpers


@dataclass(frozen=True)
class Scope:
    """What an operator may need to know of the function it mutates."""

    arrays: frozenset[str] = frozenset()  # its arguments, and the names unpacked from one (a cache)


def _literal_int(node: ast.AST) -> int | None:
    """The value of an int literal (`3`, `-1`), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal_int(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _number(value: int) -> ast.expr:
    """An int literal as the parser builds it: a negative one is `-` applied to a constant."""
    return ast.UnaryOp(ast.USub(), ast.Constant(-value)) if value < 0 else ast.Constant(value)


def _shifted(node: ast.expr, by: int) -> ast.expr:
    """node + by: a literal's value, else `node + 1` / `node - 1`."""
    value = _literal_int(node)
    if value is not None:
        return _number(value + by)
    return ast.BinOp(copy.deepcopy(node), ast.Add() if by > 0 else ast.Sub(), ast.Constant(abs(by)))


def _named(node: ast.AST, word: str) -> bool:
    """`word`, `word_...` or `hparameters["word"]`."""
    if isinstance(node, ast.Name):
        return node.id == word or node.id.startswith(word + "_")
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return node.slice.value == word
    return False


def _is_kernel(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id.startswith("W")


def _call_name(node: ast.AST) -> str | None:
    """`range` of range(...), `sum` of np.sum(...) or x.sum(...)."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _flipped(name: ast.Name) -> ast.expr:
    """W[::-1, ::-1]."""
    reverse = ast.Slice(None, None, _number(-1))
    both = ast.Tuple([reverse, copy.deepcopy(reverse)], ast.Load())
    return ast.Subscript(ast.Name(name.id, ast.Load()), both, ast.Load())


def _adjacent_swaps(items: list) -> Iterator[list]:
    """items with two adjacent, different items swapped, for each such pair."""

    def key(item: Any) -> Any:
        return ast.dump(item) if isinstance(item, ast.AST) else item

    for i in range(len(items) - 1):
        if key(items[i]) != key(items[i + 1]):
            yield [*items[:i], items[i + 1], items[i], *items[i + 2 :]]


def _swapped_spec(spec: str) -> Iterator[str]:
    """An einsum spec with two adjacent letters of its output (else its first operand) swapped."""
    inputs, arrow, output = spec.partition("->")
    if arrow:
        for letters in _adjacent_swaps(list(output)):
            yield inputs + arrow + "".join(letters)
    else:
        first, comma, rest = spec.partition(",")
        for letters in _adjacent_swaps(list(first)):
            yield "".join(letters) + comma + rest


# ---------------------------------------------------------------------------------- the operators


def slice_off_by_one(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """A slice's lower or upper bound, or an argument of range(...), +1 and -1."""
    if isinstance(node, ast.Slice):
        bounds = [bound for bound in (node.lower, node.upper) if bound is not None]
    elif _call_name(node) == "range" and isinstance(node.func, ast.Name):
        bounds = list(node.args)
    else:
        return
    for bound in bounds:
        yield bound, _shifted(bound, 1)
        yield bound, _shifted(bound, -1)


def dropped_stride(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """`stride * x` and `x * stride` -> x, `x // stride` -> x, a slice's `:stride` step dropped."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        if _named(node.left, "stride"):
            yield node, copy.deepcopy(node.right)
        if _named(node.right, "stride"):
            yield node, copy.deepcopy(node.left)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.FloorDiv, ast.Div)):
        if _named(node.right, "stride"):
            yield node, copy.deepcopy(node.left)
    elif isinstance(node, ast.Slice) and node.step is not None and _named(node.step, "stride"):
        yield node, ast.Slice(copy.deepcopy(node.lower), copy.deepcopy(node.upper), None)


def dropped_factor(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """`a * b` -> a and -> b, `a / b` and `a // b` -> a."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        yield node, copy.deepcopy(node.left)
        yield node, copy.deepcopy(node.right)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.FloorDiv)):
        yield node, copy.deepcopy(node.left)


def index_off_by_one(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """An index by a name (`x[:, t]`, `cache[t]`), +1 and -1."""
    if isinstance(node, ast.Subscript):
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for item in items:
            if isinstance(item, ast.Name):
                yield item, _shifted(item, 1)
                yield item, _shifted(item, -1)


def dropped_pad(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """The padding read as 0: `pad` (or `hparameters["pad"]`) -> 0 where it is used."""
    if _named(node, "pad") and isinstance(getattr(node, "ctx", None), ast.Load):
        yield node, ast.Constant(0)


def swapped_axis(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """`axis=k` -> k - 1 and k + 1 (from 0 to 3, or negative); two adjacent axes of a transpose, a
    tensordot's axes or an einsum spec swapped; a `.T` dropped."""
    if isinstance(node, ast.Call):
        yield from _swapped_call_axes(node)
    elif isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        yield node, copy.deepcopy(node.value)


def _swapped_call_axes(call: ast.Call) -> Iterator[Edit]:
    for keyword in call.keywords:
        value = _literal_int(keyword.value)
        if keyword.arg == "axis" and value is not None:
            low, high = (0, 3) if value >= 0 else (-3, -1)
            for other in (value - 1, value + 1):
                if low <= other <= high:
                    yield keyword.value, _number(other)
        if keyword.arg == "axes" and isinstance(keyword.value, (ast.Tuple, ast.List)):
            for inner in keyword.value.elts:
                if isinstance(inner, (ast.Tuple, ast.List)):
                    for elts in _adjacent_swaps(inner.elts):
                        yield inner, type(inner)(copy.deepcopy(elts), ast.Load())
    name = _call_name(call)
    if name == "transpose" and call.args and isinstance(call.args[-1], (ast.Tuple, ast.List)):
        axes = call.args[-1]  # np.transpose(A, (0, 2, 1)) or A.transpose((0, 2, 1))
        for elts in _adjacent_swaps(axes.elts):
            yield axes, type(axes)(copy.deepcopy(elts), ast.Load())
    elif name == "transpose" and len(call.args) > 1 and None not in map(_literal_int, call.args):
        for args in _adjacent_swaps(call.args):  # A.transpose(0, 2, 1)
            yield call, ast.Call(copy.deepcopy(call.func), copy.deepcopy(args), copy.deepcopy(call.keywords))
    elif name == "einsum" and call.args and isinstance(call.args[0], ast.Constant):
        if isinstance(call.args[0].value, str):
            for spec in _swapped_spec(call.args[0].value):
                yield call.args[0], ast.Constant(spec)


def flipped_kernel(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """A kernel W (a name starting with W) -> W[::-1, ::-1] where it is indexed, multiplied, or has a
    method called on it (W.reshape(...))."""
    if isinstance(node, ast.Subscript) and _is_kernel(node.value):
        yield node.value, _flipped(node.value)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.MatMult)):
        for operand in (node.left, node.right):
            if _is_kernel(operand):
                yield operand, _flipped(operand)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_kernel(node.func.value):
        yield node.func.value, _flipped(node.func.value)


def sum_to_mean(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """np.sum(...) -> np.mean(...), x.sum(...) -> x.mean(...)."""
    if _call_name(node) == "sum" and isinstance(node.func, ast.Attribute):
        yield node.func, ast.Attribute(copy.deepcopy(node.func.value), "mean", ast.Load())


def dropped_term(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """`a + b` -> a and -> b, `a - b` -> a, `x += y` -> `x = y`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield node, copy.deepcopy(node.left)
        yield node, copy.deepcopy(node.right)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        yield node, copy.deepcopy(node.left)
    elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
        yield node, ast.Assign([copy.deepcopy(node.target)], copy.deepcopy(node.value))


def wrong_sign(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """`+` <-> `-` (also `+=` <-> `-=`), `-x` -> x."""
    swap = {ast.Add: ast.Sub, ast.Sub: ast.Add}
    if isinstance(node, ast.BinOp) and type(node.op) in swap:
        yield node, ast.BinOp(copy.deepcopy(node.left), swap[type(node.op)](), copy.deepcopy(node.right))
    elif isinstance(node, ast.AugAssign) and type(node.op) in swap:
        target, value = copy.deepcopy(node.target), copy.deepcopy(node.value)
        yield node, ast.AugAssign(target, swap[type(node.op)](), value)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield node, copy.deepcopy(node.operand)


def in_place_write(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """`x = x + y` -> `x += y` on an argument or cache array x; `A.copy()` and np.copy(A) -> A."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        target, value = node.targets[0], node.value
        if (
            target.id in scope.arrays
            and isinstance(value, ast.BinOp)
            and isinstance(value.left, ast.Name)
            and value.left.id == target.id
        ):
            yield node, ast.AugAssign(ast.Name(target.id, ast.Store()), value.op, copy.deepcopy(value.right))
    elif _call_name(node) == "copy" and isinstance(node.func, ast.Attribute) and not node.keywords:
        if _is_numpy(node.func.value) and len(node.args) == 1:
            yield node, copy.deepcopy(node.args[0])
        elif not _is_numpy(node.func.value) and not node.args:
            yield node, copy.deepcopy(node.func.value)


def _is_numpy(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("np", "numpy")


def comparison_flip(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """`>` <-> `>=`, `<` <-> `<=`, `==` <-> `!=` (comparisons with one operator)."""
    flips = {ast.Gt: ast.GtE, ast.Lt: ast.LtE, ast.Eq: ast.NotEq}
    flips |= {after: before for before, after in flips.items()}
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in flips:
        flipped = flips[type(node.ops[0])]()
        yield node, ast.Compare(copy.deepcopy(node.left), [flipped], copy.deepcopy(node.comparators))


def max_min(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """max <-> min, np.max <-> np.min, np.maximum <-> np.minimum, argmax <-> argmin, amax <-> amin."""
    pairs = {"max": "min", "maximum": "minimum", "argmax": "argmin", "amax": "amin"}
    pairs |= {low: high for high, low in pairs.items()}
    if isinstance(node, ast.Name) and node.id in ("max", "min") and isinstance(node.ctx, ast.Load):
        yield node, ast.Name(pairs[node.id], ast.Load())
    elif isinstance(node, ast.Attribute) and node.attr in pairs and isinstance(node.ctx, ast.Load):
        yield node, ast.Attribute(copy.deepcopy(node.value), pairs[node.attr], ast.Load())


def constant_shift(node: ast.AST, scope: Scope) -> Iterator[Edit]:
    """A small int constant (at most SMALL_CONSTANT) +1 and -1."""
    if isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) <= SMALL_CONSTANT:
        yield node, _number(node.value + 1)
        yield node, _number(node.value - 1)


# The operators, in the order their mutants are tried (a mutant two operators give is the first's).
OPERATORS: dict[str, Callable[[ast.AST, Scope], Iterator[Edit]]] = {
    "slice off by one": slice_off_by_one,
    "index off by one": index_off_by_one,
    "dropped stride": dropped_stride,
    "dropped factor": dropped_factor,
    "dropped pad": dropped_pad,
    "swapped axis": swapped_axis,
    "flipped kernel": flipped_kernel,
    "sum turned into mean": sum_to_mean,
    "dropped term": dropped_term,
    "wrong sign": wrong_sign,
    "in-place write": in_place_write,
    "comparison flip": comparison_flip,
    "max/min swapped": max_min,
    "constant off by one": constant_shift,
}


# ---------------------------------------------------------------------------------- making mutants


def solution_lines(source: str) -> list[tuple[int, int]]:
    """The (first, last) 1-based lines inside each BEGIN/END SOLUTION region of a cell."""
    regions, begin = [], None
    for number, line in enumerate(source.splitlines(), 1):
        match = SOLUTION.match(line)
        if match and match[1] == "BEGIN":
            begin = number
        elif match and begin is not None:
            regions.append((begin + 1, number - 1))
            begin = None
    return regions


def function_scope(tree: ast.AST, name: str) -> Scope:
    """The arguments of the function `name` in `tree`, and the names unpacked from one of them."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            arguments = {arg.arg for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]}
            unpacked = set()
            for statement in ast.walk(node):
                if (
                    isinstance(statement, ast.Assign)
                    and isinstance(statement.value, ast.Name)
                    and statement.value.id in arguments
                ):
                    for target in statement.targets:
                        elements = target.elts if isinstance(target, ast.Tuple) else [target]
                        unpacked |= {elt.id for elt in elements if isinstance(elt, ast.Name)}
            return Scope(frozenset(arguments | unpacked))
    return Scope()


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    """id(node) -> (its parent, the field holding it, its index in that field's list or None)."""
    parents = {}
    for node in ast.walk(tree):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        parents[id(item)] = (node, name, index)
            elif isinstance(value, ast.AST):
                parents[id(value)] = (node, name, None)
    return parents


def _put(parent: ast.AST, name: str, index: int | None, node: ast.AST) -> None:
    if index is None:
        setattr(parent, name, node)
    else:
        getattr(parent, name)[index] = node


def _offset(lines: list[str], line: int, column: int) -> int:
    """The character offset of (1-based line, UTF-8 byte column) in the text of `lines`."""
    before = sum(len(text) for text in lines[: line - 1])
    return before + len(lines[line - 1].encode()[:column].decode())


try:  # ast.unparse's writer, a private class: ast._Unparser up to Python 3.13, then _ast_unparse's
    from ast import _Unparser
except ImportError:  # pragma: no cover (Python 3.14)
    from _ast_unparse import Unparser as _Unparser


class _Keeping(_Unparser):
    """ast.unparse, but an expression copied from the cell is written as the cell writes it (an
    operand kept keeps its spacing and parentheses): the diff shows only what changed. Whatever it
    writes, the mutant is kept only when its cell parses to the tree the replacement means."""

    ATOMS = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.Call, ast.Slice)

    def __init__(self, source: str):
        super().__init__()
        self._cell = source

    def traverse(self, node: Any) -> None:
        segment = None
        if isinstance(node, (ast.expr, ast.slice)) and getattr(node, "end_lineno", None) is not None:
            segment = ast.get_source_segment(self._cell, node)
        if not segment or "\n" in segment:
            super().traverse(node)
        elif isinstance(node, ast.BinOp):
            with self.require_parens(self.binop_precedence[self.binop[type(node.op).__name__]], node):
                self.write(segment)
        elif isinstance(node, self.ATOMS):
            self.write(segment)
        else:
            super().traverse(node)


class _Cell:
    """A graded cell, parsed once, and the mutants of it."""

    def __init__(self, function: str, source: str):
        self.function, self.source = function, source
        self.tree = ast.parse(source)
        self.parents = _parents(self.tree)
        self.lines = source.splitlines(keepends=True)
        self.regions = solution_lines(source)
        self.scope = function_scope(self.tree, function)

    def inside(self, node: ast.AST) -> bool:
        if not hasattr(node, "end_lineno") or id(node) not in self.parents:
            return False
        return any(first <= node.lineno and node.end_lineno <= last for first, last in self.regions)

    def edits(self) -> list[tuple[str, ast.AST, ast.AST]]:
        """(operator, target, replacement) of every operator on every node, in source order."""
        found = []
        for node in ast.walk(self.tree):
            for order, (operator, propose) in enumerate(OPERATORS.items()):
                for target, new in propose(node, self.scope):
                    if self.inside(target):
                        found.append(((target.lineno, target.col_offset, order), operator, target, new))
        found.sort(key=lambda item: item[0])
        return [(operator, target, new) for _, operator, target, new in found]

    def mutated(self, target: ast.AST, new: ast.AST) -> str | None:
        """The cell with `target`'s source replaced by `new`'s, when it parses to the tree meant."""
        parent, name, index = self.parents[id(target)]
        _put(parent, name, index, new)
        expected = ast.dump(self.tree)
        _put(parent, name, index, target)
        start = _offset(self.lines, target.lineno, target.col_offset)
        end = _offset(self.lines, target.end_lineno, target.end_col_offset)
        for text in self.texts(new, target):
            source = self.source[:start] + text + self.source[end:]
            try:
                if ast.dump(ast.parse(source)) == expected:
                    return source
            except SyntaxError:
                continue
        return None

    def texts(self, new: ast.AST, target: ast.AST) -> Iterator[str]:
        """What may stand for `new` in the cell, bare then in parentheses: written with the parts it
        keeps of the cell as the cell writes them, else as ast.unparse writes it."""
        written = ast.get_source_segment(self.source, target) or ""
        if isinstance(new, ast.Constant) and isinstance(new.value, str) and written[:1] in ("'", '"'):
            yield written[0] + new.value + written[0]  # a string keeps its quotes (the parse checks)
        if isinstance(new, ast.stmt) and not hasattr(new, "lineno"):
            new.lineno = target.lineno  # ast.unparse reads a statement's line (for type comments)
        for text in (_Keeping(self.source).visit(new), ast.unparse(new)):
            yield text
            yield f"({text})"

    def mutants(self) -> list[Mutant]:
        seen = {ast.dump(self.tree)}
        mutants = []
        for operator, target, new in self.edits():
            source = self.mutated(target, new)
            if source is None:
                continue
            key = ast.dump(ast.parse(source))
            if key in seen:
                continue
            seen.add(key)
            diff = cell_diff(self.source, source, self.function)
            mutants.append(Mutant(self.function, operator, target.lineno, diff, source))
        return mutants


def cell_diff(before: str, after: str, function: str = "", context: int = 1) -> str:
    """A unified diff of a cell, with `context` lines around each change."""
    labels = f"{function} (reference)".strip(), f"{function} (mutant)".strip()
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), *labels, n=context, lineterm="")
    return "\n".join(lines)


def mutants_of_cell(function: str, source: str, limit: int = MAX_PER_FUNCTION) -> list[Mutant]:
    """The mutants of one graded cell, at most `limit` (see capped)."""
    return capped(_Cell(function, source).mutants(), limit)


def capped(mutants: list[Mutant], limit: int) -> list[Mutant]:
    """At most `limit` mutants: taken in turn from each operator (each in source order), so that
    every operator keeps some; in their original order."""
    if len(mutants) <= limit:
        return mutants
    queues: dict[str, deque[int]] = {}
    for index, mutant in enumerate(mutants):
        queues.setdefault(mutant.operator, deque()).append(index)
    chosen: set[int] = set()
    while len(chosen) < limit:
        for queue in queues.values():
            if queue and len(chosen) < limit:
                chosen.add(queue.popleft())
    return [mutants[index] for index in sorted(chosen)]


def mutants_of(assignment: Assignment) -> list[Mutant]:
    """Every mutant of the assignment's reference solution, function by function in notebook order."""
    cells = reference_cells(assignment)
    return [mutant for name, source in cells.items() for mutant in mutants_of_cell(name, source)]


# ---------------------------------------------------------------------------------- equivalence


@dataclass(frozen=True)
class Probe:
    """An input of a function, and what the reference made of it: its outputs, then its inputs
    after the call (a function that writes into an input differs there)."""

    args: list
    kwargs: dict
    expected: tuple


def same(a: Any, b: Any) -> bool:
    """a and b hold the same values: containers alike item by item, arrays of the same shape and
    dtype close (np.allclose, NaNs equal), numbers close, anything else equal."""
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(a[key], b[key]) for key in a)
        )
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape or x.dtype != y.dtype or type(a) is not type(b):
            return False
        if x.dtype.kind in "fciub":
            return bool(np.allclose(x, y, equal_nan=True))
        return bool(np.array_equal(x, y))
    if isinstance(a, (int, float, complex)) and isinstance(b, (int, float, complex)):
        return type(a) is type(b) and bool(np.isclose(a, b, equal_nan=True))
    try:
        return bool(a == b)
    except Exception:
        return False


def outcome(function: Callable, args: list, kwargs: dict) -> tuple:
    """(output, args after the call, kwargs after the call), the call made on copies; raises what
    the function raises."""
    args, kwargs = copy.deepcopy((args, kwargs))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        output = function(*args, **kwargs)
    return output, args, kwargs


def redrawn(value: Any, rng: np.random.Generator) -> Any:
    """value with new random numbers of the same shapes: float arrays and floats redrawn (at the
    array's scale), int arrays redrawn as small ints; ints, strings and bools kept (sizes, pads)."""
    if isinstance(value, (tuple, list)):
        return type(value)(redrawn(item, rng) for item in value)
    if isinstance(value, dict):
        return {key: redrawn(item, rng) for key, item in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        scale = float(value.std()) or 1.0
        return (rng.standard_normal(value.shape) * scale).astype(value.dtype)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return rng.integers(-9, 10, value.shape).astype(value.dtype)
    if type(value) is float:
        return float(rng.standard_normal())
    return copy.deepcopy(value)


def probes_of(suite: Any, reference: types.SimpleNamespace, function: str) -> list[Probe]:
    """The inputs of the equivalence check of `function`: each public case's, EXTRA_DRAWS redraws
    of each, then the public speed check's (the size the runtime tests time, where splitting the
    work into blocks shows); an input the reference itself fails on is left out."""
    rng = np.random.default_rng(20240601)
    inputs = [
        suite.case_inputs(case_id) for case_id, case in suite.cases.items() if case.function == function
    ]
    inputs += [redrawn(pair, rng) for pair in list(inputs) for _ in range(EXTRA_DRAWS)]
    inputs += speed_inputs(suite, reference, function)
    probes = []
    for args, kwargs in inputs:
        try:
            expected = outcome(getattr(reference, function), args, kwargs)
        except Exception:
            continue
        probes.append(Probe(args, kwargs, expected))
    return probes


def speed_inputs(suite: Any, reference: types.SimpleNamespace, function: str) -> list[tuple[list, dict]]:
    """The (args, kwargs) of the public speed check's cases of `function`, made as the check makes
    them (a backward pass's cache by the reference's forward pass)."""
    if not suite.speed:
        return []
    functions = {name: getattr(reference, name) for name in suite.functions}
    return [
        suite._inputs(case, suite.read_expected, functions)  # Suite.case_inputs knows only suite.cases
        for case in suite.speed.cases.values()
        if case.function == function
    ]


def equivalent_on(function: Callable, probes: list[Probe]) -> bool:
    """function gives the reference's outputs, and leaves the inputs as the reference did, on every
    probe (and there is at least one)."""
    for probe in probes:
        try:
            if not same(outcome(function, probe.args, probe.kwargs), probe.expected):
                return False
        except Exception:
            return False
    return bool(probes)


# ---------------------------------------------------------------------------------- child processes


@dataclass(frozen=True)
class CheckTask:
    """What a child process checks of one mutant."""

    assignment: Assignment
    function: str
    cells: dict[str, str]  # the graded cells, the mutant's in place of its function's
    probes: list[Probe]
    kit: str  # the scratch folder with the public tests, laid out like the release
    forward: str | None  # the forward pass its public test takes too
    public_only: bool = False  # the equivalence check is known to have failed (it hung)


def _check_child(task: CheckTask, conn: multiprocessing.connection.Connection) -> None:
    """In a child: send ("equivalent", bool), then, unless equivalent, ("public", caught, why)."""
    from autograder.testkit import one_blas_thread

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    quiet = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
    with one_blas_thread(), quiet[0], quiet[1]:
        try:
            namespace = reference_functions(task.cells, f"mutant_{task.function}")
        except Exception as error:
            conn.send(("equivalent", False))
            conn.send(("public", True, f"the cell does not run: {type(error).__name__}"))
            return
        if not task.public_only:
            equivalent = equivalent_on(getattr(namespace, task.function), task.probes)
            conn.send(("equivalent", equivalent))
            if equivalent:
                return
        conn.send(("public", *_public_verdict(task, namespace)))


def _public_verdict(task: CheckTask, namespace: types.SimpleNamespace) -> tuple[bool, str]:
    """(caught, the first line of the failure) of the mutant's public test."""
    from autograder.public_fixtures import load_public_tests

    test = getattr(load_public_tests(task.assignment, Path(task.kit)), f"{task.function}_test")
    arguments = [getattr(namespace, task.function)]
    if task.forward:
        arguments.append(getattr(namespace, task.forward))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test(*arguments)
    except BaseException as failure:  # a PublicTestFailure, or anything the kit did not foresee
        said = next((line for line in str(failure).splitlines() if line.strip()), "")
        return True, said[:300] or type(failure).__name__
    return False, ""


@dataclass
class _Running:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    deadline: float
    messages: list = field(default_factory=list)


def run_in_children(
    tasks: list[CheckTask],
    jobs: int,
    timeout: float = TIMEOUT_SECONDS,
    on_done: Callable[[], None] | None = None,
) -> list[list[tuple]]:
    """Run _check_child on every task, at most `jobs` at a time, each in a process of its own
    stopped after `timeout` seconds; the messages each sent, in order."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    messages: list[list[tuple]] = [[] for _ in tasks]
    pending, running = deque(range(len(tasks))), {}
    while pending or running:
        while pending and len(running) < jobs:
            index = pending.popleft()
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_check_child, args=(tasks[index], send), daemon=True)
            process.start()
            send.close()
            running[index] = _Running(process, receive, time.monotonic() + timeout, messages[index])
        earliest = min(child.deadline for child in running.values())
        ready = multiprocessing.connection.wait(
            [child.conn for child in running.values()], timeout=max(0.0, earliest - time.monotonic())
        )
        for index, child in list(running.items()):
            if _collect(child, ready):
                _stop(child)
                del running[index]
                if on_done:
                    on_done()
    return messages


def _collect(child: _Running, ready: list) -> bool:
    """Read what the child sent; True when it is done (it closed its end) or past its deadline."""
    if child.conn in ready:
        try:
            child.messages.append(child.conn.recv())
        except (EOFError, OSError):
            return True
    if time.monotonic() >= child.deadline:
        child.messages.append(("timeout",))
        return True
    return False


def _stop(child: _Running) -> None:
    if child.process.is_alive():
        child.process.kill()
    child.process.join()
    child.conn.close()


# ---------------------------------------------------------------------------------- hidden tests


def strip_markers(source: str) -> str:
    """A cell as a student hands it in: without the solution markers."""
    return "".join(line for line in source.splitlines(keepends=True) if not SOLUTION.match(line))


def student_id(index: int) -> str:
    return f"m{index + 1:04d}"


def write_submissions(assignment: Assignment, mutants: dict[int, Mutant], submitted: Path) -> None:
    """submitted/<id>/<assignment>/<assignment>.ipynb for the control and each mutant: the release
    notebook with the reference in every graded cell, and the mutant in its own."""
    from autograder.examples import completed_notebook

    reference = {name: strip_markers(source) for name, source in reference_cells(assignment).items()}
    notebook = completed_notebook(assignment, reference)
    cells = {graded_name(cell): cell for cell in notebook.cells if graded_name(cell)}
    students = {CONTROL: None, **{student_id(index): mutant for index, mutant in mutants.items()}}
    for student, mutant in students.items():
        cell = cells[mutant.function] if mutant else None
        if cell is not None:
            cell.source = strip_markers(mutant.source)
        target = submitted / student / assignment.name / f"{assignment.name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        if cell is not None:
            cell.source = reference[mutant.function]


def hidden_verdict(result: SubmissionResult | None, function: str) -> str:
    """ "passed" (full points), "slow" (right values, but over the time limit in a runtime test) or
    "caught" (anything else short of full points, a submission that could not be graded included)."""
    scores = result.by_function() if result else {}
    if function not in scores:
        return "caught"
    score, maximum = scores[function]
    if score >= maximum - 1e-9:
        return "passed"
    failed = [test for test in result.tests if test.function == function and test.score < test.max_score]
    return "slow" if all(test.kind == "runtime" and test.failure == SLOW for test in failed) else "caught"


def score_text(result: SubmissionResult | None, function: str) -> str:
    """`7/12` of the function, or why the submission has no score."""
    scores = result.by_function() if result else {}
    if function in scores:
        return "{:g}/{:g}".format(*scores[function])
    return result.problem if result and result.problem else "no result"


def grade_batch(
    assignment: Assignment,
    mutants: dict[int, Mutant],
    settings: Autograder,
    jobs: int,
    folder: Path,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> tuple[dict[int, tuple[str, str]], SubmissionResult | None]:
    """Grade the mutants and the control in one batch: (index -> (hidden_verdict, score_text), the
    control's result)."""
    from autograder.batch import grade_all
    from autograder.local_processes import LocalProcesses

    submitted, out = folder / "submitted", folder / "grades"
    write_submissions(assignment, mutants, submitted)
    executor = LocalProcesses(jobs)
    results = grade_all(assignment, submitted, out, settings.policy(), executor, on_result=on_result)
    by_student = {result.student_id: result for result in results}
    verdicts = {}
    for index, mutant in mutants.items():
        result = by_student.get(student_id(index))
        verdicts[index] = hidden_verdict(result, mutant.function), score_text(result, mutant.function)
    return verdicts, by_student.get(CONTROL)


def control_warning(control: SubmissionResult | None, stage: str) -> list[str]:
    """A warning when the control, the reference itself, did not get full marks."""
    if control is not None and not control.problem and control.score >= control.max_score - 1e-9:
        return []
    said = control.problem or f"{control.score:g}/{control.max_score:g}" if control else "no result"
    return [f"{stage}: the reference itself did not get full marks ({said}): is the machine too busy?"]


# ---------------------------------------------------------------------------------- the whole run


def kit_folder(assignment: Assignment, settings: Autograder, folder: Path) -> Path:
    """A folder laid out like the release for the public tests: the spec, its expected values, the
    kit and the course's limits."""
    from autograder.release import ship_kit

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("public_tests.py", "public_tests.h5"):
        shutil.copy(assignment.source_dir / name, folder / name)
    ship_kit(assignment, settings, folder)
    return folder


def check_tasks(assignment: Assignment, mutants: list[Mutant], kit: Path) -> list[CheckTask]:
    """What the child process of each mutant checks: its cell among the reference's, and the probes."""
    from autograder.public_fixtures import load_public_tests
    from autograder.reference import load_reference

    suite = load_public_tests(assignment).SUITE
    reference = load_reference(assignment)
    cells = reference_cells(assignment)
    probes = {name: probes_of(suite, reference, name) for name in cells}
    return [
        CheckTask(
            assignment,
            mutant.function,
            {**cells, mutant.function: mutant.source},
            probes[mutant.function],
            str(kit),
            suite.functions[mutant.function].forward or None,
        )
        for mutant in mutants
    ]


def check_in_children(
    tasks: list[CheckTask], jobs: int, on_progress: Progress | None = None
) -> dict[int, str | None]:
    """Each mutant checked in a child process: index -> None when it is equivalent, else what its
    public test said ("" when it passed). A mutant whose equivalence check hangs is not
    equivalent; its public test then runs in a child of its own."""
    messages = _run_tasks(tasks, jobs, "checking", on_progress)
    hung = [index for index, sent in enumerate(messages) if not any(m[0] == "equivalent" for m in sent)]
    said = {index: _public_says(sent) for index, sent in enumerate(messages)}
    return said | public_tests_only(tasks, hung, jobs, on_progress)


def public_tests_only(
    tasks: list[CheckTask], indexes: list[int], jobs: int, on_progress: Progress | None = None
) -> dict[int, str]:
    """What the public tests of these mutants say ("" when they pass), each in a child process."""
    retried = _run_tasks([_public_only(tasks[index]) for index in indexes], jobs, "public tests", on_progress)
    return {index: _public_says([("equivalent", False), *sent]) for index, sent in zip(indexes, retried)}


def _public_says(messages: list[tuple]) -> str | None:
    """None for an equivalent mutant, else what its public test said ("" when it passed)."""
    if ("equivalent", True) in messages:
        return None
    for message in messages:
        if message[0] == "public":
            return message[2] if message[1] else ""
    return f"did not finish within {TIMEOUT_SECONDS:g} s"


def _public_only(task: CheckTask) -> CheckTask:
    return CheckTask(task.assignment, task.function, task.cells, [], task.kit, task.forward, public_only=True)


def _run_tasks(
    tasks: list[CheckTask], jobs: int, stage: str, on_progress: Progress | None
) -> list[list[tuple]]:
    done = 0

    def one_more() -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(stage, done, len(tasks))

    return run_in_children(tasks, jobs, on_done=one_more) if tasks else []


def run_mutants(
    assignment: Assignment, settings: Autograder, jobs: int | None = None, on_progress: Progress | None = None
) -> MutantReport:
    """Make the mutants of the assignment's reference solution, set the equivalent ones aside, and
    run the others through the public and the hidden tests (see the module's docstring).
    on_progress(stage, done, total) follows the stages: "checking" (equivalence and public tests),
    "public tests" (of the mutants whose check hung, or that the hidden tests show not to be
    equivalent), "grading", "grading again" (the slow ones)."""
    started = time.monotonic()
    jobs = jobs or settings.jobs or os.cpu_count() or 1
    report = MutantReport(mutants_of(assignment))
    with tempfile.TemporaryDirectory(prefix="mutants-") as scratch:
        kit = kit_folder(assignment, settings, Path(scratch) / "kit")
        tasks = check_tasks(assignment, report.mutants, kit)
        said = check_in_children(tasks, jobs, on_progress)
        equivalent = {index for index, says in said.items() if says is None}
        verdicts = _hidden(assignment, report, equivalent, settings, jobs, Path(scratch), on_progress)
        # The hidden tests found inputs on which these differ: not equivalent after all.
        shown = sorted(index for index in equivalent if verdicts[index] == "caught")
        said |= public_tests_only(tasks, shown, jobs, on_progress)
    report.equivalent = equivalent - set(shown)
    report.public_failures = {index: says for index, says in said.items() if says}
    report.caught_public = set(report.public_failures)
    report.caught_hidden = {index for index, verdict in verdicts.items() if verdict == "caught"}
    report.caught_hidden -= report.equivalent
    report.seconds = time.monotonic() - started
    return report


def _hidden(
    assignment: Assignment,
    report: MutantReport,
    equivalent: set[int],
    settings: Autograder,
    jobs: int,
    scratch: Path,
    on_progress: Progress | None,
) -> dict[int, str]:
    """Every mutant's hidden_verdict, the equivalent ones' included (as a check of that judgment);
    a non-equivalent mutant that is only slow is graded a second time, and is "caught" when it is
    slow again, else "passed"."""
    mutants = dict(enumerate(report.mutants))
    counter = _counter("grading", len(mutants) + 1, on_progress)
    verdicts, control = grade_batch(assignment, mutants, settings, jobs, scratch / "graded", counter)
    report.warnings += control_warning(control, "grading")
    slow = {index: mutants[index] for index, (verdict, _) in verdicts.items() if verdict == "slow"}
    slow = {index: mutant for index, mutant in slow.items() if index not in equivalent}
    if slow:
        counter = _counter("grading again", len(slow) + 1, on_progress)
        again, control = grade_batch(assignment, slow, settings, jobs, scratch / "again", counter)
        report.warnings += control_warning(control, "grading again")
        for index, (verdict, score) in again.items():
            first = verdicts[index][1]
            verdicts[index] = ("passed" if verdict == "passed" else "caught"), f"{first}, then {score} (slow)"
    report.hidden_scores = {index: score for index, (_, score) in verdicts.items()}
    return {index: verdict for index, (verdict, _) in verdicts.items()}


def _counter(stage: str, total: int, on_progress: Progress | None) -> Callable[[SubmissionResult], None]:
    done = 0

    def count(_result: SubmissionResult) -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(stage, done, total)

    return count
