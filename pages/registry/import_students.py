"""学籍导入 (registrar): the national template in, checked row by row, previewed, then committed at once."""

import hashlib

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.excel.registry_template import blank_template, error_workbook
from xueji.rules.status_changes import ChangeKind, Document
from xueji.services.registry import file_import
from xueji.services.registry.import_plan import KEEP
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
    "按身份证件号查重:已在本校的学生会被更新;本县小学的毕业生编入七年级时办理升学,曾转出、辍学的学生转回或劝返复学,"
    "都沿用原学籍(学籍号不变、历史保留);在本县其他学校在读或休学的学生须办理转学。"
    "外县转入的学生请在“转出县区”“原学校”列注明来源(可选“转入日期”)。"
    f"大文件按块读取和写入:预览给出各班的人数,逐行清单(错误、提醒、迁入)只列前 {KEEP:,} 行。"
)
st.download_button(
    "下载空白导入模板", blank_template(), file_name="学籍导入模板.xlsx", mime=XLSX, key="template"
)

with session_scope() as session:
    schools = file_import.schools_for_import(session, actor=actor, school_code=None)
school = st.selectbox(
    "导入到学校",
    schools,
    format_func=lambda s: f"{s.name}({s.code})",
    key="import_school",
    placeholder="请选择",
)
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

if plan.rows:
    with st.expander(f"各班导入情况({len(plan.class_counts())} 个班)"):
        show_table(
            pd.DataFrame(
                [
                    (file_import.class_name(code), code, new, updated, moved, same)
                    for _, code, new, updated, moved, same in plan.class_counts()
                ],
                columns=["班级", "班号", "新增", "更新", "迁入", "无变化"],
            ),
            hide_index=True,
        )

proofs: list[Document] = []
if plan.arrival_count:
    st.subheader(f"学籍迁入与外县来源({plan.arrival_count} 人)")
    st.caption(
        "升学、转回、劝返复学沿用学生原有的学籍(同一学籍号,历史保留),导入时即办结并记入学籍异动;"
        "本县没有学籍的外县转入新建学籍并记录来源;外县转入计入巩固率的“转入”,从外县来的初一新生计入年初。"
    )
    st.markdown(f"**来源**:{plan.sources_text}。")
    show_table(  # the sentence first after the name: on a phone the columns further right are scrolled to
        pd.DataFrame(
            [
                (a.row.row, a.row.cell("name"), a.sentence, a.move.value, f"{a.effective_date:%Y-%m-%d}")
                for a in plan.arrivals
            ],
            columns=["行号", "姓名", "说明", "办理", "生效日期"],
        ),
        hide_index=True,
        width="stretch",
        column_config={"行号": st.column_config.NumberColumn(width=48)},
    )
    if plan.arrival_count > len(plan.arrivals):
        st.caption(f"只列出前 {len(plan.arrivals):,} 人;全部 {plan.arrival_count:,} 人按上面的来源计数。")
    if plan.outside_count:
        outside = [a for a in plan.arrivals if a.move.kind is ChangeKind.TRANSFER_IN_OUTSIDE]
        required = sorted(get_settings().transfer_proofs, key=list(Document).index)
        names = "、".join(a.row.cell("name") for a in outside[:5]) + ("等" if plan.outside_count > 5 else "")
        st.markdown(
            f"外县转入、转回的 {plan.outside_count} 人({names})已核验的材料"
            "(缺少的照常导入,但计入当月台账的“转入缺证明材料”):"
        )
        proofs = [d for d in required if st.checkbox(d.label, key=f"import_proof_{d.value}")]

rejected = plan.totals["有错误"]
if rejected:
    st.subheader(f"有错误的行({rejected} 行)")
    if rejected > len(plan.rejected):
        st.caption(
            f"错误较多:下表和错误报告只含前 {len(plan.rejected):,} 行;各原因的行数见“错误原因汇总”(覆盖全部 {rejected:,} 行)。"
            "改好这些行后重新上传,会检查出其余的行。"
        )
    show_table(file_import.problems_frame(plan.rejected, "errors"), hide_index=True, width="stretch")
    with st.expander("错误原因汇总(全部行)"):
        show_table(
            pd.DataFrame(plan.reason_counts(), columns=["列", "错误原因", "行数"]),
            hide_index=True,
            width="stretch",
        )
    st.download_button(
        "下载错误报告(原始行 + 错误原因,改好后可直接重新导入)",
        error_workbook(plan.rejected),
        file_name=f"导入错误_{upload.name}",
        mime=XLSX,
        key="error_report",
    )
if plan.warned_count:
    with st.expander(f"提醒({plan.warned_count} 行,可以导入,请核对)"):
        if plan.warned_count > len(plan.warned_rows):
            st.caption(f"只列出前 {len(plan.warned_rows):,} 行。")
        show_table(file_import.problems_frame(plan.warned, "warnings"), hide_index=True, width="stretch")

st.divider()
only_valid = False
if rejected:
    only_valid = st.checkbox(
        f"仅导入无误的行(跳过 {rejected} 行错误)",
        key="only_valid",
        help="默认全部无误才导入;勾选后只写入无误的行,错误行改好后可再次导入。",
    )
changes = plan.changes
blocked = bool(rejected) and not only_valid
if st.button(
    f"确认导入:新增 {plan.totals['新增']} 人,更新 {plan.totals['更新']} 人"
    + (f",迁入 {plan.moved_count} 人" if plan.moved_count else ""),
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
            proofs=proofs,
        )
        st.success(f"导入完成:{result.summary}。已记入审计日志。")
elif blocked:
    st.warning("有错误的行时默认不导入任何数据(全部或全不):请改好后重新上传,或勾选“仅导入无误的行”。")
elif changes == 0:
    st.info("文件中的学生与系统中的记录完全一致,无需导入。")
