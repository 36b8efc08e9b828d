"""学校: add a school, rename it (or change its kind), and close it — into a receiving school (撤并: every
registry record, its classes, the children it follows and this term's home-teaching plans move there, one
RecordMove per student, class and open case, in one unit of work), or on its own when it never held a record.

What moves: every registry record of the school, not only those on the roll (在读, 休学): a dropout is still
the school's to bring back, and the records of children who left (转出, 毕业, 死亡) are kept permanently by the
school that takes the closed one's files (学籍档案由学校永久保管). What stays, as history: status changes, term
reports and registry checks name the closed school; the RecordMove rows say where each record was, so reports
for an earlier day count it there. Accounts scoped to the closed school are not moved: giving a person access to
another school's children is a second person's decision (services.setup.rescope files the requests)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, insert, or_, select, update
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    Case,
    Child,
    HomePlan,
    School,
    SchoolClass,
    StatusChange,
    Student,
    TeacherAssignment,
    Term,
)
from xueji.rules.cases import CaseStatus
from xueji.rules.class_code import parse_class_code
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.vocab import SchoolKind, ScopeKind, StudentStatus
from xueji.services.cases.opening import add_event
from xueji.services.common import lock_keys
from xueji.services.common.access import deny, require, school_condition
from xueji.services.setup.divisions import (
    CURRENT,
    DivisionError,
    Plan,
    accounts_left,
    checked_change,
    checked_name,
    county_of,
    pending_grants,
    refusals_audited,
    refuse_closed,
    renamed,
    township_for,
)
from xueji.services.setup.moves import MoveKind, write_moves


def school_for(session: Session, actor: Actor, school_id: int, action: Action) -> School:
    """The school if it lies in the actor's scope; otherwise the denial is audited."""
    require(session, actor, action)
    found = session.scalar(select(School).where(School.id == school_id, school_condition(actor)))
    if found is None:
        deny(
            session,
            actor,
            action.value,
            "该学校不在您的管辖范围内",
            entity_type="school",
            entity_id=school_id,
        )
    return found


def _check_code(session: Session, text: str) -> str:
    code = text.strip()
    if len(code) != 10 or not code.isascii() or not code.isdigit():
        raise DivisionError(f"学校标识码应为10位数字,实际为“{text}”")
    taken = session.scalar(select(School).where(School.code == code))
    if taken is not None:
        raise DivisionError(
            f"学校标识码 {code} 已属于“{taken.name}”" + ("(已撤并或关闭)" if taken.closed_on else "")
        )
    return code


def _same_school_name(session: Session, name: str, township_id: int, school_id: int | None = None) -> None:
    """Two schools in use of one township may not share a name (the set-up workbook's rule, rules.setup_rows)."""
    taken = session.scalar(
        select(School.id).where(
            School.name == name, School.township_id == township_id, col(School.closed_on).is_(None)
        )
    )
    if taken is not None and taken != school_id:
        raise DivisionError(f"本乡镇已有名为“{name}”的在用学校,请核对后再添加或改名")


@unit_of_work
def add_school(
    session: Session, *, actor: Actor, code: str, name: str, kind: SchoolKind, township_id: int
) -> School:
    """Add a school: a 10-digit school code never used before, in a township in use of the actor's county."""
    require(session, actor, Action.SETUP_MANAGE)
    with refusals_audited(session, actor=actor, action="create", entity_type="school", entity_id=code[:40]):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        county_of(session, actor)  # refuses when there is no county yet
        code = _check_code(session, code)
        name = checked_name(name, "school.name", "学校名称")
        township = township_for(session, actor, township_id, Action.SETUP_MANAGE)
        refuse_closed(township, "乡镇")
        _same_school_name(session, name, int(township.id or 0))
        school = School(township_id=township.id, code=code, name=name, kind=SchoolKind(kind).value)
        session.add(school)
        session.flush()
        record(
            session,
            actor=actor,
            action="create",
            entity_type="school",
            entity_id=school.id,
            after={"code": code, "name": name, "kind": school.kind, "township_id": township.id},
            detail=f"新增学校 {code} {name}({SchoolKind(kind).label}),属{township.name}",
        )
    session.commit()
    return school


def current_stages(session: Session, school_id: int) -> dict[int, list[str]]:
    """Stage number → codes of the school's classes holding a current record (on the roll or a dropout)."""
    codes = session.scalars(
        select(SchoolClass.code)
        .where(
            SchoolClass.school_id == school_id,
            col(SchoolClass.id).in_(
                select(Student.class_id).where(
                    Student.school_id == school_id, col(Student.status).in_(CURRENT)
                )
            ),
        )
        .order_by(SchoolClass.code)
    ).all()
    stages: dict[int, list[str]] = {}
    for code in codes:
        stages.setdefault(parse_class_code(code).stage.value, []).append(code)
    return stages


