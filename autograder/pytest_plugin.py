"""The seam between pytest and the grader: fixtures for hidden tests, and a collector of points.

Hidden tests are ordinary pytest modules. A module names the graded function it covers with
`pytestmark = pytest.mark.graded("conv_forward")`; each test carries `@pytest.mark.points(n)`, and
runtime tests also `@pytest.mark.runtime`. Fixtures: `student` (the submission's functions, run in
the sandbox), `reference` (the trusted reference, in the grader's process), `runtime` (scores
the student's time against the reference's, on inputs drawn afresh for each grading process),
`cached` (values computed once per grading process) and `diagnosis` (what a wrong result shows,
for the comparisons of autograder.checks).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder.checks import Diagnoses, Mismatch
from autograder.results import TestResult
from autograder.runtime import RuntimeJudge, TimedCall
from autograder.student import StudentCallError, StudentError, StudentFunctions

MARKERS = [
    "graded(name): the graded function a test module covers",
    "points(n): points a test is worth",
    "runtime: a runtime test (tagged 'runtime' instead of 'correctness')",
]


def pytest_args(tests_dir: Path, *extra: str) -> list[str]:
    """How the grader runs pytest on a folder of hidden tests, for collecting and for grading."""
    return [
        str(tests_dir),
        "-c",
        str(tests_dir / "pytest.ini"),
        "--rootdir",
        str(tests_dir),
        "--assert=plain",  # assertion rewriting would print hidden expected arrays
        "--import-mode=importlib",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:unraisableexception",  # its gc.collect() per session costs more than a test
        "-p",
        "no:threadexception",
        "-p",
        "no:faulthandler",
        "-q",
        *extra,
    ]


def add_markers(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)


@dataclass(frozen=True)
class HiddenTest:
    nodeid: str
    function: str  # the graded function its module covers
    points: float
    runtime: bool


class _Collector:
    def __init__(self) -> None:
        self.tests: list[HiddenTest] = []
        self.errors: list[str] = []

    pytest_configure = staticmethod(add_markers)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {str(report.longrepr).strip().splitlines()[-1]}")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            points, graded = item.get_closest_marker("points"), item.get_closest_marker("graded")
            if points is None or graded is None:
                self.errors.append(
                    f"{item.nodeid}: every hidden test needs graded(...) and points(...) markers"
                )
                continue
            runtime = item.get_closest_marker("runtime") is not None
            self.tests.append(HiddenTest(item.nodeid, graded.args[0], float(points.args[0]), runtime))


def collect_hidden_tests(tests_dir: Path) -> list[HiddenTest]:
    """The hidden tests pytest collects in tests_dir (parametrized cases one by one), from its
    files as they are now; RuntimeError saying which module or test is broken when any cannot be
    collected."""
    use_hidden_tests(tests_dir, fresh=True)
    collector = _Collector()
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        code = pytest.main(pytest_args(tests_dir, "--collect-only"), plugins=[collector])
    if collector.errors or code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        problems = "; ".join(collector.errors) or captured.getvalue().strip()[-2000:]
        raise RuntimeError(f"the hidden tests in {tests_dir} cannot be collected: {problems}")
    return collector.tests


class GradingPlugin:
    def __init__(
        self,
        student: StudentFunctions,
        reference: types.SimpleNamespace,
        judge: RuntimeJudge,
        memo: dict | None = None,
        seed: int = 0,
        diagnoses: Diagnoses | None = None,
    ):
        self._student = student
        self._reference = reference
        self._diagnoses = diagnoses or Diagnoses(reference=reference)
        self._judge = judge
        self._memo = {} if memo is None else memo  # outlives the plugin: one per grading process
        self._seed = seed  # of the timed runs' inputs: a secret drawn once per grading process
        self.results: list[TestResult] = []

    pytest_configure = staticmethod(add_markers)

    @pytest.fixture
    def student(self) -> StudentFunctions:
        return self._student

    @pytest.fixture
    def reference(self) -> types.SimpleNamespace:
        return self._reference

    @pytest.fixture
    def diagnosis(self) -> Diagnoses:
        """`diagnosis(function, output, *inputs)`: what a wrong `output` of `function` on these
        inputs shows (a common mistake of public_tests.py, or where it is right), for the
        `diagnosis=` of expect_array and expect_scalar."""
        return self._diagnoses

    @pytest.fixture
    def cached(self, request: pytest.FixtureRequest) -> Callable[..., Any]:
        """`cached(compute, *args)`: compute(*args) for the first submission a grading process
        grades, the same value for every later one. Only for values that depend on the test's own
        data and the reference alone, never on the student's results (a numeric gradient, say). A
        test's values are told apart by the order in which it asks for them. Every submission gets
        the same object: tests must not change it in place."""
        calls = itertools.count()

        def remember(compute: Callable[..., Any], *args: Any) -> Any:
            key = (request.node.nodeid, next(calls))
            if key not in self._memo:
                self._memo[key] = compute(*args)
            return self._memo[key]

        return remember

    @pytest.fixture
    def runtime(
        self, request: pytest.FixtureRequest, cached: Callable
    ) -> Callable[[str, Callable[[np.random.Generator], TimedCall]], None]:
        """`runtime(name, make_call)`: score the time of `name` on the timed runs make_call(rng),
        one generator per run (see RuntimeJudge.check). The generators are seeded from a secret
        drawn once per grading process, so no submission can know the timed inputs in advance,
        while every submission a process grades gets the same ones. make_call must draw every
        value from rng and depend on the reference alone: its calls are made once per process."""

        def check(name: str, make_call: Callable[[np.random.Generator], TimedCall]) -> None:
            runs = range(self._judge.policy.repeats + 1)
            calls = cached(lambda: [make_call(np.random.default_rng([self._seed, run])) for run in runs])
            timing = self._judge.check(self._student, name, calls, key=request.node.nodeid)
            request.node.user_properties.extend([("output", timing.report), ("ratio", timing.ratio)])

        return check

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            self.results.append(self._result(item, report, call))

    def _result(self, item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo) -> TestResult:
        points = float(item.get_closest_marker("points").args[0])
        function = item.get_closest_marker("graded").args[0]
        kind = "runtime" if item.get_closest_marker("runtime") else "correctness"
        name = test_name(item, function)
        if report.passed:
            properties = dict(item.user_properties)
            return TestResult(
                name,
                function,
                kind,
                points,
                points,
                properties.get("output", ""),
                "",
                properties.get("ratio"),
            )
        error = call.excinfo.value if call.excinfo else None
        message = feedback(call.excinfo)
        if isinstance(error, StudentCallError):
            message = with_case(item, message)
        recognised = isinstance(error, Mismatch) and error.recognised
        ratio = getattr(error, "ratio", None)
        return TestResult(name, function, kind, 0.0, points, message, failure_kind(error), ratio, recognised)


def test_name(item: pytest.Item, function: str) -> str:
    """`conv_forward: stride 2 pad 0` from `test_stride_2_pad_0`, with the parameter id if any.
    A parameter whose id is the graded function's name (a test module covering several functions
    alike, parametrized over them) is already said by the name's start."""
    base = item.originalname if hasattr(item, "originalname") else item.name
    words = base.removeprefix("test_").replace("_", " ")
    callspec = getattr(item, "callspec", None)
    ids = "-".join(part for part in callspec.id.split("-") if part != function) if callspec else ""
    return f"{function}: {words}" + (f" [{ids}]" if ids else "")


