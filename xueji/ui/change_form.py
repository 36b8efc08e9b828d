"""The status-change request form (学籍异动申请), on the 学籍异动 page and on a student's record alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from xueji.auth import Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.text_limits import max_length
from xueji.rules.transfers import (
    TRANSFER_IN_KINDS,
    TransferWindow,
    is_repeat,
    midyear_problem,
    placement_hint,
)
from xueji.services.registry import status_changes, transfer_controls, transfer_lookup
from xueji.services.registry.students import StudentRow
from xueji.ui.errors import shown_as_error
from xueji.ui.style import required, required_note
from xueji.ui.text import md

# asked elsewhere: a transfer in after the ID-number lookup; 升学 and 外县转入 by the registry import
IMPORT_OR_LOOKUP_KINDS = (ChangeKind.TRANSFER_IN, ChangeKind.PROMOTION, ChangeKind.TRANSFER_IN_OUTSIDE)
# the placement note (200) holds both, with their names (rules.transfers.placement_note)
REPEAT_MAX = PROOFS_LATER_MAX = 90


@dataclass(frozen=True)
class ChangePreset:
    """What a page that knows the case fills in beforehand (休学与请假: 复学, 续休, 休学 from a long leave)."""

    kind: ChangeKind
    effective: date | None = None
    until: date | None = None
    reason: str = ""


def change_request_form(
    actor: Actor, children: list[StudentRow], *, key: str, preset: ChangePreset | None = None
) -> None:
    """Request a status change for one of these students of the actor's school; the fields follow the kind
    chosen, and the rule that applies (transfer window, grade placed in) is said before submit."""
    child = st.selectbox(
        "学生",
        children,
        format_func=lambda r: f"{r.label or r.name} · {r.status}",
        key=f"{key}_child",
        placeholder="请选择",
    )
    kinds = [k for k in ChangeKind if k not in IMPORT_OR_LOOKUP_KINDS]
    kind = st.selectbox(
        "异动类型",
        kinds,
        index=kinds.index(preset.kind) if preset else 0,
        format_func=lambda k: k.label,
        key=f"{key}_kind",
        placeholder="请选择",
    )
    if child is None or kind is None:
        return
    with session_scope() as session:
        window = transfer_controls.window_today(session, actor=actor)
        choices = transfer_controls.placement_choices(session, actor=actor) if kind.places_in_class else []
        grade = transfer_controls.record_grade(session, actor=actor, student_id=child.id)
    if kind.is_transfer:
        _window_notice(window, kind)
    placement, repeat = _placement(kind, choices, grade, key=key)
    with st.form(key):
        required_note()
        effective = st.date_input(
            "异动日期", value=(preset and preset.effective) or today(), format="YYYY-MM-DD"
        )
        reason = st.text_area(
            required("原因"),
            value=preset.reason if preset else "",
            max_chars=max_length("status_change.reason"),
        )
        documents = st.multiselect(
            "已核验的材料", list(Document), format_func=lambda d: d.label, placeholder="请选择(可多选)"
        )
        until = None
        if kind in (ChangeKind.SUSPENSION, ChangeKind.EXTENSION):
            until = st.date_input(
                "休学截止日期",
                value=(preset and preset.until) or today() + timedelta(days=180),
                format="YYYY-MM-DD",
            )
        destination = ""
        if kind is ChangeKind.TRANSFER_OUT:
            destination = st.text_input("转往(转出时填写)", max_chars=max_length("status_change.destination"))
        repeat_reason = _repeat_field() if repeat else ""
        override = st.text_input(
            _override_label(kind, window), max_chars=max_length("status_change.override_reason")
        )
        if st.form_submit_button("提交申请", type="primary"):
            _submit(
                actor,
                status_changes.ChangeRequest(
                    student_id=child.id,
                    kind=kind,
                    effective_date=effective,
                    reason=reason,
                    documents=frozenset(documents),
                    to_class_id=placement.id if placement else None,
                    destination=destination,
                    override_reason=override,
                    suspension_until=until,
                    placement_reason=repeat_reason,
                ),
                "已提交",
            )


def _window_notice(window: TransferWindow, kind: ChangeKind) -> None:
    text = window.notice + (window.entrant_notice if kind in TRANSFER_IN_KINDS else "")
    if window.outside:
        st.warning(text)
    else:
        st.caption(text)


def _override_label(kind: ChangeKind, window: TransferWindow) -> str:
    if kind.is_transfer and window.outside:
        return "特殊情况说明(已过转学窗口,必填;六年级、九年级转学也须说明)"
    if kind.is_transfer:
        return "特殊情况说明(六年级、九年级转学时填写)"
    if kind in (ChangeKind.SUSPENSION, ChangeKind.EXTENSION):
        return "特殊情况说明(期中后休学、逾期续休时填写)"
    return "特殊情况说明(如有)"


def _placement(
    kind: ChangeKind, choices: list[transfer_controls.ClassChoice], grade: int | None, *, key: str
) -> tuple[transfer_controls.ClassChoice | None, bool]:
    """The class chosen (outside the form, so the rule for its grade shows at once) and whether it is a repeat."""
    if not kind.places_in_class:
        return None, False
    label = "编入本校班级" if kind in TRANSFER_IN_KINDS else "编入班级"
    ordered = sorted(choices, key=lambda c: (c.grade != grade, c.grade, c.name))  # the record's grade first
    placement = st.selectbox(
        label, ordered, format_func=lambda c: c.label, key=f"{key}_class", placeholder="请选择"
    )
    if placement is None:
        if not choices:
            st.warning("本校没有可编入的班级,请先在“任教班级”中建班。")
        return None, False
    hint = placement_hint(kind, record_grade=grade, placement_grade=placement.grade)
    if hint:
        st.warning(hint)
    return placement, is_repeat(kind, record_grade=grade, placement_grade=placement.grade)


def _repeat_field() -> str:
    return st.text_input(
        "留级原因(编入低于学籍年级的班级时必填,审批人可见)",
        max_chars=REPEAT_MAX,
    )


def transfer_in_form(actor: Actor) -> None:
    """The receiving school asks for a child of another school of the county, found by full ID number: the
    required proofs as checkboxes, the window and the grade rule said before submit."""
    number = st.text_input("学生完整身份证号", key="transfer_in_id", max_chars=18)
    if not number.strip():
        return
    candidate = None
    with shown_as_error(), session_scope() as session:
        candidate = transfer_lookup.find_transfer_candidate(session, actor=actor, id_number=number)
    if candidate is None:
        return
    st.info(
        md(f"{candidate.name}({candidate.sex})· {candidate.school} {candidate.grade} · {candidate.status}")
    )
    kind = ChangeKind.TRANSFER_IN
    with session_scope() as session:
        window = transfer_controls.window_today(session, actor=actor)
        choices = transfer_controls.placement_choices(session, actor=actor)
    _window_notice(window, kind)
    placement, repeat = _placement(kind, choices, candidate.grade_number, key="transfer_in")
    full = placement and midyear_problem(kind, window, class_name=placement.name, size=placement.size)
    if full:
        st.error(full)
    required = get_settings().transfer_proofs
    with st.form("transfer_in"):
        effective = st.date_input("转入日期", value=today(), format="YYYY-MM-DD")
        reason = st.text_area(
            "转入原因", placeholder="如:随父母迁居本镇", max_chars=max_length("status_change.reason")
        )
        st.markdown("**已核验的材料**")
        ticked = {
            d
            for d in _transfer_documents(required)
            if st.checkbox(f"{d.label}(必需)" if d in required else d.label, key=f"transfer_in_{d.value}")
        }
        proofs_later = st.text_input(
            "证明待补说明(必需材料暂缺时必填:缺什么、何时补交)", max_chars=PROOFS_LATER_MAX
        )
        repeat_reason = _repeat_field() if repeat else ""
        override = st.text_input(
            _override_label(kind, window), max_chars=max_length("status_change.override_reason")
        )
        if st.form_submit_button("提交转入申请", type="primary"):
            _submit(
                actor,
                status_changes.ChangeRequest(
                    student_id=candidate.student_id,
                    kind=kind,
                    effective_date=effective,
                    reason=reason,
                    documents=frozenset(ticked),
                    to_class_id=placement.id if placement else None,
                    override_reason=override,
                    lookup_id=candidate.lookup_id,
                    placement_reason=repeat_reason,
                    proofs_later=proofs_later,
                ),
                "已提交转入申请,待{decider}审批",
                sending=candidate.school,
            )


def _transfer_documents(required: frozenset[Document]) -> list[Document]:
    """The required proofs first, then the other papers a transfer in may carry."""
    others = [Document.TRANSFER_CERTIFICATE, Document.RESIDENCE_PERMIT]
    return [d for d in Document if d in required] + [d for d in others if d not in required]


def _submit(actor: Actor, request: status_changes.ChangeRequest, done: str, *, sending: str = "") -> None:
    submitted = False
    with shown_as_error(), session_scope() as session:
        change = status_changes.submit_change(session, actor=actor, request=request)
        decider = sending if status_changes.decider_label(change) == "转出学校" else "县教育局"
        message = done.replace("{decider}", decider)
        st.success(f"{md(message)},审批期限 {change.due_date:%Y-%m-%d}")
        submitted = True
    if not submitted:  # on a phone the reason below the button is out of sight
        st.toast("申请未提交:原因见“提交”按钮下方", icon=":material/error:")
