"""Which students' graded functions are identical or near-identical: where to look for copying.

    pairs = similar_pairs({s.student_id: s.cells for s in submissions}, graded_cells(released_nb))
    similarity(cell_a, cell_b, stub)  # one comparison, 0.0 to 1.0

Method. Each version of a graded function is normalised (`normalise`): parsed with `ast`, never
run; comments, formatting, docstrings and other bare string statements, and annotations dropped;
the names the code binds (arguments, local variables, loop and comprehension targets, nested
functions) renamed v0, v1, ... in order of first appearance; the names it only reads (`np`,
`range`, `zero_pad`), attribute names (`.shape`), keyword arguments (`axis=`) and literals kept; an
import alias read as what it imports (`import numpy as xp` reads `numpy`). What remains is the
tree's nodes in source order, one token each (`Assign v3 BinOp v1 Mult v2`), with a marker at the
end of each block. Renaming, reformatting, recommenting or re-documenting code does not change it.

Two versions are compared as sets of shingles, runs of SHINGLE consecutive tokens, hashed into
BUCKETS buckets. In a shingle, a renamed name stands for where it first occurs in that shingle, so
that a variable added early does not renumber, for the shingles, every variable after it. The
similarity of two versions is the Jaccard index of their sets, computed for the whole class at once
(a students x buckets 0/1 matrix, intersections from one matrix product, unions from row sums);
identical normalised code scores 1.0. The released stub's buckets are left out of every set: the
signature and `return` line everyone was given are no evidence.

What counts. A version counts unless it is missing or does not parse, is shorter than `min_tokens`
tokens (a one-liner like `return x == np.max(x)` is written alike by honest students), is
near-identical to the released stub (similarity >= threshold: the stub untouched or recommented),
or is common: near-identical to the versions of more than max(common_floor, common_share x class
size) students, itself included. A common version is the idiom or the textbook solution that many
students find on their own, so it is no evidence of copying. Two students are a pair when at least
one function counting for both matches (similarity >= threshold); the pair's similarity is the mean
over all functions that count for both, matching or not.

Limits. It catches copies that were renamed, reformatted, recommented, or edited in one place.
Each edit costs: a statement added, removed or moved changes the SHINGLE - 1 shingles across each
of its ends as well as its own. One statement added to a 30-line conv_forward leaves 0.92, two
0.86, three 0.82: a copy edited in two or more places, or with blocks moved, falls below the
default threshold, and so do equivalent rewrites (a loop for a comprehension, `x += 1` for `x = x
+ 1`, an inlined variable, code moved into a helper). Names are compared only within a shingle, so
honest versions of the same structure score high (`a + b` is `b + a` when both are new to the
shingle): that is what the share rule is for. A copy of a common version is never reported, as it
cannot be told from an honest one. Code that does not parse, even with IPython magic lines (`%time`,
`!ls`) blanked, or is over MAX_SOURCE_BYTES, is not compared. Hash collisions add about 0.01 to the
similarity of two unrelated long functions. A reported pair is a reason to read the two notebooks,
not a proof.

Bounds. Sources are student-controlled: over MAX_SOURCE_BYTES they are refused unparsed; CPython's
parser raises (RecursionError, MemoryError, SyntaxError), rather than crashing, on deep nesting, and
each of those gives []; the tree is walked without recursion. Time is linear in the sources' size,
mostly parsing and walking (about 0.4 ms for a 30-line function, 0.1-0.4 s for 64 KiB): 500
students x 8 functions take about 2 s (bench/similarity_speed.py). Memory: at most a students x
BUCKETS float32 matrix per function (32 MB for 500 students).
"""

from __future__ import annotations

import ast
import hashlib
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MAX_SOURCE_BYTES = 64 * 1024  # UTF-8 bytes of one version; longer ones are not parsed
SHINGLE = 5  # tokens per shingle
BUCKETS = 2**14  # hash buckets of the shingle sets

