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
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from autograder.course import Assignment

PACKAGE = Path(__file__).resolve().parent
PUBLIC_TESTS = "public_tests.py"


def _cache_file(path: Path) -> bool:
    """Bytecode pytest or Python writes next to the hidden tests while grading: not an input."""
    return "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo")


@dataclass(frozen=True)
class CourseBundle:
    """The files a worker grades an assignment with: the source notebook, its public_tests.py (the
    common mistakes the feedback recognises) and every file of the hidden tests' folder (subfolders
    included), under their paths in the course."""

    assignment: str
    files: dict[str, bytes]  # path relative to the course root -> content

    @classmethod
    def of(cls, assignment: Assignment) -> CourseBundle:
        root = assignment.root
        files = {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in (assignment.source_notebook, assignment.source_dir / PUBLIC_TESTS)
            if path.is_file()
        }
        if assignment.tests_dir.is_dir():
            for path in sorted(assignment.tests_dir.rglob("*")):
                relative = path.relative_to(root)
                if path.is_file() and not _cache_file(relative):
                    files[relative.as_posix()] = path.read_bytes()
        return cls(assignment.name, files)

    @cached_property
    def digest(self) -> str:
        digest = hashlib.blake2b(self.assignment.encode(), digest_size=12)
        for name, content in sorted(self.files.items()):
            digest.update(name.encode() + b"\0" + hashlib.blake2b(content).digest())
        return digest.hexdigest()

    def unpack(self) -> Assignment:
        """Write the files to a course folder of their own (named by their digest) on this machine."""
        root = Path(tempfile.mkdtemp(prefix=f"autograder-{self.assignment}-{self.digest}-"))
        for name, content in self.files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        return Assignment(root, self.assignment)


@functools.cache
def code_digest() -> str:
    """Of the grader's own modules, subpackages included, as this process loaded them: every
    timeout, limit and check."""
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE)
        if not _cache_file(name):
            digest.update(name.as_posix().encode() + b"\0" + hashlib.blake2b(path.read_bytes()).digest())
    return digest.hexdigest()


def settings_digest(policy) -> str:
    """Of the grading settings: every field of the RuntimePolicy, and the grader's code."""
    settings = {"policy": dataclasses.asdict(policy), "code": code_digest()}
    return hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=12).hexdigest()


def fingerprint(assignment: Assignment, policy) -> str:
    """Of everything but the submission a grade depends on: the hidden tests, the source notebook,
    the settings. Reads the course's files, so it is current whenever it is called."""
    course = CourseBundle.of(assignment).digest
    return f"{course}-{settings_digest(policy)}"


def grade_key(context_fingerprint: str, submission_digest: str) -> str:
    """Of everything a grade depends on; "" when there is no submission to key (nothing reusable)."""
    if not context_fingerprint or not submission_digest:
        return ""
    return hashlib.blake2b(f"{context_fingerprint}\0{submission_digest}".encode(), digest_size=16).hexdigest()
