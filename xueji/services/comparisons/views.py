"""What the comparison found, as the county officer and the townships read it: the state (reference day, lists in
effect, last run), the three comparisons with counts per township or village and their lists, the ledger of all
school-age children (适龄儿童台账) paged in SQL, the special groups; every list exportable (audited, masked). A
township sees only its own villages: the ledger's rows are scoped here, and asking for another's is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, false, func, literal, select, true
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import (
    AppUser,
    Child,
    ChildGroup,
    ComparisonRun,
    DeptList,
    RegistryCheck,
    School,
    SchoolAgeChild,
    Student,
    Sweep,
    SweepChild,
    SweepFinding,
    SweepVillage,
    Township,
    VerificationTask,
    Village,
)
from xueji.rules.cases import CaseCategory
from xueji.rules.comparisons import OUT_OF_SCHOOL, Outcome, Standing, TaskKind, TaskStatus, sources_label
from xueji.rules.dept_lists import ListKind
from xueji.rules.masking import mask_id_number
from xueji.rules.registry_check import FindingKind
from xueji.rules.sweeps import Finding
from xueji.rules.vocab import ScopeKind, StudentStatus
from xueji.services.common.access import (
    actor_county_id,
    deny,
    require,
    school_condition,
    sees_full_identifiers,
)
from xueji.services.common.calendar import term_id, term_on, this_terms_sweeps
from xueji.services.common.exports import export_table
from xueji.services.comparisons import groups
from xueji.services.comparisons.in_effect import lists_in_effect, school_age_reference
from xueji.services.sweeps.reconciliation import finding_condition

SAC = SchoolAgeChild
TAIL = 4  # the digits of an ID number a masked viewer may search by (its visible tail)
# 三比对 (1): the outcomes it lists, in the page's order
REGISTER_OUTCOMES = (Outcome.NOT_ENROLLED, Outcome.SEPARATED, Outcome.MIGRANT, Outcome.PENDING_REVIEW)


# ---- scope ------------------------------------------------------------------------------------------------------


def row_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE on the ledger: the county's rows for the county, a township's for the township."""
    if actor.scope_kind is ScopeKind.COUNTY:
        return SAC.county_id == actor.scope_id
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        return SAC.township_id == actor.scope_id
    return false()


def _narrowed(
    session: Session, actor: Actor, township_id: int | None, village_id: int | None
) -> ColumnElement[bool]:
    """The actor's rows, narrowed to a township or a village that must be theirs (refused and audited if not)."""
    require(session, actor, Action.COMPARE_READ)
    condition = row_condition(actor)
    if township_id is not None:
        mine = session.scalar(select(Township.id).where(Township.id == township_id, _townships(actor)))
        if mine is None:
            deny(
                session,
                actor,
                Action.COMPARE_READ.value,
                "该乡镇不在您的管辖范围内",
                entity_type="township",
                entity_id=township_id,
            )
        condition = and_(condition, SAC.township_id == township_id)
    if village_id is not None:
        mine = session.scalar(
            select(Village.id)
            .join(Township, Village.township_id == Township.id)
            .where(Village.id == village_id, _townships(actor))
        )
        if mine is None:
            deny(
                session,
                actor,
                Action.COMPARE_READ.value,
                "该村不在您的管辖范围内",
                entity_type="village",
                entity_id=village_id,
            )
        condition = and_(condition, SAC.village_id == village_id)
    return condition


def _townships(actor: Actor) -> ColumnElement[bool]:
    if actor.scope_kind is ScopeKind.COUNTY:
        return Township.county_id == actor.scope_id
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        return Township.id == actor.scope_id
    return false()


def search_condition(words: str, *, full: bool) -> ColumnElement[bool]:
    """Every word must match: digits (and X) the tail of the ID number (at most the visible tail for a masked
    viewer), anything else the name."""
    conditions = []
    for word in words.split():
        if word.isascii() and word.upper().rstrip("X").isdigit():
            fits = full or len(word) <= TAIL
            conditions.append(col(SAC.id_number).endswith(word.upper(), autoescape=True) if fits else false())
        else:
            conditions.append(col(SAC.name).contains(word, autoescape=True))
    return and_(*conditions) if conditions else true()


def _number(actor: Actor, value: str | None) -> str | None:
    return value if sees_full_identifiers(actor) else mask_id_number(value)


# ---- the state of the comparison -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListInEffect:
    kind: ListKind
    version: int
    list_date: date
    rows: int
    imported_at: datetime


