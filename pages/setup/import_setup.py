"""基础数据导入 (admin): the set-up workbook (县区, 乡镇, 村社区, 学校, 学期) in, every row checked, the new and changed
rows previewed per sheet, then all written at once, or nothing."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.excel.setup_template import blank_template
from xueji.services.setup import workbook_import
from xueji.services.setup.workbook_import import CHANGED, NEW, STATUS_LABELS, UNCHANGED
from xueji.ui.errors import shown_as_error
from xueji.ui.imports import checked_upload, forget_upload
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import XLSX, confirmed_submit

actor = require_actor(Action.SETUP_MANAGE)
st.title("基础数据导入")
st.caption(
    "一个工作簿,含县区、乡镇、村社区、学校、学期五张表(可以只含其中几张,例如以后只导入学期)。"
    "先逐行检查并预览要新增和修改的内容,确认后一次性写入;有错误时整份文件都不导入。"
    "同一文件再次导入不会有任何改动;新文件中改了名称的会更名,新增的会新增;导入从不删除数据"
    "(撤并、关闭请到“区划与学校”页办理)。"
)
st.download_button(
    "下载空白模板(含填写说明和示例行)",
    blank_template(),
    file_name="上线设置导入模板.xlsx",
    mime=XLSX,
    key="setup_template",
)
st.download_button(
    "下载市、省一级模板(另含“市州”表,一个系统管理多个县区时用)",
    blank_template(cities=True),
    file_name="上线设置导入模板(市州).xlsx",
    mime=XLSX,
    key="setup_template_city",
)

checked = checked_upload(
    "选择填好的上线设置工作簿",
    key="setup",
    check=lambda session, data, name: workbook_import.check_workbook(
        session, actor=actor, data=data, file_name=name
    ),
)
if checked is None:
    st.stop()
check, data, file_name = checked

st.subheader("检查结果")
show_table(
    pd.DataFrame(
        [(sheet, *check.counts(sheet).values()) for sheet in check.sheets],
        columns=["工作表", *(STATUS_LABELS[s] for s in (NEW, CHANGED, UNCHANGED))],
    ),
    hide_index=True,
)

if check.problems:
    st.subheader(f"有错误的行({len(check.bad_rows)} 行)")
    show_table(workbook_import.problems_frame(check.problems), hide_index=True, width="stretch")
    st.download_button(
        "下载错误报告(各表有错误的行和原因)",
        workbook_import.error_workbook(check),
        file_name=f"上线设置导入错误_{file_name}",
        mime=XLSX,
        key="setup_errors",
    )
    st.warning("有错误的行时不导入任何数据(全部或全不):请在原文件中改正后重新上传。")
    st.stop()

for sheet in check.sheets:
    counts = check.counts(sheet)
    if counts[NEW] or counts[CHANGED]:
        st.subheader(f"{sheet}:新增 {counts[NEW]},修改 {counts[CHANGED]}")
        show_table(workbook_import.plan_frame(check, sheet), hide_index=True, width="stretch")

if not check.changes:
    st.info("文件中的内容与系统中完全一致,无需导入。")
    st.stop()

new = sum(check.counts(s)[NEW] for s in check.sheets)
changed = sum(check.counts(s)[CHANGED] for s in check.sheets)
with st.form("setup_commit"):
    if confirmed_submit(
        f"确认导入:新增 {new} 条,修改 {changed} 条", confirm="我已核对上面的新增和修改内容", primary=True
    ):
        with shown_as_error(), session_scope() as session, st.spinner("正在写入…"):
            result = workbook_import.commit_workbook(session, actor=actor, data=data, file_name=file_name)
            forget_upload("setup")
            st.success(f"导入完成:{md(result.summary)}。已记入审计日志。")
