"""家访 (a teacher's home page): the confirmation of the last save first, the form, the visits due and overdue,
one tap to a prefilled form, then the children due a home-teaching visit this month, any of my students found
by search; a return attempt (劝返) is the same form with its outcome. The form is drawn outside st.form so each change reaches the server and is kept as a draft."""

from datetime import date

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.cases import RiskLevel
from xueji.rules.text_limits import max_length
from xueji.rules.visits import ReturnOutcome, VisitFacts, VisitKind, VisitMethod, VisitState
from xueji.rules.vocab import Role
from xueji.services.cases import visits
from xueji.services.cases.visits import SameDayVisit
from xueji.ui import drafts
from xueji.ui.confirm import remember_saved, show_saved
from xueji.ui.display import day
from xueji.ui.errors import shown_as_error
from xueji.ui.home_teaching import CHILD, dot, home_teaching_due
from xueji.ui.my_work import show_lines_for
from xueji.ui.session import require_actor
from xueji.ui.text import md
from xueji.ui.widgets import picked, student_search

actor = require_actor(Action.VISIT_LOG)
policy = get_settings().visit_policy
TARGET = "visit_target"  # {"child_id": ..., "student_id": ...} of the child the form is for
FORM_FOR = "visit_form_for"  # the target the form's fields were last filled for
QUESTION = "visit_same_day"  # the same-day question pending an answer: {"text": ..., "known": n}
SAVED = "visit_saved"
DRAFT = "visit"
DECODE = {
    "v_kind": VisitKind,
    "v_method": VisitMethod,
    "v_risk": RiskLevel,
    "v_outcome": lambda v: ReturnOutcome(v) if v else None,
}
FIELDS = (
    "v_kind",
    "v_date",
    "v_method",
    "v_visitors",
    "v_met",
    "v_child",
    "v_family",
    "v_risk",
    "v_outcome",
    "v_next_step",
    "v_next",
)
GUIDANCE = {
    Role.TEACHER: "您作为教育线包保人跟进的孩子列在下面,点“家访”打开已填好的表单;其他学生可在页面下方查找后登记。",
    Role.TOWNSHIP_OFFICIAL: (
        "乡镇干部以政府线包保人的身份登记劝返和走访,记入孩子的个案时间线:您作为政府线包保人的孩子列在下面;"
        "其他孩子可在页面下方按姓名或身份证号查找,没有学籍的孩子在“控辍保学台账”中打开其个案后点“登记家访/劝返”。"
    ),
    Role.REGISTRAR: (
        "学籍管理员可为本校学生登记家访或劝返(如电话联系家长):在页面下方查找学生;"
        "孩子的家访一般由其教育线包保教师登记。"
    ),
}

st.title("家访")
if guidance := GUIDANCE.get(actor.role):
    st.caption(guidance)
saved = show_saved(SAVED)  # first on the page: where a phone's screen is after the save's rerun
if saved:
    st.page_link("pages/cases/case_detail.py", label="查看该儿童的个案与时间线", icon=":material/timeline:")


def choose(child_id: int | None = None, student_id: int | None = None) -> None:
    st.session_state[TARGET] = {"child_id": child_id, "student_id": student_id}
    st.session_state.pop(QUESTION, None)


def close_form() -> None:
    for key in (TARGET, FORM_FOR, QUESTION, *FIELDS):
        st.session_state.pop(key, None)


def fill(target: visits.VisitTarget) -> None:
    """Fill the form's fields for the chosen child: from the user's draft of this child when there is one,
    else from the prefill (unless they are filled for this child already)."""
    chosen = st.session_state.get(TARGET)
    if st.session_state.get(FORM_FOR) == chosen and all(k in st.session_state for k in FIELDS):
        return
    st.session_state[FORM_FOR] = chosen
    restored = drafts.take_draft(actor, DRAFT)
    if restored and restored.get("target") == chosen:
        try:
            values = {k: DECODE.get(k, lambda v: v)(v) for k, v in restored.items() if k in FIELDS}
        except (ValueError, TypeError):  # a draft the form can no longer read (an older version's choices)
            drafts.drop(actor, DRAFT)
        else:
            st.session_state.update(values)
            return
    drafts.forget_restored(DRAFT)
    values = {
        "v_kind": VisitKind.VISIT,
        "v_date": today(),
        "v_method": VisitMethod.HOME,
        "v_visitors": target.visitor,
        "v_met": "",
        "v_child": "",
        "v_family": "",
        "v_risk": target.risk,
        "v_outcome": None,
        "v_next_step": "",
        "v_next": target.next_visit_on,
    }
    st.session_state.update(values)
    drafts.start_clean(DRAFT, {"target": chosen, **values})


