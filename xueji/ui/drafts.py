"""A form's draft on screen: its widgets' values kept on every rerun (the form is drawn outside st.form, so
each change reaches the server), put back when the page opens in a new browser session, with a notice and a
丢弃草稿 button. The widgets take their values from st.session_state only (never value=), so that a restored
draft and a default never conflict."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import streamlit as st

from xueji.auth import Actor
from xueji.clock import china_time
from xueji.db import session_scope
from xueji.services.system import drafts
from xueji.ui.display import day

_DATE = "$date"


def encode(value: Any) -> Any:
    """A widget's value as plain JSON: dates tagged, enums (str subclasses) by their value."""
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """The widget's value back from its JSON (dates as dates; enums are matched by the widget's options)."""
    if isinstance(value, dict) and set(value) == {_DATE}:
        try:
            return date.fromisoformat(value[_DATE])
        except ValueError:
            return None
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _kept(form: str) -> str:
    return f"draft_kept_{form}"


def _restored(form: str) -> str:
    return f"draft_restored_{form}"


def when(at: datetime) -> str:
    """11-23 09:41: the day as display.day writes it, and the time on the county's clock."""
    stamp = china_time(at)
    return f"{day(date.fromisoformat(stamp[:10]))} {stamp[11:]}"


def first_run(form: str) -> bool:
    """True on the form's first run in this browser session (a new tab, a reload, a phone back from WeChat)."""
    checked = f"draft_checked_{form}"
    if st.session_state.get(checked):
        return False
    st.session_state[checked] = True
    return True


def take_draft(actor: Actor, form: str) -> dict[str, Any] | None:
    """The actor's kept draft of the form, its values decoded, remembered as restored (for the notice) and as
    the values last kept; None when there is none."""
    with session_scope() as session:
        draft = drafts.load_draft(session, actor=actor, form=form)
    if draft is None:
        return None
    st.session_state[_restored(form)] = when(draft.updated_at)
    st.session_state[_kept(form)] = json.dumps(draft.values, sort_keys=True, ensure_ascii=False)
    return {k: decode(v) for k, v in draft.values.items()}


def start_clean(form: str, values: Mapping[str, Any]) -> None:
    """The form opens afresh with these values: nothing to keep until the user changes one."""
    st.session_state[_kept(form)] = json.dumps(
        {k: encode(v) for k, v in values.items()}, sort_keys=True, ensure_ascii=False
    )


def keep(actor: Actor, form: str, values: Mapping[str, Any]) -> None:
    """Save the values as the actor's draft when they differ from those last kept (or opened with)."""
    plain = {k: encode(v) for k, v in values.items()}
    text = json.dumps(plain, sort_keys=True, ensure_ascii=False)
    if st.session_state.get(_kept(form)) == text:
        return
    with session_scope() as session:
        drafts.save_draft(session, actor=actor, form=form, values=plain)
    st.session_state[_kept(form)] = text


def drop(actor: Actor, form: str) -> None:
    """Forget the draft: in the database (the form was saved, or the user dropped it) and on screen."""
    with session_scope() as session:
        drafts.discard_draft(session, actor=actor, form=form)
    st.session_state.pop(_restored(form), None)
    st.session_state.pop(_kept(form), None)


def restored_notice(actor: Actor, form: str, *, clear: list[str]) -> None:
    """When a draft was put back: say so, with a button that drops it and empties the form's keys `clear`."""
    at = st.session_state.get(_restored(form))
    if not at:
        return
    note, button = st.columns([3, 1], vertical_alignment="center")
    note.info(f"有一份未保存的草稿({at}),已恢复")
    if button.button("丢弃草稿", key=f"draft_drop_{form}", width="stretch"):
        drop(actor, form)
        for key in clear:
            st.session_state.pop(key, None)
        st.rerun()


def forget_restored(form: str) -> None:
    """No notice of a restored draft (the form now shows other values)."""
    st.session_state.pop(_restored(form), None)
