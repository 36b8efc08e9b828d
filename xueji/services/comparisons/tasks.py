"""适龄儿童核实: the verification tasks a comparison opens (a child of age with their household here and no registry
record, for the township: kind verify; a disabled child of age neither in school nor taught at home, for the
送教上门 coordinator: kind assessment) and closes when the child no longer needs one; the township's and the
coordinator's lists; recording what was found — 失学/辍学 opens a suspected-dropout case through the case path,
送教上门 with no 送教上门 case leaves an assessment task."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

import pandas as pd
from sqlalchemy import and_, case, false, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
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
    DeptList,
    DeptPerson,
    MatchDecision,
    SchoolAgeChild,
    Student,
    Township,
    VerificationTask,
    Village,
)
from xueji.rules import verification as rules
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus
from xueji.rules.comparisons import Outcome, TaskKind, TaskStatus, VerifyOutcome, standing_of
from xueji.rules.dept_lists import ListKind
from xueji.rules.home_teaching import Conclusion
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases.opening import PersonFacts, audit_case, child_for_person, open_child_case
from xueji.services.common import lock_keys
from xueji.services.common.access import deny, require, sees_fieldwork_identifiers, township_condition
from xueji.services.common.exports import export_table
from xueji.services.common.refusals import audit_refusal
from xueji.services.comparisons.in_effect import school_age_reference
from xueji.sql import chunked

ENTITY = "verification_task"
SOURCE = {TaskKind.VERIFY: ListKind.RESIDENTS, TaskKind.ASSESSMENT: ListKind.DISABLED}
READ = {TaskKind.VERIFY: Action.COMPARE_READ, TaskKind.ASSESSMENT: Action.HOME_TEACHING_MANAGE}
SCHOOL_REFUSED = "送教上门评估任务按乡镇下达,由县级和乡镇的送教上门协调员处理:学校账号不能查看或登记"
WRITE = {TaskKind.VERIFY: Action.VERIFY_RECORD, TaskKind.ASSESSMENT: Action.HOME_TEACHING_MANAGE}


class VerificationError(ValueError):
    """The outcome cannot be recorded as given; the message says why, in Chinese."""


# ---- what the comparison opens and closes -----------------------------------------------------------------------


def _latest_rows(session: Session, county_id: int, kind: ListKind, keys: list[str]) -> dict[str, DeptPerson]:
    """person_key → the person's row on the latest version of the county's list of this kind."""
    list_id = session.scalar(
        select(DeptList.id)
        .where(DeptList.county_id == county_id, DeptList.kind == kind.value)
        .order_by(col(DeptList.version).desc())
        .limit(1)
    )
    if list_id is None or not keys:
        return {}
    return {
        p.person_key: p
        for part in chunked(keys)
        for p in session.scalars(
            select(DeptPerson).where(DeptPerson.list_id == list_id, col(DeptPerson.person_key).in_(part))
        )
    }


def _taught_at_home(session: Session, county_id: int) -> tuple[set[str], set[int], set[int]]:
    """The county's children with an open 送教上门 case: their ID numbers, registry ids and child ids."""
    rows = session.execute(
        select(func.coalesce(Student.id_number, Child.id_number), Child.student_id, Child.id)
        .join(Case, Case.child_id == Child.id)
        .join(Township, Child.township_id == Township.id)
        .outerjoin(Student, Child.student_id == Student.id)
        .where(
            Township.county_id == county_id,
            Case.category == CaseCategory.HOME_TEACHING.value,
            Case.status != CaseStatus.CLOSED.value,
        )
    ).all()
    return {r[0] for r in rows if r[0]}, {r[1] for r in rows if r[1]}, {r[2] for r in rows}


def _new_task(
    kind: TaskKind, county_id: int, row: SchoolAgeChild, person: DeptPerson | None
) -> VerificationTask:
    opened = today()
    return VerificationTask(
        county_id=county_id,
        kind=kind.value,
        person_key=row.person_key,
        person_id=person.id if person else None,
        source=SOURCE[kind].value,
        name=row.name,
        sex=row.sex,
        birth_date=row.birth_date,
        id_number=row.id_number,
        township_id=row.township_id,
        village_id=row.village_id,
        address=person.address if person else None,
        guardian_name=person.guardian_name if person else None,
        guardian_phone=person.guardian_phone if person else None,
        opened_on=opened,
        due_on=rules.due_on(opened, get_settings().verify_days),
    )