def facts_typed() -> VisitFacts:
    s = st.session_state
    return VisitFacts(
        visit_date=s["v_date"],
        kind=s["v_kind"],
        method=s["v_method"],
        visitors=s["v_visitors"],
        met_with=s["v_met"],
        child_situation=s["v_child"],
        family_situation=s["v_family"],
        risk_after=s["v_risk"],
        next_step=s["v_next_step"],
        next_visit_on=s["v_next"],
        outcome=s["v_outcome"],
    )


def save(target: visits.VisitTarget, known: int) -> None:
    """Log the visit; a same-day one already logged by the actor turns into a question (known: the number of
    them the user was asked about and still wants another)."""
    if st.session_state["v_date"] is None:
        st.error("家访日期:请选择家访日期")
        return
    facts = facts_typed()
    with shown_as_error(), session_scope() as session:
        try:
            visit = visits.log_visit(
                session,
                actor=actor,
                facts=facts,
                child_id=target.child_id,
                student_id=target.student_id,
                known=known,
            )
        except SameDayVisit as asked:
            st.session_state[QUESTION] = {"text": asked.question, "known": asked.known}
            st.rerun()
        drafts.drop(actor, DRAFT)
        close_form()
        st.session_state["case_child_id"] = visit.child_id
        remember_saved(
            SAVED,
            f"已保存 {md(target.label or target.name)} 的{facts.kind.label}记录({day(facts.visit_date)},{facts.method.label})",
            child_id=visit.child_id,
        )
        st.rerun()


def visit_form(target: visits.VisitTarget) -> None:
    with st.container(
        key="form_head"
    ):  # stays in view (style.css): the form opens where the tap left the page
        st.subheader(f"登记家访:{md(target.label or target.name)}")
    if target.categories:
        st.caption("关注类别:" + md("、".join(dict.fromkeys(target.categories))))
    drafts.restored_notice(actor, DRAFT, clear=[TARGET, FORM_FOR, QUESTION, *FIELDS])
    st.radio("类型", list(VisitKind), format_func=lambda k: k.label, horizontal=True, key="v_kind")
    st.date_input(
        "家访日期 *", min_value=date(2000, 1, 1), key="v_date", help="不能晚于今天", format="YYYY-MM-DD"
    )
    st.radio("方式", list(VisitMethod), format_func=lambda m: m.label, horizontal=True, key="v_method")
    st.text_input("家访人(多人用顿号分隔) *", key="v_visitors", max_chars=max_length("home_visit.visitors"))
    st.text_input(
        "见到/联系上的人 *",
        placeholder="如:母亲、祖父",
        key="v_met",
        max_chars=max_length("home_visit.met_with"),
    )
    st.text_area("孩子情况 *", height=80, key="v_child", max_chars=max_length("home_visit.child_situation"))
    st.text_area("家庭情况", height=80, key="v_family", max_chars=max_length("home_visit.family_situation"))
    st.radio("家访后风险", list(RiskLevel), format_func=lambda r: r.label, horizontal=True, key="v_risk")
    st.selectbox(
        "劝返结果(仅劝返填写)",
        [None, *ReturnOutcome],
        format_func=lambda o: "—" if o is None else o.label,
        key="v_outcome",
        placeholder="请选择",
    )
    st.text_input("下一步", key="v_next_step", max_chars=max_length("home_visit.next_step"))
    st.date_input("下次家访日期", min_value=date(2000, 1, 1), key="v_next", format="YYYY-MM-DD")
    drafts.keep(
        actor, DRAFT, {"target": st.session_state.get(TARGET), **{k: st.session_state[k] for k in FIELDS}}
    )
    question = st.session_state.get(QUESTION)
    if question:
        st.warning(md(question["text"]))
        again, cancel = st.columns(2)
        if again.button("仍然保存", type="primary", key="v_again", width="stretch"):
            save(target, question["known"])
        if cancel.button("取消", key="v_again_cancel", width="stretch"):
            st.session_state.pop(QUESTION, None)
            st.rerun()
    elif st.button("保存家访记录", type="primary", key="v_save", width="stretch"):
        save(target, 0)
    st.caption("带 * 的为必填项。填写内容随时自动保存为草稿,刷新页面或切换应用后回来仍在。")


