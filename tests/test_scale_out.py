"""Grading on a Dask cluster gives every student the same grade as grading on local cores; the
notebooks shipped are read by the same safe reader, the course shipped is all of it, and a
submission past the local batch's deadline is a row while the run goes on."""

import json
import os
import shutil
import time

import pytest
from helpers import assignment, grade_folder

from autograder.batch import grade_all
from autograder.course import Assignment
from autograder.examples import build_examples
from autograder.scale_out import DaskCluster
from autograder.settings import default_policy

distributed = pytest.importorskip("distributed")

A = "conv_step_by_step"
CONV = assignment(A)


def grade_on(cluster, submitted, out, **settings):
    return grade_all(CONV, submitted, out, default_policy(**settings), DaskCluster(cluster.scheduler_address))


def test_the_course_bundle_is_every_file_of_the_hidden_tests(tmp_path):
    """What travels to the workers, and what the grade's fingerprint covers: data files and
    subfolders included, bytecode caches left out."""
    from autograder.scale_out import CourseBundle

    course = Assignment(tmp_path, A)
    shutil.copytree(CONV.source_dir, course.source_dir)
    tests = course.tests_dir
    shutil.copytree(CONV.tests_dir, tests)
    (tests / "cases.json").write_text("[1, 2]")
    (tests / "data").mkdir()
    (tests / "data" / "inputs.npy").write_bytes(b"\x93NUMPY")
    (tests / "__pycache__").mkdir(exist_ok=True)
    (tests / "__pycache__" / "cases.cpython-311.pyc").write_bytes(b"cache")
    bundle = CourseBundle.of(course)
    shipped = {f"grader_tests/{A}/cases.json", f"grader_tests/{A}/data/inputs.npy", f"source/{A}/{A}.ipynb"}
    assert shipped <= set(bundle.files)
    assert not any("__pycache__" in name for name in bundle.files)
    (tests / "__pycache__" / "cases.cpython-311.pyc").write_bytes(b"another cache")
    assert CourseBundle.of(course).digest == bundle.digest
    (tests / "data" / "inputs.npy").write_bytes(b"\x93NUMPY changed")
    assert CourseBundle.of(course).digest != bundle.digest
    unpacked = bundle.unpack()
    try:
        assert (unpacked.tests_dir / "data" / "inputs.npy").read_bytes() == b"\x93NUMPY"
        assert unpacked.source_notebook.read_bytes() == CONV.source_notebook.read_bytes()
    finally:
        shutil.rmtree(unpacked.root)


@pytest.fixture(scope="module")
def cluster():
    # Worker processes of their own, one thread each, as the scale_out module asks of real workers.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local_cluster:
        yield local_cluster


def by_test(results):
    return {
        result.student_id: (result.problem, [(t.name, t.score, t.max_score) for t in result.tests])
        for result in results
    }


@pytest.mark.slow
def test_cluster_grades_equal_local_grades(cluster, tmp_path):
    submitted = tmp_path / "submitted"
    students = build_examples(CONV, submitted)
    local = grade_folder(CONV, submitted, tmp_path / "local")
    remote = grade_on(cluster, submitted, tmp_path / "remote")
    assert sorted(r.student_id for r in remote) == sorted(students)
    assert by_test(remote) == by_test(local)
    for student in students:  # the instructor's machine wrote every result
        data = json.loads((tmp_path / "remote" / student / "results.json").read_text())
        assert data["score"] == next(r.score for r in local if r.student_id == student)
    assert (tmp_path / "remote" / "grades.csv").read_text() == (tmp_path / "local" / "grades.csv").read_text()


@pytest.mark.slow
def test_the_cluster_ships_only_regular_files_of_the_students_own(cluster, tmp_path, at_most):
    submitted = tmp_path / "submitted"
    examples = tmp_path / "examples"
    build_examples(CONV, examples)
    honest = submitted / "honest" / A / f"{A}.ipynb"
    honest.parent.mkdir(parents=True)
    honest.write_bytes((examples / "reference" / A / f"{A}.ipynb").read_bytes())
    for student in ["copycat", "fifo", "zero"]:
        (submitted / student / A).mkdir(parents=True)
    (submitted / "copycat" / A / f"{A}.ipynb").symlink_to(honest)
    os.mkfifo(submitted / "fifo" / A / f"{A}.ipynb")
    (submitted / "zero" / A / f"{A}.ipynb").symlink_to("/dev/zero")
    with at_most(240):
        results = {r.student_id: r for r in grade_on(cluster, submitted, tmp_path / "out")}
    assert results["honest"].score == 100
    assert "named pipe" in results["fifo"].problem and results["fifo"].score == 0
    for student in ["copycat", "zero"]:
        assert "symbolic link" in results[student].problem and results[student].score == 0
    assert (tmp_path / "out" / "grades.csv").read_text().count("\n") == 5


class HangOneSubmission(distributed.WorkerPlugin):
    """On every worker, a restarted one too: 5 s of overhead in the local batch's deadline formula,
    and a grader that hangs on the student "hangs" (as a grader or sandbox bug could) and passes
    the others."""

    def setup(self, worker) -> None:
        import autograder.local_processes
        import autograder.scale_out
        from autograder.results import SubmissionResult

        autograder.local_processes.SUBMISSION_OVERHEAD_SECONDS = 5.0

        def grade(context, student_id, data, problem=""):
            if student_id == "hangs":
                time.sleep(3600)
            return SubmissionResult(student_id, context.assignment.name, problem=f"graded {len(data)} bytes")

        autograder.scale_out.grade_bytes = grade


@pytest.mark.slow
def test_a_submission_past_its_deadline_is_a_row_and_the_run_finishes(tmp_path, at_most):
    submitted = tmp_path / "submitted"
    students = ["a", "b", "hangs", "c", "d", "e"]
    for student in students:
        (submitted / student / A).mkdir(parents=True)
        (submitted / student / A / f"{A}.ipynb").write_text('{"cells": []}')
    # A cluster of its own: its workers are patched, and one of them is restarted. Its HTTP server
    # on a free port: the module's cluster may hold the default one.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.register_plugin(HangOneSubmission())
        workers = set(client.scheduler_info()["workers"])
        started = time.monotonic()
        with at_most(120):  # the deadline: 5 s of overhead only
            results = grade_on(cluster, submitted, tmp_path / "out", call_timeout_seconds=1e-9)
        assert time.monotonic() - started < 60
        graded = {result.student_id: result.problem for result in results}
        assert sorted(graded) == sorted(students)
        assert graded.pop("hangs") == "grading timed out: no result after 5 s"
        assert set(graded.values()) == {"graded 13 bytes"}  # every other student, on either worker
        client.wait_for_workers(2, timeout=30)
        assert len(workers & set(client.scheduler_info()["workers"])) == 1  # the stuck one restarted
    assert (tmp_path / "out" / "grades.csv").read_text().count("\n") == len(students) + 1


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    from dask import config

    from autograder.cli import main

    submitted = tmp_path / "submitted"
    build_examples(CONV, submitted)
    with config.set({"distributed.comm.timeouts.connect": "2s"}):
        status = main(
            ["grade", "conv_step_by_step", "--submitted", str(submitted), "--out", str(tmp_path / "out")]
            + ["--scheduler", "tcp://127.0.0.1:9"]
        )
    assert status == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().out
