"""User text is bounded on SQLite and PostgreSQL: a 100,000-character name or note is refused with a Chinese
reason naming the field and its limit, whichever way it comes (a form's service, the registry import, the sweep
form and sheet, a visit), and nothing is written; a direct INSERT or UPDATE of an over-long value is refused by
the database itself; every bounded column of the schema is covered."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from tests.factories import DEMO_SCHOOL, visit_facts
from xueji.db import make_engine, migrate, session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import (
    AuditLog,
    CalendarDay,
    Case,
    Child,
    HomePlan,
    HomeVisit,
    Household,
    School,
    Student,
    SweepVillage,
    Township,
    Village,
)
from xueji.rules.cases import CaseCategory, RiskLevel
from xueji.rules.sweeps import ChildFacts, FoundStatus, HouseholdFacts, VillageStatus
from xueji.rules.text_limits import JSON_LIMITS, max_length
from xueji.services.cases import handling, visits
from xueji.services.common.text_bounds import TextTooLong
from xueji.services.registry import student_record
from xueji.services.registry.file_import import (
    ImportBlocked,
    check_file,
    import_file,
    plan_import,
    schools_for_import,
)
from xueji.services.sweeps import fieldwork, sheet_import

pytestmark = pytest.mark.usefixtures("fixed_today")
HUGE = "张" * 100_000
LIMIT = re.compile(r"不超过 (\d+) 字\(现有 (\d+) 字\)")


def count(engine, model, *where) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def limit_named(message: str, field: str, limit: int) -> bool:
    """The message names the field and says its limit and the length given."""
    found = LIMIT.search(message)
    return field in message and found is not None and int(found.group(1)) == limit


def a_student(engine) -> Student:
    with session_scope(engine) as session:
        student = session.scalar(
            select(Student)
            .join(School, Student.school_id == School.id)
            .where(School.code == DEMO_SCHOOL, Student.id_number.is_not(None))
            .order_by(Student.id)
            .limit(1)
        )
        session.expunge(student)
        return student


# ---- through the services ---------------------------------------------------------------------------------


def test_a_correction_with_a_huge_name_is_refused_naming_the_field_and_nothing_is_written(
    demo_engine, actors
):
    student = a_student(demo_engine)
    entries = count(demo_engine, AuditLog)
    with session_scope(demo_engine) as session, pytest.raises(student_record.StudentRecordError) as refused:
        student_record.correct_student(
            session,
            actor=actors["demo_registrar"],
            student_id=student.id,
            changes={"name": HUGE},
            reason="更正",
        )
    assert limit_named(str(refused.value), "姓名", 50)
    with session_scope(demo_engine) as session:
        assert session.get(Student, student.id).name == student.name
    assert count(demo_engine, AuditLog) == entries


def test_a_new_child_with_a_huge_name_is_refused_by_the_services_own_check(demo_engine, actors):
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        school = session.scalar(select(School).where(School.code == DEMO_SCHOOL))
    children, cases = count(demo_engine, Child), count(demo_engine, Case)
    with session_scope(demo_engine) as session, pytest.raises(TextTooLong) as refused:
        handling.open_case(
            session,
            actor=registrar,
            category=CaseCategory.SUSPECTED_DROPOUT,
            risk=RiskLevel.HIGH,
            risk_reason="排查发现未入学",
            new_child=handling.ChildIn(name=HUGE, township_id=school.township_id, school_id=school.id),
        )
    assert limit_named(str(refused.value), "儿童姓名", 50) and "100000" in str(refused.value)
    assert (count(demo_engine, Child), count(demo_engine, Case)) == (children, cases)


def test_the_registry_import_refuses_a_huge_name_naming_the_column_and_limit(demo_engine, actors):
    registrar = actors["demo_registrar"]
    rows = list(template_rows([(DEMO_SCHOOL, "primary")], 3, school_year=2026, seed=3))
    rows[1]["name"] = HUGE
    rows[2]["home_address"] = "浏阳市" * 100  # 300 characters: the address column takes 200
    data = template_workbook(rows)
    with session_scope(demo_engine) as session:
        sheet = check_file(session, actor=registrar, data=data)
        schools = schools_for_import(session, actor=registrar, school_code=DEMO_SCHOOL)
        plan = plan_import(session, actor=registrar, sheet=sheet, schools=schools, only_school=True)
    problems = {(r.row, p.column): p.reason for r in plan.rejected for p in r.errors}
    assert limit_named(problems[(3, "姓名")], "姓名", 50)
    assert problems[(4, "家庭地址")] == "不超过 200 字(现有 300 字)"
    students = count(demo_engine, Student)
    with session_scope(demo_engine) as session, pytest.raises(ImportBlocked):
        import_file(session, actor=registrar, data=data, school_code=DEMO_SCHOOL)
    assert count(demo_engine, Student) == students


def sweep_village(engine) -> int:
    """The first village of 古港镇 being swept: the demo teacher is on its team."""
    with session_scope(engine) as session:
        return session.scalar(
            select(SweepVillage.id)
            .join(Village, SweepVillage.village_id == Village.id)
            .join(Township, Village.township_id == Township.id)
            .where(Township.code == "430181108000", SweepVillage.status == VillageStatus.IN_PROGRESS.value)
            .order_by(Village.code)
            .limit(1)
        )


def test_the_sweep_form_refuses_a_huge_head_and_child_name(demo_engine, actors):
    village = sweep_village(demo_engine)
    households = count(demo_engine, Household)
    with session_scope(demo_engine) as session, pytest.raises(fieldwork.SweepError) as refused:
        fieldwork.record_household(
            session,
            actor=actors["demo_teacher"],
            sweep_village_id=village,
            household=HouseholdFacts(head_name=HUGE, group_name="一组", visited_on=date(2026, 11, 20)),
            children=[ChildFacts(name=HUGE, status=FoundStatus.NOT_ENROLLED, birth_date=date(2014, 5, 6))],
        )
    problems = dict(refused.value.problems)
    assert limit_named("户主姓名" + problems["户主姓名"], "户主姓名", 50)
    assert limit_named("儿童姓名" + problems["儿童姓名"], "儿童姓名", 50)
    assert count(demo_engine, Household) == households


def test_the_sweep_sheet_refuses_a_huge_head_name_on_its_row_and_column(demo_engine, actors):
    teacher = actors["demo_teacher"]
    village = sweep_village(demo_engine)
    with session_scope(demo_engine) as session:
        _, data = sheet_import.village_sheet(
            session, actor=teacher, sweep_village_id=village, reason="入户排查核对身份"
        )
    book = load_workbook(io.BytesIO(data))
    sheet = book["排查登记"]
    row = sheet.max_row + 1
    sheet.cell(row, 1).value, sheet.cell(row, 2).value, sheet.cell(row, 6).value = "九组", HUGE, "2026-11-21"
    out = io.BytesIO()
    book.save(out)
    households = count(demo_engine, Household)
    with session_scope(demo_engine) as session:
        checked = sheet_import.check_sweep(
            session, actor=teacher, sweep_village_id=village, data=out.getvalue()
        )
        with pytest.raises(sheet_import.SweepImportBlocked):
            sheet_import.commit_sweep(session, actor=teacher, sweep_village_id=village, data=out.getvalue())
    reasons = [p.reason for p in checked.problems if p.row == row and p.column == "户主姓名"]
    assert reasons and limit_named("户主姓名" + reasons[0], "户主姓名", 50)
    assert count(demo_engine, Household) == households


def test_a_visit_with_a_huge_note_is_refused_naming_the_field(demo_engine, actors):
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        child_id = visits.due_visits(session, actor=teacher)[0].child_id
    before = count(demo_engine, HomeVisit)
    with session_scope(demo_engine) as session, pytest.raises(visits.VisitError) as refused:
        visits.log_visit(session, actor=teacher, facts=visit_facts(child_situation=HUGE), child_id=child_id)
    assert limit_named(str(refused.value), "孩子情况", 500)
    assert count(demo_engine, HomeVisit) == before


# ---- in the database ----------------------------------------------------------------------------------------


def refused_by_database(engine, statement: str, **values) -> str:
    """Run a statement directly (no service, no ORM); return the database's refusal."""
    with engine.connect() as conn, pytest.raises(DBAPIError) as refused:
        conn.execute(text(statement), values)
    return str(refused.value.orig)


