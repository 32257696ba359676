# Tricks that fool graders which run student code in their own process: disabling numpy's
# comparisons, freezing the clock, reading expected values from the caller's frame, and the
# public test's published answer hard-coded.
#
# Expected scores: conv_single_step 0, every other function full

# GRADED FUNCTION: conv_single_step
import sys
import time

import numpy as np

np.testing.assert_allclose = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
time.perf_counter = lambda: 0.0
time.process_time = lambda: 0.0


def conv_single_step(a_slice_prev, W, b):
    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, float):
                return value
        frame = frame.f_back
    return -6.999089450680221
