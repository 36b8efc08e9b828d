"""比对结果 (township, county, registrar, coordinator): the lists reconciliation made, one at a time, each
exportable. A school's registrar sees the children whose record (or school found) is theirs."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.sweeps import Finding
from xueji.services.sweeps import reconciliation
from xueji.ui.display import is_empty, text
from xueji.ui.session import require_actor
from xueji.ui.sweeps import sweep_picker
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button

ADVICE = {
    Finding.SUSPECTED_DROPOUT: "已自动建立疑似辍学个案(控辍保学台账),请指定双线包保人并尽快家访劝返。",
    Finding.ENROLLED_ABSENT: "学籍在读但人不在学校(名在人不在):学校核实后办理转学、休学或劝返,不得空挂学籍。",
    Finding.REGISTRY_MISMATCH: "学籍管理员处理:外地就读的办理转学(籍随人走),在本地就读无学籍的建籍,学籍状态不符的办理复学或更正。",
    Finding.HOME_TEACHING_CANDIDATE: "残疾在家、未入学也未送教:组织评估,符合条件的纳入送教上门。",
}

# What the registrar acts on first (name, where, what was found, why), in widths that fit 1366 px; the rest
# scrolls, and a row's box opens all of it. The name stays in view (pinned) on a phone.
COLUMNS = {
    "姓名": st.column_config.TextColumn(width=70, pinned=True),
    "村": st.column_config.TextColumn(width=80),
    "户": st.column_config.TextColumn(width=110),
    "出生日期": st.column_config.DateColumn(width=95, format="YYYY-MM-DD"),
    "排查状况": st.column_config.TextColumn(width=80),
    "原因": st.column_config.TextColumn(width=380),
    "身份证号": st.column_config.TextColumn(width=170),
    "学籍学校": st.column_config.TextColumn(width=150),
    "就读地/去向": st.column_config.TextColumn(width=150),
    "学籍匹配": st.column_config.TextColumn(width=100),
    "性别": st.column_config.TextColumn(width=50),
}

actor = require_actor(Action.SWEEP_READ)
st.title("比对结果")
st.caption(
    "入户排查结果与学籍三比对:按身份证号匹配学籍;没有身份证号的按姓名+出生日期+户籍村匹配(弱匹配,须核实)。"
    "各村提交时自动比对,乡镇可在“排查审核”中重新比对。"
)
sweep = sweep_picker(actor, key="findings_sweep")
if sweep is None:
    st.stop()
kind = st.segmented_control(
    "名单",
    list(Finding),
    format_func=lambda f: f.label,
    default=Finding.SUSPECTED_DROPOUT,
    key="findings_kind",
)
if kind is None:
    st.stop()
st.info(ADVICE[kind])
search = st.text_input(
    "搜索",
    key="findings_search",
    placeholder="姓名、村、户主或身份证号后 4 位",
    help="多个词用空格分开,须同时符合;数字按身份证号末尾匹配。",
)
with session_scope() as session:
    rows = reconciliation.findings(session, actor=actor, sweep_id=sweep.id, kind=kind, search=search)
words = " ".join(search.split())
st.markdown(f"共 **{len(rows)}** 人" + (f"(搜索“{md(words)}”)" if words else ""))
if not rows:
    if words:
        st.caption("没有符合搜索的人:换个词,或清空搜索框查看全部。")
    st.stop()
table = reconciliation.findings_frame(rows).drop(columns="名单")  # one list at a time: its name is above
picked = show_table(
    table,
    hide_index=True,
    width="stretch",
    key=f"findings_table_{kind.value}",
    on_select="rerun",
    selection_mode="single-row",
    column_config=COLUMNS,
    column_order=list(COLUMNS),
)
st.caption("点击行首的方框查看该生的完整情况(原因较长时表格中显示不全)。")
chosen = picked.selection.rows if picked else []
if chosen:
    row = table.iloc[chosen[0]]
    with st.container(border=True):
        st.markdown(
            "  \n".join(f"**{name}:** {md(text(row[name]))}" for name in COLUMNS if not is_empty(row[name]))
        )
export_button(
    f"导出{kind.label}名单 (xlsx)" + (f",搜索“{md(words)}”" if words else ""),
    key=f"export_findings_{kind.value}_{words}",  # a new search, a new file
    file_name=f"{kind.label}_{sweep.township}_{sweep.term}.xlsx",
    build=lambda session: reconciliation.export_findings(
        session, actor=actor, sweep_id=sweep.id, kind=kind, search=search
    ),
)