def stage_problem(kind: SchoolKind, stages: dict[int, list[str]], who: str) -> str | None:
    taught = {s.value for s in kind.stages}
    missing = sorted(c for stage, codes in stages.items() if stage not in taught for c in codes)
    if not missing:
        return None
    names = [parse_class_code(code).name for code in missing[:5]]
    listed = "、".join(names) + (f" 等 {len(missing)} 个" if len(missing) > 5 else "")
    return f"{who}是{kind.label},不教班级 {listed} 的学段:请先把办学类型改为能教这些学段的类型"


@unit_of_work
def update_school(
    session: Session, *, actor: Actor, school_id: int, name: str, kind: SchoolKind | None = None
) -> list[str]:
    """Rename a school in use and/or change its kind (None: keep it; a new kind must teach the stages of its
    current classes); returns what changed (名称, 办学类型)."""
    with refusals_audited(session, actor=actor, action="update", entity_type="school", entity_id=school_id):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        school = school_for(session, actor, school_id, Action.SETUP_MANAGE)
        changed = []
        if " ".join(name.split()) != school.name:
            _same_school_name(session, " ".join(name.split()), school.township_id, school.id)
        if renamed(session, actor, school, name, "学校"):
            changed.append("名称")
        if kind is not None and SchoolKind(kind).value != school.kind:
            kind = SchoolKind(kind)
            if problem := stage_problem(kind, current_stages(session, int(school.id or 0)), "新的办学类型"):
                raise DivisionError(problem)
            before, school.kind = school.kind, kind.value
            record(
                session,
                actor=actor,
                action="update",
                entity_type="school",
                entity_id=school.id,
                before={"kind": before},
                after={"kind": kind.value},
                detail=f"学校“{school.name}”办学类型改为{kind.label}",
            )
            changed.append("办学类型")
    session.commit()
    return changed


def _pending_changes(session: Session, school_id: int) -> list[str]:
    """Status change requests still waiting that concern the school, named by number, kind and day (not by the
    child's name: the administrator does not read the registry)."""
    rows = session.execute(
        select(StatusChange.id, StatusChange.kind, StatusChange.submitted_at)
        .where(
            StatusChange.state == ChangeState.SUBMITTED.value,
            or_(StatusChange.school_id == school_id, StatusChange.to_school_id == school_id),
        )
        .order_by(StatusChange.id)
    ).all()
    if not rows:
        return []
    listed = "、".join(f"#{i}({ChangeKind(k).label},{at:%Y-%m-%d} 提交)" for i, k, at in rows[:10])
    more = f" 等 {len(rows)} 条" if len(rows) > 10 else ""
    return [f"有待审批的学籍异动申请 {listed}{more}:请先审批或驳回"]


def _count(session: Session, query) -> int:  # noqa: ANN001 - a select
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _joined_classes(session: Session, school_id: int, into_id: int) -> dict[int, int]:
    """The closed school's classes whose code the receiving school already has: class id → the other's id."""
    theirs: dict[str, int] = dict(
        session.execute(
            select(SchoolClass.code, SchoolClass.id).where(SchoolClass.school_id == into_id)
        ).all()
    )
    return {
        cid: theirs[code]
        for cid, code in session.execute(
            select(SchoolClass.id, SchoolClass.code).where(SchoolClass.school_id == school_id)
        )
        if code in theirs
    }


def _oversized(session: Session, joined: dict[int, int]) -> list[str]:
    """Warnings for joined classes that will hold more enrolled children than the limit."""
    limit, warnings = get_settings().class_size_limit, []
    enrolled: dict[int, int] = dict(
        session.execute(
            select(Student.class_id, func.count())
            .where(
                col(Student.class_id).in_([*joined, *joined.values()]),
                Student.status == StudentStatus.ENROLLED.value,
            )
            .group_by(Student.class_id)
        ).all()
    )
    codes: dict[int, str] = dict(
        session.execute(select(SchoolClass.id, SchoolClass.code).where(col(SchoolClass.id).in_(joined))).all()
    )
    for mine, theirs in joined.items():
        size = enrolled.get(mine, 0) + enrolled.get(theirs, 0)
        if size > limit:
            warnings.append(
                f"并班后{parse_class_code(codes[mine]).name}将有 {size} 人,超过每班 {limit} 人的上限:请并入后分班"
            )
    return warnings


