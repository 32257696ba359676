"""Bounded decoding: every value and dict key counts against the item limit, decoding has a
deadline, and a reply crafted to decode slowly fails its call fast while the sandbox recovers."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from autograder import wire

ENTRY = b"s" + struct.pack(">Q", 1) + b"k" + b"N"  # one dict entry: "k": None


def many_keys(n: int) -> bytes:
    """A dict of n entries, all with the same key: small to send, slow to decode uncounted."""
    return b"d" + struct.pack(">I", n) + ENTRY * n


def test_millions_of_dict_keys_are_refused_fast():
    payload = many_keys(3_000_000)  # 33 MB, well within the frame size limit
    start = time.monotonic()
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode(payload)
    assert time.monotonic() - start < 1.0


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


def test_a_result_with_too_many_items_fails_fast_with_a_clear_error(sandbox):
    session = sandbox.session([STUDENT], "many_keys")
    start = time.monotonic()
    result = session.call("many_keys")
    assert time.monotonic() - start < 3.0
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
