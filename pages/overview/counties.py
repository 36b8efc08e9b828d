"""各县区对比: a city's or province's officer compares their counties on the figures refreshed every few minutes
(services.overview.summaries), sees how fresh they are, exports the table, and opens one county's 概况."""

import pandas as pd
import streamlit as st

from xueji import charts
from xueji.auth import Action
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.rules.retention import percent
from xueji.rules.vocab import ScopeKind
from xueji.services.common.exports import export_tables
from xueji.services.overview import summaries
from xueji.ui.display import frame, number
from xueji.ui.session import reading, require_actor
from xueji.ui.supervision import address, pick_county
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button

OPENING = (
    "counties_opening"  # session state: a county was picked here; open its 概况 once the actor is narrowed
)
SORTS = [
    "县区代码",
    summaries.RATE,
    "在办个案",
    "劝返逾期",
    "家访逾期",
    "流生",
    "新生注册逾期",
    "人籍一致未完成",
    "送教未达标",
    "月报逾期未报送",
]

actor = require_actor(Action.SUPERVISE_READ)
definitions = [  # what each column means and how fresh it is: under the table and in the exported file
    *(f"{f.label}:{f.meaning}" for f in summaries.FIGURES),
    f"{summaries.RATE}:本学年各年级合计,(年初在籍 − 转出 − 死亡 − 辍学未返) ÷ (年初在籍 − 转出 − 死亡)",
    f"{summaries.SWEEP_RATE}:排查完成村 ÷ 应排查村",
    "比率由各县区合计的分子、分母计算,不是各县区比率的平均",
    f"各县区的数字由服务器每 {get_settings().summary_minutes} 分钟从该县区自己的数据重新汇总一次"
    "(同一县区的各列是同一时刻的);最旧的一个县区的汇总时间即“数据截至”",
]
if (
    st.session_state.pop(OPENING, False) and actor.via is not None
):  # the run after the pick: the county's pages
    st.switch_page("pages/overview/home.py", query_params=address(actor))
if (
    actor.via is not None
):  # 各县区对比 from a county's menu: back to the whole city (the sidebar and menu say so)
    pick_county(None)
    st.rerun()
home = actor.at_home()
by_province = home.scope_kind is ScopeKind.PROVINCE
with reading() as session:
    result = summaries.city_figures(session, actor=actor)
st.title("各县区对比")
line, stale = summaries.freshness(result, minutes=get_settings().summary_minutes, at=now())
none_yet = result.oldest is None  # no county refreshed yet: the warning below says what to run
if not none_yet:
    st.caption(f"{line} · 比率由各县区合计的分子、分母计算,不是各县区比率的平均")
if stale and not none_yet:
    st.warning("汇总已超过 3 个更新周期没有完成:请系统管理员检查服务器上的定时任务 xueji-summaries.timer。")
if not result.counties:
    st.info("您的管辖范围内还没有县区。")
    st.stop()
if result.not_refreshed:
    waiting = "、".join(c.name for c in result.not_refreshed)
    st.warning(
        f"尚未汇总:{md(waiting)}。"
        + ("各县区的数字还没有汇总过" if none_yet else "这些县区的数字暂不计入合计")
        + f",请系统管理员在服务器上运行 `{summaries.refresh_command()}`(或启用定时任务 xueji-summaries.timer)。"
        "各县区的概况、台账和报表不受影响,可在下面打开。"
    )

whole = result.total
m = st.columns(4)
m[0].metric("县区", len(result.counties))
m[1].metric("在读学生", "—" if none_yet else f"{whole.values['enrolled']:,}")
m[2].metric(summaries.RATE, number(percent(whole.rate), places=2))
m[3].metric(
    "在办个案", "—" if none_yet else f"{whole.values['open_cases']:,}", help="其中劝返逾期、家访逾期见下表"
)

table = summaries.figures_frame(result, with_city=by_province)
if none_yet:  # a 合计 of nothing is not 0
    table = table.iloc[:-1]
counties = table.iloc[:-1] if not none_yet else table
search = st.text_input(
    "搜索县区", key="counties_search", placeholder="县区名称" + ("或市名" if by_province else "")
)
city = "全部"
if by_province:
    city = st.selectbox(
        "所属市",
        ["全部", *sorted({c.city for c in result.counties if c.city})],
        key="counties_city",
        placeholder="选择市",
    )
    if city != "全部":
        counties = counties[counties["所属市"] == city]
words = search.split()
if words:
    haystack = counties["县区"] + (counties["所属市"] if by_province else "")
    counties = counties[[all(w in h for w in words) for h in haystack]]
order = st.selectbox("排序", SORTS, key="counties_order", placeholder="选择排序")
if order != SORTS[0]:  # the worst first: the lowest rate, the most cases and overdue work
    counties = counties.sort_values(
        order, ascending=order == summaries.RATE, kind="stable", na_position="last"
    )
filtered = bool(words) or city != "全部"
shown = counties if filtered or none_yet else pd.concat([counties, table.iloc[-1:]])
show_table(
    frame(shown),
    hide_index=True,
    width="stretch",
    key="counties_table",
    column_config={"县区": st.column_config.TextColumn(pinned=True)},
    empty="没有符合搜索的县区。",
)
# by name (a province's counties with their city: two cities may each have a 城关区)
picks = {
    (f"{r['所属市']} › " if by_province else "") + str(r["县区"]): int(i) for i, r in counties.iterrows()
}
cols = st.columns([3, 1], vertical_alignment="bottom")
pick = cols[0].selectbox(
    "查看一个县区的概况(只读)", list(picks), index=None, key="counties_open", placeholder="选择县区"
)
if cols[1].button("打开概况", type="primary", key="open_county", disabled=pick is None):
    pick_county(picks[str(pick)])  # the next run narrows the actor to it (ui.session) and opens its 概况
    st.session_state[OPENING] = True
    st.rerun()

export_button(
    "导出各县区对比 (xlsx)",
    key="export_counties",
    file_name=f"各县区对比_{today():%Y%m%d}.xlsx",
    build=lambda session: export_tables(  # the file says how fresh its figures are and what they mean
        session,
        actor=home,
        action=Action.SUPERVISE_READ,
        sheets={"各县区对比": table, "说明": pd.DataFrame({"说明": [line, *definitions]})},
        title="各县区对比",
        detail=line,
    ),
)

drawn = counties[counties["在读学生"].notna()]
if len(drawn):
    left, right = st.columns(2)
    left.plotly_chart(charts.retention_by_county(drawn), width="stretch", key="county_rates")
    right.plotly_chart(charts.open_work_by_county(drawn), width="stretch", key="county_work")

with st.expander("口径:各列的含义和更新时间"):
    st.markdown("\n".join(f"- {md(text)}" for text in definitions))
