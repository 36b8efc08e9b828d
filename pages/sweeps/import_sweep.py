"""排查导入 (a team, or the township): the village's sheet to take where there is no signal, pre-filled with the
households and children known, and the filled sheet back: every row checked, previewed, then all written."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.services.common.exports import REASON_MAX
from xueji.services.sweeps import sheet_import
from xueji.ui.errors import shown_as_error
from xueji.ui.imports import checked_upload, forget_upload, problem_rows
from xueji.ui.session import require_actor
from xueji.ui.sweeps import sweep_picker, village_picker
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import XLSX

actor = require_actor(Action.SWEEP_RECORD)
st.title("排查导入")
st.caption(
    "没有信号的村:先下载本村排查登记表(已预填本次和上次排查登记过的户和孩子、学籍在册住在本村的孩子,"
    "带下拉列表),入户时在纸上或手机表格里填写,回来后上传。已有的户(同组同户主)和孩子(同身份证号,"
    "或同户同姓名同出生日期)会被更新,不会重复;未填“走访日期”的户视为未走访,不导入。"
)
sweep = sweep_picker(actor, key="import_sweep")
if sweep is None:
    st.stop()
village = village_picker(actor, sweep, key="import_village", keep=lambda v: v.status.open_for_entry)
if village is None:
    st.stop()
vid = village.sweep_village_id

reason = st.text_input(
    "下载事由(必填,记入审计日志)",
    placeholder="例如:某月某日入户排查核对身份",
    max_chars=REASON_MAX,
    key="sheet_reason",
)
if st.button("生成本村排查登记表(含完整身份证号,导出记入审计日志)", key="sheet_build"):
    with shown_as_error(), session_scope() as session:
        st.session_state["sweep_sheet_file"] = sheet_import.village_sheet(
            session, actor=actor, sweep_village_id=vid, reason=reason
        )
if "sweep_sheet_file" in st.session_state:
    name, data = st.session_state["sweep_sheet_file"]
    st.download_button(
        f"下载 {md(name)}", data, file_name=name, mime=XLSX, type="primary", key="sheet_download"
    )

checked = checked_upload(
    "选择填好的排查登记表",
    key="sweep",
    check=lambda session, data, name: sheet_import.check_sweep(
        session, actor=actor, sweep_village_id=vid, data=data, file_name=name
    ),
    context=vid,
)
if checked is None:
    st.stop()
sheet, data, file_name = checked

cols = st.columns(4)
cols[0].metric("可导入的户", len(sheet.good))
cols[1].metric("适龄儿童", sheet.children)
cols[2].metric("有错误的行", len(sheet.bad_rows))
cols[3].metric("未走访(跳过)的行", len(sheet.skipped))
if sheet.problems:
    problem_rows(
        sheet_import.problems_frame(sheet),
        sheet_import.error_workbook(sheet),
        file_name=f"排查导入错误_{file_name}",
        key="sweep",
    )
if sheet.good:
    with st.expander(f"预览可导入的 {len(sheet.good)} 户"):
        show_table(sheet_import.preview_frame(sheet), hide_index=True, width="stretch")
if st.button(
    f"确认导入 {len(sheet.good)} 户",
    type="primary",
    disabled=bool(sheet.problems) or not sheet.good,
    key="sweep_commit",
):
    with shown_as_error(), session_scope() as session, st.spinner("正在写入…"):
        counts = sheet_import.commit_sweep(
            session, actor=actor, sweep_village_id=vid, data=data, file_name=file_name
        )
        forget_upload("sweep")
        st.success(
            f"已导入:新增 {counts.households_added} 户、更新 {counts.households_updated} 户,"
            f"适龄儿童 {counts.children} 名(新增 {counts.children_added} 名),已记入审计日志。"
        )
elif sheet.problems:
    st.warning("有错误的行时不导入任何户:请改好后重新上传。")
