"""个案详情: one child, their cases and both responsible people, the timeline of everything that happened;
for the school and the township: name the responsible people, change status or risk, close (销号), reopen."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.cases import CaseStatus, CloseReason, Closing, RiskLevel, closing_reasons
from xueji.rules.text_limits import max_length
from xueji.services.cases import detail as case_detail
from xueji.services.cases import handling, ledgers
from xueji.services.cases.ledgers import LedgerFilter, Standing
from xueji.ui.errors import shown_as_error
from xueji.ui.ladder import ladder_section
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import picked

TIMELINE_SHOWN = 30
actor = require_actor(Action.CASE_READ)
st.title("个案详情")
if message := st.session_state.pop("case_done", None):
    st.success(message)

search = st.text_input("查找儿童", placeholder="姓名或身份证号后几位", key="case_search")
if search.strip():
    with session_scope() as session:
        found = ledgers.ledger_page(
            session, actor=actor, given=LedgerFilter(standing=Standing.ALL, search=search), limit=20
        ).rows
    unique = list({r.child_id: r for r in found}.values())
    if not unique:
        st.info("没有找到该儿童的个案")
    else:
        row = picked(
            "找到的儿童",
            unique,
            format_func=lambda r: f"{r.name} · {r.school or r.township}",
            button="打开",
            key="case_open",
        )
        if row is not None:
            st.session_state["case_child_id"] = row.child_id

child_id = st.session_state.get("case_child_id")
if child_id is None:
    st.info("请在上方查找儿童,或在“控辍保学台账”中选择个案后点“打开”。")
    st.stop()

detail = None
with shown_as_error(), session_scope() as session:
    detail = case_detail.child_detail(session, actor=actor, child_id=child_id)
if detail is None:
    st.stop()
child = detail.child
st.subheader(
    f"{md(child.name)}({child.sex or '性别未知'}{f',{child.age}岁' if child.age is not None else ''})"
)
st.caption(
    md(
        f"{child.school} {child.class_name} · 学籍:{child.registry_status} · {child.township}{child.village}"
        + (f" · 监护人 {child.guardian} {child.guardian_phone or ''}" if child.guardian else "")
    )
)
if actor.can(Action.VISIT_LOG) and st.button("登记家访/劝返", type="primary", key="case_visit"):
    st.session_state["visit_target"] = {"child_id": child.child_id, "student_id": None}
    st.switch_page("pages/cases/visits.py")

show_table(
    pd.DataFrame(
        [
            (
                c.label,
                c.risk.label,
                c.risk_reason,
                c.status.label,
                c.source,
                c.opened_on,
                c.education,
                c.government,
                c.closed,
            )
            for c in detail.cases
        ],
        columns=[
            "类别",
            "风险",
            "风险依据",
            "状态",
            "来源",
            "建档日期",
            "教育线包保人",
            "政府线包保人",
            "销号",
        ],
    ),
    hide_index=True,
    width="stretch",
)
missing = [
    c.label for c in detail.cases if c.status is not CaseStatus.CLOSED and not (c.education and c.government)
]
if missing:
    st.warning(f"双线包保未落实:{'、'.join(missing)} 个案缺少教育线或政府线包保人。")

if actor.can(Action.CASE_MANAGE) and detail.cases:
    case = st.selectbox(
        "要处理的个案",
        detail.cases,
        format_func=lambda c: f"{c.label}({c.status.label})",
        key="case_pick",
        placeholder="请选择",
    )
    done = None
    if case.status is CaseStatus.CLOSED:
        with st.form("reopen"):
            reason = st.text_input(  # kept in the case's timeline as 重新开启:<reason>
                "重新开启的原因",
                key="reopen_reason",
                max_chars=max_length("case_event.detail") - len("重新开启:"),
            )
            if st.form_submit_button("重新开启"):
                with shown_as_error(), session_scope() as session:
                    handling.reopen_case(session, actor=actor, case_id=case.id, reason=reason)
                    done = "已重新开启"
    else:
        people_tab, status_tab, close_tab = st.tabs(["双线包保", "状态与风险", "销号"])
        with people_tab:
            with session_scope() as session:
                teachers, cadres = case_detail.responsible_choices(
                    session, actor=actor, child_id=child.child_id
                )
            with st.form("responsibility"):
                teacher = st.selectbox(
                    "教育线包保教师",
                    teachers,
                    format_func=lambda t: t[1],
                    key="resp_teacher",
                    placeholder="请选择",
                )
                cadre = st.selectbox(
                    "政府线包保干部(账号)",
                    [None, *cadres],
                    format_func=lambda c: "无账号,填写村(社区)干部" if c is None else c[1],
                    key="resp_cadre",
                    placeholder="请选择",
                )
                left, right = st.columns(2)
                cadre_name = left.text_input(
                    "村(社区)干部姓名", key="resp_name", max_chars=max_length("child_case.government_name")
                )
                cadre_phone = right.text_input(
                    "村(社区)干部电话", key="resp_phone", max_chars=max_length("child_case.government_phone")
                )
                whole = st.checkbox("同时用于该儿童的其他在办个案", value=True, key="resp_all")
                if st.form_submit_button("保存包保人", type="primary"):
                    people = handling.Responsibility(
                        education_user_id=teacher[0] if teacher else None,
                        government_user_id=cadre[0] if cadre else None,
                        government_name=cadre_name,
                        government_phone=cadre_phone,
                    )
                    with shown_as_error(), session_scope() as session:
                        n = handling.assign_responsibility(
                            session, actor=actor, case_id=case.id, people=people, all_open_cases=whole
                        )
                        done = f"已为 {n} 个个案指定包保人"
        with status_tab:
            with st.form("status"):
                status = st.radio(
                    "状态",
                    [CaseStatus.OPEN, CaseStatus.FOLLOWING, CaseStatus.STABLE],
                    index=[CaseStatus.OPEN, CaseStatus.FOLLOWING, CaseStatus.STABLE].index(case.status),
                    format_func=lambda s: s.label,
                    horizontal=True,
                    key="case_status",
                )
                risk = st.radio(
                    "风险等级",
                    list(RiskLevel),
                    index=list(RiskLevel).index(case.risk),
                    format_func=lambda r: r.label,
                    horizontal=True,
                    key="case_risk",
                )
                note = st.text_input(
                    "说明(调整风险时必填)", key="case_note", max_chars=max_length("child_case.risk_reason")
                )
                if st.form_submit_button("保存"):
                    with shown_as_error(), session_scope() as session:
                        if status is not case.status:
                            handling.set_status(
                                session, actor=actor, case_id=case.id, status=status, note=note
                            )
                        if risk is not case.risk:
                            handling.set_risk(session, actor=actor, case_id=case.id, risk=risk, reason=note)
                        done = "已保存"
        with close_tab:
            if case.category.out_of_school:  # struck off through the ladder: a request, then its approval
                st.info("疑似辍学、辍学个案的销号须经审批:请在下方“劝返复学”中申请销号。")
            else:
                with st.form("close"):
                    reason = st.selectbox(
                        "销号原因",
                        closing_reasons(case.category),
                        format_func=lambda r: r.label,
                        key="close_reason",
                        placeholder="请选择",
                    )
                    receiving = st.text_input(
                        "接收学校(迁出并在外地入学时必填)",
                        key="close_school",
                        max_chars=max_length("child_case.receiving_school"),
                    )
                    evidence = st.text_area(
                        "销号依据",
                        placeholder="如:接收学校回执、返校报到记录、死亡证明",
                        key="close_evidence",
                        max_chars=max_length("child_case.close_evidence"),
                    )
                    on = st.date_input(
                        "销号日期", value=today(), max_value=today(), key="close_on", format="YYYY-MM-DD"
                    )
                    confirm = st.checkbox("确认销号(销号后离开在册台账,可重新开启)", key="close_confirm")
                    if st.form_submit_button("销号"):
                        if not confirm:
                            st.error("请先勾选确认")
                        else:
                            with shown_as_error(), session_scope() as session:
                                closing = Closing(CloseReason(reason), evidence, receiving, on)
                                handling.close_case(session, actor=actor, case_id=case.id, closing=closing)
                                done = "已销号"
    if done:
        st.session_state["case_done"] = done
        st.rerun()

out_of_school = [c for c in detail.cases if c.category.out_of_school]
for c in (c for c in out_of_school if c.status is not CaseStatus.CLOSED):
    st.subheader(f"劝返复学({c.label})")
    ladder_section(actor, c.id, key="detail_ladder")
for c in (c for c in out_of_school if c.status is CaseStatus.CLOSED):
    with st.expander(f"劝返复学记录({c.label},已销号)"):
        ladder_section(actor, c.id, key="detail_ladder")

st.subheader("时间线")
if not detail.timeline:
    st.info("还没有记录")


def show(entries: list) -> None:
    for entry in entries:  # text, not a grid: readable on a phone
        st.markdown(f"**{entry.day:%Y-%m-%d} · {md(entry.kind)}** · {md(entry.by)}  \n{md(entry.what)}")


show(detail.timeline[:TIMELINE_SHOWN])
if len(detail.timeline) > TIMELINE_SHOWN:
    with st.expander(f"更早的 {len(detail.timeline) - TIMELINE_SHOWN} 条"):
        show(detail.timeline[TIMELINE_SHOWN:])
