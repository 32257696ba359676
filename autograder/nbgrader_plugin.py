"""Stock `nbgrader autograde` with the sandboxed engine in place of nbgrader's in-kernel Execute.

`nbgrader_config.py` swaps nbgrader's `Execute` preprocessor for `SandboxedGrading`: instead of
running the whole notebook in a kernel next to the tests, it grades the notebook with the hidden
tests (student code in the sandbox) and writes each function's feedback and score into that
function's hidden-tests cell (grade_id `<function>_hidden_tests`). nbgrader then records those
scores as partial credit in the gradebook, and `nbgrader generate_feedback` shows the feedback.

What is graded is the submitted file as the grader's one safe reader reads it
(autograder.notebook.read_untrusted): a notebook that is a link, a hard link or a special file
is graded as that problem, and the content nbgrader read through it is blanked from the
autograded copy, so neither another student's work nor a root-only file reaches the feedback.
nbgrader itself reads the submitted file too, with its exporter: `nbgrader_config.py` makes that
`UntrustedNotebookExporter`, which reads through the same safe reader (no FIFO blocks it, no link
is followed) and hands nbgrader the release's notebook, student cells blanked, for a notebook it
refuses: its graded cells then score zero with the reason in the feedback, and the batch goes on.
When `autograder grade` graded the same submission with the same hidden tests, source notebook
and settings (the same grade key, autograder.fingerprint), its result is reused.

Each hidden-tests cell of the autograded notebook, which `nbgrader generate_feedback` renders,
holds only what the student should read: its source, the instructor's prose and hidden-tests
region, becomes one comment naming the function and its score (`# conv_forward: 18 / 20 points`),
its first output is the function's test lines, and its last the score nbgrader records. The
feedback template (nbgrader's feedback.html.j2) calls every test cell "Test cell" in its table of
contents and "Grade cell: <grade id>" above the cell, and shows stream outputs in a `<pre>` that
does not wrap; the score's output carries a style sheet (text/html, with no student text in it:
plain grade ids and function names only) that names the function's test cells after it (`zero_pad`,
`zero_pad: hidden tests`, `zero_pad: public test`) and wraps stream outputs, so that a long message
is not cut behind a scroll bar. Nothing of nbgrader's is patched or configured for this, so a
course's own feedback template and settings still apply (a course that sets
`HTMLExporter.sanitize_html` gets the style sheet shown as text, and the template's names).

The test lines are plain text in a stream output, which nbconvert's HTML exporter escapes
(ansi2html runs markupsafe.escape before it turns ANSI colours into spans); control characters,
ANSI escapes included, are written as visible escapes first, so no student text is markup or
styling. Markdown cells the student wrote are the other student text nbconvert renders: they are
shown as text.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbgrader import utils as nbgrader_utils
from nbgrader.converters import Autograde
from nbgrader.converters import base as nbgrader_base
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from autograder.course import Assignment
from autograder.notebook import NotebookError, parse_notebook, read_notebook, read_untrusted
from autograder.results import SubmissionResult
from autograder.spec import HIDDEN_TESTS_SUFFIX
from autograder.text import visible

MAX_GRADING_JSON_BYTES = 16 << 20


class SandboxedGrading(NbGraderPreprocessor):
    """Grades with the course nbgrader runs in (CourseDirectory.root) and the settings of its
    configuration (`c.Autograder`, autograder.settings)."""

    results_directory = Unicode(
        "grades", help="Folder (relative to the course root) where `autograder grade` keeps results to reuse"
    ).tag(config=True)

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict):
        info = resources["nbgrader"]
        data, problem = self._read_submitted(info)
        if problem:
            withhold_student_cells(nb, problem)
        neutralize_student_markdown(nb, instructor_markdown(self._assignment(info)))
        result = (None if problem else self._cached(info, data)) or self._grade(info, data, problem)
        write_feedback_cells(nb, result)
        return nb, resources

    def _assignment(self, info: dict) -> Assignment:
        return Assignment(Path(CourseDirectory(parent=self).root).resolve(), info["assignment"])

    def _policy(self):
        from autograder.settings import Autograder

        return Autograder(parent=self).policy()

    def _read_submitted(self, info: dict) -> tuple[bytes | None, str]:
        """The submitted notebook's bytes as the safe reader reads them, or (None, why not)."""
        from autograder.batch import Job, read_job

        submitted, parts = self._submitted_path(info)
        job = Job(info["student"], submitted.joinpath(*parts), "", submitted, parts)
        return read_job(job)

    def _submitted_path(self, info: dict) -> tuple[Path, tuple[str, ...]]:
        """(the course's submitted folder, the notebook's path below it, name by name)."""
        coursedir = CourseDirectory(parent=self)
        root = Path(coursedir.root) / coursedir.submitted_directory
        path = Path(coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"]))
        path = path / f"{info['notebook']}.ipynb"
        try:
            return root, path.relative_to(root).parts
        except ValueError:  # a directory_structure of its own: check what lies below the student folder
            return path.parent, (path.name,)

    def _grade(self, info: dict, data: bytes | None, problem: str) -> SubmissionResult:
        from autograder.batch import grade_bytes
        from autograder.grade import process_context

        context = process_context(self._assignment(info), self._policy())
        return grade_bytes(context, info["student"], data, problem)

    def _cached(self, info: dict, data: bytes) -> SubmissionResult | None:
        """The result `autograder grade` left for this submission, if it has the grade key this
        submission would be graded under now; None (grade again) in any other case."""
        from autograder.fingerprint import fingerprint, grade_key
        from autograder.notebook import NotebookError, parse_cells
        from autograder.submission import submission_digest

        results = Path(CourseDirectory(parent=self).root) / self.results_directory
        path = results / info["assignment"] / info["student"] / "grading.json"
        try:
            if not path.is_file() or path.stat().st_size > MAX_GRADING_JSON_BYTES:
                return None
            stored = json.loads(path.read_text(encoding="utf-8"))
            expected = grade_key(
                fingerprint(self._assignment(info), self._policy()), submission_digest(parse_cells(data))
            )
            if not expected or not isinstance(stored, dict) or stored.get("fingerprint") != expected:
                return None
            return SubmissionResult.from_json(stored["result"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError, NotebookError):
            return None


class UntrustedNotebookExporter(NotebookExporter):
    """nbgrader autograde's reader (`c.Autograde.exporter_class`). Stock nbconvert opens the path
    it is given, following links and blocking on a FIFO; autograde calls it on
    <submitted>/<student>/<assignment>/<notebook>.ipynb, then on the copy it wrote to autograded/.
    This one reads only through the safe reader, relative to the folder three levels up, so a link
    at the student or assignment level is refused too. A refused notebook is replaced by
    `stand_in_notebook`: SandboxedGrading reads the submitted file again and grades it as that
    problem, so nothing of what nbgrader was pointed at is read or shown."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        guard_student_files()  # autograde makes its exporter before it copies any student's files

    def from_filename(self, filename: str, resources: dict | None = None, **kw):
        path = Path(os.path.abspath(filename))
        resources = ResourcesDict() if resources is None else resources
        resources.setdefault("metadata", ResourcesDict())
        resources["metadata"].update(name=path.stem, path=str(path.parent))
        try:
            nb = parse_notebook(read_untrusted(path.parents[2], path.parts[-3:]), path.name)
        except NotebookError as error:
            info, coursedir = resources["nbgrader"], CourseDirectory(parent=self)
            nb = stand_in_notebook(coursedir, info["assignment"], info["notebook"], str(error))
        return self.from_notebook_node(nb, resources, **kw)


def stand_in_notebook(
    coursedir: CourseDirectory, assignment: str, notebook: str, problem: str
) -> nbformat.NotebookNode:
    """What nbgrader holds in place of a notebook it cannot read: the release's, with every cell a
    student could change blanked, so that all its graded cells are there for SaveAutoGrades to
    record what SandboxedGrading scores (zero, with the reason, for a notebook the safe reader
    refuses or that does not parse), and nothing of a student's is."""
    release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment)) / f"{notebook}.ipynb"
    nb = read_notebook(release)
    withhold_student_cells(nb, problem)
    return nb


