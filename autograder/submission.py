"""What of a student's notebook gets graded: its graded cells and the imports they may rely on.

Nothing else runs. Plots, public tests and scratch cells cannot change or break the grade,
and tampering with cell metadata changes nothing, since cells are found by their first line.

Cell text is the student's, and the grader's process parses it only within bounds (worst cases
measured with Python 3.11 on one core, in a fresh process):

- imports are looked for with `ast.parse` in at most MAX_IMPORT_CELLS non-graded code cells that
  mention `import`, each at most MAX_IMPORT_CELL_CHARS long, MAX_IMPORT_SCAN_CHARS in all. The
  parser costs about 0.9 KiB of memory per character and is quadratic in f-string fields: a 64 KiB
  cell of `{a}` fields takes 0.34 s and 60 MiB, so the worst notebook 0.75 s. Before these limits
  every cell was parsed: a 2 MB cell took a minute and 1.8 GiB, and the parser's RecursionError
  or MemoryError on a deeply nested scratch cell was an internal grader error.
- a graded cell is only tokenized (`tokenize`: linear, about 1.2 µs and no memory per character:
  0.33 s and 2 MiB for the largest allowed, once per cell and process), never parsed here; one
  longer than MAX_GRADED_CELL_CHARS fails its function with a clear reason instead of reaching a
  sandbox. With the assignment's 8 functions at the limit, 2.6 s per submission at worst.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from autograder.notebook import graded_cells, graded_name, read_cells

MAX_IMPORT_CELL_CHARS = 64 << 10  # honest code cells of these notebooks: 3.5 KB at most
MAX_IMPORT_SCAN_CHARS = 128 << 10  # honest notebooks: 25 KB of code in all
MAX_IMPORT_CELLS = 500  # honest notebooks: 34 code cells
MAX_IMPORTS_CHARS = 16 << 10  # of import statements kept (an honest notebook: a few hundred)
MAX_GRADED_CELL_CHARS = 256 << 10  # an honest graded cell: 3.5 KB at most
_STRING_PREFIX = re.compile(r"[A-Za-z]*")
_WORD = re.compile(r"[^\W\d]\w*")


class GradedCellTooLarge(AssertionError):
    """A graded cell too long to be run: fails its function's tests with the reason."""


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
    cells, imports = graded_cells(nb), notebook_imports(nb)
    return Submission(student_id, Path(notebook_path), cells, imports, _digest(cells, imports))


def submission_digest(nb) -> str:
    """Fingerprint of exactly what grading uses from a notebook."""
    return _digest(graded_cells(nb), notebook_imports(nb))


def _digest(cells: dict[str, str], imports: str) -> str:
    digest = hashlib.sha256(imports.encode("utf-8", "surrogatepass"))
    for name, source in sorted(cells.items()):
        digest.update(f"\0{name}\0{source}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def notebook_imports(nb) -> str:
    """The notebook's top-level import statements outside graded cells, each guarded, so graded
    cells find the modules the student imported at the top of the notebook (within the limits
    above: a cell too long is skipped, and cells after the budget is spent are not looked at)."""
    statements: list[str] = []
    kept = scanned = parsed = 0
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code" or graded_name(cell):
            continue
        source = cell.get("source", "")
        if not isinstance(source, str) or "import" not in source or len(source) > MAX_IMPORT_CELL_CHARS:
            continue
        parsed, scanned = parsed + 1, scanned + len(source)
        if parsed > MAX_IMPORT_CELLS or scanned > MAX_IMPORT_SCAN_CHARS:
            break
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # the parser's depth limits
            continue
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom) and not _is_local(node):
                statement = ast.unparse(node)
                kept += len(statement) + 1
                if kept > MAX_IMPORTS_CHARS:
                    return "\n".join(statements)
                statements.append(statement)
    return "\n".join(statements)


def imports_for(cell_source: str, imports: str) -> str:
    """The import statements a cell needs: those binding a name the cell uses. Importing
    everything (matplotlib, say) in every sandboxed session would cost a second per notebook.

    Raises GradedCellTooLarge for a cell over MAX_GRADED_CELL_CHARS."""
    if len(cell_source) > MAX_GRADED_CELL_CHARS:
        name = graded_name({"cell_type": "code", "source": cell_source}) or "a graded function"
        raise GradedCellTooLarge(
            f"the cell of {name} has {len(cell_source) >> 10} KiB of text, over the "
            f"{MAX_GRADED_CELL_CHARS >> 10} KiB a graded cell may hold: keep only the function's code in it"
        )
    used = _names_used(cell_source)
    if not used:
        return ""  # nothing to import, or the cell fails to load anyway, with its own error
    return "\n".join(
        f"try:\n    {statement}\nexcept Exception:\n    pass"
        for bound, statement in _bindings(imports)
        if bound & used
    )


@functools.lru_cache(maxsize=32)
def _names_used(source: str) -> frozenset[str]:
    """Every name token of the cell, and every word of its f-strings (Python 3.11 tokenizes an
    f-string whole): a superset of the names it loads, at tokenizer speed."""
    names: set[str] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME:
                names.add(token.string)
            elif token.type == tokenize.STRING and "f" in _STRING_PREFIX.match(token.string).group().lower():
                names.update(_WORD.findall(token.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return frozenset()
    return frozenset(names)


@functools.lru_cache(maxsize=32)
def _bindings(imports: str) -> tuple[tuple[frozenset[str], str], ...]:
    """(the names an import statement binds, the statement) for each of notebook_imports' lines."""
    found = []
    for line in imports[:MAX_IMPORTS_CHARS].splitlines():
        try:
            statements = ast.parse(line).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for statement in statements:
            if isinstance(statement, ast.Import | ast.ImportFrom):
                bound = frozenset((alias.asname or alias.name).split(".")[0] for alias in statement.names)
                found.append((bound, ast.unparse(statement)))
    return tuple(found)


def _is_local(node: ast.stmt) -> bool:
    """Imports of the assignment's own helper files (public tests) are not available when grading."""
    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
    return any(name.split(".")[0] in {"public_tests", "testkit", "test_utils"} for name in names)
