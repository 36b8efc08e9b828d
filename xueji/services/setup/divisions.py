"""区划: townships and villages kept right over the years. Added (codes checked like the set-up workbook's),
renamed, closed when nothing current points at them, or merged into another: a village's code is retired into
the village that takes it (the current records of where children live follow; household codes and sweeps stay
as recorded), a township hands its villages, schools and children to the township that takes it. Nothing is
ever deleted; every change and every refusal is audited. Accounts are never re-scoped here (see rescope)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select, update
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    AppUser,
    Case,
    Child,
    County,
    RoleGrant,
    School,
    Student,
    Sweep,
    SweepVillage,
    Term,
    Township,
    Village,
)
from xueji.rules.cases import CaseStatus
from xueji.rules.division import DivisionCodeError, DivisionLevel, parse_division_code
from xueji.rules.sweeps import VillageStatus
from xueji.rules.text_limits import length_problem, too_long
from xueji.rules.vocab import Role, ScopeKind, StudentStatus
from xueji.services.common import lock_keys
from xueji.services.common.access import deny, require, township_condition
from xueji.services.common.refusals import audit_refusal
from xueji.services.setup.moves import MoveKind, write_moves

# Records a school or a village still answers for: on the roll, and dropouts it must bring back.
CURRENT = (StudentStatus.ENROLLED.value, StudentStatus.SUSPENDED.value, StudentStatus.DROPPED_OUT.value)
REASON_CHARS = 200  # record_move.reason


class DivisionError(ValueError):
    """A change to townships, villages or schools the rules refuse; the message is for the user, in Chinese."""


@contextmanager
def refusals_audited(
    session: Session, *, actor: Actor, action: str, entity_type: str, entity_id: object = None
) -> Iterator[None]:
    """Audit a DivisionError in a transaction of its own (it outlives the caller's rollback), then let it go on."""
    try:
        yield
    except DivisionError as error:
        audit_refusal(
            session, actor, action=action, entity_type=entity_type, entity_id=entity_id, message=str(error)
        )
        raise


def checked_name(name: str, field_name: str, label: str) -> str:
    """The name without surrounding spaces; refused when empty or longer than its column."""
    name = " ".join(name.split())
    if not name:
        raise DivisionError(f"请填写{label}")
    if problem := length_problem(name, field_name):
        raise DivisionError(f"{label}{problem}")
    return name


def checked_change(day: date, reason: str) -> tuple[date, str]:
    """A close's or merge's day (not after today: the records move now) and its reason (required, bounded)."""
    if day > today():
        raise DivisionError(f"撤并/关闭日期 {day:%Y-%m-%d} 晚于今天:请在生效当天或之后办理")
    reason = " ".join(reason.split())
    if not reason:
        raise DivisionError("请填写原因或依据(如:县政府关于调整行政区划的批复文号)")
    if problem := too_long(reason, REASON_CHARS):
        raise DivisionError(f"原因{problem}")
    return day, reason


def state_label(closed_on: date | None, merged_into: str | None) -> str:
    """在用, 已撤并到…(日期), or 已关闭于…."""
    if closed_on is None:
        return "在用"
    if merged_into:
        return f"已撤并到{merged_into}({closed_on:%Y-%m-%d})"
    return f"已关闭于 {closed_on:%Y-%m-%d}"


def refuse_closed(row: Township | Village | School, what: str) -> None:
    if row.closed_on is not None:
        how = "撤并" if row.merged_into_id is not None else "关闭"
        raise DivisionError(f"{what}“{row.name}”已于 {row.closed_on:%Y-%m-%d} {how},不能再办理")


def county_of(session: Session, actor: Actor) -> County:
    """The actor's county (an administrator's scope; the operator's, else the one county)."""
    county = session.get(County, actor.scope_id) if actor.scope_kind is ScopeKind.COUNTY else None
    if county is None and actor.role is Role.SYSTEM:
        county = session.scalar(select(County).order_by(County.id))
    if county is None:
        raise DivisionError("还没有县区:请先在“基础数据导入”中导入县区(或由服务器命令行导入基础数据)")
    return county


def township_for(session: Session, actor: Actor, township_id: int, action: Action) -> Township:
    """The township if it lies in the actor's county; otherwise the denial is audited."""
    require(session, actor, action)
    found = session.scalar(select(Township).where(Township.id == township_id, township_condition(actor)))
    if found is None:
        deny(
            session,
            actor,
            action.value,
            "该乡镇不在您的管辖范围内",
            entity_type="township",
            entity_id=township_id,
        )
    return found


def village_for(session: Session, actor: Actor, village_id: int, action: Action) -> Village:
    """The village if its township lies in the actor's county; otherwise the denial is audited."""
    require(session, actor, action)
    townships = select(Township.id).where(township_condition(actor))
    found = session.scalar(
        select(Village).where(Village.id == village_id, col(Village.township_id).in_(townships))
    )
    if found is None:
        deny(
            session,
            actor,
            action.value,
            "该村(社区)不在您的管辖范围内",
            entity_type="village",
            entity_id=village_id,
        )
    return found


@dataclass(frozen=True)
class AccountLeft:
    """An account scoped to what closes: not moved by the merge (separation of duties: see rescope)."""

    id: int
    username: str
    display_name: str
    role: str


@dataclass(frozen=True)
class Plan:
    """What a close or a merge does, counted before it is done (the preview) and as it was done (the result)."""

    action: str  # 撤并 or 关闭
    subject: str  # e.g. 学校“古港镇梅田小学”
    target: str | None  # what takes it over (a merge)
    moves: list[tuple[int, str]] = field(default_factory=list)  # (count, what), e.g. (312, "名学生")
    notes: list[str] = field(default_factory=list)  # what stays as history, warnings
    accounts: list[AccountLeft] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)  # why it cannot be done now

    @property
    def summary(self) -> str:
        moved = "、".join(f"{n} {what}" for n, what in self.moves if n)
        if self.target:
            text = f"将{self.subject}撤并到{self.target}:" + (
                f"移动 {moved}" if moved else "没有需要移动的记录"
            )
        else:
            text = f"将关闭{self.subject}"
        if self.accounts:
            text += f";{len(self.accounts)} 个账号仍属{self.subject},不会自动改范围"
        return text

    def refuse_if_blocked(self) -> None:
        if self.blockers:
            raise DivisionError(f"不能{self.action}{self.subject}:" + ";".join(self.blockers))


