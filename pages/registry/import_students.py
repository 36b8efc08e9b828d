"""学籍导入 (registrar): the national template in, checked row by row, previewed, then committed at once."""

import hashlib

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.excel.registry_template import blank_template, error_workbook
from xueji.services.registry import file_import
from xueji.ui.errors import shown_as_error
from xueji.ui.imports import checked_once
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import XLSX

actor = require_actor(Action.STUDENT_IMPORT)
st.title("学籍导入")
st.caption(
    "使用全国学籍导入模板(.xlsx)。先检查、预览,确认后一次性写入;有错误的行会列出行号、列名、填写内容和原因。"
    "按身份证件号查重:已在本校的学生会被更新,已在其他学校的学生须办理转学。"
)
st.download_button(
    "下载空白导入模板", blank_template(), file_name="学籍导入模板.xlsx", mime=XLSX, key="template"
)

with session_scope() as session:
    schools = file_import.schools_for_import(session, actor=actor, school_code=None)
school = st.selectbox("导入到学校", schools, format_func=lambda s: f"{s.name}({s.code})", key="import_school")
upload = st.file_uploader("选择填好的导入模板", type=["xlsx"], key="import_file")
if upload is None:
    st.stop()

data = upload.getvalue()
digest = hashlib.sha256(data).hexdigest()
sheet = checked_once(  # read and check a file once, not on every rerun; a refusal stays on screen
    "import",
    digest,
    lambda session: file_import.check_file(session, actor=actor, data=data, file_name=upload.name),
    spinner="正在检查文件并逐行检查…",
)
if sheet is None:
    st.stop()

with session_scope() as session:
    plan = file_import.plan_import(session, actor=actor, sheet=sheet, schools=[school], only_school=True)

for notice in plan.notices:
    st.info(md(notice))
columns = st.columns(5)
for column, (label, value) in zip(
    columns, [*plan.counts.items(), ("其中临时学籍", plan.temporary)], strict=True
):
    column.metric(label, value)

if plan.new_classes:
    st.subheader("将新建的班级")
    show_table(
        pd.DataFrame(
            [(file_import.class_name(code), code, size) for (_, code), size in plan.new_classes.items()],
            columns=["班级", "班号", "导入后人数"],
        ),
        hide_index=True,
    )

if plan.rejected:
    st.subheader(f"有错误的行({len(plan.rejected)} 行)")
    show_table(file_import.problems_frame(plan.rejected, "errors"), hide_index=True, width="stretch")
    st.download_button(
        "下载错误报告(原始行 + 错误原因,改好后可直接重新导入)",
        error_workbook(plan.rejected),
        file_name=f"导入错误_{upload.name}",
        mime=XLSX,
        key="error_report",
    )
if plan.warned:
    with st.expander(f"提醒({len(plan.warned)} 行,可以导入,请核对)"):
        show_table(file_import.problems_frame(plan.warned, "warnings"), hide_index=True, width="stretch")

st.divider()
only_valid = False
if plan.rejected:
    only_valid = st.checkbox(
        f"仅导入无误的行(跳过 {len(plan.rejected)} 行错误)",
        key="only_valid",
        help="默认全部无误才导入;勾选后只写入无误的行,错误行改好后可再次导入。",
    )
changes = len(plan.new) + len(plan.updates)
blocked = bool(plan.rejected) and not only_valid
if st.button(
    f"确认导入:新增 {len(plan.new)} 人,更新 {len(plan.updates)} 人",
    type="primary",
    disabled=blocked or changes == 0,
    key="commit_import",
):
    with shown_as_error(), session_scope() as session, st.spinner("正在写入…"):
        result = file_import.commit_import(
            session,
            actor=actor,
            sheet=sheet,
            schools=[school],
            only_school=True,
            only_valid=only_valid,
            file_name=upload.name,
            file_digest=digest,
        )
        st.success(f"导入完成:{result.summary}。已记入审计日志。")
elif blocked:
    st.warning("有错误的行时默认不导入任何数据(全部或全不):请改好后重新上传,或勾选“仅导入无误的行”。")
elif changes == 0:
    st.info("文件中的学生与系统中的记录完全一致,无需导入。")
