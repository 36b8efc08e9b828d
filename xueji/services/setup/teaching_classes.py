"""任教班级 of accounts made in bulk (账号导入): find or create each class (a new one empty: the registry import
finds a class by school and code and fills it), make the teacher its head teacher or assign them to it, audited.
Run when the accounts are created: on the command line, or when a batch of requests is approved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.audit import Entry, record_many
from xueji.auth import Actor
from xueji.models import AppUser, School, SchoolClass, TeacherAssignment
from xueji.rules.class_code import parse_class_code
from xueji.services.system.accounts import AccountError


@dataclass(frozen=True)
class Teaching:
    """A class a teacher account will teach."""

    user_id: int
    school_id: int
    class_code: str
    head_teacher: bool


@dataclass(frozen=True)
class Assigned:
    classes_created: int
    head_teachers: int
    assignments: int


def _classes(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], SchoolClass]:
    schools = {school_id for school_id, _ in keys}
    found = session.scalars(select(SchoolClass).where(col(SchoolClass.school_id).in_(schools)))
    return {(c.school_id, c.code): c for c in found if (c.school_id, c.code) in keys}


def assign_teaching(session: Session, actor: Actor, lines: Sequence[Teaching], *, detail: str) -> Assigned:
    """Create the classes missing, then set head teachers and assignments; refuse (AccountError) a class whose
    head teacher is someone else by now, and write nothing then (the caller's transaction is rolled back)."""
    if not lines:
        return Assigned(0, 0, 0)
    keys = {(line.school_id, line.class_code) for line in lines}
    classes = _classes(session, keys)
    created = [SchoolClass(school_id=s, code=c) for s, c in sorted(keys - set(classes))]
    session.add_all(created)
    session.flush()
    classes |= {(c.school_id, c.code): c for c in created}
    names: dict[int, str] = dict(
        session.execute(
            select(AppUser.id, AppUser.display_name).where(
                col(AppUser.id).in_({line.user_id for line in lines})
            )
        ).all()
    )
    school_names: dict[int, str] = dict(
        session.execute(select(School.id, School.name).where(col(School.id).in_({s for s, _ in keys}))).all()
    )
    entries = [
        Entry(
            "create",
            entity_type="school_class",
            entity_id=c.id,
            after={"学校": school_names[c.school_id], "班号": c.code, "班级": c.name},
            detail=f"{detail}:新建任教班级(空班,学籍导入时填入学生)",
        )
        for c in created
    ]
    taught = set(
        session.execute(
            select(TeacherAssignment.user_id, TeacherAssignment.class_id).where(
                col(TeacherAssignment.user_id).in_({line.user_id for line in lines}),
                col(TeacherAssignment.class_id).is_not(None),
            )
        ).all()
    )
    heads = assignments = 0
    for line in lines:
        cls = classes[(line.school_id, line.class_code)]
        where = f"{school_names[line.school_id]}{parse_class_code(line.class_code).name}"
        if line.head_teacher:
            if cls.head_teacher_id not in (None, line.user_id):
                raise AccountError(f"{where}已有班主任({cls.head_teacher_name or '另一账号'}),请先核实")
            before = {"班主任": cls.head_teacher_name, "班主任账号": cls.head_teacher_id}
            cls.head_teacher_id, cls.head_teacher_name = line.user_id, names[line.user_id]
            after = {"班主任": cls.head_teacher_name, "班主任账号": cls.head_teacher_id}
            entries.append(
                Entry(
                    "update",
                    entity_type="school_class",
                    entity_id=cls.id,
                    before=before,
                    after=after,
                    detail=detail,
                )
            )
            heads += 1
        elif (line.user_id, cls.id) not in taught:
            assignment = TeacherAssignment(user_id=line.user_id, class_id=cls.id)
            session.add(assignment)
            session.flush()
            taught.add((line.user_id, cls.id))
            entries.append(
                Entry(
                    "create",
                    entity_type="teacher_assignment",
                    entity_id=assignment.id,
                    after={"教师": line.user_id, "班级": cls.id, "学生": None},
                    detail=f"{detail}:{where}",
                )
            )
            assignments += 1
    session.flush()
    record_many(session, actor=actor, entries=entries)
    return Assigned(len(created), heads, assignments)
