# zero_pad pads the channel axis too: pad=0 alone would hide it.
#
# Expected scores: zero_pad 0, every other function full

# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (pad, pad)), mode="constant", constant_values=(0, 0))
    return X_pad
