"""疑似同一人审核 (county officer, township official): a listed child and a registry record that may be the same child
although no record has the child's ID number, side by side with what differs; 是同一人 / 不是同一人 with a note,
remembered across the list's versions. The decided ones below; the county officer can undo one."""

import pandas as pd
import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.vocab import Role
from xueji.services.comparisons import match_review, matching
from xueji.services.comparisons.match_review import QueueItem, Side
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.display import frame, text
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit

SAVED = "match_review_saved"
PAGE = 20

actor = require_actor(Action.MATCH_REVIEW)
st.title("疑似同一人审核")
show_saved(SAVED)
st.caption(
    "名单上的儿童在学籍中找不到相同身份证号,但有姓名相同或同音、出生日期相同,或身份证号只差一位的学籍记录。"
    "系统从不自动认定:请核对后判定。判定会被记住,名单更新后不再重复询问。"
)
search = st.text_input("搜索", key="review_search", placeholder="名单或学籍上的姓名")
with session_scope() as session:
    total = matching.pending_count(session, actor=actor)
    queue = match_review.review_queue(session, actor=actor, limit=PAGE, search=search)
st.markdown(
    f"待审核 **{total}** 对" + (f",显示前 {len(queue)} 对(最早的名单在前)" if total > len(queue) else "")
)


def side_lines(title: str, side: Side) -> str:
    lines = [
        f"**{title}**",
        f"{md(side.name)} · {text(side.sex)} · {text(side.birth_date)}",
        f"身份证号:{md(text(side.id_number))}",
        f"村:{md(text(side.village))}",
        md(side.where),
    ]
    if side.status:
        lines.append(md(side.status))
    return "  \n".join(lines)


def card(item: QueueItem) -> None:
    with st.container(border=True, key=f"pair_{item.candidate_id}"):
        left, right = st.columns(2)
        left.markdown(side_lines("名单", item.listed))
        right.markdown(side_lines("学籍", item.registered))
        if item.differences:
            st.warning("  \n".join(md(d) for d in item.differences), icon=":material/compare_arrows:")
        st.caption(f"依据:{md(item.reason)}(相似度 {round(item.score * 100)}%)")
        if len(item.lists) > 1:
            st.caption("同时在:" + "、".join(md(x) for x in item.lists))
        with st.form(f"decide_{item.candidate_id}", border=False):
            note = st.text_input(
                "核实依据 / 说明",
                max_chars=match_review.NOTE_MAX,
                placeholder="确认为同一人时必填,如:已核对户口簿、已电话联系监护人",
            )
            ticked = st.checkbox("我已核对双方信息")
            yes, no = st.columns(2)
            same = yes.form_submit_button("是同一人", type="primary", width="stretch")
            other = no.form_submit_button("不是同一人", width="stretch")
        if (same or other) and not ticked:
            st.error("请先勾选“我已核对双方信息”")
        elif same or other:
            with shown_as_error(), session_scope() as session:
                match_review.decide(
                    session, actor=actor, candidate_id=item.candidate_id, confirmed=bool(same), note=note
                )
                said = "是同一人" if same else "不是同一人"
                remember_saved(
                    SAVED, f"已判定:{md(item.listed.name)} 与学籍记录 {md(item.registered.name)} {said}"
                )
                st.rerun()


if not queue:
    st.success("没有待审核的疑似同一人。" if not search.strip() else "没有符合搜索的待审核记录。")
for item in queue:
    card(item)

st.subheader("已判定")
with session_scope() as session:
    done = match_review.decisions(session, actor=actor)
table = frame(
    pd.DataFrame(
        [
            {
                "名单姓名": d.listed,
                "学籍记录": d.registered,
                "判定": "是同一人" if d.confirmed else "不是同一人",
                "说明": d.note,
                "判定人": d.decided_by,
                "判定时间": d.decided_at,
            }
            for d in done
        ],
        columns=["名单姓名", "学籍记录", "判定", "说明", "判定人", "判定时间"],
    )
)
show_table(table, hide_index=True, width="stretch", empty="还没有判定。")
if done and actor.role is Role.COUNTY_OFFICER:
    with st.expander("撤销判定(仅县教育局)"):
        with st.form("undo_decision"):
            chosen = st.selectbox(
                "判定",
                done,
                format_func=lambda d: f"{d.listed} / {d.registered}:{'是' if d.confirmed else '不是'}同一人",
                placeholder="请选择",
            )
            reason = st.text_input("撤销原因", max_chars=match_review.NOTE_MAX)
            if confirmed_submit("撤销", confirm="确认撤销该判定(该对将回到待审核)") and chosen is not None:
                with shown_as_error(), session_scope() as session:
                    match_review.undo_decision(
                        session, actor=actor, decision_id=chosen.decision_id, reason=reason
                    )
                    remember_saved(SAVED, f"已撤销判定:{md(chosen.listed)} / {md(chosen.registered)}")
                    st.rerun()
