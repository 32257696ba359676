"""The public tests students run (source/<assignment>/public_tests.py, specs on the test kit): the
committed expected values still match the reference, every public test cell of the notebook calls
a test of its spec, the reference passes them all, and wrong functions get precise messages."""

import re
import shutil

import h5py
import numpy as np
import pytest
from helpers import ASSIGNMENTS, COURSE, assignment

from autograder.notebook import read_cells
from autograder.public_fixtures import load_public_tests
from autograder.reference import load_reference
from autograder.release import ship_kit

CONV, RNN = assignment("conv_step_by_step"), assignment("rnn_step_by_step")


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def shipped(request, tmp_path_factory):
    """(spec, reference) of an assignment whose folder is laid out as the release ships it: the spec,
    its expected values, the kit and the course's limits side by side."""
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    for file in ("public_tests.py", "public_tests.h5"):
        shutil.copy(assignment(name).source_dir / file, folder / file)
    ship_kit(assignment(name), COURSE.settings(), folder)
    return load_public_tests(assignment(name), folder), load_reference(assignment(name))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_expected_values_match_the_reference(name, tmp_path):
    fresh = tmp_path / "public_tests.h5"
    load_public_tests(assignment(name)).SUITE.write_expected(load_reference(assignment(name)), fresh)
    committed = assignment(name).source_dir / "public_tests.h5"
    with h5py.File(fresh) as new, h5py.File(committed) as old:
        names = lambda file: sorted(n for n in _datasets(file) if not n.startswith("speed"))  # noqa: E731
        assert names(new) == names(old), "public_tests.h5 is stale: run python -m autograder.public_fixtures"
        for key in names(new):
            np.testing.assert_allclose(new[key][()], old[key][()], rtol=0, atol=1e-12, err_msg=key)
        assert set(old["speed"].attrs) == set(new["speed"].attrs)


def _datasets(file):
    found = []
    file.visititems(lambda name, item: found.append(name) if isinstance(item, h5py.Dataset) else None)
    return found


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_public_test_cell_calls_a_test_of_the_spec(name):
    spec = load_public_tests(assignment(name))
    cells = [
        cell["source"]
        for cell in read_cells(assignment(name).source_notebook)["cells"]
        if str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")).endswith("_public_test")
    ]
    assert cells
    for source in cells:
        call = re.fullmatch(r"(\w+)_test\((\w+)(?:, (\w+))?\)", source.strip())
        assert call, source
        function, target, forward = call.groups()
        assert f"{function}_test" in spec.__all__ and target == function
        assert (forward or "") == spec.SUITE.functions[function].forward


@pytest.mark.slow
def test_the_reference_passes_every_public_test(shipped, capsys):
    spec, reference = shipped
    for name, function in spec.SUITE.functions.items():
        forward = getattr(reference, function.forward) if function.forward else None
        getattr(spec, f"{name}_test")(getattr(reference, name), *([forward] if forward else []))
    out = capsys.readouterr().out
    assert out.count("All tests passed") == len(spec.SUITE.functions)
    assert "the reference's time" in out