def sync_tasks(session: Session, *, actor: Actor, county_id: int) -> dict[str, int]:
    """Open a task for each ledger child that needs one and has no open or done task of that kind, close the
    open ones whose child no longer needs one (with the reason), keep the open ones' place and list row current;
    audited when anything changed; the caller holds the audit lock and commits (the recorded outcomes are put
    back on the rebuilt ledger by compare._set_standing, before the open cases). Returns the counts."""
    ledger: dict[str, SchoolAgeChild] = {}
    tasked = select(VerificationTask.person_key).where(
        VerificationTask.county_id == county_id,
        col(VerificationTask.status).in_([TaskStatus.OPEN.value, TaskStatus.DONE.value]),
    )
    relevant = or_(  # only these rows can open, close or take back a task: not the whole county's ledger
        SchoolAgeChild.outcome == Outcome.NOT_ENROLLED.value,
        col(SchoolAgeChild.groups).contains(rules.DISABLED_GROUP),
        col(SchoolAgeChild.person_key).in_(tasked),
    )
    for listed in session.scalars(
        select(SchoolAgeChild).where(SchoolAgeChild.county_id == county_id, relevant)
    ):
        if listed.person_key not in ledger or rules.needs_verifying(listed.outcome):
            ledger[listed.person_key] = listed
    tasks = list(
        session.scalars(
            select(VerificationTask)
            .where(
                VerificationTask.county_id == county_id,
                col(VerificationTask.status).in_([TaskStatus.OPEN.value, TaskStatus.DONE.value]),
            )
            .order_by(VerificationTask.id)
        )
    )
    keys = list(ledger)
    confirmed = {
        k
        for part in chunked(keys)
        for k in session.scalars(
            select(MatchDecision.person_key).where(
                MatchDecision.county_id == county_id,
                col(MatchDecision.confirmed).is_(True),
                col(MatchDecision.person_key).in_(part),
            )
        )
    }
    numbers, students, children = _taught_at_home(session, county_id)
    _, window = school_age_reference()
    latest = {kind: _latest_rows(session, county_id, SOURCE[kind], keys) for kind in TaskKind}
    counts: Counter[str] = Counter()
    has: set[tuple[str, str]] = set()
    for task in tasks:
        has.add((task.kind, task.person_key))
        if task.status != TaskStatus.OPEN.value:
            continue
        row = ledger.get(task.person_key)
        if task.kind == TaskKind.VERIFY.value:
            reason = rules.verify_close_reason(
                on_register=row is not None and ListKind.RESIDENTS.value in row.sources.split(","),
                of_age=task.birth_date is None or window[0] <= task.birth_date <= window[1],
                outcome=row.outcome if row else None,
                confirmed_match=task.person_key in confirmed,
            )
        else:
            taught = (task.id_number in numbers) or (task.child_id in children)
            taught |= row is not None and (row.id_number in numbers or row.student_id in students)
            reason = rules.assessment_close_reason(
                on_ledger=row is not None, standing=row.standing if row else None, home_teaching_case=taught
            )
        if reason:
            task.status, task.closed_reason = TaskStatus.CLOSED.value, reason
            counts["closed"] += 1
            continue
        person = latest[TaskKind(task.kind)].get(task.person_key)
        place = (row.township_id, row.village_id) if row and row.township_id else None
        fresh = (person.id if person else task.person_id, *(place or (task.township_id, task.village_id)))
        if fresh != (task.person_id, task.township_id, task.village_id):
            task.person_id, task.township_id, task.village_id = fresh
            counts["updated"] += 1
    for entry in ledger.values():
        if entry.township_id is None:
            continue  # no township to verify it (a list row without a village of the county)
        taught = entry.id_number in numbers or entry.student_id in students
        for kind, needed in (
            (TaskKind.VERIFY, rules.needs_verifying(entry.outcome)),
            (
                TaskKind.ASSESSMENT,
                rules.needs_assessment(entry.groups, entry.standing, home_teaching_case=taught),
            ),
        ):
            if needed and (kind.value, entry.person_key) not in has:
                session.add(_new_task(kind, county_id, entry, latest[kind].get(entry.person_key)))
                has.add((kind.value, entry.person_key))
                counts[f"opened_{kind.value}"] += 1
    session.flush()
    result = {k: counts[k] for k in ("opened_verify", "opened_assessment", "closed", "updated")}
    if any(result.values()):
        record(
            session,
            actor=actor,
            action="sync",
            entity_type=ENTITY,
            after=result,
            detail=f"核实任务:新开核实 {result['opened_verify']}、新开评估 {result['opened_assessment']},"
            f"关闭 {result['closed']}",
        )
    return result


