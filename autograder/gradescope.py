"""An assignment as a Gradescope autograder: `autograder gradescope ASSIGNMENT --out DIR` writes
DIR/autograder.zip, and `python -m autograder.gradescope run ASSIGNMENT` grades one submission
inside Gradescope's container.

Gradescope's layout (its autograder specification): the zip unpacks into /autograder/source, and
`setup.sh` and `run_autograder` must be at its top; setup.sh runs once, as root, when Gradescope
builds the autograder's image, and run_autograder for every submission, in /autograder, with the
student's files in /autograder/submission. It must leave /autograder/results/results.json.

The zip holds:

    setup.sh                 installs Python and bubblewrap with apt when it can, then the package
                             in a virtualenv of its own (/autograder/venv), with pip
    run_autograder           grades the submission; writes a results.json whatever happens
    package/                 the grader's package: its sources and a pyproject.toml
    course/nbgrader_config.py  the course's grader settings (c.Autograder), nothing else
    course/source/<assignment>/<assignment>.ipynb  the source notebook (the reference solution)
    course/grader_tests/<assignment>/...           the hidden tests

The student's notebook is the one named <assignment>.ipynb in the submission folder (the
shallowest, if there are several), or the only notebook there; it is read with the grader's safe
reader, so a link or a special file is graded as that problem. Grading is `autograder grade`'s
engine: one grading process with its deadline, student code in the sandbox. A submission that
cannot be graded gets a results.json with the reason and zero points; a failure of the grader
itself too (the reason in full on standard output, which only the instructor sees).

`AUTOGRADER_ROOT` (default /autograder) moves the whole layout, so that a bundle can be tried
anywhere; `AUTOGRADER_PYTHON` names the interpreter run_autograder grades with (default: the
virtualenv's, else python3).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path

from autograder.course import Assignment, Course, CourseError
from autograder.intake import Job
from autograder.results import SubmissionResult, failed_row, gradescope_json
from autograder.text import visible

ROOT = Path("/autograder")  # Gradescope's
BUNDLE = "autograder.zip"
COURSE = "course"  # the course's folder in the bundle (/autograder/source/course)
PACKAGE = "package"  # the package's folder in the bundle
STUDENT_ID = "submission"  # a Gradescope submission is graded alone, under this id
MAX_ENTRIES = 10_000  # files and folders looked at in a submission
EXECUTABLE, READABLE = 0o755, 0o644
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the same zip for the same files

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"

if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq python3 python3-venv python3-pip || true
    # The sandbox's first layer; without it the grader warns and keeps its other layers.
    apt-get install -y -qq bubblewrap || echo "warning: bubblewrap could not be installed" >&2
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "the grader needs Python 3.10 or later: choose a newer base image (Ubuntu 22.04 or later)" >&2
    exit 1
}
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
"$ROOT/venv/bin/python" -m pip install --quiet "$SOURCE/package"
"$ROOT/venv/bin/python" -c "import autograder.gradescope"

# The reference solution and the hidden tests are for the grader (root) alone.
chmod -R go-rwx "$SOURCE"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade the notebook in submission/ with the hidden
# tests in source/course, and write results/results.json, whatever happens.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
RESULTS="$ROOT/results/results.json"

mkdir -p "$ROOT/results"
rm -f "$RESULTS"
chmod go-rwx "$ROOT/submission" "$ROOT/results" 2>/dev/null || true
"$PYTHON" -m autograder.gradescope run {assignment} --root "$ROOT"
status=$?
if [ ! -s "$RESULTS" ]; then  # the grader could not even start: say so, in Gradescope's format
    reason="The autograder stopped before it could grade this submission (exit status $status)."
    reason="$reason Your instructor can see why in its output."
    printf '{{"score": 0, "output": "%s", "output_format": "text", ' "$reason" >"$RESULTS"
    printf '"visibility": "visible", "stdout_visibility": "hidden", "tests": []}}\n' >>"$RESULTS"
fi
exit 0
"""

CONFIG = '''"""The grader's settings for this Gradescope autograder, as the course configured them
(written by `autograder gradescope`)."""

c = get_config()  # noqa: F821 -- provided by the configuration loader
'''

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = {name}
version = {version}
requires-python = {requires_python}
dependencies = [
{dependencies}]

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = ["**/*"]
"""


# ---------------------------------------------------------------- the bundle


def build_bundle(course: Course, assignment: Assignment, out: Path) -> Path:
    """Write out/autograder.zip for `assignment` (CourseError, before anything is written, when
    its source notebook and hidden tests do not agree)."""
    from autograder.spec import read_spec

    read_spec(assignment)
    files = bundle_files(course, assignment)
    out.mkdir(parents=True, exist_ok=True)
    path = out / BUNDLE
    with tempfile.NamedTemporaryFile(dir=out, prefix=".autograder-", suffix=".zip", delete=False) as stream:
        try:
            with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, (content, mode) in sorted(files.items()):
                    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
                    info.create_system = 3  # Unix, so that unzip applies them
                    archive.writestr(info, content)
        except BaseException:
            os.unlink(stream.name)
            raise
    os.chmod(stream.name, READABLE)
    os.replace(stream.name, path)
    return path


def bundle_files(course: Course, assignment: Assignment) -> dict[str, tuple[bytes, int]]:
    """Every member of the zip: {name: (content, permissions)}."""
    from autograder.fingerprint import CourseBundle

    files = {
        "setup.sh": (SETUP_SH.encode(), EXECUTABLE),
        "run_autograder": (RUN_AUTOGRADER.format(assignment=assignment.name).encode(), EXECUTABLE),
        f"{COURSE}/nbgrader_config.py": (settings_config(course).encode(), READABLE),
    }
    for name, content in CourseBundle.of(assignment).files.items():  # what a Dask worker gets
        files[f"{COURSE}/{name}"] = (content, READABLE)
    files.update({f"{PACKAGE}/{name}": (content, READABLE) for name, content in package_files().items()})
    return files


def settings_config(course: Course) -> str:
    """A minimal nbgrader_config.py: every Autograder setting with the course's value."""
    settings = course.settings()
    lines = [
        f"c.Autograder.{name} = {getattr(settings, name)!r}"
        for name in sorted(type(settings).class_own_traits(config=True))
    ]
    return CONFIG + "\n" + "\n".join(lines) + "\n"


