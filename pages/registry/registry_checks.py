"""人籍一致: the registrar checks a class against the children present (an uploaded attendance list, or a
box ticked per child); everyone sees, per school and grade, whether the term's checks are done."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.registry_check import FindingKind, PresentPerson
from xueji.services.registry import checks
from xueji.services.registry.term_reports import TermReportError
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import XLSX, class_picker, export_button

HISTORY_ROWS = 200
actor = require_actor(Action.OVERVIEW_READ)
needed = get_settings().registry_checks_per_term
st.title("人籍一致核查")
try:
    with session_scope() as session:
        term, progress = checks.check_progress(session, actor=actor)
        history = checks.school_checks(session, actor=actor, limit=HISTORY_ROWS)
except TermReportError as error:
    st.error(str(error))
    st.stop()
st.caption(
    f"每学期每个班至少核查 {needed} 次(不同日期):学籍名册上的学生是否都在校,在校的学生是否都有本校学籍。"
    "六年级、八年级、九年级(★)流失风险最高,须重点核查。"
)


def _show(result: checks.CheckResult) -> None:
    counts = {kind: sum(f.kind is kind for f in result.findings) for kind in FindingKind}
    st.success(
        f"{result.class_name} 已核查:在册 {result.on_registry} 人,实到 {result.present} 人,"
        + ",".join(f"{kind.label} {n} 人" for kind, n in counts.items())
    )
    if result.findings:
        show_table(checks.findings_frame(result.findings), hide_index=True, width="stretch")


def _record(class_id: int, present: list[PresentPerson], method: str, day) -> None:  # noqa: ANN001
    with shown_as_error(), session_scope() as session:
        _show(
            checks.record_check(
                session, actor=actor, class_id=class_id, present=present, method=method, checked_on=day
            )
        )


def _by_ticking(class_id: int) -> None:
    with session_scope() as session:
        people = checks.class_registry(session, actor=actor, class_id=class_id)
    frame = pd.DataFrame(
        {
            "姓名": [p.name for p in people],
            "身份证号": [p.id_number or "(临时学籍)" for p in people],
            "到校": [True] * len(people),
        },
        index=[p.student_id for p in people],
    )
    with st.form(f"tick_{class_id}"):
        st.caption("逐人点名:没到校的取消勾选。到校但不在名册上的学生,在下表中逐行填写。")
        ticked = st.data_editor(frame, hide_index=True, disabled=["姓名", "身份证号"], width="stretch")
        extra = st.data_editor(
            pd.DataFrame({"姓名": [""], "身份证号": [""]}),  # one blank line to fill, not an empty grid
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            key=f"extra_{class_id}",
        )
        day = st.date_input(
            "核查日期", value=today(), max_value=today(), key=f"tick_day_{class_id}", format="YYYY-MM-DD"
        )
        if st.form_submit_button("保存核查结果", type="primary"):
            by_id = {p.student_id: p for p in people}
            present = [
                PresentPerson(by_id[int(i)].name, _full_id(by_id[int(i)].id_number))
                for i, here in ticked["到校"].items()
                if here
            ]
            rows = [
                (n, str(r["姓名"] or ""), str(r["身份证号"] or ""))
                for n, (_, r) in enumerate(extra.fillna("").iterrows(), start=1)
                if str(r["姓名"] or "").strip() or str(r["身份证号"] or "").strip()  # a line left blank
            ]
            with shown_as_error():
                present += checks.attendance_rows(rows)
                _record(class_id, present, "tick", day)


def _full_id(number: str | None) -> str | None:
    """A ticked child is matched as the registry has them; a masked number cannot be matched, so none."""
    return number if number and "*" not in number else None


def _by_upload(class_id: int) -> None:
    st.download_button(
        "下载点名册模板", data=checks.attendance_template(), file_name="点名册模板.xlsx", mime=XLSX
    )
    upload = st.file_uploader("上传本班点名册 (xlsx:姓名、身份证号)", type=["xlsx"], key=f"upload_{class_id}")
    day = st.date_input(
        "核查日期", value=today(), max_value=today(), key=f"upload_day_{class_id}", format="YYYY-MM-DD"
    )
    if upload is not None and st.button("核查并保存", key=f"upload_check_{class_id}", type="primary"):
        with shown_as_error(), session_scope() as session:
            present = checks.attendance_upload(
                session, actor=actor, data=upload.getvalue(), file_name=upload.name
            )
            _record(class_id, present, "upload", day)


if actor.can(Action.ATTENDANCE_RECORD):
    st.subheader("核查一个班")
    class_id = class_picker(actor, key="check_class")
    if class_id is not None:
        tick, upload = st.tabs(["逐人勾选", "上传点名册"])
        with tick:
            _by_ticking(class_id)
        with upload:
            _by_upload(class_id)

st.subheader(f"{term.name}核查进度")
done = sum(p.classes_done for p in progress)
total = sum(p.classes for p in progress)
left, middle = st.columns(2)
left.metric(f"已核查满 {needed} 次的班级", f"{done}/{total}")
middle.metric(
    "重点年级未完成的班级", sum(p.key_grades_open for p in progress), help="六、八、九年级(表头标 ★)"
)
only_open = st.checkbox("只看未完成")
shown = [p for p in progress if p.classes_done < p.classes] if only_open else progress
show_table(checks.progress_frame(shown), hide_index=True, width="stretch")

st.subheader(
    "本学期核查记录" + (f"(最近 {HISTORY_ROWS} 次,全部记录请导出)" if len(history) == HISTORY_ROWS else "")
)
if history:
    show_table(checks.history_frame(history), hide_index=True, width="stretch")
    with_findings = [h for h in history if h.findings]
    if with_findings:
        chosen = st.selectbox(
            "查看一次核查的明细",
            with_findings,
            format_func=lambda h: f"{h.checked_on:%Y-%m-%d} {h.class_name}({len(h.findings)} 项)",
            placeholder="请选择",
        )
        show_table(checks.findings_frame(chosen.findings), hide_index=True, width="stretch")
else:
    st.info("本学期还没有核查记录")


if actor.can(Action.STUDENT_EXPORT):
    export_button(
        "导出核查进度和记录 (xlsx)",
        key="export_checks",
        file_name=f"人籍一致核查_{today():%Y%m%d}.xlsx",
        build=lambda session: checks.export_checks(session, actor=actor),
    )
