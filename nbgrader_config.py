"""nbgrader configuration: the repository root is the course directory."""

import os

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "cnn-numpy"
c.CourseDirectory.root = COURSE_ROOT
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(COURSE_ROOT, "gradebook.db")

# Keep the public test helpers and data files next to the notebooks in the release.
c.CourseDirectory.include = ["*"]
# instructor/: an assignment's build scripts (figures, datasets), never released to students.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "instructor"]

# Stubs students receive: a clear error instead of a silent `pass`.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("replace this line with your code")',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Instructors on a shared JupyterHub set their exchange here (nbgrader's default is /srv/nbgrader/exchange).
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", os.path.join(COURSE_ROOT, "exchange"))

# `nbgrader autograde` grades with the sandboxed engine instead of running the notebook in a
# kernel beside the tests (see autograder/nbgrader_plugin.py); the rest of nbgrader's pipeline
# (saving grades, late penalties, metadata checks) is unchanged. Classes are named by their import
# paths: nbgrader imports them when it runs, and `autograder` reads this file without importing
# nbgrader.
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_plugin.SandboxedGrading",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# nbgrader reads each submitted notebook itself (and then its copy in autograded/): through the
# grader's safe reader, so that a FIFO or a link there is graded as that problem instead of
# hanging the batch or reading what it points to. Made by autograde before it copies any
# student's files, it also makes autograde copy only a student's plain files (no link followed)
# and read timestamp.txt through the safe reader (nbgrader_plugin.guard_student_files).
c.Autograde.exporter_class = "autograder.nbgrader_plugin.UntrustedNotebookExporter"
c.SandboxedGrading.results_directory = "grades"  # relative to the course root

# The grader's limits (autograder/settings.py lists every one, with its default). The release
# tells students these (limits.json beside the public tests): run `autograder release` after a change.
c.Autograder.runtime_factor = 10  # allowed CPU time of a timed run, as a multiple of the reference's
c.Autograder.call_timeout_seconds = 10  # wall-clock backstop of every call of a student's function