def _open_plans(school_id: int, on: date):  # noqa: ANN202 - a select
    return select(HomePlan.id).where(
        HomePlan.school_id == school_id,
        col(HomePlan.term_id).in_(select(Term.id).where(Term.end_date >= on)),
    )


def _open_cases(school_id: int):  # noqa: ANN202 - a select
    return select(Case.id).where(
        col(Case.child_id).in_(select(Child.id).where(Child.school_id == school_id)),
        Case.status != CaseStatus.CLOSED.value,
    )


def _school_plan(session: Session, school: School, into: School | None, on: date) -> Plan:
    sid = int(school.id or 0)
    subject = f"学校“{school.name}”"
    blockers = _pending_changes(session, sid) + pending_grants(session, ScopeKind.SCHOOL, sid)
    accounts = accounts_left(session, ScopeKind.SCHOOL, sid)
    students = select(Student.id).where(Student.school_id == sid)
    current = _count(session, students.where(col(Student.status).in_(CURRENT)))
    left = _count(session, students) - current
    children = _count(session, select(Child.id).where(Child.school_id == sid))
    plans = _count(session, _open_plans(sid, on))
    if into is None:
        if current or left or children or plans:
            blockers.append(
                f"该校还有 {current + left} 份学籍、{children} 名个案儿童、{plans} 份本学期送教方案:"
                "请把它撤并到接收学校(学籍档案永久保存,不能随学校关闭而丢失)"
            )
        notes = ["该校的账号请在“账号管理”中停用或申请改范围"] if accounts else []
        return Plan("关闭", subject, None, notes=notes, accounts=accounts, blockers=blockers)
    if into.id == sid:
        blockers.append("不能撤并到它自己")
    elif problem := stage_problem(SchoolKind(into.kind), current_stages(session, sid), "接收学校"):
        blockers.append(problem)
    joined = _joined_classes(session, sid, int(into.id or 0))
    classes = _count(session, select(SchoolClass.id).where(SchoolClass.school_id == sid))
    notes = []
    if joined:
        codes = session.scalars(
            select(SchoolClass.code).where(col(SchoolClass.id).in_(joined)).order_by(SchoolClass.code)
        ).all()
        notes.append(
            f"其中 {len(joined)} 个班级({'、'.join(codes[:10])})接收学校已有同班号的班级:学生并入该班"
        )
    notes += _oversized(session, joined)
    if plans:
        notes.append(f"本学期及以后的 {plans} 份送教方案改由接收学校承担")
    notes.append("以往的学籍异动、开学报到和人籍一致核对仍记在原学校名下(历史)")
    if accounts:
        notes.append("原学校的账号不会自动改到接收学校:撤并后可为其申请改范围,经审批后生效")
    moves = [
        (current, "名学生"),
        (left, "份已离校学生的学籍档案"),
        (classes, "个班级"),
        (_count(session, _open_cases(sid)), "个未结个案"),
    ]
    return Plan("撤并", subject, f"“{into.name}”", moves, notes, accounts, blockers)


def _school_pair(
    session: Session, actor: Actor, school_id: int, into_id: int | None
) -> tuple[School, School | None]:
    school = school_for(session, actor, school_id, Action.SETUP_MANAGE)
    into = None if into_id is None else school_for(session, actor, into_id, Action.SETUP_MANAGE)
    refuse_closed(school, "学校")
    if into is not None and into.id != school.id:
        refuse_closed(into, "接收学校")
    return school, into


def preview_school_change(session: Session, *, actor: Actor, school_id: int, into_id: int | None) -> Plan:
    """What closing a school (into_id None) or merging it into a receiving school would do; nothing is written."""
    require(session, actor, Action.SETUP_MANAGE)
    try:
        school, into = _school_pair(session, actor, school_id, into_id)
    except DivisionError as error:
        return Plan("撤并" if into_id else "关闭", "该学校", None, blockers=[str(error)])
    return _school_plan(session, school, into, today())


