"""月报报送与季报 (township and county): per month, which schools in scope have submitted their 四个一 monthly
report (on time, late, corrected) and which have not (overdue in red); the county's quarterly pack (xlsx + docx)."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.monthly_report import SubmissionState, recent_quarters
from xueji.rules.vocab import ScopeKind
from xueji.services.reports import missing, quarterly, submission
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FIRST = ["学校", "报送情况", "首次报送"]  # what a phone shows without scrolling

actor = require_actor(Action.REPORT_REVIEW)
st.title("月报报送与季报")
due_day = get_settings().report_due_day
st.caption(f"各校于次月 {due_day} 日前报送上月月报;过期未报送的学校标为红色。学校可在“学校月报”中查看数据。")
months = submission.month_choices(today())[1:]  # months that have ended
month = st.selectbox(
    "月份", months, format_func=lambda m: m.label, key="review_month", placeholder="请选择月份"
)
if month is None:
    st.stop()
with session_scope() as session:
    rows = missing.month_status(session, actor=actor, month=month)
counts = {s: sum(1 for r in rows if r.state is s) for s in SubmissionState}
cols = st.columns(4)
shown = (SubmissionState.OVERDUE, SubmissionState.NOT_DUE, SubmissionState.LATE, SubmissionState.ON_TIME)
for box, state in zip(cols, shown, strict=True):
    box.metric(state.label, counts[state])
corrected = sum(1 for r in rows if r.corrected)
st.caption(f"共 {len(rows)} 所学校;已更正 {corrected} 所(以最新版本为准)。")
frame = missing.status_frame(rows)


def _red(row):  # noqa: ANN001, ANN202 - a pandas row
    late = row["报送情况"] == SubmissionState.OVERDUE.label
    return ["color: #c62828; font-weight: 600" if late else "" for _ in row]


show_table(
    frame.style.apply(_red, axis=1),
    hide_index=True,
    width="stretch",
    key="review_table",
    column_order=FIRST + [c for c in frame.columns if c not in FIRST],  # on a phone: the school and its state
    column_config={"学校": st.column_config.TextColumn(pinned=True)},
)
export_button(
    f"导出{month.label}报送情况 (xlsx)",
    key=f"review_export_{month.key}",
    file_name=f"月报报送情况_{month.key}.xlsx",
    build=lambda session: missing.export_status(session, actor=actor, month=month),
)

if actor.scope_kind is ScopeKind.COUNTY:
    st.divider()
    st.subheader("县级季报")
    st.caption(
        f"{quarterly.BASIS}:季报汇总各校每月已报送的最新版本,未报送的学校不计入合计,另列“未报送”表。"
        "本月事项(转入、转出、辍学、家访等)按三个月相加;在籍、在册、在办等只取季度内最后一个已结束月份的报表,"
        "该月未报送的学校不计入这些数。没有学校跟进的儿童按乡镇另列“未随校儿童”一行(实时计算)。"
    )
    quarters = recent_quarters(today())  # this quarter first: not over yet, so the last ended one is chosen
    quarter = st.selectbox(
        "季度",
        quarters,
        index=1,
        format_func=lambda q: q.label + ("(本季度尚未结束)" if q == quarters[0] else ""),
        key="review_quarter",
        placeholder="请选择季度",
    )
    if quarter is not None:
        left, right = st.columns(2)
        with left:
            export_button(
                "生成季报数据表 (xlsx)",
                key=f"quarter_xlsx_{quarter.key}",
                file_name=f"季报_{quarter.key}.xlsx",
                build=lambda session: quarterly.export_xlsx(session, actor=actor, quarter=quarter),
            )
        with right:
            export_button(
                "生成季报文字报告 (docx)",
                key=f"quarter_docx_{quarter.key}",
                file_name=f"季报_{quarter.key}.docx",
                build=lambda session: quarterly.export_docx(session, actor=actor, quarter=quarter),
                mime=DOCX,
            )
