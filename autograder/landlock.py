"""Landlock and prctl hardening for the sandbox worker, through ctypes.

Landlock lets an unprivileged process restrict itself, for good, to a list of
file hierarchies, and (ABI >= 4) deny TCP bind/connect and (ABI >= 6) keep it from
signalling processes or reaching abstract unix sockets outside its own domain. The
worker's session child uses it so that student code can read only the Python
installation and write only its scratch directory, whatever the rest of the mount
tree holds, and cannot signal the zygote or the grader.

Only the standard library is imported: the worker copies this file next to itself.
"""

from __future__ import annotations

import ctypes
import os
import platform

# Landlock syscalls have the same numbers on every architecture that has them.
_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38


class LandlockError(OSError):
    """Landlock is present but restricting failed: the caller must not run untrusted code."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int


def _syscall(number: int, *args: object) -> int:
    result = _libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def set_no_new_privs() -> None:
    """No exec can ever gain privileges again (setuid bits, file caps); Landlock needs it."""
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def set_dumpable(dumpable: bool) -> None:
    """A non-dumpable process cannot be ptraced nor have /proc/<pid>/mem read by its peers."""
    _prctl(PR_SET_DUMPABLE, int(dumpable))


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None:
        return 0
    try:
        return _syscall(numbers[0], None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except OSError:
        return 0


def fs_rights(abi: int) -> int:
    """Every filesystem right the given ABI knows, so that all of them are handled."""
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def _ruleset(abi: int) -> tuple[_RulesetAttr, int]:
    attr = _RulesetAttr(handled_access_fs=fs_rights(abi))
    size = 8
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP  # no rule: all TCP denied
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    return attr, size


def _add_path(ruleset_fd: int, path: str, access: int, add_rule: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False  # a path that does not exist needs no permission
    try:
        if not os.path.isdir(path):
            access &= _FILE_RIGHTS
        rule = _PathBeneathAttr(allowed_access=access, parent_fd=fd)
        _syscall(
            add_rule,
            ctypes.c_int(ruleset_fd),
            ctypes.c_int(_RULE_PATH_BENEATH),
            ctypes.byref(rule),
            ctypes.c_uint32(0),
        )
    finally:
        os.close(fd)
    return True


def restrict(read_only: list[str], read_write: list[str]) -> int:
    """Confine this process (and its future children) to the given paths, for good.

    read_only paths get read-file and read-dir rights (no execute), read_write
    paths get every right but execute. Returns the ABI used, or 0 when the kernel
    has no Landlock (nothing was restricted). Raises LandlockError on a failure
    after Landlock was found, so the caller never runs code half-confined.
    """
    abi = abi_version()
    if abi <= 0:
        return 0
    create, add_rule, restrict_self = _SYSCALLS[platform.machine()]
    everything = fs_rights(abi)
    attr, size = _ruleset(abi)
    try:
        ruleset_fd = _syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    except OSError as error:
        raise LandlockError(error.errno, f"landlock_create_ruleset: {error.strerror}") from None
    try:
        for path in read_only:
            _add_path(ruleset_fd, path, FS_READ_FILE | FS_READ_DIR, add_rule)
        for path in read_write:
            _add_path(ruleset_fd, path, everything & ~FS_EXECUTE, add_rule)
        set_no_new_privs()
        _syscall(restrict_self, ctypes.c_int(ruleset_fd), ctypes.c_uint32(0))
    except OSError as error:
        raise LandlockError(error.errno, f"landlock: {error.strerror}") from None
    finally:
        os.close(ruleset_fd)
    return abi
