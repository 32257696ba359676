"""Dedicated uids: two sandboxes running at once never share one."""

from __future__ import annotations

import pytest

from autograder.sandbox import Sandbox


def test_concurrent_sandboxes_get_distinct_uids():
    with Sandbox() as first, Sandbox() as second:
        if first.uid is None:
            pytest.skip("the grader is not root: no dedicated uids")
        assert first.uid != second.uid
