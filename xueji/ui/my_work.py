"""我的待办 as a landing page shows it: one link a line to the page where the work is done, overdue first, with
how many and the oldest deadline; the county's overdue work per township beneath; "暂无待办" when there is none.
Counted once a minute per user (the 刷新 button counts again).

A city's or province's officer looking at one of their counties has no work of their own there (they only read):
their 概况 shows instead what the county is behind on, from the figures of 各县区对比, each line a link to the
county's page with the detail."""

from __future__ import annotations

import streamlit as st

from xueji.auth import Actor
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.services.dashboards.my_work import COUNTY_EMPTY, MyWork, county_lines, my_work
from xueji.services.dashboards.work_items import Urgency, WorkItem
from xueji.services.overview import summaries
from xueji.standby import read_scope
from xueji.ui.display import clock, day
from xueji.ui.navigation import pages_for
from xueji.ui.supervision import address
from xueji.ui.tables import show_table
from xueji.ui.text import md

# Streamlit's own icon font, so the marks show on every device (an emoji needs the phone's emoji font)
ICONS = {
    Urgency.OVERDUE: ":material/error:",
    Urgency.DUE: ":material/schedule:",
    Urgency.NOTE: ":material/info:",
}
COLOURS = {Urgency.OVERDUE: ":red", Urgency.DUE: ":orange", Urgency.NOTE: ":blue"}
EMPTY = "暂无待办"


@st.cache_data(ttl=60, max_entries=256, show_spinner="正在整理待办…")
def _work(database_url: str, day_iso: str, user_key: str, _actor: Actor) -> tuple[MyWork, str]:
    """The key names the user (their own requests and visits are theirs alone), the database and the day."""
    with read_scope() as session:
        return my_work(session, actor=_actor), clock(now())


def _counted(actor: Actor) -> tuple[MyWork, str]:
    key = f"{actor.user_id}|{actor.role.value}|{actor.scope_label}"
    return _work(get_settings().database_url, today().isoformat(), key, actor)


def line_label(item: WorkItem) -> str:
    """The link: 新生注册逾期未完成 **3 人**, the count red when overdue, orange when to do, blue to know about."""
    return f"{md(item.what)} {COLOURS[item.urgency]}[**{item.count} {item.unit}**]"


def line_note(item: WorkItem) -> str:
    """Under the link (it wraps on a phone, a link does not): 最早截止 09-30 · 4 所学校, the year shown on a date
    not in this year."""
    parts = []
    if item.due is not None:
        when = day(item.due)
        parts.append(
            f"{when} 起"
            if item.counted_from
            else {Urgency.OVERDUE: f"最早截止 {when}", Urgency.DUE: f"截止 {when}"}.get(
                item.urgency, f"最早 {when}"
            )
        )
    if item.detail:
        parts.append(md(item.detail))
    return " · ".join(parts)


def show_my_work(actor: Actor, *, title: str = "我的待办") -> MyWork:
    """Draw the user's own work (only lines whose page this user may open) and return it."""
    work, counted = _counted(actor)
    openable = {spec.path for spec in pages_for(actor)}
    items = [i for i in work.items if i.page in openable]
    head, refresh = st.columns([5, 1], vertical_alignment="bottom")
    head.subheader(title)
    if refresh.button("刷新", key="my_work_refresh", icon=":material/refresh:", help="重新统计待办"):
        _work.clear()
        st.rerun()
    if not items:
        st.success(EMPTY, icon=":material/task_alt:")
    with st.container(key="my_work_list"):
        _draw(items)
    if len(work.townships):
        st.caption("各乡镇逾期事项(点上面各行进入办理页面,按乡镇、学校查看明细):")
        show_table(
            work.townships,
            hide_index=True,
            width="stretch",
            key="my_work_townships",
            column_config={"乡镇": st.column_config.TextColumn(pinned=True)},  # in view while a phone scrolls
        )
    st.caption(f"统计于 {counted}。已逾期的在前,其次是待办和需要留意的事项。")
    return work


def show_lines_for(actor: Actor, page: str, *, title: str) -> None:
    """Only the lines of 我的待办 done on one page (the teacher's 家访 home: the 劝返复学 work), nothing when none."""
    work, _ = _counted(actor)
    items = [i for i in work.items if i.page == page]
    if not items:
        return
    st.subheader(title)
    _draw(items)


def _draw(items: list[WorkItem], *, query: dict[str, str] | None = None) -> None:
    """One link a line to the page where the work is done, the deadline and detail under it."""
    for item in items:
        st.page_link(item.page, label=line_label(item), icon=ICONS[item.urgency], query_params=query)
        if note := line_note(item):
            st.caption(note)


# ---- a city's or province's officer in one of their counties -------------------------------------------------


def show_county_work(actor: Actor, *, name: str) -> None:
    """For a city's or province's officer in one of their counties: what the county is behind on (overdue first),
    as of the figures' last refresh, each line a link to the county's page with the detail."""
    with read_scope() as session:
        result = summaries.city_figures(session, actor=actor)
    row = next((c for c in result.counties if c.county_id == actor.scope_id), None)
    st.subheader(f"{md(name)}的逾期与待督办事项")
    if row is None or row.refreshed_at is None:
        st.info(
            "该县区的数字尚未汇总(由服务器定时汇总,见“各县区对比”),暂不能列出逾期事项;"
            "可在菜单中打开该县区的各页面查看。",
            icon=":material/info:",
        )
        return
    openable = {spec.path for spec in pages_for(actor)}
    items = [i for i in county_lines(row) if i.page in openable]
    if not any(i.urgency is not Urgency.NOTE for i in items):
        st.success(COUNTY_EMPTY, icon=":material/task_alt:")
    with st.container(key="county_work_list"):
        _draw(items, query=address(actor))
    st.caption(
        f"数据截至 {clock(row.refreshed_at)}(与“各县区对比”相同,每 {get_settings().summary_minutes} 分钟汇总一次)。"
        "点各行进入该县区的页面查看明细(只读)。"
    )
