"""One student's record (学籍档案): the detail page, corrections checked by the import's rules, archiving and
merging duplicates. Nothing here deletes a record: every change is an audited update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import literal, or_, select, update
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import china_day, now, today
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import AuditLog, FamilyMember, School, SchoolClass, StatusChange, Student, TeacherAssignment
from xueji.rules.masking import mask_id_number, mask_identifiers, mask_phone
from xueji.rules.pinyin import name_initials
from xueji.rules.registry_record import COLUMN_BY_KEY, YES_NO_KEYS, Problem, check_row, new_row
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.text_limits import length_problem, too_long
from xueji.rules.vocab import StudentStatus
from xueji.services.cases.opening import open_registry_cases
from xueji.services.common.access import sees_full_identifiers, student_condition, student_in_scope
from xueji.services.common.calendar import school_year_on
from xueji.services.registry.class_sizes import class_size_problem
from xueji.services.registry.import_plan import MEMBER_FIELDS, STUDENT_FIELDS
from xueji.services.registry.students import StudentRow, get_student
from xueji.services.registry.term_reports import is_lost
from xueji.services.setup.moves import MoveLine, student_moves
from xueji.standby import writable_bind

_MEMBER_KEYS = ("name", "relation", "household_code", "phone", "workplace", "is_guardian")
REASON_CHARS = 200  # a correction's or a merge's reason, kept in its audit entry


class StudentRecordError(ValueError):
    """A correction, archive or merge the rules refuse; the message is for the user, in Chinese."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class HistoryRow:
    submitted: date
    kind: str
    state: str
    effective: date
    reason: str
    decided: date | None
    decision: str | None


@dataclass(frozen=True)
class StudentDetail:
    row: StudentRow
    cells: dict[str, str]  # the record as the template's cells, masked unless the viewer's job needs them
    family: list[dict[str, Any]]
    history: list[HistoryRow]  # status changes, this record's and those of duplicates merged into it
    edits: list[tuple[Any, str, str, str]]  # (when, who, action, detail) from the audit log
    archived_reason: str | None
    merged_into_id: int | None
    merged_from: list[str]  # names of the duplicates merged into this record
    lost: bool = False  # not reported this term a week after its start, no papers: a lost student (流生)
    moves: tuple[MoveLine, ...] = ()  # what school, village and township merges did to the record


def record_cells(student: Student, members: list[FamilyMember], school_code: str, class_code: str) -> dict:
    """The record as the national template's cells (text), the reverse of rules.registry_record.check_row."""
    cells: dict[str, str] = {"school_code": school_code, "class_code": class_code}
    for key in STUDENT_FIELDS:
        if key == "disabled" or key not in COLUMN_BY_KEY:
            continue
        value = getattr(student, key)
        if key in YES_NO_KEYS:
            cells[key] = "是" if value else "否"
        elif key == "birth_date":
            cells[key] = f"{value:%Y%m%d}"
        elif key == "disability_type":
            cells[key] = f"{value}残疾" if value else "无残疾"
        else:
            cells[key] = value or ""
    for member in members[:2]:
        for key in _MEMBER_KEYS:
            value = getattr(member, key)
            text = ("是" if value else "否") if key == "is_guardian" else (value or "")
            cells[f"m{member.seq}_{key}"] = text
    return cells


def _members(session: Session, student_id: int) -> list[FamilyMember]:
    return list(
        session.scalars(
            select(FamilyMember).where(FamilyMember.student_id == student_id).order_by(FamilyMember.seq)
        )
    )


def _codes(session: Session, student: Student) -> tuple[str, str]:
    school = session.scalar(select(School.code).where(School.id == student.school_id)) or ""
    code = session.scalar(select(SchoolClass.code).where(SchoolClass.id == student.class_id)) or ""
    return school, code


def student_detail(session: Session, *, actor: Actor, student_id: int) -> StudentDetail:
    """Everything the detail page shows of one student the actor may read; masked per role."""
    row = get_student(session, actor=actor, student_id=student_id)
    student = session.get(Student, student_id)
    assert student is not None  # get_student checked it exists and is in scope
    members = _members(session, student_id)
    cells = record_cells(student, members, *_codes(session, student))
    family = [
        {
            "姓名": m.name,
            "关系": m.relation,
            "电话": m.phone,
            "工作单位": m.workplace,
            "监护人": m.is_guardian,
        }
        for m in members
    ]
    if not sees_full_identifiers(actor):
        cells["id_number"] = mask_id_number(cells["id_number"]) or ""
        cells.update({k: mask_phone(v) or "" for k, v in cells.items() if k.endswith("_phone")})
        for member in family:
            member["电话"] = mask_phone(member["电话"])
    merged = list(
        session.execute(select(Student.id, Student.name).where(Student.merged_into_id == student_id))
    )
    ids = [student_id, *(sid for sid, _ in merged)]
    history = [
        HistoryRow(
            china_day(c.submitted_at),
            ChangeKind(c.kind).label,
            ChangeState(c.state).label,
            c.effective_date,
            c.reason,
            china_day(c.decided_at) if c.decided_at else None,
            c.decision_reason,
        )
        for c in session.scalars(
            select(StatusChange).where(col(StatusChange.student_id).in_(ids)).order_by(StatusChange.id)
        )
    ]
    edits = [
        (a.at, a.username, a.action, a.detail or "")
        for a in session.scalars(
            select(AuditLog)
            .where(
                AuditLog.entity_type == "student",
                col(AuditLog.entity_id).in_([str(i) for i in ids]),
                AuditLog.action != "reveal",
            )
            .order_by(col(AuditLog.id).desc())
            .limit(50)
        )
    ]
    return StudentDetail(
        row,
        cells,
        family,
        history,
        edits,
        student.archived_reason,
        student.merged_into_id,
        [name for _, name in merged],
        is_lost(session, actor=actor, student_id=student_id),
        tuple(student_moves(session, ids)),
    )


