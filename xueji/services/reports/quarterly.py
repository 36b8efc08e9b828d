"""The county's quarterly pack (季报), built from the latest submitted version of each school's monthly reports
(以各校已报送的最新版本为准): an xlsx with a sheet per month, the quarter's totals per school and per township and
the schools that have not submitted; a docx with the county's totals in words and a table per township. Both
exports are audited."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from io import BytesIO

import pandas as pd
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import MonthlyReport, School, Township
from xueji.rules.accountability import LedgerMonth
from xueji.rules.monthly_report import (
    CHILD_KEYS,
    HEADINGS,
    KEYS,
    MonthState,
    Quarter,
    month_state,
    ordered,
    over_months,
    totals,
)
from xueji.services.common.access import require, school_condition, township_condition
from xueji.services.common.exports import export_tables, record_export
from xueji.services.reports import figures as counting
from xueji.services.reports.missing import SchoolMonth, school_months

BASIS = "以各校已报送的最新版本为准"
# the figures the written report's tables show, in order
BRIEF = (
    "enrolled",
    "transfers_in",
    "transfers_out",
    "dropouts",
    "returns",
    "suspected_opened",
    "suspected_open",
    "visits.visit",
    "visits.return_attempt",
    "home_teaching",
)


UNFOLLOWED = "未随校儿童"


@dataclass(frozen=True)
class Pack:
    quarter: Quarter
    schools: list[SchoolMonth]  # every school in scope (from the quarter's first month's list), in order
    reports: dict[str, dict[int, tuple[int, dict[str, int]]]]  # month key → school id → (version, figures)
    missing: list[tuple[str, SchoolMonth]]  # (month label, school) not submitted
    # month key → township → the figures of the township's children no school followed at the month's end,
    # counted when the pack is built (no school reports them); the quarter's ended months only
    unfollowed: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    @property
    def ended(self) -> list[LedgerMonth]:
        """The quarter's months that had ended when the pack was built; the last gives the month-end counts."""
        return [m for m in self.quarter.months if month_state(m, today()) is MonthState.ENDED]

    def school_totals(self) -> dict[int, dict[str, int]]:
        """Each school's quarter: events summed over the months it submitted; month-end counts (在籍, 在册,
        在办) from the quarter's last ended month only, absent when the school has not submitted that month."""
        found: dict[int, dict[str, int]] = {}
        for school in self.schools:
            months = [self.reports.get(m.key, {}).get(school.school_id) for m in self.ended]
            if any(m is not None for m in months):
                found[school.school_id] = over_months([m[1] if m else None for m in months])
        return found

    def unfollowed_totals(self) -> dict[str, dict[str, int]]:
        """Each township's children no school followed, over the quarter's ended months (only the per-child
        figures: the others are a school's)."""
        townships = dict.fromkeys(t for m in self.ended for t in self.unfollowed.get(m.key, {}))
        return {
            t: {
                k: v
                for k, v in over_months(
                    [self.unfollowed.get(m.key, {}).get(t, {}) for m in self.ended]
                ).items()
                if k in CHILD_KEYS
            }
            for t in townships
        }

    def township_totals(self) -> dict[str, dict[str, int]]:
        """Each township's quarter: its schools' totals and its children no school followed."""
        by_township: dict[str, list[dict[str, int]]] = defaultdict(list)
        per_school = self.school_totals()
        for school in self.schools:
            if school.school_id in per_school:
                by_township[school.township].append(per_school[school.school_id])
        for township, figures in self.unfollowed_totals().items():
            by_township[township].append(figures)
        return {t: totals(rows) for t, rows in by_township.items()}

    def county_total(self) -> dict[str, int]:
        return totals([*self.school_totals().values(), *self.unfollowed_totals().values()])


def _unfollowed(session: Session, actor: Actor, month: LedgerMonth) -> dict[str, dict[str, int]]:
    """The month's figures of each township's children no school followed at its end (nonzero ones only)."""
    found = {}
    for township_id, name in session.execute(
        select(Township.id, Township.name).where(township_condition(actor)).order_by(Township.code)
    ):
        children = counting.unfollowed_children(int(township_id), month.last)
        figures = counting.child_figures(session, children=children, first=month.first, cut=month.last)
        if any(figures.values()):
            found[name] = {k: figures.get(k, 0) for k in CHILD_KEYS}
    return found