def _assign_moved_students(
    session: Session, joined: dict[int, int], students: list[tuple[int, int | None, str]]
) -> int:
    """Teachers of a joined class (its head teacher, its class assignments) keep answering for the children they
    had, one by one, rather than for the whole receiving class. Returns how many assignments were made."""
    teachers: dict[int, set[int]] = {}
    for cid, uid in session.execute(
        select(TeacherAssignment.class_id, TeacherAssignment.user_id).where(
            col(TeacherAssignment.class_id).in_(joined)
        )
    ):
        teachers.setdefault(cid, set()).add(uid)
    for cid, uid in session.execute(
        select(SchoolClass.id, SchoolClass.head_teacher_id).where(
            col(SchoolClass.id).in_(joined), col(SchoolClass.head_teacher_id).is_not(None)
        )
    ):
        teachers.setdefault(cid, set()).add(uid)
    wanted = {
        (uid, sid)
        for sid, cid, status in students
        if cid in teachers and status in CURRENT
        for uid in teachers[cid]
    }
    if not wanted:
        return 0
    have = set(
        session.execute(
            select(TeacherAssignment.user_id, TeacherAssignment.student_id).where(
                col(TeacherAssignment.student_id).in_({s for _, s in wanted})
            )
        ).all()
    )
    fresh = [{"user_id": u, "student_id": s, "created_at": now()} for u, s in sorted(wanted - have)]
    if fresh:
        session.execute(insert(TeacherAssignment), fresh)
    return len(fresh)


def _move_records(
    session: Session, actor: Actor, school: School, into: School, on: date, reason: str
) -> dict[str, int]:
    sid, tid = int(school.id or 0), int(into.id or 0)
    joined = _joined_classes(session, sid, tid)
    students = [
        (int(i), c, s)
        for i, c, s in session.execute(
            select(Student.id, Student.class_id, Student.status)
            .where(Student.school_id == sid)
            .order_by(Student.id)
        )
    ]
    assigned = _assign_moved_students(session, joined, students)
    for mine, theirs in joined.items():
        session.execute(
            update(Student).where(Student.school_id == sid, Student.class_id == mine).values(class_id=theirs)
        )
    session.execute(update(Student).where(Student.school_id == sid).values(school_id=tid, updated_at=now()))
    classes = session.scalars(
        select(SchoolClass.id).where(SchoolClass.school_id == sid).order_by(SchoolClass.id)
    ).all()
    moved_classes = [c for c in classes if c not in joined]
    session.execute(update(SchoolClass).where(col(SchoolClass.id).in_(moved_classes)).values(school_id=tid))
    cases = session.scalars(_open_cases(sid).order_by(Case.id)).all()
    session.execute(update(Child).where(Child.school_id == sid).values(school_id=tid))
    for case_id in cases:
        add_event(session, case_id, actor, "school_merge", f"{school.name}撤并:个案转由{into.name}跟进")
    plans = session.scalars(_open_plans(sid, on)).all()
    session.execute(update(HomePlan).where(col(HomePlan.id).in_(plans)).values(school_id=tid))
    where = {"from_school_id": sid, "to_school_id": tid}
    rows = [
        {"student_id": s, "from_class_id": c, "to_class_id": joined.get(c, c) if c else None} | where
        for s, c, _ in students
    ]
    rows += [{"class_id": c, "to_class_id": joined.get(c, c)} | where for c in classes]
    rows += [{"case_id": c} | where for c in cases]
    write_moves(session, actor=actor, kind=MoveKind.SCHOOL_MERGE, moved_on=on, reason=reason, rows=rows)
    return {
        "students": len(students),
        "classes_moved": len(moved_classes),
        "classes_joined": len(joined),
        "open_cases": len(cases),
        "home_plans": len(plans),
        "assignments_made": assigned,
    }


@unit_of_work
def change_school(
    session: Session, *, actor: Actor, school_id: int, into_id: int | None, on: date, reason: str
) -> Plan:
    """Close a school: into a receiving school (its records move, each move recorded) or, when it never held a
    record, on its own. Refused (and audited) while status changes or account requests concerning it wait."""
    action = "division_merge" if into_id else "division_close"
    with refusals_audited(session, actor=actor, action=action, entity_type="school", entity_id=school_id):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        school, into = _school_pair(session, actor, school_id, into_id)
        on, reason = checked_change(on, reason)
        plan = _school_plan(session, school, into, on)
        plan.refuse_if_blocked()
        moved = _move_records(session, actor, school, into, on, reason) if into is not None else {}
        school.closed_on, school.merged_into_id = on, into.id if into else None
        record(
            session,
            actor=actor,
            action=action,
            entity_type="school",
            entity_id=school.id,
            before={"closed_on": None, "merged_into_id": None},
            after={
                "closed_on": on,
                "merged_into_id": school.merged_into_id,
                "moved": moved,
                "accounts_left": [a.username for a in plan.accounts],
            },
            detail=f"{plan.summary};原因:{reason}",
        )
    session.commit()
    return plan
