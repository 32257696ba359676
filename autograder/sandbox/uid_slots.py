"""Dedicated uids for sandboxes when the grader runs as root: uid 61000 + slot, each slot held
through an flock'ed file in /tmp so that no two sandboxes, in any process, share one; and the
switch of a forked process to such a uid."""

from __future__ import annotations

import fcntl
import os

from autograder.sandbox.errors import SandboxError

BASE_UID = 61000
UID_SLOTS = 256
LOCK_DIR = "/tmp"


class UidSlot:
    """A dedicated uid for one sandbox, held through an flock so sandboxes never share one."""

    def __init__(self, uid: int, lock_fd: int) -> None:
        self.uid = uid
        self._lock_fd = lock_fd

    @classmethod
    def claim(cls) -> UidSlot:
        for slot in range(UID_SLOTS):
            uid = BASE_UID + slot
            path = os.path.join(LOCK_DIR, f"autograder-uid-{uid}.lock")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return cls(uid, fd)
        raise SandboxError(f"all {UID_SLOTS} sandbox uids are in use")

    def release(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def become(uid: int) -> None:
    """Make this (forked, root) process uid, with that gid and no supplementary groups."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
