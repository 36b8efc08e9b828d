"""排查导入: a village's paper sheet (filled in the field without a network) back into the sweep. The team first
downloads the village's sheet pre-filled with the households and children known (this sweep's, the last
sweep's, the registry's), fills it in, and uploads it: every row is checked by the same rules as the form,
households are known by (组, 户主) and children by ID number or name + birth date, so known rows are updated
and new ones added, never twice; all rows or none are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from xueji.audit import Entry, record_many
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.excel import row_problems
from xueji.excel.limits import ImportKind
from xueji.excel.row_problems import RowProblem
from xueji.excel.simple_table import TableRow, read_table
from xueji.excel.sweep_sheet import CHILD_KEYS, COLUMNS, HOUSEHOLD_KEYS, REQUIRED, sweep_workbook
from xueji.locks import write_lock
from xueji.models import (
    FamilyMember,
    Household,
    School,
    Student,
    Sweep,
    SweepChild,
    SweepVillage,
    Village,
)
from xueji.rules.registry_record import DISABILITY_TYPES
from xueji.rules.sweeps import (
    ChildFacts,
    FoundStatus,
    HouseholdFacts,
    entry_problems,
    filled_child,
    group_of,
    sweep_age_range,
)
from xueji.rules.visits import parse_day
from xueji.rules.vocab import StudentStatus
from xueji.services.common.exports import record_export, unmasked_reason
from xueji.services.common.uploads import record_file_refusal, refusals_audited
from xueji.services.sweeps.fieldwork import county_schools, entry_village, ids_elsewhere, save_household

HEADER_OF = {key: header for header, key in COLUMNS.items()}
_FIELD_HEADERS = {"备注": "户备注"}  # rule field names that differ from the sheet's headers


class SweepImportBlocked(ValueError):
    """Rows have problems: nothing was written."""


@dataclass(frozen=True)
class GoodHousehold:
    rows: list[int]
    facts: HouseholdFacts
    children: list[ChildFacts]


@dataclass
class SweepSheet:
    rows: list[TableRow]
    good: list[GoodHousehold] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # rows of households with no visit date: not visited yet

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems}

    @property
    def children(self) -> int:
        return sum(len(h.children) for h in self.good)


def _county_schools(session: Session, sweep: Sweep) -> dict[str, int]:
    """Name and code → id of every school of the sweep's county."""
    found: dict[str, int] = {}
    for sid, name, code in county_schools(session, sweep.township_id):
        found[name] = sid
        found[code] = sid
    return found


def _household(rows: list[TableRow], problems: list[RowProblem]) -> HouseholdFacts:
    """One household from its rows: each field from the rows that fill it, which must agree."""
    values: dict[str, str] = {}
    first_row: dict[str, int] = {}
    for row in rows:
        for key in HOUSEHOLD_KEYS:
            text = row.cells.get(key, "")
            if not text:
                continue
            if key in values and values[key] != text:
                problems.append(
                    RowProblem(
                        row.number, HEADER_OF[key], text, f"与同户第{first_row[key]}行“{values[key]}”不一致"
                    )
                )
            values.setdefault(key, text)
            first_row.setdefault(key, row.number)
    count, visited = None, None
    try:
        count = int(values["school_age_count"]) if values.get("school_age_count") else None
    except ValueError:
        problems.append(RowProblem(rows[0].number, "适龄儿童数", values["school_age_count"], "应为整数"))
    try:
        visited = parse_day(values["visited_on"]) if values.get("visited_on") else None
    except ValueError as error:
        problems.append(RowProblem(rows[0].number, "走访日期", values["visited_on"], str(error)))
    return HouseholdFacts(
        head_name=values.get("head_name", ""),
        group_name=values.get("group_name", ""),
        address=values.get("address", ""),
        phone=values.get("phone", ""),
        school_age_count=count,
        note=values.get("household_note", ""),
        visited_on=visited,
    )


