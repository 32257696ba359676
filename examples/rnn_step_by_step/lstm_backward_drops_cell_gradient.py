# The classic LSTM backward bug: the gradient of the cell state is not carried from one time step
# to the one before (dnext_c is zero at every step), which cuts the cell-state path through time.
# Right only when T = 1; the grader's backward cases all have T > 1.
#
# Expected scores: lstm_backward 0, every other function full

# GRADED FUNCTION: lstm_backward
def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros(4 * H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, _, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t, :] + dprev_h, np.zeros((N, H)), cache[t]
        )
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db
