"""The bundled example submissions get exactly the scores their bugs deserve, function by function."""

import json

import numpy as np
import pytest
from helpers import ASSIGNMENTS, assignment, grade_folder

from autograder.examples import build_examples, example_students, expected_scores
from autograder.grade import internal_error_row
from autograder.intake import find_submissions
from autograder.public_fixtures import load_public_tests
from autograder.reference import load_reference
from autograder.results import NOT_GRADED
from autograder.spec import read_spec

CONV = assignment("conv_step_by_step")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every assignment's examples, graded: {assignment: ({student: result}, out folder)}."""
    graded = {}
    for name in ASSIGNMENTS:
        submitted = tmp_path_factory.mktemp(f"{name}_submitted")
        build_examples(assignment(name), submitted)
        out = tmp_path_factory.mktemp(f"{name}_grades")
        results = grade_folder(assignment(name), submitted, out)
        graded[name] = {result.student_id: result for result in results}, out
    return graded


def function_scores(result):
    return {name: score for name, (score, _) in result.by_function().items()}


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, student",
    [(name, student) for name in ASSIGNMENTS for student in example_students(assignment(name))],
)
def test_every_example_scores_what_it_states(graded, name, student):
    functions = read_spec(assignment(name)).functions
    assert function_scores(graded[name][0][student]) == expected_scores(assignment(name), student, functions)


@pytest.mark.slow
def test_broken_file_gets_a_row_with_the_reason(graded):
    results, out = graded["conv_step_by_step"]
    broken = results["broken_file"]
    assert broken.score == 0 and broken.max_score == 100
    assert "not a readable .ipynb" in broken.problem
    assert "broken_file" in (out / "grades.csv").read_text()


@pytest.mark.slow
def test_results_json_follows_gradescope_schema(graded):
    """Gradescope's autograder specification, "Output format": every text plain (its default for
    the top-level output renders HTML), each test with its status and tags."""
    _, out = graded["conv_step_by_step"]
    functions = read_spec(CONV).functions
    data = json.loads((out / "course_loops" / "results.json").read_text())
    assert data["score"] == 80 and data["max_score"] == 100 and data["execution_time"] > 0
    assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "hidden"
    scores = expected_scores(CONV, "course_loops", functions)  # each function's, in notebook order
    assert data["output"].splitlines() == [
        f"{name}: {scores[name]:g}/{f.points:g}" for name, f in functions.items()
    ]
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "tags", "visibility"}
        assert test["tags"][0] in functions and test["tags"][1] in ("correctness", "runtime")
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert test["output_format"] == test["name_format"] == "text"
    runtime = [test for test in data["tests"] if test["tags"][1] == "runtime"]
    assert runtime and all(
        test["score"] == 0 and "slower than the limit" in test["output"] and test["status"] == "failed"
        for test in runtime
    )


@pytest.mark.slow
def test_results_json_of_a_broken_notebook_says_why_once(graded):
    results, out = graded["conv_step_by_step"]
    data = json.loads((out / "broken_file" / "results.json").read_text())
    reason = results["broken_file"].problem
    assert data["score"] == 0 and data["output"].startswith(f"Not graded: {reason}\n")
    assert json.dumps(data).count("not a readable .ipynb") == 1
    assert len(data["tests"]) == len(read_spec(CONV).hidden_tests)  # every test stays, with its points
    assert sum(test["max_score"] for test in data["tests"]) == 100
    assert all(test["output"] == NOT_GRADED and test["score"] == 0 for test in data["tests"])


@pytest.mark.slow
def test_feedback_names_the_case_without_hidden_data(graded):
    results, _ = graded["conv_step_by_step"]
    outputs = [test.output for test in results["pool_backward_ignores_stride"].tests if test.score == 0]
    assert any("stride=3" in output and "max abs error" in output for output in outputs)
    assert all("[[" not in output for output in outputs)  # no arrays printed