def _child(row: TableRow, schools: dict[str, int], problems: list[RowProblem]) -> ChildFacts | None:
    cells = row.cells
    status_text = cells.get("status", "")
    status = next((s for s in FoundStatus if status_text in (s.label, s.value)), None)
    if status is None:
        reason = "必填" if not status_text else "应为" + "、".join(s.label for s in FoundStatus)
        problems.append(RowProblem(row.number, "状况", status_text, reason))
    birth = None
    if cells.get("birth_date"):
        try:
            birth = parse_day(cells["birth_date"])
        except ValueError as error:
            problems.append(RowProblem(row.number, "出生日期", cells["birth_date"], str(error)))
    sex = cells.get("sex") or None
    place = cells.get("place", "")
    school_id = None
    if status is FoundStatus.LOCAL_SCHOOL and place:
        school_id = schools.get(place)
        if school_id is None:
            problems.append(
                RowProblem(row.number, "就读学校/去向", place, "不是本县的学校:请从下拉列表中选择学校")
            )
    if status is None:
        return None
    return filled_child(
        ChildFacts(
            name=cells.get("name", ""),
            status=status,
            birth_date=birth,
            id_number=cells.get("id_number", ""),
            sex=sex,
            school_id=school_id,
            place=place,
            disability_type=cells.get("disability_type", "").removesuffix("残疾"),
            note=cells.get("note", ""),
        )
    )


def check_sweep(
    session: Session, *, actor: Actor, sweep_village_id: int, data: bytes, file_name: str = ""
) -> SweepSheet:
    """Read and check every row of a village's sheet; nothing is written. A file refused before its rows
    is audited."""
    village, sweep, term_start = entry_village(session, actor, sweep_village_id)
    with refusals_audited(session, actor=actor, kind=ImportKind.SWEEP, data=data, file_name=file_name):
        sheet = SweepSheet(read_table(data, COLUMNS, required=REQUIRED, kind=ImportKind.SWEEP))
    schools = _county_schools(session, sweep)
    groups: dict[tuple[str, str], list[TableRow]] = {}
    for row in sheet.rows:
        groups.setdefault((row.cells.get("group_name", ""), row.cells.get("head_name", "")), []).append(row)
    numbers: dict[str, int] = {}
    for rows in groups.values():
        if not any(r.cells.get("visited_on") for r in rows):
            sheet.skipped += [r.number for r in rows]
            continue
        problems: list[RowProblem] = []
        household = _household(rows, problems)
        children: list[tuple[ChildFacts, TableRow]] = []
        for row in rows:
            if not any(row.cells.get(k) for k in CHILD_KEYS):
                continue  # a household's own row, or a household with no school-age child
            child = _child(row, schools, problems)
            if child is None:
                continue
            children.append((child, row))
            if child.id_number and child.id_number in numbers:
                problems.append(
                    RowProblem(
                        row.number, "身份证号", child.id_number, f"与第{numbers[child.id_number]}行重复"
                    )
                )
            elif child.id_number:
                numbers[child.id_number] = row.number
        problems += _rule_problems(household, children, rows[0], sweep, term_start)
        if problems:
            sheet.problems += problems
        else:
            sheet.good.append(GoodHousehold([r.number for r in rows], household, [c for c, _ in children]))
    for number, name in ids_elsewhere(session, sweep, village.id, set(numbers)).items():
        sheet.problems.append(RowProblem(numbers[number], "身份证号", number, f"已在本次排查的{name}登记"))
    if sheet.problems:
        bad = sheet.bad_rows
        sheet.good = [h for h in sheet.good if not bad & set(h.rows)]
    return sheet


def _rule_problems(
    household: HouseholdFacts,
    children: list[tuple[ChildFacts, TableRow]],
    first: TableRow,
    sweep: Sweep,
    term_start: date,
) -> list[RowProblem]:
    """The form's rules, each problem put on its row and column (a child's on the child's own row)."""
    problems = []
    for i, column, reason in entry_problems(
        household,
        [c for c, _ in children],
        reference=sweep.reference_date,
        today=today(),
        earliest=term_start,
        ages=get_settings().school_age,
    ):
        row = first if i is None else children[i][1]
        header = _FIELD_HEADERS.get(column, column)
        problems.append(RowProblem(row.number, header, row.cells.get(COLUMNS[header], ""), reason))
    return problems


@dataclass(frozen=True)
class ImportCounts:
    households_added: int
    households_updated: int
    children: int
    children_added: int
    skipped_rows: int


