"""学校月报 (registrar; township and county read-only): a school's 四个一 monthly report for a month, counted today,
downloaded as xlsx, submitted as a frozen copy, corrected only by a new version with its reason."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import china_day, china_time, today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.monthly_report import (
    MonthState,
    due_on,
    last_month,
    month_state,
    submission_state,
)
from xueji.services.reports import submission, workbook
from xueji.ui.confirm import empty_fields, remember_saved, show_saved
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.style import required
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit, export_button

SUBMIT_FIELDS = ("report_note", "report_confirm")
CORRECT_FIELDS = ("report_reason", "report_correct_note", "report_correct_confirm")


def forget_ticks() -> None:
    """Another school or month: its report is not the one checked, so the tick (and what was typed) goes."""
    empty_fields((*SUBMIT_FIELDS, *CORRECT_FIELDS))


actor = require_actor(Action.REPORT_READ)
st.title("学校月报")
show_saved("report_saved")
due_day = get_settings().report_due_day
st.caption(
    f"四个一月报:每月结束后,学校于次月 {due_day} 日前报送上月月报。报送即冻结当时的数据;"
    "报送后如需修改,只能提交更正(新版本,须写明原因),原版本保留。"
)
with session_scope() as session:
    schools = submission.schools_in_scope(session, actor=actor)
if not schools:
    st.info("您的管辖范围内没有学校。")
    st.stop()
names = dict(schools)
left, right = st.columns(2)
school_id = left.selectbox(
    "学校",
    list(names),
    format_func=names.__getitem__,
    key="report_school",
    placeholder="请选择学校",
    on_change=forget_ticks,
)
months = submission.month_choices(today())
month = right.selectbox(
    "月份",
    months,
    index=months.index(last_month(today())),
    format_func=lambda m: m.label,
    key="report_month",
    placeholder="请选择月份",
    on_change=forget_ticks,
)
if school_id is None or month is None:
    st.stop()
view = None
with shown_as_error(), session_scope() as session:
    view = submission.month_view(session, actor=actor, school_id=school_id, month=month)
if view is None:
    st.stop()
state = month_state(month, today())
latest = view.latest
if latest is None:
    if state is MonthState.ENDED:
        stand = submission_state(month, first_submitted=None, today=today(), due_day=due_day)
        st.warning(
            f"{month.label}月报尚未报送({stand.label};报送期限 {due_on(month, due_day).isoformat()})。"
        )
    else:
        st.info(f"{month.label}{state.label}:以下为截至今日的数据,月末之后方可报送。")
else:
    first = view.versions[0]
    stand = submission_state(
        month, first_submitted=china_day(first.submitted_at), today=today(), due_day=due_day
    )
    said = f"{md(first.submitted_by or '—')} 于 {china_time(first.submitted_at)} 报送({stand.label})"
    if latest.version > 1:  # on time or late is the first version's; the correction has its own day
        said += (
            f";现为第 {latest.version} 版(更正),{md(latest.submitted_by or '—')} "
            f"于 {china_time(latest.submitted_at)} 提交"
        )
    st.success(f"{month.label}月报已报送:{said}。")
    if view.changed:
        st.warning(f"报送后有 {len(view.changed)} 项数据发生变化(表中标为“已变化”);如需修改,请提交更正。")
figures = workbook.figures_frame(view)
figures = figures.rename(
    columns=lambda c: "已报送" if c.startswith("已报送") else c
)  # the version is said above
for n, (group, part) in enumerate(
    figures.groupby("类别", sort=False)
):  # a table per group: narrow enough for a
    st.markdown(
        f"**{md(group)}**"
    )  # phone to show the figures, read whole (no inner scroll) before submitting
    show_table(
        part.drop(columns="类别"),
        hide_index=True,
        width="stretch",
        height="content",
        key=f"report_figures_{n}",
    )
export_button(
    "导出月报 (xlsx)",
    key=f"report_xlsx_{school_id}_{month.key}",
    file_name=f"月报_{names[school_id].split(' · ')[-1]}_{month.key}.xlsx",
    build=lambda session: workbook.monthly_xlsx(session, actor=actor, school_id=school_id, month=month),
)
if submission.may_submit(actor, school_id) and state is MonthState.ENDED:
    if latest is None:
        with st.form("report_submit"):
            st.subheader("报送月报")
            note = st.text_area("备注(选填)", max_chars=300, key="report_note")
            if confirmed_submit(
                "报送",
                confirm=f"我已核对以上数据,确认报送{month.label}月报",
                primary=True,
                key="report_confirm",
            ):
                with shown_as_error(), session_scope() as session:
                    report = submission.submit(
                        session, actor=actor, school_id=school_id, month=month, note=note
                    )
                    remember_saved(
                        "report_saved",
                        f"已报送{month.label}月报(第 {report.version} 版)",
                        clear=SUBMIT_FIELDS,
                    )
                    st.rerun()
    else:
        with st.form("report_correct"):
            st.subheader("提交更正")
            st.caption("更正以今日重新计算的数据生成新版本,原版本保留;须写明更正原因(至少 4 个字)。")
            reason = st.text_area(required("更正原因"), max_chars=300, key="report_reason")
            note = st.text_area("备注(选填)", max_chars=300, key="report_correct_note")
            if confirmed_submit(
                "提交更正", confirm="确认以今日数据提交更正版本", key="report_correct_confirm"
            ):
                with shown_as_error(), session_scope() as session:
                    report = submission.correct(
                        session, actor=actor, school_id=school_id, month=month, reason=reason, note=note
                    )
                    remember_saved(
                        "report_saved",
                        f"已提交{month.label}月报更正(第 {report.version} 版)",
                        clear=CORRECT_FIELDS,
                    )
                    st.rerun()
if view.versions:
    st.subheader("版本记录")
    show_table(
        workbook.versions_frame(view.versions), hide_index=True, width="stretch", key="report_versions"
    )
