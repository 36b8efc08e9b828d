"""三比对: a village's sweep against the registry and reality. Each child found is matched to a registry record
by ID number, else (weaker) by name + birth date + the village the record lives in; rules.sweeps.reconcile
says which lists they belong on; the lists are stored per village (replaced on every run), and a child found
out of school gets a suspected-dropout case (疑似辍学, source 入户排查)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import ColumnElement, and_, delete, false, insert, or_, select, true, tuple_
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import now
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    Case,
    Child,
    Household,
    School,
    StatusChange,
    Student,
    Sweep,
    SweepChild,
    SweepFinding,
    SweepVillage,
    Village,
)
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus
from xueji.rules.masking import mask_id_number
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.sweeps import Finding, FoundStatus, MatchKind, RegistryMatch, reconcile
from xueji.rules.vocab import Role, ScopeKind, StudentStatus
from xueji.services.cases.opening import (
    PersonFacts,
    audit_opened,
    child_for_person,
    open_child_case,
    open_for_students,
)
from xueji.services.common.access import (
    require,
    sees_fieldwork_identifiers,
    sweep_village_condition,
    sweep_village_in_scope,
)
from xueji.services.common.exports import export_table
from xueji.sql import chunked

_MATCH_COLUMNS = (Student.id, Student.status, Student.school_id)


def _matches(
    session: Session, village: SweepVillage, children: list[SweepChild]
) -> dict[int | None, tuple[MatchKind, int, str, int]]:
    """Sweep child id → (kind, student id, status, school id) for the children the registry holds."""
    by_number = {c.id_number: c.id for c in children if c.id_number}
    found: dict[int | None, tuple[MatchKind, int, str, int]] = {}
    for numbers in chunked(by_number):
        for number, sid, status, school in session.execute(
            select(Student.id_number, *_MATCH_COLUMNS).where(
                col(Student.id_number).in_(numbers), col(Student.merged_into_id).is_(None)
            )
        ):
            found[by_number[number]] = (MatchKind.ID, sid, status, school)
    no_number = {(c.name, c.birth_date): c.id for c in children if not c.id_number}
    candidates: dict[tuple[str, date], list[tuple[int, str, int]]] = {}
    for keys in chunked(no_number, per_value=2):  # (name, birth date)
        for name, born, sid, status, school in session.execute(
            select(Student.name, Student.birth_date, *_MATCH_COLUMNS).where(
                Student.home_village_id == village.village_id,
                tuple_(Student.name, Student.birth_date).in_(keys),
                col(Student.merged_into_id).is_(None),
            )
        ):
            candidates.setdefault((name, born), []).append((sid, status, school))
    for key, rows in candidates.items():
        if len(rows) == 1:  # two records of one name and birthday in a village: no guess
            found[no_number[key]] = (MatchKind.WEAK, *rows[0])
    return found


def _taught_at_home(session: Session, column: ColumnElement, values: list) -> set[object]:
    """Those of the values (of a Child column) whose child has an open 送教上门 case."""
    if not values:
        return set()
    open_case = (
        select(Case.id)
        .where(
            Case.child_id == Child.id,
            Case.category == CaseCategory.HOME_TEACHING.value,
            Case.status != CaseStatus.CLOSED.value,
        )
        .exists()
    )
    return {
        v
        for part in chunked(values)
        for v in session.scalars(select(column).where(col(column).in_(part), open_case))
    }


def _open_unregistered(
    session: Session, actor: Actor, sweep: Sweep, village: SweepVillage, found: SweepChild, reason: str
) -> int:
    household = session.get(Household, found.household_id)
    assert household is not None
    person = PersonFacts(
        name=found.name,
        township_id=sweep.township_id,
        birth_date=found.birth_date,
        sex=found.sex,
        id_number=found.id_number,
        village_id=village.village_id,
        address=" ".join(x for x in (household.group_name, household.address or "") if x) or None,
        guardian_name=household.head_name,
        guardian_phone=household.phone,
    )
    child = child_for_person(session, person, reference=sweep.reference_date)
    found.child_id = child.id
    _, opened = open_child_case(
        session, actor, child, CaseCategory.SUSPECTED_DROPOUT, CaseSource.SWEEP, reason
    )
    return int(opened)


def reconcile_village(session: Session, actor: Actor, village: SweepVillage) -> dict[str, int]:
    """Match the village's children, replace its lists, open the suspected-dropout cases; the caller holds the
    audit lock, audits the run and commits. Returns the count of each list and of cases opened."""
    sweep = session.get(Sweep, village.sweep_id)
    assert sweep is not None
    children = list(session.scalars(select(SweepChild).where(SweepChild.sweep_village_id == village.id)))
    matches = _matches(session, village, children)
    students = [m[1] for m in matches.values()]
    pending = {
        sid
        for part in chunked(students)
        for sid in session.scalars(
            select(StatusChange.student_id).where(
                col(StatusChange.student_id).in_(part),
                StatusChange.kind == ChangeKind.TRANSFER_OUT.value,
                StatusChange.state == ChangeState.SUBMITTED.value,
            )
        )
    }
    taught_students = _taught_at_home(session, Child.student_id, students)
    numbers = [c.id_number for c in children if c.id_number and c.id not in matches]
    taught_numbers = _taught_at_home(session, Child.id_number, numbers)
    session.execute(delete(SweepFinding).where(col(SweepFinding.sweep_village_id) == village.id))
    rows: list[dict[str, object]] = []
    dropouts_registered: list[tuple[SweepChild, int, str]] = []
    dropouts_unregistered: list[tuple[SweepChild, None, str]] = []
    for found in children:
        kind, sid, status, school = matches.get(found.id, (MatchKind.NONE, None, None, None))
        found.match_kind = kind.value
        found.student_id = sid
        match = RegistryMatch(
            kind=kind,
            status=StudentStatus(status) if status else None,
            school_id=school,
            transfer_pending=sid in pending,
            home_teaching=sid in taught_students if sid else found.id_number in taught_numbers,
        )
        for finding, reason in reconcile(
            FoundStatus(found.status), match, school_id=found.school_id, place=found.place or ""
        ):
            rows.append(
                {
                    "sweep_child_id": found.id,
                    "sweep_village_id": village.id,
                    "kind": finding.value,
                    "reason": reason[:300],
                    "school_id": school or found.school_id,
                }
            )
            if finding is Finding.SUSPECTED_DROPOUT:
                if sid is None:
                    dropouts_unregistered.append((found, None, reason))
                else:
                    dropouts_registered.append((found, sid, reason))
    if rows:
        session.execute(insert(SweepFinding), rows)
    opened = 0
    child_of: dict[int | None, int | None] = {}
    for part in chunked([sid for _, sid, _ in dropouts_registered]):
        ids = select(Student.id).where(col(Student.id).in_(part))
        opened += open_for_students(
            session, actor, CaseCategory.SUSPECTED_DROPOUT, ids, CaseSource.SWEEP, "入户排查发现不在校"
        )
        child_of.update(
            session.execute(select(Child.student_id, Child.id).where(col(Child.student_id).in_(ids))).all()
        )
    for found, sid, _ in dropouts_registered:
        found.child_id = child_of.get(sid)
    for found, _, reason in dropouts_unregistered:
        opened += _open_unregistered(session, actor, sweep, village, found, reason)
    audit_opened(session, actor, CaseSource.SWEEP, Counter({CaseCategory.SUSPECTED_DROPOUT: opened}))
    village.reconciled_at = now()
    session.flush()
    counts = Counter(Finding(r["kind"]) for r in rows)
    return {**{f.value: counts[f] for f in Finding}, "opened": opened}


@unit_of_work
def run_reconciliation(session: Session, *, actor: Actor, sweep_village_id: int) -> dict[str, int]:
    """Reconcile a village on demand (the township, at any time after the first households)."""
    write_lock(session, f"sweep_village:{sweep_village_id}")  # the village's findings and the cases it opens
    village = sweep_village_in_scope(session, actor, sweep_village_id, Action.SWEEP_REVIEW)
    counts = reconcile_village(session, actor, village)
    record(
        session,
        actor=actor,
        action="reconcile",
        entity_type="sweep_village",
        entity_id=village.id,
        after=counts,
        detail="运行三比对",
    )
    session.commit()
    return counts


# ---- the lists ------------------------------------------------------------------------------------------------


def finding_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on SweepFinding: a school's registrar (or coordinator) sees the lines about their school;
    everyone else the lines of the villages they may see."""
    if actor.scope_kind is ScopeKind.SCHOOL and actor.role is not Role.TEACHER:
        return SweepFinding.school_id == actor.scope_id
    return col(SweepFinding.sweep_village_id).in_(
        select(SweepVillage.id).where(sweep_village_condition(actor))
    )


