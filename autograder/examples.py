"""The bundled example submissions: the release notebook completed in different ways.

`examples/<assignment>/<student>.py` holds only the graded cells that student wrote differently
from the reference, each starting with its `# GRADED FUNCTION: <name>` line; every other graded
cell is the reference's. `<student>.ipynb` files are taken as they are (e.g. a broken file). Two
students need no file: `reference` hands in the source notebook's solution, `empty_stub` the
release untouched.

Each file states the scores it must get, function by function, on a line of its own:

    # Expected scores: conv_forward 2, every other function full

(`every function 0`, `every other function full` or a number). The reference gets full marks
and the untouched release zero; `expected_scores` reads the rest, and the tests hold every
example to it.
"""

from __future__ import annotations

import re
import shutil
import types
from pathlib import Path

import nbformat

from autograder.course import Assignment, CourseError
from autograder.notebook import GRADED_MARKER, graded_name, read_notebook
from autograder.reference import PREAMBLE, reference_cells
from autograder.spec import GradedFunction

EXPECTED_LINE = re.compile(r"^# Expected scores:(?P<items>.*)$", re.MULTILINE)
EVERY = re.compile(r"every (?P<other>other )?function (?P<score>full|\d+(?:\.\d+)?)")
ONE = re.compile(r"(?P<name>[A-Za-z_]\w*) (?P<score>\d+(?:\.\d+)?)")
BUILT_IN = {"reference": "every function full", "empty_stub": "every function 0"}


def variant_cells(path: Path) -> dict[str, str]:
    """Split a variant file into its graded cells at each `# GRADED FUNCTION:` line."""
    cells: dict[str, str] = {}
    name, lines = None, []
    for line in path.read_text().splitlines():
        match = GRADED_MARKER.match(line.strip())
        if match:
            if name:
                cells[name] = "\n".join(lines).strip() + "\n"
            name, lines = match.group(1), [line]
        elif name:
            lines.append(line)
    if name:
        cells[name] = "\n".join(lines).strip() + "\n"
    return cells


def example_files(assignment: Assignment) -> dict[str, Path]:
    """Every example file of the assignment, by student."""
    return {
        path.stem: path
        for path in sorted(assignment.examples_dir.glob("*"))
        if path.suffix in (".py", ".ipynb")
    }


def example_students(assignment: Assignment) -> list[str]:
    return sorted({*BUILT_IN, *example_files(assignment)})


def expected_scores(
    assignment: Assignment, student: str, functions: dict[str, GradedFunction]
) -> dict[str, float]:
    """The score per function the example `student` states it gets (see the module's docstring)."""
    if student in BUILT_IN:
        statement, where = BUILT_IN[student], "built in"
    else:
        path = example_files(assignment)[student]
        found = EXPECTED_LINE.findall(path.read_text(errors="replace"))
        if len(found) != 1:
            raise CourseError(f"{path}: needs one line '# Expected scores: ...' (it has {len(found)})")
        statement, where = found[0], str(path)
    return _parse_expected(statement, functions, where)


def _parse_expected(statement: str, functions: dict[str, GradedFunction], where: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    rest = None
    for item in (part.strip() for part in re.sub(r"\(.*?\)", "", statement).split(",")):
        every, one = EVERY.fullmatch(item), ONE.fullmatch(item)
        if every and (every["other"] is not None) == bool(scores) and rest is None:
            rest = every["score"]
        elif one and one["name"] in functions and rest is None:
            scores[one["name"]] = float(one["score"])
        else:
            raise CourseError(f"{where}: cannot read {item!r} of '# Expected scores:{statement}'")
    if rest is None and scores.keys() != functions.keys():
        raise CourseError(
            f"{where}: '# Expected scores:' must name every function or end with 'every other function ...'"
        )
    for name, function in functions.items():
        if name not in scores:
            scores[name] = function.points if rest == "full" else float(rest)
    return {name: scores[name] for name in functions}


def completed_notebook(assignment: Assignment, cells: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook with its graded cells replaced by `cells` where given."""
    nb = read_notebook(assignment.release_notebook)
    for cell in nb.cells:
        name = graded_name(cell)
        if name in cells:
            cell.source = cells[name]
    return nb


def build_examples(assignment: Assignment, submitted: Path) -> list[str]:
    """Write every example as nbgrader's submitted/<student>/<assignment>/<assignment>.ipynb."""
    reference = {name: _strip_markers(source) for name, source in reference_cells(assignment).items()}
    students = {"reference": reference, "empty_stub": {}}
    for student, path in example_files(assignment).items():
        target = submitted / student / assignment.name / f"{assignment.name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".ipynb":
            shutil.copy(path, target)
        else:
            students[student] = {**reference, **variant_cells(path)}
    for student, cells in students.items():
        target = submitted / student / assignment.name / f"{assignment.name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(completed_notebook(assignment, cells), target)
    return example_students(assignment)


def _strip_markers(source: str) -> str:
    return re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*\n", "", source, flags=re.MULTILINE)


def example_functions(assignment: Assignment, student: str) -> types.SimpleNamespace:
    """An example student's graded functions, run in this process (trusted examples only), with
    the reference standing in for the cells the example does not change."""
    namespace: dict = {"__name__": f"example_{student}"}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    cells = {**reference_cells(assignment), **variant_cells(assignment.examples_dir / f"{student}.py")}
    for name, source in cells.items():
        exec(compile(source, f"<{student} {name}>", "exec"), namespace)
    return types.SimpleNamespace(**{name: namespace[name] for name in cells})
