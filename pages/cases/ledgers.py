"""控辍台账: the three ledgers (重点关注, 疑似辍学, 辍学) with 动态销号, searched and paged, exported as xlsx;
opening a case by hand (a registry student, or a child with no record)."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.db import session_scope
from xueji.rules.cases import CaseCategory, RiskLevel
from xueji.rules.text_limits import max_length
from xueji.services.cases import handling, ledgers, opening
from xueji.services.cases.ledgers import Ledger, LedgerFilter, Standing
from xueji.services.registry import students
from xueji.ui.errors import shown_as_error
from xueji.ui.session import reading, require_actor
from xueji.ui.style import required, required_note
from xueji.ui.tables import show_table
from xueji.ui.widgets import export_button, page_offset, pager, picked, student_search

PAGE_SIZE = 50
actor = require_actor(Action.CASE_READ)
st.title("控辍保学台账")
st.caption("动态销号:个案只有在写明销号原因和依据后才离开在册台账;已销号的记录保留可查。")

if actor.can(Action.CASE_MANAGE) and not st.session_state.get("lost_synced"):
    with shown_as_error(), session_scope() as session:  # lost students become suspected dropouts
        opened = opening.open_lost_cases(session, actor=actor)
        st.session_state["lost_synced"] = True
        if opened:
            st.info(f"已为 {opened} 名开学一周后仍未报到的流生建立疑似辍学个案。")

ledger = (
    st.segmented_control(
        "台账", list(Ledger), format_func=lambda x: x.label, default=Ledger.ALL, key="ledger_kind"
    )
    or Ledger.ALL
)
left, middle, right = st.columns(3)
standing = left.selectbox(
    "范围", list(Standing), format_func=lambda s: s.label, key="ledger_standing", placeholder="请选择"
)
category = (
    middle.selectbox(
        "类别",
        [None, *CaseCategory],
        format_func=lambda c: "全部类别" if c is None else c.label,
        key="ledger_cat",
        placeholder="请选择",
    )
    if ledger is Ledger.ALL
    else None
)
risk = right.selectbox(
    "风险", [None, *RiskLevel], format_func=lambda r: "全部" if r is None else r.label, placeholder="请选择"
)
search = st.text_input("搜索", placeholder="姓名或身份证号后几位", key="ledger_search")
left, right = st.columns(2)
missing = left.checkbox("只看缺少包保人的在办个案", key="ledger_missing")
priority = right.checkbox(
    "只看重点(脱贫户/监测户)",
    key="ledger_priority",
    help="家庭在乡村振兴部门的脱贫户、防返贫监测户名单上的儿童",
)
given = LedgerFilter(ledger, standing, category, risk, search, missing, priority)

offset = page_offset("ledger_page", page_size=PAGE_SIZE, reset_when=given)
with reading() as session:
    page = ledgers.ledger_page(session, actor=actor, given=given, limit=PAGE_SIZE, offset=offset)
st.caption(f"{ledger.label}:共 {page.total} 条")
show_table(ledgers.ledger_frame(page.rows), hide_index=True, width="stretch")
pager(page.total, key="ledger_page", page_size=PAGE_SIZE)

if page.rows:
    row = picked(
        "打开个案",
        page.rows,
        format_func=lambda r: f"{r.name} · {r.category} · {r.school}",
        button="打开",
        key="ledger_open",
        pick_key="ledger_pick",
    )
    if row is not None:
        st.session_state["case_child_id"] = row.child_id
        st.switch_page("pages/cases/case_detail.py")

export_button(
    f"导出{ledger.label} (xlsx)",
    key="export_ledger",
    file_name=f"{ledger.label}_{standing.label}_{today():%Y%m%d}.xlsx",
    build=lambda session: ledgers.export_ledger(session, actor=actor, given=given),
)

if not actor.can(Action.CASE_MANAGE):
    st.stop()

st.divider()
st.subheader("新建个案")
required_note()
kind = st.radio("儿童", ["有学籍的学生", "无学籍的儿童(排查发现、未入学等)"], horizontal=True, key="new_kind")
target: dict = {}
if kind == "有学籍的学生":
    found = student_search(actor, key="new_case_search", label="查找学生(姓名、拼音首字母或身份证号后几位)")
    if not found:
        st.stop()
    chosen = st.selectbox(
        "学生", found, format_func=lambda r: f"{r.name} · {r.school} {r.class_name}", placeholder="请选择"
    )
    target["student_id"] = chosen.id
else:
    with session_scope() as session:
        places = handling.places(session, actor=actor)
        schools = students.school_choices(session, actor=actor)
    township = st.selectbox(
        "居住乡镇", places, format_func=lambda p: p[1], key="new_township", placeholder="请选择"
    )
    village = st.selectbox(
        "村(社区)",
        [None, *township[2]],
        format_func=lambda v: "未知" if v is None else v[1],
        key="new_village",
        placeholder="请选择",
    )
    school = st.selectbox(
        "负责跟进的学校", schools, format_func=lambda s: s[1], key="new_school", placeholder="请选择"
    )
    left, right = st.columns(2)
    name = left.text_input(required("姓名"), key="new_name", max_chars=max_length("child.name"))
    sex = right.selectbox(
        "性别", [None, "男", "女"], format_func=lambda s: s or "未知", key="new_sex", placeholder="请选择"
    )
    id_number = left.text_input("身份证号(如已知)", key="new_id", max_chars=max_length("child.id_number"))
    birth = right.date_input("出生日期(如已知)", value=None, key="new_birth", format="YYYY-MM-DD")
    guardian = left.text_input("监护人", key="new_guardian", max_chars=max_length("child.guardian_name"))
    phone = right.text_input("监护人电话", key="new_phone", max_chars=max_length("child.guardian_phone"))
    address = st.text_input("住址", key="new_address", max_chars=max_length("child.address"))
    target["new_child"] = handling.ChildIn(
        name=name,
        township_id=township[0],
        school_id=school[0],
        sex=sex,
        birth_date=birth,
        id_number=id_number,
        village_id=village[0] if village else None,
        address=address,
        guardian_name=guardian,
        guardian_phone=phone,
    )

with st.form("new_case"):
    new_category = st.selectbox(
        "类别", list(CaseCategory), format_func=lambda c: c.label, key="new_category", placeholder="请选择"
    )
    disability = st.text_input(
        "残疾类型(残疾个案必填:视力、听力、言语、肢体、智力、精神、多重)", key="new_disability"
    )
    new_risk = st.radio(
        "风险等级", list(RiskLevel), format_func=lambda r: r.label, horizontal=True, key="new_risk"
    )
    reason = st.text_input(
        required("风险依据"),
        placeholder="如:父母均在外务工,由年迈祖母照看,近期多次旷课",
        key="new_reason",
        max_chars=max_length("child_case.risk_reason"),
    )
    if st.form_submit_button("建立个案", type="primary"):
        with shown_as_error(), session_scope() as session:
            case = handling.open_case(
                session,
                actor=actor,
                category=new_category,
                risk=new_risk,
                risk_reason=reason,
                disability_type=disability,
                **target,
            )
            st.session_state["case_child_id"] = case.child_id
            st.success("已建立个案。请在“个案详情”中指定双线包保人。")
            st.page_link("pages/cases/case_detail.py", label="打开个案详情", icon=":material/folder_open:")
