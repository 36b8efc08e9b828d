"""部门名单导入: a department's list (户籍, 民政, 残联, 乡村振兴) for the county officer's county, every row
checked (rules.list_rows), all rows or none written as the list's next version, which replaces the previous
one's effect; the county's comparison is then run again in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, insert, select
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Actor
from xueji.clock import today
from xueji.db import unit_of_work
from xueji.excel import row_problems
from xueji.excel.limits import ImportKind
from xueji.excel.row_problems import RowProblem
from xueji.excel.simple_table import TableRow, read_table
from xueji.locks import write_lock
from xueji.models import County, DeptList, DeptPerson, Township, Village
from xueji.rules.dept_lists import ListKind
from xueji.rules.list_rows import ListPerson, Places, check_rows
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.services.common import lock_keys
from xueji.services.common.access import sees_full_identifiers
from xueji.services.common.uploads import record_file_refusal, refusals_audited
from xueji.services.comparisons import compare, versions

IMPORT_KINDS = {
    ListKind.RESIDENTS: ImportKind.RESIDENT_LIST,
    ListKind.WELFARE: ImportKind.WELFARE_LIST,
    ListKind.DISABLED: ImportKind.DISABLED_LIST,
    ListKind.HOUSEHOLDS: ImportKind.HOUSEHOLD_LIST,
}
PREVIEW_ROWS = 20


class ListImportBlocked(ValueError):
    """The list cannot be imported (rows with problems, a list date refused): nothing was written."""


@dataclass
class ListSheet:
    kind: ListKind
    county_id: int
    rows: list[TableRow]
    people: list[ListPerson] = field(default_factory=list)  # empty when any row has a problem
    problems: list[RowProblem] = field(default_factory=list)
    current: versions.VersionRow | None = None  # the version in effect, which this list would replace

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems}

    @property
    def good(self) -> list[ListPerson]:
        return self.people


def places(session: Session, county_id: int) -> Places:
    """The county's code and its village codes → the village in use now (a merged one: the village it went into)."""
    code = session.scalar(select(County.code).where(County.id == county_id)) or ""
    rows = session.execute(
        select(Village.id, Village.code, Village.merged_into_id)
        .join(Township, Village.township_id == Township.id)
        .where(Township.county_id == county_id)
    ).all()
    into = {vid: merged for vid, _, merged in rows}

    def current(vid: int) -> int:
        seen = {vid}
        while (target := into.get(vid)) is not None and target not in seen:
            vid = target
            seen.add(vid)
        return vid

    return Places(code, {vcode: current(vid) for vid, vcode, _ in rows})


def check_list(
    session: Session, *, actor: Actor, kind: ListKind, data: bytes, file_name: str = ""
) -> ListSheet:
    """Read and check every row of a list; nothing is written. A file refused before its rows is audited."""
    county_id = versions.officer_county(session, actor)
    import_kind = IMPORT_KINDS[kind]
    with refusals_audited(session, actor=actor, kind=import_kind, data=data, file_name=file_name):
        rows = read_table(data, kind.columns, required=kind.required, kind=import_kind)
    people, problems = check_rows(
        kind, [(r.number, r.cells) for r in rows], today=today(), places=places(session, county_id)
    )
    return ListSheet(
        kind,
        county_id,
        rows,
        people,
        [RowProblem(p.row, p.column, p.value, p.reason) for p in problems],
        versions.in_effect(session, county_id=county_id, kind=kind),
    )


def date_problem(list_date: date, current: versions.VersionRow | None) -> str | None:
    """Why a list of this date cannot be imported now (None when it can)."""
    if list_date > today():
        return f"名单日期 {list_date:%Y-%m-%d} 晚于今天"
    if current is not None and list_date < current.list_date:
        return (
            f"名单日期 {list_date:%Y-%m-%d} 早于现行的第{current.version}版({current.list_date:%Y-%m-%d}):"
            "导入后旧名单会取代新名单。请核对名单日期,或向部门索取最新名单"
        )
    return None