def with_case(item: pytest.Item, message: str) -> str:
    """A failure of the student's code, prefixed with the case it ran on (the `describe` of the
    test's parameter, as a Mismatch message starts), when the test has one."""
    callspec = getattr(item, "callspec", None)
    for value in callspec.params.values() if callspec else ():
        describe = getattr(value, "describe", None)
        if isinstance(describe, str):
            return f"{describe}: {message}"
    return message


def failure_kind(error: BaseException | None) -> str:
    """What went wrong, for the class report: the known mistake a Mismatch names, else its category
    (wrong shape, wrong values, ...), or why the student's code gave no result."""
    if isinstance(error, Mismatch):
        return error.says or error.category or "failed a check"
    if isinstance(error, StudentError):
        return error.category or "could not be run"
    return "could not be checked"


def feedback(excinfo: pytest.ExceptionInfo | None) -> str:
    """What the student reads: our own messages verbatim; for anything else only the exception
    type, since a grader-side exception could otherwise quote hidden data."""
    if excinfo is None:
        return "failed"
    error = excinfo.value
    if isinstance(error, AssertionError):  # Mismatch, StudentError, or an instructor's assert message
        return (str(error) or "a check failed")[:1000]
    return f"the grader could not use the result ({type(error).__name__})"


_tests_in_use: Path | None = None


def use_hidden_tests(tests_dir: Path, fresh: bool) -> None:
    """Make this process's next pytest run import the hidden tests from tests_dir's files.

    pytest (importlib mode) and the tests' `pythonpath = .` keep imported modules in sys.modules
    by name (`test_conv_forward`, `cases`): a process that graded with another version of the
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
