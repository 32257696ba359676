"""A small, pickle-free message format for talking to untrusted code over pipes.

The grader decodes bytes written by a process that runs student code, so decoding
must never run code, never allocate more than the frame it was given, and fail with
one exception type, `WireError`, on anything malformed. Values are trees of plain
data: None, bool, int, float, complex, str, bytes, tuple, list, dict with str keys,
numeric/bool numpy arrays and numpy scalars. Anything else is encoded as an
`Unsupported` marker carrying only a type name, so the grader can report what came
back without ever holding the object.

Frame: b"AGW1" + 8-byte big-endian payload length + payload. Payload: one value,
each value a one-byte tag followed by its body (see `_Encoder`).

Decoding time is bounded too: every value and every dict key counts against max_items
(on both sides, so a result the grader would refuse is refused when encoded), and
`decode` can be given a deadline it checks every few thousand items.

This module only imports numpy and the standard library: the sandbox worker copies
it next to itself and must not pull in any grader code.
"""

from __future__ import annotations

import os
import re
import struct
import time
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

MAGIC = b"AGW1"
HEADER = struct.Struct(">4sQ")
DEFAULT_MAX_SIZE = 256 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
# Each 1-byte item (None, a bool) becomes an 8-byte pointer or more, and costs about a
# microsecond to decode: capping the count (values and dict keys alike) keeps a frame's
# decoded size and decoding time proportional to plausible results, which here are a few
# hundred arrays at most.
DEFAULT_MAX_ITEMS = 1 << 18
DEADLINE_EVERY = 4096  # items between two looks at the clock
# Ints beyond ~2500 digits are not plausible results, and ints of more than 4300 digits
# cannot even be printed (sys.int_info.default_max_str_digits).
MAX_INT_BYTES = 1024
MAX_TYPE_NAME = 200
MAX_NDIM = 64

# dtypes we accept: byte order, kind (bool/int/uint/float/complex), item size.
_DTYPE_RE = re.compile(r"^[<>|][biufc][0-9]{1,2}$")
_NUMERIC_KINDS = frozenset("biufc")

_U8 = struct.Struct(">B")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_F64 = struct.Struct(">d")
_C128 = struct.Struct(">dd")


class WireError(ValueError):
    """The bytes are not a valid message (truncated, oversized, too deep, bad type)."""


@dataclass(frozen=True)
class Unsupported:
    """Stands for a value that cannot cross the wire; only its type name travels."""

    type_name: str

    def __str__(self) -> str:
        return f"<unsupported {self.type_name}>"


def type_name(value: Any) -> str:
    """A readable name of a value's type, e.g. "numpy.ndarray[object]" or "__main__.Foo"."""
    kind = type(value)
    module = getattr(kind, "__module__", "?")
    qualname = getattr(kind, "__qualname__", kind.__name__)
    name = qualname if module == "builtins" else f"{module}.{qualname}"
    if isinstance(value, np.ndarray):
        name = f"{'numpy.ndarray' if kind is np.ndarray else name}[{value.dtype}]"
    return str(name)[:MAX_TYPE_NAME]


def _numeric_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in _NUMERIC_KINDS and not dtype.fields and dtype.subdtype is None


# ---------------------------------------------------------------- encoding


