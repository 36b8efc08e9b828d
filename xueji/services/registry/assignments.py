"""教师包学生: the registrar names each class's head teacher (班主任) and assigns teachers to whole classes or to
single students of their school."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.db import unit_of_work
from xueji.models import AppUser, School, SchoolClass, Student, TeacherAssignment
from xueji.rules.class_code import parse_class_code
from xueji.rules.vocab import Role
from xueji.services.common.access import deny, require, school_condition, school_in_scope, student_in_scope


class AssignmentError(ValueError):
    """The assignment was refused; the message says why, in Chinese."""


def _teacher_at(session: Session, actor: Actor, teacher_id: int, school_id: int) -> AppUser:
    teacher = session.get(AppUser, teacher_id)
    if teacher is None or teacher.role != Role.TEACHER.value or not teacher.is_active:
        raise AssignmentError("所选账号不是在用的教师账号")
    if teacher.school_id != school_id:
        deny(
            session,
            actor,
            Action.ASSIGNMENT_MANAGE.value,
            "该教师不属于这名学生所在的学校",
            entity_type="user",
            entity_id=teacher_id,
        )
    return teacher


def _save(session: Session, actor: Actor, assignment: TeacherAssignment, exists: bool) -> TeacherAssignment:
    if exists:
        raise AssignmentError("该教师已包保此对象")
    session.add(assignment)
    session.flush()
    record(
        session,
        actor=actor,
        action="create",
        entity_type="teacher_assignment",
        entity_id=assignment.id,
        after={"教师": assignment.user_id, "班级": assignment.class_id, "学生": assignment.student_id},
    )
    session.commit()
    return assignment


@unit_of_work
def assign_class(session: Session, *, actor: Actor, teacher_id: int, class_id: int) -> TeacherAssignment:
    """Make the teacher responsible for every student of a class."""
    cls = session.get(SchoolClass, class_id)
    if cls is None:
        raise AssignmentError("班级不存在")
    school_in_scope(session, actor, cls.school_id, Action.ASSIGNMENT_MANAGE)
    _teacher_at(session, actor, teacher_id, cls.school_id)
    exists = session.scalar(
        select(TeacherAssignment.id).where(
            TeacherAssignment.user_id == teacher_id, TeacherAssignment.class_id == class_id
        )
    )
    return _save(session, actor, TeacherAssignment(user_id=teacher_id, class_id=class_id), exists is not None)


@unit_of_work
def set_head_teacher(session: Session, *, actor: Actor, teacher_id: int, class_id: int) -> str | None:
    """Make the teacher the class's head teacher (班主任), who answers for every child of it; return the name of
    the head teacher replaced, if any."""
    cls = session.get(SchoolClass, class_id)
    if cls is None:
        raise AssignmentError("班级不存在")
    school_in_scope(session, actor, cls.school_id, Action.ASSIGNMENT_MANAGE)
    teacher = _teacher_at(session, actor, teacher_id, cls.school_id)
    if cls.head_teacher_id == teacher.id:
        raise AssignmentError(f"{teacher.display_name} 已是该班班主任")
    before = {"班主任": cls.head_teacher_id, "姓名": cls.head_teacher_name}
    replaced = cls.head_teacher_name if cls.head_teacher_id is not None else None
    cls.head_teacher_id, cls.head_teacher_name = teacher.id, teacher.display_name
    session.add(cls)
    record(
        session,
        actor=actor,
        action="update",
        entity_type="school_class",
        entity_id=cls.id,
        before=before,
        after={"班主任": teacher.id, "姓名": teacher.display_name},
        detail=f"{cls.name} 班主任设为 {teacher.display_name}",
    )
    session.commit()
    return replaced


@unit_of_work
def assign_student(session: Session, *, actor: Actor, teacher_id: int, student_id: int) -> TeacherAssignment:
    """Make the teacher responsible for one student."""
    student: Student = student_in_scope(session, actor, student_id, Action.ASSIGNMENT_MANAGE)
    _teacher_at(session, actor, teacher_id, student.school_id)
    exists = session.scalar(
        select(TeacherAssignment.id).where(
            TeacherAssignment.user_id == teacher_id, TeacherAssignment.student_id == student_id
        )
    )
    return _save(
        session, actor, TeacherAssignment(user_id=teacher_id, student_id=student_id), exists is not None
    )


def teachers_in_scope(session: Session, *, actor: Actor) -> list[tuple[int, str, str]]:
    """(id, name, username) of the active teacher accounts in the actor's schools."""
    require(session, actor, Action.ASSIGNMENT_MANAGE)
    rows = session.execute(
        select(AppUser.id, AppUser.display_name, AppUser.username)
        .where(
            AppUser.role == Role.TEACHER.value,
            AppUser.is_active,
            col(AppUser.school_id).in_(select(School.id).where(school_condition(actor))),
        )
        .order_by(AppUser.display_name)
    ).all()
    return [tuple(r) for r in rows]


def classes_in_scope(session: Session, *, actor: Actor) -> list[tuple[int, str]]:
    """(id, class name) of the classes in the actor's schools."""
    require(session, actor, Action.ASSIGNMENT_MANAGE)
    rows = session.execute(
        select(SchoolClass.id, SchoolClass.code)
        .where(col(SchoolClass.school_id).in_(select(School.id).where(school_condition(actor))))
        .order_by(SchoolClass.code)
    ).all()
    return [(cid, parse_class_code(code).name) for cid, code in rows]
