"""What of a student's notebook gets graded: its graded functions, and the imports, helper functions
and constants they may rely on.

A graded function is found by its graded cell, the last code cell whose first line is
`# GRADED FUNCTION: <name>` (tampering with cell metadata changes nothing). Where there is none,
it is the last top-level `def <name>` of any code cell (the last definition wins, as in Jupyter),
and the feedback says so once (Submission.notes): notebooks of the classic courses leave some
exercises unmarked, and students delete marker lines. Only that `def` statement is graded, never
the rest of its cell, with the lines of its cell kept, so line numbers in feedback are the cell's.

From the code cells that are not graded cells, the grader takes, without running anything:

- the top-level import statements (not of the assignment's own files: `public_tests`, ...);
- helper functions: top-level `def` statements without decorators, and `NAME = lambda ...`, whose
  default values are plain (below); their annotations are dropped, their bodies kept as they are
  (they run only when called);
- constants: top-level `NAME = value` (also `A = B = value`, `a, b = 1, 2` and `NAME: T = value`)
  whose value is plain: built only from literals; tuples, lists, sets and dicts of plain values;
  operators, comparisons, subscripts and slices; other constants of the notebook; attributes not
  starting with `_` (`np.pi`, `np.float32`, `x.T`); and calls of numpy (`np.array([[1, 0]])`,
  `np.float32(1e-8)`, `np.random.default_rng(0)`), of methods of plain values, and of the builtins
  in PLAIN_BUILTINS, with plain arguments. Names of numpy's file, printing, testing and global state
  functions (`np.load`, `np.save*`, `np.set*`, `np.random.seed`, `np.testing`, ...: DENIED_ATTRIBUTE)
  are not plain. A plain value never reaches student code, another module or a file: a constant is
  data, computed by numpy and Python's own types.

Nothing else of those cells runs: no plots, tests, prints or raising statements, no class body, no
decorator, no default value that calls a function of the student's. A name's last top-level
binding wins: a constant or helper that a later statement rebinds (a loop, `with ... as`, a call's
result, a decorated def, `x[0] = ...`) is not available; a method changing a value in place
(`x.append(1)`) is not followed. Names of Python's builtins, `np`, `numpy` and dunder names are
never helpers or constants, so none can replace what the sandbox's namespace starts with or a
builtin the references call.

A session includes a helper or constant only if the graded function's cell (or an included helper,
transitively) uses its name, and never one named like a graded function: a scratch `def zero_pad`
does not replace the reference zero_pad a session holds for conv_forward (autograder.student).
Each included constant and helper is its own guarded statement (`try: ... except: pass`), so one
that fails is simply not defined, as when its cell failed in Jupyter.

Cell text is the student's, and the grader's process parses it only within bounds (worst cases
measured with Python 3.11 on one core, in a fresh process):

- code cells are parsed with `ast.parse`, at most MAX_SCAN_CELLS of them, each at most
  MAX_SCAN_CELL_CHARS long, MAX_SCAN_CHARS in all; at most MAX_DEFINITIONS functions, helpers and
  constants are kept. The parser costs about 0.9 KiB of memory per character and is quadratic in
  f-string fields: a 64 KiB cell of `{a}` fields takes 0.34 s and 60 MiB, so the worst notebook
  0.75 s (0.8 s and 75 MiB on a slower machine). What is taken from the trees (free names, plain
  values, `ast.unparse` of the guarded statements) is linear in their size, iterative where a tree
  may be deep (plain values are at most MAX_PLAIN_DEPTH deep; a statement too deep to unparse is
  not taken): 120 KiB of function bodies take 0.2 s more than parsing them, 10,000 helper defs
  0.1 s in all. Before these limits every cell was parsed: a 2 MB cell took a minute and 1.8 GiB,
  and the parser's RecursionError or MemoryError on a deeply nested scratch cell was an internal
  grader error.
- a graded cell is only tokenized for grading (`tokenize`: linear, about 1.2 µs and no memory per
  character: 0.33 s and 2 MiB for the largest allowed, once per cell and process), and parsed only
  by the scan above, within its budget, for the defs of functions without a graded cell; one
  longer than MAX_GRADED_CELL_CHARS fails its function with a clear reason instead of reaching a
  sandbox. With the assignment's 8 functions at the limit, 2.6 s per submission at worst.
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import io
import re
import tokenize
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autograder.notebook import graded_cells, graded_name, read_cells

MAX_SCAN_CELL_CHARS = 64 << 10  # honest code cells of these notebooks: 3.5 KB at most
MAX_SCAN_CHARS = 128 << 10  # honest notebooks: 25 KB of code in all
MAX_SCAN_CELLS = 500  # honest notebooks: 34 code cells
MAX_IMPORTS_CHARS = 16 << 10  # of import statements kept (an honest notebook: a few hundred)
MAX_DEFINITIONS = 1000  # top-level defs and constants kept (an honest notebook: about 20)
MAX_PLAIN_DEPTH = 24  # nesting of a plain value (an honest one: 4, a 3-D list literal)
MAX_GRADED_CELL_CHARS = 256 << 10  # an honest graded cell: 3.5 KB at most
_STRING_PREFIX = re.compile(r"[A-Za-z]*")
_WORD = re.compile(r"[^\W\d]\w*")

NUMPY = frozenset({"np", "numpy"})
# Names no helper or constant may take: what a session's namespace starts with, and what the
# guards and plain values rely on.
RESERVED = frozenset(dir(builtins)) | NUMPY
PLAIN_BUILTINS = frozenset(
    "abs bool complex dict float frozenset int len list max min range round set slice str sum tuple".split()
)
DENIED_ATTRIBUTE = re.compile(
    r"(load|save|set|show|print|dump|tofile|fromfile|fromregex|genfromtxt|memmap|info|lookfor|source|"
    r"who|test|ctypes|cffi|f2py|distutils|lib|seed|get_state|errstate|DataSource)"
)
_LOCAL_MODULES = frozenset({"public_tests", "testkit", "test_utils"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class GradedCellTooLarge(AssertionError):
    """A graded cell too long to be run: fails its function's tests with the reason."""


