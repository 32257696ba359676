import pytest
from cases import normal

from autograder.checks import expect_array

pytestmark = pytest.mark.graded("zero_pad")


@pytest.mark.points(2)
def test_pads_height_and_width_only(student, reference, diagnosis):
    X = normal(1, 3, 4, 5, 2)
    shows = diagnosis("zero_pad", "X_pad", X, 2)
    expected = reference.zero_pad(X, 2)
    expect_array(student.zero_pad(X, 2), expected, "X_pad", "with pad=2 on a 3×4×5×2 input", diagnosis=shows)


@pytest.mark.points(2)
def test_pad_0_and_pad_3(student, reference, diagnosis):
    X = normal(2, 2, 3, 5, 3)
    expect_array(
        student.zero_pad(X, 0), X, "X_pad", "with pad=0", diagnosis=diagnosis("zero_pad", "X_pad", X, 0)
    )
    shows = diagnosis("zero_pad", "X_pad", X, 3)
    expected = reference.zero_pad(X, 3)
    expect_array(student.zero_pad(X, 3), expected, "X_pad", "with pad=3 on a 2×3×5×3 input", diagnosis=shows)


@pytest.mark.points(1)
def test_pad_1_single_row_many_channels(student, reference, diagnosis):
    X = normal(3, 2, 1, 3, 4)
    shows = diagnosis("zero_pad", "X_pad", X, 1)
    expected = reference.zero_pad(X, 1)
    expect_array(student.zero_pad(X, 1), expected, "X_pad", "with pad=1 on a 2×1×3×4 input", diagnosis=shows)
