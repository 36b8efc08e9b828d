"""月度台账与考核: per school in scope and month of the school year, the improper or overdue registry work
(rules.accountability), counted in SQL, with the items behind each count and an audited export; the year's
assessment counts each item once over the school year's months so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import School, SchoolYear, Student, Township
from xueji.rules.accountability import COUNTED_ITEMS, Item, LedgerMonth, months_so_far, total
from xueji.rules.class_code import parse_class_code
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.terms import school_year_bounds, school_year_name
from xueji.rules.transfers import missing_proofs
from xueji.services.common.access import require, school_condition, school_in_scope
from xueji.services.common.calendar import school_year_on
from xueji.services.common.exports import export_tables
from xueji.services.dashboards.ledger_items import ITEM_QUERIES, Period, running_checks_short
from xueji.services.registry.suspensions import expired_unhandled, expired_unhandled_by_school


class LedgerError(ValueError):
    """The month or school year asked for has no ledger (not begun yet); the message says so in Chinese."""


@dataclass(frozen=True)
class SchoolLedger:
    """One school's counts for a month or a school year."""

    school_id: int
    township: str
    school: str
    counts: dict[Item, int] = field(default_factory=dict)
    running_checks: int = 0  # classes short of checks so far in the running term (not counted until it ends)

    @property
    def total(self) -> int:
        return total(self.counts)


@dataclass(frozen=True)
class LedgerRow:
    """One item behind a count: who or which class, what, on which day, and why it is in the ledger."""

    item: Item
    school: str
    subject: str
    what: str
    day: date | None
    note: str


def _period(session: Session, months: list[LedgerMonth], year: int, label: str) -> Period:
    day = today()
    months = [m for m in months if m.first <= day]
    if not months:
        raise LedgerError(f"{label}尚未开始,没有台账")
    return Period(tuple(months), day, year)


def month_period(session: Session, month: LedgerMonth) -> Period:
    """The ledger of one month (drawn up at its end, or today while it runs)."""
    return _period(session, [month], school_year_on(session, month.first), month.label)


def year_bounds(session: Session, start_year: int) -> tuple[date, date]:
    """The school year's first and last day: as configured (学期设置), else by the start month."""
    row = session.execute(
        select(SchoolYear.start_date, SchoolYear.end_date).where(SchoolYear.start_year == start_year)
    ).first()
    if row is not None:
        return row[0], row[1]
    return school_year_bounds(start_year, start_month=get_settings().school_year_start_month)


def year_period(session: Session, start_year: int) -> Period:
    """The school year's months so far: the year's assessment (年度目标考核)."""
    first, last = year_bounds(session, start_year)
    return _period(session, months_so_far(first, last, today()), start_year, school_year_name(start_year))


def ledger_months(session: Session) -> list[LedgerMonth]:
    """The months a ledger can be asked for, newest first: this school year's and the last one's, up to now."""
    year = school_year_on(session, today())
    months = [m for y in (year - 1, year) for m in months_so_far(*year_bounds(session, y), today())]
    return sorted(set(months), reverse=True)


def ledger_years(session: Session) -> list[int]:
    """The school years with an assessment so far, newest first (this one and the last)."""
    year = school_year_on(session, today())
    return [year, year - 1]


def _schools(session: Session, actor: Actor, period: Period) -> list[tuple[int, str, str]]:
    """The schools in scope that were open during the period: (id, township, school), in code order."""
    return [
        (int(sid), township, name)
        for sid, township, name in session.execute(
            select(School.id, Township.name, School.name)
            .join(Township, School.township_id == Township.id)
            .where(
                school_condition(actor),
                or_(col(School.closed_on).is_(None), col(School.closed_on) >= period.first),
            )
            .order_by(Township.code, School.code)
        )
    ]


def _counts(session: Session, actor: Actor, period: Period) -> dict[Item, dict[int, int]]:
    """Item → school id → count: one GROUP BY per item."""
    counts: dict[Item, dict[int, int]] = {}
    for item, query in ITEM_QUERIES.items():
        found = query(actor, period).subquery()
        rows = session.execute(select(found.c.school_id, func.count()).group_by(found.c.school_id))
        counts[item] = {int(sid): int(n) for sid, n in rows}
    counts[Item.EXPIRED_SUSPENSION] = _expired_counts(session, actor, period)
    return counts


