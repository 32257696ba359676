"""What an assignment grades, read from its source notebook and checked against its hidden tests.

Each fact is written once, where an instructor edits it:

- the graded functions and their order: the `# GRADED FUNCTION: <name>` cells;
- a function's points: its hidden-tests cell (grade_id `<name>_hidden_tests`), nbgrader's
  `points`, which nbgrader also records in the gradebook (the cell's prose may say them too, and
  must then agree);
- the other graded functions whose reference versions it may call: a line of that cell,
  `# Other graded functions it may call (their reference versions): zero_pad, conv_single_step.`
  (or `none.`), released to students as it is.

The hidden tests' points for a function must add up to its cell's points: `check_points` says
where they do not, before anything is graded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from autograder.course import Assignment, CourseError
from autograder.notebook import NotebookError, graded_cells, read_cells
from autograder.pytest_plugin import HiddenTest, collect_hidden_tests

HIDDEN_TESTS_SUFFIX = "_hidden_tests"
CALLS_LINE = re.compile(
    r"^#\s*Other graded functions it may call[^:]*:\s*(?P<names>.*?)\.?\s*$", re.MULTILINE
)
POINTS_IN_PROSE = re.compile(r"\((?P<points>\d+(?:\.\d+)?) points?\)")


@dataclass(frozen=True)
class GradedFunction:
    name: str
    points: float
    may_call: tuple[str, ...]  # other graded functions, whose reference versions its session holds


@dataclass(frozen=True)
class AssignmentSpec:
    functions: dict[str, GradedFunction]  # in notebook order
    reference_cells: dict[str, str]  # the graded cells of the source notebook, solutions included
    hidden_tests: list[HiddenTest]

    @property
    def points(self) -> float:
        return sum(function.points for function in self.functions.values())

    @property
    def runtime_points(self) -> dict[str, float]:
        """Function -> the points of its runtime tests, for the functions that have some."""
        points: dict[str, float] = {}
        for test in self.hidden_tests:
            if test.runtime:
                points[test.function] = points.get(test.function, 0.0) + test.points
        return points


def read_spec(assignment: Assignment) -> AssignmentSpec:
    """The assignment's graded functions and hidden tests, checked to agree; CourseError saying
    where they do not, or what cannot be read."""
    try:
        source = read_cells(assignment.source_notebook)
    except (NotebookError, OSError) as error:
        raise CourseError(f"the source notebook of {assignment.name} cannot be read: {error}") from error
    functions = graded_functions(source, assignment.name)
    if not functions:
        raise CourseError(f"the source notebook of {assignment.name} has no '# GRADED FUNCTION: <name>' cell")
    if not assignment.tests_dir.is_dir():
        raise CourseError(f"no hidden tests for {assignment.name}: {assignment.tests_dir} is missing")
    try:
        hidden = collect_hidden_tests(assignment.tests_dir)
    except RuntimeError as error:
        raise CourseError(str(error)) from error
    check_points(functions, [(test.function, test.points) for test in hidden], str(assignment.tests_dir))
    return AssignmentSpec(functions, graded_cells(source), hidden)


def graded_functions(nb: dict, assignment: str) -> dict[str, GradedFunction]:
    """The graded functions of the source notebook `nb` (as notebook.read_cells reads it), in
    notebook order; NotebookError when a function's hidden-tests cell is missing or incomplete."""
    functions = graded_cells(nb)
    cells = {}
    for cell in nb["cells"]:
        grade_id = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
        if grade_id.endswith(HIDDEN_TESTS_SUFFIX) and grade_id.removesuffix(HIDDEN_TESTS_SUFFIX) in functions:
            cells[grade_id.removesuffix(HIDDEN_TESTS_SUFFIX)] = cell
    return {name: _graded_function(name, cells.get(name), functions, assignment) for name in functions}


def _graded_function(
    name: str, cell: dict | None, functions: Iterable[str], assignment: str
) -> GradedFunction:
    where = f"the hidden-tests cell of {name} in the source notebook of {assignment}"
    if cell is None:
        raise CourseError(f"{where} is missing: every graded function needs one, with its points")
    points = cell.get("metadata", {}).get("nbgrader", {}).get("points")
    if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
        raise CourseError(f"{where} has no points in its nbgrader metadata")
    prose = POINTS_IN_PROSE.search(cell["source"])
    if prose and float(prose["points"]) != points:
        raise CourseError(
            f"{where} says ({prose['points']} points) but its nbgrader metadata gives {points:g}"
        )
    calls = CALLS_LINE.search(cell["source"])
    if calls is None:
        raise CourseError(
            f"{where} must have a line '# Other graded functions it may call (their reference "
            "versions): ...' (or ': none.')"
        )
    names = tuple(part.strip() for part in calls["names"].split(",") if part.strip())
    names = () if names == ("none",) else names
    unknown = [other for other in names if other not in functions or other == name]
    if unknown:
        raise CourseError(f"{name} may not call {', '.join(unknown)}: not another graded function")
    return GradedFunction(name, float(points), names)


def check_points(
    functions: dict[str, GradedFunction], hidden: Iterable[tuple[str, float]], tests_dir: str
) -> None:
    """Raise NotebookError unless the hidden tests (function, points) cover exactly the graded
    functions, each with the points of its hidden-tests cell."""
    totals: dict[str, float] = {}
    for function, points in hidden:
        totals[function] = totals.get(function, 0.0) + points
    problems = [
        f"{name}: its hidden tests give {totals.get(name, 0):g} points, its hidden-tests cell {spec.points:g}"
        for name, spec in functions.items()
        if abs(totals.get(name, 0.0) - spec.points) > 1e-9
    ]
    problems += [
        f"{name}: hidden tests for a function the source notebook does not grade"
        for name in totals
        if name not in functions
    ]
    if problems:
        raise CourseError(
            f"the hidden tests in {tests_dir} do not match the source notebook: " + "; ".join(problems)
        )
