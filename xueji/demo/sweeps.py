"""The demo county's household sweeps this term: every township planned its villages; in 古港镇 most villages
are reviewed, some wait for review, some are still being swept (周老师 is on two of those teams), one was
sent back, and a few have not started and are late. The households are the registry's families living in
the village (by guardian and group) plus families with no school-age child, and the sweep finds what a real
one does: a few children out of school with no record, a disabled child at home, a child studying in
another province with no transfer, a child who has left with the parents. Submitted villages are reconciled
by the same service a real submission runs."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlmodel import Session, col

from xueji.demo import names
from xueji.demo.cases import day_between, phone_number
from xueji.models import (
    AppUser,
    FamilyMember,
    Household,
    School,
    Student,
    Sweep,
    SweepChild,
    SweepTeamMember,
    SweepVillage,
    Term,
    Township,
    Village,
)
from xueji.rules.registry_record import DISABILITY_TYPES
from xueji.rules.sweeps import FoundStatus, VillageStatus, group_of, reference_date, sweep_age_range
from xueji.rules.vocab import Role, StudentStatus
from xueji.services.sweeps.reconciliation import reconcile_village
from xueji.services.system.accounts import system_actor

if TYPE_CHECKING:
    from xueji.demo.build import DemoContext

PLACES = ("广东省深圳市宝安区某小学", "浙江省义乌市某学校", "长沙市雨花区某小学", "广东省东莞市某中学")
# The share of each village status in a township, in the order villages are taken.
MIX = (
    (VillageStatus.REVIEWED, 0.4),
    (VillageStatus.SUBMITTED, 0.2),
    (VillageStatus.IN_PROGRESS, 0.2),
    (VillageStatus.RETURNED, 0.05),
)


def _statuses(count: int) -> list[VillageStatus]:
    statuses: list[VillageStatus] = []
    for status, share in MIX:
        statuses += [status] * max(1, round(count * share))
    return (statuses + [VillageStatus.PLANNED] * count)[:count]


def load_sweeps(session: Session, ctx: DemoContext) -> None:
    rng = ctx.rng
    term = session.execute(
        select(Term.id, Term.start_date)
        .where(Term.start_date <= ctx.spec.today)
        .order_by(col(Term.start_date).desc())
        .limit(1)
    ).one()
    reference = reference_date(ctx.school_year, (8, 31))
    official = session.scalar(select(AppUser).where(AppUser.role == Role.TOWNSHIP_OFFICIAL.value))
    demo_teacher = session.scalar(select(AppUser.id).where(AppUser.username == "demo_teacher"))
    families = _families(session, reference)
    households: list[dict[str, object]] = []
    children: list[list[dict[str, object]]] = []  # each household's, in the same order
    for (township_id,) in session.execute(select(Township.id).order_by(Township.code)).all():
        sweep = Sweep(
            term_id=term.id,
            township_id=township_id,
            reference_date=reference,
            due_date=term.start_date + timedelta(days=30),
            planned_by=official.id if official and official.township_id == township_id else None,
        )
        session.add(sweep)
        session.flush()
        teachers = session.scalars(
            select(AppUser.id)
            .join(School, AppUser.school_id == School.id)
            .where(School.township_id == township_id, AppUser.role == Role.TEACHER.value)
            .order_by(AppUser.id)
        ).all()
        villages = session.scalars(
            select(Village.id).where(Village.township_id == township_id).order_by(Village.code)
        ).all()
        mine = 0
        for village_id, status in zip(villages, _statuses(len(villages)), strict=True):
            village = SweepVillage(sweep_id=sweep.id, village_id=village_id, status=status.value)
            if official is not None and official.township_id == township_id and rng.random() < 0.5:
                village.contact_user_id = official.id
            else:
                village.contact_name = names.person_name(rng, male=rng.random() < 0.7, adult=True)
                village.contact_phone = phone_number(rng)
            session.add(village)
            session.flush()
            others = [t for t in teachers if t != demo_teacher]  # 周老师 is on exactly two teams
            team = rng.sample(others, k=min(2, len(others)))
            if demo_teacher in teachers and status is VillageStatus.IN_PROGRESS and mine < 2:
                team = [demo_teacher, *team[:1]]
                mine += 1
            session.add_all(SweepTeamMember(sweep_village_id=village.id, user_id=t) for t in team)
            if status is not VillageStatus.PLANNED:
                found = _households(
                    ctx, sweep, village, status, team, term.start_date, families.get(village_id, {})
                )
                households += [h for h, _ in found]
                children += [c for _, c in found]
    if households:
        ids = session.scalars(
            insert(Household).returning(Household.id, sort_by_parameter_order=True), households
        ).all()
        rows = [{**c, "household_id": hid} for hid, kids in zip(ids, children, strict=True) for c in kids]
        if rows:
            session.execute(insert(SweepChild), rows)
    actor = system_actor(session)
    for village in session.scalars(
        select(SweepVillage).where(
            col(SweepVillage.status).in_([VillageStatus.SUBMITTED.value, VillageStatus.REVIEWED.value])
        )
    ):
        reconcile_village(session, actor, village)


def _families(session: Session, reference: date) -> dict[int, dict[tuple[str, str], list[Student]]]:
    """The registry's school-age children by the village they live in, then by (group, guardian)."""
    oldest, youngest = sweep_age_range(reference)
    families: dict[int, dict[tuple[str, str], list[Student]]] = {}
    for student, guardian in session.execute(
        select(Student, FamilyMember.name)
        .outerjoin(FamilyMember, (FamilyMember.student_id == Student.id) & (FamilyMember.seq == 1))
        .where(
            col(Student.home_village_id).is_not(None),
            Student.birth_date.between(oldest, youngest),  # type: ignore[attr-defined]
            col(Student.status).in_(
                [StudentStatus.ENROLLED.value, StudentStatus.SUSPENDED.value, StudentStatus.DROPPED_OUT.value]
            ),
        )
        .order_by(Student.id)
    ):
        key = (group_of(student.home_address) or "1组", guardian or student.name[0] + "某")
        families.setdefault(student.home_village_id, {}).setdefault(key, []).append(student)
    return families


