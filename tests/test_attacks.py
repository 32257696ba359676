"""Attacks on the whole grading pipeline, by students who have read the grader's source.

The attacks are data: tests/attacks/*.toml (the format is described in tests/attacks/README.md).
Each attack is one student: the release notebook completed with the reference solution, except one
graded cell (the attacked function) that holds the attack. All of them, and honest controls, are
graded in ONE batch on two grading processes, and for every student we assert:

* the attacked function earns what its file says it `keeps` (0 unless stated): an attack never
  computes the right answer, it only cheats; the exceptions earn exactly what they deserve;
* every other function keeps its full score (a bug or an attack costs points only in its own cell),
  and the maximum stays 100;
* every student has a row in grades.csv and a results.json with the real score;
* the batch finishes in reasonable time (no attack makes its own grading much slower than an
  honest submission's, beyond the call timeout of an attack that `hangs`), no file outside the
  sandbox changes, no process survives;
* every feedback line of the attacked function says what `feedback_contains`: it proves the attempt
  failed (an attack that reports its own failure raises an exception saying so), not merely that a
  wrong answer came back.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import pytest
from helpers import assignment, grade_folder

from autograder.examples import completed_notebook
from autograder.grade import GradingContext, grade_submission
from autograder.notebook import graded_name
from autograder.reference import reference_cells
from autograder.results import SubmissionResult
from autograder.sandbox import Sandbox, wire
from autograder.settings import default_policy
from autograder.spec import read_spec
from autograder.student import StudentError, StudentFunctions
from autograder.submission import Submission

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli before Python 3.11
    import tomli as tomllib

pytestmark = pytest.mark.slow

CONV = assignment("conv_step_by_step")
# A function that hung once fails its remaining tests at once: a hanging attack costs one call
# timeout. Besides this backstop, each student's own grading time is compared with the controls'.
BATCH_SECONDS = 240
CALL_TIMEOUT_SECONDS = 10

# ---------------------------------------------------------------- notebook edits an attack names


def inflate_metadata(nb, reference):
    for cell in nb.cells:
        grading = cell.get("metadata", {}).get("nbgrader")
        if graded_name(cell) == "conv_single_step":
            cell.metadata["nbgrader"] = {
                **grading,
                "grade": True,
                "points": 1000,
                "grade_id": "conv_single_step_hidden_tests",
                "locked": True,
            }
        elif grading and grading.get("grade"):
            grading["points"] = 1000


def add_fake_cells(nb, reference):
    """Cells claiming to be the graded conv_forward (reference code inside) that are not graded cells:
    markdown and raw cells with the marker line, and a code cell with the graded cell's metadata."""
    index = next(i for i, cell in enumerate(nb.cells) if graded_name(cell) == "conv_forward")
    claim = {**nb.cells[index].metadata.get("nbgrader", {}), "grade": True, "points": 1000, "solution": True}
    code = nbformat.v4.new_code_cell(
        "# conv_forward, the one to grade (see this cell's metadata)\n" + reference["conv_forward"]
    )
    code.metadata["nbgrader"] = claim
    fakes = [
        nbformat.v4.new_markdown_cell(reference["conv_forward"]),
        nbformat.v4.new_raw_cell(reference["conv_forward"]),
    ]
    nb.cells[index + 1 : index + 1] = [*fakes, code]


def delete_metadata(nb, reference):
    nb.metadata = nbformat.NotebookNode()
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode()


EDITS = {edit.__name__: edit for edit in (inflate_metadata, add_fake_cells, delete_metadata)}

# ---------------------------------------------------------------- loading the attack files

ATTACK_FILES = Path(__file__).parent / "attacks"
PLACEHOLDERS = {"@COURSE@", "@SUBMITTED@", "@OUT@", "@MARKER@", "@REFERENCE@"}
NOT_GRADED = "none"  # an attack's `function` when its cell is a cell of its own, not a graded one


class AttackFileError(ValueError):
    """A file of tests/attacks/ that does not say exactly what the harness needs."""


@dataclass(frozen=True)
class Attack:  # the keys of an [[attack]] table (see tests/attacks/README.md)
    name: str
    function: str
    cell: str
    keeps: int = 0
    feedback_contains: list[str] = field(default_factory=list)
    hangs: bool = False
    correct_but_slow: bool = False
    edit: str = ""
    other_cells: dict[str, str] = field(default_factory=dict)
    helper_cells: list[str] = field(default_factory=list)