@unit_of_work
def commit_sweep(
    session: Session, *, actor: Actor, sweep_village_id: int, data: bytes, file_name: str = ""
) -> ImportCounts:
    """Check again under the write lock, then write every household, or none if any row has a problem."""
    write_lock(
        session, f"sweep_village:{sweep_village_id}"
    )  # the village's households, checked again under it
    sheet = check_sweep(
        session, actor=actor, sweep_village_id=sweep_village_id, data=data, file_name=file_name
    )
    if sheet.problems:
        message = f"有 {len(sheet.bad_rows)} 行有错误,未导入任何户。请改好后重新导入。"
        record_file_refusal(
            session, actor=actor, kind=ImportKind.SWEEP, data=data, file_name=file_name, reason=message
        )
        raise SweepImportBlocked(message)
    village = session.get(SweepVillage, sweep_village_id)
    assert village is not None
    entries, added, children_added = [], 0, 0
    for good in sheet.good:
        saved = save_household(session, actor, village, good.facts, good.children)
        added += saved.created
        children_added += saved.added
        entries.append(
            Entry(
                "create" if saved.created else "update",
                entity_type="household",
                entity_id=saved.row.id,
                before=saved.before or None,
                after={"children": len(good.children), "added": saved.added} | saved.after,
                detail=f"排查导入 {file_name} 第{good.rows[0]}行:{saved.row.group_name}{saved.row.head_name}户",
            )
        )
    record_many(session, actor=actor, entries=entries)
    session.commit()
    return ImportCounts(added, len(sheet.good) - added, sheet.children, children_added, len(sheet.skipped))


# ---- the sheet to take to the village -------------------------------------------------------------------