def accounts_left(session: Session, scope_kind: ScopeKind, scope_id: int) -> list[AccountLeft]:
    """The active accounts whose scope is this township or school."""
    column = AppUser.township_id if scope_kind is ScopeKind.TOWNSHIP else AppUser.school_id
    rows = session.execute(
        select(AppUser.id, AppUser.username, AppUser.display_name, AppUser.role)
        .where(column == scope_id, AppUser.scope_kind == scope_kind.value, col(AppUser.is_active).is_(True))
        .order_by(AppUser.username)
    )
    return [AccountLeft(i, u, n, Role(r).label) for i, u, n, r in rows]


def pending_grants(session: Session, scope_kind: ScopeKind, scope_id: int) -> list[str]:
    """Account requests waiting for approval whose scope is this township or school, named for a blocker."""
    column = RoleGrant.township_id if scope_kind is ScopeKind.TOWNSHIP else RoleGrant.school_id
    names = session.scalars(
        select(RoleGrant.username).where(
            column == scope_id, RoleGrant.scope_kind == scope_kind.value, RoleGrant.status == "pending"
        )
    ).all()
    if not names:
        return []
    return [f"有 {len(names)} 条待批准的账号申请的范围是它({'、'.join(names[:5])}):请先批准、驳回或撤回"]


