"""The reference solution, taken from the graded cells of the instructor's source notebook."""

from __future__ import annotations

import types

from autograder.course import Assignment
from autograder.notebook import graded_cells, read_cells

# What every graded cell may rely on, as the notebook's first code cell provides it.
PREAMBLE = "import numpy as np\n"


def reference_cells(assignment: Assignment) -> dict[str, str]:
    """Graded cell sources, solutions included, of the assignment's source notebook."""
    return graded_cells(read_cells(assignment.source_notebook))


def load_reference(assignment: Assignment) -> types.SimpleNamespace:
    """Execute the reference graded cells in one namespace and return their functions."""
    return reference_functions(reference_cells(assignment), f"reference_{assignment.name}")


def reference_functions(cells: dict[str, str], module_name: str) -> types.SimpleNamespace:
    """The functions the graded cells define, executed in order in one namespace."""
    namespace: dict = {"__name__": module_name}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    for name, source in cells.items():
        exec(compile(source, f"<reference {name}>", "exec"), namespace)
    return types.SimpleNamespace(**{name: namespace[name] for name in cells})
