"""How values read on screen: one formatting layer for tables, captions and charts. A label for every code, a dash
for every empty value, few decimals, the year on a date that is not in this year, times on the county's clock."""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum

from xueji.clock import china_time, today

DASH = "—"


def is_empty(value: object) -> bool:
    """None, NaN, NaT and blank text: nothing to show."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return type(value).__name__ in {"NaTType", "NAType"}


def text(value: object) -> str:
    """Any value as the user reads it: an enum's Chinese label, a dash for nothing."""
    if is_empty(value):
        return DASH
    if isinstance(value, Enum):
        return str(getattr(value, "label", value.value))
    if isinstance(value, datetime):
        return clock(value)
    if isinstance(value, date):
        return day(value)
    if isinstance(value, float):
        return number(value)
    return str(value)


def day(value: date | datetime | None, *, long: bool = False) -> str:
    """A date: month and day in this year (11-23), with the year otherwise (2026-03-15) or when long."""
    if is_empty(value):
        return DASH
    assert value is not None
    on = value.date() if isinstance(value, datetime) else value
    return on.isoformat() if long or on.year != today().year else on.strftime("%m-%d")


def clock(at: datetime | None, *, seconds: bool = False) -> str:
    """A stored time on the county's clock (Asia/Shanghai): 2026-11-23 09:30."""
    return china_time(at, seconds=seconds) if not is_empty(at) else DASH


def number(value: float | int | None, *, places: int = 1) -> str:
    """A figure with at most `places` decimals and no trailing zeros: 3.5, 12, 0.25 → 0.3 (places=1)."""
    if is_empty(value):
        return DASH
    assert value is not None
    rounded = round(float(value), places)
    return f"{rounded:.{places}f}".rstrip("0").rstrip(".") if places else f"{rounded:.0f}"