def _expired_counts(session: Session, actor: Actor, period: Period) -> dict[int, int]:
    """Suspensions ended and not handled at a month's end (services.registry.suspensions); over several months
    each suspension once."""
    if len(period.months) == 1:
        return expired_unhandled_by_school(session, actor=actor, on=period.end)
    seen = {item for day in _cuts(period) for item in expired_unhandled(session, actor=actor, on=day)}
    counts: dict[int, int] = {}
    for school_id, _, _ in seen:
        counts[school_id] = counts.get(school_id, 0) + 1
    return counts


def _cuts(period: Period) -> list[date]:
    return [m.cut(period.today) for m in period.months]


def school_ledgers(session: Session, *, actor: Actor, period: Period) -> list[SchoolLedger]:
    """Per school in scope (open during the period): the count of each item, zero where none."""
    require(session, actor, Action.OVERVIEW_READ)
    counts = _counts(session, actor, period)
    running: dict[int, int] = {}
    if period.current and len(period.months) == 1:
        found = running_checks_short(actor, period).subquery()
        running = {
            int(sid): int(n)
            for sid, n in session.execute(select(found.c.school_id, func.count()).group_by(found.c.school_id))
        }
    return [
        SchoolLedger(
            school_id=sid,
            township=township,
            school=name,
            counts={item: counts[item].get(sid, 0) for item in Item},
            running_checks=running.get(sid, 0),
        )
        for sid, township, name in _schools(session, actor, period)
    ]


def ledger_rows(
    session: Session,
    *,
    actor: Actor,
    period: Period,
    school_id: int | None = None,
    item: Item | None = None,
) -> list[LedgerRow]:
    """The items behind the counts (of one school and one item when given), school by school."""
    require(session, actor, Action.OVERVIEW_READ)
    if school_id is not None:
        school_in_scope(session, actor, school_id, Action.OVERVIEW_READ)
    rows: list[LedgerRow] = []
    for kind, query_of in ITEM_QUERIES.items():
        if item not in (None, kind):
            continue
        found = query_of(actor, period).subquery()
        query = select(found).order_by(found.c.school, found.c.day, found.c.subject)
        if school_id is not None:
            query = query.where(found.c.school_id == school_id)
        rows += [_row(kind, period, r) for r in session.execute(query)]
    if item in (None, Item.EXPIRED_SUSPENSION):
        rows += _expired_rows(session, actor, period, school_id)
    order = list(Item)
    return sorted(rows, key=lambda r: (r.school, order.index(r.item), r.day or period.end, r.subject))


def _class_name(code: str | None) -> str:
    try:
        return parse_class_code(code or "").name
    except ValueError:
        return code or ""


def _row(item: Item, period: Period, r) -> LedgerRow:  # noqa: ANN001 - a result row
    settings = get_settings()
    if item is Item.OVERDUE_APPROVAL:
        what = f"{ChangeKind(r.extra).label}申请"
        late = r.day is not None and r.day <= period.end
        note = f"审批期限 {r.deadline:%Y-%m-%d}," + (
            f"{r.day:%Y-%m-%d} 才审批" if late else f"截至 {period.end:%Y-%m-%d} 仍未审批"
        )
        return LedgerRow(item, r.school, r.subject, what, r.day if late else None, note)
    if item is Item.MISSING_PROOF:
        documents = [Document(d) for d in (r.extra or "").split(",") if d in Document._value2member_map_]
        lacking = missing_proofs(ChangeKind.TRANSFER_IN, documents, settings.transfer_proofs)
        note = "缺:" + "、".join(d.label for d in lacking)
        return LedgerRow(item, r.school, r.subject, "转入(申请或学籍导入)", r.day, note)
    if item in (Item.OUTSIDE_WINDOW, Item.BELOW_GRADE):
        what = "窗口期外转学申请" if item is Item.OUTSIDE_WINDOW else "编入低于学籍年级的班级"
        return LedgerRow(item, r.school, r.subject, what, r.day, f"理由:{r.extra or '未填写'}")
    if item is Item.LATE_REGISTRATION:
        note = f"注册截止 {r.deadline:%Y-%m-%d},{r.day:%Y-%m-%d} 建籍或升入"
        return LedgerRow(item, r.school, r.subject, _class_name(r.extra), r.day, note)
    if item is Item.CHECKS_SHORT:
        needed = settings.registry_checks_per_term
        what = f"第{'一' if r.extra == '1' else '二'}学期"
        note = f"核查 {r.amount} 次(不同日期),应至少 {needed} 次"
        return LedgerRow(item, r.school, _class_name(r.subject), what, r.day, note)
    limit = settings.class_size_limit
    return LedgerRow(
        item, r.school, _class_name(r.subject), "", r.day, f"在读 {r.amount} 人,上限 {limit} 人(按当前名册)"
    )


