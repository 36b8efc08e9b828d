"""送教导入: home-teaching visits kept on paper, from the xlsx sheet; every row checked, previewed, then written
at once."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.services import home_visit_import
from xueji.ui.errors import shown_as_error
from xueji.ui.imports import checked_upload, forget_upload, problem_rows
from xueji.ui.session import require_actor
from xueji.ui.widgets import XLSX

actor = require_actor(Action.HOME_TEACHING_VISIT)
st.title("送教导入")
st.caption(
    "把纸质送教记录填入模板后上传:按身份证号找到您可登记送教的孩子,按送教日期找到所在学期的送教方案,逐行检查;"
    "有错误的行列出行号、列名、填写内容和原因,全部无误才写入(全部或全不)。同一孩子同一天的送教不会重复导入。"
)
st.download_button("下载送教导入模板", home_visit_import.template(), file_name="送教导入模板.xlsx", mime=XLSX)
checked = checked_upload(
    "选择填好的送教记录表",
    key="home_visits",
    check=lambda session, data: home_visit_import.check_home_visits(session, actor=actor, data=data),
)
if checked is None:
    st.stop()
sheet, data, file_name = checked

left, right = st.columns(2)
left.metric("可导入", len(sheet.good))
right.metric("有错误的行", len(sheet.bad_rows))
if sheet.problems:
    problem_rows(
        home_visit_import.problems_frame(sheet),
        home_visit_import.error_workbook(sheet),
        file_name=f"送教导入错误_{file_name}",
        key="home_visits",
    )
if sheet.good:
    with st.expander(f"预览可导入的 {len(sheet.good)} 条记录"):
        st.dataframe(home_visit_import.preview_frame(sheet), hide_index=True, width="stretch")
if st.button(
    f"确认导入 {len(sheet.good)} 条送教记录",
    type="primary",
    disabled=bool(sheet.problems) or not sheet.good,
    key="home_visits_commit",
):
    with shown_as_error(), session_scope() as session, st.spinner("正在写入…"):
        count = home_visit_import.commit_home_visits(session, actor=actor, data=data, file_name=file_name)
        forget_upload("home_visits")
        st.success(f"已导入 {count} 条送教记录,已记入审计日志。")
elif sheet.problems:
    st.warning("有错误的行时不导入任何记录:请改好后重新上传。")