def sweeping(session: Session, villages: Select) -> list[str]:
    """Sweeps of these villages still under way this term (not yet reviewed), named for a blocker."""
    open_villages = session.execute(
        select(Village.name, func.count())
        .join(SweepVillage, SweepVillage.village_id == Village.id)
        .join(Sweep, SweepVillage.sweep_id == Sweep.id)
        .join(Term, Sweep.term_id == Term.id)
        .where(
            col(Village.id).in_(villages),
            SweepVillage.status != VillageStatus.REVIEWED.value,
            Term.end_date >= today(),
        )
        .group_by(Village.name)
    ).all()
    if not open_villages:
        return []
    names = "、".join(name for name, _ in open_villages[:5])
    return [f"本学期的拉网式排查在 {len(open_villages)} 个村(社区)尚未审核({names}):请审核完成后再办理"]


def _open_cases_of(children: Select) -> Select:
    return select(func.count()).where(
        col(Case.child_id).in_(children), Case.status != CaseStatus.CLOSED.value
    )


def _check_code(session: Session, county: County, text: str, level: DivisionLevel, what: str) -> str:
    try:
        code = parse_division_code(text)
    except DivisionCodeError as error:
        raise DivisionError(str(error)) from None
    if code.level is not level:
        raise DivisionError(f"{code.code} 不是{what}一级的行政区划代码")
    if code.county_code != county.code:
        raise DivisionError(f"{code.code} 不在本县区({county.name} {county.code})内")
    for model, kind in ((Township, "乡镇"), (Village, "村(社区)")):
        taken = session.scalar(select(model).where(model.code == code.code))
        if taken is not None:
            state = "" if taken.closed_on is None else ",已撤并或关闭:区划代码不重复使用"
            raise DivisionError(f"代码 {code.code} 已属于{kind}“{taken.name}”{state}")
    return code.code


def _current_township(session: Session, township: Township) -> Township:
    """The township in use that holds this one now (itself, or the one it was merged into, followed)."""
    seen = {township.id}
    while township.closed_on is not None and township.merged_into_id not in (None, *seen):
        township = session.get_one(Township, township.merged_into_id)
        seen.add(township.id)
    return township


def _same_name(session: Session, model: type, name: str, **where: int) -> None:
    query = select(model.id).where(model.name == name, col(model.closed_on).is_(None))  # type: ignore[attr-defined]
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    if session.scalar(query) is not None:
        raise DivisionError(f"已有名为“{name}”的在用区划,请核对后再添加或改名")


@unit_of_work
def add_township(session: Session, *, actor: Actor, code: str, name: str) -> Township:
    """Add a township of the actor's county: a 12-digit township code of the county, not used before."""
    require(session, actor, Action.SETUP_MANAGE)
    with refusals_audited(session, actor=actor, action="create", entity_type="township", entity_id=code[:40]):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        county = county_of(session, actor)
        code = _check_code(session, county, code, DivisionLevel.TOWNSHIP, "乡镇")
        name = checked_name(name, "township.name", "乡镇名称")
        _same_name(session, Township, name, county_id=int(county.id or 0))
        township = Township(county_id=county.id, code=code, name=name)
        session.add(township)
        session.flush()
        record(
            session,
            actor=actor,
            action="create",
            entity_type="township",
            entity_id=township.id,
            after={"code": code, "name": name},
            detail=f"新增乡镇 {code} {name}",
        )
    session.commit()
    return township


@unit_of_work
def add_village(session: Session, *, actor: Actor, code: str, name: str) -> Village:
    """Add a village: its township is its code's first 9 digits + 000 (or the township that took that one over)."""
    require(session, actor, Action.SETUP_MANAGE)
    with refusals_audited(session, actor=actor, action="create", entity_type="village", entity_id=code[:40]):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        county = county_of(session, actor)
        code = _check_code(session, county, code, DivisionLevel.VILLAGE, "村(社区)")
        name = checked_name(name, "village.name", "村(社区)名称")
        township_code = parse_division_code(code).township_code
        by_code = session.scalar(select(Township).where(Township.code == township_code))
        if by_code is None:
            raise DivisionError(f"没有代码为 {township_code} 的乡镇:请先添加乡镇")
        township = _current_township(session, by_code)
        refuse_closed(township, "乡镇")
        _same_name(session, Village, name, township_id=int(township.id or 0))
        village = Village(township_id=township.id, code=code, name=name)
        session.add(village)
        session.flush()
        record(
            session,
            actor=actor,
            action="create",
            entity_type="village",
            entity_id=village.id,
            after={"code": code, "name": name, "township_id": township.id},
            detail=f"新增村(社区){code} {name},属{township.name}",
        )
    session.commit()
    return village


