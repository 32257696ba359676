import pytest

from autograder.reference import load_reference


@pytest.fixture(scope="session")
def conv_reference():
    """The reference solution of conv_step_by_step, loaded from the source notebook."""
    return load_reference("conv_step_by_step")
