"""Sessions: cells loaded in order, calls on fresh copies of the inputs, load and call errors
reported with the student's lines only, output returned; and the structured error fields (type,
first message line, line and source of the student's innermost frame), computed so that hostile
exceptions cannot break them, and trusted by the grader only as far as their type and length."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from programs import STUDENT

from autograder.sandbox import CallResult, Sandbox, SessionLoadError, Status, wire
from autograder.sandbox import session as session_module
from autograder.sandbox.zygote import Outcome


def test_session_calls_a_function_and_returns_arrays(sandbox):
    session = sandbox.session([STUDENT], "double")
    result = session.call("double", [np.arange(6.0).reshape(2, 3)])
    assert result.ok, result.error
    doubled, (total, shapes) = result.value
    np.testing.assert_array_equal(doubled, np.arange(6.0).reshape(2, 3) * 2)
    assert type(total) is np.float64 and total == 15.0
    assert shapes == [(2, 3)] and type(shapes[0]) is tuple
    second = session.call("double", args=(np.int64(4),))
    assert second.ok and second.value[0] == 8
    session.close()


def test_inputs_are_fresh_copies_per_call(sandbox):
    session = sandbox.session(["def grow(a):\n    a += 1\n    return a\n"], "grow")
    data = np.zeros(3)
    assert session.call("grow", [data]).value.tolist() == [1, 1, 1]
    assert session.call("grow", [data]).value.tolist() == [1, 1, 1]
    assert data.tolist() == [0, 0, 0]
    session.close()


def test_load_error_reports_only_the_students_lines(sandbox):
    reference = "def helper():\n    secret_reference_line = 1 / 0\n"
    student = "# GRADED FUNCTION: f\nhelper()\ndef f():\n    pass\n"
    with pytest.raises(SessionLoadError) as info:
        sandbox.session([reference, student], "f")
    assert info.value.status == "error"
    assert info.value.error.startswith("ZeroDivisionError")
    assert "helper()" in info.value.traceback and "secret_reference_line" not in info.value.traceback


def test_leftover_code_failing_after_the_function_keeps_the_function(sandbox):
    student = "# GRADED FUNCTION: f\ndef f():\n    return 7\nf(undefined_notebook_variable)\n"
    assert sandbox.session([student], "f").call("f").value == 7


def test_missing_target_is_a_load_error(sandbox):
    with pytest.raises(SessionLoadError, match="NameError"):
        sandbox.session(["x = 1"], "f")


def test_pinned_names_survive_the_students_cell(sandbox):
    reference = "def helper():\n    return 'reference'\n"
    student = "def helper():\n    return 'student'\ndef f():\n    return helper()\n"
    session = sandbox.session([reference, student], "f", pin=["helper"])
    assert session.call("f").value == "reference"
    session.close()


def test_call_errors_are_reported_with_a_short_message(sandbox):
    session = sandbox.session(["def f(n):\n    raise ValueError('x' * n)\n"], "f")
    result = session.call("f", [5000])
    assert (
        result.status == "error" and result.error.startswith("ValueError: xxx") and len(result.error) <= 500
    )
    assert "raise ValueError" in result.traceback
    assert session.call("nope").status == "error"
    session.close()


def test_results_of_unsupported_types_are_named(attacks):
    value = attacks.call("weird_result").value
    assert [type(v) for v in value[:3]] == [wire.Unsupported] * 3
    assert "Secret" in value[0].type_name and "object" in value[1].type_name
    assert value[3] == (1, 2)


def test_printed_output_is_returned_after_the_session(sandbox):
    session = sandbox.session(["def f():\n    print('hello from f')\n"], "f")
    assert session.call("f").ok
    session.close()
    assert session.output == "hello from f\n"


def test_monkeypatching_inside_the_session_does_not_reach_the_grader(attacks):
    assert attacks.call("patch_the_world").value is True
    assert not np.allclose(1, 2)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(1, 2)
    assert time.perf_counter() > 0


@pytest.mark.slow  # waits out a 1 s wall-clock timeout
def test_load_that_never_ends_times_out(sandbox):
    with pytest.raises(SessionLoadError) as info:
        sandbox.session(["while True:\n    pass\n"], "f", timeout=1.0)
    assert info.value.status == "timeout"
    session = sandbox.session([STUDENT], "double")
    assert session.call("double", [np.ones(1)]).ok
    session.close()


def test_call_result_is_plain_data():
    result = CallResult("ok", value=1)
    assert result.ok and not CallResult("timeout").ok


def test_statuses_compare_encode_and_print_as_their_strings():
    result = CallResult("cpu_limit")
    assert result.status is Status.CPU_LIMIT and result.status == "cpu_limit" != Status.TIMEOUT
    assert f"{result.status}" == str(result.status) == "cpu_limit"
    assert json.dumps({"status": result.status}) == '{"status": "cpu_limit"}'
    assert wire.decode(wire.encode(Status.OK)) == "ok"
    assert SessionLoadError("timeout", "slow").status is Status.TIMEOUT
    with pytest.raises(ValueError):
        CallResult("no such status")


REFERENCE = """\
def helper(x):
    return 1 / x
"""


FAILING = """\
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
        session = sandbox.session([REFERENCE, FAILING], "fails")
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
    decoded = session_module._result_of_reply(Outcome("reply", message=reply), 0.0)
    assert fields(decoded) == ("T" * 60, "", None, "") and decoded.error == "unknown error"
