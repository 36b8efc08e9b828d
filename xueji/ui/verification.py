"""The forms that record a verification task's outcome (the township, 适龄儿童核实) and an assessment task's
(the coordinator, 送教看板), and the tasks' table with the overdue days in red."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from xueji.auth import Actor
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules import verification as rules
from xueji.rules.comparisons import TaskKind, VerifyOutcome
from xueji.rules.home_teaching import Conclusion
from xueji.services.comparisons import tasks
from xueji.services.comparisons.tasks import TaskRow
from xueji.ui import display
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.errors import shown_as_error
from xueji.ui.style import required, required_note
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit

SAVED = (
    "verification_saved"  # the last save's message, shown once after the rerun (a toast and a sticky note)
)
RED = "color: #c62828; font-weight: 600"
PLACEHOLDERS = {
    "school": "如:长沙市雨花区某某小学",
    "proof": "如:" + "、".join(rules.PROOFS),
    "place": "如:广东省东莞市长安镇(随父母务工)",
    "tried": "如:上门两次无人,邻居称外出;电话未接通",
    "situation": "如:在家帮忙务农,从未入学",
    "note": "",
}


def styled(frame: pd.DataFrame) -> Any:
    """The tasks' table as the screen shows it, the days overdue in red."""
    shown = display.frame(frame)
    late = "逾期天数"
    if late not in shown.columns:
        return shown
    return shown.style.map(lambda v: RED if _late(v) else "", subset=[late]).format(
        lambda v: f"逾期 {v:.0f} 天" if _late(v) else "—", subset=[late]
    )


def _late(value: object) -> bool:
    return isinstance(value, int | float) and value == value and value > 0  # NaN is not equal to itself


def _filled(value: object) -> bool:
    return not display.is_empty(value) and value != 0


def _label(row: TaskRow) -> str:
    born = display.day(row.birth_date) if row.birth_date else "出生日期不详"
    late = f" · 逾期 {row.overdue_days} 天" if row.overdue_days else ""
    return f"{row.village} {row.name}({born}){late}"


def saved_notice() -> None:
    """The last save's confirmation, once: a toast and a note that stay in view on a phone scrolled to the form."""
    show_saved(SAVED)


def verify_form(actor: Actor, rows: Sequence[TaskRow]) -> None:
    """Pick a child of this page and record what was found; 失学/辍学 asks for a confirmation first."""
    st.subheader("登记核实结果")
    required_note()
    row = st.selectbox("儿童", rows, format_func=_label, key="verify_task", placeholder="请选择")
    if row is None:
        return
    outcome = st.radio(
        "核实结果", list(VerifyOutcome), format_func=lambda o: o.label, key="verify_outcome", horizontal=True
    )
    if outcome is None:
        return
    # not cleared on submit: a refused save (the box not ticked, a field missing) keeps what was typed
    with st.form("verify_form"):
        visited = st.date_input(
            required("核实日期"), value=today(), max_value=today(), format="YYYY-MM-DD", key="verify_day"
        )
        values = {}
        for field in (*rules.REQUIRED[outcome], *rules.OPTIONAL[outcome]):
            name = rules.FIELD_LABELS[field]
            label = required(name) if field in rules.REQUIRED[outcome] else name
            if outcome is VerifyOutcome.HOME_TEACHING and field == "school":
                label = "送教学校(如已知)"
            values[field] = st.text_input(
                label,
                max_chars=rules.FIELD_MAX[field],
                placeholder=PLACEHOLDERS[field],
                key=f"verify_{field}_{row.id}",  # each child's own: the next child's form starts empty
            )
        if outcome is VerifyOutcome.OUT_OF_SCHOOL:
            pressed = confirmed_submit(
                "保存核实结果",
                confirm="确认:保存后将为该儿童建立“疑似辍学”个案(来源:户籍比对核实),进入控辍保学台账",
                primary=True,
                key=f"verify_confirm_{row.id}",
            )
        else:
            pressed = st.form_submit_button("保存核实结果", type="primary")
    if not pressed:
        return
    finding = rules.Finding(outcome, visited, **values)
    with shown_as_error(), session_scope() as session:
        task = tasks.record_outcome(session, actor=actor, task_id=row.id, finding=finding)
        message = f"已登记 {md(row.name)}:{outcome.label}。"
        if outcome is VerifyOutcome.OUT_OF_SCHOOL and task.case_id:
            message += "已建立疑似辍学个案,您是政府线包保人;请尽快家访劝返(个案在“控辍保学台账”)。"
        elif outcome is VerifyOutcome.NOT_FOUND:
            message += "任务仍在待核实中,请继续查找。"
        elif outcome is VerifyOutcome.HOME_TEACHING:
            message += "还没有送教上门个案的,已交送教上门协调员评估。"
        remember_saved(SAVED, message)
        for field in values:  # the same child again (暂未找到) starts empty too
            st.session_state.pop(f"verify_{field}_{row.id}", None)
        st.rerun()