# ---- the lists --------------------------------------------------------------------------------------------------


def task_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on VerificationTask: the tasks of the townships in (or holding) the actor's scope."""
    if actor.role is Role.SYSTEM:
        return true()
    return col(VerificationTask.township_id).in_(select(Township.id).where(township_condition(actor)))


def reads_tasks(actor: Actor, kind: TaskKind) -> bool:
    """Whether the actor may read this kind's tasks: verification, the county and the townships (COMPARE_READ);
    assessment, the county's and the townships' 送教上门 coordinators (a task belongs to a township, not to a
    school, so a school's account is not given its township's tasks)."""
    return actor.can(READ[kind]) and not (
        kind is TaskKind.ASSESSMENT and actor.scope_kind is ScopeKind.SCHOOL
    )


def require_reading(session: Session, actor: Actor, kind: TaskKind, action: Action | None = None) -> None:
    """Refuse (audited) an actor who may not read (or, given the action, write) this kind's tasks."""
    action = action or READ[kind]
    require(session, actor, action)
    if not reads_tasks(actor, kind):
        deny(session, actor, action.value, SCHOOL_REFUSED, entity_type=ENTITY)


@dataclass(frozen=True)
class TaskFilter:
    kind: TaskKind = TaskKind.VERIFY
    status: TaskStatus | None = TaskStatus.OPEN  # None: all
    township_id: int | None = None
    village_id: int | None = None
    search: str = ""  # a name or village, or the tail of an ID number
    overdue_only: bool = False


@dataclass(frozen=True)
class TaskRow:
    id: int
    kind: TaskKind
    township: str
    village: str
    name: str
    sex: str | None
    birth_date: date | None
    id_number: str | None
    address: str | None
    guardian: str | None
    guardian_phone: str | None
    opened_on: date
    due_on: date
    status: TaskStatus
    outcome: str  # the label
    outcome_detail: str
    closed_reason: str
    overdue_days: int
    case_id: int | None


@dataclass(frozen=True)
class TaskPage:
    total: int
    rows: list[TaskRow]


VISIBLE_TAIL = 4


def _conditions(actor: Actor, given: TaskFilter) -> list[ColumnElement[bool]]:
    found = [task_condition(actor), VerificationTask.kind == given.kind.value]
    if given.status is not None:
        found.append(VerificationTask.status == given.status.value)
    if given.township_id is not None:
        found.append(VerificationTask.township_id == given.township_id)
    if given.village_id is not None:
        found.append(VerificationTask.village_id == given.village_id)
    if given.overdue_only:
        found += [VerificationTask.status == TaskStatus.OPEN.value, VerificationTask.due_on < today()]
    for word in given.search.split():
        if word.isascii() and word.upper().rstrip("X").isdigit():
            too_long = not sees_fieldwork_identifiers(actor) and len(word) > VISIBLE_TAIL
            tail = col(VerificationTask.id_number).endswith(word.upper(), autoescape=True)
            found.append(false() if too_long else tail)
        else:
            found.append(
                or_(
                    col(VerificationTask.name).contains(word, autoescape=True),
                    col(Village.name).contains(word, autoescape=True),
                )
            )
    return found


def _from(query):  # noqa: ANN001, ANN202 - a Select
    return (
        query.select_from(VerificationTask)
        .join(Township, VerificationTask.township_id == Township.id)
        .outerjoin(Village, VerificationTask.village_id == Village.id)
    )