@dataclass(frozen=True)
class FoundFunction:
    """A top-level `def` statement of a code cell, which grades its function when no graded cell
    holds it."""

    cell: int  # the cell's position in the notebook, from 1
    line: int  # of the statement's first line (its first decorator's) in the cell
    source: str  # the statement's lines

    def as_cell(self) -> str:
        """The statement alone, on the lines it has in its cell."""
        return "\n" * (self.line - 1) + self.source


@dataclass(frozen=True)
class Helper:
    """A helper function or constant of a non-graded cell, as a session may include it."""

    name: str
    code: str  # one guarded statement
    uses: frozenset[str]  # the names it may read: for a function its free names, for a constant its value's
    constant: bool
    needs: frozenset[str] = frozenset()  # constants read when it is defined (a function's defaults)
    calls: frozenset[str] = frozenset()  # builtins called when it is defined
    numpy: bool = False  # whether defining it reads np or numpy


@dataclass
class Submission:
    student_id: str
    notebook_path: Path
    cells: dict[str, str] = field(default_factory=dict)  # graded function -> the source it is graded from
    imports: str = ""
    digest: str = ""
    helpers: dict[str, Helper] = field(default_factory=dict)  # constants first, then functions
    notes: dict[str, str] = field(default_factory=dict)  # graded function -> what feedback says of its cell


@dataclass
class NotebookCode:
    """What a notebook's code cells define, for grading (see the module's docstring)."""

    imports: str = ""
    functions: dict[str, FoundFunction] = field(default_factory=dict)  # last top-level def of each name
    helpers: dict[str, Helper] = field(default_factory=dict)


def load_submission(student_id: str, notebook_path: Path, functions: Iterable[str] = ()) -> Submission:
    """Read a submitted notebook; raises NotebookError with a reason when it is unusable.

    `functions`: the assignment's graded functions, each graded from its graded cell or, where
    there is none, from its last top-level def (with a note saying so)."""
    nb = read_cells(notebook_path)
    marked, code = graded_cells(nb), notebook_code(nb)
    cells, notes = dict(marked), {}
    for name in functions:
        found = code.functions.get(name)
        if name not in cells and found is not None:
            cells[name] = found.as_cell()
            notes[name] = (
                f"{name} was graded from the `def {name}` in cell {found.cell}: no cell starts with "
                f"'# GRADED FUNCTION: {name}'"
            )
    digest = _digest(marked, code)
    return Submission(student_id, Path(notebook_path), cells, code.imports, digest, code.helpers, notes)