def assessment_form(actor: Actor, rows: Sequence[TaskRow]) -> None:
    """Pick a child to assess and record the conclusion; 送教上门 opens the child's 送教上门 case."""
    required_note()
    row = st.selectbox("儿童", rows, format_func=_label, key="assess_task", placeholder="请选择")
    if row is None:
        return
    with st.form("assess_form"):  # a refused save keeps what was typed
        conclusion = st.radio(
            required("评估结论"),
            list(Conclusion),
            format_func=lambda c: c.label,
            horizontal=True,
            index=None,
            key="assess_conclusion",
        )
        assessed = st.date_input(
            required("评估日期"), value=today(), max_value=today(), format="YYYY-MM-DD", key="assess_day"
        )
        detail = st.text_input(
            required("评估人员和评估情况"),
            max_chars=rules.ASSESSMENT_DETAIL_MAX,
            placeholder="如:县特殊教育专家委员会(张、李);重度肢体残疾,不能到校",
            key="assess_detail",
        )
        pressed = st.form_submit_button("保存评估结论", type="primary")
    if not pressed:
        return
    with shown_as_error(), session_scope() as session:
        tasks.record_assessment(
            session, actor=actor, task_id=row.id, conclusion=conclusion, detail=detail, assessed_on=assessed
        )
        message = f"已登记 {md(row.name)} 的评估结论。"
        if conclusion is Conclusion.HOME_TEACHING:
            message += "已建立送教上门个案:请在“送教档案”中为其制定送教方案。"
        remember_saved(SAVED, message)
        for key in ("assess_conclusion", "assess_detail"):
            st.session_state.pop(key, None)
        st.rerun()


def assessment_section(actor: Actor) -> None:
    """For the coordinator (送教看板): the children the 残联 list (or a 送教上门 verification) asks to assess, overdue
    first, and the form that records the conclusion. Nothing when there are none."""
    if not tasks.reads_tasks(actor, TaskKind.ASSESSMENT):
        return
    given = tasks.TaskFilter(kind=TaskKind.ASSESSMENT)
    with session_scope() as session:
        page = tasks.task_list(session, actor=actor, given=given, limit=200)
    saved_notice()
    if not page.total:
        return
    late = sum(1 for r in page.rows if r.overdue_days)
    title = f"待评估(残联名单):{page.total} 人" + (f",其中逾期 {late} 人" if late else "")
    with st.expander(title, expanded=bool(late)):
        st.caption(
            "残联名单上的适龄残疾儿童,既不在校、也未送教上门(或乡镇核实为送教上门而尚无送教个案):"
            "组织评估,登记结论。结论为送教上门的,自动建立送教上门个案,再在“送教档案”中制定方案。"
        )
        columns = ["村", "姓名", "逾期天数", "核实期限", "出生日期", "身份证号", "监护人", "乡镇"]
        table = tasks.tasks_frame(page.rows)[columns]
        empty = [c for c in ("逾期天数", "监护人") if not table[c].map(_filled).any()]  # a column of — only
        show_table(styled(table.drop(columns=empty)), hide_index=True, width="stretch")
        assessment_form(actor, page.rows)
