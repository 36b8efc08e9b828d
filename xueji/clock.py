"""The one clock of the app: tests and the demo set it with XUEJI_TODAY."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from xueji.config import get_settings

CHINA_TZ = timezone(timedelta(hours=8), "UTC+8")


def now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Return today's date in China, or the date fixed by XUEJI_TODAY."""
    fixed = get_settings().today
    return fixed if fixed is not None else now().astimezone(CHINA_TZ).date()


def china_time(at: datetime | None, *, seconds: bool = False) -> str:
    """A stored time (UTC; naive means UTC) as a clock in China shows it; nothing for none."""
    if at is None:
        return ""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
