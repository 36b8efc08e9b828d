"""学年升级: the county officer starts a school year (graduating grade 6 and grade 9), and can undo it."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.clock import china_time, today
from xueji.db import session_scope
from xueji.rules.terms import school_year_name
from xueji.rules.text_limits import max_length
from xueji.services.common.calendar import school_year_on
from xueji.services.registry import rollover
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import confirmed_submit

DONE = "rollover_done"  # the last write's message, shown after the rerun that redraws the page

actor = require_actor(Action.ROLLOVER_RUN)
st.title("学年升级")
st.caption(
    "年级由班号和学年推算,升级不改动班级;升级把仍在读的六年级、九年级学生(所在学段已结束的班级)设为毕业,"
    "并建立新学年及其学期。整个操作记入审计日志,可撤销最近一次。"
)
if DONE in st.session_state:
    st.success(st.session_state.pop(DONE))
with session_scope() as session:
    current = school_year_on(session, today())
    history = rollover.rollovers(session, actor=actor)
rolled = {r.school_year for r in history if r.undone_at is None}
# the year to roll into: next year's, unless last summer's rollover was missed (the year before was rolled into)
missed = current - 1 in rolled and current not in rolled
year = int(
    st.number_input(
        "升入的学年(开始年份)", min_value=2000, max_value=2100, value=current if missed else current + 1
    )
)
if missed:
    st.warning(f"{school_year_name(current)}已经开始,但还没有升级:请先完成这次升级。")
with session_scope() as session:
    preview = rollover.preview_rollover(session, actor=actor, school_year=year)
    timing = rollover.rollover_timing(session, actor=actor, school_year=year)
source = "" if timing.configured else "(学期设置中没有该学年的学期,按默认校历推算)"
early = timing.early(today())
done_already = next((r for r in history if r.undone_at is None and r.school_year >= year), None)
if done_already is not None:
    st.info(
        f"{school_year_name(done_already.school_year)}已于 {china_time(done_already.run_at)} 升级;"
        "如需重做,请先在下方撤销最近一次升级。"
    )
elif early:
    st.warning(
        f"{timing.explanation}{source},自 {timing.opens_on:%Y-%m-%d} 起可以升级。"
        "现在升级须填写原因(记入审计日志);如无特殊情况,请等学期结束后再升级。"
    )
else:
    st.info(f"{timing.last_term.name}已于 {timing.last_term.end:%Y-%m-%d} 结束{source},可以升级。")
st.metric(f"{year}学年升级将毕业的学生", preview.total)
if preview.by_school:
    show_table(
        pd.DataFrame(preview.by_school, columns=["学校", "小学毕业(六年级)", "初中毕业(九年级)"]),
        hide_index=True,
        width="stretch",
    )
with st.form("rollover"):
    reason = (
        st.text_area(
            "提前升级的原因(必填)",
            max_chars=max_length("rollover.early_reason"),
            placeholder="如:县教育局通知本学年提前结束",
        )
        if early
        else None
    )
    if confirmed_submit(
        "提前执行学年升级" if early else "执行学年升级",
        confirm=f"确认进行{year}学年升级({preview.total} 名学生将设为毕业)",
        primary=not early,
    ):
        with shown_as_error(), session_scope() as session:
            done = rollover.run_rollover(session, actor=actor, school_year=year, reason=reason)
            st.session_state[DONE] = f"已完成{year}学年升级:{len(done.graduated)} 名学生毕业"
            st.rerun()

if history:
    st.subheader("升级记录")
    show_table(
        pd.DataFrame(
            [
                (
                    school_year_name(r.school_year),
                    china_time(r.run_at),
                    len(r.graduated),
                    china_time(r.undone_at),
                    r.early_reason or "",
                )
                for r in history
            ],
            columns=["学年", "执行时间", "毕业人数", "撤销时间", "提前升级原因"],
        ),
        hide_index=True,
        width="stretch",
    )
    latest = next((r for r in history if r.undone_at is None), None)
    if latest is not None:
        with st.form("undo_rollover"):
            if confirmed_submit(
                "撤销最近一次升级",
                confirm=f"确认撤销{latest.school_year}学年升级(毕业的学生恢复在读,之后已变动的除外)",
            ):
                with shown_as_error(), session_scope() as session:
                    restored = rollover.undo_rollover(session, actor=actor, rollover_id=latest.id)
                    st.session_state[DONE] = f"已撤销:{restored} 名学生恢复在读"
                    st.rerun()
