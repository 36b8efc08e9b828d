"""One school's month counted in SQL, figure by figure (rules.monthly_report.FIGURES), on the same terms as the
dashboards: enrolled at the month's end read back as 巩固率 reads it (services.dashboards.retention), 辍学 and
劝返复学 by the school the change was submitted from as services.dashboards.figures.dropouts_by_month counts
them, 个案, 家访 and 劝返复学进度 by the child's school on the month's last day (a registry record's school read back
as 巩固率 reads it; a child without a record by the school following them now), 送教上门 by the board's own
judgement (services.home_teaching.board) for the term of the month. A month still running is counted up to today.
The children no school follows (未随校儿童) are counted per township (unfollowed_children), so that a county's
schools and townships together give the dashboards' figures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, Subquery, and_, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import Case, Child, HomeVisit, LadderStep, RegistryCheck, SchoolClass, StatusChange, Student
from xueji.rules.accountability import LedgerMonth
from xueji.rules.cases import CaseCategory
from xueji.rules.monthly_report import LADDER_STEPS, ordered
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.terms import school_year_start
from xueji.rules.transfers import TRANSFER_IN_KINDS
from xueji.rules.vocab import StudentStatus
from xueji.services.common.access import require, school_in_scope
from xueji.services.dashboards.retention import (
    candidates,
    first_change_after,
    first_school_change_after,
    school_on,
    status_on,
)
from xueji.services.home_teaching import board, records
from xueji.sql import class_grade


def school_month(session: Session, *, actor: Actor, school_id: int, month: LedgerMonth) -> dict[str, int]:
    """The school's figures for the month (every key of the report, in order), if the school is in scope."""
    require(session, actor, Action.REPORT_READ)
    school_in_scope(session, actor, school_id, Action.REPORT_READ)
    return compute(session, actor=actor, school_id=school_id, month=month)


def compute(session: Session, *, actor: Actor, school_id: int, month: LedgerMonth) -> dict[str, int]:
    """Count every figure; the caller has checked the actor's right to read this school's report."""
    first, cut = month.first, month.cut(today())
    figures: dict[str, int] = {}
    figures.update(enrolled(session, school_id=school_id, day=cut))
    figures.update(changes(session, school_id=school_id, first=first, cut=cut))
    figures.update(child_figures(session, children=school_children(school_id, cut), first=first, cut=cut))
    figures.update(home_teaching(session, actor=actor, school_id=school_id, cut=cut))
    figures["registry_checks"] = int(
        session.scalar(
            select(func.count()).where(
                RegistryCheck.school_id == school_id,
                RegistryCheck.checked_on >= first,
                RegistryCheck.checked_on <= cut,
            )
        )
        or 0
    )
    return ordered(figures)


def enrolled(session: Session, *, school_id: int, day) -> dict[str, int]:  # noqa: ANN001 - a date
    """在籍 at the end of the day, in total and by grade: each record's status and school read back from the first
    approved change (or merge) after the day, as 巩固率 reads them. With nothing changed since, this is the
    overview's count of enrolled records (services.overview.counts)."""
    year = school_year_start(day, start_month=get_settings().school_year_start_month)
    mine = candidates(select(literal(school_id)))  # the school's students then and now, not the province's
    change, moved = first_change_after(day, mine), first_school_change_after(day, mine)
    grade = class_grade(year)
    rows = session.execute(
        select(grade, func.count())
        .select_from(Student)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(change, change.c.student_id == Student.id)
        .outerjoin(moved, moved.c.student_id == Student.id)
        .where(
            col(Student.id).in_(mine),
            school_on(moved) == school_id,
            status_on(change, year) == StudentStatus.ENROLLED.value,
        )
        .group_by(grade)
    ).all()
    figures = {"enrolled": sum(int(n) for _, n in rows)}
    for g, n in rows:
        if g is not None and 1 <= int(g) <= 9:
            figures[f"enrolled_g{int(g)}"] = int(n)
    return figures


def changes(session: Session, *, school_id: int, first, cut) -> dict[str, int]:  # noqa: ANN001 - dates
    """Approved status changes effective in the month: 转入 (within the county and 外县转入) into the school, 转出
    from it (to another school of the county or away), 辍学, 复学 and 劝返复学 submitted from it."""
    transfer_in = [k.value for k in TRANSFER_IN_KINDS]
    own = {
        ChangeKind.DROPOUT.value: "dropouts",
        ChangeKind.RESUMPTION.value: "resumptions",
        ChangeKind.RETURN.value: "returns",
    }
    incoming = and_(col(StatusChange.kind).in_(transfer_in), StatusChange.to_school_id == school_id)
    outgoing = and_(
        StatusChange.school_id == school_id,
        or_(
            StatusChange.kind == ChangeKind.TRANSFER_OUT.value,
            and_(StatusChange.kind == ChangeKind.TRANSFER_IN.value, StatusChange.to_school_id != school_id),
        ),
    )
    mine = and_(StatusChange.school_id == school_id, col(StatusChange.kind).in_(list(own)))
    in_month = and_(
        StatusChange.state == ChangeState.APPROVED.value,
        StatusChange.effective_date >= first,
        StatusChange.effective_date <= cut,
    )
    row = session.execute(
        select(
            func.count().filter(incoming),
            func.count().filter(outgoing),
            *(func.count().filter(and_(mine, StatusChange.kind == kind)) for kind in own),
        ).where(in_month, or_(incoming, outgoing, mine))
    ).one()
    return {
        "transfers_in": int(row[0]),
        "transfers_out": int(row[1]),
        **{key: int(n) for key, n in zip(own.values(), row[2:], strict=True)},
    }


