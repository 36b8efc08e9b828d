"""劝返复学 on screen: the ladder list's table (days left or overdue in red words), and one case's ladder — its steps
oldest first with what each recorded, then only the forms this user may use now (services.cases.ladder decides:
CaseLadder.allowed). Drawn by pages/cases/ladder.py and by 个案详情 for out-of-school cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from xueji.auth import Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.cases import CaseCategory, CloseReason, closing_reasons
from xueji.rules.ladder import CountyMeasure, Step, StepState
from xueji.rules.text_limits import max_length
from xueji.rules.vocab import Role
from xueji.services.cases import ladder
from xueji.services.cases.ladder import CaseLadder, LadderRow, StepView
from xueji.ui import display
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.errors import shown_as_error
from xueji.ui.notices import notices_section
from xueji.ui.style import required, required_note
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit

SAVED = "ladder_saved"  # the last action's message, shown once after the rerun (a toast and a sticky note)
RED = "color: #c62828; font-weight: 600"
LEFT = "剩余期限"
MARKS = {  # a step's state, in the app's icon font (an emoji needs the phone's emoji font)
    StepState.OPEN: ":orange[:material/pending:]",
    StepState.DONE: ":green[:material/check_circle:]",
    StepState.SKIPPED: ":gray[:material/redo:]",
    StepState.ESCALATED: ":red[:material/trending_up:]",
    StepState.REJECTED: ":red[:material/block:]",
}


def due_words(due_on: date, overdue: bool, on: date | None = None) -> str:
    """还剩 3 天 / 今天到期 / 已逾期 5 天: the deadline in words, so that red is never the only sign."""
    days = (due_on - (on or today())).days
    if overdue:
        return f"已逾期 {-days} 天" if days < 0 else "已逾期"
    return "今天到期" if days == 0 else f"还剩 {days} 天"


def row_words(row: LadderRow) -> str:
    """The list's time-left words; a case 可申请销号 has no deadline (its day is when the last step ended)."""
    if row.step is Step.READY:
        return "待申请销号"
    return due_words(row.due_on, row.overdue)


def ladder_frame(rows: list[LadderRow]) -> pd.DataFrame:
    """The ladder list as the screen shows it: what a phone shows first (the child, the step, the time left)
    leftmost."""
    return pd.DataFrame(
        [
            (
                r.child,
                r.step.label,
                row_words(r),
                r.due_on,
                r.owner,
                r.school,
                r.village,
                r.township,
                r.category,
                r.opened_on,
            )
            for r in rows
        ],  # fmt: skip
        columns=["儿童", "当前步骤", LEFT, "期限", "负责", "学校", "村(社区)", "乡镇", "类别", "开始"],
    )


COLUMNS = {"儿童": st.column_config.TextColumn(pinned=True)}  # the name stays in view on a phone


def styled(frame: pd.DataFrame) -> Any:
    """The list with the words of an overdue step in red."""
    shown = display.frame(frame)
    return shown.style.map(lambda v: RED if str(v).startswith("已逾期") else "", subset=[LEFT])


def case_label(row: LadderRow) -> str:
    return f"{row.child} · {row.step.label} · {row.school or row.township} · {row_words(row)}"


# ---- one case's ladder ------------------------------------------------------------------------------------------


def _step_title(view: StepView) -> str:
    number = (
        f"第 {view.seq} 次"
        if view.step is Step.FOLLOW_UP
        else ("" if view.seq == 1 else f"(第 {view.seq} 轮)")
    )
    state = view.state.label
    if view.state is StepState.OPEN:
        state = (
            due_words(view.comply_by or view.due_on, view.overdue) if view.step is not Step.RETURNED else ""
        )
        if view.step is Step.COUNTY and view.measure and not view.overdue:
            state = "已登记措施,等待复学"  # no longer counted late (README): the days left would mislead
    tail = f" · {state}" if state else ""
    return f"{MARKS[view.state]} **{view.step.label}{number}**{tail}"


