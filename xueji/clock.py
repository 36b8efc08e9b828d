"""The one clock of the app: tests and the demo set it with XUEJI_TODAY."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from xueji.config import get_settings

CHINA_TZ = timezone(timedelta(hours=8), "UTC+8")  # the day deadlines count in (Beijing time, all year)


def now() -> datetime:
    """Return the current time, timezone-aware in UTC; with XUEJI_TODAY, moved by whole days onto that day, so that
    every time stamped (a request submitted, decided, an audit entry) falls on the day the deadlines count from."""
    real = datetime.now(UTC)
    fixed = get_settings().today
    return real if fixed is None else real + _shift(fixed)


@lru_cache(maxsize=16)
def _shift(fixed: date) -> timedelta:
    """The whole days between the real date in China and the fixed one, taken once per fixed day: the moved clock
    keeps running forward across a real midnight (a demo or a test then reads the next day's early hours)."""
    return timedelta(days=(fixed - datetime.now(UTC).astimezone(CHINA_TZ).date()).days)


def today() -> date:
    """Return today's date in China, or the date fixed by XUEJI_TODAY."""
    fixed = get_settings().today
    return fixed if fixed is not None else now().astimezone(CHINA_TZ).date()


def china_day(at: datetime) -> date:
    """The day in China of a stored time (UTC; naive means UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(CHINA_TZ).date()


def county_zone() -> ZoneInfo:
    """The county's clock (XUEJI_TIME_ZONE, Asia/Shanghai by default): the zone times are shown in."""
    return _zone(get_settings().time_zone)


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


BEIJING = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"})


def zone_name() -> str:
    """The county's clock as a heading names it: 北京时间, or the zone's name (Asia/Urumqi)."""
    zone = county_zone().key
    return "北京时间" if zone in BEIJING else zone


def china_time(at: datetime | None, *, seconds: bool = False) -> str:
    """A stored time (UTC; naive means UTC) as the county's clock shows it; nothing for none."""
    if at is None:
        return ""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(county_zone()).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
