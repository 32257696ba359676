"""The submissions folder is hostile: only regular files inside a student's own folder are read,
nothing blocks, every student gets a row with a reason, and the batch always finishes."""

import json
import os
import signal
import stat
import time
from pathlib import Path

import pytest
from helpers import assignment, grade_folder

from autograder.intake import find_submissions
from autograder.notebook import NotebookError, graded_cells, read_cells
from autograder.results import SubmissionResult, write_grades_csv, write_results_json
from autograder.submission import load_submission

A = "conv_step_by_step"
CONV = assignment(A)
ZERO_PAD = "# GRADED FUNCTION: zero_pad\ndef zero_pad(X, pad):\n    return X\n"
NOTEBOOK = {"cells": [{"cell_type": "code", "source": ZERO_PAD}]}


def notebook_of(tmp_path, student, content=None):
    folder = tmp_path / student / A
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{A}.ipynb"
    if content is not False:
        path.write_text(json.dumps(content or NOTEBOOK))
    return path


@pytest.fixture
def graded_as_found(tmp_path, at_most):
    """`graded_as_found()`: what grading would use of each student's folder: the job's problem,
    or the cells its notebook loads to (the old grader loaded job.notebook with load_submission)."""

    def grade():
        seen = {}
        with at_most(5):
            for job in find_submissions(tmp_path, A):
                if job.problem or job.notebook is None:
                    seen[job.student_id] = ("problem", job.problem)
                    continue
                try:
                    if hasattr(job, "read"):
                        job.read()  # the one safe reader
                    seen[job.student_id] = ("cells", load_submission(job.student_id, job.notebook).cells)
                except NotebookError as error:
                    seen[job.student_id] = ("problem", str(error))
        return seen

    return grade


def root_only_file(tmp_path):
    secret = tmp_path.parent / f"{tmp_path.name}-secret.ipynb"
    secret.write_text(json.dumps(NOTEBOOK))
    secret.chmod(0o600)
    return secret


ATTACKS = {
    "fifo": lambda tmp_path, path: os.mkfifo(path),
    "dev_zero": lambda tmp_path, path: path.symlink_to("/dev/zero"),
    "another_student": lambda tmp_path, path: path.symlink_to(notebook_of(tmp_path, "victim")),
    "relative_link": lambda tmp_path, path: (
        notebook_of(tmp_path, "victim"),
        path.symlink_to(f"../../victim/{A}/{A}.ipynb"),
    ),
    "root_only": lambda tmp_path, path: path.symlink_to(root_only_file(tmp_path)),
    "hard_link": lambda tmp_path, path: os.link(root_only_file(tmp_path), path),
    "socket": lambda tmp_path, path: os.mknod(path, stat.S_IFSOCK | 0o666),
    "device": lambda tmp_path, path: os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5)),  # /dev/zero
    "folder": lambda tmp_path, path: path.mkdir(),
}
REASONS = {
    "fifo": "named pipe",
    "dev_zero": "symbolic link",
    "another_student": "symbolic link",
    "relative_link": "symbolic link",
    "root_only": "symbolic link",
    "hard_link": "hard link",
    "socket": "socket",
    "device": "character device",
    "folder": "a folder, not a regular file",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_notebook_that_is_not_a_regular_file_of_the_student_is_a_row_with_the_reason(
    tmp_path, attack, graded_as_found
):
    if attack == "device" and os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    path = notebook_of(tmp_path, "mallory", content=False)
    ATTACKS[attack](tmp_path, path)
    seen = graded_as_found()
    kind, detail = seen["mallory"]
    assert kind == "problem", f"the grader read {attack}: {detail}"
    assert REASONS[attack] in detail
    assert "only" in detail and "graded" in detail


def test_a_symlinked_student_folder_or_assignment_folder_is_a_row(tmp_path, graded_as_found):
    notebook_of(tmp_path, "victim")
    (tmp_path / "mallory").symlink_to(tmp_path / "victim")  # the whole student folder
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / A).symlink_to(tmp_path / "victim" / A)  # the assignment folder
    seen = graded_as_found()
    assert seen["victim"][0] == "cells"
    assert seen["mallory"] == ("problem", seen["mallory"][1]) and "symbolic link" in seen["mallory"][1]
    assert seen["eve"][0] == "problem" and "symbolic link" in seen["eve"][1]


def test_the_reader_checks_every_level_and_the_size_on_the_opened_file(tmp_path):
    from autograder.notebook import read_untrusted

    path = notebook_of(tmp_path, "alice")
    assert read_untrusted(tmp_path, ["alice", A, path.name]) == path.read_bytes()
    (tmp_path / "link").symlink_to(tmp_path / "alice")
    for parts, reason in [
        (["link", A, path.name], "symbolic link"),
        (["alice", A, path.name, "x"], "not a folder"),
        (["alice", "..", "alice", A, path.name], "not a path inside"),
        (["alice", A, "missing.ipynb"], "notebook not found"),
    ]:
        with pytest.raises(NotebookError, match=reason):
            read_untrusted(tmp_path, parts)
    with pytest.raises(NotebookError, match="over the 0 MiB limit"):
        read_untrusted(tmp_path, ["alice", A, path.name], max_bytes=10)


