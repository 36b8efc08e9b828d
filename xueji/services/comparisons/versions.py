"""The versions of a county's department lists and what changed between them: each import is a new version
(the latest is in effect); against the version before it, by person_key, who is new, who left, and whose
village or category changed. Counts in SQL; the lists themselves exportable (audited, ID numbers masked
unless the role sees them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.models import AppUser, DeptList, DeptPerson, Township, Village
from xueji.rules.dept_lists import ListKind
from xueji.rules.masking import mask_id_number
from xueji.rules.vocab import ScopeKind
from xueji.services.common.access import actor_county_id, deny, require, sees_full_identifiers
from xueji.services.common.exports import export_tables


@dataclass(frozen=True)
class ChangeCounts:
    """Against the version before (None when there is none: every person is new)."""

    new: int
    left: int
    changed: int
    first: bool = False

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "left": self.left, "changed": self.changed}

    def text(self) -> str:
        if self.first:
            return "首次导入"
        if not (self.new or self.left or self.changed):
            return "与上一版本相比没有变化"
        return f"与上一版本相比:新增 {self.new} 人,移出 {self.left} 人,信息变化 {self.changed} 人"


@dataclass(frozen=True)
class VersionRow:
    id: int
    kind: ListKind
    version: int
    list_date: date
    rows: int
    file_name: str
    imported_by: str
    imported_at: datetime


def officer_county(session: Session, actor: Actor) -> int:
    """The county whose lists the actor imports and reads (their versions and differences hold every listed
    child of the county): a county officer's own (LISTS_IMPORT); anyone else is refused, audited."""
    require(session, actor, Action.LISTS_IMPORT)
    county = actor_county_id(session, actor) if actor.scope_kind is ScopeKind.COUNTY else None
    if county is None:
        deny(session, actor, Action.LISTS_IMPORT.value, "部门名单只能由县级账号为本县导入和查看")
    return county


def _rows(session: Session, *where: ColumnElement[bool]) -> list[VersionRow]:
    found = session.execute(
        select(DeptList, AppUser.display_name)
        .outerjoin(AppUser, DeptList.imported_by == AppUser.id)
        .where(*where)
        .order_by(DeptList.kind, col(DeptList.version).desc())
    ).all()
    return [
        VersionRow(
            int(v.id or 0),
            ListKind(v.kind),
            v.version,
            v.list_date,
            v.row_count,
            v.file_name,
            who or "",
            v.imported_at,
        )  # fmt: skip
        for v, who in found
    ]


def in_effect(session: Session, *, county_id: int, kind: ListKind) -> VersionRow | None:
    """The latest version of the county's list of this kind (the one in effect), or None."""
    latest = (
        select(func.max(DeptList.version))
        .where(DeptList.county_id == county_id, DeptList.kind == kind.value)
        .scalar_subquery()
    )
    rows = _rows(
        session, DeptList.county_id == county_id, DeptList.kind == kind.value, DeptList.version == latest
    )
    return rows[0] if rows else None


def current_versions(session: Session, *, actor: Actor) -> dict[ListKind, VersionRow | None]:
    """Each kind's version in effect in the actor's county (None: never imported)."""
    county_id = officer_county(session, actor)
    return {kind: in_effect(session, county_id=county_id, kind=kind) for kind in ListKind}


def list_versions(session: Session, *, actor: Actor, kind: ListKind | None = None) -> list[VersionRow]:
    """The versions of the actor's county's lists (of one kind, or all), newest first within each kind."""
    county_id = officer_county(session, actor)
    where = [DeptList.county_id == county_id]
    if kind is not None:
        where.append(DeptList.kind == kind.value)
    return _rows(session, *where)


def _previous(session: Session, version: DeptList) -> int | None:
    return session.scalar(
        select(DeptList.id)
        .where(
            DeptList.county_id == version.county_id,
            DeptList.kind == version.kind,
            col(DeptList.version) < version.version,
        )
        .order_by(col(DeptList.version).desc())
        .limit(1)
    )


def change_counts(session: Session, version: DeptList) -> ChangeCounts:
    """New, left and changed (village or category) against the version before, counted in SQL."""
    previous = _previous(session, version)
    if previous is None:
        return ChangeCounts(version.row_count, 0, 0, first=True)
    a, b = aliased(DeptPerson), aliased(DeptPerson)

    def absent(here: int, there: int) -> int:
        other = exists().where(b.list_id == there, b.person_key == a.person_key)
        return session.scalar(select(func.count()).select_from(a).where(a.list_id == here, ~other)) or 0

    changed = session.scalar(
        select(func.count())
        .select_from(a)
        .join(b, and_(b.list_id == previous, b.person_key == a.person_key))
        .where(
            a.list_id == version.id,
            or_(
                col(a.village_id).is_distinct_from(b.village_id),
                col(a.category).is_distinct_from(b.category),
            ),
        )
    )
    return ChangeCounts(
        absent(int(version.id or 0), previous), absent(previous, int(version.id or 0)), changed or 0
    )


def counts_of(session: Session, *, actor: Actor, rows: list[VersionRow]) -> dict[int, ChangeCounts]:
    """Each listed version's changes against the one before it."""
    officer_county(session, actor)
    found = {}
    for row in rows:
        version = session.get(DeptList, row.id)
        assert version is not None
        found[row.id] = change_counts(session, version)
    return found


