"""送教导入: home-teaching visits kept on paper, from an xlsx sheet. Each row is checked: the child by ID number
among the plans the importer may log visits on, the plan of the term the day falls in, the name against the
record, every field by the same rules as the form, no day twice; problems show row, column, value and reason;
the commit writes all rows or none."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session

from xueji.audit import Entry, record_many
from xueji.auth import Action, Actor
from xueji.db import unit_of_work
from xueji.excel import row_problems
from xueji.excel.limits import ImportKind
from xueji.excel.row_problems import RowProblem
from xueji.excel.simple_table import TableRow
from xueji.excel.tables import table_to_xlsx
from xueji.models import Child, HomePlan, HomeTeachingVisit, Student
from xueji.rules.home_teaching import GoalArea, HomeVisitFacts
from xueji.rules.visits import parse_day
from xueji.services.common import lock_keys
from xueji.services.common.access import home_plan_condition, require
from xueji.services.common.uploads import read_rows, record_file_refusal
from xueji.services.home_teaching.records import TermRef, logged_days, term_of, visit_problems_for, visit_row

PROGRESS = {f"进展·{area.label}": f"progress_{area.value}" for area in GoalArea}
COLUMNS = {  # header → key, in the template's order
    "身份证号": "id_number",
    "姓名": "name",
    "送教日期": "visit_date",
    "送教教师": "teachers",
    "课时": "class_hours",
    "送教内容": "content",
    "孩子反应": "response",
    **PROGRESS,
    "监护人签字": "guardian_signed",
    "下次送教日期": "next_visit_on",
}
REQUIRED = ("身份证号", "姓名", "送教日期", "送教教师", "课时", "送教内容")
HEADER_OF = {key: header for header, key in COLUMNS.items()}
YES, NO = ("是", "已签", "y", "yes", "1", "true"), ("否", "未签", "", "n", "no", "0", "false")


class HomeVisitImportBlocked(ValueError):
    """Rows have problems: nothing was written."""


@dataclass(frozen=True)
class GoodHomeVisit:
    row: int
    plan: HomePlan
    name: str
    facts: HomeVisitFacts


@dataclass
class HomeVisitSheet:
    rows: list[TableRow]
    good: list[GoodHomeVisit] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems}


def _read(cells: dict[str, str]) -> tuple[HomeVisitFacts | None, list[tuple[str, str, str]]]:
    """The row's visit, or (column, value, reason) for every cell that cannot be read."""
    problems: list[tuple[str, str, str]] = []
    values: dict[str, object] = {}
    for key in ("visit_date", "next_visit_on"):
        text = cells.get(key, "")
        try:
            values[key] = parse_day(text) if text or key == "visit_date" else None
        except ValueError as error:
            problems.append((HEADER_OF[key], text, str(error) if text else "必填"))
    hours = cells.get("class_hours", "")
    try:
        values["class_hours"] = float(hours)
    except ValueError:
        problems.append(("课时", hours, "应为数字,如 2 或 2.5"))
    signed = cells.get("guardian_signed", "").strip().lower()
    if signed not in YES + NO:
        problems.append(("监护人签字", signed, "应为“是”或“否”"))
    if problems:
        return None, problems
    facts = HomeVisitFacts(
        teachers=cells.get("teachers", ""),
        content=cells.get("content", ""),
        response=cells.get("response", ""),
        progress={area: cells.get(f"progress_{area.value}", "") for area in GoalArea},
        guardian_signed=signed in YES,
        **values,
    )
    return facts, []


def _plans(session: Session, actor: Actor, numbers: set[str]) -> dict[str, list[tuple[HomePlan, str]]]:
    """ID number → the plans (with the child's name) the actor may log visits on, every term."""
    found: dict[str, list[tuple[HomePlan, str]]] = {}
    for plan, number, name in session.execute(
        select(
            HomePlan,
            func.coalesce(Student.id_number, Child.id_number),
            func.coalesce(Student.name, Child.name),
        )
        .join(Child, HomePlan.child_id == Child.id)
        .outerjoin(Student, Child.student_id == Student.id)
        .where(
            func.coalesce(Student.id_number, Child.id_number).in_(numbers),
            home_plan_condition(actor),
        )
    ):
        found.setdefault(number, []).append((plan, name))
    return found


def read_home_visits(session: Session, *, actor: Actor, data: bytes, file_name: str = "") -> list[TableRow]:
    """The sheet's rows, read in the reading process; a file refused before its rows is audited."""
    return read_rows(
        session,
        actor=actor,
        kind=ImportKind.HOME_VISITS,
        data=data,
        file_name=file_name,
        columns=COLUMNS,
        required=REQUIRED,
    )


