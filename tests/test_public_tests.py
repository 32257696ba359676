"""The public tests students run: committed expected values still match the reference, and the
speed check tells a correct but slow function apart from a fast one."""

import h5py
import numpy as np
import pytest

from autograder.course import source_dir
from autograder.examples import example_functions
from autograder.public_fixtures import load_public_tests
from autograder.reference import load_reference

ASSIGNMENT = "conv_step_by_step"


@pytest.fixture(scope="module")
def public_tests():
    return load_public_tests(ASSIGNMENT)


@pytest.mark.parametrize("assignment", ["conv_step_by_step", "rnn_step_by_step"])
def test_committed_expected_values_match_the_reference(assignment, tmp_path):
    fresh = tmp_path / "public_tests.h5"
    load_public_tests(assignment).write_expected(load_reference(assignment), fresh)
    committed = source_dir(assignment) / "public_tests.h5"
    with h5py.File(fresh) as new, h5py.File(committed) as old:
        names = lambda file: sorted(n for n in _datasets(file) if not n.startswith("speed"))  # noqa: E731
        assert names(new) == names(old), "public_tests.h5 is stale: run python -m autograder.public_fixtures"
        for name in names(new):
            np.testing.assert_allclose(new[name][()], old[name][()], rtol=0, atol=1e-12, err_msg=name)
        assert set(old["speed"].attrs) == set(new["speed"].attrs)


def _datasets(file):
    found = []
    file.visititems(lambda name, item: found.append(name) if isinstance(item, h5py.Dataset) else None)
    return found


@pytest.mark.slow
def test_speed_check_passes_the_reference_and_flags_four_loops(public_tests, conv_reference, capsys):
    public_tests.conv_forward_test(conv_reference.conv_forward)  # no failure, whatever the load
    assert "the reference's time" in capsys.readouterr().out
    with pytest.raises(public_tests.PublicTestFailure, match="correct but slow"):
        public_tests.pool_forward_test(example_functions(ASSIGNMENT, "course_loops").pool_forward)
