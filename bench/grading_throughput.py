"""Grading throughput: stock `nbgrader autograde` against `autograder grade`, on the same submissions.

What it measures, side by side in one run on this machine: the wall time to grade the same N
submissions of conv_step_by_step (default N=20 copies of the vectorized "reference" example of
autograder.examples.build_examples, under the student ids s001, s002, ...) with

* stock     -- `nbgrader autograde conv_step_by_step` in a temporary course directory with its own
               minimal nbgrader_config.py (course id, db_url in the temp dir; NOT the repository's config,
               which swaps in the sandboxed engine). This is nbgrader as shipped: each notebook runs top to
               bottom in its own IPython kernel (imports, public tests, figures, image kernels), one
               submission after the other, and the scores go into the temp course's gradebook. The
               assignment is first put into that gradebook with `nbgrader generate_assignment` (untimed).
* autograder -- `autograder grade conv_step_by_step --submitted DIR --out DIR [--jobs N]`: the full hidden
               pytest suite, correctness and runtime tests, student code in the sandbox, on every core by
               default.
* baseline -- with --baseline DIR: the same command of another checkout of this repository (an earlier
               version, say), its package and course, to compare two versions of the engine side by side
               (--no-stock leaves stock out).

Both are timed as subprocesses started from the command line (what instructors run), start-up
included, one after the other; with --rounds R each runs R times, alternating which goes first, and
the best wall time of each counts. Run it on an otherwise idle machine: the load average before each
run is printed, since other work slows both (the stock run more than its CPU share suggests: the
notebook's public speed checks use wall clocks and retry for up to two seconds when near their
limit). The script prints the wall time of each, the submissions per second, the CPU seconds the
tool and its children used, and the throughput ratio (autograder / stock).

It checks that both really graded, and exits with an error otherwise:

* stock: N autograded notebooks, each with every code cell run in the kernel and every public test cell
  passed ("All tests passed"; the submissions hold no outputs, so these come from stock's run), and N
  submissions in the gradebook, each scored 100/100. The public tests also check speed with wall clocks
  in the kernel; when a busy machine makes one call the reference "correct but slow", that is printed
  as a note, since nbgrader still ran and scored the notebook;
* autograder: N results.json, each with score 100 (of 100) and no problem, and grades.csv with N rows.

Run from the repository root with the project's venv (nbgrader calls `alembic` from PATH; the script
puts its interpreter's bin folder first):

    source .venv/bin/activate
    python bench/grading_throughput.py --n 20
    python bench/grading_throughput.py --n 40 --jobs 2 --rounds 2 --keep   # keep the temp dirs to inspect

Stock nbgrader took 3.5-7 s per notebook on a 2-core machine, so N=20 takes 1.5-3 minutes per round.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "conv_step_by_step"
PUBLIC_TEST_CELLS = 8  # the notebook's `<function>_test(<function>)` cells, one per graded function
PASSED = "All tests passed"
MAX_SCORE = 100.0

sys.path.insert(0, str(REPO))  # the autograder package, when run as a plain script


class BenchmarkError(RuntimeError):
    """A tool did not grade what it was given: the timing would mean nothing."""


@dataclass
class Timing:
    label: str
    wall_seconds: float
    cpu_seconds: float  # user + system of the subprocess and the descendants it reaped
    n: int

    @property
    def per_second(self) -> float:
        return self.n / self.wall_seconds


# ---------------------------------------------------------------- set-up


def tool(name: str) -> str:
    """A console script of the interpreter running this file (the project's venv), else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BenchmarkError(f"`{name}` is neither next to {sys.executable} nor on PATH")
    return found


def environment() -> dict[str, str]:
    """PATH with the interpreter's bin folder first (nbgrader runs `alembic` from PATH)."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}


def reference_notebook(scratch: Path) -> Path:
    """The vectorized "reference" example submission, as autograder.examples builds it."""
    import nbformat

    from autograder.course import Course
    from autograder.examples import build_examples

    examples = scratch / "examples"
    students = build_examples(Course.load(REPO).assignment(ASSIGNMENT), examples)
    if "reference" not in students:
        raise BenchmarkError(f"build_examples made no 'reference' student (got {students})")
    notebook = examples / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    # No outputs handed in: the public tests' "All tests passed" in stock's autograded notebooks
    # can then only come from stock nbgrader running them.
    if any(cell.get("outputs") for cell in nbformat.read(notebook, as_version=4).cells):
        raise BenchmarkError(f"{notebook} already holds outputs")
    return notebook


def fill_submitted(submitted: Path, notebook: Path, students: list[str]) -> None:
    """nbgrader's layout: submitted/<student_id>/<assignment>/<assignment>.ipynb."""
    for student in students:
        folder = submitted / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, folder / f"{ASSIGNMENT}.ipynb")


