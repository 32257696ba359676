"""Find the graded functions of a notebook: cells whose first line is `# GRADED FUNCTION: <name>`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# Far above any notebook of these assignments, even with every figure's output left in.
MAX_NOTEBOOK_BYTES = 64 << 20
GRADED_MARKER = re.compile(r"^#\s*GRADED FUNCTION:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")


class NotebookError(Exception):
    """A notebook cannot be read or lacks what grading needs; the message says which."""


def read_notebook(path: str | Path):
    """Read a notebook with nbformat (for running or rewriting it), as one clear NotebookError
    however it is broken."""
    import nbformat  # imported here: it costs a second of start-up that grading does not need

    path = Path(path)
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise NotebookError(f"notebook not found: {path}") from None
    except Exception as error:  # nbformat raises several unrelated types for bad JSON
        raise NotebookError(f"notebook {path.name} is not a readable .ipynb file: {error}") from None


def read_cells(path: str | Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> dict[str, Any]:
    """Just the cells of a notebook, as plain dicts with `source` as one string: all grading needs."""
    path = Path(path)
    try:
        check_size(path, max_bytes)
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotebookError(f"notebook not found: {path}") from None
    except (OSError, ValueError, RecursionError) as error:  # ValueError: bad JSON, UTF-8 or numbers
        raise NotebookError(f"notebook {path.name} is not a readable .ipynb file: {error}") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise NotebookError(f"notebook {path.name} is not a readable .ipynb file: it has no list of cells")
    return {"cells": [_plain_cell(cell) for cell in cells if isinstance(cell, dict)]}


def check_size(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> None:
    """NotebookError if the file is too large to be a notebook worth reading (OSError if unreadable)."""
    size = path.stat().st_size
    if size > max_bytes:
        raise NotebookError(
            f"notebook {path.name} is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB "
            "limit: clear its outputs (Edit > Clear Outputs of All Cells) and submit it again"
        )


def _plain_cell(cell: dict) -> dict:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    return {**cell, "source": source if isinstance(source, str) else ""}


def graded_name(cell: dict) -> str | None:
    """The graded function a code cell holds, or None when it is not a graded cell."""
    if cell.get("cell_type") != "code":
        return None
    source = cell.get("source", "")
    first_line = source.splitlines()[0] if source else ""
    match = GRADED_MARKER.match(first_line.strip())
    return match.group(1) if match else None


def graded_cells(nb: dict) -> dict[str, str]:
    """Map each graded function name to the source of its cell (the last one wins, as in Jupyter)."""
    cells: dict[str, str] = {}
    for cell in nb["cells"]:
        name = graded_name(cell)
        if name is not None:
            cells[name] = cell["source"]
    return cells