def _expired_rows(session: Session, actor: Actor, period: Period, school_id: int | None) -> list[LedgerRow]:
    found = {
        entry
        for day in _cuts(period)
        for entry in expired_unhandled(session, actor=actor, on=day)
        if school_id in (None, entry[0])
    }
    if not found:
        return []
    names: dict[int, str] = dict(
        session.execute(
            select(Student.id, Student.name).where(col(Student.id).in_({sid for _, sid, _ in found}))
        ).all()
    )
    schools: dict[int, str] = dict(
        session.execute(
            select(School.id, School.name).where(col(School.id).in_({s for s, _, _ in found}))
        ).all()
    )
    return [
        LedgerRow(
            Item.EXPIRED_SUSPENSION,
            schools[school],
            names[student],
            "休学",
            until,
            f"休学于 {until:%Y-%m-%d} 期满,未申请复学或续休",
        )
        for school, student, until in found
    ]


ITEM_COLUMNS = [item.label for item in COUNTED_ITEMS]
EXPLAINED_COLUMNS = [item.label for item in Item if not item.counted]
LEDGER_COLUMNS = ["乡镇", "学校", "合计", *ITEM_COLUMNS, *EXPLAINED_COLUMNS]
RUNNING_COLUMN = "本学期至今核查不足(未计入)"
ROW_COLUMNS = ["学校", "事项", "对象", "内容", "日期", "说明"]


def ledger_frame(rows: list[SchoolLedger], *, running: bool = False) -> pd.DataFrame:
    """One row per school: the total, each counted item, then the explained items (zero shown as 0)."""
    frame = pd.DataFrame(
        [
            (
                r.township,
                r.school,
                r.total,
                *(r.counts.get(i, 0) for i in COUNTED_ITEMS),
                *(r.counts.get(i, 0) for i in Item if not i.counted),
            )
            for r in rows
        ],
        columns=LEDGER_COLUMNS,
    )
    if running:
        frame[RUNNING_COLUMN] = [r.running_checks for r in rows]
    return frame


def rows_frame(rows: list[LedgerRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (r.school, r.item.label, r.subject, r.what, f"{r.day:%Y-%m-%d}" if r.day else "—", r.note)
            for r in rows
        ],
        columns=ROW_COLUMNS,
    )


def school_frame(ledger: SchoolLedger) -> pd.DataFrame:
    """One school's counts, one item a row (a school's own view, narrow enough for a phone)."""
    return pd.DataFrame(
        [(i.label, ledger.counts.get(i, 0), "计入" if i.counted else "不计入合计") for i in Item],
        columns=["事项", "件数", "合计"],
    )


def rules_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [(i.label, "计入" if i.counted else "只列出,不计入合计", i.rule) for i in Item],
        columns=["事项", "是否计入合计", "口径与依据"],
    )


def export_ledger(
    session: Session, *, actor: Actor, period: Period, title: str, school_id: int | None = None
) -> bytes:
    """The per-school table, every item behind it and the rules, as one xlsx (audited: names of children)."""
    ledgers = school_ledgers(session, actor=actor, period=period)
    if school_id is not None:
        ledgers = [r for r in ledgers if r.school_id == school_id]
    running = period.current and len(period.months) == 1
    return export_tables(
        session,
        actor=actor,
        action=Action.STUDENT_EXPORT,
        sheets={
            "汇总": ledger_frame(ledgers, running=running),
            "明细": rows_frame(ledger_rows(session, actor=actor, period=period, school_id=school_id)),
            "口径": rules_frame(),
        },
        entity_type="ledger",
        title=title,
    )
