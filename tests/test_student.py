"""What a session holds, what its failures say, and what it can know of the timed inputs.

* A graded function's session holds the reference of only the graded functions it may call (the
  source notebook's hidden-tests cells say which): a stub cannot be assembled from the reference of
  another function.
* Feedback quotes a student's exception by type, line and a clipped message: an exception carrying
  hidden inputs leaks at most a few characters of them.
* Every call has a CPU budget, untimed ones included.
* The timed runs' inputs are drawn afresh for each grading process, and scores stay the same.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from helpers import ASSIGNMENTS, assignment

from autograder.examples import completed_notebook
from autograder.grade import GradingContext, grade_submission
from autograder.reference import reference_cells
from autograder.runtime import RuntimeJudge
from autograder.sandbox import Sandbox
from autograder.settings import default_policy
from autograder.spec import read_spec
from autograder.student import MESSAGE_CHARS, StudentError, StudentFunctions
from autograder.submission import Submission

pytestmark = pytest.mark.slow

SOLUTION_MARKS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)


def reference_solution(name: str) -> dict[str, str]:
    cells = reference_cells(assignment(name))
    return {function: SOLUTION_MARKS.sub("", source) for function, source in cells.items()}


def allowed_calls(name: str) -> dict[str, tuple[str, ...]]:
    return {function.name: function.may_call for function in read_spec(assignment(name)).functions.values()}


def graded(context: GradingContext, tmp_path: Path, cells: dict[str, str], student: str = "student"):
    """Grade the release notebook completed with the reference, except `cells`."""
    nb = completed_notebook(context.assignment, {**reference_solution(context.assignment.name), **cells})
    path = tmp_path / student / f"{context.assignment.name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return grade_submission(context, student, path)


@pytest.fixture(scope="module")
def conv_context():
    context = GradingContext(assignment("conv_step_by_step"), default_policy())
    yield context
    context.close()


PROBE = """\
# GRADED FUNCTION: {name}
def {name}(*args, **kwargs):
    return sorted(other for other in {names!r} if other != {name!r} and other in globals())
"""


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_session_holds_only_the_references_its_function_may_call(name):
    cells = reference_cells(assignment(name))
    may_call = allowed_calls(name)
    probes = {name: PROBE.format(name=name, names=sorted(cells)) for name in cells}
    submission = Submission("probe", Path("probe.ipynb"), probes)
    found = {}
    with Sandbox() as sandbox:
        student = StudentFunctions(submission, cells, sandbox, may_call=may_call)
        for name in cells:
            found[name] = student.call(name, (), {}).value
        student.close()
    assert found == {name: sorted(may_call[name]) for name in cells}


def test_the_allowed_calls_are_those_the_notebook_design_has():
    assert allowed_calls("conv_step_by_step") == {
        "zero_pad": (),
        "conv_single_step": (),
        "conv_forward": ("zero_pad", "conv_single_step"),
        "pool_forward": (),
        "conv_backward": ("zero_pad",),
        "create_mask_from_window": (),
        "distribute_value": (),
        "pool_backward": ("create_mask_from_window", "distribute_value"),
    }
    rnn = allowed_calls("rnn_step_by_step")
    assert rnn["rnn_forward"] == ("rnn_step_forward",) and rnn["lstm_backward"] == ("lstm_step_backward",)
    assert rnn["rnn_step_forward"] == () and rnn["lstm_step_backward"] == ()


# Stubs assembled from the reference of another graded function: each earns nothing today.
ASSEMBLED = {
    "conv_single_step": """\
# GRADED FUNCTION: conv_single_step
def conv_single_step(a_slice_prev, W, b):
    hparameters = {"stride": 1, "pad": 0}
    Z, _ = conv_forward(a_slice_prev[None], W[..., None], np.reshape(b, (1, 1, 1, 1)), hparameters)
    return float(Z.item())
""",
    "create_mask_from_window": """\
# GRADED FUNCTION: create_mask_from_window
def create_mask_from_window(x):
    h, w = x.shape
    A = np.full((1, max(h, w), max(h, w), 1), -np.inf)
    A[0, :h, :w, 0] = x
    d = pool_backward(np.ones((1, 1, 1, 1)), (A, {"f": max(h, w), "stride": 1}), mode="max")
    return d[0, :h, :w, 0] == 1
""",
    "distribute_value": """\
# GRADED FUNCTION: distribute_value
def distribute_value(dz, shape):
    h, w = shape
    f = max(h, w)
    dA = np.full((1, 1, 1, 1), dz * f * f / (h * w))
    d = pool_backward(dA, (np.zeros((1, f, f, 1)), {"f": f, "stride": 1}), mode="average")
    return d[0, :h, :w, 0]