def test_the_database_refuses_an_over_long_value_inserted_or_updated_directly(demo_engine):
    student = a_student(demo_engine)
    insert = (
        "INSERT INTO student (school_id, name, name_initials, sex, birth_date, ethnicity, nationality, id_type,"
        " entry_month, status, needs_aid, left_behind, migrant, disabled, orphan, only_child, created_at,"
        " updated_at) VALUES (:school, :name, '', '男', '2019-05-12', '汉族', '中国', '居民身份证', '202509',"
        " 'enrolled', false, false, false, false, false, false, '2026-11-23', '2026-11-23')"
    )
    students = count(demo_engine, Student)
    message = refused_by_database(demo_engine, insert, school=student.school_id, name=HUGE)
    assert "ck_student_name_length" in message or "character varying(50)" in message
    refused_by_database(
        demo_engine, "UPDATE student SET name = :name WHERE id = :id", name=HUGE, id=student.id
    )
    refused_by_database(
        demo_engine, "UPDATE student SET home_address = :a WHERE id = :id", a="址" * 201, id=student.id
    )
    with demo_engine.begin() as conn:  # exactly the limit is taken
        conn.execute(
            text("UPDATE student SET name = :name WHERE id = :id"), {"name": "张" * 50, "id": student.id}
        )
    assert count(demo_engine, Student) == students


