"""月度台账与考核: per school and month, overdue or improper registry work (source 002), the items behind each count,
the school year's assessment, and an export."""

from collections.abc import Callable

import streamlit as st
from sqlmodel import Session

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.accountability import Item
from xueji.rules.terms import school_year_name
from xueji.rules.vocab import ScopeKind
from xueji.services.dashboards import accountability as ledger
from xueji.services.dashboards.ledger_items import Period
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button

ALL = "全部事项"
actor = require_actor(Action.OVERVIEW_READ)
own_school = actor.scope_kind is ScopeKind.SCHOOL
st.title("月度台账与考核")
st.caption(
    "转入材料不全、学籍异动超过7个工作日未审批、大班额等,记入本月台帐,纳入学年度目标考核(依据 002)。"
    "“合计”只计前六项;窗口期外转入和降级编班已说明理由,只列出备查。"
)
with session_scope() as session:
    months = ledger.ledger_months(session)
    years = ledger.ledger_years(session)


def _show(period: Period, title: str, key: str) -> None:
    """The per-school table, the items behind it, and the export, for one month or one school year."""
    one_month = len(period.months) == 1
    running = period.current and one_month
    with session_scope() as session:
        schools = ledger.school_ledgers(session, actor=actor, period=period)
    total = sum(s.total for s in schools)
    left, middle, right = st.columns(3)
    left.metric("台账事项合计", total)
    if not own_school:
        middle.metric("有事项的学校", f"{sum(s.total > 0 for s in schools)}/{len(schools)}")
    if running:
        right.metric(
            "本学期还没做满核查的班级(未计入)",
            sum(s.running_checks for s in schools),
            help="学期未结束,不计入合计;学期结束当月仍不足的计入“人籍一致核查不足”",
        )
    if own_school:
        for school in schools:
            show_table(ledger.school_frame(school), hide_index=True, width="stretch")
    else:
        only_listed = st.checkbox("只看有事项的学校", key=f"{key}_only")
        shown = [s for s in schools if any(s.counts.values())] if only_listed else schools
        show_table(ledger.ledger_frame(shown, running=running), hide_index=True, width="stretch")

    st.subheader("明细")
    school_id = schools[0].school_id if own_school and schools else None
    left, right = st.columns(2)
    if not own_school:
        names = {s.school_id: s.school for s in schools if s.total or any(s.counts.values())}
        picked = left.selectbox(
            "学校",
            [None, *names],
            format_func=lambda i: "全部学校" if i is None else names[i],
            key=f"{key}_school",
            placeholder="请选择",
        )
        school_id = picked
    item = right.selectbox(
        "事项",
        [ALL, *Item],
        format_func=lambda i: i if i == ALL else i.label,
        key=f"{key}_item",
        placeholder="请选择",
    )
    with session_scope() as session:
        rows = ledger.ledger_rows(
            session, actor=actor, period=period, school_id=school_id, item=None if item == ALL else item
        )
    if rows:
        frame = ledger.rows_frame(rows)
        show_table(frame.drop(columns="学校") if own_school else frame, hide_index=True, width="stretch")
    else:
        st.success(f"{title}没有台账事项")
    if actor.can(Action.STUDENT_EXPORT):
        export_button(
            "导出台账 (xlsx)",
            key=f"export_{key}_{title}",
            file_name=f"{title}.xlsx",
            build=lambda session: ledger.export_ledger(session, actor=actor, period=period, title=title),
        )


def _period(build: Callable[[Session], Period]) -> Period:
    try:
        with session_scope() as session:
            return build(session)
    except ledger.LedgerError as error:
        st.info(str(error))
        st.stop()


monthly, yearly = st.tabs(["月度台账", "年度目标考核"])
with monthly:
    month = st.selectbox(
        "月份", months, format_func=lambda m: m.label, key="ledger_month", placeholder="请选择"
    )
    period = _period(lambda session: ledger.month_period(session, month))
    if period.current:
        st.caption(f"本月尚未结束:按截至 {period.end:%Y-%m-%d} 的情况统计。")
    _show(period, f"{'本校' if own_school else ''}月度台账 {month.label}", "month")

with yearly:
    year = st.selectbox("学年", years, format_func=school_year_name, key="ledger_year", placeholder="请选择")
    year_period = _period(lambda session: ledger.year_period(session, year))
    st.caption(
        f"{school_year_name(year)}已过月份({year_period.months[0].label}至{year_period.months[-1].label})的台账,"
        "同一事项跨月只计一次(如连续两个月底仍未审批的申请计 1 项)。来源文件没有给出考核的计分办法,这里只列事项数。"
    )
    _show(year_period, f"{'本校' if own_school else ''}年度目标考核 {school_year_name(year)}", "year")

with st.expander("各事项的口径与依据"):
    show_table(ledger.rules_frame(), hide_index=True, width="stretch")
    st.caption(
        "大班额按当前在读名册统计,只计入当月台账(往月的班额没有留存,无法还原)。"
        "学校首次导入学籍当月建立的新生学籍不算逾期注册(上线时集中导入)。"
    )
