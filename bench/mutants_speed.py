"""Mutation testing of every assignment (or those named): how many mutants of the reference
solution the hidden and the public tests catch, how long it takes, and the survivors' diffs.

    python bench/mutants_speed.py [NAME ...] [--jobs N] [--equivalent]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from autograder.course import Course
from autograder.mutants import MutantReport, mutants_of, run_mutants

STARTED = time.monotonic()


def progress(stage: str, done: int, total: int) -> None:
    if done == total or done % 50 == 0:
        print(f"  {stage}: {done}/{total} at {time.monotonic() - STARTED:.0f} s", flush=True)


def show(name: str, report: MutantReport, show_equivalent: bool = False) -> None:
    counts = Counter(mutant.function for mutant in report.mutants)
    print(f"{name}: {len(report.mutants)} mutants in {report.seconds:.0f} s ({dict(counts)})")
    print(f"{name}: {report.summary()}")
    for warning in report.warnings:
        print(f"{name}: warning: {warning}")
    survivors = report.survivors()
    print(f"{name}: {len(survivors)} survivor(s)")
    for mutant in survivors:
        index = report.mutants.index(mutant)
        public = "caught" if index in report.caught_public else "missed"
        print(f"\n[{mutant.function}, {mutant.operator}, line {mutant.line}; public tests: {public}]")
        print(mutant.diff)
    slow = {index: score for index, score in report.hidden_scores.items() if "slow" in score}
    missed = [index for index in report.caught_hidden if index not in report.caught_public]
    for title, indexes in (("slow at first grading", slow), ("caught by the hidden tests only", missed)):
        print(f"\n{name}: {len(indexes)} {title}")
        for index in sorted(indexes):
            mutant = report.mutants[index]
            print(f"[{mutant.function}, {mutant.operator}: hidden {report.hidden_scores[index]}]")
            print(mutant.diff)
    if show_equivalent:
        for index in sorted(report.equivalent):
            mutant = report.mutants[index]
            print(f"\n[equivalent: {mutant.function}, {mutant.operator}]\n{mutant.diff}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--equivalent", action="store_true", help="print the equivalent mutants too")
    args = parser.parse_args()
    course = Course.find()
    for name in args.names or course.assignments():
        assignment = course.assignment(name)
        started = time.monotonic()
        count = len(mutants_of(assignment))
        print(f"{name}: {count} mutants made in {time.monotonic() - started:.1f} s", flush=True)
        show(name, run_mutants(assignment, course.settings(), args.jobs, progress), args.equivalent)
        print()


if __name__ == "__main__":
    main()