@dataclass(frozen=True)
class State:
    reference: date
    ages: tuple[int, int]
    lists: list[ListInEffect]
    ran_at: datetime | None
    ran_by: str | None
    counts: dict

    @property
    def has_register(self) -> bool:
        return any(item.kind is ListKind.RESIDENTS for item in self.lists)


def state(session: Session, *, actor: Actor) -> State:
    """The reference day, the lists in effect and the county's last run."""
    require(session, actor, Action.COMPARE_READ)
    county = actor_county_id(session, actor)
    reference, _ = school_age_reference()
    lists = lists_in_effect(session, county) if county else {}
    last = session.execute(
        select(ComparisonRun, AppUser.display_name)
        .outerjoin(AppUser, ComparisonRun.ran_by == AppUser.id)
        .where(ComparisonRun.county_id == county)
        .order_by(col(ComparisonRun.id).desc())
        .limit(1)
    ).first()
    return State(
        reference,
        get_settings().school_age,
        [
            ListInEffect(kind, d.version, d.list_date, d.row_count, d.imported_at)
            for kind in ListKind
            if (d := lists.get(kind)) is not None
        ],
        last[0].ran_at if last else None,
        last[1] if last else None,
        dict(last[0].counts) if last else {},
    )


# ---- counts per township or village ------------------------------------------------------------------------------


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def place_counts(session: Session, *, actor: Actor, township_id: int | None = None) -> pd.DataFrame:
    """Per township (the county's view) or per village (a township's, or the county's within a township): the
    children of age and each result of the three comparisons."""
    condition = _narrowed(session, actor, township_id, None)
    by_village = township_id is not None or actor.scope_kind is ScopeKind.TOWNSHIP
    place = Village if by_village else Township
    key = SAC.village_id if by_village else SAC.township_id
    out = col(SAC.standing).in_([s.value for s in OUT_OF_SCHOOL])
    rows = session.execute(
        select(
            func.coalesce(place.name, "未能定位"),
            func.count(),
            *(_count(SAC.outcome == o.value) for o in REGISTER_OUTCOMES),
            _count(out),
            _count(and_(out, col(SAC.priority).is_not(None))),
            func.min(place.code),
        )
        .outerjoin(place, key == place.id)
        .where(condition)
        .group_by(place.name)
        .order_by(func.min(place.code))
    ).all()
    columns = ["村" if by_village else "乡镇", "适龄儿童", *(OUTCOME_TITLES[o] for o in REGISTER_OUTCOMES)]
    frame = pd.DataFrame([r[:-1] for r in rows], columns=[*columns, "疑似辍学/辍学", "其中脱贫户/监测户"])
    for name in frame.columns[1:]:
        frame[name] = frame[name].astype(int)
    return frame


OUTCOME_TITLES = {
    Outcome.NOT_ENROLLED: "适龄未入学/待核实",
    Outcome.SEPARATED: "人户分离",
    Outcome.MIGRANT: "随迁",
    Outcome.PENDING_REVIEW: "疑似同一人待审核",
}


# ---- the ledger and the lists of comparison (1) and (3) ---------------------------------------------------------


@dataclass(frozen=True)
class LedgerFilter:
    township_id: int | None = None
    village_id: int | None = None
    standing: Standing | None = None
    outcome: Outcome | None = None
    source: str | None = None  # rules.comparisons.SOURCES
    priority: bool | None = None  # True: on the 乡村振兴 list; False: not
    out_of_school: bool = False
    search: str = ""


LEDGER_COLUMNS = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "乡镇",
    "村",
    "学校",
    "现状",
    "比对结果",
    "来源",
    "重点",
    "特殊群体",
    "核实",
    "核实期限",
]


def _task_columns():  # noqa: ANN202 - the latest verification task's status and due date, correlated on SAC
    latest = (
        select(VerificationTask.status, VerificationTask.due_on)
        .where(
            VerificationTask.county_id == SAC.county_id,
            VerificationTask.person_key == SAC.person_key,
            VerificationTask.kind == TaskKind.VERIFY.value,
        )
        .order_by(col(VerificationTask.id).desc())
        .limit(1)
        .correlate(SAC)
    )
    return (
        latest.with_only_columns(VerificationTask.status).scalar_subquery(),
        latest.with_only_columns(VerificationTask.due_on).scalar_subquery(),
    )