def renamed(session: Session, actor: Actor, row: Township | Village | School, name: str, what: str) -> bool:
    """Give a division or school in use a new name, audited; False when the name is the same."""
    refuse_closed(row, what)
    table = type(row).__tablename__
    name = checked_name(name, f"{table}.name", f"{what}名称")
    if name == row.name:
        return False
    where = {"county_id": row.county_id} if isinstance(row, Township) else {"township_id": row.township_id}
    _same_name(session, type(row), name, **where)
    before = row.name
    row.name = name
    record(
        session,
        actor=actor,
        action="update",
        entity_type=table,
        entity_id=row.id,
        before={"name": before},
        after={"name": name},
        detail=f"{what}改名:{before} → {name}",
    )
    return True


@unit_of_work
def rename_township(session: Session, *, actor: Actor, township_id: int, name: str) -> bool:
    """Rename a township in use (its code stays); False when the name did not change."""
    with refusals_audited(
        session, actor=actor, action="update", entity_type="township", entity_id=township_id
    ):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        changed = renamed(
            session, actor, township_for(session, actor, township_id, Action.SETUP_MANAGE), name, "乡镇"
        )
    session.commit()
    return changed


@unit_of_work
def rename_village(session: Session, *, actor: Actor, village_id: int, name: str) -> bool:
    """Rename a village in use (its code stays); False when the name did not change."""
    with refusals_audited(session, actor=actor, action="update", entity_type="village", entity_id=village_id):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        changed = renamed(
            session, actor, village_for(session, actor, village_id, Action.SETUP_MANAGE), name, "村(社区)"
        )
    session.commit()
    return changed


def _village_plan(session: Session, village: Village, into: Village | None) -> Plan:
    subject = f"村(社区)“{village.name}”"
    ids = select(Village.id).where(Village.id == village.id)
    living = select(Student.id).where(Student.home_village_id == village.id)
    current = session.scalar(
        select(func.count()).where(col(Student.id).in_(living), col(Student.status).in_(CURRENT))
    )
    children = select(Child.id).where(Child.village_id == village.id)
    cases = session.scalar(_open_cases_of(children)) or 0
    blockers = sweeping(session, ids)
    if into is None:
        if current:
            blockers.append(f"还有 {current} 名在籍或辍学学生的家庭住在这里:请把它撤并到接收的村(社区)")
        if cases:
            blockers.append(f"还有 {cases} 个未结个案的儿童住在这里:请把它撤并到接收的村(社区)")
        return Plan("关闭", subject, None, blockers=blockers)
    if into.id == village.id:
        blockers.append("不能撤并到它自己")
    moves = [
        (session.scalar(select(func.count()).where(col(Student.id).in_(living))) or 0, "份学籍的家庭所在村"),
        (session.scalar(select(func.count()).where(col(Child.id).in_(children))) or 0, "名个案儿童的居住村"),
    ]
    notes = [
        f"其中 {current} 名在籍或辍学学生、{cases} 个未结个案",
        "户口所在地代码、以往的排查记录保持原样(历史)",
    ]
    return Plan("撤并", subject, f"“{into.name}”", moves, notes, blockers=blockers)