def step_facts(view: StepView) -> list[str]:
    """What the step recorded, one short line each (user text escaped for markdown)."""
    when = f"开始 {display.day(view.opened_on)}"
    if view.step is not Step.RETURNED:
        when += f" · 期限 {display.day(view.due_on)}"
    if view.ended_on:
        when += f" · {view.state.label} {display.day(view.ended_on)}"
        if view.ended_by:
            when += f"({md(view.ended_by)})"
    facts = [f"负责:{md(view.owner)} · {when}"]
    if view.served_on:
        facts.append(
            f"送达:{display.day(view.served_on)} 送达 {md(view.served_to or '监护人')},"
            f"限期至 {display.day(view.comply_by)}"
        )
    if view.measure:
        facts.append(f"县级措施:{view.measure.label}")
    if view.in_school is not None:
        facts.append("跟踪结果:" + ("仍在校就读" if view.in_school else "未在校,重新劝返"))
    if view.close_reason:
        facts.append(f"销号原因:{view.close_reason.label}")
    if view.detail:
        facts.append(f"记录:{md(view.detail)}")
    if view.reason:
        why = {
            StepState.SKIPPED: "跳过原因",
            StepState.REJECTED: "未批准原因",
            StepState.ESCALATED: "升级原因",
        }
        facts.append(f"{why.get(view.state, '说明')}:{md(view.reason)}")
    for _, kind, number in view.notices:
        facts.append(f"文书:{md(kind)}" + (f" {md(number)}" if number else ""))
    return facts


def show_steps(found: CaseLadder) -> None:
    """The steps, oldest first: text, not a grid (readable on a phone)."""
    if not found.steps:
        st.info("该个案的劝返步骤尚未开始(每晚自动为在办的疑似辍学、辍学个案开启第一步)。")
        return
    for view in found.steps:
        st.markdown(_step_title(view) + "  \n" + "  \n".join(step_facts(view)))


def _notices(actor: Actor, found: CaseLadder, key: str) -> None:
    """The case's notices (generated and listed by xueji.ui.notices)."""
    notices_section(actor, case_id=found.case_id, step=found.current, key=f"{key}_notices")


def _act(key: str, message: str, write: Callable[[Any], None], clear: tuple[str, ...] = ()) -> None:
    """Run one write in its own transaction; on success keep the message for the next run and rerun, the form's
    text and tick boxes (clear) emptied so that a second tap does not record the same again. On a refusal the
    form keeps what was typed."""
    done = False
    with shown_as_error(), session_scope() as session:
        write(session)
        done = True
    if done:
        remember_saved(SAVED, message, clear=clear)
        st.rerun()


def ladder_section(actor: Actor, case_id: int, *, key: str) -> CaseLadder | None:
    """One case's ladder and the forms this user may use on it now; None when the case cannot be read."""
    show_saved(SAVED)
    found = None
    with shown_as_error(), session_scope() as session:
        found = ladder.case_ladder(session, actor=actor, case_id=case_id)
    if found is None:
        return None
    show_steps(found)
    _notices(actor, found, key)
    if not found.allowed:
        return found
    now = found.current.step.label if found.current else (Step.READY.label if found.steps else "尚未开始")
    st.markdown(f"**当前步骤:{now}**")
    required_note()
    forms = {
        "hand_up": ("提请乡镇", _hand_up),
        "serve": ("登记送达", _serve),
        "measure": ("登记县级措施", _measure),
        "return": ("登记复学", _return),
        "follow_up": ("登记返校跟踪", _follow_up),
        "request_closure": ("申请销号", _request_closure),
        "decide_closure": ("审批销号", _decide_closure),
        "skip": ("跳过此步", _skip),
    }
    mine = [(label, form) for action, (label, form) in forms.items() if action in found.allowed]
    tabs = st.tabs([label for label, _ in mine]) if len(mine) > 1 else [st.container()]
    for tab, (label, form) in zip(tabs, mine, strict=True):
        with tab:
            if len(mine) == 1:
                st.markdown(f"**{label}**")
            form(actor, found, f"{key}_{case_id}")
    return found


