"""wire.py, the pickle-free format of every request and reply: exact round trips, markers for
what it cannot carry, framing, and bounded decoding (every value and dict key counts against
the item limit, decoding has a deadline, and a reply crafted to decode slowly fails its call
fast while the sandbox recovers)."""

from __future__ import annotations

import os
import struct
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.sandbox import wire


def roundtrip(value):
    return wire.decode(wire.encode(value))


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -1, 2**200, -(2**70), 1.5, float("inf"), -0.0, 1 + 2j, "", "héllo ✓", b"\x00\xff"],
)
def test_wire_scalars_roundtrip(value):
    result = roundtrip(value)
    assert type(result) is type(value) and result == value


def test_wire_nan_and_containers_keep_their_types():
    assert np.isnan(roundtrip(float("nan")))
    value = {"t": (1, (2, [3, (4,)])), "l": [(), []], "d": {"x": None}}
    result = roundtrip(value)
    assert result == value
    assert type(result["t"]) is tuple and type(result["t"][1]) is tuple and type(result["t"][1][1]) is list
    assert type(result["l"][0]) is tuple and type(result["l"][1]) is list


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.float64).reshape(2, 3, 4),
        np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        np.arange(10)[::3],
        np.array([True, False]),
        np.array(3.5),
        np.zeros((0, 3), dtype=np.uint8),
        np.array([1 + 2j], dtype=np.complex64),
        np.arange(4, dtype=">f8"),
        np.float16([1.5, -2]),
    ],
)
def test_wire_arrays_are_exact(array):
    result = roundtrip(array)
    assert type(result) is np.ndarray and result.dtype == array.dtype and result.shape == array.shape
    np.testing.assert_array_equal(result, array)
    assert result.flags.writeable


@pytest.mark.parametrize(
    "scalar", [np.float64(1.25), np.int32(-7), np.bool_(True), np.complex128(1j), np.uint8(200)]
)
def test_wire_numpy_scalars_stay_numpy_scalars(scalar):
    result = roundtrip(scalar)
    assert type(result) is type(scalar) and result == scalar


class Foo:
    pass


@pytest.mark.parametrize(
    "value, name",
    [
        (np.array([1, "a"], dtype=object), "numpy.ndarray[object]"),
        (np.array(["ab"]), "numpy.ndarray[<U2]"),
        (Foo(), "Foo"),
        (len, "builtin_function_or_method"),
        ({1, 2}, "set"),
        ({1: 2}, "dict with non-str keys"),
        (np.ma.masked_array([1.0]), "MaskedArray"),
    ],
)
def test_wire_unsupported_values_become_markers(value, name):
    result = roundtrip([value])[0]
    assert isinstance(result, wire.Unsupported) and name in result.type_name


def test_wire_limits_the_number_of_items():
    payload = wire.encode([None] * 10)
    assert wire.decode(payload, max_items=11) == [None] * 10
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode(payload, max_items=10)


def test_wire_refuses_cycles_and_oversized_values():
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(wire.WireError):
        wire.encode(cycle)
    with pytest.raises(wire.WireError):
        wire.encode(np.zeros(1000), max_size=100)


def valid_payload() -> bytes:
    return wire.encode({"ok": True, "value": (np.arange(6.0).reshape(2, 3), [1, "x"], np.int64(3))})


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"Q",  # unknown tag
        b"s" + struct.pack(">Q", 10) + b"abc",  # truncated string
        b"s" + struct.pack(">Q", 2) + b"\xff\xfe",  # invalid utf-8
        b"l" + struct.pack(">I", 2**32 - 1),  # count larger than the message
        b"NN",  # trailing bytes
        b"d" + struct.pack(">I", 1) + b"N" + b"N",  # non-string key
        b"a\x03|O8\x01" + struct.pack(">QQ", 1, 8) + b"\0" * 8,  # object dtype
        b"a\x03<U1\x01" + struct.pack(">QQ", 1, 4) + b"\0" * 4,  # string dtype
        b"a\x03<f8\x01" + struct.pack(">QQ", 2, 8) + b"\0" * 8,  # shape needs 16 bytes
        b"a\x03<f8\x01" + struct.pack(">QQ", 2**62, 0),  # absurd shape
        b"S\x03<f8" + struct.pack(">Q", 4) + b"\0" * 4,  # scalar of wrong size
        b"i" + struct.pack(">I", 10**6),  # int too large
        b"l\x00\x00\x00\x01" * 200 + b"N",  # nested deeper than the limit
    ],
)
def test_wire_malformed_payloads_raise_wire_error(payload):
    with pytest.raises(wire.WireError):
        wire.decode(payload)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_wire_mutated_payloads_never_raise_anything_but_wire_error(data):
    payload = bytearray(valid_payload())
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(payload) - 1))
        payload[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(payload)))
    try:
        wire.decode(bytes(payload[:cut]))
    except wire.WireError:
        pass


