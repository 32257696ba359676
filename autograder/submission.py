"""What of a student's notebook gets graded: its graded cells and the imports they may rely on.

Nothing else runs. Plots, public tests and scratch cells cannot change or break the grade,
and tampering with cell metadata changes nothing, since cells are found by their first line.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from autograder.notebook import graded_cells, graded_name, read_cells


@dataclass
class Submission:
    student_id: str
    notebook_path: Path
    cells: dict[str, str] = field(default_factory=dict)
    imports: str = ""
    digest: str = ""


def load_submission(student_id: str, notebook_path: Path) -> Submission:
    """Read a submitted notebook; raises NotebookError with a reason when it is unusable."""
    nb = read_cells(notebook_path)
    return Submission(
        student_id, Path(notebook_path), graded_cells(nb), notebook_imports(nb), submission_digest(nb)
    )


def submission_digest(nb) -> str:
    """Fingerprint of exactly what grading uses from a notebook."""
    digest = hashlib.sha256(notebook_imports(nb).encode())
    for name, source in sorted(graded_cells(nb).items()):
        digest.update(f"\0{name}\0{source}".encode())
    return digest.hexdigest()


def notebook_imports(nb) -> str:
    """The notebook's top-level import statements outside graded cells, each guarded, so graded
    cells find the modules the student imported at the top of the notebook."""
    statements = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code" or graded_name(cell):
            continue
        source = "\n".join(
            line for line in cell.get("source", "").splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom) and not _is_local(node):
                statements.append(ast.unparse(node))
    return "\n".join(statements)


def imports_for(cell_source: str, imports: str) -> str:
    """The import statements a cell needs: those binding a name the cell uses. Importing
    everything (matplotlib, say) in every sandboxed session would cost a second per notebook."""
    try:
        used = {node.id for node in ast.walk(ast.parse(cell_source)) if isinstance(node, ast.Name)}
    except SyntaxError:
        return ""  # the cell fails to load anyway, with its own error
    needed = []
    for statement in ast.parse(imports).body:
        bound = {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
        if bound & used:
            needed.append(f"try:\n    {ast.unparse(statement)}\nexcept Exception:\n    pass")
    return "\n".join(needed)


def _is_local(node: ast.stmt) -> bool:
    """Imports of the assignment's own helper files (public tests) are not available when grading."""
    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
    return any(name.split(".")[0] in {"public_tests", "test_utils"} for name in names)
