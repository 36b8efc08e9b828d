"""学年升级: the last grades graduate, the year and terms appear, one audit entry; undone as a whole."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from xueji.auth import PermissionDenied
from xueji.cli import main as xueji_main
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, Rollover, SchoolClass, SchoolYear, Student, Term
from xueji.rules.class_code import parse_class_code
from xueji.services.registry import rollover
from xueji.services.registry.rollover import RolloverError

pytestmark = pytest.mark.usefixtures("fixed_today")


def statuses(engine) -> dict[int, tuple[str, str]]:
    with session_scope(engine) as session:
        return {
            sid: (status, code)
            for sid, status, code in session.execute(
                select(Student.id, Student.status, SchoolClass.code).join(
                    SchoolClass, Student.class_id == SchoolClass.id
                )
            )
        }


def on(monkeypatch, day: str) -> None:
    monkeypatch.setenv("XUEJI_TODAY", day)
    get_settings.cache_clear()


def test_the_2027_rollover_graduates_grade_six_and_nine_and_is_undone(demo_engine, actors, monkeypatch):
    county = actors["demo_county"]
    on(monkeypatch, "2027-07-10")  # the demo's 2026-2027 spring term ends on 9 July: from the 10th, no reason
    before = statuses(demo_engine)
    expected = {
        sid
        for sid, (status, code) in before.items()
        if status == "enrolled" and parse_class_code(code).grade(2026) in (6, 9)
    }
    assert expected
    with session_scope(demo_engine) as session:
        preview = rollover.preview_rollover(session, actor=county, school_year=2027)
        assert preview.total == len(expected)
        done = rollover.run_rollover(session, actor=county, school_year=2027)
        assert set(done.graduated) == expected and done.school_year_created and done.early_reason is None
        assert (
            session.scalar(
                select(func.count()).select_from(Term).join(SchoolYear).where(SchoolYear.start_year == 2027)
            )
            == 2
        )
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
        assert (entry.action, entry.after["graduated"]) == ("rollover", len(expected))
    after = statuses(demo_engine)
    assert {sid for sid, (status, _) in after.items() if status != before[sid][0]} == expected
    assert {after[sid][0] for sid in expected} == {"graduated"}
    with pytest.raises(RolloverError, match="已经升级过"), session_scope(demo_engine) as session:
        rollover.run_rollover(session, actor=county, school_year=2027)
    with session_scope(demo_engine) as session:
        assert rollover.undo_rollover(session, actor=county, rollover_id=done.id) == len(expected)
    assert statuses(demo_engine) == before
    with pytest.raises(RolloverError, match="最近一次"), session_scope(demo_engine) as session:
        rollover.undo_rollover(session, actor=county, rollover_id=done.id)


def test_a_november_rollover_is_refused_without_a_reason_and_audited_with_one(demo_engine, actors):
    county = actors["demo_county"]  # today is 2026-11-23
    before = statuses(demo_engine)
    with session_scope(demo_engine) as session:
        timing = rollover.rollover_timing(session, actor=county, school_year=2027)
        assert (timing.last_term.end, timing.opens_on, timing.configured) == (
            date(2027, 7, 9),
            date(2027, 7, 10),
            True,
        )
    with pytest.raises(RolloverError, match="2026-2027学年第二学期 2027-07-09 结束后才能升级"):
        with session_scope(demo_engine) as session:
            rollover.run_rollover(session, actor=county, school_year=2027, reason="  ")
    with session_scope(demo_engine) as session:
        refused = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
        assert refused.outcome == "refused" and "提前升级须填写原因" in refused.detail
        assert session.scalar(select(func.count()).select_from(Rollover)) == 0
    assert statuses(demo_engine) == before
    with session_scope(demo_engine) as session:
        done = rollover.run_rollover(
            session, actor=county, school_year=2027, reason="县教育局通知提前结束本学年"
        )
        assert done.early_reason == "县教育局通知提前结束本学年"
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
        assert entry.after["early_reason"] == "县教育局通知提前结束本学年"
        assert "提前升级(2026-2027学年第二学期 2027-07-09 结束后才能升级)" in entry.detail
        assert rollover.undo_rollover(session, actor=county, rollover_id=done.id) == len(done.graduated)
    assert statuses(demo_engine) == before


def test_the_opening_day_follows_the_term_table_or_else_the_default_calendar(demo_engine, actors):
    county = actors["demo_county"]
    with session_scope(demo_engine) as session:
        spring = session.scalar(
            select(Term).join(SchoolYear).where(SchoolYear.start_year == 2026, Term.seq == 2)
        )
        spring.end_date = date(2027, 7, 2)  # the county ends its year a week early
        session.add(spring)
        session.commit()
        assert rollover.rollover_timing(session, actor=county, school_year=2027).opens_on == date(2027, 7, 3)
        unset = rollover.rollover_timing(
            session, actor=county, school_year=2031
        )  # 2030-2031 has no terms yet
        assert (unset.configured, unset.last_term.name) == (False, "2030-2031学年第二学期")


def test_a_rollover_into_the_current_year_changes_nobody_in_the_demo(demo_engine, actors):
    with session_scope(demo_engine) as session:
        assert rollover.preview_rollover(session, actor=actors["demo_county"], school_year=2026).total == 0


def test_only_the_county_officer_rolls_the_year_over(demo_engine, actors):
    for username in ("demo_township", "demo_registrar", "demo_admin"):
        with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:
            rollover.run_rollover(session, actor=actors[username], school_year=2027)


def test_the_cli_previews_runs_and_undoes(use_database, demo_engine, capsys):
    assert xueji_main(["rollover", "--year", "2027", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "未做任何修改" in out and "2027-07-09 结束后才能升级;提前升级须加 --reason" in out
    assert xueji_main(["rollover", "--year", "2027"]) == 1  # November, no reason
    assert "提前升级须填写原因" in capsys.readouterr().err
    assert xueji_main(["rollover", "--year", "2027", "--reason", "演示:提前升级"]) == 0
    assert "学年升级" in capsys.readouterr().out
    with session_scope(demo_engine) as session:
        assert session.scalar(select(Rollover.early_reason)) == "演示:提前升级"
    with session_scope(demo_engine) as session:
        graduated = session.scalar(select(func.count()).where(Student.status == "graduated"))
    assert xueji_main(["rollover", "--year", "2027", "--undo"]) == 0
    assert "恢复在读" in capsys.readouterr().out
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).where(Student.status == "graduated")) < graduated
    assert xueji_main(["rollover", "--year", "2027", "--undo"]) == 1
