"""The bundled example submissions get exactly the scores their bugs deserve, function by function."""

import json

import pytest

from autograder.batch import grade_all
from autograder.examples import build_examples
from autograder.grade import internal_error_row
from autograder.intake import find_submissions

FULL = {
    "zero_pad": 5,
    "conv_single_step": 5,
    "conv_forward": 20,
    "pool_forward": 20,
    "conv_backward": 20,
    "create_mask_from_window": 5,
    "distribute_value": 5,
    "pool_backward": 20,
}
NO_RUNTIME = {**FULL, "conv_forward": 15, "pool_forward": 15, "conv_backward": 15, "pool_backward": 15}

EXPECTED = {
    "reference": FULL,
    "course_loops": NO_RUNTIME,
    "position_loops": FULL,  # loops over output positions only: well within the runtime limit
    "flipped_kernel": {**FULL, "conv_forward": 2},  # only the 1×1-filter case survives a flip
    "padded_channels": {**FULL, "zero_pad": 0},  # pad=0 alone would hide it; its test also pads by 3
    "distribute_sum": {**FULL, "distribute_value": 0},
    "pool_backward_ignores_stride": {**FULL, "pool_backward": 2},  # right only at stride 1
    "pool_backward_scales_dA_in_place": {**FULL, "pool_backward": 13},  # average mode: 6 + 1 lost
    "mask_of_integers": {**FULL, "create_mask_from_window": 0},  # the reference's dtype is bool
    "cheater": {**FULL, "conv_single_step": 0},
    "empty_stub": dict.fromkeys(FULL, 0),
}

RNN_FULL = {
    "rnn_step_forward": 10,
    "rnn_step_backward": 12,
    "rnn_forward": 12,
    "rnn_backward": 14,
    "lstm_step_forward": 10,
    "lstm_step_backward": 14,
    "lstm_forward": 12,
    "lstm_backward": 16,
}
RNN_EXPECTED = {
    "reference": RNN_FULL,
    # loops over examples lose exactly the runtime points
    "per_example_loops": {
        **RNN_FULL,
        "rnn_forward": 8,
        "rnn_backward": 11,
        "lstm_forward": 8,
        "lstm_backward": 12,
    },
    "lstm_backward_drops_cell_gradient": {**RNN_FULL, "lstm_backward": 0},
    "aliased_cell_state": {**RNN_FULL, "lstm_step_forward": 6},
    "gate_order_ifgo": {**RNN_FULL, "lstm_step_backward": 0},
    "backward_overwrites_cache": {**RNN_FULL, "lstm_step_backward": 0},  # right values, cache overwritten
    "cell_gradient_misses_hidden_path": {**RNN_FULL, "lstm_step_backward": 2},
    "rnn_backward_ignores_upstream": {**RNN_FULL, "rnn_backward": 2},
    "tanh_derivative_twice": {**RNN_FULL, "rnn_step_backward": 0},
    "float32_hidden_states": {**RNN_FULL, "rnn_forward": 0},  # within the tolerance, but not float64
    "empty_stub": dict.fromkeys(RNN_FULL, 0),
}


def grade_examples(assignment, tmp_path_factory):
    submitted = tmp_path_factory.mktemp(f"{assignment}_submitted")
    build_examples(assignment, submitted)
    out = tmp_path_factory.mktemp(f"{assignment}_grades")
    results = grade_all(assignment, submitted, out, jobs=2, show_progress=False)
    return {result.student_id: result for result in results}, out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_examples("conv_step_by_step", tmp_path_factory)


@pytest.fixture(scope="module")
def rnn_graded(tmp_path_factory):
    return grade_examples("rnn_step_by_step", tmp_path_factory)


def function_scores(result):
    return {name: score for name, (score, _) in result.by_function().items()}


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_example_scores_per_function(graded, student):
    assert function_scores(graded[0][student]) == EXPECTED[student]


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(RNN_EXPECTED))
def test_rnn_example_scores_per_function(rnn_graded, student):
    assert function_scores(rnn_graded[0][student]) == RNN_EXPECTED[student]


@pytest.mark.slow
def test_broken_file_gets_a_row_with_the_reason(graded):
    results, out = graded
    broken = results["broken_file"]
    assert broken.score == 0 and broken.max_score == 100
    assert "not a readable .ipynb" in broken.problem
    assert "broken_file" in (out / "grades.csv").read_text()


@pytest.mark.slow
def test_results_json_follows_gradescope_schema(graded):
    _, out = graded
    data = json.loads((out / "course_loops" / "results.json").read_text())
    assert data["score"] == 80 and data["max_score"] == 100 and data["execution_time"] > 0
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "tags"}
        assert test["tags"][0] in FULL and test["tags"][1] in ("correctness", "runtime")
    runtime = [test for test in data["tests"] if test["tags"][1] == "runtime"]
    assert runtime and all(
        test["score"] == 0 and "slower than the limit" in test["output"] for test in runtime
    )


@pytest.mark.slow
def test_feedback_names_the_case_without_hidden_data(graded):
    results, _ = graded
    outputs = [test.output for test in results["pool_backward_ignores_stride"].tests if test.score == 0]
    assert any("stride=3" in output and "max abs error" in output for output in outputs)
    assert all("[[" not in output for output in outputs)  # no arrays printed


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
