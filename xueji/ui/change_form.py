"""The status-change request form (学籍异动申请), on the 学籍异动 page and on a student's record alike."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from xueji.auth import Actor
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.text_limits import max_length
from xueji.services.registry import assignments, status_changes, transfer_lookup
from xueji.services.registry.students import StudentRow
from xueji.ui.errors import shown_as_error
from xueji.ui.text import md

# asked elsewhere: a transfer in after the ID-number lookup; 升学 and 外县转入 by the registry import
IMPORT_OR_LOOKUP_KINDS = (ChangeKind.TRANSFER_IN, ChangeKind.PROMOTION, ChangeKind.TRANSFER_IN_OUTSIDE)


def change_request_form(actor: Actor, children: list[StudentRow], *, key: str) -> None:
    """Request a status change for one of these students of the actor's school; shows the deadline."""
    with session_scope() as session:
        classes = assignments.classes_in_scope(session, actor=actor)
    with st.form(key):
        child = st.selectbox(
            "学生", children, format_func=lambda r: f"{r.name} · {r.class_name} · {r.status}"
        )
        kind = st.selectbox(
            "异动类型",
            [k for k in ChangeKind if k not in IMPORT_OR_LOOKUP_KINDS],
            format_func=lambda k: k.label,
        )
        effective = st.date_input("异动日期", value=today())
        reason = st.text_area("原因", max_chars=max_length("status_change.reason"))
        documents = st.multiselect("已核验的材料", list(Document), format_func=lambda d: d.label)
        until = st.date_input("休学截止日期(休学时填写)", value=today() + timedelta(days=180))
        placement = st.selectbox(
            "编入班级(复学、劝返复学时填写)",
            [None, *classes],
            format_func=lambda c: "—" if c is None else c[1],
        )
        destination = st.text_input("转往(转出时填写)", max_chars=max_length("status_change.destination"))
        override = st.text_input(
            "特殊情况说明(六年级、九年级转学时填写)", max_chars=max_length("status_change.override_reason")
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
                    to_class_id=placement[0] if placement else None,
                    destination=destination,
                    override_reason=override,
                    suspension_until=until if kind is ChangeKind.SUSPENSION else None,
                ),
                "已提交",
            )


def transfer_in_form(actor: Actor) -> None:
    """The receiving school asks for a child of another school of the county, found by full ID number."""
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
    with session_scope() as session:
        classes = assignments.classes_in_scope(session, actor=actor)
    with st.form("transfer_in"):
        placement = st.selectbox("编入本校班级", classes, format_func=lambda c: c[1])
        effective = st.date_input("转入日期", value=today())
        reason = st.text_area(
            "转入原因", placeholder="如:随父母迁居本镇", max_chars=max_length("status_change.reason")
        )
        documents = st.multiselect("已核验的材料", list(Document), format_func=lambda d: d.label)
        override = st.text_input(
            "特殊情况说明(六年级、九年级转学时填写)", max_chars=max_length("status_change.override_reason")
        )
        if st.form_submit_button("提交转入申请", type="primary"):
            _submit(
                actor,
                status_changes.ChangeRequest(
                    student_id=candidate.student_id,
                    kind=ChangeKind.TRANSFER_IN,
                    effective_date=effective,
                    reason=reason,
                    documents=frozenset(documents),
                    to_class_id=placement[0] if placement else None,
                    override_reason=override,
                    lookup_id=candidate.lookup_id,
                ),
                f"已提交转入申请,待{candidate.school}审批",
            )


def _submit(actor: Actor, request: status_changes.ChangeRequest, done: str) -> None:
    with shown_as_error(), session_scope() as session:
        change = status_changes.submit_change(session, actor=actor, request=request)
        st.success(f"{md(done)},审批期限 {change.due_date:%Y-%m-%d}")
