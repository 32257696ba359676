"""Processes seen from outside: a call's CPU time comes from the session child's CPU clock, and
kill_uid reaches every process of a uid, even ones the sandbox lost track of."""

from __future__ import annotations

import os
import subprocess

import pytest

from autograder.sandbox import uid_slots
from autograder.sandbox.procfs import kill_uid, processes_of_uid


def test_cpu_time_is_measured_from_outside(attacks):
    busy = attacks.call("busy", [0.2])
    assert busy.ok and 0.15 <= busy.cpu_seconds <= 0.5, busy
    asleep = attacks.call("sleep", [0.3])
    assert asleep.ok and asleep.cpu_seconds < 0.05 and asleep.wall_seconds >= 0.3, asleep


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as another uid")
def test_kill_uid_reaches_processes_the_sandbox_lost_track_of():
    uid = uid_slots.BASE_UID + uid_slots.UID_SLOTS - 1
    stray = subprocess.Popen(["sleep", "100"], user=uid, group=uid, extra_groups=[])
    try:
        kill_uid(uid, timeout=0.5)  # our unreaped zombie keeps it from reporting success
        assert stray.wait(timeout=2) == -9
        assert processes_of_uid(uid) == []
    finally:
        stray.kill()
        stray.wait()
