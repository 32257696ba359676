# pool_backward shares out the average-pooling gradient up front with `dA /= f * f`: the right
# dA_prev, but written into the caller's dA, which the rest of backpropagation still needs.
# The correctness tests call it on inputs it cannot write, so each of them in average mode
# fails; max pooling and the runtime tests pass.
#
# Expected scores: pool_backward 13, every other function full

# GRADED FUNCTION: pool_backward
def pool_backward(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    if mode == "average":
        dA /= f * f
    dA_prev = np.zeros(A_prev.shape)
    for h in range(n_H):
        for w in range(n_W):
            rows = slice(h * stride, h * stride + f)
            cols = slice(w * stride, w * stride + f)
            if mode == "max":
                window = A_prev[:, rows, cols, :]
                mask = window == np.max(window, axis=(1, 2), keepdims=True)
                dA_prev[:, rows, cols, :] += mask * dA[:, h:h + 1, w:w + 1, :]
            else:
                dA_prev[:, rows, cols, :] += dA[:, h:h + 1, w:w + 1, :]
    return dA_prev
