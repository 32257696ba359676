"""The bundled example submissions: the release notebook completed in different ways.

`examples/<assignment>/<student>.py` holds only the graded cells that student wrote differently
from the reference, each starting with its `# GRADED FUNCTION: <name>` line; every other graded
cell is the reference's. `<student>.ipynb` files are taken as they are (e.g. a broken file), and
the student `empty_stub` hands in the release untouched.
"""

from __future__ import annotations

import re
import shutil
import types
from pathlib import Path

import nbformat

from autograder.course import COURSE_ROOT, release_dir
from autograder.notebook import GRADED_MARKER, graded_name, read_notebook
from autograder.reference import PREAMBLE, reference_cells

EXAMPLES_ROOT = COURSE_ROOT / "examples"


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


def completed_notebook(assignment: str, cells: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook with its graded cells replaced by `cells` where given."""
    nb = read_notebook(release_dir(assignment) / f"{assignment}.ipynb")
    for cell in nb.cells:
        name = graded_name(cell)
        if name in cells:
            cell.source = cells[name]
    return nb


def build_examples(assignment: str, submitted: Path) -> list[str]:
    """Write every example as nbgrader's submitted/<student>/<assignment>/<assignment>.ipynb."""
    folder = EXAMPLES_ROOT / assignment
    reference = {name: _strip_markers(source) for name, source in reference_cells(assignment).items()}
    students = {"reference": reference, "empty_stub": {}}
    for path in sorted(folder.glob("*.py")):
        students[path.stem] = {**reference, **variant_cells(path)}
    for student, cells in students.items():
        target = submitted / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(completed_notebook(assignment, cells), target)
    for path in sorted(folder.glob("*.ipynb")):
        target = submitted / path.stem / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
        students[path.stem] = {}
    return sorted(students)


def _strip_markers(source: str) -> str:
    return re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*\n", "", source, flags=re.MULTILINE)


def example_functions(assignment: str, student: str) -> types.SimpleNamespace:
    """An example student's graded functions, run in this process (trusted examples only), with
    the reference standing in for the cells the example does not change."""
    namespace: dict = {"__name__": f"example_{student}"}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    cells = {**reference_cells(assignment), **variant_cells(EXAMPLES_ROOT / assignment / f"{student}.py")}
    for name, source in cells.items():
        exec(compile(source, f"<{student} {name}>", "exec"), namespace)
    return types.SimpleNamespace(**{name: namespace[name] for name in cells})
