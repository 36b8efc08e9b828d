"""劝返复学 (every role that reads cases): the out-of-school cases on the return ladder — the steps waiting for this
user, all steps in progress, or those past their deadline — searched, filtered by step, paged and exported; a case
chosen (here or by ?case=) shows its ladder and the forms this user may use on it (xueji.ui.ladder)."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.rules.ladder import Step
from xueji.services.cases import ladder
from xueji.services.cases.ladder import LadderRow
from xueji.ui.confirm import show_saved
from xueji.ui.ladder import COLUMNS, SAVED, case_label, ladder_frame, ladder_section, styled
from xueji.ui.session import reading, require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button, page_offset, pager

PAGE_SIZE = 30
VIEWS = {"mine": "待我处理", "all": "全部在办", "overdue": "已逾期"}
STEPS = [s for s in Step if s is not Step.RETURNED]  # 已复学 is a record, never a step waiting for work
# The case opened below, as (id, heading, place): it stays open after a save changes its row or moves it off the list.
SHOWN = "ladder_shown"


def heading(row: LadderRow) -> tuple[int, str, str]:
    place = " · ".join(x for x in (row.school, row.township, row.village) if x)
    return row.case_id, f"{row.child}({row.category})", place


def forget_shown() -> None:
    """Another case, view, step or search chosen: the case opened below is no longer the one wanted."""
    st.session_state.pop(SHOWN, None)


actor = require_actor(Action.CASE_READ)
policy = get_settings().ladder
st.title("劝返复学")
show_saved(SAVED)  # first: after a step moves on, the case may have left this list
st.caption(
    f"学校和家庭劝返(至少 {policy.attempts} 次)→ 乡镇书面限期通知 → 县级行政措施 → 复学 → 返校跟踪 → 销号审批。"
    f"每步都有期限({policy.day_kind.label}),逾期自动升级到下一责任方。"
)

# a city's or province's officer looking at a county has no steps of their own: overdue ones first
views = ["overdue", "all"] if actor.via is not None else list(VIEWS)
view = st.segmented_control(
    "范围", views, format_func=VIEWS.__getitem__, default=views[0], key="ladder_view", on_change=forget_shown
)
view = view or views[0]
left, right = st.columns([1, 2])
step = left.selectbox(
    "步骤",
    [None, *STEPS],
    format_func=lambda s: "全部步骤" if s is None else s.label,
    key="ladder_step",
    placeholder="全部步骤",
    on_change=forget_shown,
)
search = right.text_input("搜索", placeholder="儿童姓名", key="ladder_search", on_change=forget_shown)
given = {"step": step, "overdue_only": view == "overdue", "mine_only": view == "mine", "search": search}

offset = page_offset("ladder_page", page_size=PAGE_SIZE, reset_when=(view, step, search))
with reading() as session:
    rows, total = ladder.ladder_rows(session, actor=actor, offset=offset, limit=PAGE_SIZE, **given)
words = " ".join(search.split())
st.markdown(f"{VIEWS[view]}:共 **{total}** 件" + (f"(搜索“{md(words)}”)" if words else ""))
empty = {
    "mine": "目前没有等您处理的劝返步骤。",
    "all": "没有在办的劝返步骤。",
    "overdue": "没有逾期的劝返步骤。",
}
frame = ladder_frame(rows)
show_table(styled(frame) if rows else frame, empty=empty[view], hide_index=True, width="stretch",
           column_config=COLUMNS, key="ladder_table")  # fmt: skip
if total > PAGE_SIZE:
    pager(total, key="ladder_page", page_size=PAGE_SIZE)
if rows:
    export_button(
        f"导出{VIEWS[view]}名单 (xlsx)",
        key=f"export_ladder_{view}_{step}",
        file_name=f"劝返复学_{VIEWS[view]}_{today():%Y%m%d}.xlsx",
        build=lambda session: ladder.export_ladder(session, actor=actor, **given),
    )

asked = st.query_params.get("case")
shown = st.session_state.get(SHOWN)
chosen = st.selectbox(
    "查看个案的劝返步骤",
    rows,
    index=next((i for i, r in enumerate(rows) if shown and r.case_id == shown[0]), None),
    format_func=case_label,
    key="ladder_case",
    placeholder="请选择本页的个案",
    on_change=forget_shown,
)
if chosen:
    shown = st.session_state[SHOWN] = heading(chosen)
elif shown is None and asked and asked.isdigit():  # ?case=: named when it is on this page
    shown = next((heading(r) for r in rows if r.case_id == int(asked)), None)
case_id = shown[0] if shown else (int(asked) if asked and asked.isdigit() else None)
if case_id is None:
    st.stop()
st.divider()
if shown:
    st.subheader(md(shown[1]))
    st.caption(md(shown[2]))
ladder_section(actor, case_id, key="ladder")
