"""送教上门 against a real database (SQLite and PostgreSQL): the board counted in SQL agrees with the pure rule
over every visit, a visit in a missed month turns a child green, short visits are kept but not counted, scope
and teachers are enforced, an assessment opens the case once, a plan is copied forward, the teachers'
reminders, the term report, and the xlsx import (all or nothing, never twice) by page and by command line."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlmodel import col

from xueji.auth import PermissionDenied
from xueji.cli import main as xueji_main
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import (
    AppUser,
    AuditLog,
    Case,
    Child,
    HomePlan,
    HomePlanTeacher,
    HomeTeachingVisit,
    School,
    Student,
    Township,
)
from xueji.rules.cases import CaseCategory, CaseStatus
from xueji.rules.home_teaching import (
    AssessmentFacts,
    ComplianceState,
    Conclusion,
    Degree,
    GoalArea,
    HomeVisitFacts,
    PlanFacts,
    VisitHours,
    term_compliance,
)
from xueji.services.common.access import child_condition
from xueji.services.home_teaching import board as home_board
from xueji.services.home_teaching import records, visit_import
from xueji.services.home_teaching.visit_import import COLUMNS

pytestmark = pytest.mark.usefixtures("fixed_today")
TODAY = date(2026, 11, 23)


def term(engine) -> records.TermRef:
    with session_scope(engine) as session:
        return records.current_term(session)


def board(engine, actor, **kw) -> list[home_board.BoardRow]:
    with session_scope(engine) as session:
        return home_board.board(session, actor=actor, term=term(engine), **kw)


def visit(day: date, hours: float = 2, **kw) -> HomeVisitFacts:
    return HomeVisitFacts(
        **({"visit_date": day, "teachers": "黄协调", "class_hours": hours, "content": "认知训练"} | kw)
    )


def log(engine, actor, plan_id: int, facts: HomeVisitFacts):
    with session_scope(engine) as session:
        return records.log_home_visit(session, actor=actor, plan_id=plan_id, facts=facts)


def behind_row(engine, actor) -> home_board.BoardRow:
    """A child behind by exactly one missed month, whom one visit in that month brings back on track."""
    return next(
        r
        for r in board(engine, actor)
        if r.compliance.state is ComplianceState.BEHIND
        and len(r.compliance.missed) == 1
        and r.compliance.needed - 1 <= r.compliance.months_left
    )


def test_the_board_counted_in_sql_agrees_with_the_rule_over_every_visit(demo_engine, actors):
    rows = board(demo_engine, actors["demo_county"])
    ref = term(demo_engine)
    policy = get_settings().home_teaching
    assert len({r.compliance.state for r in rows}) >= 3  # the demo's mix
    with session_scope(demo_engine) as session:
        for row in rows:
            plan = session.get(HomePlan, row.plan_id)
            visits = session.scalars(
                select(HomeTeachingVisit).where(HomeTeachingVisit.plan_id == row.plan_id)
            ).all()
            expected = term_compliance(
                [VisitHours(v.visit_date, v.class_hours) for v in visits],
                term_start=ref.dates.start,
                term_end=ref.dates.end,
                today=TODAY,
                policy=policy,
                started=plan.started_on,
            )
            assert row.compliance == expected
            assert row.visits == len(visits)
            assert row.hours == pytest.approx(sum(v.class_hours for v in visits))
            assert row.last_visit == max((v.visit_date for v in visits), default=None)


def test_a_visit_in_the_missed_month_turns_a_child_from_red_to_green(demo_engine, actors):
    coordinator = actors["demo_coordinator"]
    row = behind_row(demo_engine, coordinator)
    year, month = row.compliance.missed[0].first.year, row.compliance.missed[0].first.month
    log(demo_engine, coordinator, row.plan_id, visit(date(year, month, 15)))
    after = board(demo_engine, coordinator, child_id=row.child_id)[0]
    assert after.compliance.state.light == "green"
    assert after.compliance.counted == row.compliance.counted + 1
    with session_scope(demo_engine) as session:
        entry = session.scalars(
            select(AuditLog)
            .where(AuditLog.entity_type == "home_teaching_visit")
            .order_by(col(AuditLog.id).desc())
        ).first()
    assert entry is not None and entry.username == "demo_coordinator"


def test_a_visit_under_two_class_hours_is_kept_but_not_counted_and_a_second_on_one_day_is_refused(
    demo_engine, actors
):
    coordinator = actors["demo_coordinator"]
    row = behind_row(demo_engine, coordinator)
    year, month = row.compliance.missed[0].first.year, row.compliance.missed[0].first.month
    log(demo_engine, coordinator, row.plan_id, visit(date(year, month, 16), hours=1.5))
    after = board(demo_engine, coordinator, child_id=row.child_id)[0]
    assert (after.visits, after.compliance.counted, after.compliance.state) == (
        row.visits + 1,
        row.compliance.counted,
        ComplianceState.BEHIND,
    )
    with pytest.raises(records.HomeTeachingError, match="已有送教记录"):
        log(demo_engine, coordinator, row.plan_id, visit(date(year, month, 16)))
    with pytest.raises(records.HomeTeachingError, match="课时"):
        log(demo_engine, coordinator, row.plan_id, visit(date(year, month, 17), hours=0))


def test_teachers_log_only_on_their_plans_and_scope_is_enforced(demo_engine, actors):
    teacher, coordinator = actors["demo_teacher"], actors["demo_coordinator"]
    mine = board(demo_engine, teacher)
    everyone = board(demo_engine, actors["demo_county"])
    with session_scope(demo_engine) as session:
        taught = set(
            session.scalars(select(HomePlanTeacher.plan_id).where(HomePlanTeacher.user_id == teacher.user_id))
        )
    assert mine and {r.plan_id for r in mine} == taught & {r.plan_id for r in everyone}
    other = next(r for r in everyone if r.plan_id not in taught)
    with pytest.raises(PermissionDenied):
        log(demo_engine, teacher, other.plan_id, visit(TODAY))
    with session_scope(demo_engine) as session:
        elsewhere = session.scalar(select(Township.id).where(Township.code != "430181108000").limit(1))
    other_township = replace(coordinator, scope_id=elsewhere)  # a coordinator of another township
    gugang = [r for r in everyone if r.township == "古港镇"]
    assert gugang and not {r.plan_id for r in gugang} & {
        r.plan_id for r in board(demo_engine, other_township)
    }
    with pytest.raises(PermissionDenied):
        log(demo_engine, other_township, gugang[0].plan_id, visit(TODAY))
    with session_scope(demo_engine) as session:
        denied = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.outcome == "denied")
        )
    assert denied >= 2


def test_a_plan_takes_only_teachers_of_the_childs_school_and_is_copied_forward_once(demo_engine, actors):
    coordinator = actors["demo_coordinator"]
    child = board(demo_engine, coordinator)[0]  # its plan this term is copied into the next term
    with session_scope(demo_engine) as session:
        ref = records.terms_after(session, term(demo_engine))[0]
        stranger = session.scalar(
            select(AppUser.id).where(AppUser.role == "teacher", AppUser.school_id != child.school_id)
        )
    facts = PlanFacts(ref.dates.start, {GoalArea.MOTOR: "扶物站立"}, "", (stranger,))
    with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:
        records.save_plan(session, actor=coordinator, child_id=child.child_id, term=ref.id, facts=facts)
    with session_scope(demo_engine) as session:
        plan = records.copy_forward(session, actor=coordinator, child_id=child.child_id, term=ref.id)
        assert (plan.copied_from_id, plan.goals, plan.started_on) == (
            child.plan_id,
            session.get(HomePlan, child.plan_id).goals,
            ref.dates.start,
        )
        teachers = set(
            session.scalars(select(HomePlanTeacher.user_id).where(HomePlanTeacher.plan_id == plan.id))
        )
        assert teachers and teachers <= {
            t for t, _ in records.teachers_for(session, actor=coordinator, child_id=child.child_id)
        }
    with (
        pytest.raises(records.HomeTeachingError, match="本学期已有"),
        session_scope(demo_engine) as session,
    ):
        records.copy_forward(session, actor=coordinator, child_id=child.child_id, term=ref.id)


def test_an_assessment_concluding_home_teaching_opens_the_case_once(demo_engine, actors):
    coordinator = actors["demo_coordinator"]
    with session_scope(demo_engine) as session:
        taught = select(Case.child_id).where(
            Case.category == CaseCategory.HOME_TEACHING.value, Case.status != CaseStatus.CLOSED.value
        )
        child_id = session.scalar(
            select(Child.id)
            .where(child_condition(coordinator), col(Child.id).not_in(taught))
            .order_by(Child.id)
            .limit(1)
        )
    facts = AssessmentFacts(
        date(2026, 11, 2), "张某、李某", "肢体", Degree.SEVERE, "可在家接受教学", Conclusion.HOME_TEACHING
    )
    for _ in range(2):
        with session_scope(demo_engine) as session:
            records.record_assessment(session, actor=coordinator, child_id=child_id, facts=facts)
    with session_scope(demo_engine) as session:
        cases = session.scalars(
            select(Case).where(Case.child_id == child_id, Case.category == CaseCategory.HOME_TEACHING.value)
        ).all()
        assert len(cases) == 1 and cases[0].disability_type == "肢体"
        assert len(records.assessments(session, actor=coordinator, child_id=child_id)) == 2
    bad = AssessmentFacts(date(2026, 12, 2), "", "不明", Degree.SEVERE, "", Conclusion.DEFERRED)
    with pytest.raises(records.HomeTeachingError) as refused, session_scope(demo_engine) as session:
        records.record_assessment(session, actor=coordinator, child_id=child_id, facts=bad)
    assert {f for f, _ in refused.value.problems} == {"评估日期", "评估人员", "残疾类型", "接受教育能力"}
    with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:
        records.record_assessment(session, actor=actors["demo_teacher"], child_id=child_id, facts=facts)


def test_a_teacher_is_reminded_until_this_months_visit_is_logged(demo_engine, actors):
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        due = home_board.due_for_teacher(session, actor=teacher, term=term(demo_engine))
    assert due and not any(date(2026, 11, 20) in p for r in due for p in r.compliance.visited)
    log(demo_engine, teacher, due[0].plan_id, visit(date(2026, 11, 20), teachers="周老师"))
    with session_scope(demo_engine) as session:
        after = home_board.due_for_teacher(session, actor=teacher, term=term(demo_engine))
    assert [r.plan_id for r in after] == [r.plan_id for r in due[1:]]


def test_the_term_report_has_a_row_and_a_visit_log_sheet_per_child(demo_engine, actors):
    county = actors["demo_county"]
    rows = board(demo_engine, county)
    with session_scope(demo_engine) as session:
        data = home_board.term_report(session, actor=county, term=term(demo_engine))
        visits = dict(
            session.execute(
                select(HomeTeachingVisit.plan_id, func.count()).group_by(HomeTeachingVisit.plan_id)
            ).all()
        )
        exported = session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "export", AuditLog.entity_type == "home_plan")
        )
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == len(rows) + 1
    summary = list(book["汇总"].iter_rows(values_only=True))
    header = summary[0]
    assert len(summary) == len(rows) + 1
    by_name = {r[header.index("姓名")]: r for r in summary[1:]}
    for row in rows:
        line = by_name[row.name]
        assert line[header.index("送教次数")] == visits.get(row.plan_id, 0)
        assert line[header.index("达标情况")] == row.compliance.state.label
        assert "*" in (line[header.index("身份证号")] or "*")  # masked for the county
    sheet = next(s for s in book.sheetnames[1:] if s.endswith(rows[0].name))
    assert book[sheet].max_row == visits.get(rows[0].plan_id, 0) + 1
    assert exported == 1


def _sheet(rows: list[dict[str, str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(COLUMNS))
    for row in rows:
        ws.append([row.get(h, "") for h in COLUMNS])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _teacher_child(engine, teacher) -> tuple[int, str, str]:
    """(plan id, ID number, name) of the demo teacher's first home-teaching child."""
    row = board(engine, teacher)[0]
    with session_scope(engine) as session:
        number = session.scalar(
            select(Student.id_number)
            .join(Child, Child.student_id == Student.id)
            .where(Child.id == row.child_id)
        )
    return row.plan_id, number, row.name


