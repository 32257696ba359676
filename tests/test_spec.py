"""What an assignment grades comes from its source notebook, and the hidden tests must agree with
it: a mismatch is a clear error before anything is graded."""

import pytest
from helpers import ASSIGNMENTS, assignment, tiny_course

from autograder.cli import main
from autograder.course import CourseError
from autograder.spec import read_spec


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_hidden_tests_give_each_function_its_cells_points(name):
    spec = read_spec(assignment(name))
    assert spec.points == 100
    for function in spec.functions.values():
        hidden = sum(test.points for test in spec.hidden_tests if test.function == function.name)
        assert hidden == function.points, function.name


def test_the_functions_their_order_and_what_they_may_call_come_from_the_notebook():
    spec = read_spec(assignment("conv_step_by_step"))
    assert list(spec.functions)[:3] == ["zero_pad", "conv_single_step", "conv_forward"]
    assert spec.functions["conv_forward"].may_call == ("zero_pad", "conv_single_step")
    assert spec.functions["pool_backward"].may_call == ("create_mask_from_window", "distribute_value")
    assert spec.functions["zero_pad"].points == 5 and spec.functions["conv_forward"].points == 20


def test_hidden_tests_that_do_not_add_up_fail_before_grading(tmp_path, monkeypatch, capsys):
    tiny_course(tmp_path, points=2, test_points=1)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(CourseError, match="double: its hidden tests give 1 points, its hidden-tests cell 2"):
        read_spec(assignment_at(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["grade", "tiny"]) == 2
    assert "its hidden tests give 1 points, its hidden-tests cell 2" in " ".join(
        capsys.readouterr().out.split()
    )
    assert not (tmp_path / "grades").exists()  # nothing was graded


@pytest.mark.parametrize(
    "hidden_cell, message",
    [
        (
            "# Hidden tests of double (3 points)\n# Other graded functions it may call: none.\n",
            "says (3 points)",
        ),
        ("# Hidden tests of double\n", "must have a line '# Other graded functions it may call"),
        ("# Other graded functions it may call: double.\n", "double may not call double"),
        ("# Other graded functions it may call: np.\n", "double may not call np"),
    ],
)
def test_a_hidden_tests_cell_must_state_what_grading_needs(tmp_path, hidden_cell, message):
    tiny_course(tmp_path, hidden_cell=hidden_cell)
    with pytest.raises(CourseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_spec(assignment_at(tmp_path))


def test_a_hidden_test_for_a_function_the_notebook_does_not_grade_is_named(tmp_path):
    tiny = tiny_course(tmp_path)
    (tiny.tests_dir / "test_other.py").write_text(
        "import pytest\n\npytestmark = pytest.mark.graded('triple')\n\n\n"
        "@pytest.mark.points(1)\ndef test_it(student):\n    pass\n"
    )
    with pytest.raises(
        CourseError, match="triple: hidden tests for a function the source notebook does not grade"
    ):
        read_spec(tiny)


def test_a_hidden_test_module_that_does_not_import_is_named(tmp_path):
    tiny = tiny_course(tmp_path)
    (tiny.tests_dir / "test_broken.py").write_text("import no_such_module\n")
    with pytest.raises(CourseError, match="test_broken.py: .*No module named 'no_such_module'"):
        read_spec(tiny)


def assignment_at(root):
    from autograder.course import Course

    return Course.load(root).assignment("tiny")
