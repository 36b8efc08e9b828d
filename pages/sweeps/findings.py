"""比对结果 (township, county, registrar, coordinator): the lists reconciliation made, one at a time, each
exportable. A school's registrar sees the children whose record (or school found) is theirs."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.sweeps import Finding
from xueji.services.sweeps import reconciliation
from xueji.ui.session import require_actor
from xueji.ui.sweeps import sweep_picker
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button

ADVICE = {
    Finding.SUSPECTED_DROPOUT: "已自动建立疑似辍学个案(控辍保学台账),请指定双线包保人并尽快家访劝返。",
    Finding.ENROLLED_ABSENT: "学籍在读但人不在学校(名在人不在):学校核实后办理转学、休学或劝返,不得空挂学籍。",
    Finding.REGISTRY_MISMATCH: "学籍管理员处理:外地就读的办理转学(籍随人走),在本地就读无学籍的建籍,学籍状态不符的办理复学或更正。",
    Finding.HOME_TEACHING_CANDIDATE: "残疾在家、未入学也未送教:组织评估,符合条件的纳入送教上门。",
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
with session_scope() as session:
    rows = reconciliation.findings(session, actor=actor, sweep_id=sweep.id, kind=kind)
st.markdown(f"共 **{len(rows)}** 人")
if rows:
    show_table(reconciliation.findings_frame(rows), hide_index=True, width="stretch")
    export_button(
        f"导出{kind.label}名单 (xlsx)",
        key=f"export_findings_{kind.value}",
        file_name=f"{kind.label}_{sweep.township}_{sweep.term}.xlsx",
        build=lambda session: reconciliation.export_findings(
            session, actor=actor, sweep_id=sweep.id, kind=kind
        ),
    )