@dataclass
class Suite:
    full_marks: dict[str, float] = field(default_factory=dict)  # the source notebook's points
    controls: list[str] = field(default_factory=list)
    attacks: dict[str, Attack] = field(default_factory=dict)
    direct: dict[str, str] = field(default_factory=dict)


def _checked(where: str, table: dict, spec: dict[str, tuple[type, bool]]) -> dict:
    """`table`, once every key is known to `spec` {key: (type, required)} and of its type, and none
    required is missing."""
    for key in sorted(table.keys() - spec.keys()):
        raise AttackFileError(f"{where}: unknown key {key!r} (known: {', '.join(spec)})")
    for key, (kind, required) in spec.items():
        if required and key not in table:
            raise AttackFileError(f"{where}: missing {key!r}")
        if key in table and type(table[key]) is not kind:  # not isinstance: True is no int here
            raise AttackFileError(f"{where}: {key!r} must be of type {kind.__name__}, not {table[key]!r}")
    return table


FILE_KEYS = {
    "control": (list, False),
    "attack": (list, False),
    "direct": (dict, False),
}
CONTROL_KEYS = {"name": (str, True)}
ATTACK_KEYS = {
    "name": (str, True),
    "function": (str, True),
    "cell": (str, True),
    "keeps": (int, False),
    "feedback_contains": (list, False),
    "hangs": (bool, False),
    "correct_but_slow": (bool, False),
    "edit": (str, False),
    "other_cells": (dict, False),
    "helper_cells": (list, False),
}


def _attack(where: str, table: dict, full_marks: dict[str, float]) -> Attack:
    attack = Attack(**_checked(where, table, ATTACK_KEYS))
    known = [*full_marks, NOT_GRADED]
    if attack.function not in known:
        raise AttackFileError(f"{where}: unknown function {attack.function!r} (known: {', '.join(known)})")
    if not 0 <= attack.keeps <= full_marks.get(attack.function, 0):
        raise AttackFileError(f"{where}: keeps {attack.keeps} is not a score of {attack.function}")
    says = attack.feedback_contains
    if "feedback_contains" in table and not (says and all(type(text) is str and text for text in says)):
        raise AttackFileError(f"{where}: feedback_contains must list texts, not {says!r}")
    if attack.edit and attack.edit not in EDITS:
        raise AttackFileError(f"{where}: unknown edit {attack.edit!r} (known: {', '.join(EDITS)})")
    for function, text in attack.other_cells.items():
        if function not in full_marks or function == attack.function or type(text) is not str:
            raise AttackFileError(f"{where}: other_cells: {function!r} is not another graded function's cell")
    if not all(type(text) is str for text in attack.helper_cells):
        raise AttackFileError(f"{where}: helper_cells must list the sources of code cells")
    texts = [attack.cell, *attack.other_cells.values(), *attack.helper_cells]
    unknown = {found for text in texts for found in re.findall(r"@[A-Z_]+@", text)} - PLACEHOLDERS
    if unknown:
        raise AttackFileError(f"{where}: unknown placeholder {', '.join(sorted(unknown))}")
    return attack