def build(session: Session, *, actor: Actor, quarter: Quarter) -> Pack:
    """The quarter's submitted reports (latest versions) for the schools in scope, and those not submitted."""
    require(session, actor, Action.REPORT_REVIEW)
    keys = [m.key for m in quarter.months]
    latest = (
        select(MonthlyReport.school_id, MonthlyReport.month, func.max(MonthlyReport.version).label("v"))
        .where(col(MonthlyReport.month).in_(keys))
        .group_by(MonthlyReport.school_id, MonthlyReport.month)
        .subquery()
    )
    rows = session.execute(
        select(MonthlyReport.school_id, MonthlyReport.month, MonthlyReport.version, MonthlyReport.figures)
        .join(
            latest,
            (latest.c.school_id == MonthlyReport.school_id)
            & (latest.c.month == MonthlyReport.month)
            & (latest.c.v == MonthlyReport.version),
        )
        .where(col(MonthlyReport.school_id).in_(select(School.id).where(school_condition(actor))))
    ).all()
    reports: dict[str, dict[int, tuple[int, dict[str, int]]]] = defaultdict(dict)
    for school_id, month, version, figures in rows:
        reports[month][int(school_id)] = (int(version), ordered(figures))
    schools: dict[int, SchoolMonth] = {}
    missing = []
    for month in quarter.months:
        if month.first > today():
            continue
        ended = month_state(month, today()) is MonthState.ENDED  # a running month is not missing yet
        for row in school_months(session, actor, month):
            schools.setdefault(row.school_id, row)
            if ended and not row.state.submitted:
                missing.append((month.label, row))
    unfollowed = {
        m.key: _unfollowed(session, actor, m)
        for m in quarter.months
        if month_state(m, today()) is MonthState.ENDED
    }
    return Pack(quarter, list(schools.values()), dict(reports), missing, unfollowed)


def _table(rows: list[tuple[str, str, str, dict[str, int]]], first: list[str]) -> pd.DataFrame:
    """One row per school (or township) and one column per figure; a figure a row does not have is blank."""
    return pd.DataFrame(
        [[*lead, *(figures.get(k, "") for k in KEYS)] for *lead, figures in rows],
        columns=[*first, *(HEADINGS[k] for k in KEYS)],
    )


NOTES = (
    ("口径", BASIS + ";未报送的学校不计入合计,见“未报送”表"),
    (
        "季度合计",
        "本月事项(转入、转出、辍学、家访等)为已报送各月之和;在籍、在册、在办等月末数只取季度内最后一个已结束"
        "月份的报表,该月未报送的学校不计入这些数(备注中注明)",
    ),
    (
        UNFOLLOWED,
        "没有学校跟进的儿童(无学籍且未指定跟进学校)的个案、家访、劝返复学进度不在任何学校的月报中,按乡镇另列"
        "一行“未随校儿童”,于生成季报时实时计算,计入乡镇和全县合计",
    ),
    (
        "儿童所属学校",
        "个案、家访、劝返复学进度按月末当天儿童所在学校计:有学籍的儿童按当天的学籍学校(其后的转学、撤并回溯);"
        "无学籍的儿童没有历史记录,按现在的跟进学校计",
    ),
)


def sheets(pack: Pack) -> dict[str, pd.DataFrame]:
    """The pack's tables: notes, a sheet per month, totals per school and per township, the schools missing."""
    names = {s.school_id: s for s in pack.schools}
    notes = [
        ("季度", pack.quarter.label),
        ("报送期限", f"每月报表于次月 {get_settings().report_due_day} 日前报送"),
        *NOTES,
    ]
    out: dict[str, pd.DataFrame] = {"说明": pd.DataFrame(notes, columns=["项目", "内容"])}
    for month in pack.quarter.months:
        submitted = pack.reports.get(month.key, {})
        rows = [
            (names[sid].township, names[sid].school, f"第 {submitted[sid][0]} 版", submitted[sid][1])
            for sid in names
            if sid in submitted
        ]
        rows += [(t, UNFOLLOWED, "实时计算", f) for t, f in pack.unfollowed.get(month.key, {}).items()]
        rows.append(("合计", "", "", totals(r[3] for r in rows)))
        out[month.label] = _table(rows, ["乡镇", "学校", "版本"])
    per_school = pack.school_totals()
    last = pack.ended[-1] if pack.ended else None
    out["季度合计(学校)"] = _table(
        [
            (
                names[sid].township,
                names[sid].school,
                ""
                if last is None or sid in pack.reports.get(last.key, {})
                else f"{last.label}未报送,月末数未计入",
                f,
            )
            for sid, f in per_school.items()
        ]
        + [(t, UNFOLLOWED, "实时计算", f) for t, f in pack.unfollowed_totals().items()],
        ["乡镇", "学校", "备注"],
    )
    townships = pack.township_totals()
    out["季度合计(乡镇)"] = _table(
        [(t, "", "", f) for t, f in townships.items()] + [("全县", "", "", pack.county_total())],
        ["乡镇", "学校", "备注"],
    ).drop(columns=["学校", "备注"])
    out["未报送"] = pd.DataFrame(
        [(m, s.township, s.school, s.state.label, s.due) for m, s in pack.missing],
        columns=["月份", "乡镇", "学校", "报送情况", "报送期限"],
    )
    return out


