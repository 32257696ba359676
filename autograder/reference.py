"""The reference solution, taken from the graded cells of the instructor's source notebook."""

from __future__ import annotations

import types
from pathlib import Path

from autograder.course import source_notebook
from autograder.notebook import graded_cells, read_notebook

# What every graded cell may rely on, as the notebook's first code cell provides it.
PREAMBLE = "import numpy as np\n"


def reference_cells(assignment: str, notebook: Path | None = None) -> dict[str, str]:
    """Graded cell sources, solutions included, of the assignment's source notebook."""
    return graded_cells(read_notebook(notebook or source_notebook(assignment)))


def load_reference(assignment: str, notebook: Path | None = None) -> types.SimpleNamespace:
    """Execute the reference graded cells in one namespace and return their functions."""
    cells = reference_cells(assignment, notebook)
    namespace: dict = {"__name__": f"reference_{assignment}"}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    for name, source in cells.items():
        exec(compile(source, f"<reference {name}>", "exec"), namespace)
    return types.SimpleNamespace(**{name: namespace[name] for name in cells})
