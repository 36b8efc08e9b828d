"""When each school opened, as far as the data tells (the School row has no opening date): the day it was added
through 系统设置 (the audited "create" of services.setup.school_merge.add_school); for a school of the set-up
workbook, which existed before the county started, the first month one of its students entered school
(student.entry_month) or the first approved status change at it, whichever is earlier. A school with none of
these has not opened yet. The missing list (services.reports.missing) asks no report for a month before it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.clock import china_day
from xueji.models import AuditLog, StatusChange, Student
from xueji.rules.status_changes import ChangeState


def _entry_day(entry_month: str | None) -> date | None:
    """The first day of a YYYYMM entry month; None when it is not one."""
    text = (entry_month or "").strip()
    if len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12:
        return None
    return date(int(text[:4]), int(text[4:]), 1)


def opening_days(session: Session, school_ids: Iterable[int]) -> dict[int, date | None]:
    """Each school's opening day (None: not opened yet), in four grouped queries."""
    ids = sorted(set(school_ids))
    if not ids:
        return {}
    created: dict[int, date] = {}
    for entity_id, at in session.execute(
        select(AuditLog.entity_id, func.min(AuditLog.at))
        .where(
            AuditLog.action == "create",
            AuditLog.entity_type == "school",
            AuditLog.outcome == "success",
            col(AuditLog.entity_id).in_([str(i) for i in ids]),
        )
        .group_by(AuditLog.entity_id)
    ):
        created[int(entity_id)] = china_day(at)
    evidence: dict[int, date] = {}

    def seen(school_id: int | None, day: date | None) -> None:
        if (
            school_id is not None
            and day is not None
            and (school_id not in evidence or day < evidence[school_id])
        ):
            evidence[school_id] = day

    for school_id, entry in session.execute(
        select(Student.school_id, func.min(Student.entry_month))
        .where(col(Student.school_id).in_(ids))
        .group_by(Student.school_id)
    ):
        seen(int(school_id), _entry_day(entry))
    approved = StatusChange.state == ChangeState.APPROVED.value
    for column in (StatusChange.school_id, StatusChange.to_school_id):
        for school_id, day in session.execute(
            select(column, func.min(StatusChange.effective_date))
            .where(approved, col(column).in_(ids))
            .group_by(column)
        ):
            seen(int(school_id), day)
    return {i: created.get(i, evidence.get(i)) for i in ids}