def test_an_import_with_one_bad_row_writes_nothing_and_a_good_one_is_never_imported_twice(
    demo_engine, actors
):
    teacher = actors["demo_teacher"]
    plan_id, number, name = _teacher_child(demo_engine, teacher)
    good = {
        "身份证号": number,
        "姓名": name,
        "送教教师": "周老师",
        "课时": "2",
        "送教内容": "认识颜色",
        "监护人签字": "是",
    }
    rows = [
        good | {"送教日期": "2026-11-03"},
        good | {"送教日期": "2026-11-10", "课时": "两节", "姓名": "某某"},
    ]
    before = _visits(demo_engine, plan_id)
    with session_scope(demo_engine) as session:
        sheet = visit_import.check_home_visits(session, actor=teacher, data=_sheet(rows))
    assert {(p.row, p.column, p.value) for p in sheet.problems} == {(3, "姓名", "某某"), (3, "课时", "两节")}
    with pytest.raises(visit_import.HomeVisitImportBlocked), session_scope(demo_engine) as session:
        visit_import.commit_home_visits(session, actor=teacher, data=_sheet(rows))
    assert _visits(demo_engine, plan_id) == before
    with session_scope(demo_engine) as session:
        assert visit_import.commit_home_visits(session, actor=teacher, data=_sheet(rows[:1])) == 1
    assert _visits(demo_engine, plan_id) == before + 1
    with session_scope(demo_engine) as session:
        again = visit_import.check_home_visits(session, actor=teacher, data=_sheet(rows[:1]))
    assert [p.reason for p in again.problems] == ["2026-11-03 已有送教记录(同一天只记一次)"]


