"""Grade one submission: run the hidden pytest suite against it, student code in the sandbox."""

from __future__ import annotations

import atexit
import contextlib
import io
import secrets
import tempfile
import time
import traceback
from pathlib import Path

import pytest

from autograder.checks import Diagnoses
from autograder.course import Assignment
from autograder.fingerprint import PUBLIC_TESTS, fingerprint, grade_key
from autograder.notebook import NotebookError
from autograder.public_fixtures import load_public_tests
from autograder.pytest_plugin import GradingPlugin, pytest_args, use_hidden_tests
from autograder.reference import reference_functions
from autograder.results import SubmissionResult, TestResult, failed_row
from autograder.runtime import RuntimeJudge, RuntimePolicy
from autograder.sandbox import Sandbox
from autograder.spec import read_spec
from autograder.student import StudentFunctions
from autograder.submission import load_submission


def diagnoses_of(assignment: Assignment, reference) -> Diagnoses:
    """The common mistakes the assignment's public_tests.py lists (none if it has none)."""
    if not (assignment.source_dir / PUBLIC_TESTS).is_file():
        return Diagnoses(reference=reference)
    suite = load_public_tests(assignment).SUITE
    return Diagnoses(suite.misconceptions, suite.functions, reference)


class GradingContext:
    """What stays the same across the submissions one grading process handles. Building it reads
    the source notebook and collects the hidden tests once, and checks that they agree
    (autograder.spec.read_spec: CourseError where they do not)."""

    def __init__(self, assignment: Assignment, policy: RuntimePolicy):
        self.assignment = assignment
        self.policy = policy
        self.tests_dir = assignment.tests_dir
        self.fingerprint = fingerprint(assignment, policy)
        spec = read_spec(assignment)
        self.functions, self.hidden_tests = spec.functions, spec.hidden_tests
        self.reference_cells = spec.reference_cells
        self.reference = reference_functions(self.reference_cells, f"reference_{assignment.name}")
        self.may_call = {name: function.may_call for name, function in self.functions.items()}
        self.seed = secrets.randbits(64)  # of the timed runs' inputs (see the runtime fixture)
        self.reference_sandbox = Sandbox()
        self.judge = RuntimeJudge(self.policy, self.reference_cells, self.reference_sandbox)
        self.memo: dict = {}  # the hidden tests' `cached` values
        self.diagnoses = diagnoses_of(assignment, self.reference)
        # Submissions take turns in one sandbox: the zygote wipes what a session leaves behind
        # before the next one starts (the same guard that keeps one function's reference from the
        # session grading it), and restarts whenever that cannot be guaranteed.
        self.student_sandbox = Sandbox()

    def close(self) -> None:
        self.reference_sandbox.close()
        self.student_sandbox.close()


_contexts: dict[tuple, GradingContext] = {}


def process_context(assignment: Assignment, policy: RuntimePolicy) -> GradingContext:
    """This process's GradingContext for these settings, made on first use and closed at exit: for
    hosts that hand over one submission at a time (nbgrader's preprocessor, Dask workers), and that
    may live through a change of the course (a Jupyter server running autograde from Formgrader).
    The context is made afresh, with empty caches and the hidden tests imported again, whenever
    the fingerprint of the hidden tests, source notebook and settings differs from the one it was
    made with (autograder.fingerprint)."""
    key = (assignment, policy)
    context = _contexts.get(key)
    if context is not None and context.fingerprint == fingerprint(assignment, policy):
        use_hidden_tests(context.tests_dir, fresh=False)
        return context
    if context is not None:
        del _contexts[key]
        atexit.unregister(context.close)
        context.close()
    use_hidden_tests(assignment.tests_dir, fresh=True)
    context = _contexts[key] = GradingContext(assignment, policy)
    atexit.register(context.close)
    return context


def grade_submission(
    context: GradingContext, student_id: str, notebook: Path | None, problem: str = ""
) -> SubmissionResult:
    """Every hidden test runs, whatever the notebook holds: a broken submission fails each test
    with the reason, so its row still lists every function."""
    started = time.perf_counter()
    submission = None
    if not problem:
        try:
            submission = load_submission(student_id, notebook, context.functions)
            if not submission.cells:
                problem = (
                    "the notebook defines none of the graded functions (no cell starting with "
                    "'# GRADED FUNCTION:', no top-level def of one)"
                )
        except NotebookError as error:
            problem = str(error)
    # A submission with a problem fails every test with it: no student code runs.
    student = StudentFunctions(
        submission,
        context.reference_cells,
        context.student_sandbox,
        problem=problem,
        may_call=context.may_call,
        call_cpu_seconds=context.policy.call_cpu_seconds,
        call_timeout=context.policy.call_timeout_seconds,
    )
    plugin = GradingPlugin(
        student, context.reference, context.judge, context.memo, context.seed, context.diagnoses
    )
    try:
        run_pytest(context.tests_dir, plugin)
    finally:
        student.close()
    return SubmissionResult(
        student_id,
        context.assignment.name,
        in_notebook_order(plugin.results, list(context.functions)),
        time.perf_counter() - started,
        problem,
        digest=submission.digest if submission else "",
        notes=submission.notes if submission else {},
    )


def in_notebook_order(tests: list[TestResult], functions: list[str]) -> list[TestResult]:
    """The tests by graded function in the notebook's order (pytest runs the modules by file name),
    each function's in the order they ran."""
    return sorted(
        tests,
        key=lambda test: functions.index(test.function) if test.function in functions else len(functions),
    )


def grade_bytes(
    context: GradingContext, student_id: str, data: bytes | None, problem: str = ""
) -> SubmissionResult:
    """Grade a notebook handed over as its bytes (None with the problem when there is none); the
    result carries the grade key it may be reused under. Never raises: a grader failure is a row."""
    try:
        with tempfile.TemporaryDirectory(prefix="autograder-submission-") as scratch:
            path = None
            if data is not None and not problem:
                path = Path(scratch) / f"{context.assignment.name}.ipynb"
                path.write_bytes(data)
            problem = problem or ("" if path else "no notebook")
            result = grade_submission(context, student_id, path, problem=problem)
    except Exception:
        return internal_error_row(student_id, context.assignment.name)
    result.fingerprint = grade_key(getattr(context, "fingerprint", ""), result.digest)
    return result


def internal_error_row(student_id: str, assignment: str) -> SubmissionResult:
    """The row of a submission the grader itself failed on (called while handling the exception):
    a grader bug must not cost the batch."""
    reason = traceback.format_exc(limit=3).splitlines()[-1]
    return failed_row(student_id, assignment, f"internal grader error: {reason}")


def run_pytest(tests_dir: Path, plugin: GradingPlugin) -> None:
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        code = pytest.main(pytest_args(tests_dir), plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(
            f"the hidden tests in {tests_dir} did not run (pytest exit {code}):\n{captured.getvalue()}"
        )
