"""The committed release is exactly what stock nbgrader makes from the source, and gives nothing away."""

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.course import COURSE_ROOT, release_dir, source_dir
from autograder.notebook import graded_cells, read_notebook
from autograder.release import generate_release

ASSIGNMENTS = ["conv_step_by_step", "rnn_step_by_step"]


def comparable(nb: nbformat.NotebookNode) -> list[tuple]:
    """What matters of a notebook: cell types, sources and nbgrader metadata, not volatile ids."""
    return [(cell.cell_type, cell.source, cell.get("metadata", {}).get("nbgrader")) for cell in nb.cells]


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def regenerated(request, tmp_path_factory) -> tuple[str, Path]:
    assignment = request.param
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(source_dir(assignment), course / "source" / assignment)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", course)
    return assignment, generate_release(assignment, root=course)


@pytest.mark.slow
def test_committed_release_matches_a_fresh_generate_assignment(regenerated):
    assignment, fresh = regenerated
    committed = release_dir(assignment)
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    assert committed_files == fresh_files, "release/ is stale: run `autograder release` and commit it"
    for relative in fresh_files:
        if relative.suffix == ".ipynb":
            assert comparable(read_notebook(committed / relative)) == comparable(
                read_notebook(fresh / relative)
            ), f"{relative} differs from what nbgrader generates from source/: regenerate the release"
        else:
            assert (committed / relative).read_bytes() == (fresh / relative).read_bytes(), relative


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_solutions_and_no_hidden_tests(assignment):
    release_nb = read_notebook(release_dir(assignment) / f"{assignment}.ipynb")
    text = "\n".join(cell.source for cell in release_nb.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
        assert marker not in text
    reference = graded_cells(read_notebook(source_dir(assignment) / f"{assignment}.ipynb"))
    stubs = graded_cells(release_nb)
    assert stubs.keys() == reference.keys()
    for name, stub in stubs.items():
        assert "raise NotImplementedError" in stub, f"{name}: the stub must raise a clear error"
        solution_lines = _solution_lines(reference[name])
        leaked = [line for line in solution_lines if line in stub.splitlines()]
        assert not leaked, f"{name}: solution lines leaked into the release: {leaked}"
    assert not any(p.name == "grader_tests" for p in release_dir(assignment).rglob("*"))


def _solution_lines(source: str) -> list[str]:
    """Non-trivial lines inside the solution region of a reference cell."""
    inside, lines = False, []
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside and len(line.strip()) > 12:
            lines.append(line)
    return lines
