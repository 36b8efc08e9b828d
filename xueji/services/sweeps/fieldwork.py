"""拉网式排查: a township's sweep per term split into villages (plan, team, contact), households and their
school-age children recorded by the teams, submission and the township's review. Every write is audited.
(Reconciliation with the registry: services.sweeps.reconciliation; the paper sheet: services.sweeps.sheet_import.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select, tuple_
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    AppUser,
    Household,
    School,
    SchoolYear,
    Sweep,
    SweepChild,
    SweepTeamMember,
    SweepVillage,
    Term,
    Township,
    Village,
)
from xueji.rules.masking import mask_id_number, mask_identifiers, mask_phone
from xueji.rules.registry_record import phone_problem
from xueji.rules.sweeps import (
    ChildFacts,
    FoundStatus,
    HouseholdFacts,
    VillageStatus,
    entry_problems,
    filled_child,
    move_problem,
    reference_date,
)
from xueji.rules.terms import TermDates
from xueji.rules.text_limits import length_problem
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.access import (
    deny,
    require,
    sweep_village_condition,
    sweep_village_in_scope,
)
from xueji.services.common.calendar import term_id
from xueji.services.common.refusals import audit_refusal


class SweepError(ValueError):
    """The sweep cannot be changed as asked; the message (and problems, if any) say why, in Chinese."""

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


# ---- planning ---------------------------------------------------------------------------------------------


@unit_of_work
def plan_sweep(session: Session, *, actor: Actor, term: TermDates, due_date: date | None = None) -> Sweep:
    """Plan the township's sweep for a term: one village sweep per village of the township, all planned."""
    require(session, actor, Action.SWEEP_PLAN)
    if actor.scope_kind is not ScopeKind.TOWNSHIP or actor.scope_id is None:
        deny(session, actor, Action.SWEEP_PLAN.value, "只有乡镇账号可以制定本乡镇的排查计划")
    township_id = actor.scope_id
    write_lock(session, f"sweep:{township_id}:{term.school_year_start}-{term.seq}")  # one sweep a term
    tid = term_id(session, term)
    if session.scalar(select(Sweep.id).where(Sweep.term_id == tid, Sweep.township_id == township_id)):
        raise SweepError(f"{term.name}的排查计划已经制定过了")
    settings = get_settings()
    due = due_date or term.start + timedelta(days=settings.sweep_days)
    if not term.start <= due <= term.end:
        raise SweepError(f"完成期限应在本学期内({term.start:%Y-%m-%d} 至 {term.end:%Y-%m-%d})")
    sweep = Sweep(
        term_id=tid,
        township_id=township_id,
        reference_date=reference_date(term.school_year_start, settings.sweep_age_date),
        due_date=due,
        planned_by=actor.user_id,
    )
    session.add(sweep)
    session.flush()
    villages = session.scalars(
        select(Village.id).where(Village.township_id == township_id, col(Village.closed_on).is_(None))
    ).all()
    if not villages:
        session.rollback()
        raise SweepError("本乡镇还没有村/社区数据,无法制定排查计划")
    session.add_all(SweepVillage(sweep_id=sweep.id, village_id=v) for v in villages)
    record(
        session,
        actor=actor,
        action="create",
        entity_type="sweep",
        entity_id=sweep.id,
        after={"term": term.name, "villages": len(villages), "due_date": due},
        detail=f"制定{term.name}拉网式排查计划:{len(villages)} 个村",
    )
    session.commit()
    return sweep


@dataclass(frozen=True)
class SweepRow:
    id: int
    term: str
    term_start: date
    township: str
    township_id: int
    reference_date: date
    due_date: date


