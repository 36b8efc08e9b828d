"""节假日安排: the holiday table behind the 7-working-day deadlines, for the years chinesecalendar lacks."""

from datetime import date

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.text_limits import max_length
from xueji.rules.working_days import Coverage
from xueji.services.system import holidays
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import XLSX, confirmed_submit

RECOUNTED = "待审批学籍异动的审批期限已按新安排重算"
DONE = "holidays_done"  # the last write's message, shown after the rerun that redraws the warnings


def done(message: str) -> None:
    st.session_state[DONE] = message
    st.rerun()


actor = require_actor(Action.CALENDAR_MANAGE)
st.title("节假日安排")
st.caption(
    "学籍异动的审批期限按工作日计算:法定节假日不计,调休上班的周末计入。程序自带国务院已公布年份的安排"
    "(库内置);其他年份请在国务院办公厅公布当年安排后,把全年的放假日和调休上班日录入或导入,再点“确认全年"
    "安排完整”。确认前,表中没有的日子按周一至周五计算,页面一直提示。每次修改都会重算待审批申请的期限。"
)
if DONE in st.session_state:
    st.success(st.session_state.pop(DONE))
with session_scope() as session:
    warned = holidays.warning_years(session, today())
    states = holidays.year_states(session, today())
by_year = {s.year: s for s in states}
for y in warned:
    held = by_year[y].days if y in by_year else 0
    if held:
        st.warning(f"{y}年的节假日安排尚未确认完整(表中已有 {held} 天):期限暂按周一至周五计算。")
    else:
        st.warning(f"{y}年的节假日安排尚未录入:期限暂按周一至周五计算。")

st.subheader("各年份")
show_table(
    pd.DataFrame([(f"{s.year}年", s.label, s.days) for s in states], columns=["年份", "状态", "表中天数"]),
    hide_index=True,
)

st.session_state.setdefault("holiday_year", warned[0] if warned else today().year)  # kept across writes
year = int(st.number_input("年份", min_value=2020, max_value=2100, key="holiday_year"))
with session_scope() as session:
    days = holidays.list_days(session, actor=actor, year=year)
    state = next((s for s in holidays.year_states(session, today()) if s.year == year), None)
coverage = state.coverage if state else Coverage.INCOMPLETE
st.caption(f"{year}年:{coverage.label},表中 {len(days)} 天")
if days:
    show_table(
        pd.DataFrame(
            [(d.day, "上班" if d.is_workday else "放假", d.name) for d in days],
            columns=["日期", "安排", "名称"],
        ),
        hide_index=True,
        width="stretch",
    )

if coverage is Coverage.INCOMPLETE and not days:
    st.info(f"录入或导入{year}年的全部放假日和调休上班日后,可在此确认全年安排完整。")
elif coverage is not Coverage.LIBRARY:
    with st.form("year_complete"):
        complete = coverage is Coverage.INCOMPLETE
        if complete:
            label, confirm = (
                f"确认{year}年安排完整",
                f"已按国务院办公厅通知录入{year}年的全部放假日和调休上班日",
            )
        else:
            label, confirm = f"取消{year}年的完整确认", f"确认取消:{year}年将重新按不完整提示"
        if confirmed_submit(label, confirm=confirm):
            with shown_as_error(), session_scope() as session:
                summary = holidays.mark_complete(session, actor=actor, year=year, complete=complete)
                done(f"已{'确认' if complete else '取消确认'}{year}年安排完整;{summary}")

with st.form("add_day"):
    st.subheader("录入或修改一天")
    left, middle, right = st.columns(3)
    day = left.date_input("日期", value=date(year, 1, 1), format="YYYY-MM-DD")
    kind = middle.selectbox("安排", list(holidays.KINDS), placeholder="请选择")
    name = right.text_input(
        "名称", placeholder="如:春节、国庆节调休", max_chars=max_length("calendar_day.name")
    )
    if st.form_submit_button("保存", type="primary"):
        with shown_as_error(), session_scope() as session:
            holidays.save_days(
                session,
                actor=actor,
                rows=[{"day": day.isoformat(), "kind": kind, "name": name}],
                source="录入",
            )
            done(f"已保存 {day:%Y-%m-%d} {kind};{RECOUNTED}")

if days:
    with st.form("remove_day"):
        gone = st.selectbox(
            "删除一天(恢复为程序自带安排或周一至周五)", [d.day for d in days], placeholder="请选择"
        )
        if confirmed_submit("删除", confirm="确认删除"):
            with shown_as_error(), session_scope() as session:
                summary = holidays.remove_day(session, actor=actor, day=gone)
                done(f"已删除 {gone:%Y-%m-%d};{summary}")

st.subheader("导入全年安排")
st.download_button("下载导入模板", data=holidays.template(), file_name="节假日安排模板.xlsx", mime=XLSX)
upload = st.file_uploader("上传节假日安排 (xlsx:日期、安排、名称)", type=["xlsx"], key="holiday_upload")
if upload is not None and st.button("导入", key="holiday_import"):
    with shown_as_error(), session_scope() as session:
        count = holidays.import_days(session, actor=actor, data=upload.getvalue(), file_name=upload.name)
        done(f"已导入 {count} 天;{RECOUNTED}。全年安排导入后,请点“确认全年安排完整”。")