def _village_pair(
    session: Session, actor: Actor, village_id: int, into_id: int | None
) -> tuple[Village, Village | None]:
    village = village_for(session, actor, village_id, Action.SETUP_MANAGE)
    into = None if into_id is None else village_for(session, actor, into_id, Action.SETUP_MANAGE)
    refuse_closed(village, "村(社区)")
    if into is not None and into.id != village.id:
        refuse_closed(into, "接收的村(社区)")
    return village, into


def preview_village_change(session: Session, *, actor: Actor, village_id: int, into_id: int | None) -> Plan:
    """What closing a village (into_id None) or merging it into another would do; nothing is written."""
    require(session, actor, Action.SETUP_MANAGE)
    try:
        village, into = _village_pair(session, actor, village_id, into_id)
    except DivisionError as error:
        return Plan("撤并" if into_id else "关闭", "该村(社区)", None, blockers=[str(error)])
    return _village_plan(session, village, into)


@unit_of_work
def change_village(
    session: Session, *, actor: Actor, village_id: int, into_id: int | None, on: date, reason: str
) -> Plan:
    """Close a village (nothing current lives there) or merge it into another: its code is retired into the
    other's; students' home village and cases' children follow, each student's move recorded."""
    action = "division_merge" if into_id else "division_close"
    with refusals_audited(session, actor=actor, action=action, entity_type="village", entity_id=village_id):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        village, into = _village_pair(session, actor, village_id, into_id)
        on, reason = checked_change(on, reason)
        plan = _village_plan(session, village, into)
        plan.refuse_if_blocked()
        before = {"closed_on": None, "merged_into_id": None}
        if into is not None:
            students = session.scalars(select(Student.id).where(Student.home_village_id == village.id)).all()
            session.execute(
                update(Student).where(col(Student.id).in_(students)).values(home_village_id=into.id)
            )
            session.execute(
                update(Child)
                .where(Child.village_id == village.id)
                .values(village_id=into.id, township_id=into.township_id)
            )
            write_moves(
                session,
                actor=actor,
                kind=MoveKind.VILLAGE_MERGE,
                moved_on=on,
                reason=reason,
                rows=(
                    {"student_id": s, "from_village_id": village.id, "to_village_id": into.id}
                    for s in students
                ),
            )
        village.closed_on, village.merged_into_id = on, into.id if into else None
        record(
            session,
            actor=actor,
            action=action,
            entity_type="village",
            entity_id=village.id,
            before=before,
            after={
                "closed_on": on,
                "merged_into_id": village.merged_into_id,
                "moved": dict(_flip(plan.moves)),
            },
            detail=f"{plan.summary};原因:{reason}",
        )
    session.commit()
    return plan


def _flip(moves: list[tuple[int, str]]) -> list[tuple[str, int]]:
    return [(what, n) for n, what in moves]


def _township_plan(session: Session, township: Township, into: Township | None) -> Plan:
    subject = f"乡镇“{township.name}”"
    villages = select(Village.id).where(Village.township_id == township.id)
    schools = select(School.id).where(School.township_id == township.id)
    children = select(Child.id).where(Child.township_id == township.id)
    blockers = sweeping(session, villages) + pending_grants(
        session, ScopeKind.TOWNSHIP, int(township.id or 0)
    )
    accounts = accounts_left(session, ScopeKind.TOWNSHIP, int(township.id or 0))
    if into is None:
        open_villages = session.scalar(
            select(func.count()).where(col(Village.id).in_(villages), col(Village.closed_on).is_(None))
        )
        open_schools = session.scalar(
            select(func.count()).where(col(School.id).in_(schools), col(School.closed_on).is_(None))
        )
        cases = session.scalar(_open_cases_of(children)) or 0
        if open_villages or open_schools:
            blockers.append(
                f"还有 {open_villages} 个在用的村(社区)、{open_schools} 所在用的学校:"
                "请先把它们撤并,或把整个乡镇撤并到接收的乡镇"
            )
        if cases:
            blockers.append(f"还有 {cases} 个未结个案的儿童住在这里:请把乡镇撤并到接收的乡镇")
        notes = ["该乡镇的账号请在“账号管理”中停用或申请改范围"] if accounts else []
        return Plan("关闭", subject, None, notes=notes, accounts=accounts, blockers=blockers)
    if into.id == township.id:
        blockers.append("不能撤并到它自己")
    count = {name: session.scalar(select(func.count()).where(col(c.id).in_(q))) or 0 for name, c, q in (
        ("villages", Village, villages), ("schools", School, schools), ("children", Child, children),
    )}  # fmt: skip
    moves = [
        (count["villages"], "个村(社区)"),
        (count["schools"], "所学校"),
        (count["children"], "名个案儿童的居住乡镇"),
    ]
    notes = ["村(社区)和学校的代码不变;以往的拉网式排查仍记在原乡镇名下(历史)"]
    if accounts:
        notes.append("原乡镇的账号不会自动改到接收乡镇:撤并后可为其申请改范围,经审批后生效")
    return Plan("撤并", subject, f"“{into.name}”", moves, notes, accounts, blockers)