def package_files() -> dict[str, bytes]:
    """The grader's package as pip installs it from a folder: the files of the installed package
    (no bytecode) and a pyproject.toml with its distribution's name, version and requirements."""
    import autograder

    folder = Path(autograder.__file__).resolve().parent
    files = {
        path.relative_to(folder.parent).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")
    }
    files["pyproject.toml"] = pyproject().encode()
    return files


def pyproject() -> str:
    """The pyproject.toml of the package in the bundle, from the installed distribution's metadata."""
    names = importlib.metadata.packages_distributions().get("autograder", [])
    if not names:
        raise CourseError("the autograder package is not installed (pip install it) and cannot be bundled")
    distribution = importlib.metadata.distribution(names[0])
    requirements = [
        requirement for requirement in distribution.requires or [] if "extra ==" not in requirement
    ]
    return PYPROJECT.format(
        name=_toml(distribution.metadata["Name"]),
        version=_toml(distribution.version),
        requires_python=_toml(distribution.metadata["Requires-Python"] or ">=3.10"),
        dependencies="".join(f"    {_toml(requirement)},\n" for requirement in requirements),
    )


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for the characters of these strings)."""
    return json.dumps(str(text))


# ---------------------------------------------------------------- grading in Gradescope's container


def find_notebook(submission: Path, assignment: str) -> Job:
    """The submission's notebook as a job for the grader: <assignment>.ipynb (the shallowest, at
    any depth), else the only notebook there; a job with the problem when there is none to pick.
    Nothing is opened but folders (links are not followed); the notebook is read later, safely."""
    preferred = f"{assignment}.ipynb"
    found: list[tuple[str, ...]] = []
    seen = 0
    for folder, folders, names in os.walk(submission):
        seen += len(folders) + len(names)
        if seen > MAX_ENTRIES:
            return Job(STUDENT_ID, None, f"the submission holds more than {MAX_ENTRIES} files")
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        parts = Path(folder).relative_to(submission).parts
        found += [
            (*parts, name) for name in sorted(names) if name.endswith(".ipynb") and not name.startswith(".")
        ]
    named = sorted((parts for parts in found if parts[-1] == preferred), key=len)
    if named:
        parts = named[0]
    elif len(found) == 1:
        parts = found[0]
    elif not found:
        return Job(STUDENT_ID, None, f"no notebook in the submission: upload {preferred}")
    else:
        return Job(STUDENT_ID, None, f"{len(found)} notebooks and none named {preferred} in the submission")
    return Job(STUDENT_ID, submission.joinpath(*parts), "", submission, parts)


def grade(root: Path, assignment_name: str) -> SubmissionResult:
    """Grade the submission in root/submission with the course in root/source/course."""
    from autograder.local_processes import LocalProcesses

    course = Course.load(root / "source" / COURSE)
    assignment = course.assignment(assignment_name)
    policy = course.settings().policy()
    submission = root / "submission"
    if not submission.is_dir() or submission.is_symlink():
        job = Job(STUDENT_ID, None, "no submission folder: nothing was handed in")
    else:
        job = find_notebook(submission, assignment.name)
    for _job, result in LocalProcesses(1).grade(assignment, [job], policy):
        return result
    raise RuntimeError("the grading process returned no result")


def run(root: Path, assignment_name: str) -> SubmissionResult:
    """Grade the submission and write root/results/results.json, whatever happens."""
    try:
        result = grade(root, assignment_name)
    except Exception as error:  # the grader's own failure: the student still gets a results.json
        traceback.print_exc(file=sys.stdout)
        reason = f"the autograder failed ({type(error).__name__}); your instructor can see why in its output"
        result = failed_row(STUDENT_ID, assignment_name, reason)
    write_results(result, root / "results" / "results.json")
    return result


def write_results(result: SubmissionResult, path: Path) -> Path:
    """results.json, written whole or not at all (run_autograder writes one of its own if not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=".results-", suffix=".json", delete=False, encoding="utf-8"
    ) as stream:
        stream.write(gradescope_json(result))
    os.replace(stream.name, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    grade_one = commands.add_parser("run", help="grade the submission in ROOT/submission (run_autograder)")
    grade_one.add_argument("assignment")
    grade_one.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("AUTOGRADER_ROOT") or ROOT),
        help="Gradescope's /autograder folder (default: $AUTOGRADER_ROOT, else /autograder)",
    )
    args = parser.parse_args(argv)
    result = run(args.root, args.assignment)
    print(f"{args.assignment}: {result.score:g}/{result.max_score:g}")
    print(visible(result.summary(), newlines=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
