"""基础数据导入: the set-up workbook (市州, 县区, 乡镇, 村社区, 学校, 学期; any of them) read in the reading process, every
row checked against the workbook and the database (rules.setup_rows, rules.term_calendar), a plan of what is new,
what changes and what is unchanged per sheet, then all of it written in one unit of work, or nothing.

Importing the same file again changes nothing; a newer file renames and adds; nothing is ever deleted (closing
and merging are done on the 区划与学校 page, and a closed one is never reopened by an import). One county per
deployment, or, with a 市州 sheet (a city's or province's deployment), several counties each inside its city; a
city's province follows from its code (rules.provinces). Each created or changed row has its audit entry (before/after), and the import one entry with the
file's SHA-256 and the counts per sheet."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from xueji.audit import Entry, record_many
from xueji.auth import Action, Actor
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.excel import setup_template
from xueji.excel.limits import ImportKind, TemplateError
from xueji.excel.simple_table import SheetSpec, TableRow, read_tables
from xueji.locks import write_lock
from xueji.models import AppUser, City, County, Province, School, Township, Village
from xueji.rules.provinces import province_name
from xueji.rules.setup_rows import (
    ALL_SHEETS,
    CITY_COLUMNS,
    CITY_SHEET,
    COLUMNS,
    COUNTY_SHEET,
    SCHOOL_SHEET,
    SHEETS,
    TERM_SHEET,
    TOWNSHIP_SHEET,
    VILLAGE_SHEET,
    CheckedRows,
    Existing,
    Known,
    SetupProblem,
    check_setup_rows,
)
from xueji.rules.term_calendar import TermRow, check_term_rows, term_label
from xueji.rules.vocab import SchoolKind, ScopeKind
from xueji.services.common.access import require
from xueji.services.common.uploads import record_file_refusal, refusals_audited

# the 区划与学校 page's rule for a school's kind, shared (not copied)
from xueji.services.setup.school_merge import current_stages, stage_problem
from xueji.services.setup.terms import (
    TermSaved,
    TermView,
    apply_terms,
    holiday_name_of,
    outside_words,
    records_outside,
    stored_terms,
)

SPECS = tuple(
    SheetSpec(sheet, headers, tuple(headers)) for sheet, headers in COLUMNS.items()
)  # a lone county's
ALL_SPECS = (SheetSpec(CITY_SHEET, CITY_COLUMNS, tuple(CITY_COLUMNS)), *SPECS)  # and a city's (市州)
NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"
STATUS_LABELS = {NEW: "新增", CHANGED: "修改", UNCHANGED: "不变"}
_WHAT = {TOWNSHIP_SHEET: "乡镇", VILLAGE_SHEET: "村(社区)", SCHOOL_SHEET: "学校"}


class SetupImportBlocked(ValueError):
    """Rows have problems: nothing was written."""


@dataclass(frozen=True)
class PlanItem:
    sheet: str
    row: int
    code: str
    name: str
    status: str  # NEW, CHANGED or UNCHANGED
    changes: tuple[str, ...] = ()  # e.g. 名称:旧名 → 新名


@dataclass
class SetupCheck:
    """A checked workbook: its rows (for the error workbook), every problem, and the plan per sheet."""

    file_name: str
    digest: str
    rows: dict[str, list[TableRow]]  # the sheets the workbook has
    problems: list[SetupProblem] = field(default_factory=list)
    items: list[PlanItem] = field(default_factory=list)
    checked: CheckedRows = field(default_factory=CheckedRows)
    terms: list[TermRow] = field(default_factory=list)

    @property
    def sheets(self) -> list[str]:
        return [s for s in ALL_SHEETS if s in self.rows]

    @property
    def bad_rows(self) -> set[tuple[str, int]]:
        return {(p.sheet, p.row) for p in self.problems}

    def counts(self, sheet: str) -> dict[str, int]:
        found = Counter(i.status for i in self.items if i.sheet == sheet)
        return {status: found[status] for status in (NEW, CHANGED, UNCHANGED)}

    @property
    def changes(self) -> int:
        return sum(1 for i in self.items if i.status != UNCHANGED)

    def summary(self) -> str:
        parts = []
        for sheet in self.sheets:
            counts = self.counts(sheet)
            words = ",".join(f"{STATUS_LABELS[s]} {n}" for s, n in counts.items() if n) or "无数据行"
            parts.append(f"{sheet}:{words}")
        return ";".join(parts)


@dataclass(frozen=True)
class SetupResult:
    check: SetupCheck
    terms: list[TermSaved]
    accounts_given_county: int

    @property
    def summary(self) -> str:
        text = self.check.summary()
        if self.accounts_given_county:
            # the administrator and the built-in operator, made before there was a county
            text += f";此前建立的 {self.accounts_given_county} 个县级账号(如系统管理员)的管辖范围已设为本县区"
        moved = sum(len(t.sweeps_moved) for t in self.terms)
        if moved:
            text += f";{moved} 个未完成排查的完成期限已随开学日期调整"
        return text


def _closed_reason(what: str, row: Township | Village | School, names: dict[int, str]) -> str | None:
    if row.closed_on is None and row.merged_into_id is None:
        return None
    when = f"于 {row.closed_on:%Y-%m-%d} " if row.closed_on else ""
    how = f"撤并到{names.get(row.merged_into_id, '')}" if row.merged_into_id else "关闭"
    return f"该{what}已{when}{how},如需恢复请在“区划与学校”页办理"


def _existing(session: Session) -> Existing:
    """The database's cities, counties, townships, villages and schools, by code, for the checks."""
    county = session.execute(select(County.code, County.name).order_by(County.id)).first()
    counties = session.execute(
        select(County.code, County.name, City.code).outerjoin(City, col(County.city_id) == City.id)
    ).all()
    cities = session.execute(select(City.code, City.name, Province.code).outerjoin(Province)).all()
    townships = list(session.execute(select(Township, County.code).join(County)).all())
    township_code = {t.id: t.code for t, _ in townships}
    township_names = {t.id: t.name for t, _ in townships}
    villages = list(session.scalars(select(Village)))
    village_names = {v.id: v.name for v in villages}
    schools = list(session.scalars(select(School)))
    school_names = {s.id: s.name for s in schools}
    return Existing(
        county=(county[0], county[1]) if county else None,
        counties={code: Known(name, city or "") for code, name, city in counties},
        cities={code: Known(name, province or "") for code, name, province in cities},
        townships={
            t.code: Known(t.name, county_code, _closed_reason("乡镇", t, township_names))
            for t, county_code in townships
        },
        villages={
            v.code: Known(v.name, township_code[v.township_id], _closed_reason("村(社区)", v, village_names))
            for v in villages
        },
        schools={
            s.code: Known(
                s.name, township_code[s.township_id], _closed_reason("学校", s, school_names), kind=s.kind
            )
            for s in schools
        },
    )