VISIBLE_TAIL = 4  # the characters of an ID number a masked view shows at its end (rules.masking)


def search_condition(text: str, *, full_numbers: bool) -> ColumnElement[bool]:
    """A search box over the lists: digits (and a final X) are the tail of an ID number — at most the last 4
    for a viewer who sees masked numbers, so a search never tells more than the screen —; any other word
    matches the child's name, the village, or the household (group or head). Every word must match."""
    conditions = []
    for word in text.split():
        if word.isascii() and word.upper().rstrip("X").isdigit():
            too_long = not full_numbers and len(word) > VISIBLE_TAIL
            conditions.append(
                false() if too_long else col(SweepChild.id_number).endswith(word.upper(), autoescape=True)
            )
        else:
            conditions.append(
                or_(
                    col(SweepChild.name).contains(word, autoescape=True),
                    col(Village.name).contains(word, autoescape=True),
                    col(Household.head_name).contains(word, autoescape=True),
                    col(Household.group_name).contains(word, autoescape=True),
                )
            )
    return and_(*conditions) if conditions else true()


@dataclass(frozen=True)
class FindingRow:
    kind: Finding
    village: str
    household: str
    name: str
    sex: str | None
    birth_date: date
    id_number: str | None
    status: FoundStatus
    where: str
    match: MatchKind
    school: str | None
    reason: str