STOCK_CONFIG = '''\
"""Stock nbgrader: no preprocessor replaced, the notebook runs in its own kernel."""
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "throughput-bench"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
'''


def stock_course(root: Path, notebook: Path, students: list[str]) -> str:
    """A temporary course with the assignment in its gradebook and the N submissions; returns db_url."""
    root.mkdir(parents=True)
    db_url = "sqlite:///" + str(root / "gradebook.db")
    (root / "nbgrader_config.py").write_text(STOCK_CONFIG.format(root=str(root), db_url=db_url))
    shutil.copytree(REPO / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    run([tool("nbgrader"), "generate_assignment", ASSIGNMENT], root, root / "generate_assignment.log")
    fill_submitted(root / "submitted", notebook, students)
    return db_url


def run(command: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> None:
    with log.open("w") as stream:
        completed = subprocess.run(
            command, cwd=cwd, env=env or environment(), stdout=stream, stderr=subprocess.STDOUT, check=False
        )
    if completed.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(command)} exited with {completed.returncode}; the end of {log}:\n{tail(log)}"
        )


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def timed(label: str, command: list[str], cwd: Path, log: Path, n: int, env: dict | None = None) -> Timing:
    """Wall time and CPU time (of the subprocess tree it reaps) of one command-line run."""
    print(f"  {label}: starting (load average {os.getloadavg()[0]:.2f})", flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run(command, cwd, log, env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(label, wall, cpu, n)


# ---------------------------------------------------------------- did they grade?


def check_stock(root: Path, db_url: str, students: list[str]) -> tuple[list[str], list[str]]:
    """(problems, notes): N autograded notebooks with every code cell run in the kernel and every public
    test cell passed, and N submissions at 100/100 in the gradebook.

    The public tests also check speed, with wall clocks inside the kernel; on a busy machine they can
    call even the vectorized reference "correct but slow". That is the notebook's own verdict, printed
    for the student: stock nbgrader still ran and scored the notebook, so it is a note, not a failure.
    """
    import nbformat
    from nbgrader.api import Gradebook

    problems, slow = [], []
    for student in students:
        path = root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if not path.is_file():
            problems.append(f"stock: no autograded notebook for {student} ({path})")
            continue
        code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
        if any(cell.get("execution_count") is None for cell in code):
            problems.append(f"stock: {student}'s notebook has code cells that did not run")
        outputs = [output for cell in code for output in cell.get("outputs", [])]
        passed = sum(o.get("text", "").count(PASSED) for o in outputs if o.get("output_type") == "stream")
        speed = 0
        for output in outputs:
            if output.get("output_type") != "error":
                continue
            message = f"{output.get('ename')}: {output.get('evalue')}"
            if output.get("ename") == "PublicTestFailure" and "correct but slow" in message:
                speed += 1
                slow.append(message.split(". Loop")[0].removeprefix("PublicTestFailure: "))
            else:
                problems.append(f"stock: {student}'s notebook raised {message}")
        if passed + speed != PUBLIC_TEST_CELLS:
            problems.append(
                f"stock: {student}: {passed} public test cells passed, expected {PUBLIC_TEST_CELLS}"
            )
    with Gradebook(db_url) as gradebook:
        submissions = {s.student.id: s for s in gradebook.assignment_submissions(ASSIGNMENT)}
        if sorted(submissions) != sorted(students):
            problems.append(
                f"stock: the gradebook has {len(submissions)} submissions, expected {len(students)}"
            )
        for student, submission in sorted(submissions.items()):
            if (submission.score, submission.max_score) != (MAX_SCORE, MAX_SCORE):
                problems.append(
                    f"stock: gradebook score of {student} is {submission.score:g}/{submission.max_score:g}"
                )
    notes = []
    if slow:
        notes.append(
            f"note: {len(slow)} public speed checks (wall clock, in the kernel) called the reference slow "
            f"in stock's run, e.g. '{slow[0]}'; the machine was busy (load average above)"
        )
    return problems, notes


def check_autograder(out: Path, students: list[str]) -> list[str]:
    """N results.json at 100/100 with no problem, and grades.csv listing the N students."""
    problems = []
    for student in students:
        path = out / student / "results.json"
        if not path.is_file():
            problems.append(f"autograder: no results.json for {student} ({path})")
            continue
        result = json.loads(path.read_text())
        if (result.get("score"), result.get("max_score")) != (MAX_SCORE, MAX_SCORE) or result.get("output"):
            failed = [t["name"] for t in result.get("tests", []) if t["score"] != t["max_score"]]
            problems.append(
                f"autograder: {student} scored {result.get('score')}/{result.get('max_score')} "
                f"{result.get('output', '')} failed: {failed[:5]}"
            )
    grades = out / "grades.csv"
    rows = list(csv.DictReader(grades.open())) if grades.is_file() else []
    if sorted(row["student_id"] for row in rows) != sorted(students):
        problems.append(f"autograder: {grades} has {len(rows)} rows, expected {len(students)}")
    return problems


# ---------------------------------------------------------------- main


def run_stock(scratch: Path, notebook: Path, students: list[str]) -> tuple[Timing, list[str], list[str]]:
    """A fresh course (gradebook, generated assignment, submissions), then the timed autograde."""
    root = scratch / "stock_course"
    db_url = stock_course(root, notebook, students)
    timing = timed(
        "stock nbgrader autograde",
        [tool("nbgrader"), "autograde", ASSIGNMENT],
        root,
        scratch / "stock.log",
        len(students),
    )
    problems, notes = check_stock(root, db_url, students)
    return timing, problems, notes


def run_autograder(
    scratch: Path, notebook: Path, students: list[str], jobs: int | None
) -> tuple[Timing, list[str], list[str]]:
    submitted, out = scratch / "submitted", scratch / "autograder_out"
    fill_submitted(submitted, notebook, students)
    command = [tool("autograder"), "--course", str(REPO), "grade", ASSIGNMENT]
    command += ["--submitted", str(submitted), "--out", str(out)]
    if jobs:
        command += ["--jobs", str(jobs)]
    label = f"autograder grade (jobs={jobs or os.cpu_count()})"
    timing = timed(label, command, scratch, scratch / "autograder.log", len(students))
    return timing, check_autograder(out, students), []


def run_baseline(
    scratch: Path, notebook: Path, students: list[str], jobs: int | None, baseline: Path
) -> tuple[Timing, list[str], list[str]]:
    """`autograder grade` of another checkout of this repository (an earlier version, say): its
    package and its course, run from its folder, on the same submissions."""
    submitted, out = scratch / "submitted", scratch / "autograder_out"
    fill_submitted(submitted, notebook, students)
    command = [sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT]
    command += ["--submitted", str(submitted), "--out", str(out)]
    if jobs:
        command += ["--jobs", str(jobs)]
    env = {**environment(), "PYTHONPATH": str(baseline)}
    label = f"baseline grade (jobs={jobs or os.cpu_count()})"
    timing = timed(label, command, baseline, scratch / "autograder.log", len(students), env)
    return timing, check_autograder(out, students), []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="submissions to grade (default 20)")
    parser.add_argument(
        "--jobs", type=int, default=None, help="autograder grade --jobs (default: every core)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run both this many times, alternating which goes first; the best wall time of each counts",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also time `autograder grade` of this checkout of the repository (`git worktree add DIR REV`)",
    )
    parser.add_argument("--no-stock", action="store_true", help="leave stock nbgrader out (with --baseline)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories and print where")
    args = parser.parse_args(argv)
    if args.n < 1 or args.rounds < 1:
        parser.error("--n and --rounds must be at least 1")
    if args.no_stock and not args.baseline:
        parser.error("--no-stock compares with --baseline only")

    scratch = Path(tempfile.mkdtemp(prefix="grading-throughput-"))
    try:
        students = [f"s{index:03d}" for index in range(1, args.n + 1)]
        notebook = reference_notebook(scratch)
        print(
            f"grading {args.n} copies of the reference submission of {ASSIGNMENT} on {os.cpu_count()} cores "
            f"({platform.python_implementation()} {platform.python_version()}, {platform.machine()})",
            flush=True,
        )
        runners = {
            "stock": lambda folder: run_stock(folder, notebook, students),
            "autograder": lambda folder: run_autograder(folder, notebook, students, args.jobs),
        }
        if args.baseline:
            baseline = args.baseline.resolve()
            runners["baseline"] = lambda folder: run_baseline(folder, notebook, students, args.jobs, baseline)
        if args.no_stock:
            del runners["stock"]
        timings: dict[str, list[Timing]] = {name: [] for name in runners}
        notes: list[str] = []
        for round_index in range(args.rounds):
            order = list(runners) if round_index % 2 == 0 else list(reversed(runners))
            for name in order:
                folder = scratch / f"round{round_index + 1}" / name
                folder.mkdir(parents=True)
                timing, problems, round_notes = runners[name](folder)
                print(f"  ... done in {timing.wall_seconds:.1f} s", flush=True)
                if problems:
                    raise BenchmarkError(
                        f"{name} did not grade every submission (round {round_index + 1}):\n  "
                        + "\n  ".join(problems)
                    )
                timings[name].append(timing)
                notes += round_notes

        print()
        print(f"{'':34} {'wall s':>8} {'subm/s':>8} {'s/subm':>8} {'CPU s':>8}")
        for name in runners:
            for timing in timings[name]:
                print(
                    f"{timing.label:34} {timing.wall_seconds:8.1f} {timing.per_second:8.3f} "
                    f"{timing.wall_seconds / timing.n:8.2f} {timing.cpu_seconds:8.1f}"
                )
        best = {name: min(timings[name], key=lambda t: t.wall_seconds) for name in runners}
        of_each = " (best of each)" if args.rounds > 1 else ""
        print()
        for other in ("stock", "baseline"):
            if other in best:
                ratio = best["autograder"].per_second / best[other].per_second
                print(f"throughput ratio (autograder / {other}){of_each}: {ratio:.2f}x")
        checked = [f"autograder wrote {args.n} results.json at 100/100"]
        if "stock" in best:
            checked.insert(
                0,
                f"stock autograded {args.n} notebooks (every cell ran), {args.n} gradebook "
                "submissions at 100/100",
            )
        if "baseline" in best:
            checked.append(f"the baseline wrote {args.n} results.json at 100/100")
        print("checked: " + "; ".join(checked))
        for note in notes:
            print(note)
        if args.keep:
            print(f"kept: {scratch} (logs: round*/*/stock.log, autograder.log)")
        return 0
    except BenchmarkError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        if not args.keep:
            print(f"(temporary files kept for inspection: {scratch})", file=sys.stderr)
        args.keep = True
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
