"""Write the expected values of an assignment's public tests.

    python -m autograder.public_fixtures conv_step_by_step

runs the reference solution (the graded cells of the source notebook) on every case that
`source/<assignment>/public_tests.py` defines and stores the outputs in
`source/<assignment>/public_tests.h5`, next to the tests that read them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import types
from pathlib import Path

from autograder.course import source_dir
from autograder.reference import load_reference


def load_public_tests(assignment: str) -> types.ModuleType:
    """Import source/<assignment>/public_tests.py by path, without touching sys.path."""
    path = source_dir(assignment) / "public_tests.py"
    if not path.exists():
        raise FileNotFoundError(f"no public tests for {assignment}: {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"public_tests_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_public_fixtures(assignment: str) -> Path:
    """Compute the expected outputs with the reference and write public_tests.h5; return its path."""
    tests = load_public_tests(assignment)
    if not hasattr(tests, "write_expected"):
        raise AttributeError(f"public_tests.py of {assignment} defines no write_expected(reference, path)")
    reference = load_reference(assignment)
    path = source_dir(assignment) / "public_tests.h5"
    tests.write_expected(reference, path)
    return path


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        # The speed figures are relative timings; multi-threaded BLAS makes them erratic.
        argv = sys.argv[1:] if argv is None else argv
        environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        os.execve(sys.executable, [sys.executable, "-m", "autograder.public_fixtures", *argv], environment)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="assignment name, e.g. conv_step_by_step")
    args = parser.parse_args(argv)
    path = write_public_fixtures(args.assignment)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
