"""Structured error replies: type, first message line, line and source of the student's innermost
frame; computed so that hostile exceptions cannot break them, and trusted by the grader only as
far as their type and length."""

from __future__ import annotations

import pytest

from autograder import sandbox as sandbox_module
from autograder.sandbox import Sandbox, SessionLoadError

REFERENCE = """\
def helper(x):
    return 1 / x
"""

STUDENT = """\
import numpy as np

def fails(kind):
    if kind == "value":
        raise ValueError("bad input\\nsecond line with secrets")
    if kind == "helper":
        return helper(0)
    if kind == "long":
        raise RuntimeError("x" * 5000)
    if kind == "source":
        raise KeyError("a")  # LONG
    if kind == "unprintable":
        raise Unprintable()
    if kind == "metaclass":
        raise Disguised("hidden")
    if kind == "named":
        raise type("E" * 100, (Exception,), {})("long type name")
    return np.zeros(2) + "s"

class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no")

class Meta(type):
    @property
    def __name__(cls):
        raise RuntimeError("no name for you")

class Disguised(Exception, metaclass=Meta):
    pass
""".replace("LONG", "a line far longer than 120 characters " * 4)


@pytest.fixture(scope="module")
def session():
    with Sandbox() as sandbox:
        session = sandbox.session([REFERENCE, STUDENT], "fails")
        yield session
        session.close()


def fields(result) -> tuple:
    return result.error_type, result.error_message, result.error_line, result.error_source


def test_an_error_reply_names_type_first_line_and_the_students_line(session):
    result = session.call("fails", ["value"])
    assert result.status == "error"
    assert fields(result) == (
        "ValueError",
        "bad input",
        5,
        'raise ValueError("bad input\\nsecond line with secrets")',
    )
    assert result.error.startswith("ValueError: bad input") and "raise ValueError" in result.traceback
    inner = session.call("fails", ["helper"])  # raised in the reference's helper: the student's line
    assert fields(inner) == ("ZeroDivisionError", "division by zero", 7, "return helper(0)")


def test_error_fields_are_short(session):
    long = session.call("fails", ["long"])
    assert long.error_type == "RuntimeError" and long.error_message == "x" * 200
    source = session.call("fails", ["source"])
    assert source.error_line == 11 and len(source.error_source) == 120
    assert source.error_source.startswith('raise KeyError("a")')
    named = session.call("fails", ["named"])
    assert named.error_type == "E" * 60 and named.error_message == "long type name"


def test_hostile_exceptions_cannot_break_the_fields(session):
    unprintable = session.call("fails", ["unprintable"])
    assert fields(unprintable) == ("Unprintable", "<unprintable message>", 13, "raise Unprintable()")
    disguised = session.call("fails", ["metaclass"])
    assert fields(disguised) == ("Disguised", "hidden", 15, 'raise Disguised("hidden")')
    numpy = session.call("fails", ["numpy"])
    assert numpy.error_line == 18 and numpy.error_source == 'return np.zeros(2) + "s"'


def test_load_errors_carry_the_same_fields():
    with Sandbox() as sandbox:
        with pytest.raises(SessionLoadError) as info:
            sandbox.session([REFERENCE, "x = 1\nhelper(0)\ndef f():\n    pass\n"], "f")
        error = info.value
        assert (error.error_type, error.error_message) == ("ZeroDivisionError", "division by zero")
        assert (error.error_line, error.error_source) == (2, "helper(0)")
        with pytest.raises(SessionLoadError) as missing:
            sandbox.session(["x = 1"], "f")
        assert missing.value.error_type == "NameError" and missing.value.error_line is None


FORGER = """\
import sys

worker = sys.modules["__main__"]
honest = worker.failure

def forged(error, *args, **kwargs):
    reply = honest(error, *args, **kwargs)
    reply.update(error_type=["list"], error_message="m" * 10_000, error_line="12", error_source="s" * 10_000)
    reply.update(error=2 ** 900, traceback=None, wrote_input="yes")
    return reply

worker.failure = forged

def f():
    raise ValueError("x")
"""


def test_the_grader_trusts_the_fields_only_as_far_as_type_and_length():
    with Sandbox() as sandbox:
        session = sandbox.session([FORGER], "f")
        result = session.call("f")
        session.close()
    assert result.status == "error" and result.error == "unknown error" and result.traceback == ""
    assert fields(result) == ("", "m" * 200, None, "s" * 120) and result.wrote_input is False
    reply = {"ok": False, "error_line": 2**40, "error_type": "T" * 500, "error_message": b"bytes"}
    decoded = sandbox_module._result_of_reply(sandbox_module._Outcome("reply", message=reply), 0.0)
    assert fields(decoded) == ("T" * 60, "", None, "") and decoded.error == "unknown error"
