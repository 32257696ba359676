"""Student-controlled text made safe to show: every character printable, and, to quote it in a
message, one short line."""

from __future__ import annotations


def visible(text: object, newlines: bool = False) -> str:
    """`text` with every character that is not printable written as an escape (`\\x1b`, `\\u202e`,
    `\\udc80`): control characters and ANSI escape sequences, bidi overrides and zero-width
    characters, lone surrogates. Line breaks and tabs are kept if `newlines`. Markup (rich, HTML)
    is left as it is: each output escapes its own (see cli and nbgrader_plugin)."""
    text = text if isinstance(text, str) else str(text)
    if text.isprintable():
        return text
    kept = "\n\t" if newlines else ""
    return "".join(char if char.isprintable() or char in kept else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def clip(text: object, limit: int) -> str:
    """`text` as one visible line (line breaks and tabs as spaces, other control characters
    escaped), cut to `limit` characters with an ellipsis; "" for anything but a str."""
    if not isinstance(text, str):
        return ""
    line = " ".join(visible(text[: 4 * limit + 16], newlines=True).split())  # bounded work
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
