"""The graded functions of $name as plain loops, and the random inputs on which the reference
solution must agree with them (`autograder check` runs autograder.agreement on them).

Never released to students (the course ignores instructor/). Write each graded function here the
obvious way, with loops, independently of the notebook's solution, and give it a hypothesis
strategy of its (args, kwargs) in INPUTS.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


def relu(Z: np.ndarray) -> np.ndarray:
    """max(Z, 0), one element at a time."""
    A = np.zeros(Z.shape)
    for index in np.ndindex(Z.shape):
        A[index] = Z[index] if Z[index] > 0 else 0.0
    return A


@st.composite
def relu_inputs(draw) -> tuple:
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return (rng.standard_normal(shape),), {}


INPUTS = {"relu": relu_inputs()}
OUTPUTS = {"relu": ("A",)}