_MAGIC_LINE = re.compile(r"^[ \t]*[%!].*$", re.MULTILINE)
_LEAF_FIELDS = frozenset(  # the fields that never hold a node (names, flags), and those dropped
    ("id", "attr", "arg", "name", "asname", "module", "level", "kind", "conversion", "is_async", "rest")
    + ("kwd_attrs", "lineno", "tag", "ctx", "annotation", "returns", "type_comment")
)
_LEAF_FIELDS_OF = {
    ast.Constant: frozenset({"value"}),
    ast.MatchSingleton: frozenset({"value"}),
    ast.Global: frozenset({"names"}),
    ast.Nonlocal: frozenset({"names"}),
}
_BLOCK_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
_END_OF_BLOCK = object()  # on the stack of nodes to visit: the token "}"
_CANONICAL = re.compile(r"v[0-9]+")  # a renamed name's token
_BINDING_FIELD = {  # the nodes that bind a name other than by a Name: the field holding it
    ast.arg: "arg",
    ast.FunctionDef: "name",
    ast.AsyncFunctionDef: "name",
    ast.ClassDef: "name",
    ast.ExceptHandler: "name",
    ast.MatchAs: "name",
    ast.MatchStar: "name",
    ast.MatchMapping: "rest",
}
_NAMED = (
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.keyword,
    ast.alias,
    ast.ImportFrom,
    ast.Global,
    ast.Nonlocal,
)


def _node_kinds() -> list[type]:
    """Every class of node the ast module defines."""
    kinds, pending = [], [ast.AST]
    while pending:
        kinds.append(pending.pop())
        pending.extend(kinds[-1].__subclasses__())
    return kinds


_KINDS = {  # the nodes whose token is their kind: operators, statements, most expressions
    kind: kind.__name__ for kind in _node_kinds() if kind not in _NAMED and kind not in _BINDING_FIELD
}
_FIELDS: dict[type, tuple[str, ...]] = {}
_NAME_CODE = 1 << 40  # + a position in a shingle: the code of a renamed name (crc32s are below 2**32)
_MULTIPLIER = np.uint64(0x100000001B3)  # FNV-1a's prime: combines a shingle's token ids
_MIXER = np.uint64(0xFF51AFD7ED558CCD)  # MurmurHash3's finaliser: spreads shingle hashes over buckets


@dataclass(frozen=True)
class Pair:
    """Two students whose graded functions match: `functions` those with similarity >= threshold,
    `similarity` the mean over all functions that count for both."""

    student_a: str  # the first of the two names in sort order
    student_b: str
    similarity: float
    functions: tuple[str, ...]  # in the order of student_a's submission


# --- normalisation -------------------------------------------------------------------------------


def normalise(source: str) -> list[str]:
    """The tokens of `source` with comments, docstrings, annotations and formatting dropped and its
    own names renamed canonically; [] when it is over MAX_SOURCE_BYTES or does not parse."""
    tree = _parse(source)
    if tree is None:
        return []
    try:
        return _tokens(tree)
    except (RecursionError, MemoryError, ValueError):  # ValueError: repr of a huge int literal
        return []


def _parse(source: object) -> ast.Module | None:
    """The tree of a source within MAX_SOURCE_BYTES, parsed as it is or with its magic lines blanked."""
    if not isinstance(source, str) or len(source) > MAX_SOURCE_BYTES:
        return None
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        return None
    attempts = [source]
    without_magics = _MAGIC_LINE.sub("", source)
    if without_magics != source:
        attempts.append(without_magics)
    for text in attempts:
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            continue
    return None


