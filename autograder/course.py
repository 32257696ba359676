"""Where a course is: the folder nbgrader's configuration names, and the assignments in it.

A course is any folder holding `nbgrader_config.py` (its `c.CourseDirectory.root`, when the file
sets one, else the folder itself) with nbgrader's `source/`, `release/`, `submitted/` folders and
this grader's `grader_tests/` and `examples/`. Commands find it from the working directory, as
nbgrader does, or from `--course`; nothing is looked up where the grader's package is installed.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from traitlets import TraitError
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.settings import Autograder

CONFIG_FILE = "nbgrader_config.py"


class CourseError(Exception):
    """The course or one of its assignments is not usable as it is; the message says why."""


STUDENT_FOLDERS = ("submitted", "autograded", "feedback")  # nbgrader's folders of students' files


def _refuse_students_config(folder: Path) -> None:
    """A config found below a course's folder of students' files is a student's file: loading it
    would run it."""
    for parent in folder.parents:
        if parent.name in STUDENT_FOLDERS and (parent.parent / CONFIG_FILE).is_file():
            raise CourseError(
                f"{folder / CONFIG_FILE} is inside {parent}, a folder of students' files: not loaded. "
                f"Run this in the course folder {parent.parent}, or pass --course"
            )


@dataclass(frozen=True)
class Assignment:
    """An assignment's folders, by nbgrader's layout below the course root. A plain value: it is
    what grading processes and Dask workers are handed."""

    root: Path
    name: str

    @property
    def source_dir(self) -> Path:
        return self.root / "source" / self.name

    @property
    def source_notebook(self) -> Path:
        """The instructor notebook, which holds the reference solution."""
        return self.source_dir / f"{self.name}.ipynb"

    @property
    def release_dir(self) -> Path:
        return self.root / "release" / self.name

    @property
    def release_notebook(self) -> Path:
        return self.release_dir / f"{self.name}.ipynb"

    @property
    def tests_dir(self) -> Path:
        """The hidden tests."""
        return self.root / "grader_tests" / self.name

    @property
    def examples_dir(self) -> Path:
        return self.root / "examples" / self.name


@dataclass(frozen=True)
class Course:
    root: Path
    config: Config = field(default_factory=Config, compare=False, repr=False)

    @classmethod
    def find(cls, folder: Path | None = None) -> Course:
        """The course whose nbgrader_config.py is in `folder` (default: the working directory) or
        the nearest folder above it."""
        start = Path(folder or Path.cwd()).resolve()
        for candidate in (start, *start.parents):
            if (candidate / CONFIG_FILE).is_file():
                _refuse_students_config(candidate)
                return cls.load(candidate)
        where = "the working directory" if folder is None else str(start)
        raise CourseError(
            f"no {CONFIG_FILE} in {where} or above it: run this in a course folder, or pass --course DIR"
        )

    @classmethod
    def load(cls, folder: Path) -> Course:
        """The course configured by folder/nbgrader_config.py (a folder without one: defaults)."""
        folder = Path(folder).resolve()
        if not folder.is_dir():
            raise CourseError(f"no course folder {folder}")
        config = Config()
        if (folder / CONFIG_FILE).is_file():
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    config = PyFileConfigLoader(CONFIG_FILE, path=str(folder)).load_config()
            except Exception as error:
                raise CourseError(f"{folder / CONFIG_FILE} cannot be loaded: {error}") from error
        root = config.CourseDirectory.get("root") if "CourseDirectory" in config else None
        return cls(Path(root).resolve() if isinstance(root, str) and root else folder, config)

    def settings(self, **overrides: float) -> Autograder:
        """The grader's settings as the course configures them, with `overrides` for one run."""
        try:
            settings = Autograder(config=self.config)
            for name, value in overrides.items():
                setattr(settings, name, value)
        except TraitError as error:
            raise CourseError(f"{self.root / CONFIG_FILE}: {error}") from error
        return settings

    def assignments(self) -> list[str]:
        """Every assignment of the course: a folder source/NAME holding NAME.ipynb."""
        return sorted(
            path.parent.name
            for path in (self.root / "source").glob("*/*.ipynb")
            if path.stem == path.parent.name
        )

    def assignment(self, name: str) -> Assignment:
        """The assignment `name`; CourseError naming the ones there are if it does not exist."""
        assignment = Assignment(self.root, name)
        if not name.isidentifier() or not assignment.source_notebook.is_file():
            known = ", ".join(self.assignments()) or "none"
            raise CourseError(
                f"no assignment {name!r}: source/{name}/{name}.ipynb does not exist in {self.root} "
                f"(assignments: {known})"
            )
        return assignment