def test_an_oversized_sparse_notebook_is_refused_without_reading_it(tmp_path, graded_as_found):
    path = notebook_of(tmp_path, "bob", content=False)
    with path.open("wb") as stream:
        stream.truncate(64 << 30)  # 64 GiB of holes: reading it would take minutes and the memory
    started = time.monotonic()
    kind, detail = graded_as_found()["bob"]
    assert kind == "problem" and "over the 16 MiB limit" in detail
    assert time.monotonic() - started < 2


ODD_NAMES = {
    "control": "al\x1bice\x07",
    "markup": "[bold red]x<script>alert(1)",
    "dash": "-rf",
    "long": "a" * 250,
    "bytes": os.fsdecode(b"caf\xe9-\xff"),
    "reserved": "grades.csv",
    "space": " bob ",
    "bidi": "eve\u202egnp.exe",
}


def test_odd_student_folder_names_get_a_row_named_safely(tmp_path):
    for name in ODD_NAMES.values():
        notebook_of(tmp_path, name)
    notebook_of(tmp_path, "plain_id-2.x@uni")
    jobs = {job.student_id: job for job in find_submissions(tmp_path, A)}
    assert len(jobs) == len(ODD_NAMES) + 1  # one row each, none merged
    assert "plain_id-2.x@uni" in jobs  # ordinary ids are kept as they are
    for student_id in jobs:
        student_id.encode("utf-8")  # valid text
        assert student_id.isprintable() and student_id == student_id.strip()
        assert len(student_id) <= 64 and not student_id.startswith(("-", "."))
        assert "/" not in student_id and student_id != "grades.csv"
    out = tmp_path.parent / f"{tmp_path.name}-out"
    results = [SubmissionResult(job.student_id, A, problem=job.problem) for job in jobs.values()]
    for result in results:
        write_results_json(result, out)
    write_grades_csv(results, out / "grades.csv")
    assert (out / "grades.csv").is_file()
    assert (out / "grades.csv").read_text(encoding="utf-8").count("\n") == len(results) + 1
    assert sorted(path.name for path in out.iterdir()) == sorted([*jobs, "grades.csv"])


# ---------------------------------------------------------------- grading processes that hang or die


def fake_setup(assignment, policy):
    class Context:
        def close(self):
            pass

    context = Context()
    context.assignment = assignment
    return context, 1


def fake_grade(context, student_id, data, problem):
    if student_id == "hangs":
        time.sleep(3600)
    if student_id == "dies":
        os._exit(3)
    if student_id == "crashes":
        os.kill(os.getpid(), signal.SIGKILL)
    return SubmissionResult(
        student_id, context.assignment.name, problem=problem or f"graded {len(data)} bytes"
    )


def test_a_grading_process_that_hangs_or_dies_costs_only_its_submission(tmp_path, at_most):
    from autograder.local_processes import grade_on_local_cores
    from autograder.settings import default_policy

    for student in ["a", "hangs", "b", "dies", "c", "crashes", "d"]:
        notebook_of(tmp_path, student)
    work = find_submissions(tmp_path, A)
    started = time.monotonic()
    with at_most(60):
        graded = dict(
            (job.student_id, result.problem)
            for job, result in grade_on_local_cores(
                CONV, work, 2, default_policy(), deadline=3.0, setup=fake_setup, grade=fake_grade
            )
        )
    assert sorted(graded) == ["a", "b", "c", "crashes", "d", "dies", "hangs"]
    assert graded["hangs"] == "grading timed out: no result after 3 s"
    assert graded["dies"] == "grading process died (exit code 3)"
    assert graded["crashes"] == "grading process died (killed by SIGKILL)"
    assert all(graded[student].startswith("graded ") for student in "abcd")
    assert time.monotonic() - started < 30


def fake_setup_fails(assignment, policy):
    raise RuntimeError("the source notebook is broken")


def test_grading_processes_that_cannot_start_still_give_every_student_a_row(tmp_path, at_most):
    from autograder.local_processes import grade_on_local_cores
    from autograder.settings import default_policy

    for student in ["a", "b", "c"]:
        notebook_of(tmp_path, student)
    with at_most(60):
        graded = [
            result.problem
            for _, result in grade_on_local_cores(
                CONV,
                find_submissions(tmp_path, A),
                1,
                default_policy(),
                setup=fake_setup_fails,
                grade=fake_grade,
            )
        ]
    assert graded == ["grading process could not start: RuntimeError: the source notebook is broken"] * 3


def test_the_submission_deadline_follows_from_the_settings():
    from autograder.local_processes import submission_deadline
    from autograder.settings import default_policy

    assert default_policy().call_timeout_seconds == 10.0
    assert submission_deadline(45, default_policy()) == 60 + 45 * 3 * 10
    assert submission_deadline(45, default_policy(runtime_repeats=4)) == 60 + 45 * 5 * 10
    assert submission_deadline(45, default_policy(call_timeout_seconds=2)) == 60 + 45 * 3 * 2