def _tokens(tree: ast.Module) -> list[str]:
    """The nodes of the tree in source order (pre-order), walked with a stack of nodes and markers;
    the names are resolved at the end, once all the bound ones are known."""
    tokens: list[str] = []
    names: list[tuple[int, str]] = []  # (position in tokens, identifier)
    bound: set[str] = set()
    imported: dict[str, str] = {}
    stack: list = [tree]
    while stack:
        node = stack.pop()
        kind = type(node)
        label = _KINDS.get(kind)
        if label is not None:
            tokens.append(label)
        elif node is _END_OF_BLOCK:
            tokens.append("}")
            continue
        elif node is None:
            tokens.append("-")  # an absent key (`{**d}`) or default
            continue
        elif isinstance(node, ast.AST):
            _named(node, tokens, names, bound, imported)
        else:  # a value of a field that holds no node
            continue
        _push_children(node, stack)
    canonical: dict[str, str] = {}
    for position, identifier in names:
        if identifier in bound:
            tokens[position] = canonical.setdefault(identifier, f"v{len(canonical)}")
        else:  # read only: a builtin, a module, a global; never mistaken for a renamed one
            name = imported.get(identifier, identifier)
            tokens[position] = "$" + name if _CANONICAL.fullmatch(name) else name
    return tokens


def _named(node: ast.AST, tokens: list[str], names: list, bound: set[str], imported: dict[str, str]) -> None:
    """Append the tokens of a node that holds a name or a value (a name's token is resolved later);
    record the names it reads or binds."""
    kind = type(node)
    if kind is ast.Name:
        if type(node.ctx) is not ast.Load:
            bound.add(node.id)
        names.append((len(tokens), node.id))
        tokens.append("")
    elif kind in _BINDING_FIELD:
        identifier = getattr(node, _BINDING_FIELD[kind])
        if kind is not ast.arg:
            tokens.append(kind.__name__)
        if identifier:
            bound.add(identifier)
            names.append((len(tokens), identifier))
            tokens.append("")
    elif kind is ast.Global or kind is ast.Nonlocal:
        tokens.append(kind.__name__)
        for identifier in node.names:
            names.append((len(tokens), identifier))
            tokens.append("")
    else:
        tokens.append(_value_label(node, imported))


def _value_label(node: ast.AST, imported: dict[str, str]) -> str:
    """The token of a node holding a value (an attribute, a literal, ...); records import aliases."""
    if isinstance(node, ast.Attribute):
        return "." + node.attr
    if isinstance(node, ast.Constant):
        value = node.value
        if type(value) is int and value.bit_length() > 64:  # no huge token, no int-to-str limit
            return f"int{value.bit_length()}"
        return repr(value)
    if isinstance(node, ast.keyword):
        return f"{node.arg}=" if node.arg else "**"
    if isinstance(node, ast.alias):
        alias = node.asname or node.name.partition(".")[0]
        imported[alias] = node.name if node.asname else alias
        return f"import {node.name}"
    if isinstance(node, ast.ImportFrom):
        return f"from {'.' * (node.level or 0)}{node.module or ''}"
    return type(node).__name__


def _push_children(node: ast.AST, stack: list) -> None:
    """Push the node's children, last first, without annotations and bare string statements
    (docstrings), with a marker after each block of statements. A list may hold None (`{**d}`)."""
    kind = type(node)
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = _child_fields(kind)
    for field in fields:
        value = getattr(node, field, None)
        if type(value) is list:
            if field in _BLOCK_FIELDS:
                value = [statement for statement in value if not _bare_string(statement)]
                if value:
                    stack.append(_END_OF_BLOCK)
            stack.extend(reversed(value))
        elif value is not None:
            stack.append(value)


