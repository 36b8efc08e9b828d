"""家访导入: visits logged on paper, from the xlsx sheet; every row checked, previewed, then written at once."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.services import visit_import
from xueji.ui.errors import shown_as_error
from xueji.ui.imports import checked_upload, forget_upload, problem_rows
from xueji.ui.session import require_actor
from xueji.ui.widgets import XLSX

actor = require_actor(Action.VISIT_LOG)
st.title("家访导入")
st.caption(
    "把纸质家访记录填入模板后上传:按身份证号找到您包保或管辖的孩子,逐行检查;有错误的行列出行号、列名、"
    "填写内容和原因,全部无误才写入(全部或全不)。同一孩子同一天同一类型的记录不会重复导入。"
)
st.download_button("下载家访导入模板", visit_import.template(), file_name="家访导入模板.xlsx", mime=XLSX)
checked = checked_upload(
    "选择填好的家访表",
    key="visits",
    check=lambda session, data: visit_import.check_visits(session, actor=actor, data=data),
)
if checked is None:
    st.stop()
sheet, data, file_name = checked

left, right = st.columns(2)
left.metric("可导入", len(sheet.good))
right.metric("有错误的行", len(sheet.bad_rows))
if sheet.problems:
    problem_rows(
        visit_import.problems_frame(sheet),
        visit_import.error_workbook(sheet),
        file_name=f"家访导入错误_{file_name}",
        key="visits",
    )
if sheet.good:
    with st.expander(f"预览可导入的 {len(sheet.good)} 条记录"):
        st.dataframe(visit_import.preview_frame(sheet), hide_index=True, width="stretch")
if st.button(
    f"确认导入 {len(sheet.good)} 条家访记录",
    type="primary",
    disabled=bool(sheet.problems) or not sheet.good,
    key="visits_commit",
):
    with shown_as_error(), session_scope() as session, st.spinner("正在写入…"):
        count = visit_import.commit_visits(session, actor=actor, data=data, file_name=file_name)
        forget_upload("visits")
        st.success(f"已导入 {count} 条家访记录,已记入审计日志。")
elif sheet.problems:
    st.warning("有错误的行时不导入任何记录:请改好后重新上传。")
