"""Grading on a Dask cluster gives every student the same grade as grading on local cores."""

import json

import pytest

from autograder.batch import grade_all
from autograder.examples import build_examples

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow


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


def test_cluster_grades_equal_local_grades(cluster, tmp_path):
    submitted = tmp_path / "submitted"
    students = build_examples("conv_step_by_step", submitted)
    local = grade_all("conv_step_by_step", submitted, tmp_path / "local", jobs=2, show_progress=False)
    remote = grade_all(
        "conv_step_by_step",
        submitted,
        tmp_path / "remote",
        scheduler=cluster.scheduler_address,
        show_progress=False,
    )
    assert sorted(r.student_id for r in remote) == sorted(students)
    assert by_test(remote) == by_test(local)
    for student in students:  # the instructor's machine wrote every result
        data = json.loads((tmp_path / "remote" / student / "results.json").read_text())
        assert data["score"] == next(r.score for r in local if r.student_id == student)
    assert (tmp_path / "remote" / "grades.csv").read_text() == (tmp_path / "local" / "grades.csv").read_text()


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    from dask import config

    from autograder.cli import main

    submitted = tmp_path / "submitted"
    build_examples("conv_step_by_step", submitted)
    with config.set({"distributed.comm.timeouts.connect": "2s"}):
        status = main(
            ["grade", "conv_step_by_step", "--submitted", str(submitted), "--out", str(tmp_path / "out")]
            + ["--scheduler", "tcp://127.0.0.1:9"]
        )
    assert status == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().out
