# A vectorized conv_forward that flips the kernel (true convolution instead of the
# cross-correlation CNNs use): symmetric tests cannot see it, asymmetric random filters can.
#
# Expected scores: conv_forward 2, every other function full

# GRADED FUNCTION: conv_forward
def conv_forward(A_prev, W, b, hparameters):
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_pad = zero_pad(A_prev, pad)
    W_flipped = W[::-1, ::-1]
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(f):
        for j in range(f):
            window = A_pad[:, i : i + stride * n_H : stride, j : j + stride * n_W : stride, :]
            Z += window @ W_flipped[i, j]
    Z += b
    cache = (A_prev, W, b, hparameters)
    return Z, cache