def _households(
    ctx: DemoContext,
    sweep: Sweep,
    village: SweepVillage,
    status: VillageStatus,
    team: list[int],
    term_start: date,
    families: dict[tuple[str, str], list[Student]],
) -> list[tuple[dict[str, object], list[dict[str, object]]]]:
    """The village's households as rows, each with its children's rows (household id filled in later)."""
    rng: random.Random = ctx.rng
    today = ctx.spec.today
    share = 0.55 if status is VillageStatus.IN_PROGRESS else 0.97
    keys = [k for k in families if rng.random() < share]
    extra = [
        (f"{rng.randint(1, 12)}组", names.person_name(rng, male=True, adult=True))
        for _ in range(len(keys) // 4)
    ]
    end = (
        min(today, sweep.due_date + timedelta(days=20)) if status is not VillageStatus.IN_PROGRESS else today
    )
    found: list[tuple[dict[str, object], list[dict[str, object]]]] = []
    seen: set[tuple[str, str]] = set()
    for key in keys + extra:
        if key in seen:
            continue
        seen.add(key)
        members = families.get(key, [])
        recorder = rng.choice(team) if team else None
        household: dict[str, object] = {
            "sweep_village_id": village.id,
            "group_name": key[0],
            "head_name": key[1],
            "address": next((s.home_address for s in members if s.home_address), None),
            "phone": phone_number(rng),
            "school_age_count": len(members),
            "visited_on": day_between(rng, term_start + timedelta(days=5), end),
            "recorded_by": recorder,
        }
        kids: list[dict[str, object]] = []
        for student in members:
            where, place = _found(rng, student)
            kids.append(
                {
                    "sweep_village_id": village.id,
                    "name": student.name,
                    "sex": student.sex,
                    "birth_date": student.birth_date,
                    "id_number": student.id_number,
                    "status": where.value,
                    "school_id": student.school_id if where is FoundStatus.LOCAL_SCHOOL else None,
                    "place": place,
                    "recorded_by": recorder,
                }
            )
        if (
            not members and rng.random() < 0.12
        ):  # a family the registry does not know of, a child out of school
            household["school_age_count"] = 1
            where = rng.choice([FoundStatus.NOT_ENROLLED, FoundStatus.DROPPED_OUT, FoundStatus.DISABLED_HOME])
            male = rng.random() < 0.5
            kids.append(
                {
                    "sweep_village_id": village.id,
                    "name": names.person_name(rng, male=male, surname=key[1][0]),
                    "sex": "男" if male else "女",
                    "birth_date": date(
                        ctx.school_year - rng.randint(7, 15), rng.randint(1, 12), rng.randint(1, 28)
                    ),
                    "status": where.value,
                    "disability_type": rng.choice(DISABILITY_TYPES)
                    if where is FoundStatus.DISABLED_HOME
                    else None,
                    "note": "重度残疾,长期在家" if where is FoundStatus.DISABLED_HOME else "随父母外出后返乡",
                    "recorded_by": recorder,
                }
            )
        found.append((household, kids))
    if status is VillageStatus.RETURNED:
        village.return_reason = "部分组未走访完,请补齐后重新提交"
    if status is not VillageStatus.IN_PROGRESS:
        village.household_count = int(len(seen) / rng.uniform(0.88, 1.0)) + 1
    elif rng.random() < 0.7:
        village.household_count = int(len(seen) / share)
    return found


def _found(rng: random.Random, student: Student) -> tuple[FoundStatus, str | None]:
    """Where the sweep finds a registry child: mostly at their school; now and then elsewhere or gone."""
    if student.status == StudentStatus.DROPPED_OUT.value:
        return FoundStatus.DROPPED_OUT, None
    roll = rng.random()
    if roll < 0.02:
        return FoundStatus.ELSEWHERE, rng.choice(PLACES)
    if roll < 0.03:
        return FoundStatus.MOVED_AWAY, "随父母去" + rng.choice(("广东", "浙江", "长沙"))
    return FoundStatus.LOCAL_SCHOOL, None
