"""How long `autograder report` takes for a class of 500.

Grades the bundled examples of an assignment once, then lays out a class of N students (default
500) by copying those graded results and submitted notebooks under new ids, and times the whole
report (reading N results.json, reading N notebooks for the similarity of their graded cells, the
figures, the page and the CSV files) in one run.

    python bench/report_speed.py conv_step_by_step --students 500
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder.batch import grade_all
from autograder.course import Course
from autograder.examples import build_examples
from autograder.local_processes import LocalProcesses
from autograder.report import write_report


def class_of(examples: Path, graded: Path, students: int, submitted: Path, results: Path) -> None:
    """`students` copies of the examples, round robin, as s0001, s0002, ..."""
    names = sorted(path.name for path in examples.iterdir() if (graded / path.name / "results.json").exists())
    for number in range(students):
        name, source = f"s{number + 1:04d}", names[number % len(names)]
        shutil.copytree(examples / source, submitted / name)
        (results / name).mkdir(parents=True)
        shutil.copy(graded / source / "results.json", results / name / "results.json")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--students", type=int, default=500)
    args = parser.parse_args()
    course = Course.find()
    assignment = course.assignment(args.assignment)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        build_examples(assignment, scratch / "examples")
        grade_all(
            assignment, scratch / "examples", scratch / "graded", course.settings().policy(), LocalProcesses()
        )
        class_of(
            scratch / "examples",
            scratch / "graded",
            args.students,
            scratch / "submitted",
            scratch / "results",
        )
        started = time.perf_counter()
        report = write_report(
            assignment, scratch / "results", scratch / "report", 10.0, scratch / "submitted"
        )
        seconds = time.perf_counter() - started
    print(
        f"{args.assignment}: report of {len(report.results)} students in {seconds:.1f} s "
        f"({len(report.cases)} hidden tests, {len(report.similar)} similar pairs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