@pytest.mark.slow
def test_a_batch_with_hostile_folders_finishes_and_every_student_has_a_row(tmp_path, at_most):
    """The smallest batch: one honest notebook beside a FIFO, a link to it and a link to /dev/zero."""
    from autograder.examples import build_examples

    examples = tmp_path / "examples"
    build_examples(CONV, examples)
    submitted = tmp_path / "submitted"
    honest = submitted / "honest" / A
    honest.mkdir(parents=True)
    (honest / f"{A}.ipynb").write_bytes((examples / "reference" / A / f"{A}.ipynb").read_bytes())
    for student, attack in [("fifo", "fifo"), ("copycat", "another_student"), ("zero", "dev_zero")]:
        path = notebook_of(submitted, student, content=False)
        if attack == "another_student":
            path.symlink_to(honest / f"{A}.ipynb")
        else:
            ATTACKS[attack](submitted, path)
    out = tmp_path / "out"
    with at_most(120):
        results = {r.student_id: r for r in grade_folder(CONV, submitted, out)}
    assert results["honest"].score == 100
    for student in ["fifo", "copycat", "zero"]:
        assert results[student].score == 0 and results[student].problem
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[1].startswith("copycat,0,")


def test_source_notebooks_and_temporary_copies_read_the_same_way(tmp_path):
    path = tmp_path / "submission.ipynb"
    path.write_text(json.dumps(NOTEBOOK))
    assert list(graded_cells(read_cells(path))) == ["zero_pad"]
    link = tmp_path / "link.ipynb"
    link.symlink_to(path)
    with pytest.raises(NotebookError, match="symbolic link"):
        read_cells(link)
    assert Path(path).read_text()  # untouched


# ---------------------------------------------------------------- parsing student text, bounded


def notebook_file(tmp_path, cells):
    path = tmp_path / "submission.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": source} for source in cells]}))
    return path


BOUNDED_LOAD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20))
from autograder.submission import load_submission
started = time.process_time()
submission = load_submission("s", sys.argv[1])
print(json.dumps([sorted(submission.cells), submission.imports, time.process_time() - started]))
"""


def load_bounded(path):
    """load_submission in a child with 768 MiB of address space: (cells, imports, CPU seconds)."""
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-c", BOUNDED_LOAD, str(path)], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr[-500:]
    return json.loads(completed.stdout)


@pytest.mark.parametrize(
    "scratch",
    [
        "import os\n" + "a\n" * (1 << 20),  # 2 MB of names: 1.8 GiB to parse
        "import os\nx = f'" + "{a}" * (80 << 10) + "'",  # quadratic f-string parsing: seconds
        "import os\nx = " + "not " * 15000 + "a",  # the parser's MemoryError
        "import os\nx = " + "a+" * 20000 + "a",  # the parser's RecursionError
    ],
    ids=["huge_cell", "fstring_fields", "nested_not", "deep_binop"],
)
def test_a_scratch_cell_costs_little_and_breaks_nothing(tmp_path, scratch):
    path = notebook_file(tmp_path, ["import numpy as np\nimport math", scratch, ZERO_PAD])
    cells, imports, seconds = load_bounded(path)
    assert cells == ["zero_pad"]
    assert imports == "import numpy as np\nimport math"  # the honest cell's imports still count
    assert seconds < 1.0


def test_many_import_cells_are_not_all_parsed(tmp_path):
    path = notebook_file(
        tmp_path, [f"import m{index}\nx = ({'1,' * 60})" for index in range(15000)] + [ZERO_PAD]
    )
    cells, imports, seconds = load_bounded(path)
    assert cells == ["zero_pad"] and 0 < imports.count("import") <= 500
    assert seconds < 1.0


def test_a_graded_cell_over_the_limit_fails_its_function_with_the_reason():
    from autograder.submission import imports_for

    with pytest.raises(AssertionError, match="the cell of zero_pad has 300 KiB of text, over the 256 KiB"):
        imports_for(ZERO_PAD + "#" * (300 << 10), "import math")
    started = time.process_time()
    fields = ZERO_PAD + "    s = f'" + "{math}" * (40 << 10) + "'\n"  # just under the limit
    assert "import math" in imports_for(fields, "import math\nimport os")  # an f-string uses it
    assert time.process_time() - started < 1.0


def test_json_within_the_limits_and_odd_text_still_load(tmp_path):
    nested = {
        "cells": [{"cell_type": "code", "source": ZERO_PAD, "metadata": {"a": [[[[{"b": '[{,:\\"'}]]]]}}]
    }
    path = tmp_path / "nested.ipynb"
    path.write_text(json.dumps(nested))
    assert list(graded_cells(read_cells(path))) == ["zero_pad"]
    path.write_text(
        '{"cells": [{"cell_type": "code", "source": "' + ZERO_PAD.replace("\n", "\\n") + '# \\ud800"}]}'
    )
    submission = load_submission("s", path)  # a lone surrogate: no crash while digesting it
    assert list(submission.cells) == ["zero_pad"] and submission.digest
