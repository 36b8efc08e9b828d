"""The page a signed-in user lands on: the set-up checklist while the county is not ready (the administrator until
nothing is missing, the county officer while there is no school), otherwise the first page of their menu.
Decided once per sign-in, so the menu does not change under the user's feet while they work through the list."""

from __future__ import annotations

import streamlit as st

from xueji.auth import Actor
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.services.setup import checklist

CHECKLIST = "pages/setup/checklist.py"
LANDING_STATE = "landing_page"  # session state: ((user id, database URL), page path or None)


def landing_page(actor: Actor) -> str | None:
    """The path of the page to open first, or None for the first page of the menu."""
    key = (actor.user_id, get_settings().database_url)
    known = st.session_state.get(LANDING_STATE)
    if known is None or known[0] != key:
        with session_scope() as session:
            known = (key, CHECKLIST if checklist.leads_here(session, actor=actor) else None)
        st.session_state[LANDING_STATE] = known
    return known[1]
