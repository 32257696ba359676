"""What a grade depends on, as one fingerprint: no result or cache outlives a change to any of it.

A grade depends on the submission (its digest: the graded cells and imports, see
autograder.submission), the course (every file of grader_tests/<assignment>/ and the source
notebook: the `CourseBundle`, which is also what is shipped to Dask workers) and the grading
settings (the RuntimePolicy, and the grader's own code, which holds every timeout and limit).
`fingerprint()` covers the course and the settings; `grade_key()` adds the submission. grading.json
is reused by `nbgrader autograde` only under the same grade key, and each process's GradingContext
(its sandboxes, the reference's timings, the hidden tests' memoized expected values) only under the
same fingerprint (see autograder.grade.process_context).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from autograder.course import grader_tests_dir, source_notebook

SOURCE = "source.ipynb"
TESTS = "grader_tests"
PACKAGE = Path(__file__).resolve().parent


def _cache_file(path: Path) -> bool:
    """Bytecode pytest or Python writes next to the hidden tests while grading: not an input."""
    return "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo")


@dataclass(frozen=True)
class CourseBundle:
    """The files a worker grades an assignment with: the source notebook and every file of the
    hidden tests' folder (subfolders included)."""

    assignment: str
    files: dict[str, bytes]  # path relative to the bundle's folder -> content

    @classmethod
    def of(cls, assignment: str, tests_dir: Path | None = None, source: Path | None = None) -> CourseBundle:
        tests_dir = Path(tests_dir or grader_tests_dir(assignment))
        files = {SOURCE: Path(source or source_notebook(assignment)).read_bytes()}
        if tests_dir.is_dir():
            for path in sorted(tests_dir.rglob("*")):
                relative = path.relative_to(tests_dir)
                if path.is_file() and not _cache_file(relative):
                    files[f"{TESTS}/{relative.as_posix()}"] = path.read_bytes()
        return cls(assignment, files)

    @cached_property
    def digest(self) -> str:
        digest = hashlib.blake2b(self.assignment.encode(), digest_size=12)
        for name, content in sorted(self.files.items()):
            digest.update(name.encode() + b"\0" + hashlib.blake2b(content).digest())
        return digest.hexdigest()

    def unpack(self) -> Path:
        """Write the files to a folder of their own (named by their digest) on this machine."""
        root = Path(tempfile.mkdtemp(prefix=f"autograder-{self.assignment}-{self.digest}-"))
        for name, content in self.files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        return root


@functools.cache
def code_digest() -> str:
    """Of the grader's own modules as this process loaded them: every timeout, limit and check."""
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted(PACKAGE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + hashlib.blake2b(path.read_bytes()).digest())
    return digest.hexdigest()


def settings_digest(policy) -> str:
    """Of the grading settings: every field of the RuntimePolicy, and the grader's code."""
    settings = {"policy": dataclasses.asdict(policy), "code": code_digest()}
    return hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=12).hexdigest()


def fingerprint(assignment: str, policy, tests_dir: Path | None = None, source: Path | None = None) -> str:
    """Of everything but the submission a grade depends on: the hidden tests, the source notebook,
    the settings. Reads the course's files, so it is current whenever it is called."""
    course = CourseBundle.of(assignment, tests_dir, source).digest
    return f"{course}-{settings_digest(policy)}"


def grade_key(context_fingerprint: str, submission_digest: str) -> str:
    """Of everything a grade depends on; "" when there is no submission to key (nothing reusable)."""
    if not context_fingerprint or not submission_digest:
        return ""
    return hashlib.blake2b(f"{context_fingerprint}\0{submission_digest}".encode(), digest_size=16).hexdigest()


_tests_in_use: Path | None = None


def use_hidden_tests(tests_dir: Path, fresh: bool) -> None:
    """Make this process's next pytest run import the hidden tests from tests_dir's files.

    pytest (importlib mode) and the tests' `pythonpath = .` keep imported modules in sys.modules
    by name (`test_conv_forward`, `conv_cases`): a process that graded with another version of the
    tests, or with another copy of them, would otherwise run those again. `fresh`: the tests may
    have changed since they were imported."""
    global _tests_in_use
    tests_dir = Path(tests_dir).resolve()
    if fresh or _tests_in_use != tests_dir:
        for folder in {tests_dir, _tests_in_use} - {None}:
            for name, module in list(sys.modules.items()):
                file = getattr(module, "__file__", None)
                if isinstance(file, str) and Path(file).resolve().is_relative_to(folder):
                    del sys.modules[name]
        _tests_in_use = tests_dir