def _editable(session: Session, actor: Actor, student_id: int) -> Student:
    write_lock(session, f"student:{student_id}")  # the record's write lock first (查重 and class: see below)
    student = student_in_scope(session, actor, student_id, Action.STUDENT_EDIT)
    if student.merged_into_id is not None:
        raise StudentRecordError("该记录已合并到另一条学籍,请在保留的记录上操作")
    return student


def _check_duplicate(session: Session, actor: Actor, student: Student, id_number: str) -> None:
    """查重 of a corrected ID number. A number already on another record refuses the correction, audited; the
    other child is named only when the actor's scope holds them, else the message says only where to turn."""
    other = session.execute(
        select(Student.id, Student.name, School.name)
        .join(School, Student.school_id == School.id)
        .where(Student.id_number == id_number, Student.id != student.id)
    ).first()
    if other is None:
        return
    other_id, name, school = other
    student_id = student.id
    visible = session.scalar(select(Student.id).where(Student.id == other_id, student_condition(actor)))
    session.rollback()  # the correction is abandoned; on SQLite its write lock would block the audit entry
    with Session(writable_bind(session)) as audit_session:
        record(
            audit_session,
            actor=actor,
            action="duplicate_check",
            outcome="refused",
            entity_type="student",
            entity_id=other_id,
            detail=f"更正学籍 #{student_id} 查重:身份证件号已属于"
            + ("管辖范围内的学籍" if visible else "管辖范围外的学籍(未向操作人显示)")
            + ",更正未保存",
        )
        audit_session.commit()
    if visible:
        raise StudentRecordError(f"身份证件号已属于{school}的学生{name}(查重),如为重复学籍请合并")
    raise StudentRecordError(
        "该身份证件号已在其他学校登记学籍(查重),本次更正未保存。请先核对证件号;如确为同一名学生且已来本校"
        "就读,请在“学籍异动”中按完整身份证号查询并提交转入申请,由原学校审批;如认为他校学籍有误,请联系县教育局核查。"
    )


def _check_correction(
    session: Session, actor: Actor, student: Student, cells: dict[str, str]
) -> dict[str, Any]:
    """Run the import's row checks on the corrected cells, then what only the database knows."""
    row = check_row(new_row(1, cells), today=today(), school_year=school_year_on(session, today()))
    values = row.values
    if row.errors:
        listing = ";".join(f"{p.column}“{p.value}”:{p.reason}" for p in row.errors)
        raise StudentRecordError(f"修改未保存:{listing}", row.errors)
    if values["id_number"]:
        write_lock(session, f"id_number:{values['id_number']}")  # 查重 cannot race another record given it
        _check_duplicate(session, actor, student, values["id_number"])
    code = values["class_code"]
    class_id = session.scalar(
        select(SchoolClass.id).where(SchoolClass.school_id == student.school_id, SchoolClass.code == code)
    )
    if class_id is None:
        raise StudentRecordError(f"本校没有班号为 {code} 的班级,请先通过学籍导入建班")
    if class_id != student.class_id and student.status == StudentStatus.ENROLLED:
        write_lock(session, f"class:{class_id}")  # the size cannot race another child joining the class
        problem = class_size_problem(session, class_id)
        if problem:
            raise StudentRecordError(problem)
    values["class_id"] = class_id
    values["family"] = row.family
    return values