def sweeps(session: Session, *, actor: Actor) -> list[SweepRow]:
    """The sweeps the actor may see, newest term first."""
    require(session, actor, Action.SWEEP_READ)
    rows = session.execute(
        select(Sweep, SchoolYear.start_year, Term.seq, Term.start_date, Term.end_date, Township.name)
        .join(Term, Sweep.term_id == Term.id)
        .join(SchoolYear, Term.school_year_id == SchoolYear.id)
        .join(Township, Sweep.township_id == Township.id)
        .where(col(Sweep.id).in_(select(SweepVillage.sweep_id).where(sweep_village_condition(actor))))
        .order_by(Term.start_date.desc(), Township.code)  # type: ignore[attr-defined]
    ).all()
    return [
        SweepRow(
            s.id, TermDates(y, seq, start, end).name, start, name, s.township_id, s.reference_date, s.due_date
        )
        for s, y, seq, start, end, name in rows
    ]


@dataclass(frozen=True)
class VillagePlan:
    household_count: int | None
    team_user_ids: Sequence[int]
    contact_user_id: int | None = None
    contact_name: str = ""
    contact_phone: str = ""


def team_choices(session: Session, township_id: int) -> list[tuple[int, str]]:
    """The active teacher accounts of the township's schools: (user id, "name(school)")."""
    rows = session.execute(
        select(AppUser.id, AppUser.display_name, School.name)
        .join(School, AppUser.school_id == School.id)
        .where(School.township_id == township_id, AppUser.role == Role.TEACHER.value, col(AppUser.is_active))
        .order_by(School.code, AppUser.display_name)
    ).all()
    return [(uid, f"{name}({school})") for uid, name, school in rows]


def contact_choices(session: Session, township_id: int) -> list[tuple[int, str]]:
    """The township's officials, who may be a village's government-line contact."""
    rows = session.execute(
        select(AppUser.id, AppUser.display_name).where(
            AppUser.township_id == township_id,
            AppUser.role == Role.TOWNSHIP_OFFICIAL.value,
            col(AppUser.is_active),
        )
    ).all()
    return [(uid, name) for uid, name in rows]


def _plan_problems(session: Session, township_id: int, plan: VillagePlan) -> list[str]:
    problems = []
    if plan.household_count is not None and not 0 <= plan.household_count <= 100_000:
        problems.append("户数应在 0 到 100000 之间")
    teachers = {uid for uid, _ in team_choices(session, township_id)}
    if not plan.team_user_ids:
        problems.append("请至少安排一名教师入村排查")
    elif set(plan.team_user_ids) - teachers:
        problems.append("排查组只能由本乡镇学校的教师账号组成")
    if plan.contact_user_id is not None:
        if plan.contact_user_id not in {uid for uid, _ in contact_choices(session, township_id)}:
            problems.append("政府线联系人应为本乡镇干部账号")
    elif not plan.contact_name.strip():
        problems.append("请指定政府线联系人:本乡镇干部账号,或村干部姓名和电话")
    elif not plan.contact_phone.strip() or phone_problem(plan.contact_phone)[1]:
        problems.append("村干部联系电话应为11位手机号或带区号的固定电话")
    if plan.contact_user_id is None and (
        reason := length_problem(plan.contact_name.strip(), "sweep_village.contact_name")
    ):
        problems.append(f"村干部姓名{reason}")
    return problems


def _plan_values(village: SweepVillage) -> dict[str, Any]:
    return {
        "household_count": village.household_count,
        "contact_user_id": village.contact_user_id,
        "contact_name": village.contact_name,
        "contact_phone": mask_phone(village.contact_phone),
    }


