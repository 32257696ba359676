"""Command line: `autograder [--course DIR] new|figures|release|check|grade|report|gradescope|demo ...`.

The course is the folder holding nbgrader_config.py: the working directory (or the nearest folder
above it), or `--course DIR`. Its settings are the `c.Autograder` section of that file; a flag such
as `--runtime-factor` overrides one for a single run, and says so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from autograder.course import Course, CourseError
from autograder.text import visible

# A grade table is wide; when output goes to a file or CI log, do not wrap it at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)
OVERRIDES = {"runtime_factor": "--runtime-factor", "jobs": "--jobs"}  # Autograder trait -> flag
DEMO = "demo"  # the demo's graded examples and their class report, in the course folder
MUTANTS_CAUGHT = 0.95  # the share of non-equivalent mutants the hidden tests must catch


def shown(text: object) -> str:
    """Text someone else controls (a student, a file name) as console markup that prints it
    literally: control characters and ANSI escapes made visible, rich markup escaped."""
    return escape(visible(text))


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


def settings_for(course: Course, args: argparse.Namespace):
    """The course's settings, with this run's flags in place; each override is said once."""
    overrides = {name: getattr(args, name) for name in OVERRIDES if getattr(args, name, None) is not None}
    configured = course.settings()
    for name, value in overrides.items():
        console.print(
            f"{OVERRIDES[name]} {value:g}: Autograder.{name} for this run only "
            f"(the course's setting: {getattr(configured, name):g})"
        )
    return course.settings(**overrides)


def assignments_of(course: Course, names: list[str]) -> list:
    return [course.assignment(name) for name in (names or course.assignments())]


def cmd_new(course: Course, args: argparse.Namespace) -> int:
    from autograder.scaffold import scaffold

    for path in scaffold(course, args.name):
        console.print(f"[green]created[/] {shown(path.relative_to(course.root))}")
    console.print(f"next: autograder release {args.name} && autograder check {args.name}")
    return 0


def cmd_release(course: Course, args: argparse.Namespace, gradebook: Path | None = None) -> int:
    from autograder.release import generate_release

    settings = course.settings()
    for assignment in assignments_of(course, args.assignments):
        folder = generate_release(assignment, settings, gradebook)
        console.print(f"[green]released[/] {assignment.name} -> {shown(folder.relative_to(course.root))}")
    return 0


def cmd_figures(course: Course, args: argparse.Namespace) -> int:
    from autograder.figures import embed_figures

    for assignment in assignments_of(course, args.assignments):
        changed = embed_figures(assignment)
        names = ", ".join(changed) if changed else "none changed"
        console.print(f"[green]figures[/] {assignment.name}: {shown(names)}")
    return 0


def cmd_check(course: Course, args: argparse.Namespace, keep: Path | None = None) -> int:
    """Every assignment named (default: all) must be sound; see autograder.check. `keep`: a folder
    to keep each assignment's graded examples in (keep/<assignment>/submitted and grades)."""
    from autograder.check import check_assignment

    settings = settings_for(course, args)
    unsound = 0
    for assignment in assignments_of(course, args.assignments):
        report = check_assignment(assignment, settings, keep=keep / assignment.name if keep else None)
        if report.examples:
            print_grade_table(report.examples, report.order, title=f"{assignment.name}: bundled examples")
        console.print(f"{assignment.name}: {report.public_tests_passed} public test cells passed")
        if getattr(args, "mutants", False):
            report.problems += check_mutants(assignment, settings)
        for problem in report.problems:
            console.print(f"[red]{shown(problem)}")
        console.print(report.verdict, style="green" if not report.problems else "red")
        unsound += bool(report.problems)
    return 1 if unsound else 0


def check_mutants(assignment, settings) -> list[str]:
    """Run the mutants of the reference (autograder.mutants); print what each test set caught and
    every survivor; a problem when the hidden tests catch under MUTANTS_CAUGHT of them."""
    from autograder.mutants import run_mutants

    with console.status(f"{assignment.name}: mutants of the reference solution") as status:
        report = run_mutants(
            assignment,
            settings,
            settings.jobs or None,
            lambda stage, done, total: status.update(f"{assignment.name}: mutants, {stage} {done}/{total}"),
        )
    console.print(f"{assignment.name}: {report.summary()}")
    survivors = report.survivors()
    for mutant in survivors:
        console.print(f"surviving mutant of {mutant.function} ({mutant.operator}, line {mutant.line}):")
        console.print(Text(mutant.diff))
    counted = len(report.mutants) - len(report.equivalent)
    caught = counted - len(survivors)
    if counted and caught / counted < MUTANTS_CAUGHT:
        return [f"the hidden tests catch {caught} of {counted} mutants, under {MUTANTS_CAUGHT:.0%}"]
    return []


