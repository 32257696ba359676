"""Write the expected values of an assignment's public tests.

    python -m autograder.public_fixtures conv_step_by_step

runs the reference solution (the graded cells of the source notebook) on every case that
`source/<assignment>/public_tests.py` defines and stores the outputs in
`source/<assignment>/public_tests.h5`, next to the tests that read them. The cases are run by
the student-side test kit, autograder/testkit.py (shipped as testkit.py beside public_tests.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import types
from pathlib import Path

from autograder import testkit
from autograder.course import Assignment, Course
from autograder.reference import load_reference


def load_public_tests(assignment: Assignment, folder: Path | None = None) -> types.ModuleType:
    """Import <folder>/public_tests.py (by default the assignment's source folder) by path, without
    touching sys.path: its `from testkit import ...` gets autograder.testkit. Its SUITE reads
    public_tests.h5 and limits.json from that folder."""
    path = Path(folder or assignment.source_dir) / "public_tests.py"
    if not path.exists():
        raise FileNotFoundError(f"no public tests for {assignment.name}: {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"public_tests_{assignment.name}", path)
    module = importlib.util.module_from_spec(spec)
    missing = object()
    previous = sys.modules.get("testkit", missing)
    sys.modules["testkit"] = testkit
    try:
        spec.loader.exec_module(module)
    finally:
        if previous is missing:
            del sys.modules["testkit"]
        else:
            sys.modules["testkit"] = previous
    if not isinstance(getattr(module, "SUITE", None), testkit.Suite):
        raise AttributeError(f"public_tests.py of {assignment.name} defines no SUITE (a testkit.Suite)")
    return module


def write_public_fixtures(assignment: Assignment, path: Path | None = None) -> Path:
    """Compute the expected outputs with the reference and write public_tests.h5 (or `path`);
    return its path."""
    suite = load_public_tests(assignment).SUITE
    path = path or suite.expected_path
    suite.write_expected(load_reference(assignment), path)
    return path


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        # The speed figures are relative timings; multi-threaded BLAS makes them erratic.
        argv = sys.argv[1:] if argv is None else argv
        environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        os.execve(sys.executable, [sys.executable, "-m", "autograder.public_fixtures", *argv], environment)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="assignment name, e.g. conv_step_by_step")
    parser.add_argument(
        "--output", type=Path, help="write here instead of source/<assignment>/public_tests.h5"
    )
    args = parser.parse_args(argv)
    path = write_public_fixtures(Course.find().assignment(args.assignment), args.output)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
