"""Student-controlled text made safe to quote: one line, printable, and short."""

from __future__ import annotations

import unicodedata


def clip(text: object, limit: int) -> str:
    """`text` on one line, control and format characters (ANSI escapes, bidi overrides) dropped,
    cut to `limit` characters with an ellipsis; never fails, whatever `text` is."""
    if not isinstance(text, str):
        return ""
    kept = []
    for char in text[: 4 * limit + 16]:  # bound the work on long text before cleaning it
        if char in "\t\n\r":
            kept.append(" ")
        elif unicodedata.category(char)[0] != "C":  # Cc, Cf, Cs, Co, Cn
            kept.append(char)
    line = " ".join("".join(kept).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