def task_list(
    session: Session,
    *,
    actor: Actor,
    given: TaskFilter | None = None,
    limit: int | None = 50,
    offset: int = 0,
    masked: bool = False,
) -> TaskPage:
    """One page of the tasks in scope: open first, the most overdue first, then by village and name (paged in
    SQL); ID and phone numbers masked unless the role sees them (and always when masked is asked)."""
    given = given or TaskFilter()
    require_reading(session, actor, given.kind)
    where = _conditions(actor, given)
    total = session.scalar(_from(select(func.count())).where(*where)) or 0
    is_open = case((VerificationTask.status == TaskStatus.OPEN.value, 0), else_=1)
    query = (
        _from(select(VerificationTask, Township.name, Village.name))
        .where(*where)
        .order_by(
            is_open,
            VerificationTask.due_on,
            Township.code,
            Village.code,
            VerificationTask.name,
            VerificationTask.id,
        )
        .limit(limit)
        .offset(offset)
    )
    full = sees_fieldwork_identifiers(actor) and not masked
    day = today()
    return TaskPage(
        total, [_row(t, township, village, full, day) for t, township, village in session.execute(query)]
    )


def _outcome_label(task: VerificationTask) -> str:
    if not task.outcome:
        return ""
    if task.kind == TaskKind.ASSESSMENT.value:
        return f"已评估:{Conclusion(task.outcome).label}"
    return VerifyOutcome(task.outcome).label


def _row(task: VerificationTask, township: str, village: str | None, full: bool, day: date) -> TaskRow:
    assert task.id is not None
    return TaskRow(
        id=task.id,
        kind=TaskKind(task.kind),
        township=township,
        village=village or "",
        name=task.name,
        sex=task.sex,
        birth_date=task.birth_date,
        id_number=task.id_number if full else mask_id_number(task.id_number),
        address=task.address,
        guardian=task.guardian_name,
        guardian_phone=task.guardian_phone if full else mask_phone(task.guardian_phone),
        opened_on=task.opened_on,
        due_on=task.due_on,
        status=TaskStatus(task.status),
        outcome=_outcome_label(task),
        outcome_detail=task.outcome_detail or "",
        closed_reason=task.closed_reason or "",
        overdue_days=rules.days_overdue(task.status, task.due_on, day),
        case_id=task.case_id,
    )


COLUMNS = {
    "village": "村",
    "name": "姓名",
    "overdue": "逾期天数",
    "due_on": "核实期限",
    "sex": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "address": "户籍地址",
    "guardian": "监护人",
    "guardian_phone": "监护人电话",
    "status": "状态",
    "outcome": "核实结果",
    "outcome_detail": "核实情况",
    "closed_reason": "关闭原因",
    "township": "乡镇",
    "opened_on": "下达日期",
}


def tasks_frame(rows: list[TaskRow]) -> pd.DataFrame:
    """The tasks as a table with Chinese headers (the page and the export)."""
    return pd.DataFrame(
        [
            {
                "village": r.village,
                "name": r.name,
                "overdue": r.overdue_days or None,
                "due_on": r.due_on,
                "sex": r.sex,
                "birth_date": r.birth_date,
                "id_number": r.id_number,
                "address": r.address,
                "guardian": r.guardian,
                "guardian_phone": r.guardian_phone,
                "status": r.status.label,
                "outcome": r.outcome,
                "outcome_detail": r.outcome_detail,
                "closed_reason": r.closed_reason,
                "township": r.township,
                "opened_on": r.opened_on,
            }
            for r in rows
        ],
        columns=list(COLUMNS),
    ).rename(columns=COLUMNS)


def export_tasks(session: Session, *, actor: Actor, given: TaskFilter) -> bytes:
    """The tasks of the filter (every page) as xlsx, ID and phone numbers masked; audited."""
    rows = task_list(session, actor=actor, given=given, limit=None, masked=True).rows
    status = given.status.label if given.status else "全部"
    return export_table(
        session,
        actor=actor,
        action=READ[given.kind],
        frame=tasks_frame(rows),
        sheet=given.kind.label,
        detail=f"{status}" + (f";搜索“{' '.join(given.search.split())}”" if given.search.strip() else ""),
        entity_type=ENTITY,
    )


COUNT_COLUMNS = ["乡镇", "村", "待核实", "其中逾期", "已核实", "已关闭"]