def pool_forward_in_four_loops(A_prev, hparameters, mode="max"):
    """The classic course's pool_forward: a loop over examples, rows, columns and channels."""
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    A = np.zeros((m, (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1, n_C))
    for i in range(m):
        for h in range(A.shape[1]):
            for w in range(A.shape[2]):
                for c in range(n_C):
                    window = A_prev[i, h * stride : h * stride + f, w * stride : w * stride + f, c]
                    A[i, h, w, c] = np.max(window) if mode == "max" else np.mean(window)
    return A, (A_prev, hparameters)


def rnn_forward_per_example(x, h0, Wx, Wh, b):
    """rnn_forward with a loop over the examples as well as the time steps."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    caches = [[] for _ in range(T)]
    for n in range(N):
        prev_h = h0[n : n + 1]
        for t in range(T):
            prev_h = np.tanh(x[n : n + 1, t] @ Wx + prev_h @ Wh + b)
            h[n, t] = prev_h[0]
    for t in range(T):
        prev_h = h0 if t == 0 else h[:, t - 1]
        caches[t] = (x[:, t], prev_h, Wx, Wh, h[:, t])
    return h, tuple(caches)


SLOW = {
    "conv_step_by_step": ("pool_forward", pool_forward_in_four_loops),
    "rnn_step_by_step": ("rnn_forward", rnn_forward_per_example),
}


@pytest.mark.slow
def test_the_speed_check_flags_loops_the_grader_would_reject(shipped):
    spec, _ = shipped
    if spec.SUITE.assignment not in SLOW:
        pytest.skip("no slow example for this assignment")
    name, slow = SLOW[spec.SUITE.assignment]
    with pytest.raises(spec.PublicTestFailure, match=f"{name}.* is correct but far too slow"):
        getattr(spec, f"{name}_test")(slow)


def _failure(test, *functions):
    with pytest.raises(AssertionError) as failure:
        test(*functions)
    return str(failure.value)


def test_classic_mistakes_get_the_classic_numbers_and_what_they_show():
    spec, reference = load_public_tests(CONV), load_reference(CONV)

    def flipped_kernel(A_prev, W, b, hparameters):
        return reference.conv_forward(A_prev, W[::-1, ::-1], b, hparameters)

    def missing_stride(A_prev, W, b, hparameters):  # windows start at h, not h*stride
        Z, cache = reference.conv_forward(A_prev, W, b, hparameters)
        A_pad = reference.zero_pad(A_prev, hparameters["pad"])
        f = W.shape[0]
        for h in range(Z.shape[1]):
            for w in range(Z.shape[2]):
                window = A_pad[:, h : h + f, w : w + f, :, None]
                Z[:, h, w] = np.sum(window * W, axis=(1, 2, 3)) + b.reshape(-1)
        return Z, cache

    assert _failure(spec.conv_forward_test, flipped_kernel) == (
        "with the course's example (seed 1, stride=2, pad=1, 3×3 filters on 2 inputs of 5×7×4) your "
        "Z[0, 2, 1] is [-1.90325851, -5.32368406, 1.82660746, 4.62429109, -3.80968258, 3.85288122, "
        "2.46663908, 12.74073267] but should be [-2.17796037, 8.07171329, -0.5772704, 3.36286738, "
        "4.48113645, -2.89198428, 10.99288867, 3.03171932]; it matches the result with the kernel flipped "
        "(W[::-1, ::-1]): in a CNN, 'convolution' is cross-correlation, so W[h, w] multiplies the window's "
        "element [h, w], with no flip"
    )
    assert (
        "your np.mean(Z) is 0.53290332 but should be 0.55112765; it matches windows that start at row h"
        in (_failure(spec.conv_forward_test, missing_stride))
    )


def test_a_wrong_gate_order_is_caught_on_the_classic_example_and_the_gradient_check():
    spec, reference = load_public_tests(RNN), load_reference(RNN)

    def ifgo(a):  # the columns of o and g swapped: gates in the order i, f, g, o
        H = a.shape[-1] // 4
        return np.concatenate([a[..., : 2 * H], a[..., 3 * H :], a[..., 2 * H : 3 * H]], axis=-1)

    def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
        return reference.lstm_step_forward(x, prev_h, prev_c, ifgo(Wx), ifgo(Wh), ifgo(b))

    message = _failure(spec.lstm_step_forward_test, lstm_step_forward)
    assert message.startswith(
        "with the course's example (N=3, D=4, H=5, inputs from np.linspace) your next_h is "
    )
    assert "but should be [[0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904]," in message
    assert message.endswith(
        "it matches the gates read in the order i, f, g, o: the four blocks of H columns of "
        "a = x @ Wx + prev_h @ Wh + b are, in this order, i, f, o and g"
    )

    def lstm_step_backward(dnext_h, dnext_c, cache):
        dx, dprev_h, dprev_c, dWx, dWh, db = reference.lstm_step_backward(dnext_h, dnext_c, cache)
        return dx, dprev_h, dprev_c, ifgo(dWx), ifgo(dWh), ifgo(db)

    message = _failure(spec.lstm_step_backward_test, lstm_step_backward, reference.lstm_step_forward)
    assert (
        "your dWx differs from the expected values at 24 of 48 positions; the first is dWx[0, 8]" in message
    )
    assert message.endswith(
        "it stacks the gate gradients in the order i, f, g, o: stack them as i, f, o, g, the order of the "
        "blocks of a"
    )
