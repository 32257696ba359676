import numpy as np
import pytest
from cases import normal

from autograder.checks import Mismatch, expect_scalar, shape_text

pytestmark = pytest.mark.graded("conv_single_step")


@pytest.fixture
def check_z(student, reference, diagnosis):
    """check_z(a, W, b, case): the student's Z against the reference's."""

    def check(a, W, b, case: str):
        shows = diagnosis("conv_single_step", "Z", a, W, b)
        expect_scalar(
            student.conv_single_step(a, W, b), reference.conv_single_step(a, W, b), "Z", case, diagnosis=shows
        )

    return check


@pytest.mark.points(2)
def test_random_slice(check_z):
    a, W, b = normal(1, 3, 3, 4), normal(2, 3, 3, 4), normal(3, 1, 1, 1)
    check_z(a, W, b, "with a 3×3×4 slice")


@pytest.mark.points(1)
def test_asymmetric_kernel(check_z):
    a, W, b = normal(4, 2, 5, 1), np.arange(10.0).reshape(2, 5, 1), normal(5, 1, 1, 1)
    check_z(a, W, b, "with a 2×5 asymmetric filter")


@pytest.mark.points(1)
def test_bias_is_added_once(check_z):
    a, W, b = normal(6, 4, 4, 3), normal(10, 4, 4, 3), np.full((1, 1, 1), 2.5)
    check_z(a, W, b, "with a 4×4×3 slice and bias 2.5 (added once, not to every element)")


@pytest.mark.points(1)
def test_returns_a_scalar(student, reference):
    a, W, b = normal(7, 2, 2, 2), normal(8, 2, 2, 2), normal(9, 1, 1, 1)
    Z = student.conv_single_step(a, W, b)
    if isinstance(Z, np.ndarray) and Z.ndim > 0:
        shape = shape_text(Z.shape)
        raise Mismatch(f"Z should be a scalar (a number), not an array of shape {shape}: try b.item()")
    expect_scalar(Z, reference.conv_single_step(a, W, b), "Z", "with a 2×2×2 slice")
