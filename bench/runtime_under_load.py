"""Do runtime verdicts survive a machine whose every core is busy?

    python bench/runtime_under_load.py

Grades the same example submissions (the reference, loops over output positions, and the
course-style four nested loops) twice in one run: on an idle machine, and while one busy-looping
process per core competes for the CPU. Prints each runtime test's measured ratio to the
reference and its verdict side by side, and exits 1 if any verdict flips.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from autograder.batch import grade_all
from autograder.course import Course
from autograder.examples import build_examples
from autograder.local_processes import LocalProcesses

REPO = Path(__file__).resolve().parent.parent
COURSE = Course.load(REPO)
ASSIGNMENT = COURSE.assignment("conv_step_by_step")
STUDENTS = ["reference", "position_loops", "course_loops"]
RATIO = re.compile(r"(\d+(?:\.\d+)?)× the reference")


def burn(stop_at: float) -> None:
    while time.time() < stop_at:
        pass


def runtime_verdicts(submitted: Path, out: Path) -> dict[tuple[str, str], tuple[float, bool]]:
    results = grade_all(ASSIGNMENT, submitted, out, COURSE.settings().policy(), LocalProcesses(1))
    verdicts = {}
    for result in results:
        for test in result.tests:
            if test.kind == "runtime":
                match = RATIO.search(test.output)
                ratio = float(match.group(1)) if match else float("nan")
                verdicts[(result.student_id, test.name)] = (ratio, test.score == test.max_score)
    return verdicts


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        every = scratch / "all"
        build_examples(ASSIGNMENT, every)
        submitted = scratch / "submitted"
        submitted.mkdir()
        for student in STUDENTS:
            (every / student).rename(submitted / student)

        started = time.perf_counter()
        idle = runtime_verdicts(submitted, scratch / "idle")
        idle_seconds = time.perf_counter() - started

        cores = os.cpu_count() or 1
        burners = [multiprocessing.Process(target=burn, args=(time.time() + 600,)) for _ in range(cores)]
        for process in burners:
            process.start()
        try:
            started = time.perf_counter()
            loaded = runtime_verdicts(submitted, scratch / "loaded")
            loaded_seconds = time.perf_counter() - started
        finally:
            for process in burners:
                process.terminate()

    print(f"{'submission':16} {'runtime test':34} {'idle':>14} {f'{cores} cores busy':>16}")
    flips = 0
    for key in sorted(idle):
        (ratio_idle, pass_idle), (ratio_loaded, pass_loaded) = idle[key], loaded[key]
        flips += pass_idle != pass_loaded
        cell = lambda ratio, ok: f"{ratio:6.1f}× {'pass' if ok else 'FAIL'}"  # noqa: E731
        print(
            f"{key[0]:16} {key[1]:34} {cell(ratio_idle, pass_idle):>14} {cell(ratio_loaded, pass_loaded):>16}"
            + ("   <- flipped" if pass_idle != pass_loaded else "")
        )
    print(f"grading took {idle_seconds:.1f} s idle and {loaded_seconds:.1f} s with every core busy")
    print(f"verdicts flipped: {flips} of {len(idle)}")
    return 1 if flips else 0


if __name__ == "__main__":
    sys.exit(main())