class _Encoder:
    """Turns a value tree into payload bytes, enforcing depth and size limits.

    Tags: N None, T/F bools, i int, f float, c complex, s str, y bytes,
    t tuple, l list, d dict, a ndarray, S numpy scalar, U unsupported.
    """

    def __init__(self, max_depth: int, max_size: int, max_items: int = DEFAULT_MAX_ITEMS) -> None:
        self.parts: list[bytes | memoryview] = []
        self.size = 0
        self.max_depth = max_depth
        self.max_size = max_size
        self.items_left = max_items
        self.max_items = max_items

    def count_item(self) -> None:
        """One more value or dict key, as the decoder counts them."""
        self.items_left -= 1
        if self.items_left < 0:
            raise WireError(f"message holds more than {self.max_items} items")

    def emit(self, *chunks: bytes | memoryview) -> None:
        for chunk in chunks:
            self.size += memoryview(chunk).nbytes
            if self.size > self.max_size:
                raise WireError(f"message larger than {self.max_size} bytes")
            self.parts.append(chunk)

    def sized(self, data: bytes | memoryview) -> None:
        self.emit(_U64.pack(memoryview(data).nbytes), data)

    def value(self, x: Any, depth: int = 0) -> None:
        if depth > self.max_depth:
            raise WireError(f"value nested deeper than {self.max_depth} levels")
        self.count_item()
        if x is None:
            self.emit(b"N")
        elif x is True or x is False:
            self.emit(b"T" if x else b"F")
        elif isinstance(x, np.ndarray):
            self.array(x)
        elif isinstance(x, np.generic):
            self.scalar(x)
        elif isinstance(x, int):
            self.integer(int(x))
        elif isinstance(x, float):
            self.emit(b"f", _F64.pack(float(x)))
        elif isinstance(x, complex):
            z = complex(x)
            self.emit(b"c", _C128.pack(z.real, z.imag))
        elif isinstance(x, str):
            self.emit(b"s")
            self.sized(str.encode(x, "utf-8", "surrogatepass"))
        elif isinstance(x, (bytes, bytearray, memoryview)):
            self.emit(b"y")
            self.sized(bytes(x))
        elif isinstance(x, (tuple, list)):
            items = tuple.__iter__(x) if isinstance(x, tuple) else list.__iter__(x)
            items = list(items)
            self.emit(b"t" if isinstance(x, tuple) else b"l", _U32.pack(len(items)))
            for item in items:
                self.value(item, depth + 1)
        elif isinstance(x, (dict, types.MappingProxyType)):  # read-only inputs are mapping proxies
            self.mapping(x, depth)
        else:
            self.unsupported(type_name(x))

    def integer(self, n: int) -> None:
        length = (n.bit_length() + 8) // 8  # room for the sign bit
        if length > MAX_INT_BYTES:
            raise WireError(f"int too large ({length} bytes)")
        self.emit(b"i", _U32.pack(length), n.to_bytes(length, "big", signed=True))

    def mapping(self, x: dict | types.MappingProxyType, depth: int) -> None:
        items = list(dict.items(x)) if isinstance(x, dict) else list(x.items())
        if not all(type(key) is str for key, _ in items):
            self.unsupported("dict with non-str keys")
            return
        self.emit(b"d", _U32.pack(len(items)))
        for key, item in items:
            self.count_item()
            self.emit(b"s")
            self.sized(key.encode("utf-8", "surrogatepass"))
            self.value(item, depth + 1)

    def dtype_header(self, dtype: np.dtype) -> None:
        code = dtype.str.encode("ascii")
        self.emit(_U8.pack(len(code)), code)

    def array(self, a: np.ndarray) -> None:
        if type(a) is not np.ndarray or not _numeric_dtype(a.dtype):
            self.unsupported(type_name(a))
            return
        if a.ndim > MAX_NDIM:
            raise WireError("array has too many dimensions")
        self.emit(b"a")
        self.dtype_header(a.dtype)
        self.emit(_U8.pack(a.ndim), b"".join(_U64.pack(n) for n in a.shape))
        self.sized(_raw_bytes(a))

    def scalar(self, x: np.generic) -> None:
        if not _numeric_dtype(x.dtype):
            self.unsupported(type_name(x))
            return
        self.emit(b"S")
        self.dtype_header(x.dtype)
        self.sized(np.asarray(x).tobytes())

    def unsupported(self, name: str) -> None:
        self.emit(b"U")
        self.sized(name[:MAX_TYPE_NAME].encode("utf-8", "replace"))


def _raw_bytes(a: np.ndarray) -> memoryview:
    """The array's bytes in C order, without a copy when it is already contiguous."""
    flat = np.ascontiguousarray(a).reshape(-1)
    return memoryview(flat.view(np.uint8))


def _encode_parts(value: Any, max_depth: int, max_size: int, max_items: int = DEFAULT_MAX_ITEMS) -> _Encoder:
    encoder = _Encoder(max_depth, max_size, max_items)
    try:
        encoder.value(value)
    except RecursionError:
        raise WireError("value nested too deeply") from None
    return encoder


def encode(
    value: Any,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_size: int = DEFAULT_MAX_SIZE,
    max_items: int = DEFAULT_MAX_ITEMS,
) -> bytes:
    """Encode a value tree as payload bytes; raises WireError when too deep, large or many."""
    return b"".join(_encode_parts(value, max_depth, max_size, max_items).parts)


# ---------------------------------------------------------------- decoding


_CONSTANTS = {b"N": None, b"T": True, b"F": False}
_DTYPES: dict[bytes, np.dtype] = {}  # at most 3 * 5 * 100 codes can pass _DTYPE_RE


