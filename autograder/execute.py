"""Run a whole notebook top to bottom with nbclient, as a student's "Restart & Run All" would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.notebook import read_notebook


@dataclass
class CellError:
    index: int
    grade_id: str | None
    ename: str
    evalue: str


@dataclass
class NotebookRun:
    notebook: nbformat.NotebookNode
    errors: list[CellError]

    def outputs_text(self) -> str:
        """Everything the notebook printed, in cell order."""
        parts = []
        for cell in self.notebook.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    parts.append(output.get("text", ""))
        return "".join(parts)


def run_notebook(path: Path, timeout: int = 300, allow_errors: bool = False) -> NotebookRun:
    """Execute the notebook at `path` in its own folder; errors are collected, not raised,
    when `allow_errors` is set."""
    nb = read_notebook(path)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute()
    return NotebookRun(nb, _errors(nb))


def _errors(nb: nbformat.NotebookNode) -> list[CellError]:
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                found.append(CellError(index, grade_id, output["ename"], output["evalue"]))
    return found
