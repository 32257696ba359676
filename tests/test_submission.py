"""What of a notebook gets graded (autograder.submission), and that notebooks laid out like the
classic courses' grade as the same code does in the release notebook.

* A graded function is its graded cell, or where there is none its last top-level `def` in a code
  cell, and the results say so once for that function. A `def` in a markdown cell, a string or a
  block does not count.
* Helpers, constants and imports of non-graded cells are available to the graded cells that use
  them, and nothing else of those cells runs: no plot, print, raise, decorator, default value that
  calls code, class body or constant that is a call.
* No helper is named like a graded function: a scratch `def zero_pad` never replaces the reference
  zero_pad a session holds for conv_forward, so a bug costs points only in its own function.
* Parsing stays bounded whatever the notebook holds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from classic_notebooks import BUGGY, BUILDERS, UNMARKED, write_students
from helpers import assignment, grade_folder

from autograder.notebook import graded_cells
from autograder.reference import reference_cells
from autograder.results import SubmissionResult
from autograder.spec import read_spec
from autograder.student import StudentError, StudentFunctions, session_cells
from autograder.submission import (
    MAX_DEFINITIONS,
    Submission,
    load_submission,
    notebook_code,
    session_prelude,
    submission_digest,
)

ZERO_PAD = (
    "# GRADED FUNCTION: zero_pad\ndef zero_pad(X, pad):\n"
    "    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))\n"
)
GRADED = ("zero_pad", "conv_forward", "conv_backward", "distribute_value", "pool_backward")


def cells(*sources: str, kind: str = "code") -> dict:
    return {"cells": [{"cell_type": kind, "source": source} for source in sources]}


def write(tmp_path: Path, nb: dict, name: str = "submission.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"cells": [{"metadata": {}, **cell} for cell in nb["cells"]]}))
    return path


def helpers_of(*sources: str) -> list[str]:
    return list(notebook_code(cells(*sources)).helpers)


# ---------------------------------------------------------------- finding the graded functions


def test_a_function_without_a_graded_cell_is_graded_from_its_last_def_with_a_note(tmp_path):
    nb = cells(
        "import numpy as np",
        "def conv_backward(dZ, cache):\n    return None  # a first try\n",
        ZERO_PAD,
        "print('scratch')\n\n\ndef conv_backward(dZ, cache):\n    return dZ, 1, 2\n\n\nconv_backward(1, 2)\n",
    )
    submission = load_submission("s", write(tmp_path, nb), GRADED)
    assert submission.cells["zero_pad"] == ZERO_PAD
    # The def alone, on the lines it has in its cell: feedback's line numbers are the cell's.
    assert submission.cells["conv_backward"] == "\n\n\ndef conv_backward(dZ, cache):\n    return dZ, 1, 2\n"
    assert submission.notes == {
        "conv_backward": "conv_backward was graded from the `def conv_backward` in cell 4: no cell starts "
        "with '# GRADED FUNCTION: conv_backward'"
    }
    assert "conv_forward" not in submission.cells  # neither marked nor defined


def test_a_graded_cell_wins_over_any_def_and_a_def_may_be_in_another_graded_cell(tmp_path):
    nb = cells(
        ZERO_PAD,
        "def zero_pad(X, pad):\n    return X  # later, but the graded cell above is graded\n",
        "# GRADED FUNCTION: pool_backward\ndef distribute_value(dz, shape):\n    return dz\n\n\n"
        "def pool_backward(dA, cache, mode='max'):\n    return dA\n",
    )
    submission = load_submission("s", write(tmp_path, nb), GRADED)
    assert submission.cells["zero_pad"] == ZERO_PAD
    assert submission.cells["distribute_value"] == "\ndef distribute_value(dz, shape):\n    return dz\n"
    assert list(submission.notes) == ["distribute_value"]
    assert "cell 3" in submission.notes["distribute_value"]


@pytest.mark.parametrize(
    "nb",
    [
        cells("def conv_backward(dZ, cache):\n    return dZ\n", kind="markdown"),
        cells("def conv_backward(dZ, cache):\n    return dZ\n", kind="raw"),
        cells('SOLUTION = """\ndef conv_backward(dZ, cache):\n    return dZ\n"""\nexec(SOLUTION)\n'),
        cells("if True:\n    def conv_backward(dZ, cache):\n        return dZ\n"),
        cells("def outer():\n    def conv_backward(dZ, cache):\n        return dZ\n"),
        cells("class Layer:\n    def conv_backward(self, dZ, cache):\n        return dZ\n"),
        cells("conv_backward = lambda dZ, cache: dZ\n"),
        cells("def conv_backward(dZ, cache)\n    return dZ\n"),  # a syntax error: the cell defines nothing
    ],
    ids=["markdown", "raw", "string", "block", "nested", "method", "lambda", "syntax_error"],
)
def test_only_a_top_level_def_of_a_code_cell_counts(tmp_path, nb):
    submission = load_submission("s", write(tmp_path, nb), GRADED)
    assert submission.cells == {} and submission.notes == {}


def test_the_digest_covers_what_grading_uses_and_nothing_else():
    base = [
        "import numpy as np",
        "EPS = 1e-8\nplt.plot([1])\n",
        "def conv_backward(dZ, cache):\n    return dZ\n",
    ]
    digest = submission_digest(cells(*base))
    assert digest == submission_digest(cells(base[0], "EPS = 1e-8\nplt.plot([2, 3])\n", base[2]))
    assert digest != submission_digest(cells(base[0], "EPS = 1e-9\nplt.plot([1])\n", base[2]))
    assert digest != submission_digest(cells(*base[:2], "def conv_backward(dZ, cache):\n    return 2 * dZ\n"))
    assert digest != submission_digest(cells(*base[:2], "\n" + base[2]))  # its line numbers


def test_the_digest_does_not_depend_on_the_functions_asked_for(tmp_path):
    nb = cells(ZERO_PAD, "def conv_backward(dZ, cache):\n    return dZ\n")
    path = write(tmp_path, nb)
    assert (
        load_submission("s", path, GRADED).digest
        == load_submission("s", path).digest
        == submission_digest(nb)
    )


# ---------------------------------------------------------------- what a helper cell provides


@pytest.mark.parametrize(
    "source",
    [
        "EPS = 1e-8",
        "GATES: int = 4",
        "A = B = (1, 2.5, 'max', None, True, b'x', ...)",
        "TABLE = {'pad': 1, 'stride': [2, -3], 'f': {4, 5}}",
        "N = 2 ** 10 // 3 % 7 + (1 if 2 > 1 else 0) - ~1",
        "KERNEL = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]) / 9",
        "TINY = np.finfo(np.float64).eps * 10",
        "X = np.random.default_rng(0).standard_normal((2, 3)).T[:, 1:]",
        "NORM = np.linalg.norm([3.0, 4.0])",
        "SIZES = tuple(range(3)) + (max(1, 2), round(2.5), float('inf'), len('abc'))",
        "DTYPE = np.zeros(3, dtype=float).dtype",
    ],
)
def test_a_constant_of_plain_values_is_taken(source):
    name = source.split(" ", 1)[0].rstrip(":")
    assert name in helpers_of(source)


@pytest.mark.parametrize(
    "source",
    [
        "X = load_data()",  # a call of the student's
        "X = open('/etc/passwd').read()",
        "X = print('hi')",
        "X = __import__('os').system('true')",
        "X = eval('1')",
        "X = max([1], key=print)",  # a builtin that is not data
        "X = np.load('data.npy')",  # numpy's files, printing, testing and global state
        "X = np.save('x', 1)",
        "X = np.random.seed(1)",
        "X = np.set_printoptions(precision=3)",
        "X = np.testing.assert_allclose(1, 2)",
        "X = np.lib.stride_tricks.sliding_window_view",
        "X = np.ma.core.builtins",  # deeper than np.a.b: the modules numpy imports
        "X = np.zeros(3).tofile('x')",
        "X = ().__class__.__base__.__subclasses__()",
        "X = [*range(3)]",
        "X = {**{}}",
        "X = [i for i in range(3)]",
        "X = f'{1}'",
        "X = (y := 3)",
        "X = -" + "-" * 200 + "1",  # deeper than MAX_PLAIN_DEPTH
    ],
)
def test_a_value_that_runs_code_is_no_constant(source):
    assert "X" not in helpers_of(source)


def test_helper_functions_are_undecorated_defs_and_lambdas_with_plain_defaults():
    source = """\
