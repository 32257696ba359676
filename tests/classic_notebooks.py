"""Notebooks laid out like the classic courses', built from the release notebook and the reference
solution, and the same code in the release's layout.

The classic deeplearning.ai notebook "Convolution model - Step by Step" never marks conv_backward,
create_mask_from_window, distribute_value and pool_backward with `# GRADED FUNCTION:` (they were
optional there), cs231n's RNN layers have no marker at all, and students delete marker lines, keep
helpers and constants in cells of their own, and leave scratch cells that plot, print and raise.

`layouts(name, buggy)` gives both notebooks of an assignment, {"release": nb, "classic": nb}, holding
the same code: the reference solution with a helper function and a constant taken out of the graded
functions (kept inside the graded cells in the release layout, in cells of their own in the
classic one), and with `buggy`, one bug in a function or helper. Each text edit checks that the
reference still reads as expected, so a changed reference fails loudly here instead of building a
notebook that tests nothing.
"""

from __future__ import annotations

import re

import nbformat
from helpers import assignment

from autograder.examples import completed_notebook
from autograder.notebook import graded_name
from autograder.reference import reference_cells

SOLUTION_MARKS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)
IMPORT_WINDOWS = "from numpy.lib.stride_tricks import sliding_window_view\n"

# The functions each classic notebook leaves without a `# GRADED FUNCTION:` line: never marked in
# the classic course (the backward passes) or the line deleted, or replaced by a comment of the
# student's.
UNMARKED = {
    "conv_step_by_step": [
        "pool_forward",
        "conv_backward",
        "create_mask_from_window",
        "distribute_value",
        "pool_backward",
    ],
    "rnn_step_by_step": [
        "rnn_step_backward",
        "rnn_forward",
        "rnn_backward",
        "lstm_step_backward",
        "lstm_backward",
    ],
}
# The functions a variant's bug is in: the only ones that may lose points.
BUGGY = {
    "conv_step_by_step": ["distribute_value"],  # a bug in the function itself
    "rnn_step_by_step": ["rnn_step_backward", "lstm_step_backward"],  # a bug in the helper they share
}

# Scratch cells: each would plot, print, raise, sleep or break the grade if the grader ran it.
SCRATCH = [
    'plt.figure()\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.title("scratch")\nplt.show()\n',
    'print("debugging", np.arange(3))\nfor step in range(3):\n    print(step)\n',
    'raise RuntimeError("scratch cell: not finished")\n',
    "assert False, 'this cell is not meant to run'\n",
    "import time\n\ntime.sleep(3600)  # a long experiment\n",
    "import sys\n\nsys.exit(1)\n",
]


def _edit(source: str, old: str, new: str, count: int = 1) -> str:
    assert source.count(old) == count, f"the reference no longer reads {old!r} {count} time(s)"
    return source.replace(old, new)


def reference_solution(name: str) -> dict[str, str]:
    return {
        function: SOLUTION_MARKS.sub("", source)
        for function, source in reference_cells(assignment(name)).items()
    }


