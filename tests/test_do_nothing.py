"""A function that computes nothing earns nothing.

Every graded function of both assignments gets do-nothing versions, derived from its reference
cell: the reference, renamed `_honest_<name>`, runs, and `<name>` returns a transform of its output
that keeps the output's structure (and the cache of a forward pass) around a result it did not
compute. For each transform, two submissions replace alternate graded cells with it; in each,
every test of a replaced function must score 0 (runtime tests included) and every other function
keeps full marks.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from helpers import ASSIGNMENTS, grade_folder
from helpers import assignment as by_name

from autograder.examples import completed_notebook
from autograder.reference import reference_cells

pytestmark = pytest.mark.slow


# What `<name>(*args, **kwargs)` returns, given `out`, the honest output.
TRANSFORMS = {
    "first_argument": "args[0]",
    "last_argument": "np.asarray(args[-1]).item() if np.size(args[-1]) == 1 else args[-1]",  # the bias
    "zeros": "_each(out, np.zeros_like, 0.0)",
    "constant": "_each(out, np.ones_like, 1.0)",
    # The result(s) zeroed, the last element (a forward pass's cache) kept.
    "cache_kept": "(*_each(out[:-1], np.zeros_like, 0.0), out[-1]) if isinstance(out, tuple) "
    "else _each(out, np.zeros_like, 0.0)",
}

DO_NOTHING = '''
def _each(value, array, number):
    """`value` with every array replaced by array(it) and every float by `number`."""
    if isinstance(value, np.ndarray):
        return array(value)
    if isinstance(value, tuple | list):
        return type(value)(_each(item, array, number) for item in value)
    return number if isinstance(value, float | np.floating) else value


def {name}(*args, **kwargs):
    out = _honest_{name}(*args, **kwargs)
    return {transform}
'''


def do_nothing_cell(name: str, reference: str, transform: str) -> str:
    honest = re.sub(rf"^def {name}\(", f"def _honest_{name}(", reference, flags=re.MULTILINE)
    assert honest != reference, f"no `def {name}(` in its reference cell"
    return honest + DO_NOTHING.format(name=name, transform=transform)


def students(assignment: str) -> dict[str, set[str]]:
    """student id -> the functions it replaces: for each transform, every other graded function
    (the first half of the pair) or the rest."""
    names = list(reference_cells(by_name(assignment)))
    return {f"{transform}_{half}": set(names[half::2]) for transform in TRANSFORMS for half in (0, 1)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    results = {}
    for assignment in ASSIGNMENTS:
        reference = reference_cells(by_name(assignment))
        submitted = tmp_path_factory.mktemp(f"{assignment}_submitted")
        for student, replaced in students(assignment).items():
            transform = TRANSFORMS[student.rsplit("_", 1)[0]]
            cells = {name: do_nothing_cell(name, reference[name], transform) for name in replaced}
            target = submitted / student / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True)
            nbformat.write(completed_notebook(by_name(assignment), {**reference, **cells}), target)
        out = tmp_path_factory.mktemp(f"{assignment}_grades")
        for result in grade_folder(by_name(assignment), submitted, out):
            results[assignment, result.student_id] = result
    return results


@pytest.mark.parametrize(
    "assignment, student",
    [(assignment, student) for assignment in ASSIGNMENTS for student in students(assignment)],
)
def test_doing_nothing_earns_nothing_and_the_others_keep_full_marks(graded, assignment, student):
    result = graded[assignment, student]
    replaced = students(assignment)[student]
    assert not result.problem
    assert {test.function for test in result.tests} == set(reference_cells(by_name(assignment)))
    leaked = [f"{t.name} ({t.score:g})" for t in result.tests if t.function in replaced and t.score > 0]
    lost = [
        f"{t.name}: {t.output}" for t in result.tests if t.function not in replaced and t.score < t.max_score
    ]
    assert not leaked, f"doing nothing earned points: {leaked}"
    assert not lost, f"honest functions lost points: {lost}"
