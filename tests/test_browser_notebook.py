"""What a student sees of conv_step_by_step in JupyterLab, in a real browser (headless Chromium).

- The untouched release (a copy of release/conv_step_by_step), Run > Run All Cells: every image
  of the markdown cells (attachments included) is shown, and so is every figure of a cell that
  ran, those before the first exercise in particular; JupyterLab stops at the first public test,
  whose failure is a short message naming zero_pad and saying it is not implemented, without the
  frames of the test kit.
- The same notebook with the source notebook's solution in every graded cell: Run All runs every
  cell, every figure is shown, and every public test passes without an error.

Screenshots of each stage go to build/screenshots/ (or AUTOGRADER_SCREENSHOTS).
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from browser import (
    IMAGE,
    STDERR_OUTPUT,
    STDOUT_OUTPUT,
    cells_with,
    chrome,
    has_run,
    images,
    open_notebook,
    output_lines,
    outputs,
    require_browser,
    run_all,
    screenshot,
    screenshot_on_failure,
    show_cell,
    start_jupyterlab,
    wait,
    wait_until_run,
)
from helpers import assignment

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NAME = "conv_step_by_step"
GRADED = "# GRADED FUNCTION:"
PUBLIC_TEST_SUFFIX = "_public_test"
RUN_SECONDS = 180  # Run All with the solution: 6-10 s on a busy 2-core machine
IMAGE_SECONDS = 20
MAX_FAILURE_LINES = 15
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(|<img\b", re.I)
FIGURE = re.compile(r"^plt\.show\(\)", re.M)  # a cell that draws a figure (not one defining a helper)
SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\n", re.M)


@dataclass
class Expected:
    """What the notebook file says a student should see, by cell index."""

    cells: int
    markdown_images: dict[int, int]  # images a markdown cell shows (attachments, files, URLs)
    figures: list[int]  # code cells that draw a figure (plt.show() at the top level)
    public_tests: list[int]
    first_exercise: int

    @classmethod
    def of(cls, notebook) -> Expected:
        cells = notebook.cells
        markdown = {
            i: len(MARKDOWN_IMAGE.findall(c.source)) for i, c in enumerate(cells) if c.cell_type == "markdown"
        }
        code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
        grade_ids = {i: cells[i].metadata.get("nbgrader", {}).get("grade_id", "") for i in code}
        return cls(
            cells=len(cells),
            markdown_images={i: n for i, n in markdown.items() if n},
            figures=[i for i in code if FIGURE.search(cells[i].source)],
            public_tests=[i for i in code if grade_ids[i].endswith(PUBLIC_TEST_SUFFIX)],
            first_exercise=next(i for i in code if cells[i].source.startswith(GRADED)),
        )


def solved(release, source):
    """The release notebook with each graded cell's source replaced by the source notebook's
    (its solution, without the solution markers)."""
    solutions = {c.source.splitlines()[0]: c.source for c in source.cells if c.source.startswith(GRADED)}
    for cell in release.cells:
        if cell.cell_type == "code" and cell.source.startswith(GRADED):
            cell.source = SOLUTION_MARKER.sub("", solutions[cell.source.splitlines()[0]])
    return release


def wait_for_images(driver, expected: dict[int, int]) -> dict[int, int]:
    """Wait until every cell of `expected` shows at least that many images and every image on the
    page is loaded, each cell scrolled into view first, as a student scrolls. Returns how many
    images each cell shows."""
    shown = {}
    for index in sorted(set(expected) | set(cells_with(driver, IMAGE))):
        show_cell(driver, index)

        def rendered(d, index=index):
            loaded = images(d, index)
            return loaded if len(loaded) >= expected.get(index, 0) and all(loaded) else False

        message = lambda d, index=index: f"cell {index}: images loaded {images(d, index)}"  # noqa: E731
        shown[index] = len(wait(driver, IMAGE_SECONDS, rendered, message))
    return shown


@pytest.fixture
def student_folder(tmp_path) -> Path:
    """A student's copy of the release folder (notebook, test kit, limits, data), in lab/."""
    return Path(shutil.copytree(assignment(NAME).release_dir, tmp_path / "lab" / NAME))


