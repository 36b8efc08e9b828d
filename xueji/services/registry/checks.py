"""人籍一致核查: a class's registry against the children actually present (an uploaded attendance list or
boxes ticked), recorded with its date; and, per school and grade, whether the term's checks are done."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.excel.limits import ImportKind, TemplateError
from xueji.excel.simple_table import read_table
from xueji.excel.tables import table_to_xlsx
from xueji.locks import write_lock
from xueji.models import RegistryCheck, School, SchoolClass, Student, Township
from xueji.rules.class_code import parse_class_code
from xueji.rules.masking import mask_id_number
from xueji.rules.registry_check import Finding, FindingKind, PresentPerson, RegistryPerson, reconcile
from xueji.rules.registry_record import resident_id_problem
from xueji.rules.terms import TermDates
from xueji.rules.vocab import StudentStatus, grade_label
from xueji.services.common.access import class_in_scope, require, school_condition, sees_full_identifiers
from xueji.services.common.calendar import school_year_on, term_id
from xueji.services.common.exports import export_tables
from xueji.services.common.uploads import refusals_audited
from xueji.services.registry.term_reports import current_term
from xueji.sql import class_grade

HEADERS = {"姓名": "name", "身份证号": "id_number", "身份证件号": "id_number"}
METHODS = {"upload": "点名册上传", "tick": "逐人勾选"}
# 人籍一致 matters most where children leave: before the end of primary and in the last junior years.
KEY_GRADES = (6, 8, 9)
GRADES = range(1, 10)


class RegistryCheckError(ValueError):
    """The attendance list cannot be used; the message lists every problem (row, column, value, reason)."""


@dataclass(frozen=True)
class CheckResult:
    check_id: int
    class_name: str
    on_registry: int
    present: int
    findings: list[Finding]  # ID numbers masked unless the actor's job needs them


@dataclass(frozen=True)
class CheckProgress:
    """One school's 人籍一致 checks this term."""

    township: str
    school: str
    grades: dict[int, tuple[int, int]]  # grade → (classes, classes with the required checks on distinct days)
    fewest_checks: int  # the fewest checks of any of its classes

    @property
    def classes(self) -> int:
        return sum(n for n, _ in self.grades.values())

    @property
    def classes_done(self) -> int:
        return sum(done for _, done in self.grades.values())

    @property
    def key_grades_open(self) -> int:
        """Classes of grades 6, 8 and 9 still short of checks."""
        return sum(n - done for grade, (n, done) in self.grades.items() if grade in KEY_GRADES)


def attendance_rows(rows: Sequence[tuple[int, str, str]]) -> list[PresentPerson]:
    """Check (row number, name, ID number) rows of an attendance list: a name on every row, a valid ID number
    where one is given, no ID number twice. Every problem is reported at once."""
    problems: list[str] = []
    present: list[PresentPerson] = []
    seen: dict[str, int] = {}
    for number, name, id_text in rows:
        name = name.strip()
        if not name:
            problems.append(f"第{number}行 [姓名] “”:姓名不能为空")
        id_number = None
        if id_text.strip():
            id_number, problem = resident_id_problem(id_text)
            if problem:
                problems.append(f"第{number}行 [身份证号] “{id_text}”:{problem}")
            elif id_number in seen:
                problems.append(f"第{number}行 [身份证号] “{id_text}”:与第{seen[id_number]}行重复")
            seen.setdefault(id_number, number)
        present.append(PresentPerson(name, id_number, number))
    if problems:
        raise RegistryCheckError("点名册有误,未做核查:\n" + "\n".join(problems))
    return present


def read_attendance(data: bytes) -> list[PresentPerson]:
    """An uploaded attendance list: an xlsx with 姓名 and (optionally filled) 身份证号 columns."""
    rows = read_table(data, HEADERS, required=("姓名",), kind=ImportKind.ATTENDANCE)
    if not rows:
        raise RegistryCheckError("点名册中没有学生")
    return attendance_rows([(r.number, r.cells.get("name", ""), r.cells.get("id_number", "")) for r in rows])


def attendance_upload(
    session: Session, *, actor: Actor, data: bytes, file_name: str = ""
) -> list[PresentPerson]:
    """The class attendance list a user uploads (read_attendance); a refused file is audited."""
    require(session, actor, Action.ATTENDANCE_RECORD)
    refused = (TemplateError, RegistryCheckError)
    with refusals_audited(
        session, actor=actor, kind=ImportKind.ATTENDANCE, data=data, file_name=file_name, refused=refused
    ):
        return read_attendance(data)