@unit_of_work
def correct_student(
    session: Session, *, actor: Actor, student_id: int, changes: dict[str, str], reason: str
) -> list[str]:
    """Correct fields of a record (template cells by key); checked like an import row; audited with the
    fields before and after. Returns the Chinese headers of the fields changed."""
    student = _editable(session, actor, student_id)
    if not reason.strip():
        raise StudentRecordError("请填写更正原因(如:依据户口簿更正出生日期)")
    if problem := too_long(reason.strip(), REASON_CHARS):
        raise StudentRecordError(f"更正原因{problem}")
    members = _members(session, student_id)
    cells = record_cells(student, members, *_codes(session, student)) | {
        k: v for k, v in changes.items() if k not in ("school_code",)
    }
    values = _check_correction(session, actor, student, cells)
    before, after = {}, {}
    for key in (*STUDENT_FIELDS, "class_id"):
        if getattr(student, key) != values[key]:
            before[key], after[key] = getattr(student, key), values[key]
    by_seq = {m.seq: m for m in members}
    for fresh in values["family"]:
        member = by_seq.get(fresh["seq"])
        old = {f: getattr(member, f) for f in MEMBER_FIELDS} if member else {}
        if old != {f: fresh[f] for f in MEMBER_FIELDS}:
            before[f"member{fresh['seq']}"] = old
            after[f"member{fresh['seq']}"] = {f: fresh[f] for f in MEMBER_FIELDS}
            if member is None:
                session.add(FamilyMember(student_id=student_id, **{f: fresh[f] for f in MEMBER_FIELDS}))
            else:
                for f in MEMBER_FIELDS:
                    setattr(member, f, fresh[f])
    if not after:
        session.rollback()
        return []
    for key in (*STUDENT_FIELDS, "class_id"):
        setattr(student, key, values[key])
    student.name_initials = name_initials(student.name)
    if student.id_number:
        student.registry_number = f"G{student.id_number}"
    student.updated_at = now()
    record(
        session,
        actor=actor,
        action="correct",
        entity_type="student",
        entity_id=student_id,
        before=mask_identifiers(before),
        after=mask_identifiers(after),
        detail=f"更正学籍:{reason.strip()}",
    )
    open_registry_cases(session, actor=actor, students=select(literal(student_id)))
    session.commit()
    return [_header(k) for k in after]


def _header(key: str) -> str:
    if key == "class_id":
        return "班级"
    if key.startswith("member"):
        return f"家庭成员{key[-1]}"
    return COLUMN_BY_KEY[key].header if key in COLUMN_BY_KEY else key


@unit_of_work
def archive_student(session: Session, *, actor: Actor, student_id: int, reason: str) -> None:
    """Archive the record of a child who has left (transferred out, graduated, dropped out, died)."""
    student = _editable(session, actor, student_id)
    if student.status in (StudentStatus.ENROLLED, StudentStatus.SUSPENDED):
        raise StudentRecordError("在读或休学学生不能归档;学生离校须先办理学籍异动")
    if student.archived_at is not None:
        raise StudentRecordError("该学籍已归档")
    if not reason.strip():
        raise StudentRecordError("请填写归档原因")
    if problem := length_problem(reason.strip(), "student.archived_reason"):
        raise StudentRecordError(f"归档原因{problem}")
    student.archived_at, student.archived_reason = now(), reason.strip()
    record(
        session,
        actor=actor,
        action="archive",
        entity_type="student",
        entity_id=student_id,
        after={"archived_reason": student.archived_reason, "status": student.status},
        detail=f"归档:{student.archived_reason}",
    )
    session.commit()


@unit_of_work
def merge_students(session: Session, *, actor: Actor, keep_id: int, duplicate_id: int, reason: str) -> None:
    """Merge a duplicate record into the one kept: the duplicate stays, marked, its history shown with the
    kept record's; teacher assignments move over. Both must be in the actor's scope."""
    if keep_id == duplicate_id:
        raise StudentRecordError("不能将学籍与自身合并")
    write_lock(session, f"student:{keep_id}", f"student:{duplicate_id}")  # both at once, in order
    keep = _editable(session, actor, keep_id)
    duplicate = _editable(session, actor, duplicate_id)
    if not reason.strip():
        raise StudentRecordError("请填写合并原因")
    if problem := too_long(reason.strip(), REASON_CHARS):
        raise StudentRecordError(f"合并原因{problem}")
    if duplicate.id_number and keep.id_number and duplicate.id_number != keep.id_number:
        raise StudentRecordError("两条学籍的身份证件号不同,不是同一名学生,不能合并")
    if (keep.birth_date, keep.sex) != (duplicate.birth_date, duplicate.sex):
        raise StudentRecordError("两条学籍的出生日期或性别不同,不能合并;如为录入错误请先更正")
    open_ = session.scalar(
        select(StatusChange.id).where(
            or_(StatusChange.student_id == duplicate_id, StatusChange.student_id == keep_id),
            StatusChange.state == ChangeState.SUBMITTED,
        )
    )
    if open_ is not None:
        raise StudentRecordError("有待审批的学籍异动申请,审批后再合并")
    if not keep.id_number and duplicate.id_number:
        raise StudentRecordError("请保留有身份证件号的那条学籍")
    duplicate.merged_into_id = keep_id
    duplicate.archived_at, duplicate.archived_reason = now(), f"重复学籍,已合并到 #{keep_id}"
    session.execute(
        update(TeacherAssignment)
        .where(TeacherAssignment.student_id == duplicate_id)
        .values(student_id=keep_id)
    )
    record(
        session,
        actor=actor,
        action="merge",
        entity_type="student",
        entity_id=keep_id,
        before={"duplicate_id": duplicate_id},
        after={"merged_into_id": keep_id},
        detail=f"合并重复学籍 #{duplicate_id} → #{keep_id}:{reason.strip()}",
    )
    record(
        session,
        actor=actor,
        action="merge",
        entity_type="student",
        entity_id=duplicate_id,
        after={"merged_into_id": keep_id},
        detail=f"已合并到 #{keep_id}",
    )
    session.commit()