def _kind_label(value: str) -> str:
    try:
        return SchoolKind(value).label
    except ValueError:
        return value


def _plan_above_townships(check: SetupCheck, existing: Existing) -> None:
    """What each good 市州 and 县区 row does: new, renamed, or a lone county joining its city."""
    found = check.checked
    items = check.items
    for r in found.cities:
        old = existing.cities.get(r.code)
        if old is None:
            items.append(PlanItem(CITY_SHEET, r.row, r.code, r.name, NEW, (province_name(r.code) or "",)))
        else:
            renamed = (f"名称:{old.name} → {r.name}",) if old.name != r.name else ()
            items.append(
                PlanItem(CITY_SHEET, r.row, r.code, r.name, CHANGED if renamed else UNCHANGED, renamed)
            )
    city_names = {code: k.name for code, k in existing.cities.items()} | {
        r.code: r.name for r in found.cities
    }
    known_counties = existing.all_counties()
    for c in found.counties:
        old = known_counties.get(c.code)
        if old is None:
            where = (city_names.get(c.parent, c.parent),) if c.parent else ()
            items.append(PlanItem(COUNTY_SHEET, c.row, c.code, c.name, NEW, where))
            continue
        changes = [f"名称:{old.name} → {c.name}"] if old.name != c.name else []
        if c.parent and old.parent != c.parent:  # a lone county joins its city
            before = city_names.get(old.parent, old.parent) if old.parent else "无"
            changes.append(f"所属市州:{before} → {city_names.get(c.parent, c.parent)}")
        items.append(
            PlanItem(COUNTY_SHEET, c.row, c.code, c.name, CHANGED if changes else UNCHANGED, tuple(changes))
        )


