"""The services' last check on text length: a flush that would write text longer than its column takes is
refused with a Chinese message naming the field and its limit, whichever service, page or script made it, so
that an over-long value never reaches the database as a database error (rules.text_limits states the bounds)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from itertools import chain
from typing import Any

from sqlalchemy import JSON, Table, event, inspect
from sqlalchemy.orm import Session

from xueji.rules.text_limits import JSON_LIMITS, label_of, too_long


class TextTooLong(ValueError):
    """A text is longer than its field takes; the message names the field and the limit, in Chinese."""


@cache
def _bounded(table: Table) -> tuple[tuple[str, str, int, bool], ...]:
    """(attribute, field, limit, is JSON) for each column of the table with a length bound."""
    found = []
    for column in table.columns:
        field = f"{table.name}.{column.name}"
        if isinstance(column.type, JSON) and field in JSON_LIMITS:
            found.append((column.key, field, JSON_LIMITS[field], True))
        elif isinstance(length := getattr(column.type, "length", None), int) and length > 0:
            found.append((column.key, field, length, False))  # String, and SQLModel's AutoString
    return tuple(found)


def overlong_field(obj: Any) -> str | None:
    """Why the object cannot be written (a text longer than its column takes), or None."""
    table = getattr(type(obj), "__table__", None)
    if not isinstance(table, Table):
        return None
    state = inspect(obj)
    loaded = state.dict  # what the object holds now; nothing is loaded from the database here
    for key, field, limit, is_json in _bounded(table):
        value = loaded.get(key)
        # a stored row is held to the bound only on what this flush changes (SQLite kept over-long text before)
        if value is None or (state.persistent and not state.attrs[key].history.added):
            continue
        text = json.dumps(value) if is_json else value
        if isinstance(text, str) and (reason := too_long(text, limit)):
            if is_json:
                reason = f"合计不超过 {limit} 个字符(现有 {len(text)} 个)"
            return f"{label_of(field)}{reason},未保存"
    return None


def check_objects(objects: Iterable[Any]) -> None:
    """Raise TextTooLong for the first object holding an over-long text."""
    for obj in objects:
        problem = overlong_field(obj)
        if problem:
            raise TextTooLong(problem)


@event.listens_for(Session, "before_flush")
def _refuse_overlong_text(session: Session, _context: Any, _instances: Any) -> None:
    check_objects(chain(session.new, session.dirty))