def task_counts(session: Session, *, actor: Actor, kind: TaskKind = TaskKind.VERIFY) -> pd.DataFrame:
    """Per township and village in scope (GROUP BY): open, of which overdue, done, closed."""
    require_reading(session, actor, kind)
    open_ = VerificationTask.status == TaskStatus.OPEN.value
    rows = session.execute(
        _from(
            select(
                Township.name,
                func.coalesce(Village.name, "(村未知)"),
                func.sum(case((open_, 1), else_=0)),
                func.sum(case((and_(open_, VerificationTask.due_on < today()), 1), else_=0)),
                func.sum(case((VerificationTask.status == TaskStatus.DONE.value, 1), else_=0)),
                func.sum(case((VerificationTask.status == TaskStatus.CLOSED.value, 1), else_=0)),
            )
        )
        .where(task_condition(actor), VerificationTask.kind == kind.value)
        .group_by(Township.code, Township.name, Village.code, Village.name)
        .order_by(Township.code, Village.code)
    ).all()
    return pd.DataFrame(
        [tuple(r[:2]) + tuple(int(x or 0) for x in r[2:]) for r in rows], columns=COUNT_COLUMNS
    )


@dataclass(frozen=True)
class Backlog:
    open: int
    overdue: int
    oldest_due: date | None  # the earliest due day among the open tasks


def backlog(session: Session, *, actor: Actor, kind: TaskKind = TaskKind.VERIFY) -> Backlog:
    """The open tasks in scope, how many overdue, and the earliest due day (我的待办)."""
    require_reading(session, actor, kind)
    late = case((VerificationTask.due_on < today(), 1), else_=0)
    n, overdue, oldest = session.execute(
        select(func.count(), func.sum(late), func.min(VerificationTask.due_on)).where(
            task_condition(actor),
            VerificationTask.kind == kind.value,
            VerificationTask.status == TaskStatus.OPEN.value,
        )
    ).one()
    if isinstance(oldest, str):  # SQLite's MIN hands back text
        oldest = date.fromisoformat(oldest[:10])
    return Backlog(int(n or 0), int(overdue or 0), oldest)


def overdue_by_township(session: Session, *, actor: Actor) -> Counter[str]:
    """Open verification tasks past their due day, per township (the county's 我的待办 table)."""
    require(session, actor, Action.COMPARE_READ)
    rows = session.execute(
        select(Township.name, func.count())
        .select_from(VerificationTask)
        .join(Township, VerificationTask.township_id == Township.id)
        .where(
            task_condition(actor),
            VerificationTask.kind == TaskKind.VERIFY.value,
            VerificationTask.status == TaskStatus.OPEN.value,
            VerificationTask.due_on < today(),
        )
        .group_by(Township.name)
    )
    return Counter({name: int(n) for name, n in rows})


# ---- recording what was found -----------------------------------------------------------------------------------


def _lock_county(session: Session, task_id: int) -> None:
    """The write lock of the task's county comparison (a comparison run rewrites the county's tasks)."""
    lock_keys.sqlite_first(session)
    county = session.scalar(select(VerificationTask.county_id).where(VerificationTask.id == task_id))
    write_lock(session, f"county:{county}:compare")


def _task_in_scope(session: Session, actor: Actor, task_id: int, kind: TaskKind) -> VerificationTask:
    action = WRITE[kind]
    require_reading(session, actor, kind, action)
    task = session.scalar(
        select(VerificationTask).where(
            VerificationTask.id == task_id, VerificationTask.kind == kind.value, task_condition(actor)
        )
    )
    if task is None:
        deny(
            session,
            actor,
            action.value,
            "该核实任务不在您的管辖范围内",
            entity_type=ENTITY,
            entity_id=task_id,
        )
    return task


def _refuse(session: Session, actor: Actor, task_id: int, message: str) -> NoReturn:
    audit_refusal(session, actor, action="verify", entity_type=ENTITY, entity_id=task_id, message=message)
    raise VerificationError(message)


def _check_open(session: Session, actor: Actor, task: VerificationTask) -> None:
    assert task.id is not None
    if task.status == TaskStatus.DONE.value:
        _refuse(session, actor, task.id, f"{task.name} 的核实结果已登记({_outcome_label(task)}),不能重复登记")
    if task.status == TaskStatus.CLOSED.value:
        _refuse(session, actor, task.id, f"{task.name} 的核实任务已关闭({task.closed_reason}),无需登记")


