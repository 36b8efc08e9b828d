"""排查审核 (township official): a submitted village's numbers and lists, approved or returned with a reason;
reconciliation run again on demand."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.sweeps import Finding, FoundStatus, VillageStatus, reconciled_text
from xueji.rules.text_limits import max_length
from xueji.services.sweeps import fieldwork, reconciliation
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.sweeps import sweep_picker, village_picker
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit

actor = require_actor(Action.SWEEP_REVIEW)
st.title("排查审核")
st.caption(
    "审核各村提交的排查结果:看户数覆盖、孩子状况和三比对名单,无误则审核通过,有遗漏则写明原因退回重排。"
)
sweep = sweep_picker(actor, key="review_sweep")
if sweep is None:
    st.stop()
only_submitted = st.toggle("只看待审核的村", value=True, key="review_only")
village = village_picker(
    actor,
    sweep,
    key="review_village",
    keep=lambda v: v.status is VillageStatus.SUBMITTED or not only_submitted,
)
if village is None:
    st.stop()
done = st.session_state.pop("review_done", None)
if done:
    st.success(done)

st.markdown(f"### {md(village.name)} · {village.status.label}")
st.markdown(md(f"排查组:{'、'.join(village.team) or '未安排'} · 政府线联系人:{village.contact or '未指定'}"))
cols = st.columns(4)
cols[0].metric("村户数", village.household_count if village.household_count is not None else "未填")
cols[1].metric("已走访户", village.visited)
cols[2].metric("覆盖率", "—" if village.rate is None else f"{village.rate:.0%}")
cols[3].metric("适龄儿童", village.children)
st.markdown(" · ".join(f"{s.label} **{village.by_status.get(s, 0)}**" for s in FoundStatus))
st.markdown(" · ".join(f"{f.label} **{village.by_finding.get(f, 0)}**" for f in Finding))

with session_scope() as session:
    lines = reconciliation.findings(
        session, actor=actor, sweep_id=sweep.id, sweep_village_id=village.sweep_village_id
    )
    households = fieldwork.village_households(session, actor=actor, sweep_village_id=village.sweep_village_id)
st.subheader("三比对名单")
if lines:
    show_table(reconciliation.findings_frame(lines), hide_index=True, width="stretch")
else:
    st.caption("没有需要处理的孩子(或尚未比对)。")
with st.expander(f"已登记的 {len(households)} 户"):
    show_table(fieldwork.households_frame(households), hide_index=True, width="stretch")

if st.button("重新比对(学籍有变化后)", key="review_reconcile"):
    with shown_as_error(), session_scope() as session:
        counts = reconciliation.run_reconciliation(
            session, actor=actor, sweep_village_id=village.sweep_village_id
        )
        st.session_state["review_done"] = f"已重新比对:{reconciled_text(counts)}"
        st.rerun()

if village.status is VillageStatus.SUBMITTED:
    approve, send_back = st.columns(2)
    with approve, st.form(f"approve_village_{village.sweep_village_id}"):
        st.markdown("**审核通过**")
        if confirmed_submit("审核通过", confirm="已核对本村覆盖情况和名单", primary=True):
            with shown_as_error(), session_scope() as session:
                fieldwork.review_village(
                    session, actor=actor, sweep_village_id=village.sweep_village_id, approve=True
                )
                st.session_state["review_done"] = f"{md(village.name)}排查已审核通过。"
                st.rerun()
    with send_back, st.form(f"return_village_{village.sweep_village_id}"):
        st.markdown("**退回重排**")
        reason = st.text_area(
            "退回原因(排查组会看到)",
            placeholder="如:三组、五组未走访;李家两个孩子未填出生日期",
            max_chars=max_length("sweep_village.return_reason"),
        )
        if st.form_submit_button("退回"):
            with shown_as_error(), session_scope() as session:
                fieldwork.review_village(
                    session,
                    actor=actor,
                    sweep_village_id=village.sweep_village_id,
                    approve=False,
                    reason=reason,
                )
                st.session_state["review_done"] = f"{md(village.name)}排查已退回。"
                st.rerun()