def _plan(check: SetupCheck, existing: Existing, stored: dict[tuple[int, int], tuple]) -> None:
    """What each good row does: new, changed (how) or unchanged."""
    found = check.checked
    items = check.items
    _plan_above_townships(check, existing)
    for sheet, rows, known in (
        (TOWNSHIP_SHEET, found.townships, existing.townships),
        (VILLAGE_SHEET, found.villages, existing.villages),
    ):
        for r in rows:
            old = known.get(r.code)
            if old is None:
                items.append(PlanItem(sheet, r.row, r.code, r.name, NEW))
            else:
                renamed = (f"名称:{old.name} → {r.name}",) if old.name != r.name else ()
                items.append(
                    PlanItem(sheet, r.row, r.code, r.name, CHANGED if renamed else UNCHANGED, renamed)
                )
    township_names = {code: k.name for code, k in existing.townships.items()}
    township_names.update({t.code: t.name for t in found.townships})
    for s in found.schools:
        old = existing.schools.get(s.code)
        if old is None:  # what it will be, to check before confirming
            where = f"{s.kind.label},{township_names.get(s.township, s.township)}"
            items.append(PlanItem(SCHOOL_SHEET, s.row, s.code, s.name, NEW, (where,)))
            continue
        changes: list[str] = []
        if old.name != s.name:
            changes.append(f"名称:{old.name} → {s.name}")
        if old.kind != s.kind.value:
            changes.append(f"办学类型:{_kind_label(old.kind)} → {s.kind.label}")
        if old.parent != s.township:
            changes.append(
                f"所在乡镇(迁移):{township_names.get(old.parent, old.parent)} → "
                f"{township_names.get(s.township, s.township)}"
            )
        items.append(
            PlanItem(SCHOOL_SHEET, s.row, s.code, s.name, CHANGED if changes else UNCHANGED, tuple(changes))
        )
    for t in check.terms:
        d = t.term
        before = stored.get((d.school_year_start, d.seq))
        dates = f"{d.start:%Y-%m-%d} 至 {d.end:%Y-%m-%d}"
        if before is None:
            items.append(
                PlanItem(TERM_SHEET, t.row, f"{d.school_year_start}-{d.seq}", term_label(d), NEW, (dates,))
            )
        elif before != (d.start, d.end):
            change = f"日期:{before[0]:%Y-%m-%d} 至 {before[1]:%Y-%m-%d} → {dates}"
            items.append(
                PlanItem(
                    TERM_SHEET, t.row, f"{d.school_year_start}-{d.seq}", term_label(d), CHANGED, (change,)
                )
            )
        else:
            items.append(
                PlanItem(TERM_SHEET, t.row, f"{d.school_year_start}-{d.seq}", term_label(d), UNCHANGED)
            )


def _read(session: Session, actor: Actor, data: bytes, file_name: str) -> dict[str, list[TableRow]]:
    with refusals_audited(session, actor=actor, kind=ImportKind.SETUP, data=data, file_name=file_name):
        sheets = read_tables(data, ALL_SPECS, kind=ImportKind.SETUP)
        found = {name: rows for name, rows in sheets.items() if rows is not None}
        if not found:
            raise TemplateError(
                f"文件中没有 {'、'.join(SHEETS)} 中的任何一个工作表(按工作表名称识别):请使用上线设置导入模板"
            )
    return found


