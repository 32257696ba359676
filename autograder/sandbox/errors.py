"""What the sandbox raises and warns with: a `SandboxError` when it cannot start or recover,
a `SandboxWarning` naming each protection layer this machine cannot give."""

from __future__ import annotations


class SandboxWarning(UserWarning):
    """A protection layer is unavailable on this machine; the message names it."""


class SandboxError(RuntimeError):
    """The sandbox could not be started or has failed in a way it cannot recover from."""
