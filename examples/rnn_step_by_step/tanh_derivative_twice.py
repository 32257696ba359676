# The derivative of tanh applied to the output instead of the pre-activation: since next_h is
# already tanh(a), 1 - tanh(next_h)**2 is the derivative at the wrong point (1 - next_h**2 is right).
#
# Expected scores: rnn_step_backward 0, every other function full

# GRADED FUNCTION: rnn_step_backward
def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - np.tanh(next_h) ** 2)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db