def export_xlsx(session: Session, *, actor: Actor, quarter: Quarter) -> bytes:
    """The pack as an xlsx, audited."""
    pack = build(session, actor=actor, quarter=quarter)
    return export_tables(
        session,
        actor=actor,
        action=Action.REPORT_REVIEW,
        sheets=sheets(pack),
        title=f"{quarter.label}控辍保学季报",
        entity_type="monthly_report",
    )


def _cjk(document, font: str = "宋体") -> None:  # noqa: ANN001 - a python-docx Document
    """Set the CJK font (w:eastAsia) on the styles the report uses, as python-docx needs for Chinese text."""
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        style = document.styles[name]
        style.font.name = font
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), font)


def _sentence(figures: dict[str, int]) -> str:
    return (
        f"季末在籍学生 {figures['enrolled']} 人;本季度转入 {figures['transfers_in']} 人、转出 "
        f"{figures['transfers_out']} 人,辍学 {figures['dropouts']} 人,劝返复学 {figures['returns']} 人,"
        f"休学复学 {figures['resumptions']} 人;新增疑似辍学 {figures['suspected_opened']} 人,季末在册疑似辍学 "
        f"{figures['suspected_open']} 人;家访 {figures['visits.visit']} 次、劝返 {figures['visits.return_attempt']} 次;"
        f"送教上门儿童 {figures['home_teaching']} 人,其中已达标 {figures['home_teaching.compliant']} 人。"
    )


def docx_bytes(pack: Pack) -> bytes:
    """The written report: the county's totals in words, a table per township, the schools not submitted."""
    document = Document()
    _cjk(document)
    title = document.add_heading(f"{pack.quarter.label}控辍保学工作季报", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(f"统计口径:{BASIS}。生成日期:{today().isoformat()}。")
    per_school = pack.school_totals()
    document.add_heading("一、全县情况", level=1)
    document.add_paragraph(
        f"本季度应报送学校 {len(pack.schools)} 所,已报送(至少一个月) {len(per_school)} 所。"
        + _sentence(pack.county_total())
    )
    document.add_heading("二、各乡镇情况", level=1)
    document.add_paragraph("".join(f"{name}:{text}。" for name, text in NOTES[1:]))
    names = {s.school_id: s for s in pack.schools}
    unfollowed = pack.unfollowed_totals()
    for township, figures in pack.township_totals().items():
        document.add_heading(township, level=2)
        document.add_paragraph(_sentence(figures))
        rows = [(names[sid].school, f) for sid, f in per_school.items() if names[sid].township == township]
        if township in unfollowed:
            rows.append((UNFOLLOWED, unfollowed[township]))
        table = document.add_table(rows=1, cols=1 + len(BRIEF))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ["学校", *(HEADINGS[k] for k in BRIEF)], strict=True):
            cell.text = text
        for school, f in [*rows, ("合计", figures)]:
            cells = table.add_row().cells
            for cell, text in zip(cells, [school, *(str(f.get(k, "—")) for k in BRIEF)], strict=True):
                cell.text = text
    document.add_heading("三、未报送月报的学校", level=1)
    if pack.missing:
        for label, row in pack.missing:
            document.add_paragraph(f"{label}:{row.township} {row.school}({row.state.label})")
    else:
        document.add_paragraph("本季度各校均已报送。")
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            run.font.size = run.font.size or Pt(11)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def export_docx(session: Session, *, actor: Actor, quarter: Quarter) -> bytes:
    """The written report as a docx, audited."""
    pack = build(session, actor=actor, quarter=quarter)
    data = docx_bytes(pack)
    record_export(
        session,
        actor=actor,
        action=Action.REPORT_REVIEW,
        title=f"{quarter.label}控辍保学季报(文字报告)",
        rows=len(pack.school_totals()),
        entity_type="monthly_report",
    )
    return data