def child_school_on(day: date) -> tuple[Subquery, ColumnElement[int]]:
    """A child's school at the end of the day: for a child with a registry record, the record's school then
    (read back from later moves as 巩固率 reads it); for a child without one, the school that follows them now
    (child.school_id keeps no history); NULL for a child no school follows (未随校儿童). The subquery is joined
    by children_on()."""
    moved = first_school_change_after(day)
    return moved, func.coalesce(moved.c.school_id, Student.school_id, Child.school_id)


def children_on(day: date, condition) -> Select:  # noqa: ANN001 - a WHERE clause over (Child, school on day)
    """The ids of the children whose school at the end of the day meets the condition (a function of the
    school-on-day column)."""
    moved, school = child_school_on(day)
    return (
        select(Child.id)
        .outerjoin(Student, Child.student_id == Student.id)
        .outerjoin(moved, moved.c.student_id == Student.id)
        .where(condition(school))
    )


def school_children(school_id: int, day: date) -> Select:
    """The children counted in the school's report for a month ending on the day: those at it on that day."""
    return children_on(day, lambda school: school == school_id)


def unfollowed_children(township_id: int, day: date) -> Select:
    """The children of the township that no school followed on the day (未随校儿童): in no school's report."""
    return children_on(day, lambda school: and_(school.is_(None), Child.township_id == township_id))


def child_figures(session: Session, *, children: Select, first, cut) -> dict[str, int]:  # noqa: ANN001 - dates
    """The figures counted per child (个案, 家访, 劝返复学进度) for a set of children."""
    return {
        **cases(session, children=children, first=first, cut=cut),
        **visits(session, children=children, first=first, cut=cut),
        **ladder(session, children=children, cut=cut),
    }


def cases(session: Session, *, children: Select, first, cut) -> dict[str, int]:  # noqa: ANN001 - dates
    """个案 of the children opened and closed in the month by category; 疑似辍学 opened in it and open at its
    end."""
    mine = col(Case.child_id).in_(children)
    figures: dict[str, int] = {}
    for column, prefix in ((Case.opened_on, "cases_opened"), (Case.closed_on, "cases_closed")):
        for category, n in session.execute(
            select(Case.category, func.count())
            .where(mine, column >= first, column <= cut)
            .group_by(Case.category)
        ):
            figures[f"{prefix}.{category}"] = int(n)
    suspected = CaseCategory.SUSPECTED_DROPOUT.value
    figures["suspected_opened"] = figures.get(f"cases_opened.{suspected}", 0)
    figures["suspected_open"] = int(
        session.scalar(
            select(func.count()).where(
                mine,
                Case.category == suspected,
                Case.opened_on <= cut,
                or_(col(Case.closed_on).is_(None), col(Case.closed_on) > cut),
            )
        )
        or 0
    )
    return figures


def visits(session: Session, *, children: Select, first, cut) -> dict[str, int]:  # noqa: ANN001 - dates
    """家访 and 劝返 recorded for the children in the month (visits_by_month's count, for these children)."""
    rows = session.execute(
        select(HomeVisit.kind, func.count())
        .where(
            col(HomeVisit.child_id).in_(children), HomeVisit.visit_date >= first, HomeVisit.visit_date <= cut
        )
        .group_by(HomeVisit.kind)
    ).all()
    return {f"visits.{kind}": int(n) for kind, n in rows}


def home_teaching(session: Session, *, actor: Actor, school_id: int, cut) -> dict[str, int]:  # noqa: ANN001
    """送教上门 of the term that had started by the month's end, each child judged as the board judges them."""
    term = next((t for t in records.term_choices(session) if t.dates.start <= cut), None)
    if term is None:
        return {}
    rows = board.board(session, actor=actor, term=term, school_id=school_id)
    figures = {"home_teaching": len(rows)}
    for row in rows:
        key = f"home_teaching.{row.compliance.state.value}"
        figures[key] = figures.get(key, 0) + 1
    return figures


def ladder(session: Session, *, children: Select, cut) -> dict[str, int]:  # noqa: ANN001 - a date
    """The return ladder's steps open at the month's end for the children's cases, by step."""
    rows = session.execute(
        select(LadderStep.step, func.count())
        .join(Case, LadderStep.case_id == Case.id)
        .where(
            col(Case.child_id).in_(children),
            col(LadderStep.step).in_([s.value for s in LADDER_STEPS]),
            LadderStep.opened_on <= cut,
            or_(col(LadderStep.ended_on).is_(None), col(LadderStep.ended_on) > cut),
        )
        .group_by(LadderStep.step)
    ).all()
    return {f"ladder.{step}": int(n) for step, n in rows}
