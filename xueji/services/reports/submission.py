"""A school's monthly report submitted as a frozen copy (figures, note, submitter, time: version 1), corrected only
by a new version with its reason and the figures counted afresh; the versions read back, and the submitted copy
compared with today's count. Only the school's own registrar submits; every refusal is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import AppUser, MonthlyReport, School, Township
from xueji.rules.accountability import LedgerMonth
from xueji.rules.monthly_report import (
    changed_keys,
    last_month,
    note_problem,
    ordered,
    reason_problem,
    submit_problem,
)
from xueji.rules.vocab import ScopeKind
from xueji.services.common.access import deny, require, school_condition, school_in_scope
from xueji.services.common.refusals import audit_refusal
from xueji.services.reports import figures as counting


class ReportError(ValueError):
    """A submission or correction the rules refuse; the message is for the user."""


@dataclass(frozen=True)
class Version:
    id: int
    version: int
    figures: dict[str, int]
    note: str
    reason: str | None
    submitted_by: str
    submitted_at: datetime


@dataclass(frozen=True)
class MonthView:
    """What the monthly page shows: today's count, the versions submitted (newest last), the figures changed."""

    school_id: int
    school: str
    month: LedgerMonth
    fresh: dict[str, int]
    versions: list[Version]

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def changed(self) -> list[str]:
        return changed_keys(self.latest.figures, self.fresh) if self.latest else []


def _own_school(session: Session, actor: Actor, school_id: int, what: str) -> None:
    """The school's own registrar only: another school's, a township or county account is refused (audited)."""
    require(session, actor, Action.REPORT_SUBMIT)
    if actor.scope_kind is not ScopeKind.SCHOOL or actor.scope_id != school_id:
        deny(
            session,
            actor,
            Action.REPORT_SUBMIT.value,
            f"只有本校的学籍管理员可以{what}本校的月报",
            entity_type="school",
            entity_id=school_id,
        )


def _refuse(session: Session, actor: Actor, school_id: int, month: LedgerMonth, message: str) -> ReportError:
    audit_refusal(
        session,
        actor,
        action="report.submit",
        entity_type="monthly_report",
        entity_id=f"{school_id}:{month.key}",
        message=message,
    )
    return ReportError(message)


def _version_count(session: Session, school_id: int, month: LedgerMonth) -> int:
    return int(
        session.scalar(
            select(func.count()).where(MonthlyReport.school_id == school_id, MonthlyReport.month == month.key)
        )
        or 0
    )


@unit_of_work
def submit(
    session: Session, *, actor: Actor, school_id: int, month: LedgerMonth, note: str = ""
) -> MonthlyReport:
    """Freeze the month's figures as version 1, with the note, the submitter and the time. The figures are
    counted before the write lock is taken; under it only the version is checked again and the row written."""
    _own_school(session, actor, school_id, "报送")
    if problem := submit_problem(month, today()) or note_problem(note):
        raise _refuse(session, actor, school_id, month, problem)
    if _version_count(session, school_id, month):
        raise _refuse(session, actor, school_id, month, _already(month))
    figures = counting.compute(session, actor=actor, school_id=school_id, month=month)
    write_lock(session, _key(school_id, month))  # two submissions of one month cannot both be version 1
    if _version_count(session, school_id, month):
        raise _refuse(session, actor, school_id, month, _already(month))
    return _write(session, actor, school_id, month, figures, version=1, note=note, reason=None)


def _key(school_id: int, month: LedgerMonth) -> str:
    """The write lock of one school's report of one month: its versions are numbered under it."""
    return f"report:{school_id}:{month.year}-{month.month:02d}"


def _already(month: LedgerMonth) -> str:
    return f"{month.label}的月报已报送;如需修改,请提交更正"