def load_suite(folder: Path, full_marks: dict[str, float]) -> Suite:
    """Every control, attack and direct cell of folder/*.toml, for the graded functions and points
    `full_marks`; AttackFileError on anything amiss."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.name == "README.md":
            continue
        if path.suffix != ".toml":
            raise AttackFileError(f"{path.name}: not a .toml file: its attacks would never run")
        try:
            files[path.name] = _checked(path.name, tomllib.loads(path.read_text()), FILE_KEYS)
        except tomllib.TOMLDecodeError as error:
            raise AttackFileError(f"{path.name}: not valid TOML: {error}") from None
    suite = Suite(dict(full_marks))
    seen: dict[str, str] = {}
    for name, data in files.items():
        for cell in data.get("direct", {}).values():
            if type(cell) is not str:
                raise AttackFileError(f"{name}: direct: every value must be a cell's source, not {cell!r}")
        suite.direct |= data.get("direct", {})
        for kind, spec in [("control", CONTROL_KEYS), ("attack", ATTACK_KEYS)]:
            for table in data.get(kind, []):
                where = f"{name}: {kind} {table.get('name', '(no name)')!r}"
                table = _checked(where, table, spec)
                if table["name"] in seen:
                    raise AttackFileError(f"{where}: the name is taken in {seen[table['name']]}")
                seen[table["name"]] = name
                if kind == "control":
                    suite.controls.append(table["name"])
                else:
                    suite.attacks[table["name"]] = _attack(where, table, suite.full_marks)
    if not suite.controls:
        raise AttackFileError(f"{folder}: no control: an honest submission sets the time an attack may take")
    return suite


SUITE = load_suite(ATTACK_FILES, {name: f.points for name, f in read_spec(CONV).functions.items()})
FULL, ATTACKS, CONTROLS = SUITE.full_marks, SUITE.attacks, sorted(SUITE.controls)
STUDENTS = sorted([*ATTACKS, *CONTROLS])

# ---------------------------------------------------------------- building and grading the batch


def reference_solution() -> dict[str, str]:
    """The reference's graded cells without nbgrader's solution markers."""
    marks = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)
    return {name: marks.sub("", source) for name, source in reference_cells(CONV).items()}


def build_submission(submitted: Path, student: str, fill: dict[str, str]) -> Path:
    """submitted/<student>/<assignment>/<assignment>.ipynb: the reference, with the student's attack."""
    reference = reference_solution()
    attack = ATTACKS.get(student, Attack(student, NOT_GRADED, ""))

    def filled(text: str, function: str) -> str:
        text = text.replace("@REFERENCE@", reference.get(function, ""))
        for key, value in fill.items():
            text = text.replace(key, value)
        return text

    cells = dict(reference)
    for function, text in {attack.function: attack.cell, **attack.other_cells}.items():
        if function in reference:
            cells[function] = filled(text, function)
    nb = completed_notebook(CONV, cells)
    if attack.function == NOT_GRADED and attack.cell:  # a cell of its own, after the notebook's imports
        nb.cells.insert(3, nbformat.v4.new_code_cell(filled(attack.cell, NOT_GRADED)))
    nb.cells[3:3] = [nbformat.v4.new_code_cell(filled(text, attack.function)) for text in attack.helper_cells]
    if attack.edit:
        EDITS[attack.edit](nb, reference)
    target = submitted / student / CONV.name / f"{CONV.name}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)
    return target


def snapshot(paths: list[Path]) -> dict[Path, tuple[bytes, int] | None]:
    """Contents and modification time of each file (None: no such file)."""
    found: dict[Path, tuple[bytes, int] | None] = {}
    for path in paths:
        try:
            found[path] = (path.read_bytes(), path.stat().st_mtime_ns)
        except OSError:
            found[path] = None
    return found


def sleep_1000_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == b"sleep\x001000\x00":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@dataclass
class Batch:
    results: dict[str, SubmissionResult]
    out: Path
    submitted: Path
    seconds: float
    marker: str
    course_files: dict[Path, tuple[bytes, int] | None]
    own_files: dict[Path, tuple[bytes, int] | None]


def course_files() -> list[Path]:
    tests = sorted(CONV.tests_dir.iterdir())
    return [
        CONV.root / "gradebook.db",
        CONV.source_notebook,
        CONV.release_notebook,
        *(path for path in tests if path.is_file()),
    ]


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    submitted = tmp_path_factory.mktemp("submitted")
    out = tmp_path_factory.mktemp("grades")
    marker = f"pwned-{uuid.uuid4().hex}"
    fill = {"@COURSE@": str(CONV.root), "@SUBMITTED@": str(submitted), "@OUT@": str(out), "@MARKER@": marker}
    own = [build_submission(submitted, student, fill) for student in STUDENTS]
    before_course, before_own = snapshot(course_files()), snapshot(own)
    started = time.monotonic()
    results = grade_folder(CONV, submitted, out, jobs=2)
    seconds = time.monotonic() - started
    by_student = {result.student_id: result for result in results}
    return Batch(by_student, out, submitted, seconds, marker, before_course, before_own)


def scores(result: SubmissionResult) -> dict[str, float]:
    return {name: score for name, (score, _) in result.by_function().items()}


def expected_scores(student: str) -> dict[str, float]:
    attack = ATTACKS.get(student)
    if attack is None or attack.function == NOT_GRADED:
        return dict(FULL)
    return {**FULL, attack.function: attack.keeps}


def feedback(result: SubmissionResult, function: str) -> list[str]:
    return [test.output for test in result.tests if test.function == function]


# ---------------------------------------------------------------- the assertions


@pytest.mark.parametrize("student", STUDENTS)
def test_attacked_function_earns_what_it_keeps_and_the_others_keep_full_marks(batch, student):
    result = batch.results[student]
    assert not result.problem
    assert scores(result) == expected_scores(student), [
        t.name + ": " + t.output for t in result.tests if t.score < t.max_score
    ]
    assert result.max_score == 100


def test_controls_get_full_marks(batch):
    assert [batch.results[student].score for student in CONTROLS] == [100] * len(CONTROLS)


