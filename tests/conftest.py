import contextlib
import signal

import pytest

from autograder.reference import load_reference
from autograder.sandbox import Sandbox


@pytest.fixture(scope="session")
def conv_reference():
    """The reference solution of conv_step_by_step, loaded from the source notebook."""
    from helpers import assignment

    return load_reference(assignment("conv_step_by_step"))


@contextlib.contextmanager
def _at_most(seconds: float):
    def expire(*_):
        raise TimeoutError(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def at_most():
    """`with at_most(seconds):` fails with TimeoutError instead of hanging: a blocking open or
    read is interrupted by SIGALRM."""
    return _at_most


@pytest.fixture(scope="module")
def sandbox():
    """A started sandbox shared by a test module's tests (sessions wipe what they leave)."""
    with Sandbox(wall_timeout=10.0) as started:
        yield started