EPS = 1e-8

def sigmoid(x: np.ndarray, eps: float = EPS) -> np.ndarray:
    return 1 / (1 + np.exp(-x)) + eps

relu = lambda x, floor=0.0: np.maximum(x, floor)

@functools.lru_cache
def cached(x):
    return x

def plants(x, _=open("/tmp/planted", "w")):
    return x

def calls_mine(x, y=sigmoid(1)):
    return x

async def later(x):
    return x

class Layer:
    print("defined")
"""
    assert helpers_of(source) == ["EPS", "sigmoid", "relu"]
    code = notebook_code(cells(source)).helpers["sigmoid"].code
    assert "np.ndarray" not in code and "try:" in code  # annotations dropped, each guarded


def test_the_last_binding_of_a_name_wins():
    assert helpers_of("X = 1", "X = compute()") == []
    assert helpers_of("X = compute()", "X = 1") == ["X"]
    assert helpers_of("def f(x):\n    return x", "f = wrap(f)") == []
    assert helpers_of("D = {'a': 1}", "D['a'] = 2") == []  # changed in place
    assert helpers_of("S = 1", "for S in range(3):\n    pass") == []
    assert helpers_of("M = 1", "with open('x') as M:\n    pass") == []
    assert helpers_of("E = 1", "import numpy as E") == []  # the import binds it
    assert helpers_of("X = 1", "del X") == []
    assert helpers_of("a, b = 1, 2", "a, b = b, a") == []  # not one at a time


def test_a_constant_reads_only_constants_defined_before_it():
    assert helpers_of("A = 2", "B = A * 3") == ["A", "B"]
    assert helpers_of("B = A * 3", "A = 2") == ["A"]
    assert helpers_of("def f(x):\n    return x", "G = f") == ["f"]  # a function is no value
    assert helpers_of("from os import system", "X = system") == []  # nor is what an import binds
    assert helpers_of("from os import system as float", "X = float(1)") == []
    assert helpers_of("import os as np", "X = np.zeros(3)") == []
    assert helpers_of("import numpy as np", "import numpy.linalg", "X = np.zeros(3)") == ["X"]


def test_names_the_sandbox_and_the_guards_rely_on_are_never_taken():
    taken = helpers_of(
        "np = None\nnumpy = 1\n__builtins__ = {}\n__name__ = 'x'\nprint = None\nException = None\nrange = 3\n"
        "def len(x):\n    return 0\n"
        "STUDENT_CELL = 'x'\ndef load(request):\n    return None\n"
    )
    assert taken == ["STUDENT_CELL", "load"]  # names of the worker's module, not of the session


def test_imports_helpers_and_constants_of_graded_cells_are_their_own():
    nb = cells("# GRADED FUNCTION: zero_pad\nimport math\nEPS = 1e-8\ndef helper(x):\n    return x\n")
    code = notebook_code(nb)
    assert code.helpers == {} and code.imports == "" and list(code.functions) == ["helper"]


# ---------------------------------------------------------------- what a session holds


NOTEBOOK = cells(
    "import numpy as np\nimport math\nimport matplotlib.pyplot as plt\n",
    "EPS = 1e-8\nSCALE = 2 * EPS\nUNUSED = 3\n",
    "def scaled(x):\n    return x * SCALE + math.pi\n\n\ndef unused(x):\n    return plt.plot(x)\n",
    "def zero_pad(X, pad):\n    return X  # a first try\n\n\nconv_forward = None\n",
)


def test_a_session_holds_the_helpers_its_cell_uses_transitively_and_no_graded_name():
    code = notebook_code(NOTEBOOK)
    cell = (
        "# GRADED FUNCTION: conv_forward\ndef conv_forward(A, W, b, h):\n    return scaled(zero_pad(A, 1))\n"
    )
    prelude = session_prelude(cell, code.imports, code.helpers, {"zero_pad", "conv_forward"})
    assert "import math" in prelude and "import numpy" not in prelude and "plt" not in prelude
    assert "EPS = 1e-08" in prelude and "SCALE = 2 * EPS" in prelude and "def scaled(x)" in prelude
    assert "UNUSED" not in prelude and "unused" not in prelude and "def zero_pad" not in prelude
    assert prelude.index("SCALE =") < prelude.index("def scaled")  # constants first
    references = reference_cells(assignment("conv_step_by_step"))
    session = session_cells("conv_forward", cell, references, ("zero_pad",), code.imports, code.helpers)
    assert session == [prelude, references["zero_pad"], cell]  # helpers before the references


def call_in_session(sandbox, graded: dict[str, str], name: str, *args, may_call=()):
    """Call `name` of a submission with these graded cells and NOTEBOOK's other cells, in a session
    holding the references `may_call` (or the StudentError it raises)."""
    references = reference_cells(assignment("conv_step_by_step"))
    code = notebook_code(NOTEBOOK)
    submission = Submission("s", Path("s.ipynb"), graded, code.imports, "", code.helpers)
    student = StudentFunctions(submission, {**references, **graded}, sandbox, may_call={name: may_call})
    try:
        return student.call(name, args, {}).value
    except StudentError as error:
        return error
    finally:
        student.close()


def test_a_helper_named_like_a_graded_function_never_replaces_its_reference(sandbox):
    cell = "# GRADED FUNCTION: conv_forward\ndef conv_forward(A, W, b, h):\n"
    cell += "    return zero_pad(A, 1).shape, scaled(1.0)\n"
    shape, value = call_in_session(
        sandbox,
        {"conv_forward": cell},
        "conv_forward",
        np.ones((1, 2, 2, 1)),
        0,
        0,
        0,
        may_call=("zero_pad",),
    )
    assert tuple(shape) == (1, 4, 4, 1)  # the reference pads, the notebook's `def zero_pad` does not
    assert value == pytest.approx(2e-8 + np.pi)  # the helper, its constants and its import
    # Without the reference, the notebook's zero_pad is not there either, nor is `conv_forward = None`.
    cell = (
        "# GRADED FUNCTION: distribute_value\ndef distribute_value(dz, shape):\n    return zero_pad(dz, 1)\n"
    )
    error = call_in_session(
        sandbox, {"distribute_value": cell}, "distribute_value", np.ones((1, 1, 1, 1)), (1, 1)
    )
    assert "NameError" in str(error) and "zero_pad" in str(error)
    cell = "# GRADED FUNCTION: distribute_value\ndef distribute_value(dz, shape):\n    return conv_forward\n"
    error = call_in_session(sandbox, {"distribute_value": cell}, "distribute_value", 1.0, (1, 1))
    assert "NameError" in str(error) and "conv_forward" in str(error)


SIDE_EFFECTS = cells(
    "import os\nimport numpy as np\n",
    "MARK = '/tmp/side-effect'\nBROKEN = 1 / 0\nFINE = 2\n"
    "os.makedirs(MARK, exist_ok=True)\nraise SystemExit('scratch')\n",
    "def uses_broken(x):\n    return x + BROKEN\n\n\ndef fine(x, k=FINE):\n    return x * k\n\n\n"
    "@print\ndef decorated(x):\n    return x\n\n\nclass Helper:\n    os.kill(os.getppid(), 9)\n",
)


def test_nothing_else_of_a_helper_cell_runs_and_a_failing_constant_is_only_undefined(sandbox):
    cell = (
        "# GRADED FUNCTION: distribute_value\ndef distribute_value(dz, shape):\n"
        "    uses = lambda: (MARK, BROKEN, FINE, uses_broken, fine, decorated, Helper, os)\n"
        "    names = ['MARK', 'BROKEN', 'FINE', 'uses_broken', 'fine', 'decorated', 'Helper', 'os']\n"
        "    return sorted(name for name in names if name in globals()), fine(dz), os.path.exists(MARK)\n"
    )
    code = notebook_code(SIDE_EFFECTS)
    submission = Submission("s", Path("s.ipynb"), {"distribute_value": cell}, code.imports, "", code.helpers)
    student = StudentFunctions(submission, {"distribute_value": ""}, sandbox)
    try:
        names, doubled, made = student.distribute_value(1.5, (2, 2))
    finally:
        student.close()
    assert list(names) == ["FINE", "MARK", "fine", "os", "uses_broken"] and doubled == 3.0 and not made


def test_a_function_graded_from_its_def_runs_alone_with_its_cells_line_numbers(tmp_path, sandbox):
    nb = cells(
        "import numpy as np",
        "raise SystemExit('scratch')\n\n\ndef distribute_value(dz, shape):\n    n_H, n_W = shape\n"
        "    return np.full(shape, dz / (n_H * n_W)) if dz >= 0 else {}['negative']\n\n\n"
        "distribute_value(2, (2, 2))\nraise SystemExit('not finished')\n",
    )
    submission = load_submission("s", write(tmp_path, nb), ["distribute_value"])
    student = StudentFunctions(submission, {"distribute_value": ""}, sandbox)
    try:
        assert student.distribute_value(2.0, (2, 4)).tolist() == [[0.25] * 4] * 2
        with pytest.raises(StudentError, match="raised KeyError at line 6 of its cell"):
            student.distribute_value(-1.0, (2, 2))
    finally:
        student.close()


# ---------------------------------------------------------------- bounds

BOUNDED_LOAD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20))
from autograder.submission import load_submission, session_prelude
started = time.process_time()
submission = load_submission("s", sys.argv[1], ["zero_pad"])
loaded = time.process_time() - started
prelude = session_prelude(submission.cells["zero_pad"], submission.imports, submission.helpers, {"zero_pad"})
print(json.dumps([len(submission.helpers), loaded, time.process_time() - started - loaded, len(prelude)]))
"""


