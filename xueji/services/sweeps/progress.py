"""排查进度: how far each village's sweep has got (households visited against the village's count, children found
by status, the lists reconciliation made, late or not), what each team member recorded, and the township's
排查汇总表. Counted in SQL, one grouped query per measure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.models import (
    AppUser,
    Household,
    Sweep,
    SweepChild,
    SweepFinding,
    SweepTeamMember,
    SweepVillage,
    Village,
)
from xueji.rules.sweeps import (
    Finding,
    FoundStatus,
    VillageStatus,
    coverage_label,
    coverage_rate,
    is_late,
    work_order,
)
from xueji.services.common.access import require, sweep_in_scope, sweep_village_condition
from xueji.services.common.exports import export_tables
from xueji.services.sweeps.reconciliation import findings, findings_frame


@dataclass
class VillageCoverage:
    sweep_village_id: int
    code: str
    name: str
    status: VillageStatus
    household_count: int | None
    late: bool
    team: list[str] = field(default_factory=list)
    contact: str = ""
    visited: int = 0
    children: int = 0
    by_status: dict[FoundStatus, int] = field(default_factory=dict)
    by_finding: dict[Finding, int] = field(default_factory=dict)
    return_reason: str | None = None

    @property
    def rate(self) -> float | None:
        return coverage_rate(self.visited, self.household_count)


def village_coverage(session: Session, *, actor: Actor, sweep_id: int) -> list[VillageCoverage]:
    """Every village of the sweep the actor may see, with its counts."""
    require(session, actor, Action.SWEEP_READ)
    sweep = session.get(Sweep, sweep_id)
    if sweep is None:
        return []
    day = today()
    villages = {
        sv.id: VillageCoverage(
            sv.id,
            code,
            name,
            VillageStatus(sv.status),
            sv.household_count,
            is_late(VillageStatus(sv.status), sweep.due_date, day),
            contact=contact
            or (f"{sv.contact_name} {sv.contact_phone or ''}".strip() if sv.contact_name else ""),
            return_reason=sv.return_reason,
        )
        for sv, code, name, contact in session.execute(
            select(SweepVillage, Village.code, Village.name, AppUser.display_name)
            .join(Village, SweepVillage.village_id == Village.id)
            .outerjoin(AppUser, SweepVillage.contact_user_id == AppUser.id)
            .where(SweepVillage.sweep_id == sweep_id, sweep_village_condition(actor))
            .order_by(Village.code)
        )
    }
    ids = list(villages)
    for vid, count in session.execute(
        select(Household.sweep_village_id, func.count())
        .where(col(Household.sweep_village_id).in_(ids))
        .group_by(Household.sweep_village_id)
    ):
        villages[vid].visited = count
    for vid, status, count in session.execute(
        select(SweepChild.sweep_village_id, SweepChild.status, func.count())
        .where(col(SweepChild.sweep_village_id).in_(ids))
        .group_by(SweepChild.sweep_village_id, SweepChild.status)
    ):
        villages[vid].by_status[FoundStatus(status)] = count
        villages[vid].children += count
    for vid, kind, count in session.execute(
        select(SweepFinding.sweep_village_id, SweepFinding.kind, func.count())
        .where(col(SweepFinding.sweep_village_id).in_(ids))
        .group_by(SweepFinding.sweep_village_id, SweepFinding.kind)
    ):
        villages[vid].by_finding[Finding(kind)] = count
    for vid, name in session.execute(
        select(SweepTeamMember.sweep_village_id, AppUser.display_name)
        .join(AppUser, SweepTeamMember.user_id == AppUser.id)
        .where(col(SweepTeamMember.sweep_village_id).in_(ids))
        .order_by(AppUser.display_name)
    ):
        villages[vid].team.append(name)
    return list(villages.values())


def coverage_frame(rows: list[VillageCoverage]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "村": r.name,
                "状态": r.status.label + ("(已逾期)" if r.late else ""),
                "户数": r.household_count,
                "已走访户": r.visited,
                "覆盖率": None if r.rate is None else round(r.rate * 100, 1),
                "适龄儿童": r.children,
                **{s.label: r.by_status.get(s, 0) for s in FoundStatus},
                **{f.label: r.by_finding.get(f, 0) for f in Finding},
                "排查组": "、".join(r.team),
                "政府线联系人": r.contact,
            }
            for r in rows
        ],
        columns=[
            "村",
            "状态",
            "户数",
            "已走访户",
            "覆盖率",
            "适龄儿童",
            *(s.label for s in FoundStatus),
            *(f.label for f in Finding),
            "排查组",
            "政府线联系人",
        ],
    ).astype({"户数": "Int64"})


def by_work_order(rows: list[VillageCoverage]) -> list[VillageCoverage]:
    """The villages with what needs work first (late, returned, not started …, reviewed last)."""
    return sorted(rows, key=lambda r: work_order(r.status, r.late, r.rate))


def chart_frame(rows: list[VillageCoverage]) -> pd.DataFrame:
    """One bar per village for charts.sweep_coverage, in work order: the coverage in percent (0 for a village
    not started or with no household count, so every village has a bar), the bar's words, the status."""
    ordered = by_work_order(rows)
    return pd.DataFrame(
        [
            {
                "村": r.name,
                "状态": "已逾期" if r.late else r.status.label,
                "覆盖率(%)": round((r.rate or 0.0) * 100, 1),
                "标注": coverage_label(r.status, r.visited, r.rate),
                "已走访户": r.visited,
                "户数": "未填" if r.household_count is None else str(r.household_count),
            }
            for r in ordered
        ],
        columns=["村", "状态", "覆盖率(%)", "标注", "已走访户", "户数"],
    )


