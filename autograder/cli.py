"""Command line: `autograder release|check|demo|grade ...`."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from autograder.course import COURSE_ROOT, source_dir
from autograder.execute import run_notebook
from autograder.release import generate_release

ASSIGNMENTS = ["conv_step_by_step"]
console = Console()


def cmd_release(args: argparse.Namespace) -> int:
    for assignment in args.assignments:
        folder = generate_release(assignment)
        console.print(f"[green]released[/] {assignment} -> {folder.relative_to(COURSE_ROOT)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Execute the source notebook in a scratch copy; every public test must pass."""
    failures = 0
    for assignment in args.assignments:
        with tempfile.TemporaryDirectory() as scratch:
            folder = shutil.copytree(source_dir(assignment), Path(scratch) / assignment)
            run = run_notebook(folder / f"{assignment}.ipynb", allow_errors=True)
        passed = run.outputs_text().count("All tests passed")
        if run.errors:
            failures += 1
            for error in run.errors:
                console.print(f"[red]{assignment}: cell {error.index} ({error.grade_id}): {error.ename}: {error.evalue}")
        console.print(f"{assignment}: source notebook ran, {passed} public test cells passed, {len(run.errors)} errors")
    return 1 if failures else 0


def cmd_demo(args: argparse.Namespace) -> int:
    args.assignments = ASSIGNMENTS
    status = cmd_release(args)
    status |= cmd_check(args)
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="generate release/<assignment> with nbgrader")
    release.add_argument("assignments", nargs="*", default=ASSIGNMENTS)
    release.set_defaults(run=cmd_release)

    check = commands.add_parser("check", help="run the source notebook; all public tests must pass")
    check.add_argument("assignments", nargs="*", default=ASSIGNMENTS)
    check.set_defaults(run=cmd_check)

    demo = commands.add_parser("demo", help="release, check and grade the bundled example submissions")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