def check_home_visits(
    session: Session, *, actor: Actor, data: bytes, file_name: str = "", rows: list[TableRow] | None = None
) -> HomeVisitSheet:
    """Read (unless the rows are given, as read_home_visits reads them) and check every row; nothing is written."""
    require(session, actor, Action.HOME_TEACHING_VISIT)
    sheet = HomeVisitSheet(
        read_home_visits(session, actor=actor, data=data, file_name=file_name) if rows is None else rows
    )
    numbers = {r.cells.get("id_number", "").strip().upper() for r in sheet.rows} - {""}
    plans = _plans(session, actor, numbers)
    terms: dict[int, TermRef] = {}
    logged = logged_days(
        session, [p.id for options in plans.values() for p, _ in options if p.id is not None]
    )
    for row in sheet.rows:
        number = row.cells.get("id_number", "").strip().upper()
        name = row.cells.get("name", "").strip()
        problems: list[tuple[str, str, str]] = []
        options = plans.get(number, [])
        if not options:
            problems.append(
                ("身份证号", number, "不是您可登记送教的孩子(须有送教方案并安排您送教),或身份证号有误")
            )
        elif name != options[0][1]:
            problems.append(("姓名", name, f"与系统中该身份证号的姓名“{options[0][1]}”不一致"))
        facts, unreadable = _read(row.cells)
        problems += unreadable
        plan = None
        if facts is not None and options:
            for candidate, _ in options:
                term = terms.setdefault(candidate.term_id, term_of(session, candidate.term_id))
                if term.dates.contains(facts.visit_date):
                    plan = candidate
                    break
            if plan is None:
                problems.append(("送教日期", str(facts.visit_date), "这一天所在的学期没有该孩子的送教方案"))
            else:
                assert plan.id is not None
                problems += [
                    (c, row.cells.get(COLUMNS.get(c, ""), ""), r)
                    for c, r in visit_problems_for(facts, plan, terms[plan.term_id], logged[plan.id])
                ]
                logged[plan.id].add(facts.visit_date)  # a second row for the same day is a repeat
        if problems:
            sheet.problems += [RowProblem(row.number, c, v, r) for c, v, r in problems]
        elif plan is not None and facts is not None:
            sheet.good.append(GoodHomeVisit(row.number, plan, options[0][1], facts))
    return sheet


@unit_of_work
def commit_home_visits(session: Session, *, actor: Actor, data: bytes, file_name: str = "") -> int:
    """Check again under the write lock, then write every row, or none if any row has a problem."""
    require(session, actor, Action.HOME_TEACHING_VISIT)
    # read once, before any lock: on SQLite every other writer would wait for the reading process
    rows = read_home_visits(session, actor=actor, data=data, file_name=file_name)
    sheet = lock_keys.check_under_lock(  # the write locks of the plans it adds to, then checked again
        session,
        lambda: check_home_visits(session, actor=actor, data=data, file_name=file_name, rows=rows),
        lambda sheet: [f"home_plan:{g.plan.id}" for g in sheet.good],
    )
    if sheet.problems:
        message = f"有 {len(sheet.bad_rows)} 行有错误,未导入任何送教记录。请改好后重新导入。"
        record_file_refusal(
            session, actor=actor, kind=ImportKind.HOME_VISITS, data=data, file_name=file_name, reason=message
        )
        raise HomeVisitImportBlocked(message)
    entries = []
    for g in sorted(sheet.good, key=lambda g: g.facts.visit_date):
        visit = HomeTeachingVisit(**visit_row(g.facts, g.plan, actor))
        session.add(visit)
        session.flush()
        entries.append(
            Entry(
                "create",
                entity_type="home_teaching_visit",
                entity_id=visit.id,
                after={
                    "plan_id": g.plan.id,
                    "visit_date": g.facts.visit_date,
                    "class_hours": g.facts.class_hours,
                },
                detail=f"送教导入 {file_name} 第{g.row}行:{g.name}",
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
        "送教日期": "2026-11-20",
        "送教教师": "周老师、李老师",
        "课时": "2",
        "送教内容": "生活自理训练:洗手、进食",
        "孩子反应": "情绪稳定,配合较好",
        "进展·生活自理": "能在提示下洗手",
        "监护人签字": "是",
        "下次送教日期": "2026-12-04",
    }
    return table_to_xlsx(pd.DataFrame([example], columns=list(COLUMNS)), sheet="送教记录")


def problems_frame(sheet: HomeVisitSheet) -> pd.DataFrame:
    return row_problems.problems_frame(sheet.problems)


def preview_frame(sheet: HomeVisitSheet) -> pd.DataFrame:
    return pd.DataFrame(
        [(g.row, g.name, g.facts.visit_date, g.facts.class_hours, g.facts.teachers) for g in sheet.good],
        columns=["行号", "姓名", "送教日期", "课时", "送教教师"],
    )


def error_workbook(sheet: HomeVisitSheet) -> bytes:
    """The rows with problems as they were, with the reasons in a last column: fix and import again."""
    return row_problems.error_workbook(sheet.rows, sheet.problems, COLUMNS, sheet="送教记录")
