"""How values read on screen: one formatting layer for tables, captions and charts. A label for every code, a dash
for every empty value, few decimals, the year on a date that is not in this year, times on the county's clock."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

import pandas as pd
from pandas.api import types

from xueji.clock import china_time, today, zone_name

DASH = "—"

# How a column's stored codes read: an enum with a .label, or a mapping from code to words.
Codes = type[Enum] | Mapping[Any, str]


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
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return clock(value)
    if isinstance(value, date):
        return day(value)
    if isinstance(value, float | Decimal):
        return number(value)
    return str(value)


def label(value: object, codes: Codes | None = None) -> str:
    """A stored code in words: codes is the enum (its .label) or a mapping; a code neither knows reads as text."""
    if is_empty(value):
        return DASH
    if isinstance(codes, type) and issubclass(codes, Enum):
        try:
            value = codes(value)
        except ValueError:
            pass
    elif codes is not None and value in codes:
        return codes[value]
    return text(value)


def timed(title: str) -> str:
    """A column header of times, saying which clock: 最近登录(北京时间)."""
    return f"{title}({zone_name()})"


def frame(
    data: pd.DataFrame,
    *,
    labels: Mapping[str, Codes] | None = None,
    places: int | Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """A table as the screen shows it: codes in words (enum members in an object column; a column's codes
    through labels: pandas keeps a StrEnum member as its bare code in a text column), dates with the year when
    not this year, stored times on the county's clock, decimals rounded (places: for every float column, or per
    column), and — for an empty cell.

    Number columns stay numbers (they sort and align as numbers): their empty cells stay empty here and the
    table draws them as — (ui.tables.show_table's placeholder); every other column becomes text."""
    shown = data.copy()
    for name in shown.columns:
        digits = places.get(name) if isinstance(places, Mapping) else places
        shown[name] = _column(shown[name], (labels or {}).get(name), digits)
    return shown


def _column(column: pd.Series, codes: Codes | None, places: int | None) -> pd.Series:
    if codes is not None:
        return column.map(lambda v: label(v, codes)).astype(object)
    if types.is_bool_dtype(column.dtype) or types.is_integer_dtype(column.dtype):
        return column
    if types.is_object_dtype(column.dtype) and _numbers(column):
        column = pd.to_numeric(column.map(lambda v: None if is_empty(v) else float(v)))
    if types.is_float_dtype(column.dtype):  # the table draws 12.0 as 12, 3.5 as 3.5
        return column if places is None else column.round(places)
    if types.is_datetime64_any_dtype(column.dtype):
        dates = column.dt.tz is None and (column.dropna().dt.time == time()).all()
        long = _any_other_year(column.dropna().dt.date)
        return column.map(lambda v: day(v, long=long) if dates else clock(v)).astype(object)
    long = _any_other_year(v for v in column if isinstance(v, date) and not isinstance(v, datetime))
    return column.map(
        lambda v: (
            day(v, long=long)
            if isinstance(v, date) and not isinstance(v, datetime)
            else text(v)
            if places is None or not isinstance(v, float)
            else number(v, places=places)
        )
    )


def _any_other_year(dates: Iterable[date]) -> bool:
    """A column of dates reads alike: all with the year as soon as one is not in this year."""
    year = today().year
    return any(d.year != year for d in dates)


def _numbers(column: pd.Series) -> bool:
    """An object column of numbers only (Decimal from PostgreSQL's sums, or ints beside None)."""
    present = [v for v in column if not is_empty(v)]
    return bool(present) and all(
        isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in present
    )


def day(value: date | datetime | None, *, long: bool = False) -> str:
    """A date: month and day in this year (11-23), with the year otherwise (2026-03-15) or when long."""
    if is_empty(value):
        return DASH
    assert value is not None
    on = value.date() if isinstance(value, datetime) else value
    return on.isoformat() if long or on.year != today().year else on.strftime("%m-%d")


def clock(at: datetime | None, *, seconds: bool = False) -> str:
    """A stored time on the county's clock (XUEJI_TIME_ZONE, Asia/Shanghai by default): 2026-11-23 09:30."""
    return china_time(at, seconds=seconds) if not is_empty(at) else DASH


def number(value: float | int | Decimal | None, *, places: int = 1) -> str:
    """A figure with at most `places` decimals and no trailing zeros: 3.5, 12, 0.25 → 0.3 (places=1)."""
    if is_empty(value):
        return DASH
    assert value is not None
    rounded = round(float(value), places)
    return f"{rounded:.{places}f}".rstrip("0").rstrip(".") if places else f"{rounded:.0f}"
