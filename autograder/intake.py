"""Find the submissions in nbgrader's submitted folder, and read each notebook safely.

The submissions folder is the students': its names, links and special files are hostile. Only
regular files inside a student's own folder are read, through `notebook.read_untrusted`; anything
else is that student's row with the reason. Every host grades what `read_job` read: local grading
processes (autograder.local_processes), Dask workers (autograder.scale_out) and nbgrader's
preprocessor (autograder.nbgrader_plugin).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from autograder.notebook import NotebookError, kind_of, open_folder, read_untrusted
from autograder.results import RESERVED_NAMES
from autograder.text import visible

MAX_ID_CHARS = 64
MAX_FOLDER_ENTRIES = 10_000  # in an assignment folder: nbgrader's hold a handful


@dataclass(frozen=True)
class Job:
    """One student's submission: where its notebook is, or why there is nothing to grade."""

    student_id: str  # safe to show and to name a folder with (see safe_student_id)
    notebook: Path | None  # the notebook found; None: nothing to grade was found
    problem: str = ""
    submitted: Path | None = None  # the submissions folder `parts` are relative to
    parts: tuple[str, ...] = ()  # the notebook below it: student folder, assignment folder, file

    def read(self) -> bytes:
        """The notebook's bytes, read safely (NotebookError saying why it cannot be)."""
        return read_untrusted(self.submitted, self.parts)


def safe_student_id(name: str) -> str:
    """The id a student folder's row is shown and written under: the folder's name when it is
    plain (printable UTF-8, at most MAX_ID_CHARS long, no leading dash or surrounding space, not
    a name the results folder uses); otherwise that name made visible and shortened, between a
    leading '_' and a '~' with a hash of the exact name, so that odd names stay distinct."""
    raw = os.fsencode(name)
    shown = visible(raw.decode("utf-8", "backslashreplace"))
    plain = shown == name and name == name.strip() and not name.startswith("-")
    if plain and len(name) <= MAX_ID_CHARS and name not in RESERVED_NAMES:
        return name
    return f"_{shown.strip()[: MAX_ID_CHARS - 10]}~{hashlib.blake2b(raw, digest_size=4).hexdigest()}"


def find_submissions(submitted: Path, assignment: str) -> list[Job]:
    """nbgrader's layout: submitted/<student_id>/<assignment>/<assignment>.ipynb. A student without
    that assignment's folder has not submitted it; a folder without a clear notebook, or with links
    or special files where the folders and notebook should be, gets a row with the reason. Nothing
    is followed or opened but folders (without following links); the notebook is read later."""
    submitted = Path(submitted)
    jobs: list[Job] = []
    taken: set[str] = set()
    root = os.open(submitted, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with os.scandir(root) as entries:
            names = sorted(entry.name for entry in entries if not entry.name.startswith("."))
        for name in names:
            found = _look_in(root, name, assignment)
            if found is None:
                continue
            student_id = safe_student_id(name)
            while student_id in taken:
                student_id += "~"
            taken.add(student_id)
            if isinstance(found, str):
                jobs.append(Job(student_id, None, found))
            else:
                jobs.append(Job(student_id, submitted.joinpath(*found), "", submitted, found))
    finally:
        os.close(root)
    return jobs


def _look_in(root: int, name: str, assignment: str) -> tuple[str, ...] | str | None:
    """The notebook's path parts in the student folder `name`, a problem, or None (no submission)."""
    refused = "only regular files inside the student's own folder are graded"
    try:
        mode = os.stat(name, dir_fd=root, follow_symlinks=False).st_mode
    except OSError:
        return None  # gone since the listing
    if stat.S_ISLNK(mode):
        return f"the student folder is a symbolic link: {refused}"
    if not stat.S_ISDIR(mode):
        return None  # a stray file, not a student's folder
    try:
        student = open_folder(name, root)
    except OSError as error:
        return f"the student folder could not be opened: {error.strerror}"
    try:
        try:
            mode = os.stat(assignment, dir_fd=student, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return None  # this student has not submitted this assignment
        except OSError as error:
            return f"the {assignment} folder could not be read: {error.strerror}"
        if stat.S_ISLNK(mode):
            return f"the {assignment} folder is a symbolic link: {refused}"
        if not stat.S_ISDIR(mode):
            return f"{assignment} in the student folder is {kind_of(mode)}, not a folder: {refused}"
        try:
            folder = open_folder(assignment, student)
        except OSError as error:
            return f"the {assignment} folder could not be opened: {error.strerror}"
        try:
            notebooks, entries = [], 0
            with os.scandir(folder) as listing:
                for entry in listing:
                    entries += 1
                    if entries > MAX_FOLDER_ENTRIES:
                        return f"the {assignment} folder holds more than {MAX_FOLDER_ENTRIES} files"
                    if entry.name.endswith(".ipynb") and not entry.name.startswith("."):
                        notebooks.append(entry.name)
        finally:
            os.close(folder)
    finally:
        os.close(student)
    preferred = f"{assignment}.ipynb"
    if preferred in notebooks:
        return (name, assignment, preferred)
    if len(notebooks) == 1:
        return (name, assignment, notebooks[0])
    if not notebooks:
        return f"no notebook in the {assignment} folder"
    return f"{len(notebooks)} notebooks and none named {preferred} in the {assignment} folder"


def read_job(job: Job) -> tuple[bytes | None, str]:
    """(the notebook's bytes, "") or (None, why there is nothing to grade)."""
    if job.problem or job.notebook is None:
        return None, job.problem or "no notebook"
    try:
        return job.read(), ""
    except NotebookError as error:
        return None, str(error)
    except OSError as error:
        return None, f"the notebook could not be read: {error.strerror or type(error).__name__}"
    except Exception as error:  # a grader bug must not cost the batch
        return None, f"the notebook could not be read ({type(error).__name__})"
