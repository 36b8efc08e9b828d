"""A case's documents on screen (drawn by the ladder page and 个案详情 through xueji.ui.ladder): the notices and
case files generated so far, each with a download (audited when taken), and a button for each kind this user may
generate now (services.cases.notices decides); a numbered one asks for a confirmation first, since it takes the
township's next 文号."""

from __future__ import annotations

import streamlit as st

from xueji.auth import Actor
from xueji.db import session_scope
from xueji.rules.notices import NoticeKind
from xueji.services.cases import notices
from xueji.ui import display
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.errors import shown_as_error
from xueji.ui.text import md

SAVED = "notice_saved"


def notices_section(actor: Actor, *, case_id: int, step: object = None, key: str) -> None:
    """The case's documents and the buttons to generate them (step: the open ladder step, unused: the service
    reads the case as it stands)."""
    key = f"{key}_{case_id}"
    show_saved(SAVED)
    rows, kinds = [], []
    with shown_as_error(), session_scope() as session:
        rows = notices.case_notices(session, actor=actor, case_id=case_id)
        kinds = notices.issuable(session, actor=actor, case_id=case_id)
    if not rows and not kinds:
        return
    st.markdown("**通知书和个案档案**")
    for row in rows:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(
            md(f"{row.title} {row.number}".strip())
            + f"  \n:gray[{display.day(row.issued_on, long=True)} · {md(row.issued_by)}]"
        )
        if row.downloadable:
            _download(actor, row.id, right, f"{key}_get_{row.id}")
        else:
            right.caption("含完整身份证号,您不能下载")
    if kinds:
        _issue(actor, case_id, kinds, key)


def _download(actor: Actor, notice_id: int, where: st.delta_generator.DeltaGenerator, key: str) -> None:
    """Fetch the file when asked (the fetch is the audited export), then offer it."""
    ready = st.session_state.get(key)
    if ready is None:
        if where.button("下载", key=key + "_ask", icon=":material/download:"):
            with shown_as_error(), session_scope() as session:
                st.session_state[key] = notices.notice_file(session, actor=actor, notice_id=notice_id)
            st.rerun()
        return
    name, data = ready
    where.download_button(
        "保存",
        data,
        file_name=name,
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        key=key + "_save",
        icon=":material/save:",
        type="primary",
    )


def _issue(actor: Actor, case_id: int, kinds: list[NoticeKind], key: str) -> None:
    pending = st.session_state.get(key + "_pending")
    if pending is None:
        columns = st.columns(len(kinds))
        for column, kind in zip(columns, kinds, strict=True):
            if column.button(f"生成{kind.label}", key=f"{key}_new_{kind.value}"):
                if kind.numbered:
                    st.session_state[key + "_pending"] = kind.value
                    st.rerun()
                _generate(actor, case_id, kind, key)
        return
    kind = NoticeKind(pending)
    st.warning(f"将生成{kind.label}并占用本乡镇今年的下一个文号(文号一经生成不能收回)。确定生成吗?")
    yes, no = st.columns(2)
    if yes.button("确定生成", key=key + "_yes", type="primary"):
        st.session_state.pop(key + "_pending", None)
        _generate(actor, case_id, kind, key)
    if no.button("取消", key=key + "_no"):
        st.session_state.pop(key + "_pending", None)
        st.rerun()


def _generate(actor: Actor, case_id: int, kind: NoticeKind, key: str) -> None:
    done = None
    with shown_as_error(), session_scope() as session:
        notice = notices.issue_notice(session, actor=actor, case_id=case_id, kind=kind)
        done = f"已生成{kind.label}" + (f":{notice.number}" if notice.number else "") + ",可在下方下载"
    if done:
        remember_saved(SAVED, done)
        st.rerun()
