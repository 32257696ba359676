"""The source notebook runs clean with every public test passing; the release fails them helpfully."""

import shutil

import pytest
from helpers import ASSIGNMENTS, COURSE, assignment

from autograder.execute import run_notebook
from autograder.figures import figure_problems, references
from autograder.notebook import graded_cells
from autograder.release import ship_kit


def public_test_ids(nb) -> list[str]:
    return [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in nb.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").endswith("_public_test")
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook_runs_top_to_bottom_and_passes_public_tests(tmp_path, name):
    folder = shutil.copytree(assignment(name).source_dir, tmp_path / name)
    ship_kit(assignment(name), COURSE.settings(), folder)
    run = run_notebook(folder / f"{name}.ipynb")
    assert run.errors == []
    expected = len(public_test_ids(run.notebook))
    assert expected >= len(graded_cells(run.notebook))
    assert run.outputs_text().count("All tests passed") == expected


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_notebook_public_tests_fail_with_messages_without_killing_the_kernel(tmp_path, name):
    folder = shutil.copytree(assignment(name).release_dir, tmp_path / name)
    run = run_notebook(folder / f"{name}.ipynb", allow_errors=True)
    failed = {error.grade_id: error for error in run.errors}
    for grade_id in public_test_ids(run.notebook):
        assert grade_id in failed, f"{grade_id} passed on an unimplemented stub"
        assert "not implemented" in failed[grade_id].evalue.lower()
    # The kernel survived to the last cell: every code cell after the first error still ran.
    code_cells = [cell for cell in run.notebook.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code_cells)


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_run_all_on_the_untouched_release_shows_every_figure_that_needs_no_student_code(tmp_path, name):
    """Run All stops at the first cell that raises (the first public test, on a stub). A figure a
    code cell draws without the student's code must come before it; the others are attachments
    of markdown cells, which show without running anything."""
    folder = shutil.copytree(assignment(name).release_dir, tmp_path / name)
    run = run_notebook(folder / f"{name}.ipynb", allow_errors=True)
    first_error = min(error.index for error in run.errors)
    drawn = [
        index
        for index, cell in enumerate(run.notebook.cells)
        if cell.cell_type == "code"
        and any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
    ]
    assert [index for index in drawn if index > first_error] == [], "figures hidden behind an exercise"
    shown = references(run.notebook)
    assert shown, "no figure attachments"
    for figure, index in shown.items():
        assert f"{figure}.png" in run.notebook.cells[index].get("attachments", {}), figure
    assert figure_problems(assignment(name)) == []
