"""The zygote as the grader talks to it: a session child that exits, kills or spins is contained
and the next call gets a fresh one from the same zygote; CPU budgets and wall timeouts stop a
call; replies that are no frame, or forged before their request, are protocol errors and the
zygote is restarted."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from programs import ATTACKS, STUDENT

from autograder.sandbox import SessionLoadError


@pytest.mark.parametrize("call, status", [(("exit_hard", [3]), "crashed"), (("exit_soft", []), "error")])
def test_exiting_is_contained_and_the_session_recovers(attacks, sandbox, call, status):
    restarts = sandbox.restarts
    result = attacks.call(*call)
    assert result.status == status, result
    assert "3" in result.error if status == "crashed" else "SystemExit" in result.error
    assert attacks.call("busy", [0.0]).ok  # a fresh session child, same zygote
    assert sandbox.restarts == restarts


def test_killing_the_parent_or_the_grader_does_nothing(attacks, sandbox):
    restarts = sandbox.restarts
    attacks.call("kill_parent")
    result = attacks.call("kill", [os.getpid()])
    assert result.status == "error" and ("ProcessLookupError" in result.error or "Permission" in result.error)
    assert attacks.call("busy", [0.0]).ok
    assert sandbox.restarts == restarts


def test_cpu_hog_ignoring_signals_stops_at_the_budget(attacks):
    start = time.monotonic()
    result = attacks.call("spin_ignoring_signals", cpu_budget_s=0.5, wall_timeout_s=30)
    elapsed = time.monotonic() - start
    assert result.status == "cpu_limit", result
    assert 0.5 <= result.cpu_seconds < 0.7 and elapsed < 0.5 + 1.5
    assert attacks.call("busy", [0.0]).ok


@pytest.mark.slow  # waits out a 1 s wall-clock timeout
def test_sleeping_forever_stops_at_the_wall_timeout(attacks):
    start = time.monotonic()
    result = attacks.call("sleep", [1e6], wall_timeout_s=1.0)
    assert result.status == "timeout" and time.monotonic() - start < 2.5
    assert result.cpu_seconds < 0.1
    assert attacks.call("busy", [0.0]).ok


def test_forged_replies_are_protocol_errors_and_the_sandbox_recovers(sandbox):
    session = sandbox.session([ATTACKS], "forge")
    result = session.call("forge", ["garbage that is not a frame"])
    assert result.status == "protocol"
    session.close()
    fresh = sandbox.session([STUDENT], "double")
    assert fresh.call("double", [np.ones(2)]).ok
    fresh.close()


def test_replies_forged_ahead_of_time_are_rejected(sandbox):
    forger = (
        "import sys, wire\n"
        "fd = int(sys.argv[sys.argv.index('--replies') + 1])\n"
        "for _ in range(3):\n"
        "    wire.write_message(fd, {'ok': True, 'stage': 'load', 'value': 42})\n"
        "def f():\n    return 0\n"
    )
    with pytest.raises(SessionLoadError) as info:
        sandbox.session([forger], "f")
    assert info.value.status == "protocol"
    session = sandbox.session([STUDENT], "double")
    assert session.call("double", [np.ones(1)]).ok
    session.close()