class _Decoder:
    """Reads a payload strictly: every length is checked against what remains."""

    def __init__(
        self,
        data: bytes | bytearray | memoryview,
        max_depth: int,
        max_items: int,
        deadline_s: float | None = None,
    ) -> None:
        self.data = memoryview(data).cast("B")
        self.pos = 0
        self.max_depth = max_depth
        self.items_left = max_items
        self.deadline_s = deadline_s
        self.deadline = None if deadline_s is None else time.monotonic() + deadline_s
        self.until_clock = DEADLINE_EVERY

    def count_item(self) -> None:
        """One more value or dict key: within max_items, and (now and then) the deadline."""
        self.items_left -= 1
        if self.items_left < 0:
            raise WireError("message holds too many items")
        self.until_clock -= 1
        if self.until_clock <= 0:
            self.until_clock = DEADLINE_EVERY
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise WireError(f"message took more than {self.deadline_s:g} s to decode")

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise WireError("truncated message")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: struct.Struct) -> Any:
        return fmt.unpack(self.take(fmt.size))[0]

    def sized(self) -> memoryview:
        return self.take(self.unpack(_U64))

    def count(self) -> int:
        n = self.unpack(_U32)
        if n > len(self.data) - self.pos:  # every item takes at least one byte
            raise WireError("item count exceeds message size")
        return n

    def text(self) -> str:
        try:
            return str(self.sized(), "utf-8", "surrogatepass")
        except UnicodeDecodeError as error:
            raise WireError(f"invalid utf-8 in string: {error.reason}") from None

    def value(self, depth: int = 0) -> Any:
        if depth > self.max_depth:
            raise WireError(f"message nested deeper than {self.max_depth} levels")
        self.count_item()
        tag = bytes(self.take(1))
        if tag in _CONSTANTS:
            return _CONSTANTS[tag]
        if tag == b"i":
            length = self.unpack(_U32)
            if length > MAX_INT_BYTES:
                raise WireError("int too large")
            return int.from_bytes(self.take(length), "big", signed=True)
        if tag == b"f":
            return self.unpack(_F64)
        if tag == b"c":
            return complex(*_C128.unpack(self.take(_C128.size)))
        if tag == b"s":
            return self.text()
        if tag == b"y":
            return bytes(self.sized())
        if tag in (b"t", b"l"):
            items = [self.value(depth + 1) for _ in range(self.count())]
            return tuple(items) if tag == b"t" else items
        if tag == b"d":
            return self.mapping(depth)
        if tag == b"a":
            return self.array()
        if tag == b"S":
            return self.scalar()
        if tag == b"U":
            return Unsupported(self.text()[:MAX_TYPE_NAME])
        raise WireError(f"unknown tag {tag!r}")

    def mapping(self, depth: int) -> dict:
        result: dict[str, Any] = {}
        for _ in range(self.count()):
            self.count_item()
            if bytes(self.take(1)) != b"s":
                raise WireError("dict key is not a string")
            key = self.text()
            result[key] = self.value(depth + 1)
        return result

    def dtype(self) -> np.dtype:
        code = bytes(self.take(self.unpack(_U8)))
        known = _DTYPES.get(code)
        if known is not None:
            return known
        _DTYPES[code] = dtype = self.parse_dtype(code)  # only allowed codes get here
        return dtype

    @staticmethod
    def parse_dtype(code: bytes) -> np.dtype:
        try:
            text = code.decode("ascii")
        except UnicodeDecodeError:
            raise WireError("dtype is not ascii") from None
        if not _DTYPE_RE.match(text):
            raise WireError(f"dtype {text!r} not allowed")
        try:
            dtype = np.dtype(text)
        except TypeError:
            raise WireError(f"dtype {text!r} not understood") from None
        if not _numeric_dtype(dtype):
            raise WireError(f"dtype {text!r} not allowed")
        return dtype

    def array(self) -> np.ndarray:
        dtype = self.dtype()
        ndim = self.unpack(_U8)
        if ndim > MAX_NDIM:
            raise WireError("array has too many dimensions")
        shape = tuple(self.unpack(_U64) for _ in range(ndim))
        data = self.sized()
        expected = dtype.itemsize
        for n in shape:
            expected = min(expected * n, len(self.data) + 1)  # no product beyond the frame's size
        if expected != data.nbytes:
            raise WireError(f"array data is {data.nbytes} bytes, shape {shape} needs {expected}")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()  # owned and writable

    def scalar(self) -> np.generic:
        dtype = self.dtype()
        data = self.sized()
        if data.nbytes != dtype.itemsize:
            raise WireError("numpy scalar has the wrong size")
        return np.frombuffer(data, dtype=dtype)[0]


