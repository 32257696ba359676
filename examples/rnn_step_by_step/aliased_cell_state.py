# next_c starts as a name for prev_c and is updated in place: next_h and next_c are right, but the
# caller's prev_c (and the prev_c in the cache) now hold next_c, so the backward pass gets a
# wrong forget-gate gradient from this cache.
#
# Expected scores: lstm_step_forward 6, every other function full

# GRADED FUNCTION: lstm_step_forward
def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    o = sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    next_c = prev_c
    next_c *= f
    next_c += i * g
    next_h = o * np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache
