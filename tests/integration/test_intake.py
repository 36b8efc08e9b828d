"""September at a junior school (SQLite and PostgreSQL): the registrar imports the new grade 7 by the national
template. Graduates of two county primaries are promoted on their own records, a child who transferred out
comes back, a dropout returns, a child from another county arrives; the rows the county already holds elsewhere
are refused with a reason. Then 巩固率 counts each of them as the sources say, against hand-worked numbers."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from xueji.audit import verify_chain
from xueji.auth import Actor
from xueji.cli import main as xueji_main
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import (
    AuditLog,
    Case,
    Child,
    County,
    LadderStep,
    School,
    SchoolClass,
    SchoolYear,
    StatusChange,
    Student,
    Township,
)
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus, RiskLevel
from xueji.rules.ladder import Step
from xueji.rules.retention import GradeFlow
from xueji.rules.status_changes import ChangeKind, ChangeState, Document
from xueji.rules.vocab import Role, ScopeKind, StudentStatus
from xueji.services.dashboards.retention import RetentionScope, grade_flows
from xueji.services.registry.file_import import (
    ImportBlocked,
    check_file,
    import_file,
    plan_import,
    schools_for_import,
)

pytestmark = pytest.mark.usefixtures("fixed_today")  # 2026-11-23, school year 2026 (first day 2026-09-01)

JUNIOR, PRIMARY, PRIMARY2 = "2143017001", "2143016965", "2143016967"
FIRST_DAY, TODAY = date(2026, 9, 1), date(2026, 11, 23)


def county(engine, *, graduates: bool = True) -> dict:
    """County K: primaries P (古港镇完全小学) and P2 (古港镇梅田小学), junior school J (沙市镇中学); twelve rows of
    J's new grade 7 (class 2026210) generated, and records made for the first ones as the rows say:
    r0, r1 graduates of P; r2 graduate of P2; r3 left P for another county last spring; r4 dropped out of P2
    last spring (an open dropout case); r5 in grade 6 at P2 (on the registry: refused); r6 a graduate of P placed
    in grade 8 (refused); r7 from another county into grade 8 (转出县区); r8–r11 no record (grade-7 entrants).
    J's class 2025210 (grade 8) has 40 children, of whom 2 transfer out and 1 drops out this autumn."""
    rows = list(template_rows([(JUNIOR, "junior")], 12, school_year=2026, seed=5))
    with Session(engine) as session:
        k = County(code="430181000000", name="浏阳市")
        session.add(k)
        session.flush()
        t = Township(county_id=k.id, code="430181108000", name="古港镇")
        session.add(t)
        session.flush()
        s = {
            code: School(township_id=t.id, code=code, name=name, kind=kind)
            for code, name, kind in (
                (PRIMARY, "古港镇完全小学", "primary"),
                (PRIMARY2, "古港镇梅田小学", "primary"),
                (JUNIOR, "沙市镇中学", "junior"),
            )
        }
        session.add_all(s.values())
        session.flush()
        ids = {code: school.id for code, school in s.items()}

        def klass(school: str, code: str) -> int:
            c = SchoolClass(school_id=ids[school], code=code)
            session.add(c)
            session.flush()
            return c.id

        p6, p26, p25 = klass(PRIMARY, "2020101"), klass(PRIMARY2, "2020101"), klass(PRIMARY2, "2021101")
        g8 = klass(JUNIOR, "2025210")

        def record(row: dict, school: str, class_id: int, status: StudentStatus) -> Student:
            student = Student(
                school_id=ids[school],
                class_id=class_id,
                name=row["name"],
                sex=row["sex"],
                birth_date=date(
                    int(row["birth_date"][:4]), int(row["birth_date"][4:6]), int(row["birth_date"][6:])
                ),
                id_number=row["id_number"],
                registry_number=f"G{row['id_number']}",
                entry_month="202009",
                status=status.value,
            )
            session.add(student)
            session.flush()
            return student

        def change(student: Student, kind: ChangeKind, day: date, school: str) -> None:
            session.add(
                StatusChange(
                    student_id=student.id,
                    kind=kind.value,
                    state=ChangeState.APPROVED.value,
                    school_id=ids[school],
                    effective_date=day,
                    reason="测试",
                    due_date=day,
                )
            )

        made = {}
        if graduates:
            made["r0"] = record(rows[0], PRIMARY, p6, StudentStatus.GRADUATED)
            made["r1"] = record(rows[1], PRIMARY, p6, StudentStatus.GRADUATED)
            made["r2"] = record(rows[2], PRIMARY2, p26, StudentStatus.GRADUATED)
            made["r3"] = record(rows[3], PRIMARY, p6, StudentStatus.TRANSFERRED_OUT)
            change(made["r3"], ChangeKind.TRANSFER_OUT, date(2026, 3, 2), PRIMARY)
            made["r4"] = record(rows[4], PRIMARY2, p26, StudentStatus.DROPPED_OUT)
            change(made["r4"], ChangeKind.DROPOUT, date(2026, 5, 11), PRIMARY2)
            child = Child(
                student_id=made["r4"].id, name=rows[4]["name"], township_id=t.id, school_id=ids[PRIMARY2]
            )
            session.add(child)
            session.flush()
            session.add(
                Case(
                    child_id=child.id,
                    category=CaseCategory.DROPOUT.value,
                    risk_level=RiskLevel.HIGH.value,
                    source=CaseSource.DROPOUT.value,
                    opened_on=date(2026, 5, 11),
                )
            )
            made["r5"] = record(rows[5], PRIMARY2, p25, StudentStatus.ENROLLED)
            made["r6"] = record(rows[6], PRIMARY, p6, StudentStatus.GRADUATED)
        for n in range(40):
            status = StudentStatus.TRANSFERRED_OUT if n < 2 else StudentStatus.DROPPED_OUT if n == 2 else None
            pupil = Student(
                school_id=ids[JUNIOR],
                class_id=g8,
                name=f"八年级{n}",
                sex="男",
                birth_date=date(2013, 3, 1),
                entry_month="202509",
                status=(status or StudentStatus.ENROLLED).value,
            )
            session.add(pupil)
            session.flush()
            if status is StudentStatus.TRANSFERRED_OUT:
                change(pupil, ChangeKind.TRANSFER_OUT, date(2026, 10, 12), JUNIOR)
            elif status is StudentStatus.DROPPED_OUT:
                change(pupil, ChangeKind.DROPOUT, date(2026, 10, 20), JUNIOR)
        for year in (2025, 2026):
            session.add(
                SchoolYear(start_year=year, start_date=date(year, 9, 1), end_date=date(year + 1, 8, 31))
            )
        session.commit()
        for n in (6, 7):
            rows[n] |= {"class_code": "2025210", "entry_month": "202509"}
        rows[7] |= {"source_county": "萍乡市上栗县", "source_school": "上栗县桐木镇中学"}
        return {
            "rows": rows,
            "ids": ids,
            "made": {key: student.id for key, student in made.items()},
            "registrar": Actor(None, "j_registrar", Role.REGISTRAR, ScopeKind.SCHOOL, ids[JUNIOR]),
            "county": Actor(None, "county", Role.COUNTY_OFFICER, ScopeKind.COUNTY, k.id),
        }


@pytest.fixture
def k(engine):
    return county(engine)


def plan_of(engine, k):
    with Session(engine) as session:
        actor = k["registrar"]
        sheet = check_file(session, actor=actor, data=template_workbook(k["rows"]))
        schools = schools_for_import(session, actor=actor, school_code=JUNIOR)
        return plan_import(session, actor=actor, sheet=sheet, schools=schools, only_school=True)


def run(engine, k, **options):
    with Session(engine) as session:
        return import_file(
            session, actor=k["registrar"], data=template_workbook(k["rows"]), school_code=JUNIOR, **options
        )


def flows(engine, k, year: int, school: str) -> list[GradeFlow]:
    with Session(engine) as session:
        scope = RetentionScope(school_id=k["ids"][school])
        return grade_flows(session, actor=k["county"], school_year=year, scope=scope)


def test_the_preview_sorts_each_row_and_counts_the_sources(engine, k):
    plan = plan_of(engine, k)
    said = {
        a.row.row - 2: (a.move.value, a.sentence) for a in plan.arrivals
    }  # data row n is spreadsheet row n+2
    assert said == {
        0: ("升学", "从古港镇完全小学毕业,升入本校"),
        1: ("升学", "从古港镇完全小学毕业,升入本校"),
        2: ("升学", "从古港镇梅田小学毕业,升入本校"),
        3: ("转回", "曾从古港镇完全小学转出外县,现转回本县,入读本校"),
        4: ("劝返", "辍学后返回,劝返复学"),
        7: ("外县转入", "从萍乡市上栗县桐木镇中学转入(外县转入),新建学籍"),
        **dict.fromkeys((8, 9, 10, 11), ("初一新生(外县)", "初一新生,本县无学籍,来自外县,新建学籍")),
    }
    assert plan.sources == {"本县小学升入": 3, "外县转入": 5, "返回": 2, "其中转回": 1, "其中劝返": 1}
    assert plan.counts == {"新增": 5, "更新": 0, "无变化": 0, "有错误": 2} and len(plan.moved) == 5
    reasons = {r.row - 2: [p.reason for p in r.errors] for r in plan.rejected}
    assert reasons == {
        5: ["查重:该学生已在古港镇梅田小学有学籍;应办理转学,不能重复建籍"],
        6: ["该学生已从古港镇完全小学小学毕业,只能升入初中七年级;本行班号为8年级,请核对班号"],
    }
    effective = {a.row.row - 2: a.effective_date for a in plan.arrivals}
    assert effective == {
        0: FIRST_DAY,
        1: FIRST_DAY,
        2: FIRST_DAY,
        3: FIRST_DAY,
        4: TODAY,
        7: TODAY,
    } | dict.fromkeys((8, 9, 10, 11), FIRST_DAY)


def test_a_refused_row_blocks_the_import_until_the_valid_rows_are_chosen(engine, k):
    with pytest.raises(ImportBlocked):
        run(engine, k)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(StatusChange)) == 5  # the fixture's own


def test_the_import_moves_each_record_keeps_its_number_and_records_an_approved_change(engine, k):
    result = run(engine, k, only_valid=True, proofs=[Document.HOUSEHOLD_PROOF])
    assert result.created == 5 and len(result.plan.moved) == 5
    assert (
        "学籍迁入与外县来源 10 人:本县小学升入 3 人,外县转入 5 人,返回 2 人(其中转回 1 人,其中劝返 1 人)"
        in result.summary
    )
    made, ids = k["made"], k["ids"]
    with Session(engine) as session:
        g7 = session.scalar(select(SchoolClass.id).where(SchoolClass.code == "2026210"))
        for key in ("r0", "r1", "r2", "r3", "r4"):
            student = session.get(Student, made[key])
            n = int(key[1])
            assert (student.school_id, student.class_id, student.status) == (ids[JUNIOR], g7, "enrolled")
            assert student.registry_number == f"G{k['rows'][n]['id_number']}"  # one number for life
        assert session.scalar(
            select(func.count()).select_from(Student).where(Student.school_id == ids[JUNIOR])
        ) == (40 + 5 + 5)
        changes = {
            c.student_id: c
            for c in session.scalars(
                select(StatusChange).where(StatusChange.decision_reason == "学籍导入时办理")
            )
        }
        assert len(changes) == 10
        promoted = changes[made["r2"]]
        assert (
            promoted.kind,
            promoted.state,
            promoted.school_id,
            promoted.to_school_id,
            promoted.to_class_id,
        ) == (
            "promotion",
            "approved",
            ids[PRIMARY2],
            ids[JUNIOR],
            g7,
        )
        assert (promoted.reason, promoted.effective_date, promoted.due_date) == (
            "升学(导入)",
            FIRST_DAY,
            TODAY,
        )
        back = changes[made["r3"]]
        assert (back.kind, back.school_id, back.effective_date) == (
            "transfer_in_outside",
            ids[PRIMARY],
            FIRST_DAY,
        )
        returned = changes[made["r4"]]
        assert (returned.kind, returned.school_id, returned.effective_date) == (
            "return",
            ids[PRIMARY2],
            TODAY,
        )
        # the returned child's dropout case is back at school on the return ladder (follow-ups, then 销号 by
        # approval), the return linked to the approved change; and the child now belongs to J
        case = session.scalar(select(Case))
        assert (case.status, case.close_reason) == (CaseStatus.STABLE.value, None)
        assert (
            session.scalar(
                select(LadderStep.status_change_id).where(
                    LadderStep.case_id == case.id, LadderStep.step == Step.RETURNED.value
                )
            )
            == returned.id
        )
        assert session.scalar(select(Child.school_id)) == ids[JUNIOR]
        outside = [c for c in changes.values() if c.source_county]
        assert [(c.source_county, c.source_school, c.documents, c.effective_date) for c in outside] == [
            ("萍乡市上栗县", "上栗县桐木镇中学", "household_proof", TODAY)
        ]
        intake = [c for c in changes.values() if c.reason == "初一新生,本县无学籍(导入)"]
        assert len(intake) == 4 and {c.effective_date for c in intake} == {FIRST_DAY}
        # one audit entry per moved record, with its school, class and status before and after
        moved_entries = session.scalars(
            select(AuditLog).where(AuditLog.entity_type == "student", AuditLog.action == "update")
        ).all()
        assert len(moved_entries) == 5
        entry = next(e for e in moved_entries if e.entity_id == str(made["r0"]))
        assert (entry.before["school_id"], entry.before["status"]) == (ids[PRIMARY], "graduated")
        assert (entry.after["school_id"], entry.after["status"], entry.after["class_code"]) == (
            ids[JUNIOR],
            "enrolled",
            "2026210",
        )
        assert verify_chain(session).ok


def test_retention_counts_the_intake_in_the_start_and_the_outside_child_as_a_transfer_in(engine, k):
    primary_last_year = flows(engine, k, 2025, PRIMARY)
    run(engine, k, only_valid=True)
    # J, grade 7: r0 r1 r2 (升学), r3 (back for grade 7) and r8–r11 (entrants from outside), all dated the first
    # day, are the start (8); r4 returned in November: a return, not a transfer in.
    # J, grade 8: the class of 40: 2 out, 1 dropped out, one 外县转入 (r7): start 40, in 1, 37/38.
    grade7, grade8 = flows(engine, k, 2026, JUNIOR)
    assert grade7 == GradeFlow(7, 8, 0, 0, 0, 0, 1, 0, 9)
    assert grade8 == GradeFlow(8, 40, 1, 2, 0, 1, 0, 0, 38)
    assert grade8.rate == Fraction(37, 38) and grade8.rate_text() == "97.37%"
    # P's grade 6 last year is unchanged by its graduates' promotion: r0 r1 r3 r6 at the start, r3 out in spring
    assert flows(engine, k, 2025, PRIMARY) == primary_last_year
    (grade6,) = primary_last_year
    assert (grade6.grade, grade6.start, grade6.transferred_out, grade6.in_school) == (6, 4, 1, 3)


def test_at_go_live_a_junior_schools_grade_seven_is_loaded_as_plain_new_records(engine):
    k = county(engine, graduates=False)
    k["rows"] = [r for n, r in enumerate(k["rows"]) if n not in (6, 7)]
    result = run(engine, k)
    assert (result.created, result.plan.arrivals) == (10, [])
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(StatusChange)) == 3  # the grade-8 class's own


def test_the_import_command_prints_the_arrivals_and_records_the_proofs(
    engine, k, use_database, tmp_path, capsys
):
    # the command acts as the system operator; the same sorting as the page
    path = tmp_path / "初一新生.xlsx"
    path.write_bytes(template_workbook([r for n, r in enumerate(k["rows"]) if n not in (5, 6)]))
    code = xueji_main(
        [
            "import",
            "students",
            str(path),
            "--school",
            JUNIOR,
            "--proof",
            "household_proof",
            "--proof",
            "registry_form",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert (
        "学籍迁入与外县来源 10 人:本县小学升入 3 人,外县转入 5 人,返回 2 人(其中转回 1 人,其中劝返 1 人)。"
        in out
    )
    assert "从古港镇完全小学毕业,升入本校" in out
    with Session(engine) as session:
        documents = session.scalar(
            select(StatusChange.documents).where(StatusChange.source_county.is_not(None))
        )
    assert documents == "household_proof,registry_form"
