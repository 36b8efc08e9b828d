"""家访导入: visits logged on paper, from an xlsx sheet. Every row is checked (the child by ID number within
the importer's responsibility, the name against the record, each field by the visit rules, no visit twice);
the preview shows the problems with row, column, value and reason; the commit writes all rows or none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import select, tuple_
from sqlmodel import Session, col

from xueji.audit import Entry, record_many
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.db import unit_of_work
from xueji.excel import row_problems
from xueji.excel.limits import ImportKind
from xueji.excel.row_problems import RowProblem
from xueji.excel.simple_table import TableRow
from xueji.excel.tables import table_to_xlsx
from xueji.models import Child, HomeVisit, Student
from xueji.rules.cases import RiskLevel
from xueji.rules.visits import ReturnOutcome, VisitFacts, VisitKind, VisitMethod, parse_day, visit_problems
from xueji.services.cases.opening import ensure_children
from xueji.services.cases.visits import carry_to_cases, earliest_visit_day, visit_row
from xueji.services.common import lock_keys
from xueji.services.common.access import child_condition, require, student_condition
from xueji.services.common.uploads import read_rows, record_file_refusal

COLUMNS = {  # header → key, in the template's order
    "身份证号": "id_number",
    "姓名": "name",
    "家访日期": "visit_date",
    "类型": "kind",
    "方式": "method",
    "家访人": "visitors",
    "见到的人": "met_with",
    "孩子情况": "child_situation",
    "家庭情况": "family_situation",
    "家访后风险": "risk_after",
    "下一步": "next_step",
    "下次家访日期": "next_visit_on",
    "劝返结果": "outcome",
}
REQUIRED = ("身份证号", "姓名", "家访日期", "方式", "家访人", "孩子情况", "家访后风险")
HEADER_OF = {key: header for header, key in COLUMNS.items()}


class VisitImportBlocked(ValueError):
    """Rows have problems: nothing was written."""


@dataclass(frozen=True)
class GoodVisit:
    row: int
    student_id: int | None
    child_id: int | None
    name: str
    facts: VisitFacts


@dataclass
class VisitSheet:
    rows: list[TableRow]
    good: list[GoodVisit] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems}


def _choice(text: str, options: Sequence, default: object = None) -> object:
    if not text:
        return default
    for option in options:
        if text in (option.label, option.value):
            return option
    raise ValueError("应为" + "、".join(o.label for o in options))


def _facts(cells: dict[str, str]) -> tuple[VisitFacts | None, list[tuple[str, str, str]]]:
    """The row's visit, or (column, value, reason) for every cell that cannot be read."""
    problems: list[tuple[str, str, str]] = []
    values: dict[str, object] = {}
    readers = {
        "visit_date": parse_day,
        "next_visit_on": lambda t: parse_day(t) if t else None,
        "kind": lambda t: _choice(t, list(VisitKind), VisitKind.VISIT),
        "method": lambda t: _choice(t, list(VisitMethod)),
        "risk_after": lambda t: _choice(t, list(RiskLevel)),
        "outcome": lambda t: _choice(t, list(ReturnOutcome)),
    }
    for key, read in readers.items():
        text = cells.get(key, "")
        if not text and key in ("visit_date", "method", "risk_after"):
            problems.append((HEADER_OF[key], text, "必填"))
            continue
        try:
            values[key] = read(text)
        except ValueError as error:
            problems.append((HEADER_OF[key], text, str(error)))
    if problems:
        return None, problems
    texts = {
        k: cells.get(k, "")
        for k in ("visitors", "met_with", "child_situation", "family_situation", "next_step")
    }
    return VisitFacts(**values, **texts), []


def _children(
    session: Session, actor: Actor, numbers: set[str]
) -> dict[str, tuple[int | None, int | None, str]]:
    """ID number → (student id, child id, name) for the children the actor may log visits for."""
    found: dict[str, tuple[int | None, int | None, str]] = {}
    for number, sid, name, cid in session.execute(
        select(Student.id_number, Student.id, Student.name, Child.id)
        .outerjoin(Child, Child.student_id == Student.id)
        .where(col(Student.id_number).in_(numbers), student_condition(actor))
    ):
        found[number] = (sid, cid, name)
    for number, cid, name in session.execute(
        select(Child.id_number, Child.id, Child.name).where(
            col(Child.id_number).in_(numbers), col(Child.student_id).is_(None), child_condition(actor)
        )
    ):
        found.setdefault(number, (None, cid, name))
    return found


def read_visits(session: Session, *, actor: Actor, data: bytes, file_name: str = "") -> list[TableRow]:
    """The sheet's rows, read in the reading process; a file refused before its rows is audited."""
    return read_rows(
        session,
        actor=actor,
        kind=ImportKind.VISITS,
        data=data,
        file_name=file_name,
        columns=COLUMNS,
        required=REQUIRED,
    )