""",
}


@pytest.mark.parametrize("function", sorted(ASSEMBLED))
def test_a_stub_assembled_from_another_reference_earns_nothing(conv_context, tmp_path, function):
    control = graded(conv_context, tmp_path, {}, "control").by_function()
    result = graded(conv_context, tmp_path, {function: ASSEMBLED[function]}).by_function()
    assert result[function] == (0, control[function][1]) and control[function][0] == 5
    assert {name: totals for name, totals in result.items() if name != function} == {
        name: totals for name, totals in control.items() if name != function
    }


LEAK = """\
# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    raise ValueError("\\x1b[31m" + " ".join(f"{{v:.17g}}" for v in X.ravel()[:50]) + "\\n" + "{tail}")
"""


LEAK_IN_TYPE_NAME = """\
# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    raise type("E" + "_".join(str(abs(v)).replace(".", "") for v in X.ravel()[:10]), (Exception,), {})()
"""


def test_an_exception_type_cannot_carry_data_either(conv_context, tmp_path):
    result = graded(conv_context, tmp_path, {"zero_pad": LEAK_IN_TYPE_NAME})
    outputs = [test.output for test in result.tests if test.function == "zero_pad"]
    assert outputs and all("raised an exception at line 3 of its cell" in text for text in outputs), outputs
    assert not any(re.search(r"\d{6,}", output) for output in outputs), outputs


def test_feedback_quotes_an_exception_by_type_line_and_a_clipped_message(conv_context, tmp_path):
    result = graded(conv_context, tmp_path, {"zero_pad": LEAK.format(tail="x" * 5000)})
    outputs = [test.output for test in result.tests if test.function == "zero_pad"]
    assert outputs
    for output in outputs:
        assert "ValueError at line 3 of its cell" in output, output
        assert "\x1b" not in output and "\n" not in output and "x" * 50 not in output
        quoted = output.split(": ", 1)[1]
        numbers = re.findall(r"-?\d+\.\d{6,}", quoted)
        assert len(quoted) < MESSAGE_CHARS + 200 and len(numbers) <= MESSAGE_CHARS // 18, output


NUMPY_2_SCALAR = """\
# GRADED FUNCTION: conv_single_step
def conv_single_step(a_slice_prev, W, b):
    return float(np.sum(a_slice_prev * W)) + float(b)
"""

UNFINISHED = """\
# GRADED FUNCTION: conv_forward
def conv_forward(A_prev, W, b, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = None
    return None
"""


def test_feedback_explains_numpy_2_scalars_and_unfinished_code_and_names_the_case(conv_context, tmp_path):
    result = graded(conv_context, tmp_path, {"conv_single_step": NUMPY_2_SCALAR, "conv_forward": UNFINISHED})
    scalar = [test.output for test in result.tests if test.function == "conv_single_step"]
    assert scalar and all("TypeError at line 3 of its cell" in text and "b.item()" in text for text in scalar)
    outputs = {test.name: test.output for test in result.tests if test.function == "conv_forward"}
    case = outputs["conv_forward: output [stride2-pad1-nonsquare]"]
    assert case.startswith("with stride=2, pad=1, f=3 on a 2×7×5×3 input: conv_forward raised TypeError")
    assert case.endswith("is every `None` placeholder of the exercise replaced with code?")


BURN = """\
# GRADED FUNCTION: distribute_value
import time


def distribute_value(dz, shape):
    start = time.process_time()
    while time.process_time() - start < 3:
        pass
    return np.full(shape, dz / (shape[0] * shape[1]))
"""


def test_every_call_has_a_cpu_budget():
    cells = reference_cells(assignment("conv_step_by_step"))
    submission = Submission("burn", Path("burn.ipynb"), {"distribute_value": BURN})
    with Sandbox() as sandbox:
        student = StudentFunctions(submission, cells, sandbox, call_cpu_seconds=0.5)
        with pytest.raises(StudentError, match="used more than 0.5 s of CPU time"):
            student.distribute_value(1.0, (2, 2))
        student.close()
    assert default_policy().call_cpu_seconds > 0


def test_timed_inputs_are_drawn_afresh_for_each_grading_and_scores_stay(tmp_path, monkeypatch):
    seen: list[list[bytes]] = []
    check = RuntimeJudge.check

    def spy(self, student, name, calls, key):
        seen.append([np.asarray(call.args[0]).tobytes() for call in calls])
        return check(self, student, name, calls, key)

    monkeypatch.setattr(RuntimeJudge, "check", spy)
    scores = []
    for _ in range(2):
        context = GradingContext(assignment("conv_step_by_step"), default_policy())
        try:
            scores.append(graded(context, tmp_path, {}).by_function())
        finally:
            context.close()
    first, second = seen[: len(seen) // 2], seen[len(seen) // 2 :]
    assert first and len(first) == len(second)
    for runs_a, runs_b in zip(first, second):
        assert len(set(runs_a)) == len(runs_a)  # every timed run has inputs of its own
        assert not set(runs_a) & set(runs_b)  # and another grading has other ones
    assert scores[0] == scores[1] and sum(score for score, _ in scores[0].values()) == 100
