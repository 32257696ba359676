# Right gradients, but lstm_step_backward saves memory by overwriting the cached cell state
# with its tanh: the cache it was given is no longer what lstm_step_forward stored.
#
# Expected scores: lstm_step_backward 0, every other function full

# GRADED FUNCTION: lstm_step_backward
def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c, out=next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    da_i = dc * g * i * (1 - i)
    da_f = dc * prev_c * f * (1 - f)
    da_o = dnext_h * tanh_c * o * (1 - o)
    da_g = dc * i * (1 - g**2)
    da = np.hstack([da_i, da_f, da_o, da_g])
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dprev_c = dc * f
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db
