"""Find the graded functions of a notebook: cells whose first line is `# GRADED FUNCTION: <name>`.

Submitted notebooks are hostile input. They are read only by `read_untrusted` (regular files
inside the student's own folder, never a blocking open, never more than the size limit) and parsed
only within the limits below, whose worst cases were measured (Python 3.11, one core).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.text import visible

# An honest notebook with every figure's output left in is under 2 MB (the conv assignment run top
# to bottom with the reference: 1.7 MB; rnn: 0.5 MB), so 16 MiB leaves ten times that. Within the
# limits below, reading, checking and parsing the costliest 16 MiB files measured, and extracting
# what grading uses (autograder.submission), takes at most 0.8 s and 110 MiB of peak RSS (a 16 MiB
# graded cell: 0.13 s, 92 MiB; 200,000 values: 0.1 s, 60 MiB). Before these limits, 16 MiB of
# empty objects took 3 s and 1.5 GiB, 16 MiB of tiny cells 5 s, and 64 MiB was allowed.
MAX_NOTEBOOK_BYTES = 16 << 20
# JSON values (strings, and commas, colons, brackets and braces outside strings): an honest notebook
# has about 3,000; each value costs at most a few hundred bytes once parsed and copied.
MAX_JSON_VALUES = 200_000
MAX_JSON_DEPTH = 64  # an honest notebook nests 6 levels; widget state a few more
MAX_MARKER_LINE = 1024  # a first line longer than this is not a `# GRADED FUNCTION:` line
GRADED_MARKER = re.compile(r"^#\s*GRADED FUNCTION:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")

_JSON_STRING = re.compile(rb'"[^"]*"')  # once escaped backslashes and quotes are gone
_BRACKETS_ONLY = bytes(byte for byte in range(256) if byte not in b"[]{}")
_TO_SQUARE = bytes.maketrans(b"{}", b"[]")

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_KINDS = [
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISREG, "a file"),
]


class NotebookError(Exception):
    """A notebook cannot be read or lacks what grading needs; the message says which."""


def kind_of(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def open_folder(name: str, dir_fd: int) -> int:
    """A descriptor of the folder `name` in the folder dir_fd: never through a symbolic link, never
    blocking (OSError otherwise: ELOOP, ENOTDIR)."""
    return os.open(name, _DIRECTORY, dir_fd=dir_fd)


def read_untrusted(folder: str | Path, parts: Sequence[str], max_bytes: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The content of the regular file folder/parts[0]/.../parts[-1], read without trusting parts.

    `folder` is the grader's (the instructor's submissions folder, or one the grader made); each of
    `parts` may be the student's. Every part is opened relative to the folder before it, never
    following a symbolic link (O_NOFOLLOW) and never blocking (O_NONBLOCK): the ones before the
    last must be folders, the last a regular file with a single name (no hard link to someone
    else's file) of at most max_bytes, checked on the opened descriptor; at most max_bytes + 1
    bytes are read. Anything else raises NotebookError saying what the path is instead."""
    if not parts or any(not part or part in (".", "..") or "/" in part or "\0" in part for part in parts):
        raise NotebookError(f"not a path inside the submissions folder: {_shown(parts)}")
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            try:
                mode = os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode
            except FileNotFoundError:
                raise NotebookError(f"notebook not found: {_shown(parts[: index + 1])}") from None
            if not (stat.S_ISREG(mode) if last else stat.S_ISDIR(mode)):
                raise _refused(parts, index, kind_of(mode))
            try:
                opened = os.open(part, _FILE, dir_fd=fd) if last else open_folder(part, fd)
            except OSError as error:  # replaced since the check above, e.g. by a link (ELOOP)
                where = _shown(parts[: index + 1])
                raise NotebookError(f"{where} could not be opened: {error.strerror}") from None
            os.close(fd)
            fd = opened
            status = os.fstat(fd)
            if not (stat.S_ISREG(status.st_mode) if last else stat.S_ISDIR(status.st_mode)):
                raise _refused(parts, index, kind_of(status.st_mode))
        if status.st_nlink > 1:
            raise NotebookError(
                f"the notebook is a hard link (its file has {status.st_nlink} names): only files of the "
                f"student's own are graded ({_shown(parts)})"
            )
        if status.st_size > max_bytes:
            raise _too_large(parts[-1], status.st_size, max_bytes)
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:  # it grew since fstat
            raise _too_large(parts[-1], len(data), max_bytes)
        return data
    finally:
        os.close(fd)


def _shown(parts: Sequence[str]) -> str:
    """A path of student-chosen names as it may be shown: escaped, and not too long."""
    text = "/".join(visible(os.fsencode(part).decode("utf-8", "backslashreplace")) for part in parts)
    return text if len(text) <= 200 else text[:199] + "…"


