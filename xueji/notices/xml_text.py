"""What a Word document may hold: XML 1.0 refuses control characters (a vertical tab pasted into a visit note,
\x0b, a form feed, NUL) and lone surrogates, and lxml raises ValueError on them. Everything written into a
document passes through printable() first."""

from __future__ import annotations

import re

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """The text without the characters XML cannot hold (tab, newline and carriage return stay)."""
    return _ILLEGAL.sub("", text)