def ledger(
    session: Session, *, actor: Actor, filters: LedgerFilter, offset: int = 0, limit: int | None = 50
) -> tuple[pd.DataFrame, int]:
    """One page of the ledger (or all of it: limit None) and how many rows match, ordered by place and name."""
    condition = and_(
        _narrowed(session, actor, filters.township_id, filters.village_id),
        search_condition(filters.search, full=sees_full_identifiers(actor)),
    )
    if filters.standing is not None:
        condition = and_(condition, SAC.standing == filters.standing.value)
    if filters.outcome is not None:
        condition = and_(condition, SAC.outcome == filters.outcome.value)
    if filters.source:
        condition = and_(
            condition, (literal(",") + SAC.sources + literal(",")).contains(f",{filters.source},")
        )
    if filters.priority is not None:
        condition = and_(
            condition, col(SAC.priority).is_not(None) if filters.priority else col(SAC.priority).is_(None)
        )
    if filters.out_of_school:
        condition = and_(condition, col(SAC.standing).in_([s.value for s in OUT_OF_SCHOOL]))
    total = session.scalar(select(func.count()).select_from(SAC).where(condition)) or 0
    status, due = _task_columns()
    query = (
        select(SAC, Township.name, Village.name, School.name, status, due)
        .outerjoin(Township, SAC.township_id == Township.id)
        .outerjoin(Village, SAC.village_id == Village.id)
        .outerjoin(School, SAC.school_id == School.id)
        .where(condition)
        .order_by(Township.code, Village.code, SAC.name, SAC.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = [
        (
            c.name,
            c.sex or "",
            c.birth_date,
            _number(actor, c.id_number) or "",
            township or "",
            village or "",
            school or "",
            Standing(c.standing).label,
            Outcome(c.outcome).label if c.outcome else "",
            sources_label(c.sources),
            c.priority or "",
            "、".join(CaseCategory(g).label for g in c.groups.split(",") if g),
            TaskStatus(task).label if task else "",
            due,
        )
        for c, township, village, school, task, due in session.execute(query)
    ]
    return pd.DataFrame(rows, columns=LEDGER_COLUMNS), total


def export_ledger(
    session: Session, *, actor: Actor, filters: LedgerFilter, title: str = "适龄儿童台账"
) -> bytes:
    """The ledger (as filtered) as xlsx, ID numbers masked per role; audited."""
    frame, _ = ledger(session, actor=actor, filters=filters, limit=None)
    words = " ".join(filters.search.split())
    return export_table(
        session,
        actor=actor,
        action=Action.COMPARE_READ,
        frame=frame,
        sheet=title[:31],
        entity_type="school_age_child",
        detail=title + (f";搜索“{words}”" if words else ""),
    )


# ---- comparison (2): the registry against who is in school ----------------------------------------------------


ABSENT_COLUMNS = ["来源", "学校", "姓名", "身份证号", "发现日期", "情况"]


def absent(session: Session, *, actor: Actor, search: str = "") -> pd.DataFrame:
    """学籍 vs 在校: the registry's enrolled children found absent this term — 人籍一致核查's 在册未到 (each class's
    latest check) and the sweeps' 名在人不在 — in one list."""
    require(session, actor, Action.COMPARE_READ)
    rows: list[tuple] = []
    term = term_on(session, today())
    if term is not None:
        try:
            tid = term_id(session, term)
        except LookupError:
            tid = None
        latest = (
            select(func.max(RegistryCheck.id))
            .where(RegistryCheck.term_id == tid)
            .group_by(RegistryCheck.class_id)
        )
        checks = session.execute(
            select(RegistryCheck, School.name)
            .join(School, RegistryCheck.school_id == School.id)
            .where(col(RegistryCheck.id).in_(latest), school_condition(actor))
        ).all()
        missing = {
            int(f["student_id"]): (school, check.checked_on, f.get("detail") or "")
            for check, school in checks
            for f in check.findings
            if f.get("kind") == FindingKind.MISSING.value and f.get("student_id")
        }
        for sid, name, number in session.execute(
            select(Student.id, Student.name, Student.id_number).where(
                col(Student.id).in_(list(missing)), Student.status == StudentStatus.ENROLLED.value
            )
        ):
            school, on, detail = missing[sid]
            rows.append(
                ("人籍一致核查", school, name, _number(actor, number) or "", on, detail or "在册未到")
            )
    for name, number, school, on, reason in session.execute(
        select(
            SweepChild.name, SweepChild.id_number, School.name, SweepChild.recorded_at, SweepFinding.reason
        )
        .join(SweepChild, SweepFinding.sweep_child_id == SweepChild.id)
        .join(SweepVillage, SweepFinding.sweep_village_id == SweepVillage.id)
        .join(Sweep, SweepVillage.sweep_id == Sweep.id)
        .outerjoin(School, SweepFinding.school_id == School.id)
        .where(
            SweepFinding.kind == Finding.ENROLLED_ABSENT.value, this_terms_sweeps(), finding_condition(actor)
        )
    ):
        rows.append(("入户排查", school or "", name, _number(actor, number) or "", on.date(), reason))
    frame = pd.DataFrame(rows, columns=ABSENT_COLUMNS)
    words = search.split()
    for word in words:
        frame = frame[
            frame["姓名"].str.contains(word, regex=False) | frame["身份证号"].str.endswith(word.upper())
        ]
    return frame.sort_values(["学校", "姓名"]).reset_index(drop=True)


def export_absent(session: Session, *, actor: Actor, search: str = "") -> bytes:
    return export_table(
        session,
        actor=actor,
        action=Action.COMPARE_READ,
        frame=absent(session, actor=actor, search=search),
        sheet="学籍与在校比对",
        entity_type="school_age_child",
        detail="名在人不在",
    )


# ---- special groups and the persons placed nowhere ------------------------------------------------------------


def group_counts(session: Session, *, actor: Actor) -> pd.DataFrame:
    """Each special group from the departments' lists: the children (in the actor's townships), the source and
    the list's date."""
    require(session, actor, Action.COMPARE_READ)
    rows = session.execute(
        select(
            ChildGroup.category,
            ChildGroup.source,
            DeptList.list_date,
            func.count(func.distinct(ChildGroup.child_id)),
        )
        .join(DeptList, ChildGroup.list_id == DeptList.id)
        .join(Child, ChildGroup.child_id == Child.id)
        .join(Township, Child.township_id == Township.id)
        .where(_townships(actor))
        .group_by(ChildGroup.category, ChildGroup.source, DeptList.list_date)
        .order_by(ChildGroup.source, ChildGroup.category)
    ).all()
    return pd.DataFrame(
        [(CaseCategory(c).label, ListKind(s).label, on, n) for c, s, on, n in rows],
        columns=["特殊群体", "来源", "名单日期", "人数"],
    )


def unplaced(session: Session, *, actor: Actor) -> pd.DataFrame:
    """未能定位: persons of the 民政 and 残联 lists with no registry record and not on the register (the county's
    view only: they belong to no township yet)."""
    require(session, actor, Action.COMPARE_READ)
    county = actor_county_id(session, actor)
    if actor.scope_kind is not ScopeKind.COUNTY or county is None:
        return pd.DataFrame(columns=["名单", "姓名", "身份证号", "类别"])
    lists = lists_in_effect(session, county)
    return pd.DataFrame(
        [
            (kind.short, p.name, _number(actor, p.id_number) or "", p.category or "")
            for kind, p in groups.unplaced(session, county_id=county, lists=lists)
        ],
        columns=["名单", "姓名", "身份证号", "类别"],
    )


@dataclass(frozen=True)
class Headline:
    children: int
    to_verify: int
    out_of_school: int
    priority_out: int


def headline(session: Session, *, actor: Actor) -> Headline:
    """The ledger's figures for 概况: children of age known, to verify, out of school (and of them on the
    乡村振兴 list)."""
    require(session, actor, Action.COMPARE_READ)
    out = col(SAC.standing).in_([s.value for s in OUT_OF_SCHOOL])
    children, verify, out_count, priority = session.execute(
        select(
            func.count(),
            _count(SAC.standing == Standing.TO_VERIFY.value),
            _count(out),
            _count(and_(out, col(SAC.priority).is_not(None))),
        ).where(row_condition(actor))
    ).one()
    return Headline(int(children or 0), int(verify or 0), int(out_count or 0), int(priority or 0))


def townships(session: Session, *, actor: Actor) -> list[tuple[int, str]]:
    """The townships the actor may pick (id, name)."""
    return [
        (int(i), n)
        for i, n in session.execute(
            select(Township.id, Township.name).where(_townships(actor)).order_by(Township.code)
        )
    ]


def villages(session: Session, *, actor: Actor, township_id: int) -> list[tuple[int, str]]:
    """The villages of a township of the actor's (id, name)."""
    return [
        (int(i), n)
        for i, n in session.execute(
            select(Village.id, Village.name)
            .join(Township, Village.township_id == Township.id)
            .where(Village.township_id == township_id, _townships(actor))
            .order_by(Village.code)
        )
    ]
