"""Stock `nbgrader autograde` with the sandboxed engine in place of nbgrader's in-kernel Execute.

`nbgrader_config.py` swaps nbgrader's `Execute` preprocessor for `SandboxedGrading`: instead of
running the whole notebook in a kernel next to the tests, it grades the notebook with the hidden
tests (student code in the sandbox) and writes each function's feedback and score into that
function's hidden-tests cell (grade_id `<function>_hidden_tests`). nbgrader then records those
scores as partial credit in the gradebook, and `nbgrader generate_feedback` shows the feedback.
When `autograder grade` has already graded the same graded cells, its results are reused.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Unicode

from autograder.results import SubmissionResult

HIDDEN_TESTS_SUFFIX = "_hidden_tests"


class SandboxedGrading(NbGraderPreprocessor):
    results_directory = Unicode(
        "grades", help="Folder (relative to the course root) where `autograder grade` keeps results to reuse"
    ).tag(config=True)
    runtime_factor = Float(10.0, help="Allowed CPU time as a multiple of the reference's").tag(config=True)

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict):
        info = resources["nbgrader"]
        result = self._cached(info, nb) or self._grade(info, nb)
        write_feedback_cells(nb, result)
        return nb, resources

    def _grade(self, info: dict, nb: nbformat.NotebookNode) -> SubmissionResult:
        from autograder.grade import grade_submission, process_context
        from autograder.runtime import RuntimePolicy

        context = process_context(info["assignment"], RuntimePolicy(factor=self.runtime_factor))
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / f"{info['notebook']}.ipynb"
            nbformat.write(nb, path)
            return grade_submission(context, info["student"], path)

    def _cached(self, info: dict, nb: nbformat.NotebookNode) -> SubmissionResult | None:
        from autograder.submission import submission_digest

        path = Path(self.results_directory) / info["assignment"] / info["student"] / "grading.json"
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        if data.get("digest") != submission_digest(nb):
            return None
        return SubmissionResult.from_json(data["result"])


def write_feedback_cells(nb: nbformat.NotebookNode, result: SubmissionResult) -> None:
    """Each hidden-tests cell shows its function's test lines and outputs its score."""
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type != "code" or not grade_id.endswith(HIDDEN_TESTS_SUFFIX):
            continue
        function = grade_id.removesuffix(HIDDEN_TESTS_SUFFIX)
        tests = [test for test in result.tests if test.function == function]
        lines = [
            f"{'PASS' if test.score == test.max_score else 'FAIL'} {test.name} "
            f"({test.score:g}/{test.max_score:g}){': ' + test.output if test.output else ''}"
            for test in tests
        ]
        if result.problem:
            lines.insert(0, f"Problem with this submission: {result.problem}")
        score = sum(test.score for test in tests)
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
            nbformat.v4.new_output("execute_result", data={"text/plain": f"{score:g}"}, execution_count=1),
        ]
        cell.execution_count = 1
