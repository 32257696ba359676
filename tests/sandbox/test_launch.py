"""What the launch gives student code: a root that holds neither the course nor anything
writable but scratch, an environment with no grader variable, rlimits on memory, file size and
processes, a bounded scratch; and, without bwrap, the other layers still hold."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from programs import ATTACKS, COURSE

from autograder.sandbox import Sandbox, SandboxWarning, launch


def secret_paths() -> list[str]:
    paths = [COURSE / "README.md", COURSE / "gradebook.db", COURSE / "autograder" / "sandbox" / "sandbox.py"]
    paths += (
        list((COURSE / "grader_tests").rglob("*.py"))[:2] + list((COURSE / "source").rglob("*.ipynb"))[:1]
    )
    return [str(p) for p in paths if p.exists()] + ["/etc/shadow", "/root/.bashrc", "/proc/1/environ"]


def test_files_outside_scratch_cannot_be_read(attacks):
    for path in secret_paths():
        result = attacks.call("read", [path])
        assert result.status == "error" and ("Error" in result.error), (path, result)
    assert attacks.call("listdir", [str(COURSE)]).status == "error"
    assert attacks.call("read", [np.__file__]).ok  # reading what sessions run on is fine


def test_files_outside_scratch_cannot_be_written(attacks):
    for path in [str(COURSE / "pwned.txt"), "/tmp/pwned.txt", "/sandbox/lib/worker.py", "/usr/pwned"]:
        result = attacks.call("write", [path])
        assert result.status == "error", (path, result)
    assert not (COURSE / "pwned.txt").exists() and not Path("/tmp/pwned.txt").exists()
    assert attacks.call("write", ["mine.txt"]).ok
    assert attacks.call("read", ["mine.txt"]).value == b"pwned"


def test_grader_environment_does_not_leak(sandbox, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "hunter2")
    sandbox.close()
    sandbox.start()
    session = sandbox.session([ATTACKS], "environment")
    env = session.call("environment").value
    assert "GRADER_SECRET" not in env and env["OPENBLAS_NUM_THREADS"] == "1"
    session.close()


def test_allocating_8_gib_fails_without_hurting_the_grader(attacks):
    result = attacks.call("allocate", [8])
    assert result.status == "error" and result.error.startswith("MemoryError"), result
    assert attacks.call("allocate", [0.1]).ok


def test_scratch_space_is_bounded(attacks, sandbox):
    result = attacks.call("fill_scratch", [200])
    assert result.ok and result.value * 2**20 <= sandbox.limits.scratch_bytes, result


def test_output_floods_are_bounded(attacks, sandbox):
    start = time.monotonic()
    assert attacks.call("flood", [100]).ok
    fd_flood = attacks.call("flood_fd", [100])
    assert fd_flood.status == "error" and "File too large" in fd_flood.error
    assert time.monotonic() - start < 10
    attacks.close()
    assert attacks.output.startswith("xxx") and len(attacks.output) == sandbox.limits.output_bytes


@pytest.mark.parametrize("name", ["fork", "popen", "thread"])
def test_no_new_processes_or_threads(attacks, sandbox, name):
    before = sorted(sandbox.pids())
    result = attacks.call(name)
    assert result.status == "error" and (
        "Resource temporarily unavailable" in result.error or "thread" in result.error
    )
    assert sorted(sandbox.pids()) == before


def test_without_bwrap_the_other_layers_still_hold(monkeypatch):
    monkeypatch.setattr(launch.shutil, "which", lambda name: None)
    with pytest.warns(SandboxWarning, match="bwrap"):
        sb = Sandbox()
        sb.start()
    with sb:
        assert not sb.layers["bwrap"]
        session = sb.session([ATTACKS], "read")
        assert session.call("read", [str(COURSE / "autograder" / "sandbox" / "sandbox.py")]).status == "error"
        assert session.call("write", ["/tmp/pwned.txt"]).status == "error"
        assert session.call("busy", [0.0]).ok
        session.close()
