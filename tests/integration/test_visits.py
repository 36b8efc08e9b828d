"""家访 on SQLite and PostgreSQL: logging within one's responsibility, what a visit does to the cases, the
due and overdue counts against the rule, and the xlsx import of paper visits."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from tests.factories import DEMO_SCHOOL, visit_facts
from xueji.auth import PermissionDenied
from xueji.cli import main as xueji_main
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AppUser, AuditLog, Case, Child, HomeVisit, LadderStep, School, SchoolClass, Student
from xueji.rules.cases import CaseCategory, RiskLevel
from xueji.rules.visits import ReturnOutcome, VisitFacts, VisitKind, visit_due
from xueji.services.cases import handling, visit_import, visits
from xueji.services.cases.detail import child_detail

pytestmark = pytest.mark.usefixtures("fixed_today")
TODAY = date(2026, 11, 23)


def facts(**changes: object) -> VisitFacts:
    return visit_facts(**({"risk_after": RiskLevel.MEDIUM} | changes))


def teacher_students(engine, *, mine: bool) -> list[int]:
    """Students of the demo school the demo teacher answers for (head of their class), or not."""
    with session_scope(engine) as session:
        teacher = session.scalar(select(AppUser.id).where(AppUser.username == "demo_teacher"))
        head = SchoolClass.head_teacher_id == teacher
        return list(
            session.scalars(
                select(Student.id)
                .join(SchoolClass, Student.class_id == SchoolClass.id)
                .join(School, Student.school_id == School.id)
                .where(School.code == DEMO_SCHOOL, head if mine else ~head, Student.status == "enrolled")
                .order_by(Student.id)
            )
        )


def test_a_teacher_logs_a_visit_that_moves_the_childs_cases_on(demo_engine, actors):
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        due = visits.due_visits(session, actor=teacher)
    child_id = due[0].child_id
    with session_scope(demo_engine) as session:
        visit = visits.log_visit(session, actor=teacher, facts=facts(visit_date=TODAY), child_id=child_id)
        open_cases = session.scalars(
            select(Case).where(Case.child_id == child_id, Case.status != "closed")
        ).all()
        entry = session.scalars(select(AuditLog).where(AuditLog.entity_type == "home_visit")).one()
        after = {r.child_id: r for r in visits.due_visits(session, actor=teacher)}
    assert {(c.status, c.risk_level) for c in open_cases} == {("following", "medium")}
    assert entry.entity_id == str(visit.id) and entry.action == "create"
    policy = get_settings().visit_policy
    interval = min(policy.interval(CaseCategory(c.category)) for c in open_cases)
    assert after[child_id].last_visit == TODAY
    assert after[child_id].due == date.fromordinal(TODAY.toordinal() + interval)


def test_a_teacher_cannot_log_or_read_a_visit_outside_their_responsibility(demo_engine, actors):
    teacher = actors["demo_teacher"]
    other = teacher_students(demo_engine, mine=False)[0]
    with session_scope(demo_engine) as session:
        before = session.scalar(select(func.count()).select_from(HomeVisit))
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        visits.log_visit(session, actor=teacher, facts=facts(), student_id=other)
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(HomeVisit)) == before
        denied = session.scalars(select(AuditLog).where(AuditLog.action == "denied")).all()[-1]
        outside_child = session.scalar(
            select(Child.id).where(col(Child.student_id).in_(teacher_students(demo_engine, mine=False)))
        )
    assert denied.detail.startswith("visit.log")
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        visits.log_visit(session, actor=teacher, facts=facts(), child_id=outside_child)
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        child_detail(session, actor=teacher, child_id=outside_child)


def test_a_visit_with_problems_is_refused_whole(demo_engine, actors):
    teacher = actors["demo_teacher"]
    mine = teacher_students(demo_engine, mine=True)[0]
    with session_scope(demo_engine) as session, pytest.raises(visits.VisitError) as refused:
        visits.log_visit(
            session,
            actor=teacher,
            facts=facts(child_situation="", kind=VisitKind.RETURN_ATTEMPT),
            student_id=mine,
        )
    assert refused.value.problems == [("孩子情况", "请简要填写孩子的情况"), ("劝返结果", "劝返须选择结果")]


def test_a_child_back_at_school_after_a_return_attempt_is_stable(demo_engine, actors):
    registrar = actors["demo_registrar"]
    mine = teacher_students(demo_engine, mine=True)[0]
    with session_scope(demo_engine) as session:
        case = handling.open_case(
            session,
            actor=registrar,
            student_id=mine,
            category=CaseCategory.SUSPECTED_DROPOUT,
            risk=RiskLevel.HIGH,
            risk_reason="一周未到校",
        )
    returned = facts(visit_date=TODAY, kind=VisitKind.RETURN_ATTEMPT, outcome=ReturnOutcome.RETURNED)
    with session_scope(demo_engine) as session:
        visits.log_visit(session, actor=actors["demo_teacher"], facts=returned, student_id=mine)
        assert session.get(Case, case.id).status == "stable"
        # the return is the ladder's: recorded, the first follow-up open; the case closes only by 销号 approval
        steps = session.execute(
            select(LadderStep.step, LadderStep.state)
            .where(LadderStep.case_id == case.id)
            .order_by(LadderStep.id)
        ).all()
        assert [tuple(s) for s in steps] == [("school", "done"), ("returned", "done"), ("follow_up", "open")]


def test_overdue_counts_per_teacher_match_the_rule_case_by_case(demo_engine, actors):
    county = actors["demo_county"]
    policy = get_settings().visit_policy
    with session_scope(demo_engine) as session:
        last = dict(
            session.execute(
                select(HomeVisit.child_id, func.max(HomeVisit.visit_date)).group_by(HomeVisit.child_id)
            ).all()
        )
        names = dict(session.execute(select(AppUser.id, AppUser.display_name)).all())
        overdue: dict[str, set[int]] = defaultdict(set)
        followed: dict[str, set[int]] = defaultdict(set)
        for case in session.scalars(select(Case).where(Case.status != "closed")):
            teacher = names.get(case.education_user_id, "(未指定教育线包保人)")
            followed[teacher].add(case.child_id)
            due = visit_due(
                opened_on=case.opened_on,
                last_visit=last.get(case.child_id),
                interval_days=policy.interval(CaseCategory(case.category)),
            )
            if due < TODAY:
                overdue[teacher].add(case.child_id)
        rows = visits.overdue_by_teacher(session, actor=county)
    by_teacher: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        by_teacher[row.teacher][0] += row.children
        by_teacher[row.teacher][1] += row.overdue
    assert sum(len(v) for v in overdue.values()) > 0
    assert {t: (len(followed[t]), len(overdue[t])) for t in followed} == {
        t: tuple(v) for t, v in by_teacher.items()
    }


def _sheet(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(rows, columns=list(visit_import.COLUMNS)).to_excel(buffer, index=False)
    return buffer.getvalue()


def _row(student: Student, **changes) -> dict:
    row = {
        "身份证号": student.id_number,
        "姓名": student.name,
        "家访日期": "2026-11-10",
        "类型": "家访",
        "方式": "上门",
        "家访人": "周老师",
        "见到的人": "母亲",
        "孩子情况": "纸质记录补录",
        "家庭情况": "",
        "家访后风险": "低",
        "下一步": "",
        "下次家访日期": "",
        "劝返结果": "",
    }
    return row | changes


def test_a_paper_visit_sheet_is_checked_row_by_row_and_written_all_or_nothing(
    demo_engine, actors, use_database, tmp_path
):
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        mine = [session.get(Student, i) for i in teacher_students(demo_engine, mine=True)[:2]]
        other = session.get(Student, teacher_students(demo_engine, mine=False)[0])
        for s in (*mine, other):
            session.expunge(s)
    good = [_row(mine[0]), _row(mine[1], 家访日期="20261112", 方式="电话")]
    bad = [
        _row(mine[0], 姓名="张冠李"),
        _row(other),
        _row(mine[1], 家访日期="2026-12-01", 家访后风险="很高"),
        _row(mine[0], 类型="劝返"),
        _row(mine[0]),  # the first row again
    ]
    with session_scope(demo_engine) as session:
        sheet = visit_import.check_visits(session, actor=teacher, data=_sheet(good + bad))
    problems = {(p.row, p.column, p.reason.split(",")[0]) for p in sheet.problems}
    assert (4, "姓名", f"与系统中该身份证号的姓名“{mine[0].name}”不一致") in problems
    assert (5, "身份证号", "不是您包保或管辖的学生/儿童") in problems
    assert (6, "家访后风险", "应为高、中、低") in problems
    assert (7, "劝返结果", "劝返须选择结果") in problems
    assert (8, "家访日期", "与第2行重复(同一孩子、同一天、同一类型)") in problems
    assert sheet.bad_rows == {4, 5, 6, 7, 8} and len(sheet.good) == 2
    with session_scope(demo_engine) as session:
        before = session.scalar(select(func.count()).select_from(HomeVisit))
        with pytest.raises(visit_import.VisitImportBlocked):
            visit_import.commit_visits(session, actor=teacher, data=_sheet(good + bad))
        assert session.scalar(select(func.count()).select_from(HomeVisit)) == before
    errors = pd.read_excel(io.BytesIO(visit_import.error_workbook(sheet)), dtype=str, engine="calamine")
    assert list(errors["姓名"]) == ["张冠李", other.name, mine[1].name, mine[0].name, mine[0].name]
    path = tmp_path / "visits.xlsx"
    path.write_bytes(_sheet(good))
    assert xueji_main(["import", "visits", str(path), "--as", "demo_teacher"]) == 0
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(HomeVisit)) == before + 2
        assert (
            session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.entity_type == "home_visit")
            )
            == 2
        )
    assert xueji_main(["import", "visits", str(path), "--as", "demo_teacher"]) == 1  # nothing twice
