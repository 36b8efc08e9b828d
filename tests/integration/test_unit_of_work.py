"""The unit of work: SQLite's stale read snapshot ("database is locked") is retried inside the service, never
shown to the user; a failed attempt leaves nothing; committed data is written with synchronous=FULL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from tests.factories import audit_entries, taught_student, visit_facts
from xueji.config import get_settings
from xueji.db import make_engine, session_scope, unit_of_work
from xueji.models import AppSetting, HomeVisit
from xueji.services.cases import visits

pytestmark = pytest.mark.usefixtures("fixed_today")


def test_a_stale_read_snapshot_is_retried_not_shown(demo_engine, database_url, actors):
    """A page reads, someone else writes, then the page's save: on SQLite the save's transaction would fail with
    "database is locked" (its snapshot is stale); the unit of work starts it again and it succeeds, once."""
    with session_scope(demo_engine) as session:
        _, student = taught_student(session)
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as page, session_scope(demo_engine) as other:
        before = page.scalar(select(func.count()).select_from(HomeVisit))  # the page's read opens a snapshot
        visits.log_visit(other, actor=teacher, facts=visit_facts(next_step="别人先保存"), student_id=student)
        visit = visits.log_visit(
            page, actor=teacher, facts=visit_facts(next_step="后保存"), student_id=student
        )
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(HomeVisit)) == before + 2
        assert audit_entries(session, "home_visit", visit.id) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL has no such stale snapshot
def test_without_the_retry_the_stale_snapshot_fails(demo_engine, database_url):
    """The case the retry exists for is real: the same interleaving, bare, raises "database is locked"."""
    with session_scope(demo_engine) as page, session_scope(demo_engine) as other:
        page.scalar(select(func.count()).select_from(HomeVisit))
        other.add(AppSetting(key="other_writer", value="x"))
        other.commit()
        with pytest.raises(OperationalError, match="locked"):
            page.add(AppSetting(key="page_writer", value="x"))
            page.flush()


def test_a_busy_attempt_is_rolled_back_and_the_service_run_again(demo_engine, database_url):
    attempts = []

    @unit_of_work
    def write(session, *, fail_times: int) -> None:
        attempts.append(1)
        session.add(AppSetting(key=f"retry_{len(attempts)}", value="x"))
        session.flush()
        if len(attempts) <= fail_times:  # as the driver reports contention
            busy = "database is locked" if database_url.startswith("sqlite") else "deadlock"
            raise _contention(database_url, busy)
        session.commit()

    with session_scope(demo_engine) as session:
        write(session, fail_times=2)
    with session_scope(demo_engine) as session:
        keys = session.scalars(select(AppSetting.key).where(AppSetting.key.like("retry_%"))).all()
    assert len(attempts) == 3 and keys == ["retry_3"]  # the two failed attempts left nothing


def _contention(database_url: str, message: str) -> OperationalError:
    if database_url.startswith("sqlite"):
        import sqlite3

        return OperationalError("UPDATE", {}, sqlite3.OperationalError(message))
    from psycopg import errors

    return OperationalError("UPDATE", {}, errors.DeadlockDetected(message))


def test_sqlite_commits_with_synchronous_full_unless_relaxed(tmp_path, monkeypatch):
    monkeypatch.delenv("XUEJI_SQLITE_SYNCHRONOUS", raising=False)
    get_settings.cache_clear()
    with make_engine(f"sqlite:///{tmp_path / 'full.db'}").connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    monkeypatch.setenv("XUEJI_SQLITE_SYNCHRONOUS", "normal")
    get_settings.cache_clear()
    with make_engine(f"sqlite:///{tmp_path / 'normal.db'}").connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    get_settings.cache_clear()
