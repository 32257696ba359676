import numpy as np
import pytest

from autograder.checks import expect_array

pytestmark = pytest.mark.graded("distribute_value")


@pytest.mark.points(2)
def test_3x3_window(student, diagnosis):
    shows = diagnosis("distribute_value", "a", 2.0, (3, 3))
    expected = np.full((3, 3), 2.0 / 9)
    expect_array(
        student.distribute_value(2.0, (3, 3)), expected, "a", "with dz=2 and shape (3, 3)", diagnosis=shows
    )


@pytest.mark.points(2)
def test_non_square_negative(student, diagnosis):
    expect_array(
        student.distribute_value(-1.5, (2, 4)),
        np.full((2, 4), -1.5 / 8),
        "a",
        "with dz=-1.5 and shape (2, 4)",
        diagnosis=diagnosis("distribute_value", "a", -1.5, (2, 4)),
    )


@pytest.mark.points(1)
def test_1x1_window(student):
    expect_array(
        student.distribute_value(0.7, (1, 1)), np.full((1, 1), 0.7), "a", "with dz=0.7 and shape (1, 1)"
    )