def _township_pair(
    session: Session, actor: Actor, township_id: int, into_id: int | None
) -> tuple[Township, Township | None]:
    township = township_for(session, actor, township_id, Action.SETUP_MANAGE)
    into = None if into_id is None else township_for(session, actor, into_id, Action.SETUP_MANAGE)
    refuse_closed(township, "乡镇")
    if into is not None and into.id != township.id:
        refuse_closed(into, "接收的乡镇")
    return township, into


def preview_township_change(session: Session, *, actor: Actor, township_id: int, into_id: int | None) -> Plan:
    """What closing a township (into_id None) or merging it into another would do; nothing is written."""
    require(session, actor, Action.SETUP_MANAGE)
    try:
        township, into = _township_pair(session, actor, township_id, into_id)
    except DivisionError as error:
        return Plan("撤并" if into_id else "关闭", "该乡镇", None, blockers=[str(error)])
    return _township_plan(session, township, into)


@unit_of_work
def change_township(
    session: Session, *, actor: Actor, township_id: int, into_id: int | None, on: date, reason: str
) -> Plan:
    """Close a township (nothing in use left in it) or merge it into another: its villages, schools and the
    children living there move to the other, each village's and school's move recorded."""
    action = "division_merge" if into_id else "division_close"
    with refusals_audited(session, actor=actor, action=action, entity_type="township", entity_id=township_id):
        write_lock(session, lock_keys.county(session, actor))  # the county's set-up
        township, into = _township_pair(session, actor, township_id, into_id)
        on, reason = checked_change(on, reason)
        plan = _township_plan(session, township, into)
        plan.refuse_if_blocked()
        if into is not None:
            rows: list[dict[str, int | None]] = []
            for key, ids in (
                ("village_id", select(Village.id).where(Village.township_id == township.id)),
                ("school_id", select(School.id).where(School.township_id == township.id)),
            ):
                rows += (
                    {key: i, "from_township_id": township.id, "to_township_id": into.id}
                    for i in session.scalars(ids)
                )
            session.execute(
                update(Village).where(Village.township_id == township.id).values(township_id=into.id)
            )
            session.execute(
                update(School).where(School.township_id == township.id).values(township_id=into.id)
            )
            session.execute(update(Child).where(Child.township_id == township.id).values(township_id=into.id))
            write_moves(
                session, actor=actor, kind=MoveKind.TOWNSHIP_MERGE, moved_on=on, reason=reason, rows=rows
            )
        township.closed_on, township.merged_into_id = on, into.id if into else None
        record(
            session,
            actor=actor,
            action=action,
            entity_type="township",
            entity_id=township.id,
            before={"closed_on": None, "merged_into_id": None},
            after={
                "closed_on": on,
                "merged_into_id": township.merged_into_id,
                "moved": dict(_flip(plan.moves)),
                "accounts_left": [a.username for a in plan.accounts],
            },
            detail=f"{plan.summary};原因:{reason}",
        )
    session.commit()
    return plan