@unit_of_work
def set_village_plan(session: Session, *, actor: Actor, sweep_village_id: int, plan: VillagePlan) -> None:
    """Set a village's household count, team and government-line contact."""
    village = sweep_village_in_scope(session, actor, sweep_village_id, Action.SWEEP_PLAN)
    township_id = session.scalar(select(Sweep.township_id).where(Sweep.id == village.sweep_id))
    assert township_id is not None
    problems = _plan_problems(session, township_id, plan)
    if problems:
        raise SweepError(";".join(problems))
    write_lock(session, f"sweep_village:{village.id}")
    before = {"team": sorted(team_of(session, village.id)), **_plan_values(village)}
    village.household_count = plan.household_count
    village.contact_user_id = plan.contact_user_id
    village.contact_name = None if plan.contact_user_id else plan.contact_name.strip()
    village.contact_phone = None if plan.contact_user_id else phone_problem(plan.contact_phone)[0]
    session.execute(delete(SweepTeamMember).where(col(SweepTeamMember.sweep_village_id) == village.id))
    session.add_all(
        SweepTeamMember(sweep_village_id=village.id, user_id=u) for u in sorted(set(plan.team_user_ids))
    )
    record(
        session,
        actor=actor,
        action="update",
        entity_type="sweep_village",
        entity_id=village.id,
        before=before,
        after={"team": sorted(set(plan.team_user_ids)), **_plan_values(village)},
        detail="设置村排查计划:户数、排查组、政府线联系人",
    )
    session.commit()


def team_of(session: Session, sweep_village_id: int | None) -> list[int]:
    """The user ids of a village's team."""
    return list(
        session.scalars(
            select(SweepTeamMember.user_id).where(SweepTeamMember.sweep_village_id == sweep_village_id)
        )
    )


# ---- recording households ---------------------------------------------------------------------------------


def entry_village(session: Session, actor: Actor, sweep_village_id: int) -> tuple[SweepVillage, Sweep, date]:
    """The village's sweep, if the actor may record in it and it is open for entry; with its term's start."""
    village = sweep_village_in_scope(session, actor, sweep_village_id, Action.SWEEP_RECORD)
    status = VillageStatus(village.status)
    if not status.open_for_entry:
        raise SweepError(f"该村排查{status.label},不能再登记;如需修改,请乡镇退回")
    sweep = session.get(Sweep, village.sweep_id)
    assert sweep is not None
    term_start = session.scalar(select(Term.start_date).where(Term.id == sweep.term_id))
    assert term_start is not None
    return village, sweep, term_start


def ids_elsewhere(
    session: Session, sweep: Sweep, village_id: int | None, numbers: set[str]
) -> dict[str, str]:
    """ID number → the village already holding it, for numbers recorded in another village of the same sweep."""
    if not numbers:
        return {}
    rows = session.execute(
        select(SweepChild.id_number, Village.name)
        .join(SweepVillage, SweepChild.sweep_village_id == SweepVillage.id)
        .join(Village, SweepVillage.village_id == Village.id)
        .where(
            SweepVillage.sweep_id == sweep.id,
            SweepVillage.id != village_id,
            col(SweepChild.id_number).in_(numbers),
        )
    ).all()
    return {number: name for number, name in rows if number}


_HOUSEHOLD_FIELDS = ("address", "phone", "school_age_count", "note", "visited_on", "recorded_by")
_CHILD_FIELDS = (
    "household_id",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "status",
    "school_id",
    "place",
    "disability_type",
    "note",
    "recorded_by",
)


@dataclass(frozen=True)
class SavedHousehold:
    """A household written: whether it was new, the children added, and for what was there before the values
    replaced and their replacements ("household", and "child<id>" for each known child), identifiers masked."""

    row: Household
    created: bool
    added: int
    before: dict[str, Any]
    after: dict[str, Any]