def test_wire_frames_check_magic_and_size():
    framed = wire.pack([1, 2, 3])
    reader = wire.FrameReader(max_size=1024)
    reader.feed(framed[:5])
    assert reader.payload() is None
    reader.feed(framed[5:])
    assert wire.decode(reader.payload()) == [1, 2, 3]
    with pytest.raises(wire.WireError, match="magic"):
        wire.FrameReader().feed(b"EVIL" + framed[4:])
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.FrameReader(max_size=1024).feed(wire.HEADER.pack(wire.MAGIC, 2**40))


def test_wire_blocking_message_roundtrip_over_a_pipe():
    r, w = os.pipe()
    try:
        wire.write_message(w, {"op": "call", "args": [np.eye(2)]})
        message = wire.read_message(r)
        np.testing.assert_array_equal(message["args"][0], np.eye(2))
        os.write(w, wire.HEADER.pack(wire.MAGIC, 100))
        with pytest.raises(wire.WireError):
            wire.read_message(r, max_size=10)
    finally:
        os.close(r)
        os.close(w)


ENTRY = b"s" + struct.pack(">Q", 1) + b"k" + b"N"  # one dict entry: "k": None


def many_keys(n: int) -> bytes:
    """A dict of n entries, all with the same key: small to send, slow to decode uncounted."""
    return b"d" + struct.pack(">I", n) + ENTRY * n


def test_millions_of_dict_keys_are_refused_at_the_item_limit():
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode(many_keys(3_000_000))  # 33 MB, well within the frame size limit
    # refused once the limit is passed, before the rest is read: after the limit's worth of entries
    # the payload is garbage, which a decoder reading on would refuse for another reason
    n, limit = 3_000_000, wire.DEFAULT_MAX_ITEMS
    garbage = b"d" + struct.pack(">I", n) + ENTRY * limit + b"\xff" * (len(ENTRY) * (n - limit))
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode(garbage)


def test_the_item_limit_fits_results_and_counts_keys_on_both_sides():
    result = {"caches": [(np.zeros((4, 4)), {"W": np.ones(3), "b": 0.5}) for _ in range(300)], "n": 3}
    assert wire.decode(wire.encode(result))["n"] == 3
    too_many = [None] * wire.DEFAULT_MAX_ITEMS
    with pytest.raises(wire.WireError, match="more than"):
        wire.encode(too_many)
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode(wire.encode(too_many, max_items=len(too_many) + 1))
    keys = {str(index): None for index in range(10)}  # 21 items: the dict, 10 keys, 10 values
    assert wire.decode(wire.encode(keys, max_items=21), max_items=21) == keys
    with pytest.raises(wire.WireError):
        wire.decode(wire.encode(keys, max_items=21), max_items=20)


def test_decoding_stops_at_its_deadline():
    payload = wire.encode([[None] * 1000 for _ in range(200)])  # 200k items: ~0.1 s to decode
    with pytest.raises(wire.WireError, match="took more than"):
        wire.decode(payload, deadline_s=0.001)
    assert len(wire.decode(payload, deadline_s=60)) == 200


def test_ints_stay_printable():
    largest = 2 ** (8 * wire.MAX_INT_BYTES - 2)
    assert str(wire.decode(wire.encode(largest)))[:3] == str(largest)[:3]
    with pytest.raises(wire.WireError):
        wire.encode(2 ** (8 * wire.MAX_INT_BYTES))
    assert len(str(largest)) < 4300  # sys.int_info.default_max_str_digits


STUDENT = """\
import sys, wire

def many_keys():
    d = {str(index): None for index in range(1000)}
    return [d] * 300

def forge_slow_reply(n):
    entry = b"s" + (1).to_bytes(8, "big") + b"k" + b"N"
    payload = b"d" + n.to_bytes(4, "big") + entry * n
    fd = int(sys.argv[sys.argv.index("--replies") + 1])
    wire.write_all(fd, wire.HEADER.pack(wire.MAGIC, len(payload)) + payload)
    return "forged"

def ok():
    return "ok"
"""


def test_a_result_with_too_many_items_fails_with_a_clear_error(sandbox):
    # refused at the item limit, not after decoding it all (see the test of decode above)
    session = sandbox.session([STUDENT], "many_keys")
    result = session.call("many_keys")
    assert result.status == "error" and "more than" in result.error and "items" in result.error, result
    assert session.call("ok").value == "ok"
    session.close()


def test_a_reply_crafted_to_decode_slowly_is_a_protocol_error_and_the_sandbox_recovers(sandbox):
    session = sandbox.session([STUDENT], "forge_slow_reply")
    start = time.monotonic()
    result = session.call("forge_slow_reply", [3_000_000])
    assert result.status == "protocol" and "too many items" in result.error, result
    assert time.monotonic() - start < 2.0
    assert session.call("ok").value == "ok"
    session.close()
