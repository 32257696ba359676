"""Which shared libraries an ELF object needs and where they are: its DT_NEEDED sonames and
PT_INTERP loader, read from the file itself, resolved next to the object (its directory, ../lib,
the <package>.libs folders of wheels) or through the dynamic linker's cache."""

from __future__ import annotations

import functools
import mmap
import os
import struct
import subprocess
import sys
from typing import Any

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NEEDED, DT_STRTAB = 1, 5


def needs(path: str) -> tuple[list[str], str | None] | None:
    """DT_NEEDED sonames and PT_INTERP of an ELF64 little-endian file (None if not one)."""
    try:
        with open(path, "rb") as file:
            data = mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ)
    except (OSError, ValueError):
        return None
    with data:
        return _fields(data)


def _fields(data: Any) -> tuple[list[str], str | None] | None:
    if data[:4] != ELF_MAGIC or data[4] != 2 or data[5] != 1:
        return None
    phoff, phentsize, phnum = struct.unpack_from("<Q", data, 32)[0], *struct.unpack_from("<HH", data, 54)
    loads, dynamic, interp = [], None, None
    for index in range(phnum):
        kind, _, offset, vaddr, _, filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + index * phentsize
        )
        if kind == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif kind == PT_DYNAMIC:
            dynamic = (offset, filesz)
        elif kind == PT_INTERP:
            interp = data[offset : offset + filesz].rstrip(b"\0").decode()
    if dynamic is None:
        return [], interp
    entries = [struct.unpack_from("<qQ", data, dynamic[0] + at) for at in range(0, dynamic[1], 16)]
    strtab = next((value for tag, value in entries if tag == DT_STRTAB), None)
    base = next(
        (off + strtab - va for va, off, size in loads if strtab is not None and va <= strtab < va + size),
        None,
    )
    if base is None:
        return [], interp
    needed = []
    for tag, value in entries:
        if tag == DT_NEEDED:
            end = data.find(b"\0", base + value)
            needed.append(data[base + value : end].decode())
    return needed, interp


def library_index() -> dict[str, str]:
    """soname -> path, from the dynamic linker's cache (this machine's architecture)."""
    machine = "x86-64" if sys.maxsize > 2**32 and os.uname().machine == "x86_64" else None
    found: dict[str, str] = {}
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        for line in listing.splitlines()[1:]:
            name, _, rest = line.strip().partition(" (")
            flags, _, path = rest.partition(") => ")
            if path and (machine is None or machine in flags) and name not in found:
                found[name] = path
        break
    return found


def beside(path: str, soname: str) -> str | None:
    """soname in the object's own RPATH-ish places: its dir, ../lib and numpy.libs (wheels)."""
    here = os.path.dirname(os.path.realpath(path))
    for directory in (here, os.path.join(here, "..", "lib"), *_wheel_lib_dirs(here)):
        candidate = os.path.join(directory, soname)
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    return None


@functools.cache
def _wheel_lib_dirs(here: str) -> list[str]:
    """The <package>.libs folders auditwheel puts next to a package (RPATH $ORIGIN/../<pkg>.libs)."""
    found, current = [], here
    for _ in range(4):
        current = os.path.dirname(current)
        try:
            found += [os.path.join(current, n) for n in os.listdir(current) if n.endswith(".libs")]
        except OSError:
            break
    return found