def decode(
    payload: bytes | bytearray | memoryview,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_items: int = DEFAULT_MAX_ITEMS,
    deadline_s: float | None = None,
) -> Any:
    """Decode payload bytes made by `encode`; raises WireError on anything malformed, on more
    than max_items values and dict keys, and once decoding has taken more than deadline_s."""
    decoder = _Decoder(payload, max_depth, max_items, deadline_s)
    try:
        value = decoder.value()
    except WireError:
        raise
    except (RecursionError, MemoryError, ValueError, OverflowError, struct.error) as error:
        raise WireError(f"malformed message: {type(error).__name__}: {error}") from None
    if decoder.pos != len(decoder.data):
        raise WireError("trailing bytes after message")
    return value


# ---------------------------------------------------------------- framing


def frame(payload: bytes) -> bytes:
    """Prefix a payload with the magic and its length."""
    return HEADER.pack(MAGIC, len(payload)) + payload


def pack(value: Any, *, max_size: int = DEFAULT_MAX_SIZE, max_depth: int = DEFAULT_MAX_DEPTH) -> bytes:
    """Encode and frame a value in one step (array data is copied only once)."""
    encoder = _encode_parts(value, max_depth, max_size)
    return b"".join([HEADER.pack(MAGIC, encoder.size), *encoder.parts])


def parse_header(header: bytes | bytearray, max_size: int) -> int:
    """The payload length announced by a frame header, checked against max_size."""
    magic, length = HEADER.unpack(header)
    if magic != MAGIC:
        raise WireError("bad frame magic")
    if length > max_size:
        raise WireError(f"frame of {length} bytes exceeds the limit of {max_size}")
    return length


class FrameReader:
    """Incremental frame parser for non-blocking reads: feed bytes, take whole payloads.

    The payload buffer is allocated once the header has announced its size (at most
    max_size), so a flood from the other side cannot grow the reader's memory.
    """

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.max_size = max_size
        self.header = bytearray()
        self.body: bytearray | None = None
        self.filled = 0

    def wanted(self) -> int:
        """How many more bytes complete the current header or payload."""
        if self.body is None:
            return HEADER.size - len(self.header)
        return len(self.body) - self.filled

    def _commit(self, data: bytes | memoryview) -> None:
        if self.body is None:
            self.header += data
            if len(self.header) == HEADER.size:
                self.body = bytearray(parse_header(self.header, self.max_size))
        else:
            self.body[self.filled : self.filled + len(data)] = data
            self.filled += len(data)

    def feed(self, data: bytes) -> None:
        """Add bytes of the current frame; more than the frame needs is a WireError."""
        view = memoryview(data)
        while view:
            needed = self.wanted()
            if needed <= 0:
                raise WireError("fed more bytes than the current frame needs")
            self._commit(view[:needed])
            view = view[needed:]

    def read_from(self, fd: int) -> bool:
        """Read from fd straight into the frame until it is complete or fd would block.

        Returns True at end of file, False otherwise; works on blocking and
        non-blocking fds alike.
        """
        while self.wanted() > 0:
            if self.body is None:
                try:
                    chunk = os.read(fd, self.wanted())
                except BlockingIOError:
                    return False
                if not chunk:
                    return True
                self._commit(chunk)
                continue
            try:
                count = os.readv(fd, [memoryview(self.body)[self.filled :]])
            except BlockingIOError:
                return False
            if count == 0:
                return True
            self.filled += count
        return False

    def payload(self) -> bytearray | None:
        """The completed payload (then the reader is reset), or None while incomplete."""
        if self.body is None or self.wanted() > 0:
            return None
        payload = self.body
        self.header, self.body, self.filled = bytearray(), None, 0
        return payload


def read_message(fd: int, *, max_size: int = DEFAULT_MAX_SIZE, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Blocking read and decode of one frame (for the worker, whose peer is trusted).

    Raises EOFError when the writer closed the pipe.
    """
    reader = FrameReader(max_size)
    while True:
        if reader.read_from(fd):
            raise EOFError("pipe closed")
        payload = reader.payload()
        if payload is not None:
            return decode(payload, max_depth=max_depth)


def write_all(fd: int, data: bytes) -> None:
    """Blocking write of all bytes (os.write may write only part on a pipe)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_message(fd: int, value: Any, *, max_size: int = DEFAULT_MAX_SIZE) -> None:
    """Encode, frame and write one value, blocking until it is all written."""
    write_all(fd, pack(value, max_size=max_size))