def attendance_template() -> bytes:
    return table_to_xlsx(
        pd.DataFrame([("张三", "430181201601010015")], columns=["姓名", "身份证号"]), sheet="点名册"
    )


def class_registry(session: Session, *, actor: Actor, class_id: int) -> list[RegistryPerson]:
    """The class's enrolled children as the registry has them (ID numbers masked unless the job needs them)."""
    class_in_scope(session, actor, class_id, Action.ATTENDANCE_RECORD)
    people = _registry(session, class_id)
    if sees_full_identifiers(actor):
        return people
    return [RegistryPerson(p.student_id, p.name, mask_id_number(p.id_number)) for p in people]


def _registry(session: Session, class_id: int) -> list[RegistryPerson]:
    rows = session.execute(
        select(Student.id, Student.name, Student.id_number)
        .where(
            Student.class_id == class_id,
            Student.status == StudentStatus.ENROLLED.value,
            col(Student.merged_into_id).is_(None),
            col(Student.archived_at).is_(None),
        )
        .order_by(Student.name, Student.id)
    )
    return [RegistryPerson(*r) for r in rows]


def _masked(finding: Finding) -> Finding:
    return Finding(
        finding.kind,
        finding.name,
        mask_id_number(finding.id_number),
        finding.detail,
        finding.student_id,
        finding.row,
        mask_id_number(finding.listed_id),
    )


def stored_finding(finding: Finding) -> dict:
    masked = _masked(finding)
    return {
        key: getattr(masked, key) for key in ("name", "id_number", "detail", "student_id", "row", "listed_id")
    } | {"kind": masked.kind.value}


@unit_of_work
def record_check(
    session: Session,
    *,
    actor: Actor,
    class_id: int,
    present: Sequence[PresentPerson],
    method: str,
    checked_on: date | None = None,
) -> CheckResult:
    """Compare the class's registry with the children present, and keep the check (findings masked). Audited."""
    school_class = class_in_scope(session, actor, class_id, Action.ATTENDANCE_RECORD)
    if method not in METHODS:
        raise RegistryCheckError(f"未知的核查方式:{method}")
    day = checked_on or today()
    term = current_term(session)
    if not term.contains(day) or day > today():
        raise RegistryCheckError(f"核查日期 {day:%Y-%m-%d} 应在本学期({term.name})内且不晚于今天")
    write_lock(session, f"class:{class_id}")  # the class's registry read and its check kept in one go
    registry = _registry(session, class_id)
    findings = reconcile(registry, present)
    counts = {kind: sum(f.kind is kind for f in findings) for kind in FindingKind}
    check = RegistryCheck(
        term_id=term_id(session, term),
        school_id=school_class.school_id,
        class_id=class_id,
        checked_on=day,
        method=method,
        on_registry=len(registry),
        present=len(present),
        missing=counts[FindingKind.MISSING],
        extra=counts[FindingKind.EXTRA],
        mismatched=counts[FindingKind.MISMATCH],
        findings=[stored_finding(f) for f in findings],
        recorded_by=actor.user_id,
    )
    session.add(check)
    session.flush()
    class_name = parse_class_code(school_class.code).name
    record(
        session,
        actor=actor,
        action="registry_check",
        entity_type="registry_check",
        entity_id=check.id,
        detail=f"{class_name} {day:%Y-%m-%d}({METHODS[method]}):在册 {len(registry)} 人,实到 {len(present)} 人,"
        + ",".join(f"{kind.label} {n} 人" for kind, n in counts.items()),
    )
    session.commit()
    full = sees_full_identifiers(actor)
    return CheckResult(
        check.id,
        class_name,
        len(registry),
        len(present),
        findings if full else [_masked(f) for f in findings],
    )


@dataclass(frozen=True)
class CheckRow:
    id: int
    checked_on: date
    class_name: str
    method: str
    on_registry: int
    present: int
    missing: int
    extra: int
    mismatched: int
    findings: list[dict]


def school_checks(
    session: Session, *, actor: Actor, school_id: int | None = None, limit: int | None = None
) -> list[CheckRow]:
    """This term's checks in scope (optionally of one school), latest first (the latest `limit` of them)."""
    require(session, actor, Action.OVERVIEW_READ)
    term = current_term(session)
    query = (
        select(RegistryCheck, SchoolClass.code)
        .join(SchoolClass, RegistryCheck.class_id == SchoolClass.id)
        .join(School, RegistryCheck.school_id == School.id)
        .where(RegistryCheck.term_id == term_id(session, term), school_condition(actor))
        .order_by(col(RegistryCheck.checked_on).desc(), col(RegistryCheck.id).desc())
    )
    if school_id is not None:
        query = query.where(RegistryCheck.school_id == school_id)
    return [
        CheckRow(
            c.id,
            c.checked_on,
            parse_class_code(code).name,
            METHODS[c.method],
            c.on_registry,
            c.present,
            c.missing,
            c.extra,
            c.mismatched,
            c.findings,
        )
        for c, code in session.execute(query.limit(limit))
    ]


