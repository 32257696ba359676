# Backpropagation through time that only starts from the loss at the last step: the upstream
# gradient dh[:, t] of the other steps is never added. Right only when the loss is on the last
# step alone (a many-to-one network).
#
# Expected scores: rnn_backward 2, every other function full

# GRADED FUNCTION: rnn_backward
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dprev_h = dh[:, T - 1, :]
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dprev_h, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db
