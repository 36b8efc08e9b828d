"""学年升级 (school-year rollover): start a school year for a county. Grades are never stored, they follow
from class codes and the year, so promotion needs no rewrite; what the rollover does is graduate the
children still enrolled in classes whose stage has ended (grade 6 of primary, grade 9 of junior), and add
the school year with its terms if missing. One audited operation, undone as a whole.

It is offered once the last term of the year that ends is over by the county's term table (services.setup.terms);
before that it runs only with a written reason (Rollover.early_reason, in the audit entry too)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select, update
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import Rollover, School, SchoolClass, SchoolYear, Student, Term, Township
from xueji.rules.rollover import RolloverTiming, early_problem, last_term
from xueji.rules.terms import TermDates, default_terms, school_year_bounds
from xueji.rules.text_limits import length_problem
from xueji.rules.vocab import ScopeKind, Stage, StudentStatus
from xueji.services.common import lock_keys
from xueji.services.common.access import deny, require
from xueji.services.common.refusals import audit_refusal
from xueji.sql import class_grade, class_stage


class RolloverError(ValueError):
    """The rollover cannot run or be undone as asked; the message says why, in Chinese."""


@dataclass(frozen=True)
class RolloverPreview:
    school_year: int
    by_school: list[tuple[str, int, int]]  # (school, primary graduates, junior graduates)

    @property
    def total(self) -> int:
        return sum(p + j for _, p, j in self.by_school)


def _county(session: Session, actor: Actor) -> int:
    require(session, actor, Action.ROLLOVER_RUN)
    if actor.scope_kind is not ScopeKind.COUNTY or actor.scope_id is None:
        deny(session, actor, Action.ROLLOVER_RUN.value, "学年升级由县教育局对全县统一进行")
    return int(actor.scope_id)


def _graduating(county_id: int, school_year: int):  # noqa: ANN202 - a WHERE clause
    """Enrolled students of the county in classes whose stage has ended by that school year."""
    grade, stage = class_grade(school_year), class_stage()
    ended = or_(
        and_(stage == Stage.PRIMARY.value, grade > Stage.PRIMARY.first_grade + Stage.PRIMARY.years - 1),
        and_(stage == Stage.JUNIOR.value, grade > Stage.JUNIOR.first_grade + Stage.JUNIOR.years - 1),
    )
    schools = select(School.id).join(Township).where(Township.county_id == county_id)
    return and_(
        Student.status == StudentStatus.ENROLLED.value,
        col(Student.school_id).in_(schools),
        col(Student.class_id).in_(select(SchoolClass.id).where(ended)),
    )


def preview_rollover(session: Session, *, actor: Actor, school_year: int) -> RolloverPreview:
    """Who would graduate, per school and stage: counted in SQL."""
    county_id = _county(session, actor)
    stage = class_stage()
    rows = session.execute(
        select(
            School.name,
            func.sum(case((stage == Stage.PRIMARY.value, 1), else_=0)),
            func.sum(case((stage == Stage.JUNIOR.value, 1), else_=0)),
        )
        .select_from(Student)
        .join(School, Student.school_id == School.id)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(_graduating(county_id, school_year))
        .group_by(School.code, School.name)
        .order_by(School.code)
    )
    return RolloverPreview(school_year, [(name, int(p or 0), int(j or 0)) for name, p, j in rows])


def _timing(session: Session, school_year: int) -> RolloverTiming:
    ending = school_year - 1
    rows = session.execute(
        select(Term.seq, Term.start_date, Term.end_date)
        .join(SchoolYear, Term.school_year_id == SchoolYear.id)
        .where(SchoolYear.start_year == ending)
    ).all()
    configured = last_term([TermDates(ending, seq, start, end) for seq, start, end in rows])
    if configured is not None:
        return RolloverTiming(school_year, configured, configured=True)
    return RolloverTiming(school_year, default_terms(ending)[-1], configured=False)


def rollover_timing(session: Session, *, actor: Actor, school_year: int) -> RolloverTiming:
    """When the rollover into school_year opens: the day after the last term of the year before ends."""
    _county(session, actor)
    return _timing(session, school_year)


def _active(session: Session, county_id: int) -> list[Rollover]:
    return list(
        session.scalars(
            select(Rollover)
            .where(Rollover.county_id == county_id, col(Rollover.undone_at).is_(None))
            .order_by(col(Rollover.school_year).desc())
        )
    )


@unit_of_work
def run_rollover(session: Session, *, actor: Actor, school_year: int, reason: str | None = None) -> Rollover:
    """Start the school year: graduate the last grades, add the year and its terms; one audit entry. Before the
    last term of the year that ends is over, only with a reason (refused and audited without one)."""
    county_id = _county(session, actor)
    # The county's write lock (its rollovers, its students' classes), then the calendar's (the school year and
    # its terms are made once for every county).
    write_lock(session, f"county:{county_id}")
    write_lock(session, lock_keys.CALENDAR)
    done = _active(session, county_id)
    if any(r.school_year >= school_year for r in done):
        raise RolloverError(f"{school_year}学年已经升级过(或已升级到更晚的学年);如需重做,请先撤销")
    timing = _timing(session, school_year)
    early = timing.early(today())
    problem = early_problem(timing, today(), reason) or (
        length_problem(reason, "rollover.early_reason") if early else None
    )
    if problem:
        audit_refusal(
            session, actor, action="rollover", entity_type="rollover", entity_id=school_year, message=problem
        )
        raise RolloverError(problem)
    early_reason = (reason or "").strip() if early else None
    ids = list(
        session.scalars(select(Student.id).where(_graduating(county_id, school_year)).order_by(Student.id))
    )
    stamp = now()
    for start in range(0, len(ids), 5000):
        session.execute(
            update(Student)
            .where(col(Student.id).in_(ids[start : start + 5000]))
            .values(status=StudentStatus.GRADUATED.value, updated_at=stamp)
        )
    created = session.scalar(select(SchoolYear.id).where(SchoolYear.start_year == school_year)) is None
    if created:
        first, last = school_year_bounds(school_year, start_month=get_settings().school_year_start_month)
        year = SchoolYear(start_year=school_year, start_date=first, end_date=last)
        session.add(year)
        session.flush()
        for term in default_terms(school_year):
            session.add(Term(school_year_id=year.id, seq=term.seq, start_date=term.start, end_date=term.end))
    rollover = Rollover(
        school_year=school_year,
        county_id=county_id,
        graduated=ids,
        school_year_created=created,
        early_reason=early_reason,
        run_by=actor.user_id,
    )
    session.add(rollover)
    session.flush()
    record(
        session,
        actor=actor,
        action="rollover",
        entity_type="rollover",
        entity_id=rollover.id,
        after={
            "school_year": school_year,
            "graduated": len(ids),
            "ids_sha256": _digest(ids),
            "last_term_end": timing.last_term.end.isoformat(),
            "early_reason": early_reason,
        },
        detail=f"{school_year}学年升级:{len(ids)} 名六年级、九年级学生毕业"
        + (",新建学年和学期" if created else "")
        + (f";提前升级({timing.explanation}),原因:{early_reason}" if early_reason else ""),
    )
    session.commit()
    return rollover


@unit_of_work
def undo_rollover(session: Session, *, actor: Actor, rollover_id: int) -> int:
    """Undo the county's latest rollover: its graduates still graduated are enrolled again. Returns how many.
    A child whose status changed since (e.g. a transfer) keeps the newer status."""
    county_id = _county(session, actor)
    write_lock(session, f"county:{county_id}")
    done = _active(session, county_id)
    if not done or done[0].id != rollover_id:
        raise RolloverError("只能撤销本县最近一次、尚未撤销的学年升级")
    rollover = done[0]
    ids = list(rollover.graduated)
    restored = 0
    for start in range(0, len(ids), 5000):
        result = session.execute(
            update(Student)
            .where(
                col(Student.id).in_(ids[start : start + 5000]),
                Student.status == StudentStatus.GRADUATED.value,
            )
            .values(status=StudentStatus.ENROLLED.value, updated_at=now())
        )
        restored += result.rowcount or 0  # type: ignore[attr-defined]
    rollover.undone_by, rollover.undone_at = actor.user_id, now()
    record(
        session,
        actor=actor,
        action="rollover_undo",
        entity_type="rollover",
        entity_id=rollover.id,
        before={"school_year": rollover.school_year, "graduated": len(ids)},
        after={"restored": restored},
        detail=f"撤销{rollover.school_year}学年升级:{restored} 名学生恢复在读",
    )
    session.commit()
    return restored


def rollovers(session: Session, *, actor: Actor) -> list[Rollover]:
    """The county's rollovers, newest first."""
    county_id = _county(session, actor)
    return list(
        session.scalars(
            select(Rollover).where(Rollover.county_id == county_id).order_by(col(Rollover.id).desc())
        )
    )


def _digest(ids: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