# Each example's bug, the function it is in, and what the feedback must recognise in its numbers.
DIAGNOSED = [
    ("conv_step_by_step", "flipped_kernel", "conv_forward", "with the kernel flipped"),
    ("conv_step_by_step", "padded_channels", "zero_pad", "it pads the channels too"),
    ("conv_step_by_step", "pool_backward_ignores_stride", "pool_backward", "instead of h*stride"),
    ("conv_step_by_step", "distribute_sum", "distribute_value", "it divides by n_H + n_W"),
    ("rnn_step_by_step", "gate_order_ifgo", "lstm_step_backward", "gate gradients in the order i, f, g, o"),
    ("rnn_step_by_step", "lstm_backward_drops_cell_gradient", "lstm_backward", "along the cell state"),
    ("rnn_step_by_step", "rnn_backward_ignores_upstream", "rnn_backward", "starts from dh[:, T-1] only"),
    ("rnn_step_by_step", "tanh_derivative_twice", "rnn_step_backward", "tanh of next_h again"),
    ("rnn_step_by_step", "cell_gradient_misses_hidden_path", "lstm_step_backward", "misses the path through"),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, student, function, says", DIAGNOSED)
def test_the_hidden_tests_name_the_mistake_in_the_numbers(graded, name, student, function, says):
    results, _ = graded[name]
    failed = [test for test in results[student].tests if test.function == function and test.score == 0]
    assert failed and says in failed[0].output  # its first failing test, a comparison with the reference
    assert not any("hint" in test.output for test in results[student].tests)


@pytest.mark.parametrize("name, student, function, says", DIAGNOSED)
def test_the_public_test_names_the_same_mistake(name, student, function, says):
    spec, reference = load_public_tests(assignment(name)), load_reference(assignment(name))
    namespace = {"np": np, **vars(reference)}
    exec((assignment(name).examples_dir / f"{student}.py").read_text(), namespace)
    forward = spec.SUITE.functions[function].forward
    test = getattr(spec, f"{function}_test")
    with pytest.raises(AssertionError) as failure:
        test(namespace[function], *([getattr(reference, forward)] if forward else []))
    assert says in str(failure.value) and "hint" not in str(failure.value)


def test_an_unfinished_function_and_numpy_2_scalar_conversion_are_named(graded):
    results, _ = graded["conv_step_by_step"]
    stub = [test.output for test in results["empty_stub"].tests if test.function == "conv_forward"]
    assert stub and all(
        output.endswith(
            "conv_forward is not implemented: replace `raise NotImplementedError()` with your code"
        )
        for output in stub
    )


def test_only_students_with_the_assignment_folder_are_graded(tmp_path):
    """nbgrader's submitted/<student>/<assignment>/: no folder, no submission; a folder without a
    clear notebook is a row with the reason."""
    (tmp_path / "alice" / "conv_step_by_step").mkdir(parents=True)
    (tmp_path / "alice" / "conv_step_by_step" / "conv_step_by_step.ipynb").write_text("{}")
    (tmp_path / "bob" / "rnn_step_by_step").mkdir(parents=True)  # another assignment only
    (tmp_path / "carol" / "conv_step_by_step").mkdir(parents=True)  # nothing handed in
    (tmp_path / "dave" / "conv_step_by_step").mkdir(parents=True)
    for name in ("a.ipynb", "b.ipynb"):
        (tmp_path / "dave" / "conv_step_by_step" / name).write_text("{}")
    jobs = {job.student_id: job for job in find_submissions(tmp_path, "conv_step_by_step")}
    assert sorted(jobs) == ["alice", "carol", "dave"]
    assert jobs["alice"].notebook.name == "conv_step_by_step.ipynb" and not jobs["alice"].problem
    assert jobs["carol"].notebook is None and jobs["carol"].problem.startswith("no notebook")
    assert jobs["dave"].notebook is None and "2 notebooks and none named" in jobs["dave"].problem


def test_a_grader_failure_becomes_a_row_naming_it():
    try:
        raise KeyError("conv_forward")
    except KeyError:
        row = internal_error_row("s001", "conv_step_by_step")
    assert row.student_id == "s001" and row.score == 0
    assert row.problem == "internal grader error: KeyError: 'conv_forward'"