def _person(task: VerificationTask) -> PersonFacts:
    return PersonFacts(
        name=task.name,
        township_id=task.township_id,
        birth_date=task.birth_date,
        sex=task.sex,
        id_number=task.id_number,
        village_id=task.village_id,
        address=task.address,
        guardian_name=task.guardian_name,
        guardian_phone=task.guardian_phone,
    )


def _open_case_categories(session: Session, row: SchoolAgeChild) -> set[str]:
    """The categories of the open cases of a ledger row's child (by registry record or ID number)."""
    same_child = [Child.student_id == row.student_id] if row.student_id else []
    same_child += [Child.id_number == row.id_number] if row.id_number else []
    if not same_child:
        return set()
    return set(
        session.scalars(
            select(Case.category)
            .join(Child, Case.child_id == Child.id)
            .where(or_(*same_child), Case.status != CaseStatus.CLOSED.value)
        )
    )


def _has_home_teaching_case(session: Session, child_id: int | None) -> bool:
    return (
        child_id is not None
        and session.scalar(
            select(Case.id).where(
                Case.child_id == child_id,
                Case.category == CaseCategory.HOME_TEACHING.value,
                Case.status != CaseStatus.CLOSED.value,
            )
        )
        is not None
    )


def _snapshot(task: VerificationTask) -> dict:
    return {
        "status": task.status,
        "outcome": task.outcome,
        "outcome_detail": task.outcome_detail,
        "child_id": task.child_id,
        "case_id": task.case_id,
    }


@unit_of_work
def record_outcome(
    session: Session, *, actor: Actor, task_id: int, finding: rules.Finding
) -> VerificationTask:
    """Record what the township found for a child to verify (VERIFY_RECORD, their township's tasks): the task
    is done (暂未找到 keeps it open with the attempt), the ledger row stands where the child was found, 失学/辍学
    opens a suspected-dropout case (source 户籍比对核实; never a second open one) and 送教上门 with no 送教上门 case
    leaves an assessment task for the coordinator. Audited with before and after; a refusal is audited too."""
    _lock_county(session, task_id)
    task = _task_in_scope(session, actor, task_id, TaskKind.VERIFY)
    _check_open(session, actor, task)
    problems = rules.finding_problems(finding, today=today(), opened_on=task.opened_on)
    if problems:
        _refuse(session, actor, task_id, ";".join(f"{field}:{reason}" for field, reason in problems))
    before = _snapshot(task)
    detail = rules.finding_detail(finding)
    outcome = finding.outcome
    task.outcome = outcome.value
    task.recorded_by, task.recorded_at = actor.user_id, now()
    if outcome is VerifyOutcome.NOT_FOUND:
        task.outcome_detail = rules.with_attempt(task.outcome_detail if before["outcome"] else None, detail)
    else:
        task.status, task.outcome_detail = TaskStatus.DONE.value, detail
    for row in session.scalars(
        select(SchoolAgeChild).where(
            SchoolAgeChild.county_id == task.county_id, SchoolAgeChild.person_key == task.person_key
        )
    ):  # an open 疑似辍学/辍学/送教上门 case of the child outranks the finding, as in the comparison
        cases = _open_case_categories(session, row)
        row.standing = standing_of(status=None, open_cases=cases, task_outcome=outcome.value).value
    note = ""
    if outcome is VerifyOutcome.OUT_OF_SCHOOL:
        child = child_for_person(session, _person(task), reference=school_age_reference()[0])
        reason = f"户籍比对核实:适龄未入学,{finding.value('situation')}"
        case_row, opened = open_child_case(
            session, actor, child, CaseCategory.SUSPECTED_DROPOUT, CaseSource.RESIDENTS, reason
        )
        task.child_id, task.case_id = child.id, case_row.id
        if opened and case_row.government_user_id is None and actor.role is Role.TOWNSHIP_OFFICIAL:
            case_row.government_user_id = actor.user_id  # who found the child answers on the government line
        if opened:
            after = {"child_id": child.id, "category": CaseCategory.SUSPECTED_DROPOUT.value}
            audit_case(
                session, actor, case_row, "create", {}, after, f"{task.name}:{CaseSource.RESIDENTS.label}建档"
            )
        note = ";已建立疑似辍学个案" if opened else ";已有在办的疑似辍学个案"
    elif outcome is VerifyOutcome.HOME_TEACHING:
        child = child_for_person(session, _person(task), reference=school_age_reference()[0])
        task.child_id = child.id
        if not _has_home_teaching_case(session, child.id) and _leave_assessment(session, task, child.id):
            note = ";已交送教上门协调员评估"
    session.flush()
    record(
        session,
        actor=actor,
        action="verify",
        entity_type=ENTITY,
        entity_id=task.id,
        before=before,
        after=_snapshot(task),
        detail=f"{task.name}:{outcome.label}({detail}){note}",
    )
    session.commit()
    session.refresh(task)
    return task