def _code(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def _index(nb, function: str) -> int:
    return next(index for index, cell in enumerate(nb.cells) if graded_name(cell) == function)


def _unmark(source: str, replacement: str = "") -> str:
    """The cell without its marker line (or with a comment of the student's in its place)."""
    first, rest = source.split("\n", 1)
    assert first.startswith("# GRADED FUNCTION:")
    return (replacement + "\n" if replacement else "") + rest.lstrip("\n")


def _insert_after(nb, function: str, cells: list[str], skip: int = 1) -> None:
    """Insert code cells after `function`'s graded cell and the `skip` cells that follow it."""
    index = _index(nb, function) + 1 + skip
    nb.cells[index:index] = [_code(source) for source in cells]


# ---------------------------------------------------------------- conv_step_by_step

CONV_HELPERS = """\
BLOCK = 2048  # output positions per im2col block


def output_size(n, f, pad, stride):
    \"\"\"Height (or width) of a convolution's output.\"\"\"
    return (n + 2 * pad - f) // stride + 1
"""


def _conv_code(buggy: bool) -> dict[str, str]:
    """The graded functions' code, helpers left out: the reference, using output_size and BLOCK."""
    code = reference_solution("conv_step_by_step")
    forward = _edit(code["conv_forward"], IMPORT_WINDOWS, "")
    forward = _edit(
        forward, "n_H = (n_H_prev + 2 * pad - f) // stride + 1", "n_H = output_size(n_H_prev, f, pad, stride)"
    )
    forward = _edit(
        forward, "n_W = (n_W_prev + 2 * pad - f) // stride + 1", "n_W = output_size(n_W_prev, f, pad, stride)"
    )
    code["conv_forward"] = _edit(forward, "max(1, 2048 // (n_H * n_W))", "max(1, BLOCK // (n_H * n_W))")
    backward = _edit(code["conv_backward"], IMPORT_WINDOWS, "")
    code["conv_backward"] = _edit(backward, "max(1, 2048 // (n_H * n_W))", "max(1, BLOCK // (n_H * n_W))")
    if buggy:  # n_H + n_W equals n_H * n_W at 2x2 only: the public test's shape
        code["distribute_value"] = _edit(
            code["distribute_value"], "np.full(shape, dz / (n_H * n_W)", "np.full(shape, dz / (n_H + n_W)"
        )
    return code


def _with_helpers(source: str, helpers: str) -> str:
    """A graded cell holding the helpers it needs after its marker line (the release layout)."""
    first, rest = source.split("\n", 1)
    return f"{first}\n{helpers}\n\n{rest.lstrip()}"


def conv_release(buggy: bool = False):
    code = _conv_code(buggy)
    helpers = IMPORT_WINDOWS + "\n" + CONV_HELPERS
    code["conv_forward"] = _with_helpers(code["conv_forward"], helpers)
    code["conv_backward"] = _with_helpers(code["conv_backward"], IMPORT_WINDOWS + "\nBLOCK = 2048\n")
    return completed_notebook(assignment("conv_step_by_step"), code)


def conv_classic(buggy: bool = False):
    code = _conv_code(buggy)
    code["pool_forward"] = _unmark(code["pool_forward"])  # the student deleted the line
    for function in ["conv_backward", "create_mask_from_window", "distribute_value"]:
        code[function] = _unmark(code[function])  # never marked in the classic course
    code["pool_backward"] = _unmark(code["pool_backward"], "# pool_backward: my version, vectorized")
    # The classic notebook tests conv_backward in the cell that defines it.
    code["conv_backward"] += (
        "\n\nnp.random.seed(1)\nA_prev = np.random.randn(10, 4, 4, 3)\nW = np.random.randn(2, 2, 3, 8)\n"
        "b = np.random.randn(1, 1, 1, 8)\n"
        "Z, cache_conv = conv_forward(A_prev, W, b, {'pad': 2, 'stride': 2})\n"
        "dA, dW, db = conv_backward(Z, cache_conv)\nprint('dA_mean =', np.mean(dA))\n"
        "assert np.isclose(np.mean(dA), 1.4524377), 'not yet right'\n"
    )
    nb = completed_notebook(assignment("conv_step_by_step"), code)
    # Imports at the top of the notebook, helpers in a cell of their own (which also prints).
    assert nb.cells[2].source.startswith("import numpy as np")
    nb.cells[2].source += "\n" + IMPORT_WINDOWS
    nb.cells[3:3] = [_code(CONV_HELPERS + '\nprint("output_size(5, 3, 1, 2) =", output_size(5, 3, 1, 2))\n')]
    # Scratch cells: values a student tried, an earlier zero_pad that a later graded cell replaces
    # (graded zero_pad is the marked cell; conv_forward's session holds the reference zero_pad),
    # an early attempt at distribute_value (the later def is graded), plots, prints, raises.
    _insert_after(
        nb,
        "zero_pad",
        [
            "x = np.random.randn(4, 3, 3, 2)\nhparameters = {'pad': 1, 'stride': 2}\n"
            "A_prev = np.random.randn(2, 5, 7, 4)\n",
            "def zero_pad(X, pad):\n    return X  # my first try: the graded cell above is the one\n",
            *SCRATCH[:2],
        ],
    )
    _insert_after(nb, "conv_forward", SCRATCH[2:4])
    index = next(i for i, cell in enumerate(nb.cells) if cell.source.startswith("def distribute_value"))
    nb.cells[index:index] = [_code("def distribute_value(dz, shape):\n    return np.zeros(shape)  # to do\n")]
    nb.cells.extend(_code(source) for source in SCRATCH[4:])
    return nb


# ---------------------------------------------------------------- rnn_step_by_step

RNN_HELPERS = """\
EPS = 1e-8
GATES = 4  # i, f, o, g


def sigmoid(x):
    \"\"\"Numerically stable logistic sigmoid 1 / (1 + exp(-x)), element-wise.\"\"\"
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def dtanh(h):
    \"\"\"tanh'(a), from h = tanh(a).\"\"\"
    return 1.0 - h**2
"""


def _rnn_code() -> dict[str, str]:
    code = reference_solution("rnn_step_by_step")
    step = code["lstm_step_forward"]
    start, end = step.index("def sigmoid"), step.index("def lstm_step_forward")
    step = step[:start] + step[end:]  # sigmoid goes to a helper cell (or the release cell's top)
    code["lstm_step_forward"] = _edit(step, "sigmoid(a[:, : 3 * H])", "sigmoid(a[:, : (GATES - 1) * H])")
    code["rnn_step_backward"] = _edit(
        code["rnn_step_backward"], "dnext_h * (1.0 - next_h**2)", "dnext_h * dtanh(next_h)"
    )
    backward = _edit(code["lstm_step_backward"], "o * (1.0 - tanh_c**2)", "o * dtanh(tanh_c)")
    code["lstm_step_backward"] = _edit(backward, "dc * i * (1.0 - g**2)", "dc * i * dtanh(g)")
    lstm_backward = _edit(code["lstm_backward"], "np.zeros((D, 4 * H))", "np.zeros((D, GATES * H))")
    lstm_backward = _edit(lstm_backward, "np.zeros((H, 4 * H))", "np.zeros((H, GATES * H))")
    code["lstm_backward"] = _edit(lstm_backward, "np.zeros(4 * H)", "np.zeros(GATES * H)")
    return code


def _rnn_helpers(buggy: bool) -> str:
    return _edit(RNN_HELPERS, "return 1.0 - h**2", "return 1.0 - h") if buggy else RNN_HELPERS


def rnn_release(buggy: bool = False):
    code = _rnn_code()
    for function in ["lstm_step_forward", "rnn_step_backward", "lstm_step_backward", "lstm_backward"]:
        code[function] = _with_helpers(code[function], _rnn_helpers(buggy))
    return completed_notebook(assignment("rnn_step_by_step"), code)


def rnn_classic(buggy: bool = False):
    code = _rnn_code()
    for function in UNMARKED["rnn_step_by_step"]:
        code[function] = _unmark(code[function])
    nb = completed_notebook(assignment("rnn_step_by_step"), code)
    scratch = (
        "def rel_error(x, y):\n    return np.max(np.abs(x - y) / np.maximum(EPS, np.abs(x) + np.abs(y)))\n"
    )
    nb.cells[3:3] = [_code(_rnn_helpers(buggy) + "\n" + scratch + "\nprint(sigmoid(np.zeros(3)))\n")]
    # An early attempt at rnn_backward (the later def is graded), and, after the graded
    # lstm_step_forward, a wrong one of the student's: lstm_forward's session holds the reference.
    index = next(i for i, cell in enumerate(nb.cells) if cell.source.startswith("def rnn_backward"))
    nb.cells[index:index] = [_code("def rnn_backward(dh, cache):\n    raise NotImplementedError\n")]
    _insert_after(
        nb, "lstm_step_forward", ["def lstm_step_forward(*args):\n    return None  # broken on purpose\n"]
    )
    _insert_after(nb, "rnn_step_forward", SCRATCH[:3])
    nb.cells.extend(_code(source) for source in SCRATCH[3:])
    return nb


BUILDERS = {
    "conv_step_by_step": (conv_release, conv_classic),
    "rnn_step_by_step": (rnn_release, rnn_classic),
}


def layouts(name: str, buggy: bool = False) -> dict[str, nbformat.NotebookNode]:
    """The same code laid out as in the release notebook and as in the classic course."""
    release, classic = BUILDERS[name]
    return {"release": release(buggy), "classic": classic(buggy)}


def write_students(name: str, submitted) -> dict[str, tuple[str, bool]]:
    """submitted/<student>/<name>/<name>.ipynb for each layout, correct and buggy: {student: (layout,
    buggy)}."""
    students = {}
    for buggy in (False, True):
        for layout, nb in layouts(name, buggy).items():
            student = f"{layout}_{'buggy' if buggy else 'correct'}"
            path = submitted / student / name / f"{name}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
            students[student] = (layout, buggy)
    return students