def test_every_student_has_a_grades_csv_row_and_a_results_json(batch):
    with (batch.out / "grades.csv").open() as stream:
        rows = {row["student_id"]: row for row in csv.DictReader(stream)}
    assert sorted(rows) == STUDENTS
    for student in STUDENTS:
        result = batch.results[student]
        data = json.loads((batch.out / student / "results.json").read_text())
        assert data["score"] == result.score == sum(expected_scores(student).values())
        assert data["max_score"] == 100
        assert float(rows[student]["score"]) == result.score and float(rows[student]["max_score"]) == 100
        assert batch.marker not in json.dumps(data) and batch.marker not in str(rows[student])


def test_the_batch_finishes_in_reasonable_time(batch):
    assert batch.seconds < BATCH_SECONDS, f"{len(STUDENTS)} students took {batch.seconds:.0f} s"


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_no_attack_makes_its_grading_much_slower_than_an_honest_one(batch, student):
    honest = max(batch.results[control].execution_time for control in CONTROLS)
    allowed = 5 * honest + 10 + (CALL_TIMEOUT_SECONDS if ATTACKS[student].hangs else 0)
    assert batch.results[student].execution_time < allowed, (batch.results[student].execution_time, honest)


@pytest.mark.parametrize(
    "student", sorted(name for name, attack in ATTACKS.items() if attack.correct_but_slow)
)
def test_a_correct_but_slow_cell_earns_no_runtime_point(batch, student):
    """Freezing the clocks the process sees, or answering the repeated timed calls from a memo
    (each timed run gets inputs of its own), earns no runtime point; correctness points stay."""
    function = ATTACKS[student].function
    tests = [test for test in batch.results[student].tests if test.function == function]
    runtime = [test for test in tests if test.kind == "runtime"]
    correctness = [test for test in tests if test.kind == "correctness"]
    assert runtime and all(test.score == 0 and "slower than the limit" in test.output for test in runtime)
    assert correctness and all(test.score == test.max_score for test in correctness)


@pytest.mark.parametrize(
    "student", sorted(name for name, attack in ATTACKS.items() if attack.feedback_contains)
)
def test_the_feedback_says_why_the_attack_failed(batch, student):
    attack = ATTACKS[student]
    outputs = feedback(batch.results[student], attack.function)
    says = [any(text in output for text in attack.feedback_contains) for output in outputs]
    assert says and all(says), outputs


def test_no_file_outside_the_sandbox_changes(batch):
    # Other people may edit the course while this runs: a changed course file fails the test only if
    # it carries an attack's fingerprint (the marker, or the epoch as modification time). No attack
    # deletes anything, so a file gone was moved by someone else.
    for path, before in batch.course_files.items():
        after = snapshot([path])[path]
        if after is not None and after != before:
            assert batch.marker.encode() not in after[0] and after[1] > 0, path
    planted = [*CONV.root.glob(f"*{batch.marker}*"), *CONV.tests_dir.glob(f"*{batch.marker}*")]
    assert not planted and not (CONV.tests_dir / "conftest.py").exists()
    assert not list(Path("/tmp").glob(f"*{batch.marker}*"))
    assert not list(Path("/dev/shm").glob(f"*{batch.marker}*"))
    assert snapshot(list(batch.own_files)) == batch.own_files  # the students' notebooks
    assert not list(batch.submitted.rglob(f"*{batch.marker}*"))
    assert batch.marker not in (batch.out / "grades.csv").read_text()


def test_no_process_of_the_sandbox_survives(batch):
    assert sleep_1000_processes() == []


def test_a_result_raising_in_del_or_repr_reaches_the_grader_as_plain_data():
    """In the batch, such objects cost only their own function; here, directly, the grader gets only
    plain decoded data (or a failure) back, never the student's object."""
    plain = (type(None), bool, int, float, str, tuple, list, np.ndarray, wire.Unsupported)
    submission = Submission("hostile", Path("hostile.ipynb"), {"hostile": SUITE.direct["hostile_results"]})
    with Sandbox() as sandbox:
        student = StudentFunctions(submission, {"hostile": ""}, sandbox)
        seen = []
        for kind in ["object", "nested", "float", "array", "tuple", "error"]:
            try:
                seen.append(student.call("hostile", (kind,), {}).value)
            except StudentError as error:
                seen.append(str(error))
        student.close()
    assert all(isinstance(value, plain) for value in seen), [type(value) for value in seen]
    assert all("cannot send the result" in message for message in seen[:3])
    assert isinstance(seen[3], wire.Unsupported) and seen[4] == (1.0, 2.0)
    assert "raised HostileError at line" in seen[5] and "<unprintable message>" in seen[5]
    repr(seen)  # nothing in there can raise


