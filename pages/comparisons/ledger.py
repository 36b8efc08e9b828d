"""适龄儿童台账 (county officer, township official): one row per school-age child known from any source, with
where they stand, where they came from, priority and special groups; filters, search, paging, counts, export."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.comparisons import SOURCE_LABELS, Standing
from xueji.rules.vocab import ScopeKind
from xueji.services.comparisons import views
from xueji.ui.display import clock, day, frame
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button, page_offset, pager

PAGE_SIZE = 50
PRIORITY = {None: "不限", True: "脱贫户/监测户", False: "非重点"}

actor = require_actor(Action.COMPARE_READ)
st.title("适龄儿童台账")
with session_scope() as session:
    now = views.state(session, actor=actor)
    head = views.headline(session, actor=actor)
    townships = views.townships(session, actor=actor)
st.caption(
    f"义务教育适龄儿童(按 {day(now.reference, long=True)} 计龄)的全部来源:户籍、学籍、入户排查、民政、残联、乡村振兴名单,"
    "每人一行。"
    + (
        f"台账于 {clock(now.ran_at)} 比对生成。"
        if now.ran_at
        else "尚未运行比对:请县教育局在“三比对结果”中运行。"
    )
)
a, b, c, d = st.columns(4)
a.metric(
    "适龄儿童", head.children, help="台账上的全部儿童:任一来源(户籍、学籍、排查、部门名单)有记录的适龄儿童"
)
b.metric(
    "待核实",
    head.to_verify,
    help="现状为“待核实”的儿童:户籍在本地而查无学籍(乡镇核实中,见“适龄儿童核实”)、疑似同一人待审核,"
    "以及入户排查登记而无学籍、去向尚未查明的。因此多于“适龄儿童核实”中的待核实人数。",
)
c.metric("疑似辍学/辍学", head.out_of_school, help="现状为疑似辍学或辍学的儿童(控辍保学个案)")
d.metric(
    "其中脱贫户/监测户",
    head.priority_out,
    help="疑似辍学/辍学的儿童中,家庭在乡村振兴脱贫户/监测户名单上的(重点)",
)

left, middle, right = st.columns(3)
if actor.scope_kind is ScopeKind.COUNTY:
    township = left.selectbox(
        "乡镇",
        [None, *townships],
        format_func=lambda t: "全部乡镇" if t is None else t[1],
        key="ledger_township",
        placeholder="请选择",
    )
else:
    township = townships[0] if townships else None
village = None
if township is not None:
    with session_scope() as session:
        places = views.villages(session, actor=actor, township_id=township[0])
    village = middle.selectbox(
        "村/社区",
        [None, *places],
        format_func=lambda v: "全部村" if v is None else v[1],
        key="ledger_village",
        placeholder="请选择",
    )
standing = right.selectbox(
    "现状",
    [None, *Standing],
    format_func=lambda s: "全部" if s is None else s.label,
    key="ledger_standing",
    placeholder="请选择",
)
left, middle, right = st.columns(3)
source = left.selectbox(
    "来源",
    [None, *SOURCE_LABELS],
    format_func=lambda s: "全部来源" if s is None else SOURCE_LABELS[s],
    key="ledger_source",
    placeholder="请选择",
)
priority = middle.selectbox(
    "重点", list(PRIORITY), format_func=PRIORITY.__getitem__, key="ledger_priority", placeholder="请选择"
)
search = right.text_input("搜索", placeholder="姓名或身份证号后 4 位", key="ledger_search")
filters = views.LedgerFilter(
    township_id=township[0] if township and actor.scope_kind is ScopeKind.COUNTY else None,
    village_id=village[0] if village else None,
    standing=standing,
    source=source,
    priority=priority,
    search=search,
)

offset = page_offset("ledger_page", page_size=PAGE_SIZE, reset_when=filters)
with shown_as_error(), session_scope() as session:
    rows, total = views.ledger(session, actor=actor, filters=filters, offset=offset, limit=PAGE_SIZE)
st.markdown(f"共 **{total}** 人")
show_table(
    frame(rows),
    hide_index=True,
    width="stretch",
    empty="没有符合条件的儿童。",
    column_config={"姓名": st.column_config.TextColumn(pinned=True)},  # in view when a phone scrolls sideways
)
pager(total, key="ledger_page", page_size=PAGE_SIZE)
export_button(
    f"导出台账({total} 人,xlsx,已脱敏)",
    key=f"export_ledger_{hash(filters)}",
    file_name="适龄儿童台账.xlsx",
    build=lambda session: views.export_ledger(session, actor=actor, filters=filters),
)

st.subheader("按乡镇/村统计")
with shown_as_error(), session_scope() as session:
    counts = views.place_counts(session, actor=actor, township_id=filters.township_id)
show_table(frame(counts), hide_index=True, width="stretch")
with session_scope() as session:
    groups = views.group_counts(session, actor=actor)
    nowhere = views.unplaced(session, actor=actor)
if not groups.empty:
    st.subheader("特殊群体(部门名单)")
    show_table(frame(groups), hide_index=True, width="stretch")
if not nowhere.empty:
    st.subheader(f"未能定位({len(nowhere)} 人)")
    st.caption("民政、残联名单上的儿童,本县学籍和户籍名单中都找不到:请与名单来源部门核对身份证号和住址。")
    show_table(frame(nowhere), hide_index=True, width="stretch")
