"""`autograder figures`: the explanatory figures of a notebook, drawn once and embedded in it.

A figure that does not depend on the student's code is not drawn by a code cell: Run All stops at
the first unfinished exercise, and every figure after it would stay blank. It is drawn by the
assignment's `instructor/figures.py` (never released: the course ignores `instructor/`), whose
``FIGURES`` maps a name to a function returning a matplotlib Figure, and it is embedded as a PNG
attachment of the markdown cell that shows it with ``![what it shows](attachment:NAME.png)``.
An attachment renders as soon as the notebook opens, executed or not.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import re
from collections.abc import Callable
from pathlib import Path

import nbformat

from autograder.course import Assignment, CourseError

FIGURES_SCRIPT = Path("instructor") / "figures.py"
REFERENCE = re.compile(r"\(attachment:([A-Za-z0-9_.-]+)\.png\)")
DPI = 100


def figures_of(assignment: Assignment) -> dict[str, Callable]:
    """The FIGURES of the assignment's instructor/figures.py; {} when it has none."""
    script = assignment.source_dir / FIGURES_SCRIPT
    if not script.exists():
        return {}
    spec = importlib.util.spec_from_file_location(f"_figures_{assignment.name}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = getattr(module, "FIGURES", None)
    if not isinstance(figures, dict) or not all(callable(draw) for draw in figures.values()):
        raise CourseError(f"{script}: FIGURES must map figure names to functions returning a Figure")
    return figures


def references(notebook) -> dict[str, int]:
    """Figure name -> index of the markdown cell that shows it."""
    return {
        name: index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown"
        for name in REFERENCE.findall(cell.source)
    }


def png_base64(figure) -> str:
    """A matplotlib Figure as base64 PNG (no timestamp or version in its metadata, so it only
    changes when the drawing does)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render(draw: Callable) -> str:
    """What draw() draws, as base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = draw()
    png = png_base64(figure)
    plt.close(figure)
    return png


def figure_problems(assignment: Assignment, notebook=None) -> list[str]:
    """What does not match between the figures script and the source notebook's attachments."""
    notebook = notebook or nbformat.read(assignment.source_notebook, as_version=4)
    drawn, shown = set(figures_of(assignment)), references(notebook)
    problems = [
        f"figure {name!r} is drawn by {FIGURES_SCRIPT} but no markdown cell shows it"
        for name in sorted(drawn - set(shown))
    ]
    for name, index in sorted(shown.items()):
        attachments = notebook.cells[index].get("attachments", {})
        if f"{name}.png" not in attachments:
            problems.append(
                f"markdown cell {index} shows {name}.png but has no such attachment: "
                f"run `autograder figures {assignment.name}`"
            )
        elif name not in drawn:
            problems.append(f"markdown cell {index} shows {name}.png, which {FIGURES_SCRIPT} does not draw")
    return problems


def embed_figures(assignment: Assignment) -> list[str]:
    """Draw every figure and attach it to the cell that shows it; the names of those that changed."""
    figures = figures_of(assignment)
    notebook = nbformat.read(assignment.source_notebook, as_version=4)
    shown = references(notebook)
    missing = sorted(set(figures) - set(shown))
    if missing:
        raise CourseError(f"no markdown cell shows {', '.join(missing)}: add ![...](attachment:NAME.png)")
    changed = []
    for name, draw in figures.items():
        cell = notebook.cells[shown[name]]
        png = render(draw)
        attachments = cell.setdefault("attachments", {})
        if attachments.get(f"{name}.png", {}).get("image/png") != png:
            attachments[f"{name}.png"] = {"image/png": png}
            changed.append(name)
    if changed:
        nbformat.write(notebook, assignment.source_notebook)
    return changed
