"""The reference solution, taken from the graded cells of the instructor's source notebook."""

from __future__ import annotations

import re
import types
from pathlib import Path

from autograder.course import source_notebook
from autograder.notebook import NotebookError, graded_cells, read_cells

# What every graded cell may rely on, as the notebook's first code cell provides it.
PREAMBLE = "import numpy as np\n"
HIDDEN_TESTS_SUFFIX = "_hidden_tests"
# The line of a function's hidden-tests cell, in the source notebook, naming the other graded
# functions whose reference versions its session holds: the one place this fact is written, and
# released to students as it is.
CALLS_LINE = re.compile(
    r"^#\s*Other graded functions it may call[^:]*:\s*(?P<names>.*?)\.?\s*$", re.MULTILINE
)


def reference_cells(assignment: str, notebook: Path | None = None) -> dict[str, str]:
    """Graded cell sources, solutions included, of the assignment's source notebook."""
    return graded_cells(read_cells(notebook or source_notebook(assignment)))


def load_reference(assignment: str, notebook: Path | None = None) -> types.SimpleNamespace:
    """Execute the reference graded cells in one namespace and return their functions."""
    return reference_functions(reference_cells(assignment, notebook), f"reference_{assignment}")


def reference_functions(cells: dict[str, str], module_name: str) -> types.SimpleNamespace:
    """The functions the graded cells define, executed in order in one namespace."""
    namespace: dict = {"__name__": module_name}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    for name, source in cells.items():
        exec(compile(source, f"<reference {name}>", "exec"), namespace)
    return types.SimpleNamespace(**{name: namespace[name] for name in cells})


def allowed_calls(assignment: str, notebook: Path | None = None) -> dict[str, tuple[str, ...]]:
    """For each graded function, the other graded functions it may call (see calls_stated)."""
    return calls_stated(read_cells(notebook or source_notebook(assignment)), assignment)


def calls_stated(nb: dict, assignment: str) -> dict[str, tuple[str, ...]]:
    """For each graded function of the source notebook `nb` (as read_cells reads it), the other
    graded functions it may call, as its hidden-tests cell states them; NotebookError if a cell
    does not say, or names a function the assignment does not grade."""
    functions = graded_cells(nb)
    stated = {}
    for cell in nb["cells"]:
        grade_id = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
        if grade_id.endswith(HIDDEN_TESTS_SUFFIX) and grade_id.removesuffix(HIDDEN_TESTS_SUFFIX) in functions:
            stated[grade_id.removesuffix(HIDDEN_TESTS_SUFFIX)] = CALLS_LINE.search(cell["source"])
    calls = {}
    for function in functions:
        match = stated.get(function)
        if match is None:
            raise NotebookError(
                f"the hidden-tests cell of {function} in the source notebook of {assignment} must have a "
                "line '# Other graded functions it may call (their reference versions): ...' (or ': none.')"
            )
        names = tuple(name.strip() for name in match["names"].split(",") if name.strip())
        names = () if names == ("none",) else names
        unknown = [name for name in names if name not in functions or name == function]
        if unknown:
            raise NotebookError(f"{function} may not call {', '.join(unknown)}: not another graded function")
        calls[function] = names
    return calls
