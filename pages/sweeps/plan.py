"""排查计划 (township official): the township's sweep for this term, then each village's household count, team
(teacher accounts of the township's schools) and government-line contact."""

from datetime import timedelta

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.text_limits import form_limit
from xueji.services.common.calendar import term_on
from xueji.services.sweeps import fieldwork
from xueji.services.sweeps.fieldwork import VillagePlan
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.sweeps import sweep_picker, village_picker
from xueji.ui.text import md

actor = require_actor(Action.SWEEP_PLAN)
st.title("排查计划")
st.caption(
    "每学期开学后,乡镇制定本乡镇的拉网式排查计划:分村、每村安排排查组(教师)和政府线联系人,填写村户数。"
)

with session_scope() as session:
    term = term_on(session, today())
if term is not None:
    with st.expander(f"制定{term.name}排查计划", expanded=False), st.form("plan_sweep"):
        due = st.date_input(
            "各村完成期限",
            value=term.start + timedelta(days=get_settings().sweep_days),
            min_value=term.start,
            max_value=term.end,
            format="YYYY-MM-DD",
        )
        if st.form_submit_button("制定排查计划(本乡镇每个村一份)", type="primary"):
            with shown_as_error(), session_scope() as session:
                fieldwork.plan_sweep(session, actor=actor, term=term, due_date=due)
                st.success("已制定排查计划,请为每个村安排排查组和联系人。")

sweep = sweep_picker(actor, key="plan_sweep_pick")
if sweep is None:
    st.stop()
village = village_picker(actor, sweep, key="plan_village")
if village is None:
    st.stop()
with session_scope() as session:
    teachers = dict(fieldwork.team_choices(session, sweep.township_id))
    officials = dict(fieldwork.contact_choices(session, sweep.township_id))
    current_team = fieldwork.team_of(session, village.sweep_village_id)
    contact = fieldwork.contact_of(session, village.sweep_village_id)

st.markdown(
    f"**{md(village.name)}** · {village.status.label} · 排查组:{md('、'.join(village.team) or '未安排')}"
)
# Outside the form: a choice inside a form takes effect only on submit, so the fields of the other kind of
# contact would show until then. Each kind shows only its own fields.
official_kind = (
    st.radio(
        "政府线联系人",
        ["乡镇干部账号", "村干部(无账号)"],
        horizontal=True,
        index=0 if contact[0] or not contact[1] else 1,
        key=f"plan_contact_kind_{village.sweep_village_id}",
    )
    == "乡镇干部账号"
)
with st.form(f"village_plan_{village.sweep_village_id}"):
    count = st.number_input(
        "村户数(户籍户数,覆盖率的分母;不清楚可留 0)", min_value=0, value=village.household_count or 0, step=1
    )
    team = st.multiselect(
        "排查组(本乡镇学校的教师账号)",
        list(teachers),
        default=[t for t in current_team if t in teachers],
        format_func=teachers.__getitem__,
        placeholder="请选择(可多选)",
    )
    official: int | None = None
    name = phone = ""
    if official_kind:
        official = st.selectbox(
            "乡镇干部",
            list(officials),
            format_func=officials.__getitem__,
            index=None if contact[0] not in officials else list(officials).index(contact[0]),
            placeholder="请选择",
        )
    else:
        name = st.text_input(
            "村干部姓名", value=contact[1], max_chars=form_limit("sweep_village.contact_name", contact[1])
        )
        phone = st.text_input(
            "村干部电话", value=contact[2], max_chars=form_limit("sweep_village.contact_phone", contact[2])
        )
    if st.form_submit_button("保存本村计划", type="primary"):
        plan = VillagePlan(
            household_count=int(count) or None,
            team_user_ids=team,
            contact_user_id=official,
            contact_name=name,
            contact_phone=phone,
        )
        with shown_as_error(), session_scope() as session:
            fieldwork.set_village_plan(
                session, actor=actor, sweep_village_id=village.sweep_village_id, plan=plan
            )
            st.success("已保存。")
