# pool_backward forgets the stride when locating windows; at stride 1, as in the classic
# public test, the mistake is invisible.
#
# Expected scores: pool_backward 2, every other function full

# GRADED FUNCTION: pool_backward
def pool_backward(dA, cache, mode="max"):
    (A_prev, hparameters) = cache
    f = hparameters["f"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    window = A_prev[i, h : h + f, w : w + f, c]
                    if mode == "max":
                        dA_prev[i, h : h + f, w : w + f, c] += (window == np.max(window)) * dA[i, h, w, c]
                    else:
                        dA_prev[i, h : h + f, w : w + f, c] += dA[i, h, w, c] / (f * f)
    return dA_prev