def versions_frame(rows: list[VersionRow], changes: dict[int, ChangeCounts]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                f"第{r.version}版",
                r.list_date,
                r.rows,
                changes[r.id].new,
                None if changes[r.id].first else changes[r.id].left,
                None if changes[r.id].first else changes[r.id].changed,
                r.file_name or None,
                r.imported_by or None,
                r.imported_at,
            )
            for r in rows
        ],
        columns=["版本", "名单日期", "人数", "新增", "移出", "信息变化", "文件", "导入人", "导入时间"],
    )


@dataclass(frozen=True)
class Difference:
    version: VersionRow
    previous: int | None  # the previous version's number
    new: pd.DataFrame
    left: pd.DataFrame
    changed: pd.DataFrame


_PERSON = ["姓名", "身份证号", "性别", "出生日期", "乡镇", "村(社区)", "类别"]


def _shown_columns(kind: ListKind) -> list[str]:
    """户籍 gives the village and no category; the other lists a category and no village."""
    absent = ("类别",) if kind is ListKind.RESIDENTS else ("乡镇", "村(社区)")
    return [c for c in _PERSON if c not in absent]


PARTS = {"new": "新增", "left": "移出", "changed": "信息变化"}


def _part_query(version: DeptList, previous_id: int | None, part: str) -> Select:
    """The persons of one part of the difference, in the list's row order: new (on this version, not on the one
    before), left (on the one before, not on this) or changed (on both, another village or category)."""
    a, b = aliased(DeptPerson), aliased(DeptPerson)
    village, township, old_village = aliased(Village), aliased(Township), aliased(Village)
    here, there = (previous_id, version.id) if part == "left" else (version.id, previous_id)
    query = (
        select(
            a.name,
            a.id_number,
            a.sex,
            a.birth_date,
            col(township.name).label("township"),
            col(village.name).label("village"),
            a.category,
        )
        .outerjoin(village, a.village_id == village.id)
        .outerjoin(township, village.township_id == township.id)
        .where(a.list_id == here if here is not None else false())
        .order_by(a.row_number, a.id)
    )
    if part != "changed":
        return query.where(~exists().where(b.list_id == there, b.person_key == a.person_key))
    return (
        query.add_columns(
            col(a.village_id).is_distinct_from(b.village_id).label("moved"),
            col(old_village.name).label("old_village"),
            col(b.category).label("old_category"),
        )
        .join(b, and_(b.list_id == there, b.person_key == a.person_key))
        .outerjoin(old_village, b.village_id == old_village.id)
        .where(
            or_(
                col(a.village_id).is_distinct_from(b.village_id),
                col(a.category).is_distinct_from(b.category),
            )
        )
    )


def _part_frame(
    session: Session, actor: Actor, version: DeptList, part: str, offset: int, limit: int | None
) -> pd.DataFrame:
    full = sees_full_identifiers(actor)
    columns = _shown_columns(ListKind(version.kind))
    found = []
    for r in session.execute(
        _part_query(version, _previous(session, version), part).offset(offset).limit(limit)
    ):
        person = {
            "姓名": r.name,
            "身份证号": r.id_number if full else mask_id_number(r.id_number),
            "性别": r.sex,
            "出生日期": r.birth_date,
            "乡镇": r.township,
            "村(社区)": r.village,
            "类别": r.category,
        }
        shown = {k: person[k] for k in columns}
        if part == "changed":
            what = [f"村(社区):{r.old_village or '无'} → {r.village or '无'}"] if r.moved else []
            if r.old_category != r.category:
                what.append(f"类别:{r.old_category or '无'} → {r.category or '无'}")
            shown["变化"] = ";".join(what)
        found.append(shown)
    return pd.DataFrame(found, columns=[*columns, "变化"] if part == "changed" else columns)


def _version_in_scope(session: Session, actor: Actor, list_id: int) -> DeptList:
    county_id = officer_county(session, actor)
    version = session.get(DeptList, list_id)
    if version is None or version.county_id != county_id:
        deny(
            session, actor, Action.LISTS_IMPORT.value, "该名单版本不在您的管辖范围内", entity_type="dept_list"
        )
    return version


def difference_page(
    session: Session, *, actor: Actor, list_id: int, part: str, offset: int = 0, limit: int | None = 50
) -> pd.DataFrame:
    """One page of one part of a version's difference (new, left or changed: PARTS), paged in SQL; the
    counts are change_counts'."""
    return _part_frame(session, actor, _version_in_scope(session, actor, list_id), part, offset, limit)


def difference(session: Session, *, actor: Actor, list_id: int) -> Difference:
    """Who is new on this version, who left since the one before, and whose village or category changed
    (every row: for the export)."""
    version = _version_in_scope(session, actor, list_id)
    previous_id = _previous(session, version)
    previous = session.get(DeptList, previous_id) if previous_id else None
    (row,) = _rows(session, DeptList.id == list_id)
    parts = [_part_frame(session, actor, version, part, 0, None) for part in PARTS]
    return Difference(row, previous.version if previous else None, *parts)


def export_difference(session: Session, *, actor: Actor, list_id: int) -> bytes:
    """The difference as a workbook of three sheets (新增, 移出, 信息变化), audited."""
    found = difference(session, actor=actor, list_id=list_id)
    v = found.version
    against = f"与第{found.previous}版相比" if found.previous else "首次导入"
    return export_tables(
        session,
        actor=actor,
        action=Action.LISTS_IMPORT,
        sheets={"新增": found.new, "移出": found.left, "信息变化": found.changed},
        title=f"{v.kind.label}第{v.version}版({v.list_date:%Y-%m-%d})变化名单",
        detail=against + ("" if sees_full_identifiers(actor) else ";身份证号已脱敏"),
        entity_type="dept_list",
    )
