"""开学报到 and 流生: the registrar marks, class by class, who has reported for the term (or is on recorded
leave); from a week after term start, every enrolled child with neither, and no transfer or suspension under
way, is a lost student, treated as a suspected dropout."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Select, and_, case, delete, exists, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import FamilyMember, School, SchoolClass, StatusChange, Student, TermReport, Township
from xueji.rules.class_code import parse_class_code
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.suspensions import leave_date_problems
from xueji.rules.terms import TermDates
from xueji.rules.text_limits import length_problem
from xueji.rules.vocab import StudentStatus
from xueji.services.common.access import (
    class_in_scope,
    require,
    school_condition,
    sees_full_identifiers,
    student_condition,
)
from xueji.services.common.calendar import term_id, term_on
from xueji.services.common.exports import export_table
from xueji.services.registry.students import guardian_field

# Requests that account for a child's absence at term start (转学、休学 papers), unless rejected.
PAPERS = (ChangeKind.TRANSFER_OUT, ChangeKind.TRANSFER_IN, ChangeKind.SUSPENSION)


class TermReportError(ValueError):
    """The reports cannot be saved; the message says why, in Chinese."""


@dataclass(frozen=True)
class ReportRow:
    student_id: int
    name: str
    id_number: str | None
    reported: bool
    leave_reason: str | None
    leave_from: date | None = None
    leave_until: date | None = None  # an old leave may have no dates (shown as 未填日期)


@dataclass(frozen=True)
class Leave:
    """A leave (请假) as the registrar records it: the reason and the days it runs, both ends included."""

    reason: str
    start: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class LostStudent:
    student_id: int
    township: str
    school: str
    class_name: str
    name: str
    id_number: str | None
    guardian_phone: str | None
    days_absent: int


@dataclass(frozen=True)
class LostList:
    term: TermDates
    since: date  # from this day on, a child not reported is a lost student
    rows: list[LostStudent]

    @property
    def in_force(self) -> bool:
        return today() >= self.since


@dataclass(frozen=True)
class ClassReports:
    reported: int
    on_leave: int
    not_reported: int


@dataclass(frozen=True)
class ReportProgress:
    township: str
    school: str
    enrolled: int
    reported: int
    on_leave: int
    lost: int  # not reported, no papers, and the week is over (0 before that)

    @property
    def not_reported(self) -> int:
        return self.enrolled - self.reported - self.on_leave


def current_term(session: Session) -> TermDates:
    """The term in force today (or the last one started); a school year without terms is an error."""
    term = term_on(session, today())
    if term is None:
        raise TermReportError("尚未配置本学年的学期:请县级管理员先完成学年升级")
    return term


def lost_since(term: TermDates) -> date:
    return term.start + timedelta(days=get_settings().lost_student_days)


def _enrolled(actor: Actor) -> ColumnElement[bool]:
    return and_(
        Student.status == StudentStatus.ENROLLED.value,
        col(Student.merged_into_id).is_(None),
        col(Student.archived_at).is_(None),
        student_condition(actor),
    )


def _has_papers(term: TermDates) -> ColumnElement[bool]:
    """A transfer or suspension request submitted and pending, or decided in favour since the term started."""
    return exists(
        select(StatusChange.id)
        .where(
            StatusChange.student_id == Student.id,
            col(StatusChange.kind).in_([k.value for k in PAPERS]),
            or_(
                StatusChange.state == ChangeState.SUBMITTED.value,
                and_(
                    StatusChange.state == ChangeState.APPROVED.value,
                    StatusChange.effective_date >= term.start,
                ),
            ),
        )
        .correlate(Student)
    )


def _report_join(term: int):  # noqa: ANN202 - a join condition
    return and_(TermReport.term_id == term, TermReport.student_id == Student.id)


def class_reports(session: Session, *, actor: Actor, class_id: int) -> list[ReportRow]:
    """The class's enrolled children with this term's report or leave, in name order."""
    class_in_scope(session, actor, class_id, Action.ATTENDANCE_RECORD)
    term = term_id(session, current_term(session))
    full = sees_full_identifiers(actor)
    columns = (Student.id, Student.name, Student.id_number, TermReport.id, TermReport.leave_reason)
    dates = (TermReport.leave_from, TermReport.leave_until)
    rows = session.execute(
        select(*columns, *dates)
        .outerjoin(TermReport, _report_join(term))
        .where(Student.class_id == class_id, _enrolled(actor))
        .order_by(Student.name, Student.id)
    )
    return [
        ReportRow(
            sid,
            name,
            number if full else mask_id_number(number),
            report is not None and leave is None,
            leave,
            start,
            until,
        )
        for sid, name, number, report, leave, start, until in rows
    ]


@unit_of_work
def record_reports(
    session: Session,
    *,
    actor: Actor,
    class_id: int,
    reported: Collection[int],
    leave: Mapping[int, Leave],
) -> ClassReports:
    """Set the class's reports for the term to exactly this: reported, on leave (with reason and dates), or
    neither. A new or changed leave needs its dates; an old undated one may stay as it is. Unchanged rows keep
    their date; one audit entry lists what changed."""
    school_class = class_in_scope(session, actor, class_id, Action.ATTENDANCE_RECORD)
    write_lock(session, f"class:{class_id}")  # the class's reports are read and set in one go
    term = current_term(session)
    tid = term_id(session, term)
    query = select(Student.id, Student.name).where(Student.class_id == class_id, _enrolled(actor))
    students: dict[int, str] = {int(sid): str(name) for sid, name in session.execute(query)}
    leave = {sid: Leave(given.reason.strip(), given.start, given.until) for sid, given in leave.items()}
    existing = {
        r.student_id: r
        for r in session.scalars(
            select(TermReport).where(TermReport.term_id == tid, col(TermReport.student_id).in_(students))
        )
    }
    problems = [f"{students.get(s, s)}:不能同时为已报到和请假" for s in set(reported) & set(leave)]
    problems += [f"学生 {s} 不在本班在读名单中" for s in (set(reported) | set(leave)) - set(students)]
    for sid, given in leave.items():
        if sid in students:
            problems += [f"{students[sid]}:{p}" for p in _leave_problems(given, existing.get(sid), term)]
    if problems:
        raise TermReportError("报到情况未保存:\n" + "\n".join(problems))
    changed: list[str] = []
    for sid, name in students.items():
        wanted = "reported" if sid in reported else ("leave" if sid in leave else None)
        row = existing.get(sid)
        now_state = None if row is None else ("leave" if row.leave_reason else "reported")
        if wanted == now_state and (wanted != "leave" or _stored(row) == leave[sid]):
            continue
        changed.append(f"{name}:{_label(now_state)}→{_label(wanted)}")
        if wanted is None:
            session.execute(delete(TermReport).where(TermReport.id == row.id))  # type: ignore[union-attr]
        elif row is None:
            session.add(
                TermReport(
                    term_id=tid,
                    student_id=sid,
                    reported_on=today(),
                    recorded_by=actor.user_id,
                    **_leave_columns(leave.get(sid)),
                )
            )
        else:
            row.sqlmodel_update(_leave_columns(leave.get(sid)))
            row.reported_on, row.recorded_by = today(), actor.user_id
    result = ClassReports(
        reported=sum(s in reported for s in students),
        on_leave=sum(s in leave for s in students),
        not_reported=sum(s not in reported and s not in leave for s in students),
    )
    record(
        session,
        actor=actor,
        action="term_report",
        entity_type="school_class",
        entity_id=class_id,
        after={"changed": changed},
        detail=f"{term.name} {parse_class_code(school_class.code).name}:报到 {result.reported} 人,"
        f"请假 {result.on_leave} 人,未报到 {result.not_reported} 人",
    )
    session.commit()
    return result


def _stored(row: TermReport | None) -> Leave | None:
    if row is None or row.leave_reason is None:
        return None
    return Leave(row.leave_reason, row.leave_from, row.leave_until)


def _leave_columns(leave: Leave | None) -> dict[str, object]:
    if leave is None:
        return {"leave_reason": None, "leave_from": None, "leave_until": None}
    return {"leave_reason": leave.reason, "leave_from": leave.start, "leave_until": leave.until}


def _leave_problems(leave: Leave, row: TermReport | None, term: TermDates) -> list[str]:
    """A leave needs a reason and its dates; an old leave recorded without dates may be kept unchanged."""
    problems = []
    if not leave.reason:
        problems.append("请假须填写事由")
    elif problem := length_problem(leave.reason, "term_report.leave_reason"):
        problems.append(f"请假事由{problem}")
    if leave != _stored(row) or leave.start is not None or leave.until is not None:
        problems += leave_date_problems(leave.start, leave.until, term)
    return problems


def _label(state: str | None) -> str:
    return {"reported": "已报到", "leave": "请假", None: "未报到"}[state]


def _lost_condition(term: TermDates, no_report: ColumnElement[bool]) -> ColumnElement[bool]:
    """A lost student: no report this term (as the caller's query can tell) and no papers."""
    return and_(no_report, ~_has_papers(term))


def _no_report(tid: int) -> ColumnElement[bool]:
    return ~exists(select(TermReport.id).where(_report_join(tid)).correlate(Student))


def lost_students(
    session: Session, *, actor: Actor, school_id: int | None = None, masked: bool = False
) -> LostList:
    """The term's lost students in scope (none before the week is over): by school, class and name. ID and
    phone numbers are masked unless the actor's job needs them (and always when masked is asked)."""
    require(session, actor, Action.STUDENT_READ)
    term = current_term(session)
    since = lost_since(term)
    if today() < since:
        return LostList(term, since, [])
    tid = term_id(session, term)
    full = sees_full_identifiers(actor) and not masked
    query = (
        select(
            Student.id,
            Township.name,
            School.name,
            SchoolClass.code,
            Student.name,
            Student.id_number,
            guardian_field(FamilyMember.phone),
        )
        .join(School, Student.school_id == School.id)
        .join(Township, School.township_id == Township.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .where(_enrolled(actor), _lost_condition(term, _no_report(tid)))
        .order_by(Township.code, School.code, SchoolClass.code, Student.name)
    )
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    days = (today() - term.start).days
    rows = [
        LostStudent(
            sid,
            township,
            school,
            parse_class_code(code).name if code else "",
            name,
            number if full else mask_id_number(number),
            phone if full else mask_phone(phone),
            days,
        )
        for sid, township, school, code, name, number, phone in session.execute(query)
    ]
    return LostList(term, since, rows)


def lost_student_ids(session: Session, *, actor: Actor) -> Select | None:
    """The ids of this term's lost students in scope, as a query; None before the week is over, and between
    terms (a child not reported for the last term is no lost student in the holiday that follows it)."""
    term = term_on(session, today())
    if term is None or not term.contains(today()) or today() < lost_since(term):
        return None
    condition = _lost_condition(term, _no_report(term_id(session, term)))
    return select(Student.id).where(_enrolled(actor), condition)


def is_lost(session: Session, *, actor: Actor, student_id: int) -> bool:
    """Whether one student (whom the actor may read) is a lost student this term."""
    require(session, actor, Action.STUDENT_READ)
    lost = lost_student_ids(session, actor=actor)
    return lost is not None and session.scalar(lost.where(Student.id == student_id)) is not None


def report_progress(session: Session, *, actor: Actor) -> list[ReportProgress]:
    """Per school in scope: enrolled, reported, on leave and lost this term, counted in SQL."""
    require(session, actor, Action.OVERVIEW_READ)
    term = current_term(session)
    tid = term_id(session, term)
    # the outer join already tells who has no report; only they need the papers looked up
    lost = _lost_condition(term, col(TermReport.id).is_(None)) if today() >= lost_since(term) else None
    counts = session.execute(
        select(
            Student.school_id,
            func.count(),
            func.count(TermReport.id) - func.count(TermReport.leave_reason),
            func.count(TermReport.leave_reason),
            func.sum(case((lost, 1), else_=0)) if lost is not None else literal(0),
        )
        .outerjoin(TermReport, _report_join(tid))
        .where(_enrolled(actor))
        .group_by(Student.school_id)
    ).all()
    by_school = {school_id: rest for school_id, *rest in counts}
    schools = session.execute(
        select(School.id, Township.name, School.name)
        .join(Township, School.township_id == Township.id)
        .where(school_condition(actor))
        .order_by(Township.code, School.code)
    ).all()
    return [
        ReportProgress(township, name, *(int(n or 0) for n in by_school.get(school_id, (0, 0, 0, 0))))
        for school_id, township, name in schools
    ]


LOST_COLUMNS = ["乡镇", "学校", "班级", "姓名", "身份证号", "监护人电话", "开学已过天数"]
PROGRESS_COLUMNS = ["乡镇", "学校", "在读人数", "已报到", "请假", "未报到", "流生"]


def lost_frame(rows: list[LostStudent]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (r.township, r.school, r.class_name, r.name, r.id_number, r.guardian_phone, r.days_absent)
            for r in rows
        ],
        columns=LOST_COLUMNS,
    )


def progress_frame(rows: list[ReportProgress]) -> pd.DataFrame:
    return pd.DataFrame(
        [(r.township, r.school, r.enrolled, r.reported, r.on_leave, r.not_reported, r.lost) for r in rows],
        columns=PROGRESS_COLUMNS,
    )


def export_lost(session: Session, *, actor: Actor, school_id: int | None = None) -> bytes:
    """The lost students as xlsx (ID and phone numbers masked), audited."""
    lost = lost_students(session, actor=actor, school_id=school_id, masked=True)
    return export_table(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        frame=lost_frame(lost.rows),
        sheet="流生名单",
        entity_type="student",
        detail=lost.term.name,
    )
