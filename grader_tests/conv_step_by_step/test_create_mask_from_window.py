import numpy as np
import pytest
from cases import normal

from autograder.checks import expect_array

pytestmark = pytest.mark.graded("create_mask_from_window")


@pytest.mark.points(2)
def test_random_3x3_window(student, reference):
    x = normal(1, 3, 3)
    expect_array(
        student.create_mask_from_window(x), reference.create_mask_from_window(x), "mask", "on a 3×3 window"
    )


@pytest.mark.points(2)
def test_non_square_all_negative_window(student, reference):
    x = -np.abs(normal(2, 2, 4)) - 1
    expect_array(
        student.create_mask_from_window(x),
        reference.create_mask_from_window(x),
        "mask",
        "on a 2×4 window of negative numbers",
    )


@pytest.mark.points(1)
def test_maximum_in_a_corner(student):
    x = np.array([[9.0, 1.0], [2.0, 3.0], [4.0, -1.0]])
    expected = np.zeros((3, 2), dtype=bool)
    expected[0, 0] = True
    expect_array(
        student.create_mask_from_window(x), expected, "mask", "on a 3×2 window whose maximum is at (0, 0)"
    )