def _values(obj: Household | SweepChild, fields: Sequence[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def _note_change(
    key: str, old: dict[str, Any], new: dict[str, Any], before: dict[str, Any], after: dict[str, Any]
) -> None:
    changed = [f for f in old if old[f] != new[f]]
    if changed:
        before[key] = mask_identifiers({f: old[f] for f in changed})
        after[key] = mask_identifiers({f: new[f] for f in changed})


def save_household(
    session: Session,
    actor: Actor,
    village: SweepVillage,
    household: HouseholdFacts,
    children: Sequence[ChildFacts],
) -> SavedHousehold:
    """Write a checked household and its children: the household known by (group, head) is updated, a child
    known by ID number (anywhere in the village) or by name and birth date (in the household) is updated,
    the rest added, and what an update replaces is returned for the audit entry. The caller audits and commits."""
    key = (household.group_name.strip(), household.head_name.strip())
    row = session.scalar(
        select(Household).where(
            Household.sweep_village_id == village.id, tuple_(Household.group_name, Household.head_name) == key
        )
    )
    created = row is None
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if row is None:
        row = Household(sweep_village_id=village.id, group_name=key[0], head_name=key[1], visited_on=today())
        session.add(row)
    old = _values(row, _HOUSEHOLD_FIELDS)
    row.address = household.address.strip() or None
    row.phone = phone_problem(household.phone)[0] if household.phone.strip() else None
    row.school_age_count = household.school_age_count
    row.note = household.note.strip() or None
    row.visited_on = household.visited_on or today()
    row.recorded_by = actor.user_id
    row.recorded_at = now()
    if not created:
        _note_change("household", old, _values(row, _HOUSEHOLD_FIELDS), before, after)
    session.flush()
    added = 0
    for child in children:
        found = _known_child(session, village.id, row.id, child)
        known = found is not None
        if found is None:
            found = SweepChild(
                household_id=row.id,
                sweep_village_id=village.id,
                name=child.name,
                birth_date=child.birth_date,
                status=child.status.value,
            )
            session.add(found)
            added += 1
        old = _values(found, _CHILD_FIELDS)
        found.household_id = row.id  # type: ignore[assignment]  # a child may move to the household they live in
        found.name = child.name
        found.sex = child.sex
        found.birth_date = child.birth_date  # type: ignore[assignment]
        found.id_number = child.id_number or None
        found.status = child.status.value
        found.school_id = child.school_id
        found.place = child.place or None
        found.disability_type = child.disability_type or None
        found.note = child.note or None
        found.recorded_by = actor.user_id
        found.recorded_at = now()
        if known:
            _note_change(f"child{found.id}", old, _values(found, _CHILD_FIELDS), before, after)
    if VillageStatus(village.status) in (VillageStatus.PLANNED, VillageStatus.RETURNED):
        village.status = VillageStatus.IN_PROGRESS.value
    session.flush()
    return SavedHousehold(row, created, added, before, after)


def _known_child(
    session: Session, village_id: int | None, household_id: int | None, child: ChildFacts
) -> SweepChild | None:
    if child.id_number:
        return session.scalar(
            select(SweepChild).where(
                SweepChild.sweep_village_id == village_id, SweepChild.id_number == child.id_number
            )
        )
    return session.scalar(
        select(SweepChild).where(
            SweepChild.household_id == household_id,
            SweepChild.name == child.name,
            SweepChild.birth_date == child.birth_date,
        )
    )


@unit_of_work
def record_household(
    session: Session,
    *,
    actor: Actor,
    sweep_village_id: int,
    household: HouseholdFacts,
    children: Sequence[ChildFacts],
) -> Household:
    """Record one visited household and its school-age children (the form on a phone)."""
    write_lock(session, f"sweep_village:{sweep_village_id}")  # the village's households and its status
    village, sweep, term_start = entry_village(session, actor, sweep_village_id)
    children = [filled_child(c) for c in children]
    problems = [
        (f"第{i + 1}个孩子 {f}" if i is not None and len(children) > 1 else f, r)
        for i, f, r in entry_problems(
            household,
            children,
            reference=sweep.reference_date,
            today=today(),
            earliest=term_start,
            ages=get_settings().school_age,
        )
    ]
    numbers = {c.id_number for c in children if c.id_number}
    for number, name in ids_elsewhere(session, sweep, village.id, numbers).items():
        problems.append(("身份证号", f"{number} 已在本次排查的{name}登记,不能重复登记"))
    if problems:
        message = "有填写错误,未保存:" + ";".join(f"{f}:{r}" for f, r in problems)
        audit_refusal(
            session,
            actor,
            action="create",
            entity_type="household",
            entity_id=None,
            message=f"入户登记:{household.group_name}{household.head_name}户{message}",
            after={"sweep_village_id": sweep_village_id, "visited_on": household.visited_on},
        )
        raise SweepError(message, problems)
    saved = save_household(session, actor, village, household, children)
    row = saved.row
    counts = {"children": len(children), "added": saved.added, "statuses": [c.status.value for c in children]}
    record(
        session,
        actor=actor,
        action="create" if saved.created else "update",
        entity_type="household",
        entity_id=row.id,
        before=saved.before or None,
        after=counts | saved.after,
        detail=f"入户登记:{row.group_name}{row.head_name}户,适龄儿童 {len(children)} 人",
    )
    session.commit()
    return row


# ---- submission and review --------------------------------------------------------------------------------


def _household_total(session: Session, sweep_village_id: int | None) -> int:
    return session.scalar(select(func.count()).where(Household.sweep_village_id == sweep_village_id)) or 0


def _move(
    session: Session, actor: Actor, village: SweepVillage, target: VillageStatus, reason: str = ""
) -> str:
    current = VillageStatus(village.status)
    problem = move_problem(current, target, households=_household_total(session, village.id), reason=reason)
    if problem:
        session.rollback()
        raise SweepError(problem)
    village.status = target.value
    return current.value


@unit_of_work
def submit_village(session: Session, *, actor: Actor, sweep_village_id: int) -> dict[str, int]:
    """The team (or the township) submits a village's sweep; reconciliation runs at once. Returns its counts."""
    from xueji.services.sweeps.reconciliation import reconcile_village

    write_lock(session, f"sweep_village:{sweep_village_id}")
    village = sweep_village_in_scope(session, actor, sweep_village_id, Action.SWEEP_RECORD)
    before = _move(session, actor, village, VillageStatus.SUBMITTED)
    village.submitted_by = actor.user_id
    village.submitted_at = now()
    village.return_reason = None
    counts = reconcile_village(session, actor, village)
    record(
        session,
        actor=actor,
        action="submit",
        entity_type="sweep_village",
        entity_id=village.id,
        before={"status": before},
        after={"status": village.status, **counts},
        detail="提交村排查结果并比对",
    )
    session.commit()
    return counts


@unit_of_work
def review_village(
    session: Session, *, actor: Actor, sweep_village_id: int, approve: bool, reason: str = ""
) -> None:
    """The township approves a submitted village, or returns it for rework with a reason."""
    write_lock(session, f"sweep_village:{sweep_village_id}")
    village = sweep_village_in_scope(session, actor, sweep_village_id, Action.SWEEP_REVIEW)
    if not approve and (problem := length_problem(reason.strip(), "sweep_village.return_reason")):
        raise SweepError(f"退回原因{problem}")
    target = VillageStatus.REVIEWED if approve else VillageStatus.RETURNED
    before = _move(session, actor, village, target, reason)
    village.reviewed_by = actor.user_id
    village.reviewed_at = now()
    village.return_reason = None if approve else reason.strip()
    record(
        session,
        actor=actor,
        action="approve" if approve else "return",
        entity_type="sweep_village",
        entity_id=village.id,
        before={"status": before},
        after={"status": village.status},
        detail="审核通过村排查" if approve else f"退回村排查:{reason.strip()}",
    )
    session.commit()


# ---- what a village holds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildLine:
    name: str
    sex: str | None
    birth_date: date
    id_number: str | None
    status: FoundStatus
    where: str  # the school, the place, or the disability type


@dataclass(frozen=True)
class HouseholdLine:
    id: int
    group_name: str
    head_name: str
    address: str | None
    phone: str | None
    school_age_count: int | None
    visited_on: date
    recorded_by: str
    children: list[ChildLine]

    @property
    def children_text(self) -> str:
        """Each child with where they were found, e.g. 张小明(在本地学校就读 古港镇完全小学)."""
        return "、".join(
            f"{c.name}({c.status.label}{' ' + c.where if c.where else ''})" for c in self.children
        )


def village_households(session: Session, *, actor: Actor, sweep_village_id: int) -> list[HouseholdLine]:
    """The households recorded in a village with their children, newest first; identifiers masked unless the
    actor works the sweep (the team, the township)."""
    sweep_village_in_scope(session, actor, sweep_village_id, Action.SWEEP_READ)
    full = actor.role in (Role.TEACHER, Role.TOWNSHIP_OFFICIAL, Role.SYSTEM)
    households = session.execute(
        select(Household, AppUser.display_name)
        .outerjoin(AppUser, Household.recorded_by == AppUser.id)
        .where(Household.sweep_village_id == sweep_village_id)
        .order_by(col(Household.recorded_at).desc(), col(Household.id).desc())
    ).all()
    children: dict[int, list[ChildLine]] = {}
    for c, school in session.execute(
        select(SweepChild, School.name)
        .outerjoin(School, SweepChild.school_id == School.id)
        .where(SweepChild.sweep_village_id == sweep_village_id)
        .order_by(SweepChild.birth_date)
    ):
        status = FoundStatus(c.status)
        where = school or c.place or (f"{c.disability_type}残疾" if c.disability_type else "")
        number = c.id_number if full or not c.id_number else mask_id_number(c.id_number)
        children.setdefault(c.household_id, []).append(
            ChildLine(c.name, c.sex, c.birth_date, number, status, where or "")
        )
    return [
        HouseholdLine(
            h.id,
            h.group_name,
            h.head_name,
            h.address,
            h.phone if full or not h.phone else mask_phone(h.phone),
            h.school_age_count,
            h.visited_on,
            who or "",
            children.get(h.id, []),
        )
        for h, who in households
    ]


def county_schools(session: Session, township_id: int) -> list[tuple[int, str, str]]:
    """Every school in use of the township's county, for the local school a child attends: (id, name, code)."""
    county = select(Township.county_id).where(Township.id == township_id).scalar_subquery()
    rows = session.execute(
        select(School.id, School.name, School.code)
        .join(Township, School.township_id == Township.id)
        .where(Township.county_id == county, col(School.closed_on).is_(None))
        .order_by(School.code)
    ).all()
    return [(sid, name, code) for sid, name, code in rows]


def find_sweep_village(session: Session, *, village_code: str, term: str = "") -> int:
    """The village's sweep in a term (written 2026-1: the school year's start year and the term's number;
    blank for the term in force today), for the command line."""
    from xueji.services.common.calendar import term_on, terms

    if term:
        chosen = next((t for t in terms(session) if f"{t.school_year_start}-{t.seq}" == term.strip()), None)
    else:
        chosen = term_on(session, today())
    if chosen is None:
        raise SweepError(f"没有找到学期 {term or '(今天所在学期)'}:学期写作 学年开始年份-学期序号,如 2026-1")
    found = session.scalar(
        select(SweepVillage.id)
        .join(Village, SweepVillage.village_id == Village.id)
        .join(Sweep, SweepVillage.sweep_id == Sweep.id)
        .where(Village.code == village_code.strip(), Sweep.term_id == term_id(session, chosen))
    )
    if found is None:
        raise SweepError(f"{chosen.name}没有村代码为 {village_code} 的排查计划:请先由乡镇制定排查计划")
    return int(found)


def contact_of(session: Session, sweep_village_id: int) -> tuple[int | None, str, str]:
    """A village's government-line contact: (official's user id, cadre's name, cadre's phone)."""
    village = session.get(SweepVillage, sweep_village_id)
    if village is None:
        return None, "", ""
    return village.contact_user_id, village.contact_name or "", village.contact_phone or ""


def households_frame(lines: Sequence[HouseholdLine]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (h.visited_on, h.group_name, h.head_name, h.phone or "", h.recorded_by, h.children_text)
            for h in lines
        ],
        columns=["走访日期", "组", "户主", "电话", "登记人", "适龄儿童"],
    )
