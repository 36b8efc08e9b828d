"""休学与请假 on SQLite and PostgreSQL: a suspension extended in its window, one expired and counted for its
school until handled, dated leave over its limit turned into a suspension request, and who sees what."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.factories import DEMO_SCHOOL, new_registrar
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, School, SchoolClass, Student, TermReport
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.suspensions import LeaveLevel, SuspensionState
from xueji.services.registry import suspensions
from xueji.services.registry.status_changes import (
    ChangeRequest,
    StatusChangeError,
    decide_change,
    submit_change,
)
from xueji.services.registry.term_reports import Leave, TermReportError, record_reports

pytestmark = pytest.mark.usefixtures("fixed_today")
NEIGHBOUR = "2143016967"  # 古港镇梅田小学
MEDICAL = frozenset({Document.MEDICAL_CERTIFICATE})


def on_day(monkeypatch, day: str) -> None:
    monkeypatch.setenv("XUEJI_TODAY", day)
    get_settings.cache_clear()


def a_class(engine, school: str = DEMO_SCHOOL) -> tuple[int, int, list[int]]:
    """The school's id, its first class and that class's enrolled children."""
    with session_scope(engine) as session:
        school_id, class_id = session.execute(
            select(School.id, SchoolClass.id)
            .join(SchoolClass, SchoolClass.school_id == School.id)
            .where(School.code == school)
            .order_by(SchoolClass.code)
            .limit(1)
        ).one()
        ids = session.scalars(
            select(Student.id)
            .where(Student.class_id == class_id, Student.status == "enrolled")
            .order_by(Student.id)
        ).all()
    return school_id, class_id, list(ids)


def submit(engine, actor, student_id: int, kind: ChangeKind, effective: date, **extra) -> int:
    with session_scope(engine) as session:
        request = ChangeRequest(student_id, kind, effective, "住院治疗", MEDICAL, **extra)
        return submit_change(session, actor=actor, request=request).id


def approve(engine, actor, change_id: int) -> None:
    with session_scope(engine) as session:
        decide_change(session, actor=actor, change_id=change_id, approve=True)


def suspend(engine, actors, student_id: int, until: date) -> None:
    """A suspension from 2 Nov 2026 (before the autumn term's mid-term, 10 Nov), approved by the county."""
    change = submit(
        engine,
        actors["demo_registrar"],
        student_id,
        ChangeKind.SUSPENSION,
        date(2026, 11, 2),
        suspension_until=until,
    )
    approve(engine, actors["demo_county"], change)


def listed(engine, actor, student_id: int) -> list[suspensions.SuspensionRow]:
    with session_scope(engine) as session:
        return [
            r for r in suspensions.expiring_suspensions(session, actor=actor) if r.student_id == student_id
        ]


def test_a_suspension_is_extended_in_the_half_month_before_it_ends(demo_engine, actors, monkeypatch):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    child = a_class(demo_engine)[2][0]
    suspend(demo_engine, actors, child, date(2027, 3, 1))
    on_day(monkeypatch, "2027-02-13")
    with pytest.raises(StatusChangeError) as refused:
        submit(
            demo_engine,
            registrar,
            child,
            ChangeKind.EXTENSION,
            date(2027, 3, 2),
            suspension_until=date(2027, 9, 1),
        )
    assert "休学将于 2027-03-01 期满,续休申请须在 2027-02-14 至 2027-03-01 之间提交" in str(refused.value)
    assert [r.state for r in listed(demo_engine, registrar, child)] == [SuspensionState.ENDING]

    on_day(monkeypatch, "2027-02-14")
    [row] = listed(demo_engine, registrar, child)
    assert (row.state, row.can_extend, row.days_left) == (SuspensionState.EXTENSION_OPEN, True, 15)
    with session_scope(demo_engine) as session:
        todo = [t for t in suspensions.todos([row], []) if t.kind is ChangeKind.EXTENSION]
    assert [(t.effective, t.until) for t in todo] == [(date(2027, 3, 2), date(2028, 3, 1))]
    with pytest.raises(StatusChangeError, match="续休截止日期须在 2027-03-01 之后、2028-03-01 之前"):
        submit(
            demo_engine,
            registrar,
            child,
            ChangeKind.EXTENSION,
            date(2027, 3, 2),
            suspension_until=date(2028, 3, 2),
        )
    change = submit(
        demo_engine,
        registrar,
        child,
        ChangeKind.EXTENSION,
        date(2027, 3, 2),
        suspension_until=date(2027, 9, 1),
    )
    [row] = listed(demo_engine, registrar, child)
    assert (row.state, row.pending) == (SuspensionState.REQUESTED, "续休")
    with pytest.raises(Exception, match="县教育局审批"):  # the county decides, like a suspension
        approve(demo_engine, new_registrar_at(demo_engine, actors, NEIGHBOUR), change)
    approve(demo_engine, county, change)

    on_day(monkeypatch, "2027-03-05")
    assert listed(demo_engine, registrar, child) == []  # the end is now 1 September
    with session_scope(demo_engine) as session:
        assert suspensions.current_end(session, child) == date(2027, 9, 1)
        assert suspensions.suspension_end_of(session, actor=registrar, student_id=child) == date(2027, 9, 1)
        assert session.get(Student, child).status == "suspended"


def new_registrar_at(engine, actors, school: str):
    with session_scope(engine) as session:
        return new_registrar(session, actors["demo_admin"], "reg_other", school)


def test_an_expired_suspension_is_counted_for_its_school_until_resumption_is_asked(
    demo_engine, actors, monkeypatch
):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    school_id, _, children = a_class(demo_engine)
    child = children[0]
    suspend(demo_engine, actors, child, date(2027, 3, 1))

    def counted(on: date) -> tuple[bool, int]:
        with session_scope(demo_engine) as session:
            items = suspensions.expired_unhandled(session, actor=county, on=on)
            by_school = suspensions.expired_unhandled_by_school(session, actor=county, on=on)
        mine = [i for i in items if i[1] == child]
        assert by_school.get(school_id, 0) == sum(i[0] == school_id for i in items)
        return bool(mine), by_school.get(school_id, 0)

    on_day(monkeypatch, "2027-03-05")
    [row] = listed(demo_engine, registrar, child)
    assert (row.state, row.days_left, row.can_extend) == (SuspensionState.EXPIRED, -4, True)
    assert row.way_out.startswith("休学已期满未办理")
    assert counted(date(2027, 3, 1))[0] is False  # ends that day: not yet expired
    found, before = counted(date(2027, 3, 5))
    assert found
    with pytest.raises(StatusChangeError, match="逾期续休须填写特殊情况说明"):
        submit(
            demo_engine,
            registrar,
            child,
            ChangeKind.EXTENSION,
            date(2027, 3, 5),
            suspension_until=date(2027, 9, 1),
        )

    on_day(monkeypatch, "2027-03-06")
    with session_scope(demo_engine) as session:
        placed = session.get(Student, child).class_id
    submit(demo_engine, registrar, child, ChangeKind.RESUMPTION, date(2027, 3, 6), to_class_id=placed)
    assert counted(date(2027, 3, 6)) == (False, before - 1)
    [row] = listed(demo_engine, registrar, child)
    assert (row.state, row.pending) == (SuspensionState.REQUESTED, "复学")
    with session_scope(demo_engine) as session:
        other = new_registrar(session, actors["demo_admin"], "reg_meitian", NEIGHBOUR)
        assert (
            suspensions.expired_unhandled_by_school(session, actor=other, on=date(2027, 3, 5)).get(school_id)
            is None
        )


def test_leave_over_its_limit_is_listed_and_becomes_a_suspension_request(demo_engine, actors):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    _, class_id, children = a_class(demo_engine)
    over, soon, short, *rest = children
    leave = {
        over: Leave("病假(住院)", date(2026, 9, 7), date(2026, 12, 31)),  # 10 weeks on 16 Nov: over
        soon: Leave("随父母外出就医", date(2026, 9, 21), date(2026, 12, 20)),  # 10 weeks on 30 Nov: soon
        short: Leave("家中有事", date(2026, 11, 16), date(2026, 11, 27)),
    }
    with session_scope(demo_engine) as session:
        record_reports(session, actor=registrar, class_id=class_id, reported=rest, leave=leave)
        rows = {r.student_id: r for r in suspensions.leaves(session, actor=registrar)}
    assert (rows[over].level, rows[over].over_on) == (LeaveLevel.OVER, date(2026, 11, 16))
    assert rows[over].verdict == "已超过,应办理休学(一学期内请假超过10周,2026-11-16 起)"
    assert (rows[soon].level, rows[soon].over_on) == (LeaveLevel.SOON, date(2026, 11, 30))
    assert rows[short].level is None and rows[short].dates == "2026-11-16 至 2026-11-27(12 天)"
    undated = [r for r in rows.values() if r.start is None]
    assert all(r.dates == "未填日期" and r.verdict == "请补填请假日期" for r in undated)

    todo = [t for t in suspensions.todos([], list(rows.values())) if t.student_id in (over, soon, short)]
    assert [(t.student_id, t.kind) for t in todo] == [
        (over, ChangeKind.SUSPENSION),
        (soon, ChangeKind.SUSPENSION),
    ]
    first = todo[0]
    assert (first.effective, first.until) == (date(2026, 9, 7), date(2026, 12, 31))
    with pytest.raises(StatusChangeError, match="医疗证明"):  # the registrar still checks the certificate
        with session_scope(demo_engine) as session:
            submit_change(
                session,
                actor=registrar,
                request=ChangeRequest(
                    over, first.kind, first.effective, first.reason, suspension_until=first.until
                ),
            )
    submit(demo_engine, registrar, over, first.kind, first.effective, suspension_until=first.until)

    with session_scope(demo_engine) as session:
        seen_by_county = {r.student_id for r in suspensions.leaves(session, actor=county)}
        other = new_registrar(session, actors["demo_admin"], "reg_meitian", NEIGHBOUR)
        seen_by_other = {r.student_id for r in suspensions.leaves(session, actor=other)}
        data = suspensions.export_suspensions(session, actor=county, search="")
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
    assert {over, soon, short} <= seen_by_county and not {over, soon, short} & seen_by_other
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["休学期满", "请假"]
    names = [row[2] for row in book["请假"].iter_rows(min_row=2, values_only=True)]
    assert len(names) == len(seen_by_county)
    assert entry.action == "export" and "休学与请假" in (entry.detail or "")


def test_a_new_leave_without_dates_is_refused_but_an_old_one_may_stay(demo_engine, actors):
    registrar = actors["demo_registrar"]
    _, class_id, children = a_class(demo_engine)
    old, new, *rest = children
    with session_scope(demo_engine) as session:  # a leave recorded before leave had dates
        report = session.scalar(select(TermReport).where(TermReport.student_id == old))
        report.leave_reason = "病假"
        session.commit()
    with session_scope(demo_engine) as session:
        with pytest.raises(TermReportError, match="请假须填写开始和截止日期"):
            record_reports(
                session,
                actor=registrar,
                class_id=class_id,
                reported=rest,
                leave={old: Leave("病假"), new: Leave("事假")},
            )
    with session_scope(demo_engine) as session:
        with pytest.raises(TermReportError, match="请假须填写开始和截止日期"):
            record_reports(
                session,
                actor=registrar,
                class_id=class_id,
                reported=[new, *rest],
                leave={old: Leave("病假住院")},
            )
    with session_scope(demo_engine) as session:
        saved = record_reports(
            session, actor=registrar, class_id=class_id, reported=[new, *rest], leave={old: Leave("病假")}
        )
    assert saved.on_leave == 1
