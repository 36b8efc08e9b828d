"""送教导入: home-teaching visits kept on paper, from the xlsx sheet; every row checked, previewed, then written
at once."""

import streamlit as st

from xueji.auth import Action
from xueji.services.home_teaching import visit_import
from xueji.ui.imports import table_import_page
from xueji.ui.session import require_actor
from xueji.ui.widgets import XLSX

actor = require_actor(Action.HOME_TEACHING_VISIT)
st.title("送教导入")
st.caption(
    "把纸质送教记录填入模板后上传:按身份证号找到您可登记送教的孩子,按送教日期找到所在学期的送教方案,逐行检查;"
    "有错误的行列出行号、列名、填写内容和原因,全部无误才写入(全部或全不)。同一孩子同一天的送教不会重复导入。"
)
st.download_button("下载送教导入模板", visit_import.template(), file_name="送教导入模板.xlsx", mime=XLSX)
table_import_page(
    key="home_visits",
    what="送教",
    upload_label="选择填好的送教记录表",
    check=lambda session, data, name: visit_import.check_home_visits(
        session, actor=actor, data=data, file_name=name
    ),
    commit=lambda session, data, name: visit_import.commit_home_visits(
        session, actor=actor, data=data, file_name=name
    ),
    problems=visit_import.problems_frame,
    error_workbook=visit_import.error_workbook,
    preview=visit_import.preview_frame,
)