def cmd_grade(course: Course, args: argparse.Namespace) -> int:
    from autograder.batch import grade_all
    from autograder.local_processes import LocalProcesses
    from autograder.scale_out import DaskCluster, ScaleOutError
    from autograder.spec import read_spec

    assignment = course.assignment(args.assignment)
    submitted = args.submitted or course.root / "submitted"
    out = args.out or course.root / "grades" / assignment.name
    if not submitted.is_dir():
        console.print(f"[red]no submissions folder {shown(submitted)}")
        return 2
    if out.exists() and not out.is_dir():
        console.print(f"[red]--out {shown(out)} is a file, not a folder: pass a folder for the results")
        return 2
    settings = settings_for(course, args)
    spec = read_spec(assignment)  # CourseError before anything is graded
    executor = DaskCluster(args.scheduler) if args.scheduler else LocalProcesses(settings.jobs or None)
    try:
        with progress_bar(assignment.name) as (on_start, on_result):
            results = grade_all(assignment, submitted, out, settings.policy(), executor, on_start, on_result)
    except ScaleOutError as error:
        console.print(f"[red]{shown(error)}")
        return 2
    if not results:
        console.print(
            f"[yellow]no submissions of {assignment.name} in {shown(submitted)} "
            f"(nbgrader's layout: <student_id>/{assignment.name}/{assignment.name}.ipynb)"
        )
        return 0
    print_grade_table(results, order=list(spec.functions))
    console.print(f"results: {shown(out)}/<student_id>/results.json and {shown(out / 'grades.csv')}")
    return 0


def cmd_report(course: Course, args: argparse.Namespace) -> int:
    """OUT/report.html, cases.csv and similar.csv: what the whole class got wrong (autograder.report)."""
    from autograder.report import REPORT, write_report

    assignment = course.assignment(args.assignment)
    results = args.results or course.root / "grades" / assignment.name
    out = args.out or course.root / "reports" / assignment.name
    submitted = args.submitted or course.root / "submitted"
    if not results.is_dir():
        console.print(
            f"[red]no results folder {shown(results)}: run `autograder grade {assignment.name}` first"
        )
        return 2
    report = write_report(assignment, results, out, course.settings().runtime_factor, submitted)
    console.print(
        f"{assignment.name}: {len(report.results)} results, {len(report.broken)} not graded, "
        f"{len(report.similar)} similar pair(s)"
    )
    console.print(f"report: {shown(out / REPORT)}")
    return 0


def cmd_gradescope(course: Course, args: argparse.Namespace) -> int:
    """OUT/autograder.zip: the assignment as a Gradescope autograder (see autograder.gradescope)."""
    from autograder.gradescope import build_bundle

    assignment = course.assignment(args.assignment)
    out = args.out or course.root / "gradescope" / assignment.name
    if out.exists() and not out.is_dir():
        console.print(f"[red]--out {shown(out)} is a file, not a folder: pass a folder for the bundle")
        return 2
    path = build_bundle(course, assignment, out)
    console.print(
        f"[green]wrote[/] {shown(path)}: upload it as the autograder of a Gradescope programming assignment"
    )
    return 0