def _check(session: Session, rows: dict[str, list[TableRow]], file_name: str, digest: str) -> SetupCheck:
    check = SetupCheck(file_name, digest, rows)
    as_pairs = {sheet: [(r.number, r.cells) for r in found] for sheet, found in rows.items()}
    existing = _existing(session)
    check.checked = check_setup_rows(as_pairs, existing)
    check.problems = list(check.checked.problems)
    stored = stored_terms(session)
    if TERM_SHEET in as_pairs:
        check.terms, term_problems = check_term_rows(
            as_pairs[TERM_SHEET],
            existing=[v.dates for v in stored],
            holiday_name=holiday_name_of(session),
            start_month=get_settings().school_year_start_month,
        )
        check.problems += term_problems
    check.problems += _kinds_not_teaching_their_classes(session, check.checked, existing)
    check.problems += _terms_leaving_records_outside(session, check, stored)
    check.problems.sort(key=lambda p: (ALL_SHEETS.index(p.sheet), p.row))
    _plan(
        check,
        existing,
        {(v.dates.school_year_start, v.dates.seq): (v.dates.start, v.dates.end) for v in stored},
    )
    return check


def _terms_leaving_records_outside(
    session: Session, check: SetupCheck, stored: Sequence[TermView]
) -> list[SetupProblem]:
    """A term's new dates must keep what it already holds (as on the 学期设置 page)."""
    ids = {(v.dates.school_year_start, v.dates.seq): v.term_id for v in stored}
    cells = {r.number: r.cells for r in check.rows.get(TERM_SHEET, [])}
    problems = []
    for t in check.terms:
        term_id = ids.get((t.term.school_year_start, t.term.seq))
        if term_id is not None and (outside := records_outside(session, term_id, t.term)):
            value = cells[t.row].get("start", "")
            problems.append(
                SetupProblem(TERM_SHEET, t.row, "开学日期", value, outside_words(outside, t.term))
            )
    bad = {p.row for p in problems}
    check.terms = [t for t in check.terms if t.row not in bad]
    return problems


def _kinds_not_teaching_their_classes(
    session: Session, checked: CheckedRows, existing: Existing
) -> list[SetupProblem]:
    """A school's new kind must teach the stages of its current classes (as on the 区划与学校 page)."""
    problems = []
    changed = [
        s
        for s in checked.schools
        if s.code in existing.schools and existing.schools[s.code].kind != s.kind.value
    ]
    ids: dict[str, int] = dict(
        session.execute(
            select(School.code, School.id).where(col(School.code).in_([s.code for s in changed]))
        ).all()
    )
    for s in changed:
        if reason := stage_problem(s.kind, current_stages(session, ids[s.code]), "新的办学类型"):
            problems.append(SetupProblem(SCHOOL_SHEET, s.row, "办学类型", s.kind.label, reason))
    bad = {p.row for p in problems}
    checked.schools = [s for s in checked.schools if s.row not in bad]
    return problems


def check_workbook(session: Session, *, actor: Actor, data: bytes, file_name: str = "") -> SetupCheck:
    """Read and check every row of every sheet, and plan; nothing is written (the dry run). A file refused before
    its rows are read is audited."""
    require(session, actor, Action.SETUP_MANAGE)
    rows = _read(session, actor, data, file_name)
    return _check(session, rows, file_name, hashlib.sha256(data).hexdigest())


