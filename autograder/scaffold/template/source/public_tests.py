"""Public tests for "$name".

Each exercise of the notebook ends with a cell such as ``relu_test(relu)``. A test runs your
function on the cases below, made from a random seed, and compares its outputs with
``public_tests.h5``, which the instructors computed with their own solution; ``testkit.py`` runs
the checks. Passing these tests is a good sign, not a guarantee: the grader runs more cases.
"""

from testkit import Case, Draw, Function, PublicTestFailure, Suite

FUNCTIONS = {
    "relu": Function(("Z",), ("A",)),
}

HINT = "relu keeps the positive values and sets the negative ones to 0: np.maximum(Z, 0)"

CASES = {
    "relu/vector": Case("relu", "a vector of 6 values", {"Z": (6,)}, [Draw("Z")], seed=1, hint=HINT),
    "relu/matrix": Case("relu", "a 3×4 matrix", {"Z": (3, 4)}, [Draw("Z")], seed=2, hint=HINT),
}

SUITE = Suite(
    __file__,
    assignment="$name",
    functions=FUNCTIONS,
    cases=CASES,
    mutation_advice="Return a new array instead of changing Z in place",
    shape_advice={"A": "A has the shape of Z"},
)

# One test per exercise, named after its function: relu_test(relu) (testkit.py makes them)
TESTS = SUITE.tests()
globals().update(TESTS)

__all__ = ["PublicTestFailure", *TESTS]
