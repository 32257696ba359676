"""Landlock, capability and namespace hardening for the sandbox worker, through ctypes.

Landlock lets an unprivileged process restrict itself, for good, to a list of
file hierarchies, and (ABI >= 4) deny TCP bind/connect and (ABI >= 6) keep it from
signalling processes or reaching abstract unix sockets outside its own domain. The
worker's session child uses it so that student code can read only the Python
installation and write only its scratch directory, whatever the rest of the mount
tree holds, and cannot signal the zygote or the grader.

Inside bubblewrap the zygote keeps CAP_SYS_ADMIN and CAP_SETPCAP of the sandbox's own
user namespace, so that each session child can enter fresh namespaces and mount its
own scratch (`unshare`, `mount`); the child then gives up every capability for good
(`drop_capabilities`) before any student code runs.
The grader's launch uses `unshare` and `mount` too, to stage the Python installation
where a dedicated uid can reach it (launch.py).

Only the standard library is imported: the worker copies this file next to itself.
"""

from __future__ import annotations

import ctypes
import functools
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
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_GET_SECUREBITS = 27
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_CLEAR_ALL = 1, 4
# Root gets no capabilities back from its uid or from setuid, nor any ambient one: each
# bit with its _LOCKED twin, so nothing can unset them (SECBIT_KEEP_CAPS stays off).
SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, SECBIT_NO_CAP_AMBIENT_RAISE = 1 << 0, 1 << 2, 1 << 6
SECBIT_KEEP_CAPS_LOCKED = 1 << 5
LOCKED_SECUREBITS = (
    SECBIT_NOROOT * 3 | SECBIT_NO_SETUID_FIXUP * 3 | SECBIT_NO_CAP_AMBIENT_RAISE * 3 | SECBIT_KEEP_CAPS_LOCKED
)
CAP_LAST_POSSIBLE = 63  # capability numbers the kernel does not know answer EINVAL
_CAPABILITY_VERSION_3 = 0x20080522

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18


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


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int


def _syscall(number: int, *args: object) -> int:
    result = _libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def _prctl(option: int, value: int, arg3: int = 0) -> int:
    result = _libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(arg3), 0, 0)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def _checked(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


# ---------------------------------------------------------------- namespaces and mounts


def unshare(flags: int) -> None:
    """Move this process into new namespaces (CLONE_NEWPID: its children, from the next one)."""
    _checked(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encoded = [None if text is None else text.encode() for text in (source, target, fstype, data)]
    _checked(_libc.mount(*encoded[:3], ctypes.c_ulong(flags), encoded[3]), f"mount {target}")


# ---------------------------------------------------------------- capabilities


_STATUS_SETS = {b"CapInh": "inheritable", b"CapPrm": "permitted", b"CapEff": "effective"} | {
    b"CapBnd": "bounding",
    b"CapAmb": "ambient",
}


def capability_sets() -> dict[str, int]:
    """This process's five capability sets as bit masks, as /proc/self/status shows them
    (or, where /proc cannot be read, as capget(2) and prctl(2) tell: ~100 calls, not one).

    Read with os.read and parsed as bytes: in a freshly forked child, every Python object
    touched for the first time costs a copy-on-write fault, and text I/O touches many.
    """
    sets = {}
    try:
        fd = os.open("/proc/self/status", os.O_RDONLY | os.O_CLOEXEC)
        try:
            lines = os.read(fd, 1 << 16).split(b"\n")
        finally:
            os.close(fd)
        for line in lines:
            key, _, value = line.partition(b":")
            if key in _STATUS_SETS:
                sets[_STATUS_SETS[key]] = int(value, 16)
    except (OSError, ValueError):
        pass
    return sets if len(sets) == len(_STATUS_SETS) else _queried_sets()


def _queried_sets() -> dict[str, int]:
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _checked(_libc.capget(ctypes.byref(header), data), "capget")
    low, high = data
    known = _known_caps()
    return {
        "effective": low.effective | high.effective << 32,
        "permitted": low.permitted | high.permitted << 32,
        "inheritable": low.inheritable | high.inheritable << 32,
        "bounding": sum(1 << cap for cap in known if _prctl(PR_CAPBSET_READ, cap) == 1),
        "ambient": sum(1 << cap for cap in known if _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap) == 1),
    }


@functools.lru_cache(maxsize=1)  # the kernel's last capability does not change
def _known_caps() -> tuple[int, ...]:
    return tuple(
        cap for cap in range(CAP_LAST_POSSIBLE + 1) if _libc.prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0
    )


def drop_capabilities(bounding: int | None = None) -> None:
    """Give up every capability for good (the bounding set and securebits only if CAP_SETPCAP
    is held); bounding: this process's bounding set, if already known.

    The bounding set and the securebits can only be changed while CAP_SETPCAP is held, so
    they go first; without it (an unprivileged process) they stay as they are, and
    no_new_privs keeps an exec from gaining anything. Then the ambient set, and capset(2)
    clears effective, permitted and inheritable: a process can never raise them again.
    """
    if bounding is None:
        bounding = capability_sets()["bounding"]
    for cap in range(bounding.bit_length()):
        if bounding >> cap & 1:
            try:
                _prctl(PR_CAPBSET_DROP, cap)
            except PermissionError:
                break  # no CAP_SETPCAP
    try:
        _prctl(PR_SET_SECUREBITS, LOCKED_SECUREBITS)
    except PermissionError:
        pass  # no CAP_SETPCAP, or already locked
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    clear_capabilities()
    set_no_new_privs()


def clear_capabilities() -> None:
    """Empty the effective, permitted and inheritable sets (and so the ambient one): one syscall."""
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    _checked(_libc.capset(ctypes.byref(header), (_CapData * 2)()), "capset")


def securebits() -> int:
    return _prctl(PR_GET_SECUREBITS, 0)


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
