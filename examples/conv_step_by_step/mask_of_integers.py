# create_mask_from_window returns the mask as integers 0 and 1: the right positions, but not the
# boolean array the docstring asks for (and the reference returns), so it earns nothing.
#
# Expected scores: create_mask_from_window 0, every other function full

# GRADED FUNCTION: create_mask_from_window
def create_mask_from_window(x):
    mask = (x == np.max(x)).astype(int)
    return mask
