"""`autograder new NAME`: a working assignment to start from.

It writes, and touches nothing else of the course:

- source/NAME/NAME.ipynb: the instructor notebook, with prose placeholders, one graded function
  (`relu`, its solution in nbgrader's solution region), its public test cell and its
  hidden-tests cell (points, and the other graded functions it may call);
- source/NAME/public_tests.py: the public test's spec (cases, hints), on the student test kit,
  and public_tests.h5, its expected values computed from the solution;
- grader_tests/NAME/: the hidden tests (correctness on three shapes, runtime);
- examples/NAME/relu_of_abs.py: a buggy submission, with the scores it must get.

`autograder release NAME`, `autograder check NAME` and `autograder grade NAME` work on it at once.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

import nbformat

from autograder.course import Assignment, Course, CourseError

TEMPLATE = Path(__file__).resolve().with_name("template")


def scaffold(course: Course, name: str) -> list[Path]:
    """Write the new assignment `name` into the course; the files written."""
    if not name.isidentifier() or name.startswith("_"):
        raise CourseError(
            f"an assignment's name must be a Python identifier (attention_steps, say): {name!r}"
        )
    assignment = Assignment(course.root, name)
    folders = [assignment.source_dir, assignment.release_dir, assignment.tests_dir, assignment.examples_dir]
    taken = [folder for folder in folders if folder.exists()]
    if taken:
        names = ", ".join(str(folder.relative_to(course.root)) for folder in taken)
        raise CourseError(f"{name} exists already: {names}")
    written = [
        *_copy_template(TEMPLATE / "source", assignment.source_dir, name),
        *_copy_template(TEMPLATE / "grader_tests", assignment.tests_dir, name),
        *_copy_template(TEMPLATE / "examples", assignment.examples_dir, name),
    ]
    assignment.source_notebook.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(name), assignment.source_notebook)
    written.append(assignment.source_notebook)
    written.append(_write_expected_values(course, assignment))
    return sorted(written)


def _copy_template(template: Path, target: Path, name: str) -> list[Path]:
    written = []
    for path in sorted(template.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            destination = target / path.relative_to(template)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(Template(path.read_text()).safe_substitute(name=name))
            written.append(destination)
    return written


def _write_expected_values(course: Course, assignment: Assignment) -> Path:
    from autograder.public_fixtures import write_public_fixtures
    from autograder.release import ship_kit

    ship_kit(assignment, course.settings())
    return write_public_fixtures(assignment)


def _cell(kind: str, source: str, **nbgrader: object) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, "locked": False, **nbgrader}
    return cell


def source_notebook(name: str) -> nbformat.NotebookNode:
    """The instructor notebook of a new assignment: one graded function to start from."""
    cells = [
        _cell("markdown", f"# {name}\n\nWhat students build in this assignment, and why (replace this)."),
        _cell("code", "import numpy as np\n\nfrom public_tests import *"),
        _cell(
            "markdown",
            "## 1 - ReLU\n\nExplain the function here (replace this text). The rectified linear unit "
            "keeps the positive part of its input: $\\mathrm{relu}(z) = \\max(z, 0)$, element by element.",
        ),
        _cell(
            "code",
            "# GRADED FUNCTION: relu\n"
            "def relu(Z):\n"
            '    """The rectified linear unit, element by element.\n\n'
            "    Arguments:\n"
            "    Z -- numpy array of any shape\n\n"
            "    Returns:\n"
            "    A -- numpy array of the same shape, max(Z, 0) element by element\n"
            '    """\n'
            "    ### BEGIN SOLUTION\n"
            "    A = np.maximum(Z, 0.0)\n"
            "    ### END SOLUTION\n"
            "    return A",
            grade=False,
            grade_id="relu",
            solution=True,
        ),
        # A grade cell of 0 points: nbgrader's Validate reports it when it fails, and the
        # gradebook's total stays the hidden tests' points.
        _cell(
            "code",
            "relu_test(relu)",
            grade=True,
            grade_id="relu_public_test",
            solution=False,
            locked=True,
            points=0,
        ),
        # Comments only, released as they are (the hidden tests live in grader_tests/): hidden-test
        # delimiters here would give the gradebook another checksum than the release's, and
        # `nbgrader autograde` would report the cell changed for every student.
        _cell(
            "code",
            "# Hidden tests: `relu` is graded on correctness and runtime by tests you do not see "
            "(10 points).\n"
            "# They run your graded cell on its own, on other inputs than the public tests.\n"
            "# Other graded functions it may call (their reference versions): none.",
            grade=True,
            grade_id="relu_hidden_tests",
            solution=False,
            locked=True,
            points=10,
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    kernel = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["kernelspec"] = kernel
    nb.metadata["language_info"] = {"name": "python"}
    return nb