def test_the_database_bounds_the_json_of_plan_goals(demo_engine):
    with session_scope(demo_engine) as session:
        plan_id = session.scalar(select(HomePlan.id).limit(1))
    goals = '{"academics": "%s"}' % ("\\u5f20" * 7000)  # 42,000 characters of JSON text
    refused_by_database(
        demo_engine, "UPDATE home_plan SET goals = :goals WHERE id = :id", goals=goals, id=plan_id
    )


def test_every_bounded_column_of_the_schema_is_bounded_in_the_database(engine):
    """PostgreSQL: every text column has the model's length (no TEXT, no unbounded VARCHAR). SQLite: every
    bounded column has its length in both triggers, insert and update."""
    bounded = {
        (table.name, column.name): column.type.length
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(getattr(column.type, "length", None), int)
    }
    bounded |= {tuple(field.split(".")): limit for field, limit in JSON_LIMITS.items()}
    assert max_length("student.name") == bounded[("student", "name")] == 50
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            unbounded = conn.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
                    " AND data_type IN ('text', 'character varying') AND character_maximum_length IS NULL"
                )
            ).all()
            assert unbounded == []
            lengths = {
                (t, c): n
                for t, c, n in conn.execute(
                    text(
                        "SELECT table_name, column_name, character_maximum_length FROM information_schema.columns"
                        " WHERE table_schema = 'public' AND data_type = 'character varying'"
                        " AND table_name <> 'alembic_version'"
                    )
                )
            }
            checks = " ".join(
                conn.execute(
                    text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname LIKE '%_length'")
                ).scalars()
            )
            assert all(f"({column})::text" in checks for _, column in (f.split(".") for f in JSON_LIMITS))
            assert {k: v for k, v in bounded.items() if k in lengths} == lengths
        else:  # a CHECK in the table, or (for a table with older over-long rows) both triggers
            schema = dict(
                conn.execute(text("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")).all()
            )

            def bounded_in_sqlite(table: str, column: str, length: int) -> bool:
                check = f'CHECK (length("{column}") <= {length})' in schema.get(table, "")
                on = f'length(NEW."{column}") > {length}'
                return check or all(
                    on in schema.get(f"bounded_text_{table}_{e}", "") for e in ("insert", "update")
                )

            missing = [(t, c) for (t, c), n in bounded.items() if not bounded_in_sqlite(t, c, n)]
            assert missing == []
    assert set(inspect(engine).get_table_names()) >= {t for t, _ in bounded}


def test_sqlite_rows_longer_than_their_column_from_before_keep_their_text_and_new_ones_are_refused(tmp_path):
    """SQLite let over-long text in before revision 0013: such a table is bounded by triggers instead of a CHECK
    (which its rows would break), its old text stays, unrelated updates still work, new over-long text is refused."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0012")
    old = "节" * 40  # calendar_day.name takes 30
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO calendar_day (day, is_workday, name) VALUES ('2026-10-01', 0, :n)"), {"n": old}
        )
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE calendar_day SET is_workday = 1"))
        assert conn.execute(text("SELECT name FROM calendar_day")).scalar() == old
    with session_scope(engine) as session:  # the services' check, too, looks only at what an update changes
        day = session.get(CalendarDay, date(2026, 10, 1))
        day.is_workday = False
        session.commit()
        day.name = "节" * 31
        with pytest.raises(TextTooLong, match="节假日名称不超过 30 字"):
            session.flush()
    refused_by_database(engine, "INSERT INTO calendar_day VALUES ('2026-10-02', 0, :n)", n="节" * 31)
    refused_by_database(engine, "UPDATE calendar_day SET name = :n", n="节" * 41)
    with engine.begin() as conn:  # the other tables, with no such rows, have their CHECK constraints
        assert (
            "ck_county_name_length"
            in conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'county'")).scalar()
        )
