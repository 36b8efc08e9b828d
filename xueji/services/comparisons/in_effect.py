"""What a county's comparison stands on: the day ages are counted on and the birth window of school age, the
version of each department's list in effect (the latest), and the county's schools and registry records."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from xueji.clock import today
from xueji.config import get_settings
from xueji.models import DeptList, School, Student, Township
from xueji.rules.comparisons import LEDGER_STATUSES
from xueji.rules.dept_lists import ListKind
from xueji.rules.school_age import birth_window, reference_day


def school_age_reference(on: date | None = None) -> tuple[date, tuple[date, date]]:
    """The day ages are counted on this school year, and the birth dates (earliest, latest) of age on it."""
    settings = get_settings()
    reference = reference_day(
        on or today(), month_day=settings.sweep_age_date, start_month=settings.school_year_start_month
    )
    return reference, birth_window(reference, settings.school_age)


def lists_in_effect(session: Session, county_id: int) -> dict[ListKind, DeptList]:
    """The latest version of each of the county's lists."""
    latest = (
        select(DeptList.kind, func.max(DeptList.version).label("version"))
        .where(DeptList.county_id == county_id)
        .group_by(DeptList.kind)
        .subquery()
    )
    rows = session.scalars(
        select(DeptList)
        .join(latest, and_(DeptList.kind == latest.c.kind, DeptList.version == latest.c.version))
        .where(DeptList.county_id == county_id)
    )
    return {ListKind(d.kind): d for d in rows if d.kind in ListKind._value2member_map_}


def county_schools(county_id: int):  # noqa: ANN201 - a select of ids
    """The ids of the county's schools."""
    return (
        select(School.id)
        .join(Township, School.township_id == Township.id)
        .where(Township.county_id == county_id)
    )


def county_children(county_id: int, window: tuple[date, date]):  # noqa: ANN201 - a select of ids
    """The ids of the county's registry records of a child the ledger counts: at a school of the county, not
    merged, enrolled, suspended or dropped out, born inside the window of school age."""
    return select(Student.id).where(
        col(Student.school_id).in_(county_schools(county_id)),
        col(Student.merged_into_id).is_(None),
        col(Student.status).in_(LEDGER_STATUSES),
        col(Student.birth_date).between(*window),
    )