def _hand_up(actor: Actor, found: CaseLadder, key: str) -> None:
    enough = found.attempts >= found.attempts_needed
    tally = f"已劝返 {found.attempts} 次/需 {found.attempts_needed} 次"
    if found.attempts_from is not None:  # 劝返 before this round do not count: say from when
        tally += f"(自 {display.day(found.attempts_from)} 起计)"
    (st.caption if enough else st.warning)(
        tally + ("" if enough else ":劝返次数不足,请先在“家访”中登记劝返(类型选“劝返”)。")
    )
    with st.form(f"{key}_hand_up"):
        note = st.text_area(
            required("情况说明"),
            placeholder="如:两次上门劝返,家长仍不同意返校,请乡镇下达限期复学通知书",
            max_chars=max_length("ladder_step.detail"),
            key=f"{key}_hand_up_note",
        )
        if confirmed_submit(
            "提请乡镇", confirm="确认学校劝返未果,提请乡镇书面限期通知", primary=True, key=f"{key}_hand_up_ok"
        ):
            _act(
                key,
                "已提请乡镇",
                lambda s: ladder.hand_up(s, actor=actor, case_id=found.case_id, note=note),
                clear=(f"{key}_hand_up_note", f"{key}_hand_up_ok"),
            )


def _skip(actor: Actor, found: CaseLadder, key: str) -> None:
    with st.form(f"{key}_skip"):
        reason = st.text_area(
            required("跳过原因"),
            placeholder="如:家长已书面承诺本周返校,无需乡镇下达通知",
            max_chars=max_length("ladder_step.reason"),
            key=f"{key}_skip_reason",
        )
        assert found.current is not None
        if confirmed_submit(
            "跳过此步", confirm=f"确认跳过“{found.current.step.label}”", key=f"{key}_skip_ok"
        ):
            _act(
                key,
                "已跳过此步",
                lambda s: ladder.skip_step(s, actor=actor, case_id=found.case_id, reason=reason),
                clear=(f"{key}_skip_reason", f"{key}_skip_ok"),
            )


def _serve(actor: Actor, found: CaseLadder, key: str) -> None:
    days = get_settings().ladder.order_days
    with st.form(f"{key}_serve"):
        left, right = st.columns(2)
        served_on = left.date_input(
            "送达日期", value=today(), max_value=today(), format="YYYY-MM-DD", key=f"{key}_served_on"
        )
        comply_by = right.date_input(
            "限期至(留空为送达之日起算)", value=None, format="YYYY-MM-DD", key=f"{key}_comply_by"
        )
        st.caption(
            f"留空时限期为送达之日起 {days} 天(如今天送达,限期至 {display.day(today() + timedelta(days))})。"
        )
        served_to = st.text_input(
            required("送达对象"),
            placeholder="如:父亲 张大山(监护人)",
            max_chars=max_length("ladder_step.served_to"),
            key=f"{key}_served_to",
        )
        if st.form_submit_button("登记送达", type="primary"):
            limit = comply_by or served_on + timedelta(days=days)
            _act(
                key,
                f"已登记送达,限期至 {display.day(limit)}",
                lambda s: ladder.serve_order(
                    s,
                    actor=actor,
                    case_id=found.case_id,
                    served_on=served_on,
                    served_to=served_to,
                    comply_by=limit,
                ),  # fmt: skip
                clear=(f"{key}_served_to",),
            )


def _measure(actor: Actor, found: CaseLadder, key: str) -> None:
    with st.form(f"{key}_measure"):
        measure = st.radio(
            "措施",
            list(CountyMeasure),
            format_func=lambda m: m.label,
            horizontal=True,
            key=f"{key}_measure_kind",
        )
        on = st.date_input(
            "日期", value=today(), max_value=today(), format="YYYY-MM-DD", key=f"{key}_measure_on"
        )
        detail = st.text_area(
            required("措施内容"),
            placeholder="如:县教育局约谈监护人,责令 15 日内送子女返校",
            max_chars=max_length("ladder_step.detail"),
            key=f"{key}_measure_detail",
        )
        if st.form_submit_button("登记县级措施", type="primary"):
            chosen = CountyMeasure(str(measure))  # a radio with a first choice is never empty
            _act(
                key,
                "已登记县级措施",
                lambda s: ladder.record_measure(
                    s,
                    actor=actor,
                    case_id=found.case_id,
                    measure=chosen,
                    detail=detail,
                    on=on,
                ),
                clear=(f"{key}_measure_detail",),
            )


