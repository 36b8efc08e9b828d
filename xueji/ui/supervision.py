"""A city's or province's officer picks which of their counties to look at: the sidebar's 查看县区 box. The pick is
an id in this browser session's state; ui.session.current_user narrows the actor to it on every run (through
services.common.supervision.as_county, which checks it is still theirs), so every page and service sees a
county's actor, read-only by the role's permissions."""

from __future__ import annotations

import streamlit as st

from xueji.auth import Actor, PermissionDenied
from xueji.db import session_scope
from xueji.rules.vocab import ScopeKind
from xueji.services.common import supervision
from xueji.ui.text import md

PICK = "supervised_county_id"  # session state: the county id picked, or None (their own city or province)
_WIDGET = "supervised_county_pick"
_GO = (
    "supervised_county_go"  # session state: the pick changed; open the county's 概况 (or back to 各县区对比)
)
HOME_PAGE = "pages/overview/home.py"
COUNTIES_PAGE = "pages/overview/counties.py"
_ALL = {ScopeKind.CITY: "全市(各县区对比)", ScopeKind.PROVINCE: "全省(各县区对比)"}


def picked_county() -> int | None:
    """The county this browser session's officer picked, or None (their whole city or province)."""
    value = st.session_state.get(PICK)
    return value if isinstance(value, int) else None


def pick_county(county_id: int | None) -> None:
    """Look at this county (None: back to the whole city or province) from the next run on; the caller then
    switches page (the 各县区对比 page: st.switch_page("pages/overview/home.py"))."""
    st.session_state[PICK] = county_id
    st.session_state.pop(_WIDGET, None)  # the sidebar box shows the new pick


def narrowed(actor: Actor) -> Actor:
    """The actor narrowed to the picked county, checked now; the home actor when nothing is picked, or when the
    pick is no longer theirs (the refusal is audited and the pick dropped)."""
    county_id = picked_county()
    if county_id is None or not supervision.is_supervisor(actor):
        return actor
    try:
        with session_scope() as session:
            return supervision.as_county(session, actor=actor, county_id=county_id)
    except PermissionDenied:
        pick_county(None)
        return actor.at_home()


def _changed() -> None:
    st.session_state[PICK] = st.session_state.get(_WIDGET)
    st.session_state[_GO] = True


def sidebar_picker(actor: Actor) -> None:
    """The 查看县区 box for a city's or province's officer (nothing for anyone else), and which county the pages
    show. Call inside the sidebar, after st.navigation."""
    if not supervision.is_supervisor(actor):
        return
    home = actor.at_home()
    with session_scope() as session:
        counties = supervision.supervised_counties(session, actor=home)
    by_province = home.scope_kind is ScopeKind.PROVINCE
    labels: dict[int | None, str] = {None: _ALL.get(home.scope_kind, "全部县区")}
    for c in counties:
        labels[c.id] = f"{c.city_name} › {c.name}" if by_province and c.city_name else c.name
    current = actor.scope_id if actor.via is not None else None
    if st.session_state.get(_WIDGET) != current or current not in labels:
        st.session_state[_WIDGET] = current if current in labels else None
    st.selectbox(
        "查看县区",
        list(labels),
        format_func=lambda key: labels.get(key, ""),
        key=_WIDGET,
        placeholder="选择县区",
        on_change=_changed,
        help="选择一个县区,查看该县区的概况、台账和报表(只读);选第一项回到各县区对比",
    )
    if actor.via is not None:
        st.caption(f"正在查看:{md(labels.get(current, ''))}(只读)")
    if st.session_state.pop(_GO, False):
        st.switch_page(HOME_PAGE if actor.via is not None else COUNTIES_PAGE)
