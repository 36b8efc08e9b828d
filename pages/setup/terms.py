"""学期设置 (admin): the county's term calendar: the terms as a table, a school year's two terms added (pre-filled
with dates clear of the Spring Festival and public holidays), a term's dates changed; every deadline that reads
the terms follows."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.term_calendar import TERM_NAMES
from xueji.rules.terms import TermDates, school_year_name
from xueji.services.setup import terms
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md

actor = require_actor(Action.SETUP_MANAGE)
st.title("学期设置")
st.caption(
    "县教育局确定的校历。开学日期和结束日期不能是法定节假日(按“节假日安排”页的表和国务院已公布的安排检查);"
    "也可以在“基础数据导入”中用“学期”表一次导入。"
)
# (form, message) of the dates just saved: shown under that form, where the button was (on a phone the top of the
# page is scrolled away)
saved_in, saved = st.session_state.pop("terms_saved", (None, ""))

with session_scope() as session:
    listed = terms.list_terms(session, actor=actor)
    proposed_first, _ = terms.proposal(session, actor=actor)
if listed:
    show_table(
        pd.DataFrame(
            [
                (
                    school_year_name(v.dates.school_year_start),
                    TERM_NAMES[v.dates.seq],
                    v.dates.start,
                    v.dates.end,
                    v.days,
                )
                for v in listed
            ],
            columns=["学年", "学期", "开学日期", "结束日期", "天数"],
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("尚未设置任何学期:请先添加本学年的两个学期。")

with st.expander("哪些期限随学期变化"):
    for line in terms.FOLLOWS:
        st.markdown(f"- {line}")
    st.caption(terms.NOT_FOLLOWING)

st.subheader("添加一个学年")
year = int(
    st.number_input(
        "学年(开始年份)",
        min_value=2000,
        max_value=2099,
        value=proposed_first.school_year_start,
        step=1,
        key="add_year",
    )
)
with session_scope() as session:
    first, second = terms.proposal(session, actor=actor, start_year=year)
st.caption(
    f"已为{school_year_name(year)}预填日期:均为工作日,避开法定节假日;第二学期在春节假期结束满一周后的周一开学。"
    "请按本县校历调整。"
)
with st.form(f"add_year_{year}"):
    # a row per term: on a phone the columns stack, and each term's start stays next to its end
    left, right = st.columns(2)
    start1 = left.date_input("第一学期开学日期", value=first.start, format="YYYY-MM-DD")
    end1 = right.date_input("第一学期结束日期", value=first.end, format="YYYY-MM-DD")
    left, right = st.columns(2)
    start2 = left.date_input("第二学期开学日期", value=second.start, format="YYYY-MM-DD")
    end2 = right.date_input("第二学期结束日期", value=second.end, format="YYYY-MM-DD")
    if st.form_submit_button("保存该学年的两个学期", type="primary"):
        with shown_as_error(), session_scope() as session:
            added = terms.add_school_year(
                session,
                actor=actor,
                first=TermDates(year, 1, start1, end1),
                second=TermDates(year, 2, start2, end2),
            )
            st.session_state["terms_saved"] = ("add", "已保存:" + ";".join(s.summary for s in added))
        if "terms_saved" in st.session_state:
            st.rerun()
if saved_in == "add":
    st.success(md(saved))  # it names townships (user text)

if listed:
    st.subheader("修改学期日期")
    chosen = st.selectbox(
        "学期",
        listed,
        index=len(listed) - 1,
        format_func=lambda v: v.label,
        key="change_term",
        placeholder="请选择",
    )
    with st.form(f"change_{chosen.term_id}"):
        left, right = st.columns(2)
        start = left.date_input("开学日期", value=chosen.dates.start, format="YYYY-MM-DD")
        end = right.date_input("结束日期", value=chosen.dates.end, format="YYYY-MM-DD")
        st.caption("开学日期改变后,该学期未完成排查的完成期限随之顺延;已有记录落在新日期之外时不能修改。")
        if st.form_submit_button("保存修改", type="primary"):
            with shown_as_error(), session_scope() as session:
                changed = terms.change_term(
                    session,
                    actor=actor,
                    school_year_start=chosen.dates.school_year_start,
                    seq=chosen.dates.seq,
                    start=start,
                    end=end,
                )
                st.session_state["terms_saved"] = ("change", f"已保存:{changed.summary}")
            if "terms_saved" in st.session_state:
                st.rerun()
    if saved_in == "change":
        st.success(md(saved))
