"""学期设置: the county's term calendar kept in the app. Terms are read from the Term table by everything that
depends on them (lost students a week after the start, home-teaching months, a sweep's default due date, the
term reports and checks), so a changed date is followed at once; the one date stored from a term, an open
sweep's due date, is moved with it here. Registration deadlines are month/day settings, not terms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlmodel import Session

from xueji.audit import Entry, record_many
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    CalendarDay,
    HomePlan,
    HomeTeachingVisit,
    Household,
    RegistryCheck,
    SchoolYear,
    Sweep,
    SweepVillage,
    Term,
    Township,
)
from xueji.rules.sweeps import VillageStatus
from xueji.rules.term_calendar import HolidayName, holiday_namer, proposed_terms, term_label, term_problems
from xueji.rules.terms import TermDates, school_year_bounds, school_year_start
from xueji.services.common.access import require
from xueji.services.common.lock_keys import CALENDAR
from xueji.services.common.refusals import audit_refusal

# What follows a term's dates, for the page and the results (read from the Term table, nothing to recompute).
FOLLOWS = (
    "流生:开学日期后满一周仍未报到、无转学休学手续的学生(服务器命令 `xueji cases open-lost` 与开学报到页)",
    "送教上门:每学期的送教次数和“每月至少一次”按学期起止计算",
    "拉网式排查:新制定的排查计划,完成期限默认为开学后若干天;未完成排查的完成期限随开学日期顺延",
    "人籍一致核对、开学报到:按当前学期统计",
)
NOT_FOLLOWING = "新生注册截止日期(一年级、七年级)是按月日设置的,不随学期变化。"


class TermError(ValueError):
    """The term calendar was not changed; the message says why, in Chinese."""


@dataclass(frozen=True)
class TermView:
    term_id: int
    dates: TermDates

    @property
    def label(self) -> str:
        return term_label(self.dates)

    @property
    def days(self) -> int:
        return (self.dates.end - self.dates.start).days + 1


@dataclass(frozen=True)
class SweepMoved:
    sweep_id: int
    township: str
    before: date
    after: date


@dataclass(frozen=True)
class TermSaved:
    dates: TermDates
    before: TermDates | None  # None: the term was created
    sweeps_moved: list[SweepMoved] = field(default_factory=list)

    @property
    def summary(self) -> str:
        d = self.dates
        text = f"{term_label(d)} {d.start:%Y-%m-%d} 至 {d.end:%Y-%m-%d}"
        if self.before is not None:
            text += f"(原 {self.before.start:%Y-%m-%d} 至 {self.before.end:%Y-%m-%d})"
        if self.sweeps_moved:
            moved = "、".join(f"{m.township} {m.before:%m-%d}→{m.after:%m-%d}" for m in self.sweeps_moved)
            text += f";未完成排查的完成期限已随之调整:{moved}"
        return text


def holiday_name_of(session: Session) -> HolidayName:
    """Holiday names from the administrator's holiday table over chinesecalendar's."""
    table = {d: (working, name) for d, working, name in session.execute(
        select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.name)
    )}  # fmt: skip
    return holiday_namer(table)


def _start_month() -> int:
    return get_settings().school_year_start_month


def stored_terms(session: Session) -> list[TermView]:
    """Every configured term with its id, oldest first."""
    rows = session.execute(
        select(Term.id, SchoolYear.start_year, Term.seq, Term.start_date, Term.end_date)
        .join(SchoolYear, Term.school_year_id == SchoolYear.id)
        .order_by(Term.start_date)
    ).all()
    return [TermView(int(tid), TermDates(y, seq, start, end)) for tid, y, seq, start, end in rows]


def list_terms(session: Session, *, actor: Actor) -> list[TermView]:
    """The county's terms, oldest first."""
    require(session, actor, Action.SETUP_READ)
    return stored_terms(session)


def proposal(session: Session, *, actor: Actor, start_year: int | None = None) -> tuple[TermDates, TermDates]:
    """Dates to pre-fill for a school year (by default the first one after those configured, or this one),
    clear of public holidays and the Spring Festival."""
    require(session, actor, Action.SETUP_READ)
    if start_year is None:
        latest = session.scalar(
            select(func.max(SchoolYear.start_year)).join(Term, Term.school_year_id == SchoolYear.id)
        )
        start_year = (
            int(latest) + 1 if latest is not None else school_year_start(today(), start_month=_start_month())
        )
    return proposed_terms(start_year, holiday_name_of(session), start_month=_start_month())


