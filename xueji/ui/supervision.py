"""A city's or province's officer picks which of their counties to look at: the sidebar's 查看县区 box. The pick is
an id in this browser session's state, mirrored in the page's address (?county=5) so that a reload or a bookmark
keeps it; ui.session.current_user narrows the actor to it on every run (through services.common.supervision
.as_county, which checks it is still theirs), so every page and service sees a county's actor, read-only by the
role's permissions."""

from __future__ import annotations

import streamlit as st

from xueji.auth import Actor, PermissionDenied
from xueji.db import session_scope
from xueji.rules.vocab import ScopeKind
from xueji.services.common import supervision
from xueji.ui.text import md

PICK = "supervised_county_id"  # session state: the county id picked, or None (their own city or province)
PARAM = "county"  # the page address's ?county=<id>: the pick as a reload or a new tab finds it
_WIDGET = "supervised_county_pick"
_GO = (
    "supervised_county_go"  # session state: the pick changed; open the county's 概况 (or back to 各县区对比)
)
_REFUSED = "supervised_county_refused"  # session state: the pick was refused at this run; say so once
REFUSED = "所选县区不在您的管辖范围内(或已调出),已回到全部县区的对比。"
HOME_PAGE = "pages/overview/home.py"
COUNTIES_PAGE = "pages/overview/counties.py"
_ALL = {ScopeKind.CITY: "全市(各县区对比)", ScopeKind.PROVINCE: "全省(各县区对比)"}
_FORGED = 0  # no county has this id: an address's value that is not an id is refused (and audited) as one
# the box's first option, the whole city or province: not None, which a select box takes for "nothing chosen" (a
# state set to None then leaves the browser showing the county it showed before)
_WHOLE = -1


def picked_county() -> int | None:
    """The county this browser session's officer picked, or None (their whole city or province). A session that
    has not picked yet (a reload, a new tab, a bookmark) takes the page address's ?county=, still to be checked."""
    if PICK in st.session_state:
        value = st.session_state.get(PICK)
        return value if isinstance(value, int) else None
    asked = st.query_params.get(PARAM)
    if asked is None:
        return None
    return int(asked) if asked.isascii() and asked.isdigit() and len(asked) <= 18 else _FORGED


def pick_county(county_id: int | None) -> None:
    """Look at this county (None: back to the whole city or province) from the next run on; the caller then
    switches page (the 各县区对比 page: st.switch_page("pages/overview/home.py"))."""
    st.session_state[PICK] = county_id
    st.session_state.pop(_WIDGET, None)  # the sidebar box shows the new pick
    _address(county_id)


def _address(county_id: int | None) -> None:
    """Keep the pick in the page's address (only when it differs: every run and the deadline check pass here)."""
    if county_id is None:
        if PARAM in st.query_params:
            del st.query_params[PARAM]
    elif st.query_params.get(PARAM) != str(county_id):
        st.query_params[PARAM] = str(county_id)


def address(actor: Actor) -> dict[str, str]:
    """The query parameters of a page switch that keeps the actor's county (st.switch_page clears the address)."""
    return {PARAM: str(actor.scope_id)} if actor.via is not None and actor.scope_id is not None else {}


def narrowed(actor: Actor) -> Actor:
    """The actor narrowed to the picked county, checked now; the home actor when nothing is picked, or when the
    pick is no longer theirs or was forged in the address (the refusal is audited and the pick dropped)."""
    if not supervision.is_supervisor(actor):
        return actor
    county_id = picked_county()
    if county_id is None:
        _address(None)
        return actor
    try:
        with session_scope() as session:
            county = supervision.as_county(session, actor=actor, county_id=county_id)
    except PermissionDenied:
        pick_county(None)
        st.session_state[_REFUSED] = True
        return actor.at_home()
    st.session_state[PICK] = county_id
    _address(county_id)
    return county


def looking_at(actor: Actor) -> str | None:
    """The name of the county a city's or province's officer is looking at (None when they are not in one)."""
    if actor.via is None:
        return None
    with session_scope() as session:
        counties = supervision.supervised_counties(session, actor=actor)
    return next((c.name for c in counties if c.id == actor.scope_id), None)


def _changed() -> None:
    value = st.session_state.get(_WIDGET)
    st.session_state[PICK] = None if value in (None, _WHOLE) else value
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
    labels: dict[int, str] = {_WHOLE: _ALL.get(home.scope_kind, "全部县区")}
    for c in counties:
        labels[c.id] = f"{c.city_name} › {c.name}" if by_province and c.city_name else c.name
    current = actor.scope_id if actor.via is not None and actor.scope_id is not None else _WHOLE
    if st.session_state.get(_WIDGET) != current or current not in labels:
        st.session_state[_WIDGET] = current if current in labels else _WHOLE
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
    if st.session_state.pop(_REFUSED, False):
        st.toast(REFUSED, icon=":material/block:")
    if st.session_state.pop(_GO, False):
        if actor.via is not None:
            st.switch_page(HOME_PAGE, query_params=address(actor))
        st.switch_page(COUNTIES_PAGE)
