"""部门名单导入 (county officer): each department's list with its blank template, the list date, the upload checked
row by row (the problems and the error workbook, a preview), the import as the list's next version (which
re-runs the comparison), and below, the versions of each list with who is new, who left and whose facts changed."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.excel.dept_templates import blank_template
from xueji.rules.dept_lists import ListKind
from xueji.rules.list_rows import ABOUT
from xueji.services.comparisons import list_import, versions
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.display import day, frame
from xueji.ui.errors import shown_as_error
from xueji.ui.imports import checked_upload, problem_rows
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import XLSX, confirmed_submit, export_button, page_offset, pager

DIFF_PAGE = 50

actor = require_actor(Action.LISTS_IMPORT)
st.title("部门名单导入")
st.caption(
    "导入公安(户籍)、民政、残联、乡村振兴部门提供的名单:逐行检查,全部无误才导入;每次导入保存为名单的新版本,"
    "取代上一版本的效力,并重新运行三比对。"
)
if show_saved("lists_saved"):
    st.page_link("pages/comparisons/results.py", label="查看三比对结果", icon=":material/compare_arrows:")


def version_text(v: versions.VersionRow | None) -> str:
    return "尚未导入" if v is None else f"第{v.version}版(名单日期 {day(v.list_date, long=True)},{v.rows} 人)"


with session_scope() as session:
    current = versions.current_versions(session, actor=actor)
kind = st.segmented_control(
    "名单", list(ListKind), format_func=lambda k: k.short, default=ListKind.RESIDENTS, key="lists_kind"
)
if kind is None:
    st.stop()
st.info(f"**{kind.label}**(由{kind.department}提供):{ABOUT[kind]}  \n现行:{version_text(current[kind])}")
st.download_button(
    f"下载{kind.label}空白模板",
    blank_template(kind),
    file_name=f"{kind.label}导入模板.xlsx".replace("/", "、"),
    mime=XLSX,
    key=f"lists_template_{kind.value}",
)
list_date = st.date_input(
    "名单日期(部门出具名单的日期)", value=today(), max_value=today(), format="YYYY-MM-DD", key="lists_date"
)
round_ = st.session_state.get(
    "lists_round", 0
)  # a new uploader after each import: the file is not offered twice
checked = checked_upload(
    f"选择{kind.label}(xlsx)",
    key=f"lists_{kind.value}_{round_}",
    check=lambda session, data, name: list_import.check_list(
        session, actor=actor, kind=kind, data=data, file_name=name
    ),
    context=kind.value,
)
if checked is not None:
    sheet, data, file_name = checked
    left, right = st.columns(2)
    left.metric("可导入的人", len(sheet.people))
    right.metric("有错误的行", len(sheet.bad_rows))
    if sheet.problems:
        problem_rows(
            list_import.problems_frame(sheet),
            list_import.error_workbook(sheet),
            file_name=f"{kind.short}名单导入错误_{file_name}",
            key=f"lists_{kind.value}",
        )
        st.warning("有错误的行时不导入任何人:请改好后重新上传。")
    elif sheet.people:
        st.subheader(f"预览(前 {min(len(sheet.people), list_import.PREVIEW_ROWS)} 行)")
        show_table(frame(list_import.preview_frame(sheet, actor)), hide_index=True, width="stretch")
        refusal = list_import.date_problem(list_date, sheet.current)
        if refusal:
            st.error(refusal)
        else:
            was = sheet.current
            number = 1 if was is None else was.version + 1
            replaces = "" if was is None else f",取代现行的{version_text(was)}"
            with st.form(f"lists_commit_{kind.value}"):
                st.markdown(
                    f"将导入 **{len(sheet.people)}** 人,作为{kind.label}**第{number}版**"
                    f"(名单日期 {day(list_date, long=True)}){replaces};导入后重新运行三比对。"
                )
                if confirmed_submit(
                    f"导入 {len(sheet.people)} 人", confirm="已核对名单日期和预览,确认导入", primary=True
                ):
                    with shown_as_error(), session_scope() as session, st.spinner("正在导入并重新比对…"):
                        saved = list_import.commit_list(
                            session,
                            actor=actor,
                            kind=kind,
                            data=data,
                            file_name=file_name,
                            list_date=list_date,
                        )
                        latest = versions.list_versions(session, actor=actor, kind=kind)[:1]  # the new one
                        change = versions.counts_of(session, actor=actor, rows=latest)[saved.id or 0]
                        remember_saved(
                            "lists_saved",
                            f"已导入{kind.label}第{saved.version}版({saved.row_count} 人),{change.text()};"
                            "已重新运行三比对,已记入审计日志。",
                        )
                        st.session_state["lists_round"] = round_ + 1
                        st.rerun()
    else:
        st.warning("文件中没有数据行。")

st.divider()
st.subheader("名单版本与变化")
with session_scope() as session:
    rows = versions.list_versions(session, actor=actor, kind=kind)
    changes = versions.counts_of(session, actor=actor, rows=rows)
if not rows:
    st.caption(f"{kind.label}尚未导入。")
    st.stop()
picked = show_table(
    frame(versions.versions_frame(rows, changes)),
    hide_index=True,
    width="stretch",
    key=f"lists_versions_{kind.value}",
    on_select="rerun",
    selection_mode="single-row",
)
chosen = picked.selection.rows if picked else []
version = rows[chosen[0]] if chosen else rows[0]
st.caption("点击行首的方框查看该版本与上一版本的变化;默认为现行版本。")
previous = next((r.version for r in rows if r.version < version.version), None)  # rows: newest first
against = f"与第{previous}版相比" if previous else "首次导入,全部为新增"
st.markdown(f"**第{version.version}版**({day(version.list_date, long=True)}){against}")
st.caption(
    "新增:本版有、上一版没有的人;移出:上一版有、本版没有的人;信息变化:两版都有,但所在村(社区)或类别变了。"
)
totals = changes[version.id].as_dict()
tabs = st.tabs([f"{label} {totals[part]}" for part, label in versions.PARTS.items()])
for tab, part in zip(tabs, versions.PARTS, strict=True):  # each part paged in SQL: a list holds 60,000
    with tab:
        key = f"lists_{part}_page"
        offset = page_offset(key, page_size=DIFF_PAGE, reset_when=version.id)
        with shown_as_error(), session_scope() as session:
            table = versions.difference_page(
                session, actor=actor, list_id=version.id, part=part, offset=offset, limit=DIFF_PAGE
            )
        show_table(frame(table), hide_index=True, width="stretch", empty="没有。")
        if totals[part] > DIFF_PAGE:
            pager(totals[part], key=key, page_size=DIFF_PAGE)
export_button(
    "导出变化名单 (xlsx)",
    key=f"lists_diff_{version.id}",
    file_name=f"{kind.short}名单第{version.version}版变化.xlsx",
    build=lambda session: versions.export_difference(session, actor=actor, list_id=version.id),
)