def _child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a kind of node that may hold nodes, last first."""
    leaves = _LEAF_FIELDS | _LEAF_FIELDS_OF.get(kind, frozenset())
    return tuple(field for field in reversed(getattr(kind, "_fields", ())) if field not in leaves)


def _bare_string(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


# --- shingles ------------------------------------------------------------------------------------


class _TokenIds(dict):
    """token -> its id: a renamed name vN -> -1 - N, any other token its crc32, the same in every
    process (Python's str hash is salted)."""

    def __missing__(self, token: str) -> int:
        if _CANONICAL.fullmatch(token):
            value = -1 - int(token[1:])
        else:
            value = zlib.crc32(token.encode("utf-8", "surrogatepass"))
        self[token] = value
        return value


def _buckets(tokens: Sequence[str], ids: _TokenIds) -> np.ndarray:
    """The distinct buckets of the tokens' SHINGLE-token runs (one run if there are fewer tokens).

    In a run, a renamed name stands for the position of its first occurrence in the run: `v7 = v7
    + v2` and `v1 = v1 + v9` are the same run. So a variable added early changes only the runs it
    is in, not the numbering of every variable after it."""
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    codes = np.fromiter(map(ids.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    width = min(SHINGLE, len(codes))
    runs = len(codes) - width + 1
    hashes = np.zeros(runs, dtype=np.uint64)
    for offset in range(width):  # uint64 arithmetic wraps around, as a hash should
        hashes = hashes * _MULTIPLIER + _run_codes(codes, offset, runs).astype(np.uint64)
    hashes ^= hashes >> np.uint64(33)
    hashes *= _MIXER
    hashes ^= hashes >> np.uint64(33)
    return np.unique((hashes % np.uint64(BUCKETS)).astype(np.int64))


def _run_codes(codes: np.ndarray, offset: int, runs: int) -> np.ndarray:
    """The code of the token at `offset` of every run: a name's is where it first occurs in the run."""
    here = codes[offset : offset + runs]
    first = np.full(runs, offset, dtype=np.int64)
    for earlier in range(offset - 1, -1, -1):
        first[codes[earlier : earlier + runs] == here] = earlier
    return np.where(here < 0, _NAME_CODE + first, here)


def _digest(tokens: Sequence[str]) -> int:
    """Equal for equal token sequences (identical normalised code scores 1.0 whatever the buckets)."""
    data = "\0".join(tokens).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)


def similarity(source_a: str, source_b: str, stub: str = "") -> float:
    """The similarity of two versions of a function as similar_pairs compares them, the shingles of
    `stub` left out (without the rules of what counts): 1.0 for identical normalised code, 0.0 when
    either does not normalise."""
    ids = _TokenIds()
    tokens_a, tokens_b = normalise(source_a), normalise(source_b)
    if not tokens_a or not tokens_b:
        return 0.0
    if tokens_a == tokens_b:
        return 1.0
    stub_set = _buckets(normalise(stub), ids) if stub else np.zeros(0, dtype=np.int64)
    a, b = (np.setdiff1d(_buckets(t, ids), stub_set, assume_unique=True) for t in (tokens_a, tokens_b))
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / max(len(a) + len(b) - shared, 1)


# --- one function, the whole class ---------------------------------------------------------------


@dataclass(frozen=True)
class _Versions:
    """The versions of one function that count: students' indices, and their similarity matrix."""

    students: np.ndarray  # indices into the class, ascending
    similarity: np.ndarray  # float64, len(students) x len(students)


def _count_versions(
    tokens: list[list[str]], stub: list[str], ids: _TokenIds, threshold: float, min_tokens: int, limit: float
) -> _Versions:
    """Drop the versions that are short, near the stub or common; the similarity of the others."""
    students = np.array([i for i, t in enumerate(tokens) if len(t) >= min_tokens], dtype=np.int64)
    sets = [_buckets(tokens[i], ids) for i in students]
    digests = np.array([_digest(tokens[i]) for i in students], dtype=np.int64)
    stub_set = _buckets(stub, ids)
    if len(stub_set):
        near_stub = _similarity_to(sets, stub_set) >= threshold
        near_stub |= digests == _digest(stub)
        keep = ~near_stub
        students, digests = students[keep], digests[keep]
        sets = [np.setdiff1d(s, stub_set, assume_unique=True) for s, k in zip(sets, keep) if k]
    matrix = _jaccard(sets, digests)
    common = (matrix >= threshold).sum(axis=1) > limit
    keep = ~common
    return _Versions(students[keep], matrix[np.ix_(keep, keep)])


def _similarity_to(sets: list[np.ndarray], reference: np.ndarray) -> np.ndarray:
    """The Jaccard index of each set with one reference set."""
    shared = np.array([len(np.intersect1d(s, reference, assume_unique=True)) for s in sets], dtype=np.float64)
    sizes = np.array([len(s) for s in sets], dtype=np.float64)
    return shared / np.maximum(sizes + len(reference) - shared, 1)


def _jaccard(sets: list[np.ndarray], digests: np.ndarray) -> np.ndarray:
    """Jaccard indices of all the sets at once: a 0/1 matrix over the buckets that two or more sets
    hold (the others add to no intersection), intersections by a matrix product, unions from sizes."""
    count = len(sets)
    sizes = np.array([len(s) for s in sets], dtype=np.float64)
    rows = np.repeat(np.arange(count), sizes.astype(np.int64))
    columns = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
    _, column_of, holders = np.unique(columns, return_inverse=True, return_counts=True)
    shared = holders[column_of] >= 2
    position = np.cumsum(holders >= 2) - 1
    matrix = np.zeros((count, int((holders >= 2).sum())), dtype=np.float32)
    matrix[rows[shared], position[column_of[shared]]] = 1.0
    intersections = (matrix @ matrix.T).astype(np.float64)  # float32 counts are exact below 2**24
    unions = sizes[:, None] + sizes[None, :] - intersections
    result = np.divide(intersections, unions, out=np.zeros_like(intersections), where=unions > 0)
    result[digests[:, None] == digests[None, :]] = 1.0
    return result


# --- the class -----------------------------------------------------------------------------------


def similar_pairs(
    submissions: Mapping[str, Mapping[str, str]],
    released: Mapping[str, str],
    threshold: float = 0.9,
    min_tokens: int = 40,
    common_share: float = 0.1,
    common_floor: int = 3,
) -> list[Pair]:
    """The pairs of students with at least one matching function (see the module's docstring),
    by similarity, highest first, then by names.

    submissions: student -> graded function -> its source as submitted; released: graded function
    -> the stub of the released notebook. The functions compared are the released ones (a cell a
    student marks as graded is not one); with no stubs at all, every function a submission has. A
    version near-identical to those of more than max(common_floor, common_share x len(submissions))
    students is common and never counts."""
    students = list(submissions)
    limit = max(common_floor, common_share * len(students))
    ids, cache = _TokenIds(), {}
    total = np.zeros((len(students), len(students)), dtype=np.float64)
    counted = np.zeros_like(total, dtype=np.int32)
    matches: dict[tuple[int, int], set[str]] = {}
    for function in list(released) or _function_names(submissions):
        tokens = [_normalised(submissions[s].get(function), cache) for s in students]
        stub = _normalised(released.get(function), cache)
        versions = _count_versions(tokens, stub, ids, threshold, min_tokens, limit)
        block = np.ix_(versions.students, versions.students)
        total[block] += versions.similarity
        counted[block] += 1
        for i, j in zip(*np.nonzero(np.triu(versions.similarity >= threshold, 1))):
            matches.setdefault((int(versions.students[i]), int(versions.students[j])), set()).add(function)
    pairs = [
        _pair(students, i, j, total[i, j] / counted[i, j], found, submissions)
        for (i, j), found in matches.items()
    ]
    return sorted(pairs, key=lambda p: (-p.similarity, p.student_a, p.student_b))


def _function_names(submissions: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Every function a submission has, in order of appearance."""
    names: dict[str, None] = {}
    for functions in submissions.values():
        names.update(dict.fromkeys(functions))
    return list(names)


def _normalised(source: object, cache: dict[str, list[str]]) -> list[str]:
    """normalise(source), once per distinct source; [] for anything but a string."""
    if not isinstance(source, str):
        return []
    if source not in cache:
        cache[source] = normalise(source)
    return cache[source]


def _pair(
    students: list[str],
    i: int,
    j: int,
    mean: float,
    found: set[str],
    submissions: Mapping[str, Mapping[str, str]],
) -> Pair:
    """The pair of students i and j: names in order, the matching functions in the first's order."""
    a, b = sorted((students[i], students[j]))
    functions = tuple(name for name in submissions[a] if name in found)
    return Pair(a, b, round(float(mean), 6), functions)