class progress_bar:
    """A rich progress bar fed by the batch's callbacks: `with progress_bar(name) as (on_start,
    on_result):`."""

    def __init__(self, name: str):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.name = name
        self.progress = Progress(
            TextColumn("grading {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        )
        self.task = None

    def __enter__(self):
        self.progress.start()
        return self.start, lambda _result: self.progress.advance(self.task)

    def start(self, total: int) -> None:
        self.task = self.progress.add_task(self.name, total=total)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def print_grade_table(results, order: list[str], title: str = "grades") -> None:
    """The grade table; student ids and problems are the students' text, printed as plain Text
    (never parsed as markup) with control characters and ANSI escapes made visible."""
    from rich.table import Table

    graded = {test.function for result in results for test in result.tests}
    functions = [name for name in order if name in graded]
    table = Table(title=title)
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


def cmd_demo(course: Course, args: argparse.Namespace) -> int:
    """Release every assignment, then check it: the source notebook runs with every public test
    passing, and the bundled examples, graded in a scratch folder, score what they state. The
    course's gradebook, submitted/, autograded/ and feedback/ are left as they are (the release's
    gradebook entries go to a scratch gradebook)."""
    import tempfile

    from autograder.report import REPORT, write_report

    args.assignments = []
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as scratch:
        released = cmd_release(course, args, gradebook=Path(scratch) / "gradebook.db")
    demo = course.root / DEMO
    checked = cmd_check(course, args, keep=demo)
    for assignment in assignments_of(course, []):
        folder = demo / assignment.name
        factor = course.settings().runtime_factor
        write_report(assignment, folder / "grades", folder / "report", factor, folder / "submitted")
        console.print(
            f"class report of the examples: {shown((folder / 'report' / REPORT).relative_to(course.root))}"
        )
    return released | checked


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    parser.add_argument(
        "--course",
        type=Path,
        help="the course folder (default: the nearest holding nbgrader_config.py)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    new = commands.add_parser("new", help="scaffold a new assignment: notebook, hidden tests, one example")
    new.add_argument("name", help="the assignment's name, a Python identifier (e.g. attention_step_by_step)")
    new.set_defaults(run=cmd_new)

    figures = commands.add_parser(
        "figures", help="draw instructor/figures.py's figures into the source notebook's markdown cells"
    )
    figures.add_argument("assignments", nargs="*", help="default: every assignment")
    figures.set_defaults(run=cmd_figures)

    release = commands.add_parser("release", help="generate release/<assignment> with nbgrader")
    release.add_argument("assignments", nargs="*", help="default: every assignment")
    release.set_defaults(run=cmd_release)

    check = commands.add_parser(
        "check", help="the assignment is sound: points, figures, plain loops, notebook, examples, release"
    )
    check.add_argument("assignments", nargs="*", help="default: every assignment")
    check.add_argument(
        "--mutants",
        action="store_true",
        help="also run mutants of the reference through the hidden and public tests (minutes)",
    )
    add_overrides(check)
    check.set_defaults(run=cmd_check)

    grade = commands.add_parser("grade", help="grade submitted notebooks with the hidden tests")
    grade.add_argument("assignment")
    grade.add_argument("--submitted", type=Path, help="nbgrader's submitted folder (default: the course's)")
    grade.add_argument("--out", type=Path, help="where results go (default: grades/<assignment>)")
    add_overrides(grade)
    grade.add_argument(
        "--scheduler",
        help="grade on the Dask cluster whose scheduler is at this address (tcp://host:8786) "
        "instead of this machine's cores; needs the [dask] extra",
    )
    grade.set_defaults(run=cmd_grade)

    report = commands.add_parser(
        "report", help="the class report: hardest cases, common mistakes, similarity"
    )
    report.add_argument("assignment")
    report.add_argument(
        "--results", type=Path, help="where `autograder grade` wrote (default: grades/<assignment>)"
    )
    report.add_argument("--out", type=Path, help="where the report goes (default: reports/<assignment>)")
    report.add_argument("--submitted", type=Path, help="nbgrader's submitted folder (default: the course's)")
    report.set_defaults(run=cmd_report)

    gradescope = commands.add_parser(
        "gradescope", help="write autograder.zip: the assignment as a Gradescope autograder"
    )
    gradescope.add_argument("assignment")
    gradescope.add_argument(
        "--out", type=Path, help="where autograder.zip goes (default: gradescope/<assignment>)"
    )
    gradescope.set_defaults(run=cmd_gradescope)

    demo = commands.add_parser("demo", help="release and check every assignment")
    demo.set_defaults(run=cmd_demo)
    return parser


def add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        type=positive(int),
        default=None,
        help="grading processes (default: Autograder.jobs)",
    )
    parser.add_argument(
        "--runtime-factor",
        type=positive(float),
        default=None,
        help="allowed CPU time, a multiple of the reference's (default: Autograder.runtime_factor)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        course = Course.load(args.course) if args.course else Course.find()
        return args.run(course, args)
    except CourseError as error:
        for line in str(error).splitlines():
            console.print(f"[red]{shown(line)}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