def instructor_markdown(assignment: Assignment) -> set[str]:
    """The markdown cells of the assignment's source notebook: the only ones rendered as written."""
    from autograder.notebook import NotebookError, read_cells

    try:
        cells = read_cells(assignment.source_notebook)["cells"]
    except (NotebookError, OSError):
        return set()
    return {cell["source"] for cell in cells if cell.get("cell_type") == "markdown"}


def neutralize_student_markdown(nb: nbformat.NotebookNode, trusted: set[str]) -> None:
    """Markdown the student wrote or changed is shown verbatim, as a code block: nbconvert renders
    a markdown cell's HTML as it is (its HTMLExporter does not sanitize by default) and keeps
    `javascript:` links, so a `<script>` or such a link there would run in the feedback page, and
    in Formgrader. The fence is longer than any run of backticks in the text, so nothing closes it."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source not in trusted:
            fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", cell.source)), default=0))
            cell.source = f"{fence}text\n{cell.source}\n{fence}"
            cell.pop("attachments", None)


def withhold_student_cells(nb: nbformat.NotebookNode, problem: str) -> None:
    """Blank every cell the student could change: nbgrader read the notebook through whatever the
    submitted path is (a link to another student's notebook, say), and what it read must not
    reach this student's feedback. Locked cells are the instructor's, restored by nbgrader. The
    first blanked markdown cell says why, the others only that they are not shown."""
    note = f"Not shown: {visible(problem)}"
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("locked"):
            continue
        if cell.cell_type == "markdown":
            cell.source, note = note, "Not shown."
        else:
            cell.source = ""
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.pop("attachments", None)


def write_feedback_cells(nb: nbformat.NotebookNode, result: SubmissionResult) -> None:
    """Each hidden-tests cell: a heading comment with its function's score, the function's test
    lines (and its note, if any) as plain text with every control character written as an escape,
    and the score."""
    named = _cell_names(nb)
    for cell in nb.cells:
        grade_id = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
        if cell.cell_type != "code" or not grade_id.endswith(HIDDEN_TESTS_SUFFIX):
            continue
        function = grade_id.removesuffix(HIDDEN_TESTS_SUFFIX)
        tests = [test for test in result.tests if test.function == function]
        lines = [
            f"{'PASS' if test.score == test.max_score else 'FAIL'} {visible(test.name)} "
            f"({test.score:g}/{test.max_score:g}){': ' + visible(output) if output else ''}"
            for test in tests
            for output in [result.test_output(test)]
        ]
        if result.problem:
            lines.insert(0, f"Problem with this submission: {visible(result.problem)}")
        if result.notes.get(function):  # how the function's code was found, when not by its marker
            lines.append(visible(result.notes[function]))
        score = sum(test.score for test in tests)
        points = _points(cell, sum(test.max_score for test in tests))
        cell.source = f"# {visible(function)}: {score:g} / {points:g} points"
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
            nbformat.v4.new_output(
                "execute_result",
                data={"text/plain": f"{score:g}", "text/html": _score_html(named.get(function, {}), score)},
                execution_count=1,
            ),
        ]
        cell.execution_count = 1


# The feedback page's style for what write_feedback_cells writes: stream outputs wrap (nbgrader's
# template gives their <pre> no white-space rule, so bootstrap's `overflow: auto` scrolls them).
WRAP_STREAMS = "div.output_stream pre { white-space: pre-wrap; word-break: normal; overflow-wrap: anywhere; }"
# The template's table of contents links each grade cell as `<a href="#GRADE_ID">Test cell</a>`,
# and the cell's panel, after `<a name="GRADE_ID">`, is headed "Grade cell: GRADE_ID": the link
# and heading of a function's hidden-tests cell name the function instead, and those of its other
# test cells (its public test) say whose they are (the template adds the scores).
NAMED_CELL = (
    '#toc a[href="#{grade_id}"], a[name="{grade_id}"] + .panel-heading .nbgrader-label {{ font-size: 0; }}\n'
    'a[name="{grade_id}"] + .panel-heading .nbgrader-label code {{ display: none; }}\n'
    '#toc a[href="#{grade_id}"]::after {{ content: "{toc}"; font-size: 14px; }}\n'
    'a[name="{grade_id}"] + .panel-heading .nbgrader-label::after {{\n'
    '  content: "{heading}"; font-size: 14px; font-weight: bold;\n}}'
)
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _cell_names(nb: nbformat.NotebookNode) -> dict[str, dict[str, tuple[str, str]]]:
    """{function: {grade id: (its name in the table of contents, its heading)}} for every test
    cell (a grade cell without a solution) of each function whose hidden-tests cell is in `nb`:
    the hidden-tests cell, and any other whose grade id starts with the function's name. Only plain
    names are quoted in a style sheet; a cell with any other grade id keeps the template's names."""
    test_cells = [
        str(cell.metadata.nbgrader.get("grade_id", ""))
        for cell in nb.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
        and not cell.metadata.nbgrader.get("solution")
    ]
    test_cells = [grade_id for grade_id in test_cells if PLAIN_NAME.fullmatch(grade_id)]
    functions = [
        gid.removesuffix(HIDDEN_TESTS_SUFFIX) for gid in test_cells if gid.endswith(HIDDEN_TESTS_SUFFIX)
    ]
    named: dict[str, dict[str, tuple[str, str]]] = {
        function: {function + HIDDEN_TESTS_SUFFIX: (function, f"{function}: hidden tests")}
        for function in functions
    }
    for grade_id in test_cells:
        owners = [function for function in functions if grade_id.startswith(function + "_")]
        if grade_id.endswith(HIDDEN_TESTS_SUFFIX) or not owners:
            continue
        owner = max(owners, key=len)
        label = f"{owner}: {grade_id.removeprefix(owner + '_').replace('_', ' ')}"
        named[owner][grade_id] = (label, label)
    return named


def _score_html(names: dict[str, tuple[str, str]], score: float) -> str:
    """The score's output as HTML: the score, and the feedback page's style (WRAP_STREAMS, and
    NAMED_CELL for each of `names`: {grade id: (name in the table of contents, heading)})."""
    rules = [WRAP_STREAMS]
    rules += [
        NAMED_CELL.format(grade_id=grade_id, toc=toc, heading=heading)
        for grade_id, (toc, heading) in names.items()
    ]
    style = "\n".join(rules)
    return f"<style>\n{style}\n</style>\n<pre>{score:g}</pre>"


def _points(cell: nbformat.NotebookNode, default: float) -> float:
    try:
        return float(cell["metadata"]["nbgrader"]["points"])
    except (KeyError, TypeError, ValueError):
        return default


# nbgrader's converters copy a student's other files (data, notes) next to the notebook with
# shutil.copy, which follows links and blocks on a FIFO, and read timestamp.txt with open():
# a link to a root-only file would be copied into autograded/ and sent back in the feedback.
MAX_STUDENT_FILE_BYTES = 64 << 20
MAX_TIMESTAMP_BYTES = 1024


def plain_student_files(folder: str, exclude: Sequence[str] | None = None) -> list[str]:
    """nbgrader's find_all_files for a student's folder, keeping only regular files reached
    without a link (single-named, of a plausible size): nothing else is copied."""
    if not os.path.isdir(folder) or os.path.islink(folder):
        return []
    kept = []
    for path in nbgrader_utils.find_all_files(folder, exclude):
        try:
            status = os.lstat(path)
        except OSError:
            continue
        regular = stat.S_ISREG(status.st_mode) and status.st_nlink == 1
        if regular and status.st_size <= MAX_STUDENT_FILE_BYTES:
            kept.append(path)
    return kept


def existing_timestamp(self: CourseDirectory, dest_path: str):
    """CourseDirectory.get_existing_timestamp, reading timestamp.txt through the safe reader."""
    try:
        text = read_untrusted(dest_path, ["timestamp.txt"], MAX_TIMESTAMP_BYTES).decode("utf-8", "replace")
    except (NotebookError, OSError):
        return None
    try:
        return nbgrader_utils.parse_utc(text.strip()) if text.strip() else None
    except ValueError:
        return None


def guard_student_files() -> None:
    """Make `nbgrader autograde` copy only a student's plain files and read timestamps safely
    (called when autograde makes its exporter, UntrustedNotebookExporter: nbgrader has no setting
    for either). The file filter holds
    only while autograde copies a student's folder; the instructor's folders are copied as ever."""
    if getattr(Autograde.init_assignment, "guarded", False):
        return
    copy_student_folder = Autograde.init_assignment

    def init_assignment(self: Autograde, assignment_id: str, student_id: str) -> None:
        nbgrader_base.find_all_files = plain_student_files
        try:
            copy_student_folder(self, assignment_id, student_id)
        finally:
            nbgrader_base.find_all_files = nbgrader_utils.find_all_files

    init_assignment.guarded = True
    Autograde.init_assignment = init_assignment
    CourseDirectory.get_existing_timestamp = existing_timestamp