@unit_of_work
def commit_workbook(session: Session, *, actor: Actor, data: bytes, file_name: str = "") -> SetupResult:
    """Check again under the write lock, then write every new and changed row, or nothing if any row has a
    problem (the refusal is audited)."""
    require(session, actor, Action.SETUP_MANAGE)
    rows = _read(session, actor, data, file_name)
    # the deployment's divisions (a new city or county) and every county's set-up (the townships and schools the
    # 区划与学校 page changes under "county:<id>"); a set-up import is rare, so it takes them all
    counties = session.scalars(select(County.id).order_by(County.id)).all()
    write_lock(session, "divisions", *(f"county:{i}" for i in counties))
    check = _check(session, rows, file_name, hashlib.sha256(data).hexdigest())
    if check.problems:
        message = f"有 {len(check.bad_rows)} 行有错误,未导入任何数据。请改好后重新导入。"
        record_file_refusal(
            session, actor=actor, kind=ImportKind.SETUP, data=data, file_name=file_name, reason=message
        )
        raise SetupImportBlocked(message)
    if not check.changes:
        return SetupResult(check, [], 0)
    result = _write(session, actor, check)
    session.commit()
    return result


# ---- the write ----------------------------------------------------------------------------------------------
# New rows go in with one INSERT per sheet; each sheet's new rows are recorded as one audit entry (how many, their
# codes and names), as the registry import records its new students; every changed row has an entry of its own
# with before and after, so the audit log shows each rename and move, not hundreds of lines per new county.

_ENTITY = {
    CITY_SHEET: "city",
    COUNTY_SHEET: "county",
    TOWNSHIP_SHEET: "township",
    VILLAGE_SHEET: "village",
    SCHOOL_SHEET: "school",
}


class _Writer:
    def __init__(self, session: Session, actor: Actor, check: SetupCheck) -> None:
        self.session, self.actor, self.check = session, actor, check
        self.entries: list[Entry] = []
        self.status = {(i.sheet, i.code): i for i in check.items}

    def todo(self, sheet: str, code: str) -> PlanItem | None:
        """The plan item of a row that changes something (None: unchanged)."""
        item = self.status[(sheet, code)]
        return None if item.status == UNCHANGED else item

    def _where(self, item: PlanItem) -> str:
        return f"基础数据导入 {self.check.file_name[:80]} [{item.sheet}] 第{item.row}行"

    def changed(self, item: PlanItem, entity_type: str, entity_id: object, before: dict, after: dict) -> None:
        self.entries.append(
            Entry(
                "update",
                entity_type=entity_type,
                entity_id=entity_id,
                before=before,
                after=after,
                detail=f"{self._where(item)}:{item.name}({item.code}){';'.join(item.changes)}",
            )
        )

    def created(self, sheet: str, items: Sequence[PlanItem]) -> None:
        if not items:
            return
        names = "、".join(i.name for i in items[:10]) + (f" 等 {len(items)} 个" if len(items) > 10 else "")
        self.entries.append(
            Entry(
                "create",
                entity_type=_ENTITY[sheet],
                after={"count": len(items), "codes": [i.code for i in items], "rows": [i.row for i in items]},
                detail=f"基础数据导入 {self.check.file_name[:80]} [{sheet}] 新增 {len(items)} 个:{names}",
            )
        )


def _write(session: Session, actor: Actor, check: SetupCheck) -> SetupResult:
    w = _Writer(session, actor, check)
    _write_cities(w)
    given = _write_county(w) if not check.checked.cities and not _has_cities(session) else _write_counties(w)
    township_ids = _write_divisions(w, TOWNSHIP_SHEET, Township)
    _write_divisions(w, VILLAGE_SHEET, Village, township_ids)
    _write_schools(w, township_ids)
    saved, term_entries = apply_terms(session, actor, [t.term for t in check.terms], source="基础数据导入")
    w.entries += term_entries
    w.entries.append(
        Entry(
            "import",
            entity_type="setup",
            entity_id=check.digest[:40],
            after={
                "import": ImportKind.SETUP.label,
                "file_name": check.file_name[:200],
                "sha256": check.digest,
                "sheets": {s: check.counts(s) for s in check.sheets},
            },
            detail=f"基础数据导入 {check.file_name[:80]}:{check.summary()}"[:500],
        )
    )
    record_many(session, actor=actor, entries=w.entries)
    return SetupResult(check, saved, given)


