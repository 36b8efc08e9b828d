"""节假日安排: the holiday table behind the 7-working-day deadlines, for the years chinesecalendar lacks."""

from datetime import date

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.text_limits import max_length
from xueji.services.system import holidays
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import XLSX, confirmed_submit

actor = require_actor(Action.CALENDAR_MANAGE)
st.title("节假日安排")
st.caption(
    "学籍异动的审批期限按工作日计算:法定节假日不计,调休上班的周末计入。"
    "程序自带国务院已公布年份的安排;尚未收录的年份请在此录入或导入,录入前按周一至周五计算并提示。"
)
with session_scope() as session:
    missing = holidays.missing_years(session, today())
for year in missing:
    st.warning(f"{year}年的节假日安排尚未录入:期限暂按周一至周五计算。")

year = st.number_input("年份", min_value=2020, max_value=2100, value=missing[0] if missing else today().year)
with session_scope() as session:
    days = holidays.list_days(session, actor=actor, year=int(year))
    known = holidays.year_known(session, int(year))
st.caption(f"{int(year)}年:" + ("已有安排" if known else "尚无安排") + f",表中 {len(days)} 天")
show_table(
    pd.DataFrame(
        [(d.day, "上班" if d.is_workday else "放假", d.name) for d in days], columns=["日期", "安排", "名称"]
    ),
    hide_index=True,
    width="stretch",
)

with st.form("add_day"):
    st.subheader("录入一天")
    left, middle, right = st.columns(3)
    day = left.date_input("日期", value=date(int(year), 1, 1))
    kind = middle.selectbox("安排", list(holidays.KINDS))
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
            st.success(f"已保存 {day:%Y-%m-%d} {kind}")

if days:
    with st.form("remove_day"):
        gone = st.selectbox("删除一天(恢复为程序自带安排或周一至周五)", [d.day for d in days])
        if confirmed_submit("删除", confirm="确认删除"):
            with shown_as_error(), session_scope() as session:
                holidays.remove_day(session, actor=actor, day=gone)
                st.success(f"已删除 {gone:%Y-%m-%d}")

st.subheader("导入全年安排")
st.download_button("下载导入模板", data=holidays.template(), file_name="节假日安排模板.xlsx", mime=XLSX)
upload = st.file_uploader("上传节假日安排 (xlsx:日期、安排、名称)", type=["xlsx"], key="holiday_upload")
if upload is not None and st.button("导入", key="holiday_import"):
    with shown_as_error(), session_scope() as session:
        count = holidays.import_days(session, actor=actor, data=upload.getvalue(), file_name=upload.name)
        st.success(f"已导入 {count} 天")
