# relu returns |Z| instead of max(Z, 0): right for every positive value, wrong for the negatives.
#
# Expected scores: relu 0

# GRADED FUNCTION: relu
def relu(Z):
    return np.abs(Z)
