"""人籍一致 on SQLite and PostgreSQL: checks recorded by ticking and by upload, and the term's progress."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

from tests.factories import DEMO_SCHOOL, class_of
from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.excel.registry_template import TemplateError
from xueji.excel.tables import table_to_xlsx
from xueji.models import AuditLog, RegistryCheck, School, SchoolClass
from xueji.rules.class_code import parse_class_code
from xueji.rules.registry_check import FindingKind, PresentPerson
from xueji.services.registry.checks import (
    RegistryCheckError,
    check_progress,
    class_registry,
    progress_frame,
    read_attendance,
    record_check,
    school_checks,
)

pytestmark = pytest.mark.usefixtures("fixed_today")


def attendance_file(rows: list[tuple[str, str]]) -> bytes:
    return table_to_xlsx(pd.DataFrame(rows, columns=["姓名", "身份证号"]), sheet="点名册")


def test_an_uploaded_list_is_compared_and_the_check_kept_masked(demo_engine, actors):
    registrar = actors["demo_registrar"]
    class_id = class_of(demo_engine, DEMO_SCHOOL, 6)
    with session_scope(demo_engine) as session:
        people = class_registry(session, actor=registrar, class_id=class_id)
    rows = [(p.name, p.id_number or "") for p in people[2:]]
    rows[0] = ("改过的名字", rows[0][1])
    rows.append(("借读生", ""))
    present = read_attendance(attendance_file(rows))
    with session_scope(demo_engine) as session:
        result = record_check(session, actor=registrar, class_id=class_id, present=present, method="upload")
        stored = session.get(RegistryCheck, result.check_id)
        entry = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
    kinds = sorted((f.kind, f.name) for f in result.findings)
    assert kinds == sorted(
        [(FindingKind.MISSING, people[0].name), (FindingKind.MISSING, people[1].name)]
        + [(FindingKind.MISMATCH, people[2].name), (FindingKind.EXTRA, "借读生")]
    )
    assert (stored.on_registry, stored.present, stored.missing, stored.extra, stored.mismatched) == (
        len(people),
        len(rows),
        2,
        1,
        1,
    )
    assert stored.checked_on == date(2026, 11, 23) and stored.method == "upload"
    assert all("*" in f["id_number"] for f in stored.findings if f["id_number"])
    assert any(
        f.id_number and "*" not in f.id_number for f in result.findings
    )  # the registrar sees them whole
    assert entry.action == "registry_check" and "在册未到 2 人" in entry.detail


def test_a_bad_list_is_refused_with_every_problem_and_nothing_kept(demo_engine, actors):
    with session_scope(demo_engine) as session:
        before = session.scalar(select(func.count()).select_from(RegistryCheck))
    data = attendance_file([("李浩宇", "430181201803120011"), ("", "43018120180312001X"), ("王芳", "12345")])
    with pytest.raises(RegistryCheckError) as raised:
        read_attendance(data)
    message = str(raised.value)
    assert "第2行 [身份证号]" in message and "第3行 [姓名]" in message and "第4行 [身份证号]" in message
    with pytest.raises(TemplateError, match="没有找到表头"):
        read_attendance(table_to_xlsx(pd.DataFrame([("x",)], columns=["学生"]), sheet="x"))
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(RegistryCheck)) == before


def test_a_check_must_fall_in_the_term_and_not_in_the_future(demo_engine, actors):
    class_id = class_of(demo_engine, DEMO_SCHOOL, 3)
    for day in (date(2026, 8, 31), date(2026, 11, 24)):
        with session_scope(demo_engine) as session, pytest.raises(RegistryCheckError, match="核查日期"):
            record_check(
                session,
                actor=actors["demo_registrar"],
                class_id=class_id,
                present=[],
                method="tick",
                checked_on=day,
            )


def test_only_the_registrar_records_a_check(demo_engine, actors):
    class_id = class_of(demo_engine, DEMO_SCHOOL, 3)
    for name in ("demo_county", "demo_township", "demo_teacher"):
        with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
            record_check(session, actor=actors[name], class_id=class_id, present=[], method="tick")


def progress_by_hand(engine) -> dict[str, tuple[dict[int, tuple[int, int]], int]]:
    """school → ({grade: (classes, classes with 2 checks on distinct days)}, fewest checks), one by one."""
    with session_scope(engine) as session:
        classes = session.execute(select(SchoolClass.id, SchoolClass.code, School.name).join(School)).all()
        days = defaultdict(set)
        for class_id, day in session.execute(select(RegistryCheck.class_id, RegistryCheck.checked_on)):
            days[class_id].add(day)
    per_grade: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for class_id, code, school in classes:
        grade = parse_class_code(code).grade(2026)
        if 1 <= grade <= 9:
            per_grade[school][grade].append(len(days[class_id]))
    return {
        school: (
            {g: (len(n), sum(c >= 2 for c in n)) for g, n in grades.items()},
            min(min(n) for n in grades.values()),
        )
        for school, grades in per_grade.items()
    }


def test_the_progress_counts_checks_on_distinct_days_per_class(demo_engine, actors):
    registrar = actors["demo_registrar"]
    class_id = class_of(demo_engine, DEMO_SCHOOL, 5)
    with session_scope(demo_engine) as session:
        people = class_registry(session, actor=registrar, class_id=class_id)
    present = [PresentPerson(p.name, p.id_number) for p in people]
    for day in (date(2026, 11, 20), date(2026, 11, 20), date(2026, 11, 23)):  # two on one day count once
        with session_scope(demo_engine) as session:
            assert (
                record_check(
                    session,
                    actor=registrar,
                    class_id=class_id,
                    present=present,
                    method="tick",
                    checked_on=day,
                ).findings
                == []
            )
    expected = progress_by_hand(demo_engine)
    with session_scope(demo_engine) as session:
        term, rows = check_progress(session, actor=actors["demo_county"])
        history = school_checks(session, actor=registrar)
    assert term.name == "2026-2027学年第一学期"
    assert {r.school: (r.grades, r.fewest_checks) for r in rows} == expected
    assert len({r.classes_done < r.classes for r in rows}) == 2  # the demo has schools done and not done
    mine = next(r for r in rows if r.school == "古港镇完全小学")
    assert mine.key_grades_open == sum(n - done for g, (n, done) in mine.grades.items() if g in (6, 8, 9))
    frame = progress_frame(rows)
    assert list(frame.columns)[7:12] == ["六年级★", "七年级", "八年级★", "九年级★", "最少核查次数"]
    assert frame.loc[[r.school for r in rows].index(mine.school), "五年级"] == "{1}/{0}".format(
        *mine.grades[5]
    )
    assert history[0].checked_on == date(2026, 11, 23) and history[0].findings == []
    assert {h.class_name for h in history} >= {parse_class_code("2021101").name}  # earlier demo checks too