def _return(actor: Actor, found: CaseLadder, key: str) -> None:
    st.caption("儿童已回校就读:须先在“学籍异动”中办理复学(或劝返复学),学籍为在籍后再登记。")
    with st.form(f"{key}_return"):
        on = st.date_input(
            "返校日期", value=today(), max_value=today(), format="YYYY-MM-DD", key=f"{key}_return_on"
        )
        if st.form_submit_button("登记复学", type="primary"):
            _act(
                key,
                "已登记复学,返校跟踪已开始",
                lambda s: ladder.record_return(s, actor=actor, case_id=found.case_id, on=on),
            )


def _follow_up(actor: Actor, found: CaseLadder, key: str) -> None:
    with st.form(f"{key}_follow_up"):
        on = st.date_input(
            "跟踪日期", value=today(), max_value=today(), format="YYYY-MM-DD", key=f"{key}_fu_on"
        )
        in_school = st.radio(
            "儿童是否仍在校就读",
            [True, False],
            format_func=lambda v: "仍在校" if v else "未在校(重新劝返)",
            horizontal=True,
            key=f"{key}_fu_in",
        )
        detail = st.text_area(
            required("跟踪情况"),
            placeholder="如:到校核实,本周全勤,学习状态稳定",
            max_chars=max_length("ladder_step.detail"),
            key=f"{key}_fu_detail",
        )
        if st.form_submit_button("登记返校跟踪", type="primary"):
            _act(
                key,
                "已登记返校跟踪",
                lambda s: ladder.record_follow_up(
                    s, actor=actor, case_id=found.case_id, on=on, in_school=in_school, detail=detail
                ),
                clear=(f"{key}_fu_detail",),
            )


def _request_closure(actor: Actor, found: CaseLadder, key: str) -> None:
    approver = get_settings().ladder.closure_approver
    st.caption(f"销号须经{'乡镇' if approver is Role.TOWNSHIP_OFFICIAL else '县教育局'}审批后生效。")
    with st.form(f"{key}_close"):
        reason = st.selectbox(
            "销号原因",
            closing_reasons(CaseCategory.DROPOUT),  # the reasons of every out-of-school case
            format_func=lambda r: r.label,
            key=f"{key}_close_reason",
            placeholder="请选择",
        )
        receiving = st.text_input(
            "接收学校(迁出并在外地入学时必填)",
            max_chars=max_length("child_case.receiving_school"),
            key=f"{key}_close_school",
        )
        evidence = st.text_area(
            required("销号依据"),
            placeholder="如:返校报到记录、三次返校跟踪均在校、接收学校回执",
            max_chars=max_length("child_case.close_evidence"),
            key=f"{key}_close_evidence",
        )
        if st.form_submit_button("申请销号", type="primary"):
            _act(
                key,
                "已申请销号,等待审批",
                lambda s: ladder.request_closure(
                    s,
                    actor=actor,
                    case_id=found.case_id,
                    reason=CloseReason(reason),
                    evidence=evidence,
                    receiving_school=receiving,
                ),  # fmt: skip
                clear=(f"{key}_close_school", f"{key}_close_evidence"),
            )


def _decide_closure(actor: Actor, found: CaseLadder, key: str) -> None:
    with st.form(f"{key}_decide"):
        approve = st.radio(
            "审批意见",
            [True, False],
            format_func=lambda v: "同意销号" if v else "不同意(退回)",
            horizontal=True,
            key=f"{key}_decide_ok",
        )
        note = st.text_area(
            "说明(不同意时必填)", max_chars=max_length("ladder_step.reason"), key=f"{key}_decide_note"
        )
        if confirmed_submit("提交审批", confirm="确认审批意见(同意后个案销号,离开在册台账)", primary=True,
                            key=f"{key}_decide_confirm"):  # fmt: skip
            _act(
                key,
                "已同意销号,个案已销号" if approve else "已退回销号申请",
                lambda s: ladder.decide_closure(
                    s, actor=actor, case_id=found.case_id, approve=approve, note=note
                ),
                clear=(f"{key}_decide_note", f"{key}_decide_confirm"),
            )