def _refused(session: Session, actor: Actor, entity_id: object, message: str) -> TermError:
    """Audit a refused change of the calendar in a transaction of its own; return the error to raise."""
    audit_refusal(
        session,
        actor,
        action="update",
        entity_type="term",
        entity_id=entity_id,
        message=f"学期设置未保存:{message}",
    )
    return TermError(message)


def _school_year_id(session: Session, start_year: int) -> int:
    found = session.scalar(select(SchoolYear.id).where(SchoolYear.start_year == start_year))
    if found is not None:
        return int(found)
    first, last = school_year_bounds(start_year, start_month=_start_month())
    year = SchoolYear(start_year=start_year, start_date=first, end_date=last)
    session.add(year)
    session.flush()
    return int(year.id or 0)


def _move_open_sweeps(
    session: Session, term_id: int, before: TermDates, after: TermDates
) -> list[SweepMoved]:
    """Keep each open sweep's due date as far from the term's start as it was, inside the term's new dates
    (a sweep is open while any of its villages is not yet reviewed)."""
    shift = after.start - before.start
    open_sweeps = session.execute(
        select(Sweep, Township.name)
        .join(Township, Sweep.township_id == Township.id)
        .where(
            Sweep.term_id == term_id,
            select(SweepVillage.id)
            .where(SweepVillage.sweep_id == Sweep.id, SweepVillage.status != VillageStatus.REVIEWED.value)
            .exists(),
        )
        .order_by(Township.code)
    ).all()
    moved = []
    for sweep, township in open_sweeps:
        due = min(max(sweep.due_date + shift, after.start), after.end)
        if due != sweep.due_date:
            moved.append(SweepMoved(int(sweep.id or 0), township, sweep.due_date, due))
            sweep.due_date = due
    return moved


def records_outside(session: Session, term_id: int, dates: TermDates) -> list[str]:
    """What the term already holds that its new dates would leave outside (then the change is refused)."""

    def outside(column: object) -> object:
        return or_(column < dates.start, column > dates.end)  # type: ignore[operator]

    counts = {
        "送教记录": select(func.count())
        .select_from(HomeTeachingVisit)
        .join(HomePlan, HomeTeachingVisit.plan_id == HomePlan.id)
        .where(HomePlan.term_id == term_id, outside(HomeTeachingVisit.visit_date)),
        "送教方案(开始送教日期)": select(func.count())
        .select_from(HomePlan)
        .where(HomePlan.term_id == term_id, outside(HomePlan.started_on)),
        "人籍一致核对": select(func.count())
        .select_from(RegistryCheck)
        .where(RegistryCheck.term_id == term_id, outside(RegistryCheck.checked_on)),
        "排查走访的户": select(func.count())
        .select_from(Household)
        .join(SweepVillage, Household.sweep_village_id == SweepVillage.id)
        .join(Sweep, SweepVillage.sweep_id == Sweep.id)
        .where(Sweep.term_id == term_id, outside(Household.visited_on)),
    }
    found = []
    for what, query in counts.items():
        count = int(session.scalar(query) or 0)
        if count:
            found.append(f"{count} 条{what}")
    return found


def outside_words(outside: Sequence[str], dates: TermDates) -> str:
    return (
        f"已有 {'、'.join(outside)} 的日期在 {dates.start:%Y-%m-%d} 至 {dates.end:%Y-%m-%d} 之外:"
        "请先核对这些记录,或选择包含它们的日期"
    )