@dataclass(frozen=True)
class MemberCount:
    name: str
    village: str
    households: int
    children: int
    last_visit: date


def member_coverage(session: Session, *, actor: Actor, sweep_id: int) -> list[MemberCount]:
    """Households and children recorded by each team member, per village."""
    require(session, actor, Action.SWEEP_READ)
    kids = (
        select(SweepChild.household_id, func.count().label("n")).group_by(SweepChild.household_id).subquery()
    )
    rows = session.execute(
        select(
            AppUser.display_name,
            Village.name,
            func.count(Household.id),
            func.coalesce(func.sum(kids.c.n), 0),
            func.max(Household.visited_on),
        )
        .join(SweepVillage, Household.sweep_village_id == SweepVillage.id)
        .join(Village, SweepVillage.village_id == Village.id)
        .join(AppUser, Household.recorded_by == AppUser.id)
        .outerjoin(kids, kids.c.household_id == Household.id)
        .where(SweepVillage.sweep_id == sweep_id, sweep_village_condition(actor))
        .group_by(AppUser.display_name, Village.name, Village.code)
        .order_by(Village.code, func.count(Household.id).desc())
    ).all()
    return [MemberCount(*row) for row in rows]


def member_frame(rows: list[MemberCount]) -> pd.DataFrame:
    return pd.DataFrame(
        [(r.name, r.village, r.households, r.children, r.last_visit) for r in rows],
        columns=["排查人", "村", "登记户数", "登记儿童", "最近走访"],
    )


def export_summary(session: Session, *, actor: Actor, sweep_id: int) -> bytes:
    """排查汇总表: the villages' coverage and counts, the team members, and each reconciliation list (ID numbers
    masked), one sheet each; audited."""
    sweep_in_scope(session, actor, sweep_id, Action.SWEEP_READ)
    sheets = {
        "村排查汇总": coverage_frame(village_coverage(session, actor=actor, sweep_id=sweep_id)),
        "排查人员": member_frame(member_coverage(session, actor=actor, sweep_id=sweep_id)),
    }
    lines = findings(session, actor=actor, sweep_id=sweep_id, limit=100_000, masked=True)
    for kind in Finding:
        sheets[kind.label.split("(")[0]] = findings_frame([r for r in lines if r.kind is kind])
    return export_tables(
        session,
        actor=actor,
        action=Action.SWEEP_READ,
        sheets=sheets,
        title="排查汇总表",
        entity_type="sweep",
        detail=f"排查 {sweep_id}",
    )