def check_progress(session: Session, *, actor: Actor) -> tuple[TermDates, list[CheckProgress]]:
    """Per school in scope: per grade, its classes and those checked the required number of times this term
    (on distinct days). One row per school, counted in SQL."""
    require(session, actor, Action.OVERVIEW_READ)
    term = current_term(session)
    tid = term_id(session, term)
    needed = get_settings().registry_checks_per_term
    grade = class_grade(school_year_on(session, today()))
    per_class = (
        select(
            col(SchoolClass.school_id).label("school_id"),
            grade.label("grade"),
            func.count(func.distinct(RegistryCheck.checked_on)).label("checks"),
        )
        .join(School, SchoolClass.school_id == School.id)
        .outerjoin(
            RegistryCheck, and_(RegistryCheck.class_id == SchoolClass.id, RegistryCheck.term_id == tid)
        )
        .where(school_condition(actor), grade.between(1, 9))
        .group_by(SchoolClass.id, SchoolClass.school_id, grade)
        .subquery()
    )
    c = per_class.c
    per_grade = [
        column
        for g in GRADES
        for column in (
            func.sum(case((c.grade == g, 1), else_=0)),
            func.sum(case((and_(c.grade == g, c.checks >= needed), 1), else_=0)),
        )
    ]
    rows = session.execute(
        select(Township.name, School.name, func.min(c.checks), *per_grade)
        .join(School, c.school_id == School.id)
        .join(Township, School.township_id == Township.id)
        .group_by(Township.code, Township.name, School.code, School.name)
        .order_by(Township.code, School.code)
    )
    result = []
    for township, school, fewest, *counts in rows:
        pairs = zip(counts[::2], counts[1::2], strict=True)
        grades = {g: (int(n), int(done)) for g, (n, done) in zip(GRADES, pairs, strict=True) if n}
        result.append(CheckProgress(township, school, grades, int(fewest)))
    return term, result


GRADE_HEADERS = [grade_label(g) + ("★" if g in KEY_GRADES else "") for g in GRADES]
PROGRESS_COLUMNS = ["乡镇", "学校", *GRADE_HEADERS, "最少核查次数", "是否完成"]
FINDING_COLUMNS = ["类型", "姓名", "身份证号", "点名册身份证号", "点名册行号", "说明"]
HISTORY_COLUMNS = ["核查日期", "班级", "方式", "在册", "实到", "在册未到", "在班不在册", "信息不一致"]


def progress_frame(rows: list[CheckProgress]) -> pd.DataFrame:
    """One row per school; each grade's cell is "classes done/classes" (blank where it has none)."""
    needed = get_settings().registry_checks_per_term
    return pd.DataFrame(
        [
            (
                r.township,
                r.school,
                *(f"{r.grades[g][1]}/{r.grades[g][0]}" if g in r.grades else "" for g in GRADES),
                f"{r.fewest_checks}/{needed}",
                "已完成" if r.classes_done == r.classes else "未完成",
            )
            for r in rows
        ],
        columns=PROGRESS_COLUMNS,
    )


def findings_frame(findings: Sequence[Finding | dict]) -> pd.DataFrame:
    items = [f if isinstance(f, dict) else {**f.__dict__, "kind": f.kind.value} for f in findings]
    return pd.DataFrame(
        [
            (
                FindingKind(f["kind"]).label,
                f["name"],
                f["id_number"] or "",
                f["listed_id"] or "",
                f["row"] or "",
                f["detail"],
            )
            for f in items
        ],
        columns=FINDING_COLUMNS,
    )


def history_frame(rows: list[CheckRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (r.checked_on, r.class_name, r.method, r.on_registry, r.present, r.missing, r.extra, r.mismatched)
            for r in rows
        ],
        columns=HISTORY_COLUMNS,
    )


def export_checks(session: Session, *, actor: Actor) -> bytes:
    """The term's progress per school and grade, and every check with its counts, as one xlsx (audited)."""
    term, progress = check_progress(session, actor=actor)
    return export_tables(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        sheets={
            "核查进度": progress_frame(progress),
            "核查记录": history_frame(school_checks(session, actor=actor)),
        },
        entity_type="registry_check",
        title="人籍一致核查",
        detail=term.name,
    )
