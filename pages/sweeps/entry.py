"""入户登记 (a team's teacher on a phone, or the township): one household at a time with its school-age children,
saved, then straight on to the next; the households recorded so far; submitting the village when done."""

from datetime import date

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.registry_record import DISABILITY_TYPES
from xueji.rules.sweeps import ChildFacts, FoundStatus, HouseholdFacts, reconciled_text
from xueji.rules.text_limits import max_length
from xueji.services.sweeps import fieldwork
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.sweeps import sweep_picker, village_picker
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit

MAX_CHILDREN = 6

actor = require_actor(Action.SWEEP_RECORD)
st.title("入户登记")
st.caption(
    "每走访一户登记一次:户主、组、电话,以及家中每个6–15周岁孩子在哪里。保存后直接登记下一户;"
    "同一组同一户主再次登记会更新该户,不会重复。没有信号时可用“排查导入”下载本村纸质表。"
)
sweep = sweep_picker(actor, key="entry_sweep")
if sweep is None:
    st.stop()
village = village_picker(actor, sweep, key="entry_village", keep=lambda v: v.status.open_for_entry)
if village is None:
    st.caption("已提交的村不能再登记;如需修改,请乡镇在“排查审核”中退回。")
    st.stop()
if village.return_reason:
    st.warning(f"乡镇退回重排:{md(village.return_reason)}")
saved = st.session_state.pop("entry_saved", None)
if saved:
    st.success(saved)

with session_scope() as session:
    schools = {sid: name for sid, name, _ in fieldwork.county_schools(session, sweep.township_id)}
n = st.session_state.setdefault("entry_form_n", 0)  # a fresh form after each save; kept as typed on an error
kids = st.selectbox("本户6–15周岁孩子人数", range(MAX_CHILDREN + 1), index=1, key=f"entry_kids_{n}")
with st.form(f"household_{n}"):
    left, right = st.columns(2)
    group = left.text_input("组(村民小组)", key=f"group_{n}", max_chars=max_length("household.group_name"))
    head = right.text_input("户主姓名 *", key=f"head_{n}", max_chars=max_length("household.head_name"))
    phone = left.text_input("联系电话", key=f"phone_{n}", max_chars=max_length("household.phone"))
    visited = right.date_input("走访日期", value=today(), max_value=today(), key=f"visited_{n}")
    address = st.text_input("地址", key=f"address_{n}", max_chars=max_length("household.address"))
    note = st.text_input("户备注", key=f"note_{n}", max_chars=max_length("household.note"))
    children = []
    for i in range(int(kids)):
        st.markdown(f"**第{i + 1}个孩子**")
        a, b = st.columns(2)
        name = a.text_input("姓名 *", key=f"c{i}_name_{n}", max_chars=max_length("sweep_child.name"))
        number = b.text_input(
            "身份证号(有则填)", key=f"c{i}_id_{n}", max_chars=max_length("sweep_child.id_number")
        )
        sex = a.selectbox(
            "性别", ["男", "女"], index=None, key=f"c{i}_sex_{n}", placeholder="有身份证号可不选"
        )
        born = b.date_input(
            "出生日期(有身份证号可不填)",
            value=None,
            min_value=date(today().year - 17, 1, 1),
            max_value=today(),
            key=f"c{i}_born_{n}",
        )
        status = st.selectbox(
            "状况 *", list(FoundStatus), format_func=lambda s: s.label, key=f"c{i}_status_{n}"
        )
        school = a.selectbox(
            "本县就读学校(在本地学校就读时选)",
            list(schools),
            index=None,
            format_func=schools.__getitem__,
            key=f"c{i}_school_{n}",
        )
        place = b.text_input(
            "在外地就读的地点/户在人不在的去向",
            key=f"c{i}_place_{n}",
            max_chars=max_length("sweep_child.place"),
        )
        disability = a.selectbox("残疾类型(残疾在家时选)", DISABILITY_TYPES, index=None, key=f"c{i}_dis_{n}")
        child_note = b.text_input("备注", key=f"c{i}_note_{n}", max_chars=max_length("sweep_child.note"))
        children.append(
            ChildFacts(
                name=name,
                status=status,
                birth_date=born,
                id_number=number,
                sex=sex,
                school_id=school,
                place=place,
                disability_type=disability or "",
                note=child_note,
            )
        )
    if st.form_submit_button("保存本户,登记下一户", type="primary", width="stretch"):
        household = HouseholdFacts(
            head_name=head,
            group_name=group,
            address=address,
            phone=phone,
            school_age_count=int(kids),
            note=note,
            visited_on=visited,
        )
        with shown_as_error(), session_scope() as session:
            fieldwork.record_household(
                session,
                actor=actor,
                sweep_village_id=village.sweep_village_id,
                household=household,
                children=children,
            )
            st.session_state["entry_saved"] = (
                f"已保存:{md(group)}{md(head)}户,适龄儿童 {len(children)} 人。请登记下一户。"
            )
            st.session_state["entry_form_n"] = n + 1
            st.rerun()

with session_scope() as session:
    households = fieldwork.village_households(session, actor=actor, sweep_village_id=village.sweep_village_id)
st.subheader(f"本村已登记 {len(households)} 户")
for h in households[:30]:
    st.markdown(
        f"- {h.visited_on:%m-%d} **{md(h.group_name)}{md(h.head_name)}** {md(h.phone)}:"
        + md(h.children_text or "无适龄儿童")
    )
if len(households) > 30:
    st.caption("只列出最近 30 户;全部见“排查进度”导出的排查汇总表。")

with st.form("submit_village"):
    st.markdown("本村走访完毕后提交,提交后乡镇审核;系统随即与学籍三比对,未在校的孩子自动建立疑似辍学个案。")
    if confirmed_submit("提交本村排查结果", confirm="本村已逐户走访完毕,确认提交"):
        with shown_as_error(), session_scope() as session:
            counts = fieldwork.submit_village(session, actor=actor, sweep_village_id=village.sweep_village_id)
            st.session_state["entry_saved"] = (
                f"已提交{md(village.name)}排查结果。三比对:{reconciled_text(counts)}"
            )
            st.rerun()