@pytest.fixture
def session(tmp_path, student_folder):
    """(JupyterLab serving the student's folder's parent, a Chromium driver)."""
    require_browser()
    (tmp_path / "jupyter").mkdir()
    with start_jupyterlab(student_folder.parent, tmp_path / "jupyter") as lab:
        argv = lab.api("kernelspecs")["kernelspecs"]["python3"]["spec"]["argv"]
        assert argv[0] == sys.executable, f"the kernel is not this environment's python: {argv}"
        with chrome(tmp_path / "chromium") as driver:
            yield lab, driver


def check_release(driver, expected: Expected, record) -> None:
    """Run All on the untouched release: figures and the first public test's failure."""
    screenshot(driver, f"{NAME}-1-release-opened")
    run_all(driver)
    prompts = wait_until_run(driver, RUN_SECONDS, expected.cells)
    ran = [index for index, prompt in prompts.items() if has_run(prompt)]
    errors = cells_with(driver, STDERR_OUTPUT)
    first_test = expected.public_tests[0]
    assert errors[:1] == [first_test], (
        f"first error in cell {errors[:1]}, not the first public test {first_test}"
    )

    figures = [index for index in expected.figures if index in ran]
    shown = wait_for_images(driver, {**expected.markdown_images, **dict.fromkeys(figures, 1)})
    before_exercise = sum(n for index, n in shown.items() if index < expected.first_exercise)
    assert before_exercise > 0, f"no figure before the first exercise (cell {expected.first_exercise})"
    record("release_images", sum(shown.values()))
    print(f"release: {len(ran)} cells ran; images shown by cell {shown}")
    show_cell(driver, min(shown))
    screenshot(driver, f"{NAME}-2-release-first-figure")

    (failure,) = outputs(driver, first_test, STDERR_OUTPUT)
    screenshot(driver, f"{NAME}-3-release-first-public-test")
    lines = max(len(failure.strip().splitlines()), *output_lines(driver, first_test, STDERR_OUTPUT))
    record("release_failure_lines", lines)
    assert lines <= MAX_FAILURE_LINES, f"{lines} lines on the screen:\n{failure}"
    assert "zero_pad" in failure and re.search(r"not ?implemented", failure, re.I), failure
    assert "testkit.py" not in failure and "public_tests.py" not in failure, failure


def check_solution(driver, expected: Expected, record) -> None:
    """Run All with the solution: every cell runs, every figure shows, every public test passes."""
    run_all(driver)
    started = time.monotonic()
    prompts = wait_until_run(driver, RUN_SECONDS, expected.cells)
    record("solution_run_all_seconds", round(time.monotonic() - started, 1))
    assert all(has_run(prompt) for prompt in prompts.values()), f"not every cell ran: {prompts}"
    errors = {index: outputs(driver, index, STDERR_OUTPUT) for index in cells_with(driver, STDERR_OUTPUT)}
    assert errors == {}, f"errors or stderr with the solution: {errors}"
    for index in expected.public_tests:
        passed = "\n".join(outputs(driver, index, STDOUT_OUTPUT))
        assert "All tests passed" in passed, f"public test cell {index}: {passed!r}"
    show_cell(driver, expected.public_tests[0])
    screenshot(driver, f"{NAME}-4-solution-first-public-test")
    shown = wait_for_images(driver, {**expected.markdown_images, **dict.fromkeys(expected.figures, 1)})
    record("solution_images", sum(shown.values()))
    print(f"solution: {len(prompts)} code cells ran; images shown by cell {shown}")
    show_cell(driver, max(shown))
    screenshot(driver, f"{NAME}-5-solution-last-figure")


def test_a_student_sees_figures_a_short_failure_then_passing_tests(session, student_folder, record_property):
    lab, driver = session
    notebook = student_folder / f"{NAME}.ipynb"
    release = nbformat.read(notebook, as_version=4)
    expected = Expected.of(release)

    with screenshot_on_failure(driver, f"{NAME}-failed-release"):
        open_notebook(driver, lab, notebook)
        check_release(driver, expected, record_property)

    source = nbformat.read(assignment(NAME).source_notebook, as_version=4)
    solution = student_folder / f"{NAME}_solved.ipynb"
    nbformat.write(solved(release, source), solution)
    with screenshot_on_failure(driver, f"{NAME}-failed-solution"):
        open_notebook(driver, lab, solution)
        check_solution(driver, expected, record_property)