def apply_terms(
    session: Session, actor: Actor, terms: Sequence[TermDates], *, source: str
) -> tuple[list[TermSaved], list[Entry]]:
    """Create or change these terms (already checked), in the caller's transaction: the school year is created
    when missing, open sweeps' due dates follow a moved start. Returns what was saved and the audit entries
    to record (the caller records them, with its own)."""
    stored = {(v.dates.school_year_start, v.dates.seq): v for v in stored_terms(session)}
    saved: list[TermSaved] = []
    entries: list[Entry] = []
    for dates in terms:
        old = stored.get((dates.school_year_start, dates.seq))
        if old is not None and (old.dates.start, old.dates.end) == (dates.start, dates.end):
            continue
        if old is None:
            term = Term(
                school_year_id=_school_year_id(session, dates.school_year_start),
                seq=dates.seq,
                start_date=dates.start,
                end_date=dates.end,
            )
            session.add(term)
            session.flush()
            result = TermSaved(dates, None)
        else:
            term = session.get_one(Term, old.term_id)
            term.start_date, term.end_date = dates.start, dates.end
            result = TermSaved(dates, old.dates, _move_open_sweeps(session, old.term_id, old.dates, dates))
        saved.append(result)
        entries.append(
            Entry(
                "create" if old is None else "update",
                entity_type="term",
                entity_id=term.id,
                before=None if old is None else {"start": old.dates.start, "end": old.dates.end},
                after={
                    "school_year": dates.school_year_start,
                    "seq": dates.seq,
                    "start": dates.start,
                    "end": dates.end,
                },  # fmt: skip
                detail=f"{source}:{result.summary}",
            )
        )
        entries += [
            Entry(
                "update",
                entity_type="sweep",
                entity_id=m.sweep_id,
                before={"due_date": m.before},
                after={"due_date": m.after},
                detail=f"{term_label(dates)}日期调整,{m.township}排查完成期限随之调整",
            )
            for m in result.sweeps_moved
        ]
    session.flush()
    return saved, entries


def _check(session: Session, actor: Actor, terms: Sequence[TermDates], entity_id: object) -> None:
    keys = {(t.school_year_start, t.seq) for t in terms}
    others = [v.dates for v in stored_terms(session) if (v.dates.school_year_start, v.dates.seq) not in keys]
    others += list(terms)
    names = holiday_name_of(session)
    problems = [
        f"{term_label(t)}{column}:{reason}" if not reason.startswith(column) else f"{term_label(t)}:{reason}"
        for t in terms
        for column, reason in term_problems(t, others=others, holiday_name=names, start_month=_start_month())
    ]
    if problems:
        raise _refused(session, actor, entity_id, ";".join(problems))


@unit_of_work
def add_school_year(
    session: Session, *, actor: Actor, first: TermDates, second: TermDates
) -> list[TermSaved]:
    """Set a school year's two terms (a year whose terms are set is changed term by term). Audited."""
    require(session, actor, Action.SETUP_MANAGE)
    write_lock(session, CALENDAR)  # the terms are every county's; they move open deadlines and sweeps
    year = first.school_year_start
    if (first.seq, second.seq) != (1, 2) or second.school_year_start != year:
        raise _refused(session, actor, year, "应为同一学年的第一学期和第二学期")
    if any(v.dates.school_year_start == year for v in stored_terms(session)):
        raise _refused(session, actor, year, f"{year}-{year + 1}学年的学期已经设置,请在“修改学期日期”中调整")
    _check(session, actor, [first, second], year)
    saved, entries = apply_terms(session, actor, [first, second], source="学期设置")
    record_many(session, actor=actor, entries=entries)
    session.commit()
    return saved


@unit_of_work
def change_term(
    session: Session, *, actor: Actor, school_year_start: int, seq: int, start: date, end: date
) -> TermSaved:
    """Change a term's dates, with the same checks as when it was set; refused while records of the term would
    fall outside its new dates. Open sweeps' due dates follow the start. Audited."""
    require(session, actor, Action.SETUP_MANAGE)
    write_lock(session, CALENDAR)
    dates = TermDates(school_year_start, seq, start, end)
    old = next(
        (
            v
            for v in stored_terms(session)
            if (v.dates.school_year_start, v.dates.seq) == (school_year_start, seq)
        ),
        None,
    )
    if old is None:
        raise _refused(session, actor, None, f"{term_label(dates)}尚未设置")
    if (old.dates.start, old.dates.end) == (start, end):
        return TermSaved(dates, old.dates)
    _check(session, actor, [dates], old.term_id)
    outside = records_outside(session, old.term_id, dates)
    if outside:
        raise _refused(
            session,
            actor,
            old.term_id,
            f"{term_label(dates)}{outside_words(outside, dates)}",
        )
    saved, entries = apply_terms(session, actor, [dates], source="修改学期日期")
    record_many(session, actor=actor, entries=entries)
    session.commit()
    return saved[0]