def check_visits(
    session: Session, *, actor: Actor, data: bytes, file_name: str = "", rows: list[TableRow] | None = None
) -> VisitSheet:
    """Read (unless the rows are given, as read_visits reads them) and check every row; nothing is written."""
    require(session, actor, Action.VISIT_LOG)
    sheet = VisitSheet(
        read_visits(session, actor=actor, data=data, file_name=file_name) if rows is None else rows
    )
    numbers = {r.cells.get("id_number", "").strip().upper() for r in sheet.rows}
    children = _children(session, actor, numbers - {""})
    earliest = earliest_visit_day(session)
    seen: dict[tuple[str, date, str], int] = {}
    for row in sheet.rows:
        number = row.cells.get("id_number", "").strip().upper()
        name = row.cells.get("name", "").strip()
        problems: list[tuple[str, str, str]] = []
        target = children.get(number)
        if target is None:
            problems.append(("身份证号", number, "不是您包保或管辖的学生/儿童,或身份证号有误"))
        elif name != target[2]:
            problems.append(("姓名", name, f"与系统中该身份证号的姓名“{target[2]}”不一致"))
        facts, unreadable = _facts(row.cells)
        problems += unreadable
        if facts is not None:
            problems += [
                (c, row.cells.get(COLUMNS.get(c, ""), ""), r)
                for c, r in visit_problems(facts, today=today(), earliest=earliest)
            ]
            key = (number, facts.visit_date, facts.kind.value)
            if key in seen:
                problems.append(
                    ("家访日期", str(facts.visit_date), f"与第{seen[key]}行重复(同一孩子、同一天、同一类型)")
                )
            seen.setdefault(key, row.number)
        if problems:
            sheet.problems += [RowProblem(row.number, c, v, r) for c, v, r in problems]
        elif target is not None and facts is not None:
            sheet.good.append(GoodVisit(row.number, target[0], target[1], target[2], facts))
    _already_logged(session, sheet)
    return sheet


def _already_logged(session: Session, sheet: VisitSheet) -> None:
    """A row whose visit (child, day, type) is already in the database is a problem: importing twice adds nothing."""
    known = [g for g in sheet.good if g.child_id is not None]
    if not known:
        return
    stored = set(
        session.execute(
            select(HomeVisit.child_id, HomeVisit.visit_date, HomeVisit.kind).where(
                tuple_(HomeVisit.child_id, HomeVisit.visit_date).in_(
                    [(g.child_id, g.facts.visit_date) for g in known]
                )
            )
        ).all()
    )
    keep = []
    for g in sheet.good:
        if (g.child_id, g.facts.visit_date, g.facts.kind.value) in stored:
            sheet.problems.append(
                RowProblem(g.row, "家访日期", str(g.facts.visit_date), "该次家访已在系统中(请勿重复导入)")
            )
        else:
            keep.append(g)
    sheet.good = keep


@unit_of_work
def commit_visits(session: Session, *, actor: Actor, data: bytes, file_name: str = "") -> int:
    """Check again under the write lock, then write every row, or none if any row has a problem."""
    require(session, actor, Action.VISIT_LOG)
    # read once, before any lock: on SQLite every other writer would wait for the reading process
    rows = read_visits(session, actor=actor, data=data, file_name=file_name)
    sheet = lock_keys.check_under_lock(  # the write locks of the sheet's children, then checked again
        session,
        lambda: check_visits(session, actor=actor, data=data, file_name=file_name, rows=rows),
        lambda sheet: [
            f"student:{g.student_id}" if g.student_id is not None else f"child:{g.child_id}"
            for g in sheet.good
        ],
    )
    if sheet.problems:
        message = f"有 {len(sheet.bad_rows)} 行有错误,未导入任何家访记录。请改好后重新导入。"
        record_file_refusal(
            session, actor=actor, kind=ImportKind.VISITS, data=data, file_name=file_name, reason=message
        )
        raise VisitImportBlocked(message)
    students = [g.student_id for g in sheet.good if g.child_id is None and g.student_id is not None]
    if students:
        ensure_children(session, select(Student.id).where(col(Student.id).in_(students)))
    child_of: dict[int | None, int] = dict(
        session.execute(select(Child.student_id, Child.id).where(col(Child.student_id).in_(students))).all()
    )
    entries = []
    for g in sorted(sheet.good, key=lambda g: g.facts.visit_date):
        child_id = g.child_id or child_of[g.student_id]
        visit = HomeVisit(**visit_row(g.facts, child_id, actor))
        session.add(visit)
        session.flush()
        carry_to_cases(session, actor, child_id, visit)
        entries.append(
            Entry(
                "create",
                entity_type="home_visit",
                entity_id=visit.id,
                after={"child_id": child_id, "kind": g.facts.kind.value, "visit_date": g.facts.visit_date},
                detail=f"家访导入 {file_name} 第{g.row}行:{g.name}",
            )
        )
    record_many(session, actor=actor, entries=entries)
    session.commit()
    return len(entries)


def template() -> bytes:
    """The blank sheet, with one example row."""
    example = {
        "身份证号": "430181201503150021",
        "姓名": "张三",
        "家访日期": "2026-11-20",
        "类型": "家访",
        "方式": "上门",
        "家访人": "周老师、村干部刘某",
        "见到的人": "祖母",
        "孩子情况": "按时到校,作业完成较好",
        "家庭情况": "父母在广东务工,祖母照看",
        "家访后风险": "低",
        "下一步": "下月电话回访",
        "下次家访日期": "2026-12-20",
        "劝返结果": "",
    }
    return table_to_xlsx(pd.DataFrame([example], columns=list(COLUMNS)), sheet="家访记录")


def problems_frame(sheet: VisitSheet) -> pd.DataFrame:
    return row_problems.problems_frame(sheet.problems)


def preview_frame(sheet: VisitSheet) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                g.row,
                g.name,
                g.facts.visit_date,
                g.facts.kind.label,
                g.facts.method.label,
                g.facts.risk_after.label,
            )
            for g in sheet.good
        ],
        columns=["行号", "姓名", "家访日期", "类型", "方式", "家访后风险"],
    )


def error_workbook(sheet: VisitSheet) -> bytes:
    """The rows with problems as they were, with the reasons in a last column: fix and import again."""
    return row_problems.error_workbook(sheet.rows, sheet.problems, COLUMNS, sheet="家访记录")
