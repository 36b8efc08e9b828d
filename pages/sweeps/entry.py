"""入户登记 (a team's teacher on a phone, or the township): one household at a time with its school-age children,
saved, then straight on to the next; the households recorded so far; submitting the village when done. The form
is drawn outside st.form so each change reaches the server and is kept as a draft."""

from datetime import date

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.registry_record import DISABILITY_TYPES
from xueji.rules.sweeps import ChildFacts, FoundStatus, HouseholdFacts, reconciled_text
from xueji.rules.text_limits import max_length
from xueji.services.sweeps import fieldwork, progress
from xueji.ui import drafts
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.display import day
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.sweeps import sweep_picker, village_picker
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit

MAX_CHILDREN = 6
DRAFT = "household"
SAVED = "entry_saved"
HOUSEHOLD = {"group": "", "head": "", "phone": "", "visited": None, "address": "", "note": ""}
CHILD = {
    "name": "",
    "id": "",
    "sex": None,
    "born": None,
    "status": FoundStatus.LOCAL_SCHOOL,
    "school": None,
    "place": "",
    "dis": None,
    "note": "",
}

actor = require_actor(Action.SWEEP_RECORD)
st.title("入户登记")
show_saved(SAVED)  # first on the page: where a phone's screen is after the save's rerun
st.caption(
    "每走访一户登记一次:户主、组、电话,以及家中每个6–15周岁孩子在哪里。保存后直接登记下一户;"
    "同一组同一户主再次登记会更新该户,不会重复。没有信号时可用“排查导入”下载本村纸质表。"
)


def generic(n: int) -> dict[str, str]:
    """The form's keys of household n by their names in a draft (the draft outlives n)."""
    names = {f"{k}_{n}": k for k in HOUSEHOLD} | {f"entry_kids_{n}": "kids"}
    names |= {f"c{i}_{k}_{n}": f"c{i}_{k}" for i in range(MAX_CHILDREN) for k in CHILD}
    return names


def restore_pickers(values: dict) -> bool:
    """Point the sweep and village choices at the draft's, if the actor may still record there."""
    with session_scope() as session:
        sweeps = {r.id for r in fieldwork.sweeps(session, actor=actor)}
        if values.get("sweep_id") not in sweeps:
            return False
        villages = {
            v.sweep_village_id
            for v in progress.village_coverage(session, actor=actor, sweep_id=values["sweep_id"])
            if v.status.open_for_entry
        }
    if values.get("village_id") not in villages:
        return False
    st.session_state["entry_sweep"], st.session_state["entry_village"] = (
        values["sweep_id"],
        values["village_id"],
    )
    return True


restored = drafts.take_draft(actor, DRAFT) if drafts.first_run(DRAFT) else None
if restored and not restore_pickers(restored):
    restored = None
    drafts.forget_restored(DRAFT)
sweep = sweep_picker(actor, key="entry_sweep")
if sweep is None:
    st.stop()
village = village_picker(actor, sweep, key="entry_village", keep=lambda v: v.status.open_for_entry)
if village is None:
    st.caption("已提交的村不能再登记;如需修改,请乡镇在“排查审核”中退回。")
    st.stop()
if village.return_reason:
    st.warning(f"乡镇退回重排:{md(village.return_reason)}")

with session_scope() as session:
    schools = {sid: name for sid, name, _ in fieldwork.county_schools(session, sweep.township_id)}
n = st.session_state.setdefault("entry_form_n", 0)  # a fresh form after each save; kept as typed on an error
names = generic(n)
keys = {name: key for key, name in names.items()}
if restored:
    fields = restored.get("fields", {})
    for name, value in fields.items():
        if name in keys:
            kind = name.rsplit("_", 1)[-1] if name.startswith("c") else name
            decoded = FoundStatus(value) if kind == "status" and value else value
            st.session_state[keys[name]] = decoded
defaults = {f"{k}_{n}": v for k, v in HOUSEHOLD.items()} | {f"entry_kids_{n}": 1, f"visited_{n}": today()}
defaults |= {f"c{i}_{k}_{n}": v for i in range(MAX_CHILDREN) for k, v in CHILD.items()}
fresh = f"entry_kids_{n}" not in st.session_state and not restored  # a new household: nothing to keep yet
for key, value in defaults.items():
    st.session_state.setdefault(key, value)