def _has_cities(session: Session) -> bool:
    return session.scalar(select(City.id).limit(1)) is not None


def _write_cities(w: _Writer) -> None:
    """The workbook's cities, new and renamed, and each new city's province (from the table) if not held."""
    provinces = {code: int(pid) for pid, code in w.session.execute(select(Province.id, Province.code))}
    stored = {c.code: c for c in w.session.scalars(select(City))}
    new = []
    for r in w.check.checked.cities:
        item = w.todo(CITY_SHEET, r.code)
        if item is None:
            continue
        city = stored.get(r.code)
        if city is not None:
            before = {"name": city.name}
            city.name = r.name
            w.changed(item, "city", city.id, before, {"name": city.name})
            continue
        if r.parent not in provinces:
            province = Province(code=r.parent, name=province_name(r.parent) or r.parent)
            w.session.add(province)
            w.session.flush()
            assert province.id is not None
            provinces[r.parent] = province.id
            w.entries.append(
                Entry(
                    "create",
                    entity_type="province",
                    entity_id=province.id,
                    after={"code": province.code, "name": province.name},
                    detail=f"基础数据导入 {w.check.file_name[:80]}:新增省级行政区 {province.name}({province.code})",
                )
            )
        w.session.add(City(code=r.code, name=r.name, province_id=provinces[r.parent]))
        new.append(item)
    w.session.flush()
    w.created(CITY_SHEET, new)


def _write_counties(w: _Writer) -> int:
    """A city's or province's deployment: the workbook's counties, new, renamed or joining their city; county
    accounts made before any county (the first administrator) are given the first new county."""
    cities = {code: int(cid) for cid, code in w.session.execute(select(City.id, City.code))}
    stored = {c.code: c for c in w.session.scalars(select(County))}
    new: list[PlanItem] = []
    first: County | None = None
    for r in w.check.checked.counties:
        item = w.todo(COUNTY_SHEET, r.code)
        if item is None:
            continue
        city_id = cities.get(r.parent)
        county = stored.get(r.code)
        if county is not None:
            before = {"name": county.name, "city_id": county.city_id}
            county.name, county.city_id = r.name, city_id
            w.changed(item, "county", county.id, before, {"name": county.name, "city_id": city_id})
            continue
        county = County(code=r.code, name=r.name, city_id=city_id)
        w.session.add(county)
        first = first or county
        new.append(item)
    w.session.flush()
    w.created(COUNTY_SHEET, new)
    return _give_waiting_accounts(w, first) if first is not None else 0


def _give_waiting_accounts(w: _Writer, county: County) -> int:
    """County-scoped accounts made before there was a county (the first administrator) get this one."""
    waiting = list(
        w.session.scalars(
            select(AppUser).where(
                AppUser.scope_kind == ScopeKind.COUNTY.value, col(AppUser.county_id).is_(None)
            )
        )
    )
    for user in waiting:
        user.county_id = county.id
        w.entries.append(
            Entry(
                "update",
                entity_type="user",
                entity_id=user.id,
                before={"county_id": None},
                after={"county_id": county.id},
                detail=f"建立县区 {county.name} 后,县级账号 {user.username} 的管辖范围设为本县区",
            )
        )
    w.session.flush()
    return len(waiting)


def _write_county(w: _Writer) -> int:
    """The county, and the county-scoped accounts made before it (the first administrator) given it."""
    row = w.check.checked.county
    item = None if row is None else w.todo(COUNTY_SHEET, row.code)
    if row is None or item is None:
        return 0
    county = w.session.scalar(select(County).where(County.code == row.code))
    if county is not None:
        before = {"name": county.name}
        county.name = row.name
        w.changed(item, "county", county.id, before, {"name": county.name})
        return 0
    county = County(code=row.code, name=row.name)
    w.session.add(county)
    w.session.flush()
    w.entries.append(
        Entry(
            "create",
            entity_type="county",
            entity_id=county.id,
            after={"code": county.code, "name": county.name},
            detail=f"基础数据导入 {w.check.file_name[:80]} [{COUNTY_SHEET}] 第{item.row}行:新增 {row.name}({row.code})",
        )
    )
    return _give_waiting_accounts(w, county)