def test_a_submission_leaves_nothing_for_the_next_one_in_the_same_sandbox(tmp_path):
    """A grading process's submissions take turns in one sandbox: what one leaves behind is gone
    before the next one runs."""
    marker = f"note-{uuid.uuid4().hex}"
    context = GradingContext(CONV, default_policy())
    try:
        results = []
        for student, cell in [("leaver", "leave"), ("finder", "find"), ("leaver2", "leave")]:
            note = SUITE.direct[f"{cell}_notes"].replace("@MARKER@", marker)
            cells = {**reference_solution(), "zero_pad": note}
            path = tmp_path / f"{student}.ipynb"
            nbformat.write(completed_notebook(CONV, cells), path)
            results.append(grade_submission(context, student, path))
        results.append(grade_submission(context, "finder2", tmp_path / "finder.ipynb"))
    finally:
        context.close()
    for result in results:
        assert scores(result)["zero_pad"] == FULL["zero_pad"], feedback(result, "zero_pad")


# ---------------------------------------------------------------- the loader itself

WELL_FORMED = """\
[[attack]]
name = "98_example"
function = "zero_pad"
keeps = 1
feedback_contains = ["raised", "crashed"]
cell = '''
# GRADED FUNCTION: zero_pad
def zero_pad(X, pad):
    return "@MARKER@"
'''
"""


def test_a_well_formed_attack_file_loads(tmp_path):
    (tmp_path / "00_controls.toml").write_bytes((ATTACK_FILES / "00_controls.toml").read_bytes())
    (tmp_path / "98_example.toml").write_text(WELL_FORMED)
    suite = load_suite(tmp_path, FULL)
    cell = '# GRADED FUNCTION: zero_pad\ndef zero_pad(X, pad):\n    return "@MARKER@"\n'
    assert suite.attacks == {"98_example": Attack("98_example", "zero_pad", cell, 1, ["raised", "crashed"])}
    assert suite.controls == CONTROLS and suite.full_marks == FULL


@pytest.mark.parametrize(
    "old, new, says",
    [
        ('function = "zero_pad"\n', "", "98_example.toml: attack '98_example': missing 'function'"),
        ("keeps = 1", "keep = 1", "98_example.toml: attack '98_example': unknown key 'keep'"),
        ('"zero_pad"', '"zero_pda"', "attack '98_example': unknown function 'zero_pda'"),
        ("keeps = 1", "keeps = 6", "attack '98_example': keeps 6 is not a score of zero_pad"),
        ("keeps = 1", 'keeps = "1"', "attack '98_example': 'keeps' must be of type int"),
        ("keeps = 1", "hangs = 1", "attack '98_example': 'hangs' must be of type bool"),
        ('["raised", "crashed"]', "[]", "feedback_contains must list texts, not []"),
        ("@MARKER@", "@MAKRER@", "attack '98_example': unknown placeholder @MAKRER@"),
        ("keeps = 1", 'edit = "inflate"', "attack '98_example': unknown edit 'inflate'"),
        ("keeps = 1", 'other_cells = {zero_pad = ""}', "'zero_pad' is not another graded function's cell"),
        (
            '"98_example"',
            '"00_control_reference"',
            "attack '00_control_reference': the name is taken in 00_controls.toml",
        ),
        ("[[attack]]", "[[atack]]", "98_example.toml: unknown key 'atack'"),
        ("cell = '''", "cell = ''", "98_example.toml: not valid TOML"),
    ],
)
def test_a_malformed_attack_file_is_rejected_with_a_clear_error(tmp_path, old, new, says):
    assert old in WELL_FORMED
    (tmp_path / "00_controls.toml").write_bytes((ATTACK_FILES / "00_controls.toml").read_bytes())
    (tmp_path / "98_example.toml").write_text(WELL_FORMED.replace(old, new))
    with pytest.raises(AttackFileError, match=re.escape(says)):
        load_suite(tmp_path, FULL)


def test_a_file_that_is_not_toml_is_rejected(tmp_path):
    (tmp_path / "00_controls.toml").write_bytes((ATTACK_FILES / "00_controls.toml").read_bytes())
    (tmp_path / "98_example.tml").write_text(WELL_FORMED)
    with pytest.raises(AttackFileError, match=r"98_example\.tml: not a \.toml file"):
        load_suite(tmp_path, FULL)
