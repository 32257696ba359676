"""Whatever a submitted file holds, reading it gives the cells or one clear NotebookError."""

import json

import pytest

from autograder.notebook import NotebookError, graded_cells, read_cells

GOOD = {
    "cells": [{"cell_type": "code", "source": ["# GRADED FUNCTION: zero_pad\n", "def zero_pad(X, pad): ..."]}]
}


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"\xff\xfe not text", "not a readable .ipynb"),
        (b"{" * 100_000, "not a readable .ipynb"),  # nested past the parser's recursion limit
        (b'{"cells": [' + b"9" * 10_000 + b"]}", "not a readable .ipynb"),  # an absurd integer
        (b'{"cells": {"a": 1}}', "has no list of cells"),
        (b"[]", "has no list of cells"),
        (b"", "not a readable .ipynb"),
        # the JSON shape limits refuse before parsing
        (b'{"cells": [' + b"[" * 500 + b"]" * 500 + b"]}", "nested deeper than 64 levels"),
        (b'{"cells": [' + b",".join([b"0"] * 250_000) + b"]}", "more than 200000 JSON values"),
        (b'{"cells": [' + b",".join([b'"a"'] * 250_000) + b"]}", "more than 200000 JSON values"),
    ],
    ids=["not_text", "braces", "integer", "dict", "list", "empty", "deep", "many_values", "many_strings"],
)
def test_broken_files(tmp_path, content, reason):
    path = tmp_path / "submission.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=reason):
        read_cells(path)


def test_oversized_notebook_is_refused_before_reading(tmp_path):
    path = tmp_path / "submission.ipynb"
    path.write_text(json.dumps(GOOD) + " " * 2**20)
    with pytest.raises(NotebookError, match="over the 1 MiB limit: clear its outputs"):
        read_cells(path, max_bytes=2**20)
    assert list(graded_cells(read_cells(path))) == ["zero_pad"]