def findings(
    session: Session,
    *,
    actor: Actor,
    sweep_id: int,
    kind: Finding | None = None,
    sweep_village_id: int | None = None,
    limit: int = 2000,
    masked: bool = False,
    search: str = "",
) -> list[FindingRow]:
    """The lines of the sweep's lists the actor may see, by village; ID numbers masked when asked (exports)
    and except for the roles that act on them (the township, the registrar); narrowed by a search (name,
    village, household, ID number tail: search_condition)."""
    require(session, actor, Action.SWEEP_READ)
    full = not masked and sees_fieldwork_identifiers(actor)
    query = (
        select(SweepFinding, SweepChild, Household.group_name, Household.head_name, Village.name, School.name)
        .join(SweepChild, SweepFinding.sweep_child_id == SweepChild.id)
        .join(Household, SweepChild.household_id == Household.id)
        .join(SweepVillage, SweepFinding.sweep_village_id == SweepVillage.id)
        .join(Village, SweepVillage.village_id == Village.id)
        .outerjoin(School, SweepFinding.school_id == School.id)
        .where(SweepVillage.sweep_id == sweep_id, finding_condition(actor))
        .order_by(Village.code, Household.group_name, Household.head_name, SweepChild.id)
        .limit(limit)
    )
    if kind is not None:
        query = query.where(SweepFinding.kind == kind.value)
    if sweep_village_id is not None:
        query = query.where(SweepFinding.sweep_village_id == sweep_village_id)
    if search.strip():
        query = query.where(search_condition(search, full_numbers=sees_fieldwork_identifiers(actor)))
    return [
        FindingRow(
            Finding(f.kind),
            village,
            f"{group}{head}户",
            c.name,
            c.sex,
            c.birth_date,
            c.id_number if full or not c.id_number else mask_id_number(c.id_number),
            FoundStatus(c.status),
            c.place or (f"{c.disability_type}残疾" if c.disability_type else ""),
            MatchKind(c.match_kind or MatchKind.NONE.value),
            school,
            f.reason,
        )
        for f, c, group, head, village, school in session.execute(query)
    ]


FINDING_COLUMNS = [
    "名单",
    "村",
    "户",
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "排查状况",
    "就读地/去向",
    "学籍匹配",
    "学籍学校",
    "原因",
]


def findings_frame(rows: list[FindingRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                r.kind.label,
                r.village,
                r.household,
                r.name,
                r.sex or "",
                r.birth_date,
                r.id_number or "",
                r.status.label,
                r.where,
                r.match.label,
                r.school or "",
                r.reason,
            )
            for r in rows
        ],
        columns=FINDING_COLUMNS,
    )


def export_findings(
    session: Session, *, actor: Actor, sweep_id: int, kind: Finding | None = None, search: str = ""
) -> bytes:
    """One list (or all) as xlsx, as the screen shows it (narrowed by the same search), ID numbers always
    masked; audited with the search."""
    frame = findings_frame(
        findings(
            session, actor=actor, sweep_id=sweep_id, kind=kind, limit=100_000, masked=True, search=search
        )
    )
    title = kind.label if kind else "比对结果"
    words = " ".join(search.split())
    return export_table(
        session,
        actor=actor,
        action=Action.SWEEP_READ,
        frame=frame,
        sheet=title[:31],
        entity_type="sweep",
        detail=f"排查 {sweep_id}" + (f";搜索“{words}”" if words else ""),
    )
