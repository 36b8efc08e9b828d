"""上线清单: what the county still lacks before it can start, line by line, each with a link to the page that
fixes it (only pages this user may open). One column, so it reads on a phone."""

import streamlit as st

from xueji.auth import PERMISSIONS, Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.vocab import Role
from xueji.services.setup.checklist import LineState, checklist
from xueji.ui.my_work import show_my_work
from xueji.ui.navigation import PAGES, pages_for
from xueji.ui.session import require_actor
from xueji.ui.text import md

# Streamlit's own icon font, so the marks show on every device (an emoji needs the phone's emoji font)
MARKS = {
    LineState.DONE: ":green[:material/check_circle:]",
    LineState.MISSING: ":red[:material/cancel:]",
    LineState.WARNING: ":orange[:material/warning:]",
}

actor = require_actor(Action.SETUP_READ)
with session_scope() as session:
    found = checklist(session, actor=actor, on=today())
openable = {spec.path: spec for spec in pages_for(actor)}
every_page = {spec.path: spec for spec in PAGES}


def who_may(action: Action) -> str:
    """The roles that may open a page, in words (学籍管理员)."""
    return "或".join(r.label for r in Role if r is not Role.SYSTEM and action in PERMISSIONS[r])


st.title("上线清单")
st.caption(
    f"统计日期 {today():%Y年%m月%d日}。从空数据库到开学,一般按顺序:区划与学校 → 学期 → 节假日 → 账号 → 学籍导入 → 班主任。"
    f"{MARKS[LineState.MISSING]} 为开始使用前必须完成的项,{MARKS[LineState.WARNING]} 为可以开始、但需要留意的项,"
    f"{MARKS[LineState.DONE]} 为已完成。"
)
if actor.role is Role.ADMIN:  # the administrator lands here: their own work first (requests waiting too)
    show_my_work(actor)
st.progress(found.done / len(found.lines), text=found.summary)
if found.complete:
    st.success(
        "必需的各项都已完成,可以开始使用。"
        + (f"仍有需要留意的项,见下方 {MARKS[LineState.WARNING]}。" if found.done < len(found.lines) else "")
    )

for line in found.lines:
    with st.container(border=True):
        st.markdown(f"{MARKS[line.state]} **{line.label}** · {md(line.figure)}")
        if line.missing:
            st.caption(md(line.missing))
        link = next((openable[path] for path in line.pages if path in openable), None)
        if link is not None:
            st.page_link(link.path, label=f"去“{link.title}”", icon=link.icon)
        if line.how:
            st.caption(md(line.how))
        elif link is None and line.pages and line.state is not LineState.DONE:
            page = every_page[line.pages[0]]
            st.caption(f"由{who_may(page.action)}在“{page.title}”页办理")