@pytest.mark.parametrize(
    "scratch",
    [
        [f"def h{i}(x, e=1e-8):\n    return x + {i} * e\n" for i in range(10_000)],  # a cell each
        ["".join(f"def h{i}_{j}(x):\n    return x\n" for j in range(2200)) for i in range(4)],
        ["".join(f"h{i}_{j} = np.array([[1, 2], [3, 4]]).T * {j}\n" for j in range(1400)) for i in range(4)],
        ["a0" + "".join(f", a{j}" for j in range(1, 6000)) + " = " + ", ".join(["1"] * 6000)],
        ["def f(x):\n" + "".join(f"    y{j} = x[{j}] + f(y{j - 1}) * np.sum(x)\n" for j in range(1500))] * 4,
        ["def f():\n    return " + "-" * 900 + "1\nx = " + "[" * 150 + "]" * 150 + "\n"] * 50,
    ],
    ids=["10000_defs", "packed_defs", "packed_constants", "one_huge_unpacking", "long_bodies", "deep"],
)
def test_a_notebook_of_many_definitions_costs_little(tmp_path, scratch):
    names = ", ".join(
        [f"h{i}" for i in range(10_000)] + [f"a{j}" for j in range(6000)] + [f"h1_{j}" for j in range(2200)]
    )
    graded = ZERO_PAD + f"    _ = [{names}]\n"  # uses every name it could
    path = write(tmp_path, cells(*scratch, graded))
    completed = subprocess.run(
        [sys.executable, "-c", BOUNDED_LOAD, str(path)], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr[-500:]
    helpers, loading, prelude_seconds, prelude_chars = json.loads(completed.stdout)
    assert helpers <= MAX_DEFINITIONS and loading < 1.0 and prelude_seconds < 0.5
    assert prelude_chars < MAX_DEFINITIONS * 200


# ---------------------------------------------------------------- classic notebooks grade fairly


@pytest.fixture(scope="module")
def classic(tmp_path_factory):
    """Both assignments' classic and release layouts, correct and buggy, graded in one batch each."""
    graded = {}
    for name in BUILDERS:
        submitted = tmp_path_factory.mktemp(f"{name}_submitted")
        out = tmp_path_factory.mktemp(f"{name}_out")
        students = write_students(name, submitted)
        results = {result.student_id: result for result in grade_folder(assignment(name), submitted, out)}
        graded[name] = students, results, out
    return graded


def scores(result: SubmissionResult) -> dict[str, float]:
    return {name: score for name, (score, _) in result.by_function().items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUILDERS))
