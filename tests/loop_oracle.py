"""The course-style four nested loops, written for clarity only: the oracle the vectorized
reference must agree with."""

import numpy as np


def _windows(n_H, n_W, stride, f):
    for h in range(n_H):
        for w in range(n_W):
            yield h, w, slice(h * stride, h * stride + f), slice(w * stride, w * stride + f)


def conv_forward(A_prev, W, b, hparameters):
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h, w, rows, cols in _windows(n_H, n_W, stride, f):
            for c in range(n_C):
                Z[i, h, w, c] = np.sum(A_pad[i, rows, cols, :] * W[..., c]) + b[0, 0, 0, c]
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    _, n_H, n_W, _ = dZ.shape
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_pad = np.zeros_like(A_pad)
    dW = np.zeros_like(W)
    db = np.zeros((1, 1, 1, n_C))
    for i in range(m):
        for h, w, rows, cols in _windows(n_H, n_W, stride, f):
            for c in range(n_C):
                dA_pad[i, rows, cols, :] += W[..., c] * dZ[i, h, w, c]
                dW[..., c] += A_pad[i, rows, cols, :] * dZ[i, h, w, c]
                db[..., c] += dZ[i, h, w, c]
    return dA_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev, :], dW, db


def pool_forward(A_prev, hparameters, mode="max"):
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H = (n_H_prev - f) // stride + 1
    n_W = (n_W_prev - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C))
    reduce = np.max if mode == "max" else np.mean
    for i in range(m):
        for h, w, rows, cols in _windows(n_H, n_W, stride, f):
            for c in range(n_C):
                A[i, h, w, c] = reduce(A_prev[i, rows, cols, c])
    return A, (A_prev, hparameters)


def pool_backward(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros_like(A_prev)
    for i in range(m):
        for h, w, rows, cols in _windows(n_H, n_W, stride, f):
            for c in range(n_C):
                window = A_prev[i, rows, cols, c]
                if mode == "max":
                    dA_prev[i, rows, cols, c] += (window == window.max()) * dA[i, h, w, c]
                else:
                    dA_prev[i, rows, cols, c] += dA[i, h, w, c] / (f * f)
    return dA_prev