def _write_divisions(
    w: _Writer, sheet: str, model: type[Township] | type[Village], township_ids: dict[str, int] | None = None
) -> dict[str, int]:
    """The sheet's townships (or villages), new and renamed; returns code → id of every township."""
    rows = w.check.checked.townships if model is Township else w.check.checked.villages
    table = model.__table__  # type: ignore[union-attr]
    stored = {
        code: (rid, name)
        for rid, code, name in w.session.execute(select(table.c.id, table.c.code, table.c.name))
    }
    county_ids = {code: int(cid) for cid, code in w.session.execute(select(County.id, County.code))}
    new, values = [], []
    for r in rows:
        item = w.todo(sheet, r.code)
        if item is None:
            continue
        if r.code in stored:
            rid, name = stored[r.code]
            w.session.execute(update(table).where(table.c.id == rid).values(name=r.name))
            w.changed(item, _ENTITY[sheet], rid, {"name": name}, {"name": r.name})
            continue
        parent = (
            {"county_id": county_ids[r.parent]}
            if model is Township
            else {"township_id": (township_ids or {})[r.parent]}
        )
        values.append({"code": r.code, "name": r.name, **parent})
        new.append(item)
    if values:
        w.session.execute(insert(table), values)
    w.created(sheet, new)
    if model is not Township:
        return {}
    return {code: int(tid) for code, tid in w.session.execute(select(Township.code, Township.id))}


def _write_schools(w: _Writer, township_ids: dict[str, int]) -> None:
    stored = {
        s.code: s
        for s in w.session.execute(
            select(School.id, School.code, School.name, School.kind, School.township_id)
        )
    }
    new, values = [], []
    for r in w.check.checked.schools:
        item = w.todo(SCHOOL_SHEET, r.code)
        if item is None:
            continue
        after = {"name": r.name, "kind": r.kind.value, "township_id": township_ids[r.township]}
        old = stored.get(r.code)
        if old is None:
            values.append({"code": r.code, **after})
            new.append(item)
            continue
        w.session.execute(update(School).where(School.id == old.id).values(**after))
        before = {"name": old.name, "kind": old.kind, "township_id": old.township_id}
        w.changed(item, "school", old.id, before, after)
    if values:
        w.session.execute(insert(School), values)
    w.created(SCHOOL_SHEET, new)


# ---- what the pages and the command line show ----------------------------------------------------------------


def problems_frame(problems: Sequence[SetupProblem]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.sheet, p.row, p.column, p.value, p.reason) for p in problems],
        columns=["工作表", "行号", "列", "填写内容", "原因"],
    )


def plan_frame(check: SetupCheck, sheet: str, *, include_unchanged: bool = False) -> pd.DataFrame:
    """The sheet's new and changed rows (and the unchanged ones if asked), as the preview shows them: what a new
    row will be (a school's kind and township, a term's dates) or what changes. A term has no code of its own:
    its name says it."""
    frame = pd.DataFrame(
        [
            (i.row, i.code, i.name, STATUS_LABELS[i.status], ";".join(i.changes))
            for i in check.items
            if i.sheet == sheet and (include_unchanged or i.status != UNCHANGED)
        ],
        columns=["行号", "代码", "名称", "处理", "内容或变化"],
    )
    return frame.drop(columns="代码") if sheet == TERM_SHEET else frame


def error_workbook(check: SetupCheck) -> bytes:
    return setup_template.error_workbook(check.rows, check.problems)