def _visits(engine, plan_id: int) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count()).select_from(HomeTeachingVisit).where(HomeTeachingVisit.plan_id == plan_id)
        )


def test_the_command_line_imports_home_visits(demo_engine, actors, use_database, tmp_path, capsys):
    teacher = actors["demo_teacher"]
    plan_id, number, name = _teacher_child(demo_engine, teacher)
    row = {
        "身份证号": number,
        "姓名": name,
        "送教日期": "2026-11-04",
        "送教教师": "周老师",
        "课时": "2.5",
        "送教内容": "串珠",
    }
    path = tmp_path / "visits.xlsx"
    path.write_bytes(_sheet([row, row | {"送教日期": "2026-12-30"}]))
    assert xueji_main(["import", "home-visits", str(path), "--as", "demo_teacher"]) == 1
    assert "不能晚于今天" in capsys.readouterr().err
    path.write_bytes(_sheet([row]))
    before = _visits(demo_engine, plan_id)
    assert xueji_main(["import", "home-visits", str(path), "--as", "demo_teacher"]) == 0
    assert "已导入 1 条送教记录" in capsys.readouterr().out
    assert _visits(demo_engine, plan_id) == before + 1
    with session_scope(demo_engine) as session:
        school = session.scalar(
            select(School.name).join(HomePlan, HomePlan.school_id == School.id).where(HomePlan.id == plan_id)
        )
    assert school == "古港镇完全小学"