@unit_of_work
def commit_list(
    session: Session,
    *,
    actor: Actor,
    kind: ListKind,
    data: bytes,
    file_name: str = "",
    list_date: date | None = None,
    compare_now: bool = True,
) -> DeptList:
    """Check again under the write lock; write the list as its next version (all rows, or none if any row has
    a problem), run the county's comparison again, audit both, commit. compare_now=False leaves the comparison
    to the caller, who imports several lists and then compares once (the demo)."""
    # The county's comparison lock (its list versions, then the comparison run again), before the check.
    lock_keys.sqlite_first(session)
    write_lock(session, f"county:{versions.officer_county(session, actor)}:compare")
    sheet = check_list(session, actor=actor, kind=kind, data=data, file_name=file_name)
    county_id = sheet.county_id
    on = list_date or today()
    message = None
    if sheet.problems:
        message = f"有 {len(sheet.bad_rows)} 行有错误,未导入任何人。请改好后重新导入。"
    elif not sheet.people:
        message = "文件中没有数据行,未导入。"
    else:
        message = date_problem(on, sheet.current)
    if message:
        record_file_refusal(
            session, actor=actor, kind=IMPORT_KINDS[kind], data=data, file_name=file_name, reason=message
        )
        raise ListImportBlocked(message)
    number = (
        session.scalar(
            select(func.max(DeptList.version)).where(
                DeptList.county_id == county_id, DeptList.kind == kind.value
            )
        )
        or 0
    ) + 1
    version = DeptList(
        county_id=county_id,
        kind=kind.value,
        version=number,
        list_date=on,
        file_name=file_name[:200],
        row_count=len(sheet.people),
        imported_by=actor.user_id,
    )
    session.add(version)
    session.flush()
    session.execute(
        insert(DeptPerson),
        [
            {
                "list_id": version.id,
                "row_number": p.row,
                "person_key": p.person_key,
                "name": p.name,
                "sex": p.sex,
                "birth_date": p.birth_date,
                "id_number": p.id_number,
                "village_id": p.village_id,
                "address": p.address,
                "guardian_name": p.guardian_name,
                "guardian_phone": p.guardian_phone,
                "category": p.category,
                "detail": p.detail,
            }
            for p in sheet.people
        ],
    )
    change = versions.change_counts(session, version)
    counts = compare.run_comparison_in(session, actor=actor, county_id=county_id) if compare_now else {}
    record(
        session,
        actor=actor,
        action="import",
        entity_type="dept_list",
        entity_id=version.id,
        after={
            "kind": kind.value,
            "version": number,
            "list_date": on.isoformat(),
            "rows": len(sheet.people),
            "file_name": file_name[:200],
            "changes": change.as_dict(),
            "comparison": counts,
        },
        detail=(
            f"{kind.label}第{number}版(名单日期 {on:%Y-%m-%d}){len(sheet.people)} 人,文件 {file_name[:100]};"
            f"{change.text()}"
        ),
    )
    session.commit()
    return version


def problems_frame(sheet: ListSheet) -> pd.DataFrame:
    return row_problems.problems_frame(sheet.problems)


def error_workbook(sheet: ListSheet) -> bytes:
    """The rows with problems as they were, with the reasons in a last column: fix and import again."""
    return row_problems.error_workbook(sheet.rows, sheet.problems, sheet.kind.columns, sheet=sheet.kind.short)


def preview_frame(sheet: ListSheet, actor: Actor) -> pd.DataFrame:
    """The first rows as they will be stored (ID numbers and phones masked unless the role sees them)."""
    full = sees_full_identifiers(actor)
    rows = []
    for p in sheet.people[:PREVIEW_ROWS]:
        rows.append(
            {
                "行号": p.row,
                "姓名": p.name,
                "性别": p.sex,
                "出生日期": p.birth_date,
                "身份证号": p.id_number if full else mask_id_number(p.id_number),
                "类别": p.category,
                "监护人": p.guardian_name,
                "监护人电话": p.guardian_phone if full else mask_phone(p.guardian_phone),
                "其他": ";".join(f"{k}:{v}" for k, v in p.detail.items() if k != "户主身份证号") or None,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["行号", "姓名", "性别", "出生日期", "身份证号", "类别", "监护人", "监护人电话", "其他"]
    )
    return frame.dropna(axis="columns", how="all")