def test_a_classic_notebook_scores_what_the_same_code_does_in_the_release_layout(classic, name):
    _, results, _ = classic[name]
    full = {function: spec.points for function, spec in read_spec(assignment(name)).functions.items()}
    assert scores(results["release_correct"]) == full
    assert scores(results["classic_correct"]) == full
    assert scores(results["classic_buggy"]) == scores(results["release_buggy"])
    lost = [
        function for function, score in scores(results["classic_buggy"]).items() if score < full[function]
    ]
    assert lost == BUGGY[name]  # a bug costs points only in the functions it is in


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUILDERS))
def test_the_results_say_once_which_functions_were_graded_from_their_def(classic, name):
    _, results, out = classic[name]
    assert results["release_correct"].notes == {}
    notes = results["classic_correct"].notes
    assert list(notes) == UNMARKED[name]
    for function, note in notes.items():
        assert note.startswith(f"{function} was graded from the `def {function}` in cell ")
    output = json.loads((out / "classic_correct" / "results.json").read_text())["output"]
    assert all(output.count(note) == 1 for note in notes.values())
    assert not any(
        "graded from" in test["output"]
        for test in json.loads((out / "classic_correct" / "results.json").read_text())["tests"]
    )


def test_the_classic_fixtures_are_what_they_claim(tmp_path):
    """The classic layout lacks the markers it should, and the release layout has them all."""
    for name in BUILDERS:
        students = write_students(name, tmp_path / name)
        functions = list(read_spec(assignment(name)).functions)
        for student, (layout, _) in students.items():
            nb = nbformat.read(tmp_path / name / student / name / f"{name}.ipynb", as_version=4)
            marked = set(graded_cells(nb))
            expected = set(functions) - (set(UNMARKED[name]) if layout == "classic" else set())
            assert marked == expected, (name, student)
