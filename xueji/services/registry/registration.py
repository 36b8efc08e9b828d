"""新生注册进度: whether each school's grade-1 and grade-7 intake has a complete registry by its deadline,
and which records still lack what. Counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import Select, Subquery, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import School, SchoolClass, Student, Township
from xueji.rules.class_code import parse_class_code
from xueji.rules.registration import RecordGap, RegistrationState, registration_state
from xueji.rules.vocab import SchoolKind, Stage, StudentStatus
from xueji.services.common.access import require, school_condition, student_condition
from xueji.services.common.calendar import school_year_on
from xueji.services.common.exports import export_tables
from xueji.sql import class_in_grade, class_stage, family_summary, record_gap

INTAKE_GRADE = {Stage.PRIMARY: 1, Stage.JUNIOR: 7}
INTAKE_LABEL = {Stage.PRIMARY: "一年级新生", Stage.JUNIOR: "七年级新生"}


@dataclass(frozen=True)
class IntakeProgress:
    township: str
    school: str
    intake: str  # 一年级新生 / 七年级新生
    deadline: date
    students: int
    complete: int
    gaps: dict[RecordGap, int] = field(default_factory=dict)
    state: RegistrationState = RegistrationState.OPEN

    @property
    def rate(self) -> float:
        return self.complete / self.students if self.students else 0.0

    def gap_summary(self) -> str:
        return "、".join(f"{gap.label} {n} 人" for gap, n in self.gaps.items() if n)


@dataclass(frozen=True)
class IncompleteRecord:
    student_id: int
    school: str
    class_name: str
    name: str
    gaps: list[RecordGap]


def _intake_students(actor: Actor, year: int) -> ColumnElement[bool]:
    """Students of this school year's grade-1 and grade-7 classes still on the registry, in scope."""
    intake_classes = select(SchoolClass.id).where(
        or_(*(class_in_grade(grade, year) for grade in INTAKE_GRADE.values()))
    )
    return and_(
        col(Student.class_id).in_(intake_classes),
        col(Student.status).in_([StudentStatus.ENROLLED.value, StudentStatus.SUSPENDED.value]),
        col(Student.merged_into_id).is_(None),
        col(Student.archived_at).is_(None),
        student_condition(actor),
    )


@dataclass(frozen=True)
class _Intake:
    """The intake students in scope, their family summary to outer-join, and one condition per gap."""

    where: ColumnElement[bool]
    family: Subquery
    gaps: list[ColumnElement[bool]]

    @classmethod
    def of(cls, actor: Actor, year: int) -> _Intake:
        where = _intake_students(actor, year)
        family = family_summary(select(Student.id).where(where))
        return cls(where, family, [record_gap(gap, family) for gap in RecordGap])

    def scope(self, query: Select) -> Select:
        return query.outerjoin(self.family, self.family.c.student_id == Student.id).where(self.where)

    def any_gap(self) -> ColumnElement[bool]:
        return or_(*self.gaps)


def intake_progress(session: Session, *, actor: Actor) -> list[IntakeProgress]:
    """Per school in scope and intake (grade 1, grade 7 by the school's stages): records, complete, gaps, state.
    A school that teaches the stage but has no intake on the registry yet is listed with 0 (late after the
    deadline)."""
    require(session, actor, Action.OVERVIEW_READ)
    year, day = school_year_on(session, today()), today()
    deadlines = get_settings().registration_deadlines
    stage = class_stage().label("stage")
    intake = _Intake.of(actor, year)
    counts = session.execute(
        intake.scope(
            select(
                Student.school_id,
                stage,
                func.count(),
                func.sum(case((intake.any_gap(), 0), else_=1)),
                *(func.sum(case((gap, 1), else_=0)) for gap in intake.gaps),
            ).join(SchoolClass, Student.class_id == SchoolClass.id)
        ).group_by(Student.school_id, stage)
    ).all()
    by_school = {(school_id, Stage(s)): rest for school_id, s, *rest in counts}
    schools = session.execute(
        select(School.id, Township.name, School.name, School.kind)
        .join(Township, School.township_id == Township.id)
        .where(school_condition(actor), col(School.closed_on).is_(None))  # a closed school takes no intake
        .order_by(Township.code, School.code)
    ).all()
    rows = []
    for school_id, township, name, kind in schools:
        for school_stage in SchoolKind(kind).stages:
            students, complete, *gap_counts = by_school.get(
                (school_id, school_stage), (0, 0, *[0] * len(RecordGap))
            )
            deadline = deadlines.for_stage(school_stage, year)
            rows.append(
                IntakeProgress(
                    township=township,
                    school=name,
                    intake=INTAKE_LABEL[school_stage],
                    deadline=deadline,
                    students=int(students),
                    complete=int(complete or 0),
                    gaps={gap: int(n or 0) for gap, n in zip(RecordGap, gap_counts, strict=True)},
                    state=registration_state(
                        today=day, deadline=deadline, students=int(students), complete=int(complete or 0)
                    ),
                )
            )
    return rows


def incomplete_records(
    session: Session, *, actor: Actor, school_id: int | None = None
) -> list[IncompleteRecord]:
    """Every intake record in scope (optionally of one school) that still has a gap, by class and name."""
    require(session, actor, Action.STUDENT_READ)
    intake = _Intake.of(actor, school_year_on(session, today()))
    query = (
        intake.scope(
            select(Student.id, School.name, SchoolClass.code, Student.name, *intake.gaps)
            .join(School, Student.school_id == School.id)
            .join(SchoolClass, Student.class_id == SchoolClass.id)
        )
        .where(intake.any_gap())
        .order_by(School.code, SchoolClass.code, Student.name, Student.id)
    )
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    return [
        IncompleteRecord(
            student_id=sid,
            school=school,
            class_name=parse_class_code(code).name,
            name=name,
            gaps=[gap for gap, missing in zip(RecordGap, flags, strict=True) if missing],
        )
        for sid, school, code, name, *flags in session.execute(query)
    ]


PROGRESS_COLUMNS = ["乡镇", "学校", "年级", "截止日期", "新生人数", "信息完整", "完成率", "状态", "缺项"]
INCOMPLETE_COLUMNS = ["学校", "班级", "姓名", "缺项"]


def progress_frame(rows: list[IntakeProgress]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                r.township,
                r.school,
                r.intake,
                r.deadline,
                r.students,
                r.complete,
                f"{r.rate:.0%}" if r.students else "未导入",
                r.state.label,
                r.gap_summary(),
            )
            for r in rows
        ],
        columns=PROGRESS_COLUMNS,
    )


def incomplete_frame(rows: list[IncompleteRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        [(r.school, r.class_name, r.name, "、".join(g.label for g in r.gaps)) for r in rows],
        columns=INCOMPLETE_COLUMNS,
    )


def export_registration(session: Session, *, actor: Actor, school_id: int | None = None) -> bytes:
    """The progress table and the incomplete records as one xlsx (audited)."""
    return export_tables(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        sheets={
            "注册进度": progress_frame(intake_progress(session, actor=actor)),
            "待补全学籍": incomplete_frame(incomplete_records(session, actor=actor, school_id=school_id)),
        },
        entity_type="student",
        title="新生注册进度",
    )