def submission_digest(nb) -> str:
    """Fingerprint of exactly what grading may use from a notebook, whatever its graded functions."""
    return _digest(graded_cells(nb), notebook_code(nb))


def _digest(cells: dict[str, str], code: NotebookCode) -> str:
    digest = hashlib.sha256(code.imports.encode("utf-8", "surrogatepass"))
    for name, source in sorted(cells.items()):
        digest.update(f"\0{name}\0{source}".encode("utf-8", "surrogatepass"))
    for name, found in code.functions.items():
        digest.update(
            f"\1{name}\0{found.cell}\0{found.line}\0{found.source}".encode("utf-8", "surrogatepass")
        )
    for name, helper in code.helpers.items():
        digest.update(f"\2{name}\0{helper.code}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def notebook_imports(nb) -> str:
    """The notebook's top-level import statements outside graded cells (see notebook_code)."""
    return notebook_code(nb).imports


def notebook_code(nb) -> NotebookCode:
    """The imports, top-level defs, helpers and constants of a notebook's code cells, within the
    limits above: a cell too long is skipped, and cells after a budget is spent are not looked at.
    Imports, helpers and constants come from non-graded cells only; defs from every code cell."""
    scan = _Scan()
    scanned = parsed = 0
    for position, cell in enumerate(nb["cells"], start=1):
        source = cell.get("source", "")
        if cell.get("cell_type") != "code" or not isinstance(source, str):
            continue
        if len(source) > MAX_SCAN_CELL_CHARS or not source.strip():
            continue
        parsed, scanned = parsed + 1, scanned + len(source)
        if parsed > MAX_SCAN_CELLS or scanned > MAX_SCAN_CHARS:
            break
        code = "".join(
            "\n" if line.lstrip().startswith(("%", "!")) else line  # IPython magics, keeping line numbers
            for line in io.StringIO(source, newline="").readlines()
        )
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # the parser's depth limits
            continue
        if not scan.cell(tree, code, position, graded=graded_name(cell) is not None):
            break
    return scan.result()


class _Scan:
    """The top-level statements of a notebook's cells, in order (notebook_code)."""

    def __init__(self) -> None:
        self.imports: list[str] = []
        self.import_chars = 0
        self.import_names: set[str] = set()  # bound by the imports kept
        self.numpy_rebound = False  # an import binds np or numpy to something else than numpy
        self.functions: dict[str, FoundFunction] = {}
        self.bindings: dict[str, Helper | None] = {}  # each name's last binding; None: not extractable
        self.kept = 0

    def cell(self, tree: ast.Module, code: str, position: int, graded: bool) -> bool:
        """Take what the cell defines; False once MAX_DEFINITIONS is reached."""
        lines = io.StringIO(code, newline="").readlines()
        for node in tree.body:
            if self.kept >= MAX_DEFINITIONS:
                return False
            if isinstance(node, ast.FunctionDef):
                first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
                statement = "".join(lines[first - 1 : node.end_lineno])
                self.functions.pop(node.name, None)  # its position is its last definition's
                self.functions[node.name] = FoundFunction(position, first, statement)
                self.kept += 1
            if graded:
                continue  # the cell runs in its own function's session; its other code is its own
            if isinstance(node, ast.Import | ast.ImportFrom):
                self._import(node)
            elif isinstance(node, ast.FunctionDef):
                self._bind(node.name, _helper_function(node))
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                for name, helper in _constants(node):
                    if self.kept >= MAX_DEFINITIONS:
                        return False
                    self._bind(name, helper)
                    self.kept += 1
            else:
                for name in _bound_names(node):
                    self._bind(name, None)
        return True

    def _bind(self, name: str, helper: Helper | None) -> None:
        self.bindings.pop(name, None)  # ordered by last binding
        self.bindings[name] = None if name in RESERVED or name.startswith("__") else helper

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            modules = [alias.name for alias in node.names]
        if any(module.split(".")[0] in _LOCAL_MODULES for module in modules):
            return  # the assignment's own files are not there when grading
        statement = ast.unparse(node)
        self.import_chars += len(statement) + 1
        if self.import_chars > MAX_IMPORTS_CHARS:
            return
        self.imports.append(statement)
        for alias in node.names:
            bound = (alias.asname or alias.name).split(".")[0]
            self.import_names.add(bound)
            self._bind(bound, None)  # the import is its binding now
            numpy = isinstance(node, ast.Import) and (
                alias.name == "numpy" or (alias.asname is None and alias.name.startswith("numpy."))
            )
            if bound in NUMPY and not numpy:
                self.numpy_rebound = True

    def result(self) -> NotebookCode:
        """The helpers whose definition reads only plain values: constants that only read constants
        defined before them, and functions whose defaults only read constants."""
        constants: dict[str, Helper] = {}
        helpers: dict[str, Helper] = {}
        for name, helper in self.bindings.items():
            if helper is not None and self._safe(helper, constants):
                (constants if helper.constant else helpers)[name] = helper
        functions = {name: helper for name, helper in helpers.items() if helper.needs <= constants.keys()}
        return NotebookCode("\n".join(self.imports), self.functions, {**constants, **functions})

    def _safe(self, helper: Helper, constants: Mapping[str, Helper]) -> bool:
        if helper.numpy and self.numpy_rebound:
            return False
        if (helper.needs | helper.calls) & self.import_names:
            return False  # a name an import binds: it could be a module's function
        return not helper.constant or helper.needs <= constants.keys()


def _guarded(statement: ast.stmt) -> str | None:
    """`try: <statement> except: pass`: a definition that fails leaves its name undefined."""
    handler = ast.ExceptHandler(None, None, [ast.Pass()])
    guard = ast.Try(body=[statement], handlers=[handler], orelse=[], finalbody=[])
    try:
        return ast.unparse(guard)
    except (RecursionError, ValueError, AttributeError, MemoryError):
        return None


def _constants(node: ast.Assign | ast.AnnAssign) -> list[tuple[str, Helper | None]]:
    """The constants an assignment defines: (name, Helper), or (name, None) for a name it binds to
    something else than a plain value."""
    if isinstance(node, ast.AnnAssign):
        if node.value is None or not isinstance(node.target, ast.Name):
            return [(name, None) for name in _bound_names(node)] if node.value is not None else []
        pairs = [(node.target, node.value)]
    else:
        pairs = []
        for target in node.targets:
            if isinstance(target, ast.Name):
                pairs.append((target, node.value))
            elif (
                isinstance(target, ast.Tuple | ast.List)
                and isinstance(node.value, ast.Tuple | ast.List)
                and len(target.elts) == len(node.value.elts)
                and all(isinstance(element, ast.Name) for element in target.elts)
            ):
                pairs.extend(zip(target.elts, node.value.elts))
            else:
                return [(name, None) for name in _bound_names(node)]
    targets = {target.id for target, _ in pairs}
    found: list[tuple[str, Helper | None]] = []
    for target, value in pairs:
        if isinstance(value, ast.Lambda):  # `sigmoid = lambda x: ...`: a helper function
            found.append((target.id, _helper_function(value, target.id)))
            continue
        plain = _plain(value)
        helper = None
        if plain is not None and not plain[0] & targets:  # `a, b = b, a`: not one at a time
            needs, calls, numpy = plain
            assign = ast.Assign(targets=[ast.Name(target.id, ast.Store())], value=value, lineno=1)
            code = _guarded(assign)
            if code is not None:
                helper = Helper(target.id, code, needs, True, needs, calls, numpy)
        found.append((target.id, helper))
    return found


def _helper_function(node: ast.FunctionDef | ast.Lambda, name: str = "") -> Helper | None:
    """A def (or `name = lambda ...`) as a helper: without decorators, its defaults plain, its
    annotations dropped."""
    if isinstance(node, ast.FunctionDef) and (node.decorator_list or getattr(node, "type_params", None)):
        return None
    needs: set[str] = set()
    calls: set[str] = set()
    numpy = False
    for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
        plain = _plain(default)
        if plain is None:
            return None
        needs |= plain[0]
        calls |= plain[1]
        numpy = numpy or plain[2]
    for argument in _parameters(node.args):
        argument.annotation = None
    if isinstance(node, ast.FunctionDef):
        name, statement = node.name, node
        node.returns = None
    else:
        statement = ast.Assign(targets=[ast.Name(name, ast.Store())], value=node, lineno=1)
    code = _guarded(statement)
    if code is None:
        return None
    uses = _free_names(node) | needs
    return Helper(name, code, uses, False, frozenset(needs), frozenset(calls), numpy)


def _plain(value: ast.expr) -> tuple[frozenset[str], frozenset[str], bool] | None:
    """(the constants it reads, the builtins it calls, whether it reads numpy) if `value` is plain
    (see the module's docstring), else None. Iterative, and at most MAX_PLAIN_DEPTH deep."""
    needs: set[str] = set()
    calls: set[str] = set()
    numpy = False
    stack: list[tuple[ast.AST | None, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if node is None:
            continue
        if depth > MAX_PLAIN_DEPTH:
            return None
        below = depth + 1
        if isinstance(node, ast.Constant):
            continue
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                return None
            if node.id in NUMPY:
                numpy = True
            elif node.id in PLAIN_BUILTINS:
                calls.add(node.id)
            elif node.id in RESERVED or node.id.startswith("__"):
                return None  # another builtin (print, eval, open): not data
            else:
                needs.add(node.id)
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or DENIED_ATTRIBUTE.match(node.attr) or _numpy_depth(node) > 2:
                return None
            stack.append((node.value, below))
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Attribute | ast.Name):
                return None
            if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords
            ):
                return None
            stack.extend((item, below) for item in [node.func, *node.args, *(k.value for k in node.keywords)])
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            if any(isinstance(element, ast.Starred) for element in node.elts):
                return None
            stack.extend((element, below) for element in node.elts)
        elif isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                return None
            stack.extend((item, below) for item in [*node.keys, *node.values])
        elif isinstance(node, ast.UnaryOp):
            stack.append((node.operand, below))
        elif isinstance(node, ast.BinOp):
            stack.extend([(node.left, below), (node.right, below)])
        elif isinstance(node, ast.BoolOp):
            stack.extend((item, below) for item in node.values)
        elif isinstance(node, ast.Compare):
            stack.extend((item, below) for item in [node.left, *node.comparators])
        elif isinstance(node, ast.IfExp):
            stack.extend((item, below) for item in [node.test, node.body, node.orelse])
        elif isinstance(node, ast.Subscript):
            stack.extend([(node.value, below), (node.slice, below)])
        elif isinstance(node, ast.Slice):
            stack.extend((item, below) for item in [node.lower, node.upper, node.step])
        else:
            return None
    return frozenset(needs), frozenset(calls), numpy


def _parameters(arguments: ast.arguments) -> list[ast.arg]:
    every = [
        *arguments.posonlyargs,
        *arguments.args,
        *arguments.kwonlyargs,
        arguments.vararg,
        arguments.kwarg,
    ]
    return [argument for argument in every if argument is not None]


def _numpy_depth(node: ast.Attribute) -> int:
    """How many attributes deep `np.a.b` is in numpy (0: not rooted at np or numpy). Deeper than
    `np.a.b`, numpy's modules hold others (`np.ma.core.builtins`)."""
    depth, root = 1, node.value
    while isinstance(root, ast.Attribute):
        depth, root = depth + 1, root.value
    return depth if isinstance(root, ast.Name) and root.id in NUMPY else 0


def _bound_names(node: ast.stmt) -> set[str]:
    """The names a top-level statement binds in the notebook's namespace (Name targets, defs and
    classes, imports, `except ... as`, match captures), outside nested scopes and comprehensions."""
    bound: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(item.name)
            stack.extend(item.decorator_list)
            continue  # its body is its own scope (default values are not bindings)
        if isinstance(item, ast.Lambda):
            continue
        if isinstance(item, _COMPREHENSIONS):
            stack.extend(generator.iter for generator in item.generators[:1])
            continue  # their variables are their own (a walrus inside them is let be)
        if isinstance(item, ast.Name) and not isinstance(item.ctx, ast.Load):
            bound.add(item.id)
        elif isinstance(item, ast.Attribute | ast.Subscript) and not isinstance(item.ctx, ast.Load):
            root = item.value  # `x[0] = 1`, `x.a = 1`: x changes
            while isinstance(root, ast.Attribute | ast.Subscript):
                root = root.value
            if isinstance(root, ast.Name):
                bound.add(root.id)
        elif isinstance(item, ast.Import | ast.ImportFrom):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in item.names)
        elif isinstance(item, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and item.name:
            bound.add(item.name)
        elif isinstance(item, ast.MatchMapping) and item.rest:
            bound.add(item.rest)
        elif isinstance(item, ast.NamedExpr) and isinstance(item.target, ast.Name):
            bound.add(item.target.id)
        stack.extend(ast.iter_child_nodes(item))
    bound.discard("*")
    return bound


def _free_names(node: ast.FunctionDef | ast.Lambda) -> frozenset[str]:
    """The names a function's body may read from its module: every name it loads (nested scopes
    included, a superset) but its own parameters and locals."""
    local = {argument.arg for argument in _parameters(node.args)}
    loaded: set[str] = set()
    declared: set[str] = set()
    body = node.body if isinstance(node.body, list) else [node.body]
    stack: list[tuple[ast.AST, bool]] = [(statement, True) for statement in body]
    while stack:
        item, own = stack.pop()
        if isinstance(item, ast.Name):
            if isinstance(item.ctx, ast.Load):
                loaded.add(item.id)
            elif own:
                local.add(item.id)
        elif isinstance(item, ast.Global | ast.Nonlocal):
            declared.update(item.names)
        elif own and isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            local.add(item.name)
        elif own and isinstance(item, ast.Import | ast.ImportFrom):
            local.update((alias.asname or alias.name).split(".")[0] for alias in item.names)
        nested = own and not isinstance(item, _SCOPES + _COMPREHENSIONS)
        stack.extend((child, nested) for child in ast.iter_child_nodes(item))
    return frozenset(loaded - (local - declared))


def imports_for(cell_source: str, imports: str) -> str:
    """The import statements a cell needs: those binding a name the cell uses. Importing
    everything (matplotlib, say) in every sandboxed session would cost a second per notebook.

    Raises GradedCellTooLarge for a cell over MAX_GRADED_CELL_CHARS."""
    return session_prelude(cell_source, imports, {})


def session_prelude(
    cell_source: str, imports: str, helpers: Mapping[str, Helper], graded: Collection[str] = ()
) -> str:
    """A session's first cell, for a graded function's cell: the notebook's imports, helpers and
    constants the cell uses, transitively, each guarded; none named like a graded function.

    Raises GradedCellTooLarge for a cell over MAX_GRADED_CELL_CHARS."""
    if len(cell_source) > MAX_GRADED_CELL_CHARS:
        name = graded_name({"cell_type": "code", "source": cell_source}) or "a graded function"
        raise GradedCellTooLarge(
            f"the cell of {name} has {len(cell_source) >> 10} KiB of text, over the "
            f"{MAX_GRADED_CELL_CHARS >> 10} KiB a graded cell may hold: keep only the function's code in it"
        )
    used = set(_names_used(cell_source))
    if not used:
        return ""  # nothing to import, or the cell fails to load anyway, with its own error
    included: set[str] = set()
    todo = [name for name in used if name in helpers and name not in graded]
    while todo:
        name = todo.pop()
        if name in included:
            continue
        included.add(name)
        for other in helpers[name].uses:
            used.add(other)
            if other in helpers and other not in graded and other not in included:
                todo.append(other)
    statements = [
        f"try:\n    {statement}\nexcept Exception:\n    pass"
        for bound, statement in _bindings(imports)
        if bound & used
    ]
    statements.extend(helper.code for name, helper in helpers.items() if name in included)
    return "\n".join(statements)


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
    """(the names an import statement binds, the statement) for each of notebook_code's imports."""
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
