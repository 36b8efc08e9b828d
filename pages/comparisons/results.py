"""三比对结果 (county officer, township official): the lists in effect and the last run (重新比对 for the county),
then the three comparisons — counts per township or village, the children of each result, search, export."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.comparisons import Outcome
from xueji.rules.vocab import ScopeKind
from xueji.services.comparisons import compare, views
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.display import clock, day, frame, is_empty, text
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button, page_offset, pager

PAGE_SIZE = 50
ADVICE = {
    Outcome.NOT_ENROLLED: "户籍在本县、适龄、在本县学籍中查无此人:已生成核实任务,乡镇须在期限内查明去向"
    "(外县就读、送教上门、迁出、死亡或失学),失学的自动建疑似辍学个案。",
    Outcome.SEPARATED: "户籍在本乡镇,在本县其他乡镇学校就读(人户分离):仅供知悉,无须处理。",
    Outcome.MIGRANT: "在本县学籍中、身份证号不在户籍名单上(随迁子女等):仅供知悉;如确系本地户籍,请公安核对名单。",
    Outcome.PENDING_REVIEW: "名单与学籍姓名、出生日期相近但身份证号不同:请在“疑似同一人审核”中确认或否定。",
}
ABSENT = "学籍在读但人不在校(名在人不在):学校核实后办理转学、休学或劝返,不得空挂学籍。"
PRIORITY = "疑似辍学或辍学、且家庭在乡村振兴脱贫户/监测户名单上:列为重点,优先家访劝返并联系帮扶责任人。"
SAVED = "results_saved"
# columns left out of a list where no child of the page has them (学校 for children with no registry record, 核实
# before any task): a column of — only widens the table
WHEN_FILLED = ("学校", "重点", "特殊群体", "核实", "核实期限")
NAME_PINNED = {"姓名": st.column_config.TextColumn(pinned=True)}  # kept in view when a phone scrolls sideways


def shown(rows: pd.DataFrame, *, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """The list as the page shows it: without the columns the view makes redundant and the empty ones."""
    empty = [c for c in WHEN_FILLED if c in rows and not rows[c].map(lambda v: not is_empty(v)).any()]
    return frame(rows.drop(columns=[*drop, *empty], errors="ignore"))


actor = require_actor(Action.COMPARE_READ)
st.title("三比对结果")
show_saved(SAVED)
with session_scope() as session:
    now = views.state(session, actor=actor)
low, high = now.ages
st.caption(
    f"适龄:{day(now.reference, long=True)}(当学年基准日)满 {low} 周岁至未满 {high + 1} 周岁"
    "(年龄范围由系统管理员按本地规定设置)。"
)
if now.lists:
    st.markdown(
        "在用名单:"
        + ";".join(
            f"{item.kind.short} 第{item.version}版({day(item.list_date, long=True)},{item.rows} 人)"
            for item in now.lists
        )
    )
ran = f"上次比对:{clock(now.ran_at)},{md(text(now.ran_by))}" if now.ran_at else "尚未运行比对。"
left, right = st.columns([3, 1], vertical_alignment="center")
left.caption(ran)
if actor.can(Action.LISTS_IMPORT) and right.button("重新比对", type="primary"):
    with shown_as_error(), session_scope() as session:
        counts = compare.run_comparison(session, actor=actor)
        remember_saved(
            SAVED,
            f"比对完成:适龄儿童 {counts.get('children', 0)} 人,其中适龄未入学/待核实 "
            f"{counts.get('not_enrolled', 0)} 人,疑似同一人待审核 {counts.get('pending_review', 0)} 人。",
        )
        st.rerun()

which = st.segmented_control(
    "比对",
    ["户籍与学籍", "学籍与在校", "辍学与脱贫户/监测户"],
    default="户籍与学籍",
    key="results_which",
)
if which is None:
    st.stop()

if which == "学籍与在校":  # by school, across the actor's schools: no township choice
    search = st.text_input("搜索", placeholder="姓名或身份证号后 4 位", key="results_search")
    st.info(ABSENT)
    with shown_as_error(), session_scope() as session:
        table = views.absent(session, actor=actor, search=search)
    st.markdown(f"共 **{len(table)}** 人")
    show_table(frame(table), hide_index=True, width="stretch", column_config=NAME_PINNED)
    export_button(
        "导出名在人不在名单 (xlsx)",
        key=f"export_absent_{search}",
        file_name="学籍与在校比对.xlsx",
        build=lambda session: views.export_absent(session, actor=actor, search=search),
    )
    st.stop()

township = None
if actor.scope_kind is ScopeKind.COUNTY:
    with session_scope() as session:
        choices = views.townships(session, actor=actor)
    township = st.selectbox(
        "乡镇",
        [None, *choices],
        format_func=lambda t: "全县(按乡镇)" if t is None else t[1],
        key="results_township",
        placeholder="请选择",
    )
township_id = township[0] if township else None
search = st.text_input("搜索", placeholder="姓名或身份证号后 4 位", key="results_search")

if not now.has_register:
    st.warning(
        "尚未导入户籍适龄儿童名单:没有可与学籍比对的名单。请县教育局在“部门名单导入”中导入公安提供的名单。"
    )
    if which == "户籍与学籍":
        st.stop()

if which == "户籍与学籍":
    outcome = st.segmented_control(
        "结果",
        list(ADVICE),
        format_func=lambda o: views.OUTCOME_TITLES[o],
        default=Outcome.NOT_ENROLLED,
        key="results_outcome",
    )
    if outcome is None:
        st.stop()
    st.info(ADVICE[outcome])
    filters = views.LedgerFilter(township_id=township_id, outcome=outcome, search=search)
    title = views.OUTCOME_TITLES[outcome]
else:
    st.info(PRIORITY)
    filters = views.LedgerFilter(township_id=township_id, out_of_school=True, priority=True, search=search)
    title = "辍学与脱贫户监测户比对"

with shown_as_error(), session_scope() as session:
    counts = views.place_counts(session, actor=actor, township_id=township_id)
with st.expander("按乡镇/村统计", expanded=False):
    show_table(frame(counts), hide_index=True, width="stretch")

offset = page_offset("results_page", page_size=PAGE_SIZE, reset_when=filters)
with shown_as_error(), session_scope() as session:
    rows, total = views.ledger(session, actor=actor, filters=filters, offset=offset, limit=PAGE_SIZE)
st.markdown(f"共 **{total}** 人")
show_table(
    shown(rows, drop=("比对结果",) if which == "户籍与学籍" else ()),  # there, the result chosen above
    hide_index=True,
    width="stretch",
    empty="没有符合条件的儿童。",
    column_config=NAME_PINNED,
)
pager(total, key="results_page", page_size=PAGE_SIZE)
export_button(
    f"导出{title}名单 (xlsx)",
    key=f"export_results_{hash(filters)}",
    file_name=f"{title}.xlsx",
    build=lambda session: views.export_ledger(session, actor=actor, filters=filters, title=title),
)
