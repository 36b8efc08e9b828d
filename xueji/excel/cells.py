"""A cell's value as the text a person typed: whole numbers without ".0", dates as YYYY-MM-DD, booleans as
是/否. Numbers longer than Excel keeps (15 significant digits) have lost digits: they are flagged lossy."""

from __future__ import annotations

import math
from datetime import date, datetime, time

EXCEL_DIGITS = 15


def cell_text(value: object) -> tuple[str, bool]:
    """(the text, whether it is a number that lost digits in Excel)."""
    if value is None:
        return "", False
    if isinstance(value, str):
        return value, False
    if isinstance(value, bool):
        return ("是" if value else "否"), False
    if isinstance(value, float | int):
        if math.isfinite(value) and value == int(value):
            text = str(int(value))
            return text, len(text.lstrip("-")) > EXCEL_DIGITS
        return repr(value), False
    if isinstance(value, datetime):
        return value.date().isoformat(), False
    if isinstance(value, date | time):
        return value.isoformat(), False
    return str(value), False
