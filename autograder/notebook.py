"""Find the graded functions of a notebook: cells whose first line is `# GRADED FUNCTION: <name>`."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

GRADED_MARKER = re.compile(r"^#\s*GRADED FUNCTION:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")


class NotebookError(Exception):
    """A notebook cannot be read or lacks what grading needs; the message says which."""


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook, turning every way it can be broken into one clear NotebookError."""
    path = Path(path)
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise NotebookError(f"notebook not found: {path}") from None
    except Exception as error:  # nbformat raises several unrelated types for bad JSON
        raise NotebookError(f"notebook {path.name} is not a readable .ipynb file: {error}") from None


def graded_name(cell: nbformat.NotebookNode) -> str | None:
    """The graded function a code cell holds, or None when it is not a graded cell."""
    if cell.get("cell_type") != "code":
        return None
    source = cell.get("source", "")
    first_line = source.splitlines()[0] if source else ""
    match = GRADED_MARKER.match(first_line.strip())
    return match.group(1) if match else None


def graded_cells(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Map each graded function name to the source of its cell (the last one wins, as in Jupyter)."""
    cells: dict[str, str] = {}
    for cell in nb.cells:
        name = graded_name(cell)
        if name is not None:
            cells[name] = cell.source
    return cells
