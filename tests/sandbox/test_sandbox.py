"""The sandbox's lifecycle: it restarts when the zygote dies or its scratch cannot be wiped,
and close leaves no process and no file behind."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from programs import ATTACKS, STUDENT

from autograder.sandbox import Sandbox
from autograder.sandbox.procfs import processes_of_uid


@pytest.mark.slow  # digs 3000 directories, then restarts the sandbox
def test_a_scratch_tree_too_deep_to_wipe_gets_a_fresh_sandbox(sandbox):
    digger = sandbox.session([ATTACKS], "dig")
    assert digger.call("dig", [3000]).ok
    digger.close()
    second = sandbox.session([ATTACKS], "find_traces")
    assert second.call("find_traces").value[0] == []
    second.close()


def test_sandbox_restarts_when_the_zygote_dies(sandbox):
    session = sandbox.session([STUDENT], "double")
    os.kill(sandbox._zygote.pid, 9)
    sandbox._zygote.process.wait(timeout=5)  # pid 1 gone: the kernel kills its whole pid namespace
    result = session.call("double", [np.ones(1)], wall_timeout_s=3)
    assert result.status in ("crashed", "protocol", "timeout") and not result.ok
    restarts = sandbox.restarts
    again = sandbox.session([STUDENT], "double")
    assert again.call("double", [np.ones(1)]).ok and sandbox.restarts == restarts + 1
    again.close()


def test_close_leaves_no_process_behind():
    with Sandbox() as sb:
        session = sb.session([ATTACKS], "fork")
        for name in ("fork", "popen", "thread"):
            session.call(name)
        pids, uid, files = sb.pids(), sb.uid, sb._layout.root
        assert len(pids) >= 2
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists()
            or Path(f"/proc/{pid}/status").read_text().find("Z (zombie)") > 0
        )
    if uid is not None:
        assert processes_of_uid(uid) == []
    assert not files.exists()
