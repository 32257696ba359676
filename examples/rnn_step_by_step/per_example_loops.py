# One example at a time: every function loops over the examples of the minibatch (and the
# sequence functions over the time steps inside that), calling the step functions on single
# examples. Correct everywhere: it earns every correctness point and no runtime point.
#
# Expected scores: rnn_forward 8, rnn_backward 11, lstm_forward 8, lstm_backward 12, every other function full

# GRADED FUNCTION: rnn_step_forward
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    N, H = prev_h.shape
    next_h = np.zeros((N, H))
    for n in range(N):
        next_h[n] = np.tanh(x[n] @ Wx + prev_h[n] @ Wh + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


# GRADED FUNCTION: rnn_step_backward
def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dx = np.zeros(x.shape)
    dprev_h = np.zeros(prev_h.shape)
    dWx = np.zeros(Wx.shape)
    dWh = np.zeros(Wh.shape)
    db = np.zeros(Wh.shape[1])
    for n in range(x.shape[0]):
        da = dnext_h[n] * (1 - next_h[n] ** 2)
        dx[n] = Wx @ da
        dprev_h[n] = Wh @ da
        dWx += np.outer(x[n], da)
        dWh += np.outer(prev_h[n], da)
        db += da
    return dx, dprev_h, dWx, dWh, db


# GRADED FUNCTION: rnn_forward
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    for n in range(N):
        prev_h = h0[n : n + 1]
        for t in range(T):
            prev_h, _ = rnn_step_forward(x[n : n + 1, t, :], prev_h, Wx, Wh, b)
            h[n, t] = prev_h[0]
    step_caches = []
    for t in range(T):
        prev_h = h0 if t == 0 else h[:, t - 1, :]
        step_caches.append((x[:, t, :], prev_h, Wx, Wh, h[:, t, :]))
    cache = tuple(step_caches)
    return h, cache


# GRADED FUNCTION: rnn_backward
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dh0 = np.zeros((N, H))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    for n in range(N):
        dprev_h = np.zeros((1, H))
        for t in reversed(range(T)):
            x_t, prev_h, Wx, Wh, next_h = cache[t]
            one = (x_t[n : n + 1], prev_h[n : n + 1], Wx, Wh, next_h[n : n + 1])
            dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[n : n + 1, t, :] + dprev_h, one)
            dx[n, t] = dx_t[0]
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        dh0[n] = dprev_h[0]
    return dx, dh0, dWx, dWh, db


# GRADED FUNCTION: lstm_step_forward
def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    N, H = prev_h.shape
    i, f, o, g = (np.zeros((N, H)) for _ in range(4))
    next_c = np.zeros((N, H))
    next_h = np.zeros((N, H))
    for n in range(N):
        a = x[n] @ Wx + prev_h[n] @ Wh + b
        i[n] = sigmoid(a[:H])
        f[n] = sigmoid(a[H : 2 * H])
        o[n] = sigmoid(a[2 * H : 3 * H])
        g[n] = np.tanh(a[3 * H :])
        next_c[n] = f[n] * prev_c[n] + i[n] * g[n]
        next_h[n] = o[n] * np.tanh(next_c[n])
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


# GRADED FUNCTION: lstm_step_backward
def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    dx = np.zeros(x.shape)
    dprev_h = np.zeros(prev_h.shape)
    dprev_c = np.zeros(prev_c.shape)
    dWx = np.zeros(Wx.shape)
    dWh = np.zeros(Wh.shape)
    db = np.zeros(Wx.shape[1])
    for n in range(x.shape[0]):
        tanh_c = np.tanh(next_c[n])
        dc = dnext_c[n] + dnext_h[n] * o[n] * (1 - tanh_c**2)
        da = np.concatenate(
            [
                dc * g[n] * i[n] * (1 - i[n]),
                dc * prev_c[n] * f[n] * (1 - f[n]),
                dnext_h[n] * tanh_c * o[n] * (1 - o[n]),
                dc * i[n] * (1 - g[n] ** 2),
            ]
        )
        dx[n] = Wx @ da
        dprev_h[n] = Wh @ da
        dprev_c[n] = dc * f[n]
        dWx += np.outer(x[n], da)
        dWh += np.outer(prev_h[n], da)
        db += da
    return dx, dprev_h, dprev_c, dWx, dWh, db


# GRADED FUNCTION: lstm_forward
def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    pieces = [[] for _ in range(T)]  # pieces[t][n]: the step cache of example n at time t
    for n in range(N):
        prev_h, prev_c = h0[n : n + 1], np.zeros((1, H))
        for t in range(T):
            prev_h, prev_c, step = lstm_step_forward(x[n : n + 1, t, :], prev_h, prev_c, Wx, Wh, b)
            h[n, t] = prev_h[0]
            pieces[t].append(step)
    step_caches = []
    for t in range(T):
        fields = []
        for k in range(10):
            if k in (3, 4):  # Wx and Wh are shared
                fields.append(pieces[t][0][k])
            else:
                fields.append(np.concatenate([step[k] for step in pieces[t]]))
        step_caches.append(tuple(fields))
    cache = tuple(step_caches)
    return h, cache


# GRADED FUNCTION: lstm_backward
def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dh0 = np.zeros((N, H))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros(4 * H)
    for n in range(N):
        dprev_h = np.zeros((1, H))
        dprev_c = np.zeros((1, H))
        for t in reversed(range(T)):
            one = tuple(v if k in (3, 4) else v[n : n + 1] for k, v in enumerate(cache[t]))
            dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
                dh[n : n + 1, t, :] + dprev_h, dprev_c, one
            )
            dx[n, t] = dx_t[0]
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        dh0[n] = dprev_h[0]
    return dx, dh0, dWx, dWh, db