def _sweep_rows(
    session: Session, sweep_village_id: int | None, *, with_visit: bool
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    households = session.scalars(
        select(Household)
        .where(Household.sweep_village_id == sweep_village_id)
        .order_by(Household.group_name, Household.head_name)
    ).all()
    children: dict[int | None, list[tuple[SweepChild, str | None]]] = {}
    for c, school in session.execute(
        select(SweepChild, School.name)
        .outerjoin(School, SweepChild.school_id == School.id)
        .where(SweepChild.sweep_village_id == sweep_village_id)
        .order_by(SweepChild.birth_date)
    ):
        children.setdefault(c.household_id, []).append((c, school))
    for h in households:
        base = {
            "group_name": h.group_name,
            "head_name": h.head_name,
            "address": h.address or "",
            "phone": h.phone or "",
            "school_age_count": "" if h.school_age_count is None else h.school_age_count,
            "visited_on": h.visited_on.isoformat() if with_visit else "",
            "household_note": h.note or "",
        }
        kids = children.get(h.id, [])
        if not kids:
            rows.append(base)
        for c, school in kids:
            rows.append(
                {
                    **base,
                    "name": c.name,
                    "id_number": c.id_number or "",
                    "sex": c.sex or "",
                    "birth_date": c.birth_date.isoformat(),
                    "status": FoundStatus(c.status).label if with_visit else "",
                    "place": school or c.place or "",
                    "disability_type": c.disability_type or "",
                    "note": c.note or "",
                }
            )
    return rows


def _registry_rows(
    session: Session, village: SweepVillage, sweep: Sweep, known: set[str]
) -> list[dict[str, object]]:
    """The registry's school-age children living in the village, not yet on the sheet; the guardian as 户主."""
    oldest, youngest = sweep_age_range(sweep.reference_date, get_settings().school_age)
    guardian = (  # the first guardian, else the first family member
        select(
            FamilyMember.student_id,
            func.coalesce(
                func.min(case((col(FamilyMember.is_guardian), FamilyMember.seq))), func.min(FamilyMember.seq)
            ).label("seq"),
        )
        .group_by(FamilyMember.student_id)
        .subquery()
    )
    rows = []
    for s, school, head, phone in session.execute(
        select(Student, School.name, FamilyMember.name, FamilyMember.phone)
        .join(School, Student.school_id == School.id)
        .outerjoin(guardian, guardian.c.student_id == Student.id)
        .outerjoin(
            FamilyMember, (FamilyMember.student_id == Student.id) & (FamilyMember.seq == guardian.c.seq)
        )
        .where(
            Student.home_village_id == village.village_id,
            col(Student.status).in_([StudentStatus.ENROLLED.value, StudentStatus.SUSPENDED.value]),
            col(Student.merged_into_id).is_(None),
            Student.birth_date.between(oldest, youngest),  # type: ignore[attr-defined]
        )
        .order_by(FamilyMember.name, Student.birth_date)
    ):
        if s.id_number and s.id_number in known:
            continue
        rows.append(
            {
                "group_name": group_of(s.home_address),
                "head_name": head or "",
                "address": s.home_address or "",
                "phone": phone or "",
                "name": s.name,
                "id_number": s.id_number or "",
                "sex": s.sex,
                "birth_date": s.birth_date.isoformat(),
                "place": school,
                "note": "学籍在册",
            }
        )
    return rows


def village_sheet(session: Session, *, actor: Actor, sweep_village_id: int, reason: str) -> tuple[str, bytes]:
    """The sheet a team takes to the village: this sweep's rows as recorded, then the last sweep's households
    and children not recorded yet, then the registry's children living there; plus blank rows. Full ID
    numbers, for the team to check identity at the door: an unmasked export, so it needs a reason
    (exports.unmasked_reason) and is audited with it. Returns (file name, bytes)."""
    masking = unmasked_reason(
        session, actor=actor, action=Action.SWEEP_RECORD, reason=reason, title="排查登记表"
    )
    village, sweep, _ = entry_village(session, actor, sweep_village_id)
    name = session.scalar(select(Village.name).where(Village.id == village.village_id)) or ""
    rows = _sweep_rows(session, village.id, with_visit=True)
    seen_households = {(r["group_name"], r["head_name"]) for r in rows}
    previous = session.scalar(
        select(SweepVillage.id)
        .where(SweepVillage.village_id == village.village_id, col(SweepVillage.sweep_id) < sweep.id)
        .order_by(SweepVillage.sweep_id.desc())  # type: ignore[attr-defined]
        .limit(1)
    )
    if previous is not None:
        oldest, youngest = sweep_age_range(sweep.reference_date, get_settings().school_age)
        for row in _sweep_rows(session, previous, with_visit=False):
            born = row.get("birth_date")
            grown_out = born and not oldest <= date.fromisoformat(str(born)) <= youngest
            if (row["group_name"], row["head_name"]) not in seen_households and not grown_out:
                rows.append(row)
    known = {str(r["id_number"]) for r in rows if r.get("id_number")}
    rows += _registry_rows(session, village, sweep, known)
    workbook = sweep_workbook(
        title=f"{name} 拉网式排查登记表(年龄按 {sweep.reference_date:%Y-%m-%d} 计,6–15周岁)",
        rows=rows,
        statuses=[s.label for s in FoundStatus],
        schools=[name for _, name, _ in county_schools(session, sweep.township_id)],
        disability_types=[t + "残疾" for t in DISABILITY_TYPES],
    )
    record_export(
        session,
        actor=actor,
        action=Action.SWEEP_RECORD,
        title=f"{name}排查登记表",
        rows=len(rows),
        detail=f"含完整身份证号,供入户核对;{masking}",
        entity_type="sweep_village",
    )
    return f"{name}排查登记表.xlsx", workbook


def problems_frame(sheet: SweepSheet) -> pd.DataFrame:
    return row_problems.problems_frame(sheet.problems)


def preview_frame(sheet: SweepSheet) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                h.rows[0],
                h.facts.group_name,
                h.facts.head_name,
                h.facts.visited_on,
                len(h.children),
                "、".join(f"{c.name}({c.status.label})" for c in h.children),
            )
            for h in sheet.good
        ],
        columns=["首行", "组", "户主", "走访日期", "适龄儿童", "儿童及状况"],
    )


def error_workbook(sheet: SweepSheet) -> bytes:
    """The rows with problems as they were, with the reasons in a last column: fix and import again."""
    return row_problems.error_workbook(sheet.rows, sheet.problems, COLUMNS, sheet="排查登记")
