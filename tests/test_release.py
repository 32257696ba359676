"""The committed release is exactly what stock nbgrader makes from the source, and gives nothing away."""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from helpers import ASSIGNMENTS, COURSE, assignment
from nbgrader import utils as nbgrader_utils

from autograder.course import Course
from autograder.notebook import graded_cells, read_notebook
from autograder.release import TESTKIT, comparable, generate_release, release_differences, shipped_limits


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def regenerated(request, tmp_path_factory) -> tuple[str, Path]:
    name = request.param
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(assignment(name).source_dir, root / "source" / name)
    shutil.copytree(assignment(name).tests_dir, root / "grader_tests" / name)  # runtime points in limits.json
    shutil.copy(COURSE.root / "nbgrader_config.py", root)
    course = Course.load(root)
    return name, generate_release(course.assignment(name), course.settings())


@pytest.mark.slow
def test_committed_release_matches_a_fresh_generate_assignment(regenerated):
    name, fresh = regenerated
    committed = assignment(name).release_dir
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


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_release_holds_the_current_test_kit_and_the_course_limits(name):
    release = assignment(name).release_dir
    assert (release / "testkit.py").read_bytes() == TESTKIT.read_bytes(), "run `autograder release`"
    limits = shipped_limits(assignment(name), COURSE.settings())
    assert json.loads((release / "limits.json").read_text()) == limits


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solutions_and_no_hidden_tests(name):
    release_nb = read_notebook(assignment(name).release_notebook)
    text = "\n".join(cell.source for cell in release_nb.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
        assert marker not in text
    reference = graded_cells(read_notebook(assignment(name).source_notebook))
    stubs = graded_cells(release_nb)
    assert stubs.keys() == reference.keys()
    for function, stub in stubs.items():
        assert "raise NotImplementedError" in stub, f"{function}: the stub must raise a clear error"
        solution_lines = _solution_lines(reference[function])
        leaked = [line for line in solution_lines if line in stub.splitlines()]
        assert not leaked, f"{function}: solution lines leaked into the release: {leaked}"
    assert not any(p.name == "grader_tests" for p in assignment(name).release_dir.rglob("*"))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_locked_cells_are_released_as_written(name):
    """nbgrader's gradebook keeps the checksum of each locked cell as the source notebook has it,
    and `nbgrader autograde` reports every locked cell of a submission whose checksum differs as
    changed by the student (and restores it): a locked cell released otherwise, such as one with
    hidden-test delimiters that generate_assignment strips (jupyter/nbgrader#1961), would be
    reported for every student. Hidden-tests cells are comments only, released as they are."""
    source, release = (
        {
            cell.metadata.nbgrader.grade_id: cell
            for cell in read_notebook(path).cells
            if cell.get("metadata", {}).get("nbgrader") and nbgrader_utils.is_locked(cell)
        }
        for path in (assignment(name).source_notebook, assignment(name).release_notebook)
    )
    assert source.keys() == release.keys()
    for grade_id, cell in source.items():
        assert release[grade_id].source == cell.source, f"{grade_id} is released otherwise than written"
        assert release[grade_id].metadata.nbgrader.checksum == nbgrader_utils.compute_checksum(cell), grade_id


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


@pytest.mark.slow
def test_a_stale_release_is_reported_by_check(tmp_path):
    name = "conv_step_by_step"
    for folder in ("source", "grader_tests", "release"):
        shutil.copytree(COURSE.root / folder / name, tmp_path / folder / name)
    shutil.copy(COURSE.root / "nbgrader_config.py", tmp_path)
    copy = Course.load(tmp_path).assignment(name)
    settings = Course.load(tmp_path).settings()
    assert release_differences(copy, settings) == []
    notebook = read_notebook(copy.source_notebook)
    notebook.cells[0].source += "\n\nA sentence added after the release."
    nbformat.write(notebook, copy.source_notebook)
    (copy.release_dir / "images.h5").unlink()
    assert release_differences(copy, settings) == [
        f"release/{name}/images.h5 is missing: run `autograder release {name}`",
        f"release/{name}/{name}.ipynb is stale: run `autograder release {name}`",
    ]