def _leave_assessment(session: Session, task: VerificationTask, child_id: int | None) -> bool:
    """An assessment task for the coordinator from a 送教上门 finding, unless one is open or done already."""
    exists_already = session.scalar(
        select(VerificationTask.id).where(
            VerificationTask.county_id == task.county_id,
            VerificationTask.kind == TaskKind.ASSESSMENT.value,
            VerificationTask.person_key == task.person_key,
            col(VerificationTask.status).in_([TaskStatus.OPEN.value, TaskStatus.DONE.value]),
        )
    )
    if exists_already:
        return False
    opened = today()
    fields = {k: getattr(task, k) for k in ("county_id", "person_key", "person_id", "source", "name", "sex")}
    more = (
        "birth_date",
        "id_number",
        "township_id",
        "village_id",
        "address",
        "guardian_name",
        "guardian_phone",
    )
    fields |= {k: getattr(task, k) for k in more}
    session.add(
        VerificationTask(
            **fields,
            kind=TaskKind.ASSESSMENT.value,
            opened_on=opened,
            due_on=rules.due_on(opened, get_settings().verify_days),
            child_id=child_id,
        )
    )
    return True


@unit_of_work
def record_assessment(
    session: Session,
    *,
    actor: Actor,
    task_id: int,
    conclusion: Conclusion | None,
    detail: str,
    assessed_on: date | None,
) -> VerificationTask:
    """Record an assessment task's outcome (HOME_TEACHING_MANAGE, in scope): the conclusion (随班就读, 特殊教育学校,
    送教上门, 暂缓) and who assessed; 送教上门 opens the child's 送教上门 case (never a second) so that the plan is
    written in 送教档案. Audited with before and after; a refusal is audited too."""
    _lock_county(session, task_id)
    task = _task_in_scope(session, actor, task_id, TaskKind.ASSESSMENT)
    _check_open(session, actor, task)
    problems = rules.assessment_problems(conclusion, detail, assessed_on, today=today())
    if problems or conclusion is None or assessed_on is None:
        _refuse(session, actor, task_id, ";".join(f"{field}:{reason}" for field, reason in problems))
    before = _snapshot(task)
    words = " ".join(detail.split())
    task.status, task.outcome = TaskStatus.DONE.value, conclusion.value
    task.outcome_detail = f"{words};{assessed_on:%Y-%m-%d}评估"[:300]
    task.recorded_by, task.recorded_at = actor.user_id, now()
    child = child_for_person(session, _person(task), reference=school_age_reference()[0])
    task.child_id = child.id
    if conclusion is Conclusion.HOME_TEACHING:
        reason = f"送教上门评估:{words}"
        source = CaseSource.RESIDENTS if task.source == ListKind.RESIDENTS.value else CaseSource.DISABLED_LIST
        case_row, opened = open_child_case(session, actor, child, CaseCategory.HOME_TEACHING, source, reason)
        task.case_id = case_row.id
        if opened:
            after = {"child_id": child.id, "category": CaseCategory.HOME_TEACHING.value}
            audit_case(session, actor, case_row, "create", {}, after, f"{task.name}:送教上门评估建档")
        for row in session.scalars(
            select(SchoolAgeChild).where(
                SchoolAgeChild.county_id == task.county_id, SchoolAgeChild.person_key == task.person_key
            )
        ):
            row.standing = VerifyOutcome.HOME_TEACHING.standing.value
    session.flush()
    record(
        session,
        actor=actor,
        action="assess",
        entity_type=ENTITY,
        entity_id=task.id,
        before=before,
        after=_snapshot(task),
        detail=f"{task.name}:已评估,{conclusion.label}({words})",
    )
    session.commit()
    session.refresh(task)
    return task
