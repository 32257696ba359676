# rnn_forward stores the hidden states in a float32 array to save memory: every value is within
# 1e-7 of the right one, but float64 is asked for, and float32 keeps 7 of its 16 significant digits.
#
# Expected scores: rnn_forward 0, every other function full

# GRADED FUNCTION: rnn_forward
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.empty((N, T, H), dtype=np.float32)
    step_caches = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        step_caches.append(step_cache)
    cache = tuple(step_caches)
    return h, cache
