"""个案 on SQLite and PostgreSQL: opened automatically and by hand, never twice, closed and reopened, the
ledgers and who sees them, the dropout and return changes carried to the cases."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import col

from tests.factories import DEMO_SCHOOL
from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import AppUser, AuditLog, Case, Child, School, Student
from xueji.rules.cases import CaseCategory, CaseStatus, CloseReason, Closing, RiskLevel
from xueji.rules.ladder import Step
from xueji.rules.status_changes import ChangeKind
from xueji.services.cases import handling, ladder, ledgers, opening
from xueji.services.cases.ledgers import Ledger, LedgerFilter, Standing
from xueji.services.registry import file_import
from xueji.services.registry.status_changes import ChangeRequest, decide_change, submit_change
from xueji.services.registry.student_record import correct_student
from xueji.services.registry.term_reports import lost_students

pytestmark = pytest.mark.usefixtures("fixed_today")
FLAGS = {
    CaseCategory.LEFT_BEHIND: "left_behind",
    CaseCategory.MIGRANT: "migrant",
    CaseCategory.DISABLED: "disabled",
    CaseCategory.HARDSHIP: "needs_aid",
    CaseCategory.ORPHAN: "orphan",
}


def open_cases(engine, student_id: int) -> list[str]:
    with session_scope(engine) as session:
        return sorted(
            session.scalars(
                select(Case.category)
                .join(Child, Case.child_id == Child.id)
                .where(Child.student_id == student_id, Case.status != CaseStatus.CLOSED.value)
            )
        )


def a_student(engine, **where) -> int:
    with session_scope(engine) as session:
        query = (
            select(Student.id).join(School).where(School.code == DEMO_SCHOOL, Student.status == "enrolled")
        )
        for name, value in where.items():
            query = query.where(getattr(Student, name) == value)
        return session.scalars(query.order_by(Student.id)).first()


def by_hand(session, actor, category: CaseCategory, reason: str, **target) -> Case:
    """Open a high-risk case by hand for a student (student_id=), a followed child (child_id=) or a new one."""
    return handling.open_case(
        session, actor=actor, category=category, risk=RiskLevel.HIGH, risk_reason=reason, **target
    )


def test_the_demo_has_one_open_case_per_registry_flag_and_never_two(demo_engine):
    with session_scope(demo_engine) as session:
        expected = set()
        for student in session.scalars(
            select(Student).where(
                col(Student.status).in_(["enrolled", "suspended", "dropped_out"]),
                col(Student.merged_into_id).is_(None),
            )
        ):
            expected |= {(student.id, c.value) for c, flag in FLAGS.items() if getattr(student, flag)}
        opened = session.execute(
            select(Child.student_id, Case.category)
            .join(Child, Case.child_id == Child.id)
            .where(Case.source == "registry")
        ).all()
        duplicates = session.execute(
            select(Case.child_id, Case.category)
            .where(Case.status != "closed")
            .group_by(Case.child_id, Case.category)
            .having(func.count() > 1)
        ).all()
    assert expected and set(opened) == expected
    assert len(opened) == len(expected)
    assert duplicates == []


def test_an_import_opens_the_flagged_cases_once(demo_engine, actors):
    rows = list(template_rows([(DEMO_SCHOOL, "primary")], 3, school_year=2026, seed=11))
    for row in rows:
        row["left_behind"], row["orphan"], row["migrant"], row["needs_aid"] = "是", "否", "否", "否"
        row["disability"] = ""
    rows[0]["orphan"] = "是"
    data = template_workbook(rows)
    registrar = actors["demo_registrar"]
    for _ in range(2):  # the second import updates nothing and opens nothing
        with session_scope(demo_engine) as session:
            file_import.import_file(session, actor=registrar, data=data, school_code=DEMO_SCHOOL)
    with session_scope(demo_engine) as session:
        ids = session.scalars(
            select(Student.id).where(col(Student.id_number).in_([r["id_number"] for r in rows]))
        ).all()
    assert [open_cases(demo_engine, i) for i in sorted(ids)] == [
        ["left_behind", "orphan"],
        ["left_behind"],
        ["left_behind"],
    ]


def test_a_correction_that_sets_a_flag_opens_its_case(demo_engine, actors):
    student_id = a_student(demo_engine, orphan=False, left_behind=False)
    registrar = actors["demo_registrar"]
    before = open_cases(demo_engine, student_id)
    assert "orphan" not in before
    with session_scope(demo_engine) as session:
        correct_student(
            session, actor=registrar, student_id=student_id, changes={"orphan": "是"}, reason="民政部门认定"
        )
    assert open_cases(demo_engine, student_id) == sorted([*before, "orphan"])
    with session_scope(demo_engine) as session:  # another correction leaves the open case alone
        correct_student(
            session,
            actor=registrar,
            student_id=student_id,
            changes={"native_place": "湖南浏阳"},
            reason="更正籍贯",
        )
    assert open_cases(demo_engine, student_id) == sorted([*before, "orphan"])


def test_lost_students_become_suspected_dropouts_once(demo_engine, actors):
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        lost = {r.student_id for r in lost_students(session, actor=registrar).rows}
        # the demo opened theirs; close them to see the service open them again, exactly once
        for case in session.scalars(select(Case).where(Case.category == "suspected_dropout")):
            case.status = "closed"
        session.commit()
    assert lost
    for expected in (len(lost), 0):
        with session_scope(demo_engine) as session:
            assert opening.open_lost_cases(session, actor=registrar) == expected
    assert all("suspected_dropout" in open_cases(demo_engine, sid) for sid in lost)
    with session_scope(demo_engine) as session:
        entry = session.scalars(
            select(AuditLog).where(AuditLog.action == "auto_open").order_by(AuditLog.id.desc())
        ).first()
    assert entry.detail == f"开学未报到(流生)自动建档:疑似辍学 {len(lost)}"


def _change(engine, actor, **fields) -> int:
    with session_scope(engine) as session:
        return submit_change(session, actor=actor, request=ChangeRequest(**fields)).id


def _decide(engine, actor, change_id) -> None:
    with session_scope(engine) as session:
        decide_change(session, actor=actor, change_id=change_id, approve=True)


def test_an_approved_dropout_moves_the_child_to_the_dropout_ledger_and_a_return_starts_the_follow_ups(
    demo_engine, actors
):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    student_id = a_student(demo_engine)
    with session_scope(demo_engine) as session:
        by_hand(session, registrar, CaseCategory.SUSPECTED_DROPOUT, "连续两周未到校", student_id=student_id)
    change = _change(
        demo_engine,
        registrar,
        student_id=student_id,
        kind=ChangeKind.DROPOUT,
        effective_date=date(2026, 11, 23),
        reason="随父母外出",
    )
    _decide(demo_engine, county, change)
    assert "dropout" in open_cases(demo_engine, student_id)
    assert "suspected_dropout" not in open_cases(demo_engine, student_id)
    with session_scope(demo_engine) as session:
        suspected = session.scalars(
            select(Case)
            .join(Child)
            .where(Child.student_id == student_id, Case.category == "suspected_dropout")
        ).one()
        assert suspected.close_reason == CloseReason.CONFIRMED_DROPOUT.value
        class_id = session.get(Student, student_id).class_id
    back = _change(
        demo_engine,
        registrar,
        student_id=student_id,
        kind=ChangeKind.RETURN,
        effective_date=date(2026, 11, 23),
        reason="劝返成功",
        to_class_id=class_id,
    )
    _decide(demo_engine, county, back)
    # back in school: the case stays open (已返校/稳定) for the follow-ups until its 销号 is approved
    assert "dropout" in open_cases(demo_engine, student_id)
    with session_scope(demo_engine) as session:
        dropout = session.scalars(
            select(Case).join(Child).where(Child.student_id == student_id, Case.category == "dropout")
        ).one()
        assert dropout.status == CaseStatus.STABLE.value
        steps = ladder.case_ladder(session, actor=county, case_id=dropout.id).steps
    # the suspected case's school step went on in the dropout case, then the return and the first follow-up
    assert [(s.step.value, s.state.value) for s in steps] == [
        ("school", "done"),
        ("returned", "done"),
        ("follow_up", "open"),
    ]
    assert steps[1].status_change_id == back


def test_a_case_is_never_opened_twice_by_hand(demo_engine, actors):
    registrar = actors["demo_registrar"]
    student_id = a_student(demo_engine)
    kwargs = {"category": CaseCategory.STRUGGLING, "risk": RiskLevel.MEDIUM, "risk_reason": "多科不及格"}
    with session_scope(demo_engine) as session:
        handling.open_case(session, actor=registrar, student_id=student_id, **kwargs)
    with (
        session_scope(demo_engine) as session,
        pytest.raises(handling.CaseError, match="已有在办的“学困生”个案"),
    ):
        handling.open_case(session, actor=registrar, student_id=student_id, **kwargs)


def test_closing_takes_the_case_off_the_open_ledger_and_reopening_puts_it_back(demo_engine, actors):
    registrar = actors["demo_registrar"]
    student_id = a_student(demo_engine)
    with session_scope(demo_engine) as session:
        case = by_hand(
            session, registrar, CaseCategory.SUSPECTED_DROPOUT, "一周未到校", student_id=student_id
        )
        case_id, child_id = case.id, case.child_id

    def on_ledger(standing: Standing) -> bool:
        with session_scope(demo_engine) as session:
            page = ledgers.ledger_page(
                session, actor=registrar, given=LedgerFilter(Ledger.SUSPECTED_DROPOUT, standing), limit=None
            )
        return case_id in {r.case_id for r in page.rows}

    township = actors["demo_township"]
    # an out-of-school case is struck off only through the ladder's 销号 request and its approval
    with session_scope(demo_engine) as session, pytest.raises(handling.CaseError, match="劝返复学"):
        handling.close_case(
            session,
            actor=registrar,
            case_id=case_id,
            closing=Closing(CloseReason.ENROLLED_ELSEWHERE, "电话确认", "外省某校"),
        )
    with session_scope(demo_engine) as session, pytest.raises(ladder.LadderError, match="须写明接收学校"):
        ladder.request_closure(
            session,
            actor=registrar,
            case_id=case_id,
            reason=CloseReason.ENROLLED_ELSEWHERE,
            evidence="电话确认",
        )
    assert on_ledger(Standing.OPEN)
    with session_scope(demo_engine) as session:
        ladder.request_closure(
            session,
            actor=registrar,
            case_id=case_id,
            reason=CloseReason.ENROLLED_ELSEWHERE,
            evidence="接收学校回执",
            receiving_school="广东省东莞市某小学",
        )
    assert on_ledger(Standing.OPEN)
    with session_scope(demo_engine) as session:
        ladder.decide_closure(session, actor=township, case_id=case_id, approve=True, note="")
    assert not on_ledger(Standing.OPEN) and on_ledger(Standing.CLOSED)
    with session_scope(
        demo_engine
    ) as session:  # a new suspicion opens a new case; the old one cannot reopen now
        second = by_hand(session, registrar, CaseCategory.SUSPECTED_DROPOUT, "再次未到校", child_id=child_id)
    with session_scope(demo_engine) as session, pytest.raises(handling.CaseError, match="已有一个在办的"):
        handling.reopen_case(session, actor=registrar, case_id=case_id, reason="再次未到校")
    with session_scope(demo_engine) as session:
        ladder.request_closure(
            session, actor=registrar, case_id=second.id, reason=CloseReason.DUPLICATE, evidence="与原个案重复"
        )
        ladder.decide_closure(session, actor=township, case_id=second.id, approve=True, note="")
        handling.reopen_case(session, actor=registrar, case_id=case_id, reason="再次未到校")
    assert on_ledger(Standing.OPEN)
    with session_scope(demo_engine) as session:
        actions = session.scalars(
            select(AuditLog.action)
            .where(
                AuditLog.entity_type == "case",
                AuditLog.entity_id == str(case_id),
                AuditLog.outcome == "success",
            )
            .order_by(AuditLog.id)
        ).all()
        reopened = ladder.case_ladder(session, actor=registrar, case_id=case_id)
    assert actions == ["create", "ladder.closure_request", "ladder.closure_decide", "close", "reopen"]
    # reopened: the school's step opens anew, the next round
    assert reopened.current is not None and (reopened.current.step, reopened.current.seq) == (Step.SCHOOL, 2)


def test_a_child_without_a_registry_record_is_followed_and_not_duplicated(demo_engine, actors):
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        school_id = session.scalar(select(School.id).where(School.code == DEMO_SCHOOL))
        child = handling.ChildIn(
            name="王小明",
            township_id=township.scope_id,
            school_id=school_id,
            sex="男",
            birth_date=date(2012, 5, 1),
            id_number="430181201205010013",
            guardian_phone="13800138000",
        )
        case = by_hand(
            session, township, CaseCategory.SUSPECTED_DROPOUT, "村干部反映未上初中", new_child=child
        )
        assert session.get(Child, case.child_id).student_id is None
    with session_scope(demo_engine) as session, pytest.raises(handling.CaseError, match="已在个案中"):
        by_hand(session, township, CaseCategory.DROPOUT, "同一儿童", new_child=child)
    too_old = handling.ChildIn(
        name="李大", township_id=township.scope_id, school_id=school_id, birth_date=date(2009, 1, 1)
    )
    with (
        session_scope(demo_engine) as session,
        pytest.raises(handling.CaseError, match="不是义务教育适龄儿童"),
    ):
        by_hand(session, township, CaseCategory.SUSPECTED_DROPOUT, "超龄", new_child=too_old)


def test_the_two_lines_of_responsibility_are_checked_and_fill_the_gap(demo_engine, actors):
    registrar, township = actors["demo_registrar"], actors["demo_township"]
    with session_scope(demo_engine) as session:
        case = session.scalars(
            select(Case)
            .join(Child)
            .join(School, Child.school_id == School.id)
            .where(School.code == DEMO_SCHOOL, Case.status != "closed")
            .order_by(Case.id)
        ).first()
        case_id, child_id = case.id, case.child_id
        other_teacher = session.scalar(
            select(AppUser.id)
            .join(School, AppUser.school_id == School.id)
            .where(AppUser.role == "teacher", School.code != DEMO_SCHOOL)
        )
        teacher = session.scalar(select(AppUser.id).where(AppUser.username == "demo_teacher"))
        cadre = session.scalar(select(AppUser.id).where(AppUser.username == "demo_township"))
    for people, problem in (
        (handling.Responsibility(other_teacher, cadre), "教育线包保人须是该儿童所在"),
        (handling.Responsibility(teacher, None, "刘村干", ""), "政府线联系人电话"),
        (handling.Responsibility(teacher), "请选择政府线包保干部账号"),
    ):
        with session_scope(demo_engine) as session, pytest.raises(handling.CaseError, match=problem):
            handling.assign_responsibility(session, actor=registrar, case_id=case_id, people=people)
    with session_scope(demo_engine) as session:
        n = handling.assign_responsibility(
            session, actor=township, case_id=case_id, people=handling.Responsibility(teacher, cadre)
        )
        open_of_child = session.scalar(
            select(func.count()).select_from(Case).where(Case.child_id == child_id, Case.status != "closed")
        )
        missing = ledgers.ledger_page(
            session, actor=registrar, given=LedgerFilter(missing_responsible=True), limit=None
        ).rows
    assert n == open_of_child
    assert child_id not in {r.child_id for r in missing}


def test_the_gap_counts_match_the_cases_counted_by_hand(demo_engine, actors):
    county = actors["demo_county"]
    with session_scope(demo_engine) as session:
        by_hand = sum(
            1
            for c in session.scalars(select(Case).where(Case.status != "closed"))
            if c.education_user_id is None
            or (c.government_user_id is None and not (c.government_name and c.government_phone))
        )
        gaps = ledgers.responsibility_gaps(session, actor=county)
        listed = ledgers.ledger_page(
            session, actor=county, given=LedgerFilter(missing_responsible=True), limit=1
        )
    assert by_hand > 0
    assert sum(g.missing for g in gaps) == by_hand == listed.total


def test_each_scope_sees_its_own_children_only(demo_engine, actors):
    with session_scope(demo_engine) as session:
        every = ledgers.ledger_page(
            session, actor=actors["demo_county"], given=LedgerFilter(), limit=None
        ).rows
        township = ledgers.ledger_page(
            session, actor=actors["demo_township"], given=LedgerFilter(), limit=None
        ).rows
        school = ledgers.ledger_page(
            session, actor=actors["demo_registrar"], given=LedgerFilter(), limit=None
        ).rows
        teacher = ledgers.ledger_page(
            session, actor=actors["demo_teacher"], given=LedgerFilter(), limit=None
        ).rows
        mine = set(
            session.scalars(
                select(Case.id).where(
                    Case.education_user_id == actors["demo_teacher"].user_id, Case.status != "closed"
                )
            )
        )
    assert {r.township for r in township} == {"古港镇"} and len(every) > len(township) > len(school)
    assert {r.school for r in school} == {"古港镇完全小学"}
    assert mine and mine <= {r.case_id for r in teacher}
    assert all("*" in (r.id_number or "*") for r in township)  # masked for the township
    outside = next(r for r in every if r.township != "古港镇")
    from xueji.services.cases.detail import child_detail

    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        child_detail(session, actor=actors["demo_township"], child_id=outside.child_id)


def test_the_ledger_export_is_masked_and_audited(demo_engine, actors):
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        data = ledgers.export_ledger(session, actor=registrar, given=LedgerFilter())
        total = ledgers.ledger_page(session, actor=registrar, given=LedgerFilter(), limit=1).total
        detail = session.scalars(select(AuditLog.detail).where(AuditLog.action == "export")).all()[-1]
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("乡镇", "跟进学校", "姓名")
    assert len(rows) - 1 == total
    assert all("*" in (r[5] or "*") for r in rows[1:])
    assert detail == f"适龄儿童重点关注台账 {total} 行;在册(未销号)"