def payload() -> dict:
    """The draft: where, and the fields shown (the household's and those of the children counted)."""
    shown = [f"entry_kids_{n}", *(f"{k}_{n}" for k in HOUSEHOLD)]
    shown += [f"c{i}_{k}_{n}" for i in range(int(st.session_state[f"entry_kids_{n}"])) for k in CHILD]
    fields = {names[k]: drafts.encode(st.session_state[k]) for k in shown}
    return {"sweep_id": sweep.id, "village_id": village.sweep_village_id, "fields": fields}


if fresh:
    drafts.start_clean(DRAFT, payload())

drafts.restored_notice(actor, DRAFT, clear=list(names))
kids = st.selectbox(
    "本户6–15周岁孩子人数", range(MAX_CHILDREN + 1), key=f"entry_kids_{n}", placeholder="请选择"
)
left, right = st.columns(2)
group = left.text_input("组(村民小组)", key=f"group_{n}", max_chars=max_length("household.group_name"))
head = right.text_input("户主姓名 *", key=f"head_{n}", max_chars=max_length("household.head_name"))
phone = left.text_input("联系电话", key=f"phone_{n}", max_chars=max_length("household.phone"))
visited = right.date_input(
    "走访日期 *", min_value=date(2000, 1, 1), key=f"visited_{n}", help="不能晚于今天", format="YYYY-MM-DD"
)
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
    sex = a.selectbox("性别", ["男", "女"], key=f"c{i}_sex_{n}", placeholder="有身份证号可不选")
    born = b.date_input(
        "出生日期(有身份证号可不填)",
        min_value=date(today().year - 17, 1, 1),
        max_value=today(),
        key=f"c{i}_born_{n}",
        format="YYYY-MM-DD",
    )
    status = st.selectbox(
        "状况 *",
        list(FoundStatus),
        format_func=lambda s: s.label,
        key=f"c{i}_status_{n}",
        placeholder="请选择",
    )
    school = a.selectbox(
        "本县就读学校(在本地学校就读时选)",
        list(schools),
        format_func=schools.__getitem__,
        key=f"c{i}_school_{n}",
        placeholder="请选择",
    )
    place = b.text_input(
        "在外地就读的地点/户在人不在的去向", key=f"c{i}_place_{n}", max_chars=max_length("sweep_child.place")
    )
    disability = a.selectbox(
        "残疾类型(残疾在家时选)", DISABILITY_TYPES, key=f"c{i}_dis_{n}", placeholder="请选择"
    )
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
drafts.keep(actor, DRAFT, payload())
if st.button("保存本户,登记下一户", type="primary", width="stretch", key=f"entry_save_{n}"):
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
        drafts.drop(actor, DRAFT)
        remember_saved(
            SAVED,
            f"已保存:{md(group)}{md(head)}户,适龄儿童 {len(children)} 人(走访 {day(visited)})。请登记下一户。",
        )
        st.session_state["entry_form_n"] = n + 1
        st.rerun()
st.caption("带 * 的为必填项。填写内容随时自动保存为草稿,刷新页面或切换应用后回来仍在。")

with session_scope() as session:
    households = fieldwork.village_households(session, actor=actor, sweep_village_id=village.sweep_village_id)
st.subheader(f"本村已登记 {len(households)} 户")
for h in households[:30]:
    st.markdown(
        f"- {day(h.visited_on)} **{md(h.group_name)}{md(h.head_name)}** {md(h.phone)}:"
        + md(h.children_text or "无适龄儿童")
    )
if len(households) > 30:
    st.caption("只列出最近 30 户;全部见“排查进度”导出的排查汇总表。")

with st.form("submit_village"):
    st.markdown("本村走访完毕后提交,提交后乡镇审核;系统随即与学籍三比对,未在校的孩子自动建立疑似辍学个案。")
    if confirmed_submit("提交本村排查结果", confirm="本村已逐户走访完毕,确认提交"):
        with shown_as_error(), session_scope() as session:
            counts = fieldwork.submit_village(session, actor=actor, sweep_village_id=village.sweep_village_id)
            st.session_state[SAVED] = {
                "message": f"已提交{md(village.name)}排查结果。三比对:{reconciled_text(counts)}"
            }
            st.rerun()