if drafts.first_run(DRAFT) and (restored := drafts.take_draft(actor, DRAFT)) and restored.get("target"):
    st.session_state[TARGET] = restored["target"]  # the form opens on the draft's child; fill() puts it back
    st.session_state.pop(FORM_FOR, None)

chosen = st.session_state.get(TARGET)
if chosen:
    target = None
    with shown_as_error(), session_scope() as session:
        target = visits.visit_target(session, actor=actor, **chosen)
    if target is not None:
        fill(target)
        visit_form(target)
        if st.button("取消,换一个孩子", key="v_cancel"):
            drafts.drop(actor, DRAFT)
            close_form()
            st.rerun()
    st.divider()

show_lines_for(actor, "pages/cases/ladder.py", title="劝返复学待办")
government = actor.role is Role.TOWNSHIP_OFFICIAL
with session_scope() as session:
    due = visits.due_visits(session, actor=actor, government=government)
if saved:  # the child just visited first, marked
    due.sort(key=lambda r: r.child_id != saved.get("child_id"))
now = today()
states = [r.state(now, policy.warn_days) for r in due]
if due or actor.role is Role.TEACHER:
    overdue, soon = states.count(VisitState.OVERDUE), states.count(VisitState.DUE)
    left, right = st.columns(2)
    left.metric("家访已逾期", overdue, help="按家访频次要求(如疑似辍学每14天、留守儿童每30天)已过应访日期")
    right.metric(f"{policy.warn_days}天内到期", soon)
    st.subheader("我作为政府线包保人的孩子" if government else "我包保的孩子")
if not due and actor.role is Role.TEACHER:
    st.info("您目前没有作为教育线包保人的在办个案。可在下方查找您的学生登记家访。")
elif not due and government:
    st.info("您目前不是任何在办个案的政府线包保人(在个案详情中指定)。可在下方查找孩子登记劝返或走访。")
for row, state in zip(due, states, strict=True):
    mark = {VisitState.OVERDUE: ":red[●]", VisitState.DUE: ":orange[●]", VisitState.OK: ":green[●]"}[state]
    just = saved is not None and row.child_id == saved.get("child_id")
    box = st.container(border=True) if just else st.container()
    line, button = box.columns([4, 1], vertical_alignment="center")
    last = f"上次 {day(row.last_visit)}" if row.last_visit else "尚未家访"
    line.markdown(
        (":green-background[:material/check: 刚刚保存] " if just else "")
        + f"{mark} **{md(row.label or row.name)}** · {md('、'.join(dict.fromkeys(row.categories)))}  \n"
        f"{state.label} · 应访 {day(row.due)} · {last}"
    )
    if button.button("家访", key=f"visit_{row.child_id}", width="stretch"):
        choose(child_id=row.child_id)
        st.rerun()

due_home = home_teaching_due(actor)
if due_home:
    st.subheader("本月应送教上门")
    for row in due_home:
        line, button = st.columns([4, 1], vertical_alignment="center")
        line.markdown(
            f"{dot(row.compliance.state)} **{md(row.label or row.name)}** {md(row.school)} · 本月尚未送教"
            + (f"(另:{md(row.compliance.reasons[0])})" if row.compliance.reasons else "")
        )
        if button.button("送教", key=f"home_{row.child_id}"):
            st.session_state[CHILD] = row.child_id
            st.switch_page("pages/home_teaching/visit.py")
    st.divider()

st.subheader("查找学生登记家访")
found = student_search(actor, key="visit_search", label="学生姓名、拼音首字母或身份证号后几位")
if found:
    student = picked(
        "找到的学生",
        found,
        format_func=lambda r: r.label or r.name,
        button="登记家访",
        key="visit_pick",
    )
    if student is not None:
        choose(student_id=student.id)
        st.rerun()
