"""Command line: `autograder release|check|demo|grade ...`."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from autograder.course import COURSE_ROOT, grader_tests_dir, source_dir, source_notebook
from autograder.reference import reference_cells
from autograder.release import generate_release
from autograder.text import visible

ASSIGNMENTS = ["conv_step_by_step", "rnn_step_by_step"]
# A grade table is wide; when output goes to a file or CI log, do not wrap it at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)


def shown(text: object) -> str:
    """Text someone else controls (a student, a file name) as console markup that prints it
    literally: control characters and ANSI escapes made visible, rich markup escaped."""
    return escape(visible(text))


def assignment_name(name: str) -> str:
    """An assignment of this course: its source notebook exists."""
    if not source_notebook(name).is_file():
        known = sorted(
            path.parent.name for path in COURSE_ROOT.glob("source/*/*.ipynb") if path.stem == path.parent.name
        )
        raise argparse.ArgumentTypeError(
            f"no assignment {name!r}: {source_notebook(name).relative_to(COURSE_ROOT)} does not exist "
            f"(assignments: {', '.join(known) or 'none'})"
        )
    return name


def positive(kind: type) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    return parse


def cmd_release(args: argparse.Namespace) -> int:
    for assignment in args.assignments:
        folder = generate_release(assignment)
        console.print(f"[green]released[/] {assignment} -> {folder.relative_to(COURSE_ROOT)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Execute the source notebook in a scratch copy; every public test must pass."""
    from autograder.execute import run_notebook

    failures = 0
    for assignment in args.assignments:
        with tempfile.TemporaryDirectory() as scratch:
            folder = shutil.copytree(source_dir(assignment), Path(scratch) / assignment)
            run = run_notebook(folder / f"{assignment}.ipynb", allow_errors=True)
        passed = run.outputs_text().count("All tests passed")
        if run.errors:
            failures += 1
            for error in run.errors:
                console.print(
                    f"[red]{assignment}: cell {error.index} ({shown(error.grade_id)}): "
                    f"{shown(error.ename)}: {shown(error.evalue)}"
                )
        console.print(
            f"{assignment}: source notebook ran, {passed} public test cells passed, {len(run.errors)} errors"
        )
    return 1 if failures else 0


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.batch import grade_all
    from autograder.runtime import RuntimePolicy
    from autograder.scale_out import ScaleOutError

    submitted = args.submitted or COURSE_ROOT / "submitted"
    out = args.out or COURSE_ROOT / "grades" / args.assignment
    if not submitted.is_dir():
        console.print(f"[red]no submissions folder {shown(submitted)}")
        return 2
    if out.exists() and not out.is_dir():
        console.print(f"[red]--out {shown(out)} is a file, not a folder: pass a folder for the results")
        return 2
    if not grader_tests_dir(args.assignment).is_dir():
        missing = shown(grader_tests_dir(args.assignment))
        console.print(f"[red]no hidden tests for {args.assignment}: {missing} is missing")
        return 2
    try:
        results = grade_all(
            args.assignment,
            submitted,
            out,
            jobs=args.jobs,
            policy=RuntimePolicy(factor=args.runtime_factor),
            scheduler=args.scheduler,
        )
    except ScaleOutError as error:
        console.print(f"[red]{shown(error)}")
        return 2
    if not results:
        console.print(
            f"[yellow]no submissions of {args.assignment} in {shown(submitted)} "
            f"(nbgrader's layout: <student_id>/{args.assignment}/{args.assignment}.ipynb)"
        )
        return 0
    print_grade_table(results, order=list(reference_cells(args.assignment)))
    console.print(f"results: {shown(out)}/<student_id>/results.json and {shown(out / 'grades.csv')}")
    return 0


def print_grade_table(results, order: list[str]) -> None:
    """The grade table; student ids and problems are the students' text, printed as plain Text
    (never parsed as markup) with control characters and ANSI escapes made visible."""
    from rich.table import Table

    graded = {test.function for result in results for test in result.tests}
    functions = [name for name in order if name in graded]
    table = Table(title="grades")
    for column in ["student", *functions, "total", "problem"]:
        table.add_column(column, overflow="fold")
    for result in results:
        totals = result.by_function()
        cells = [f"{totals[name][0]:g}/{totals[name][1]:g}" if name in totals else "-" for name in functions]
        table.add_row(
            Text(visible(result.student_id)),
            *cells,
            f"{result.score:g}/{result.max_score:g}",
            Text(visible(result.problem[:60])),
        )
    console.print(table)


def cmd_demo(args: argparse.Namespace) -> int:
    """Release, check the source notebooks, then grade the bundled example submissions."""
    from autograder.examples import build_examples

    args.assignments = ASSIGNMENTS
    status = cmd_release(args) | cmd_check(args)
    for assignment in ASSIGNMENTS:
        submitted = COURSE_ROOT / "submitted"
        students = build_examples(assignment, submitted)
        console.print(
            f"{assignment}: {len(students)} example submissions in {submitted.relative_to(COURSE_ROOT)}/"
        )
        grade = argparse.Namespace(
            assignment=assignment,
            submitted=submitted,
            out=None,
            jobs=None,
            runtime_factor=10.0,
            scheduler=None,
        )
        status |= cmd_grade(grade)
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="generate release/<assignment> with nbgrader")
    release.add_argument("assignments", nargs="*", type=assignment_name, default=ASSIGNMENTS)
    release.set_defaults(run=cmd_release)

    check = commands.add_parser("check", help="run the source notebook; all public tests must pass")
    check.add_argument("assignments", nargs="*", type=assignment_name, default=ASSIGNMENTS)
    check.set_defaults(run=cmd_check)

    grade = commands.add_parser(
        "grade", help="grade submitted notebooks with the hidden tests, in the sandbox"
    )
    grade.add_argument("assignment", type=assignment_name)
    grade.add_argument("--submitted", type=Path, help="nbgrader's submitted folder (default: the course's)")
    grade.add_argument("--out", type=Path, help="where results go (default: grades/<assignment>)")
    grade.add_argument(
        "--jobs", type=positive(int), default=None, help="parallel graders (default: every core)"
    )
    grade.add_argument(
        "--runtime-factor",
        type=positive(float),
        default=10.0,
        help="allowed CPU time as a multiple of the reference's (default 10)",
    )
    grade.add_argument(
        "--scheduler",
        help="grade on the Dask cluster whose scheduler is at this address (tcp://host:8786) "
        "instead of this machine's cores; needs the [dask] extra",
    )
    grade.set_defaults(run=cmd_grade)

    demo = commands.add_parser("demo", help="release, check and grade the bundled example submissions")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