def _refused(parts: Sequence[str], index: int, kind: str) -> NotebookError:
    if index == len(parts) - 1:
        what, expected = "the notebook", "a regular file"
    else:
        what, expected = f"{_shown([parts[index]])}/", "a folder"
    return NotebookError(
        f"{what} is {kind}, not {expected}: only regular files inside the student's own folder are "
        f"graded ({_shown(parts[: index + 1])})"
    )


def _too_large(name: str, size: int, max_bytes: int) -> NotebookError:
    return NotebookError(
        f"notebook {_shown([name])} is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB "
        "limit: clear its outputs (Edit > Clear Outputs of All Cells) and submit it again"
    )


def read_notebook(path: str | Path, max_bytes: int = MAX_NOTEBOOK_BYTES):
    """Read a notebook with nbformat (for running or rewriting it), as one clear NotebookError
    however it is broken."""
    path = Path(path)
    return parse_notebook(read_untrusted(path.parent, [path.name], max_bytes), path.name)


def parse_notebook(data: bytes, name: str = "notebook.ipynb"):
    """A notebook file's content as nbformat reads it, within the JSON limits above."""
    import nbformat  # imported here: it costs a second of start-up that grading does not need

    check_json_shape(data, name)
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as error:  # nbformat raises several unrelated types for bad JSON
        raise _unreadable(name, str(error)[:200]) from None


def read_cells(path: str | Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> dict[str, Any]:
    """Just the cells of a notebook, as plain dicts with `source` as one string: all grading needs."""
    path = Path(path)
    return parse_cells(read_untrusted(path.parent, [path.name], max_bytes), path.name)


def parse_cells(data: bytes, name: str = "notebook.ipynb") -> dict[str, Any]:
    """The cells of a notebook file's content (see read_cells), within the JSON limits above."""
    check_json_shape(data, name)
    try:
        nb = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # ValueError: bad JSON, UTF-8 or numbers
        raise _unreadable(name, str(error)[:200]) from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise _unreadable(name, "it has no list of cells")
    return {"cells": [_plain_cell(cell) for cell in cells if isinstance(cell, dict)]}


def check_json_shape(data: bytes, name: str = "notebook.ipynb") -> None:
    """NotebookError unless the JSON text has at most MAX_JSON_VALUES values nested at most
    MAX_JSON_DEPTH deep, judged before parsing at C speed and in memory that does not grow with the
    number of values (escaped backslashes and quotes dropped, strings counted, then blanked,
    brackets counted and innermost pairs removed level by level): what parsing costs is bounded."""
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    if unescaped.count(b'"') > 2 * MAX_JSON_VALUES:  # every string is a value (or a key)
        raise _unreadable(name, f"more than {MAX_JSON_VALUES} JSON values")
    bare = _JSON_STRING.sub(b'""', unescaped)  # at most MAX_JSON_VALUES matches
    values = sum(bare.count(char) for char in (b",", b":", b"[", b"{"))
    if values > MAX_JSON_VALUES:
        raise _unreadable(name, f"more than {MAX_JSON_VALUES} JSON values")
    brackets = bare.translate(_TO_SQUARE, _BRACKETS_ONLY)
    depth = 0
    while brackets:
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            return  # unbalanced: json.loads says where
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise _unreadable(name, f"nested deeper than {MAX_JSON_DEPTH} levels")
        brackets = inner


def _unreadable(name: str, reason: str) -> NotebookError:
    return NotebookError(f"notebook {_shown([name])} is not a readable .ipynb file: {visible(reason)}")


def _plain_cell(cell: dict) -> dict:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    if not isinstance(source, str):
        source = ""
    elif not source.isascii():  # JSON's \ud800 escapes decode to lone surrogates: not text
        source = source.encode("utf-8", "replace").decode("utf-8")
    return {**cell, "source": source}


def graded_name(cell: dict) -> str | None:
    """The graded function a code cell holds, or None when it is not a graded cell."""
    if cell.get("cell_type") != "code":
        return None
    source = cell.get("source", "")
    if not isinstance(source, str):
        return None
    lines = source[: MAX_MARKER_LINE + 1].splitlines()  # never split a long cell whole
    first_line = lines[0] if lines else ""
    if len(first_line) > MAX_MARKER_LINE:
        return None
    match = GRADED_MARKER.match(first_line.strip())
    return match.group(1) if match else None


def graded_cells(nb: dict) -> dict[str, str]:
    """Map each graded function name to the source of its cell (the last one wins, as in Jupyter).
    A submission's function without a graded cell is graded from its def (autograder.submission)."""
    cells: dict[str, str] = {}
    for cell in nb["cells"]:
        name = graded_name(cell)
        if name is not None:
            cells[name] = cell["source"]
    return cells
