# distribute_value divides by n_H + n_W: right only for a 2×2 window, where 2 + 2 = 2 · 2.
#
# Expected scores: distribute_value 0, every other function full

# GRADED FUNCTION: distribute_value
def distribute_value(dz, shape):
    (n_H, n_W) = shape
    a = np.ones(shape) * dz / (n_H + n_W)
    return a