@unit_of_work
def correct(
    session: Session, *, actor: Actor, school_id: int, month: LedgerMonth, reason: str, note: str = ""
) -> MonthlyReport:
    """A new version with the reason and the figures counted today; the earlier versions stay as they were.
    The figures are counted first; the version number is taken under the write lock."""
    _own_school(session, actor, school_id, "更正")
    if problem := submit_problem(month, today()) or reason_problem(reason) or note_problem(note):
        raise _refuse(session, actor, school_id, month, problem)
    if not _version_count(session, school_id, month):
        raise _refuse(session, actor, school_id, month, f"{month.label}的月报尚未报送,请先报送")
    figures = counting.compute(session, actor=actor, school_id=school_id, month=month)
    write_lock(session, _key(school_id, month))
    count = _version_count(session, school_id, month)  # read again: another correction may have come first
    return _write(
        session, actor, school_id, month, figures, version=count + 1, note=note, reason=reason.strip()
    )


def _write(
    session: Session,
    actor: Actor,
    school_id: int,
    month: LedgerMonth,
    figures: dict[str, int],
    *,
    version: int,
    note: str,
    reason: str | None,
) -> MonthlyReport:
    """Insert the version and audit it; the caller holds the write lock of the school's month (_key)."""
    report = MonthlyReport(
        school_id=school_id,
        month=month.key,
        version=version,
        figures=figures,
        note=note.strip(),
        correction_reason=reason,
        submitted_by=actor.user_id,
    )
    session.add(report)
    session.flush()
    record(
        session,
        actor=actor,
        action="report.correct" if reason else "report.submit",
        entity_type="monthly_report",
        entity_id=report.id,
        after={"month": month.key, "version": version, "reason": reason},
        detail=f"{_school_name(session, school_id)}{month.label}月报第 {version} 版"
        + (f",更正原因:{reason}" if reason else ""),
    )
    session.commit()
    session.refresh(report)
    return report


def _school_name(session: Session, school_id: int) -> str:
    return session.scalar(select(School.name).where(School.id == school_id)) or ""


def versions(session: Session, school_id: int, month: LedgerMonth) -> list[Version]:
    """Every version of the school's report for the month, oldest first (the caller has checked scope)."""
    rows = session.execute(
        select(MonthlyReport, func.coalesce(AppUser.display_name, ""))
        .outerjoin(AppUser, MonthlyReport.submitted_by == AppUser.id)
        .where(MonthlyReport.school_id == school_id, MonthlyReport.month == month.key)
        .order_by(col(MonthlyReport.version))
    ).all()
    return [
        Version(
            int(r.id or 0),
            r.version,
            ordered(r.figures),
            r.note,
            r.correction_reason,
            name,
            r.submitted_at,
        )
        for r, name in rows
    ]


def month_view(session: Session, *, actor: Actor, school_id: int, month: LedgerMonth) -> MonthView:
    """The school's month for the page: today's count beside the versions submitted (school in scope)."""
    require(session, actor, Action.REPORT_READ)
    school: School = school_in_scope(session, actor, school_id, Action.REPORT_READ)
    fresh = counting.compute(session, actor=actor, school_id=school_id, month=month)
    return MonthView(school_id, school.name, month, fresh, versions(session, school_id, month))


def may_submit(actor: Actor, school_id: int) -> bool:
    """Tell whether the page offers this actor the submit and correct buttons for the school."""
    return (
        actor.can(Action.REPORT_SUBMIT)
        and actor.scope_kind is ScopeKind.SCHOOL
        and actor.scope_id == school_id
    )


def schools_in_scope(session: Session, *, actor: Actor) -> list[tuple[int, str]]:
    """The schools whose reports the actor may read, as (id, 乡镇 · 学校), in the county's order."""
    require(session, actor, Action.REPORT_READ)
    rows = session.execute(
        select(School.id, Township.name, School.name)
        .join(Township, School.township_id == Township.id)
        .where(school_condition(actor), col(School.closed_on).is_(None))
        .order_by(Township.code, School.code)
    ).all()
    return [(int(sid), f"{township} · {name}") for sid, township, name in rows]


def month_choices(day: date, count: int = 13) -> list[LedgerMonth]:
    """This month and the twelve before it, newest first (the page's month picker)."""
    months = [LedgerMonth.of(day)]
    while len(months) < count:
        months.append(last_month(months[-1].first))
    return months
