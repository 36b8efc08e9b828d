"""The school year and term in force on a day, from the configured calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session

from xueji.clock import today
from xueji.config import get_settings
from xueji.models import SchoolYear, Sweep, Term
from xueji.rules.terms import TermDates, current_or_last_term, school_year_start


def school_year_on(session: Session, day: date) -> int:
    """Return the start year of the school year containing day (configured years first, then the rule)."""
    configured = session.scalar(
        select(SchoolYear.start_year).where(SchoolYear.start_date <= day, SchoolYear.end_date >= day)
    )
    if configured is not None:
        return int(configured)
    return school_year_start(day, start_month=get_settings().school_year_start_month)


def terms(session: Session) -> list[TermDates]:
    """Return every configured term, oldest first."""
    rows = session.execute(
        select(SchoolYear.start_year, Term.seq, Term.start_date, Term.end_date)
        .join(SchoolYear, Term.school_year_id == SchoolYear.id)
        .order_by(Term.start_date)
    ).all()
    return [TermDates(*row) for row in rows]


def term_on(session: Session, day: date) -> TermDates | None:
    """Return the term in force on day, or the last one that started before it."""
    return current_or_last_term(day, terms(session))


def term_id(session: Session, term: TermDates) -> int:
    """The stored id of a configured term."""
    found = session.scalar(
        select(Term.id)
        .join(SchoolYear, Term.school_year_id == SchoolYear.id)
        .where(SchoolYear.start_year == term.school_year_start, Term.seq == term.seq)
    )
    if found is None:
        raise LookupError(f"学期未配置:{term.name}")
    return int(found)


def this_terms_sweeps() -> ColumnElement[bool]:
    """WHERE clause: the sweeps of the latest term that has begun and has a sweep (a township planning next
    term's sweep early moves no one's view of this term's)."""
    begun = (
        select(func.max(Sweep.term_id))
        .join(Term, Sweep.term_id == Term.id)
        .where(Term.start_date <= today())
        .scalar_subquery()
    )
    return Sweep.term_id == begun
