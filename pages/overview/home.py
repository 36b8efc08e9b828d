"""概况: the dashboard home of the county, township, school and coordinator, within the signed-in user's scope.
It opens on the user's own work (我的待办: overdue first, each line a link to where it is done) — for a city's or
province's officer in one of their counties, on what that county is behind on — then the pictures a meeting
needs, each with its table and export."""

import pandas as pd
import streamlit as st
from sqlmodel import Session

from xueji import charts
from xueji.auth import Action
from xueji.clock import today
from xueji.rules.cases import CaseCategory
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases import ledgers
from xueji.services.common.calendar import school_year_on
from xueji.services.common.exports import export_table
from xueji.services.comparisons import views as comparison_views
from xueji.services.dashboards import figures
from xueji.services.home_teaching import board, records
from xueji.services.registry import class_sizes
from xueji.ui.dashboard import figure
from xueji.ui.display import frame
from xueji.ui.home_teaching import styled
from xueji.ui.my_work import show_county_work, show_my_work
from xueji.ui.overview import scoped_overview
from xueji.ui.session import reading, require_actor
from xueji.ui.supervision import looking_at
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import export_button

actor = require_actor(Action.OVERVIEW_READ)
data = scoped_overview(actor)
t = data.totals

county = looking_at(actor)  # a city's or province's officer in one of their counties: its name
st.title(
    f"概况 · {md(county)}"
    if county
    else {ScopeKind.COUNTY: "县域概况", ScopeKind.TOWNSHIP: "乡镇概况", ScopeKind.SCHOOL: "学校概况"}[
        actor.scope_kind
    ]
)
st.caption(f"{data.school_year} · 统计日期 {today():%Y年%m月%d日} · 仅统计学籍状态为“在读”的学生")
if county:  # they only read: what the county is behind on, not a to-do of their own
    show_county_work(actor, name=county)
else:
    show_my_work(actor)
st.divider()
if not t.schools:
    st.info("还没有学校和学生数据:由学籍管理员在“学籍导入”中导入全国学籍导入模板后,这里会显示各项统计。")
    st.stop()


def to_act_on() -> None:
    with reading() as session:
        open_cases = ledgers.open_counts(session, actor=actor)
        gaps = ledgers.gaps_frame(ledgers.responsibility_gaps(session, actor=actor))
        behind = figures.villages_behind(session, actor=actor)
        taught = home_teaching_rows(session)
        approvals = overdue_approvals(session)
    late = behind[behind["是否逾期"] == "已逾期"]
    red = [r for r in taught if r.compliance.state.needs_follow_up]
    overdue = int(approvals["已超期"].sum()) if approvals is not None and len(approvals) else 0
    sweeps_theirs = actor.role is Role.TOWNSHIP_OFFICIAL or actor.scope_kind is ScopeKind.COUNTY
    cols = iter(st.columns(4 if sweeps_theirs else 3))
    next(cols).metric("在办个案", f"{sum(open_cases.values()):,}", help="疑似辍学、辍学和各类重点关注对象")
    if sweeps_theirs:  # the villages are the township's and the county's work, not a school's
        next(cols).metric("排查逾期的村", len(late), help="本学期拉网式排查过了完成期限仍未提交")
    next(cols).metric("送教未达标", len(red), help="送教上门未达标、已落后或有风险的孩子")
    next(cols).metric("异动超期未审批", overdue if approvals is not None else "—")
    if actor.role is Role.COORDINATOR:
        st.subheader("送教上门:未达标、已落后和有风险的孩子")
        if red:
            show_table(styled(board.board_frame(red)), hide_index=True, width="stretch")
        else:
            st.success("本学期送教上门的孩子都没有落后。")
    if sweeps_theirs:
        st.subheader("排查未完成的村")
        if len(behind):
            show_table(behind, hide_index=True, width="stretch")
        else:
            st.success("本学期各村排查都已提交。")
    st.subheader("在办个案")
    cols = st.columns(3)
    cols[0].metric("疑似辍学", open_cases.get(CaseCategory.SUSPECTED_DROPOUT, 0))
    cols[1].metric("辍学", open_cases.get(CaseCategory.DROPOUT, 0))
    cols[2].metric("缺包保人的个案", int(gaps["缺任一线"].sum()) if len(gaps) else 0)
    if len(gaps):
        st.caption("双线包保未落实的学校(每个在办个案须有教育线和政府线包保人,详见“包保督办”):")
        show_table(gaps, hide_index=True, width="stretch")
    if approvals is not None and overdue:
        st.caption("学籍异动超过 7 个工作日未审批的学校:")
        show_table(approvals[approvals["已超期"] > 0], hide_index=True, width="stretch")
    if actor.can(Action.COMPARE_READ):
        school_age_children()


def school_age_children() -> None:
    """适龄儿童台账's headline and the special groups from the departments' lists (四查三比对)."""
    with reading() as session:
        head = comparison_views.headline(session, actor=actor)
        groups = comparison_views.group_counts(session, actor=actor)
    st.subheader("适龄儿童(四查三比对)")
    cols = st.columns(4)
    cols[0].metric(
        "已知适龄儿童", f"{head.children:,}", help="户籍、学籍、排查和部门名单中的适龄儿童,每人一行"
    )
    cols[1].metric("待核实", head.to_verify, help="户籍在本地、学籍中查无此人,乡镇正在核实去向")
    cols[2].metric("疑似辍学/辍学", head.out_of_school)
    cols[3].metric("其中脱贫户/监测户", head.priority_out, help="乡村振兴名单上的家庭,重点劝返")
    if len(groups):
        st.caption("特殊群体(按部门名单):")
        show_table(frame(groups), hide_index=True, width="stretch")


def home_teaching_rows(session: Session) -> list[board.BoardRow]:
    term = records.latest_term(session)
    return board.board(session, actor=actor, term=term) if term else []


def overdue_approvals(session: Session) -> pd.DataFrame | None:
    return figures.overdue_approvals(session, actor=actor) if actor.can(Action.STATUS_CHANGE_READ) else None


def students() -> None:
    cols = st.columns(4)
    cols[0].metric("乡镇", t.townships, help=f"下辖村/社区 {t.villages} 个")
    cols[1].metric("学校", t.schools)
    cols[2].metric("在读学生", f"{t.enrolled:,}")
    cols[3].metric("临时学籍(无身份证号)", t.temporary, help="尚未录入身份证号的学生,录入后转为正式学籍")
    cols = st.columns(4)
    cols[0].metric("留守儿童", f"{t.left_behind:,}")
    cols[1].metric("随迁子女", f"{t.migrant:,}")
    cols[2].metric("残疾学生", f"{t.disabled:,}")
    cols[3].metric("班级", t.classes)
    left, right = st.columns(2)
    with left:
        figure(
            actor,
            data.townships,
            title="各乡镇在读学生",
            chart=charts.students_by_township,
            empty="",
            key="students_by_township",
        )
    with right:
        figure(
            actor,
            data.grades,
            title="各年级在读学生",
            chart=charts.students_by_grade,
            empty="",
            key="students_by_grade",
        )
    st.subheader("各学校")
    show_table(data.schools, hide_index=True, width="stretch")
    export_button(
        "导出各学校统计 (xlsx)",
        key="export_schools",
        file_name=f"各学校统计_{today():%Y%m%d}.xlsx",
        build=lambda session: export_table(
            session, actor=actor, action=Action.OVERVIEW_READ, frame=data.schools, sheet="各学校统计"
        ),
    )
    st.page_link("pages/dashboards/retention.py", label="查看各年级巩固率", icon=":material/trending_up:")


def cases() -> None:
    with reading() as session:
        year = school_year_on(session, today())
        by_township = figures.open_cases_by_township(session, actor=actor)
        gaps = ledgers.gaps_frame(ledgers.responsibility_gaps(session, actor=actor))
        dropouts = figures.dropouts_by_month(session, actor=actor, school_year=year)
    figure(
        actor,
        by_township,
        title="各乡镇在办个案",
        chart=charts.open_cases_by_township,
        empty="还没有在办个案。",
        key="cases_by_township",
    )
    figure(
        actor,
        gaps,
        title="双线包保未落实",
        chart=None,
        empty="每个在办个案都有教育线和政府线包保人。",
        key="gaps",
        caption="每个在办个案须有教育线(学校教师)和政府线(乡镇、村干部)包保人。",
    )
    figure(
        actor,
        dropouts,
        title="辍学与劝返复学(按月)",
        chart=lambda f: charts.monthly(f, title="辍学与劝返复学(按月)"),
        empty="本学年还没有辍学或劝返复学。",
        key="dropouts_by_month",
        caption="按学籍异动(已批准)的生效日期统计。",
    )


def visiting() -> None:
    with reading() as session:
        year = school_year_on(session, today())
        by_month = figures.visits_by_month(session, actor=actor, school_year=year)
        overdue = figures.overdue_visits_by_school(session, actor=actor)
    figure(
        actor,
        by_month,
        title="家访与劝返(按月)",
        chart=lambda f: charts.monthly(f, title="家访与劝返(按月)"),
        empty="本学年还没有家访记录。",
        key="visits_by_month",
        action=Action.CASE_READ,
    )
    figure(
        actor,
        overdue,
        title="各学校家访逾期",
        chart=None,
        empty="没有需要家访的在办个案。",
        key="overdue_visits",
        action=Action.CASE_READ,
        caption="按家访频次要求(如疑似辍学每14天、留守儿童每30天)已过应访日期的儿童。",
    )


def sweeping() -> None:
    with reading() as session:
        sweep = figures.sweep_by_township(session, actor=actor)
    figure(
        actor,
        sweep,
        title="各乡镇排查进度",
        chart=charts.sweep_by_township,
        empty="本学期还没有排查计划。",
        key="sweep_by_township",
        action=Action.SWEEP_READ,
    )
    st.page_link("pages/sweeps/progress.py", label="查看各村覆盖率", icon=":material/map:")


def teaching() -> None:
    with reading() as session:
        taught = home_teaching_rows(session)
    figure(
        actor,
        board.school_summary(taught),
        title="各校送教上门达标情况",
        chart=charts.home_teaching_by_school,
        empty="本学期还没有送教上门的孩子。",
        key="home_teaching_by_school",
        action=Action.HOME_TEACHING_READ,
    )


def classes() -> None:
    with reading() as session:
        oversized = class_sizes.oversized_frame(class_sizes.oversized_classes(session, actor=actor))
        approvals = overdue_approvals(session)
    figure(
        actor,
        oversized,
        title="大班额(超过 55 人)的班级",
        chart=None,
        empty="没有超过 55 人的班级。",
        key="oversized",
    )
    if approvals is not None:
        figure(
            actor,
            approvals,
            title="学籍异动待审批",
            chart=None,
            empty="没有待审批的学籍异动。",
            key="approvals",
            action=Action.STATUS_CHANGE_READ,
            caption="须在提交后 7 个工作日内审批;“已超期”为已过期限仍未审批的申请。",
        )


# One section at a time (only its figures are counted): the county opens on the overview, everyone else on
# what they must act on.
SECTIONS = {
    "需要处理": to_act_on,
    "学生": students,
    "控辍保学": cases,
    "家访": visiting,
    "拉网式排查": sweeping,
    "送教上门": teaching,
    "班额与异动": classes,
}
first = "学生" if actor.scope_kind is ScopeKind.COUNTY else "需要处理"
names = [first, *(n for n in SECTIONS if n != first)]
section = st.segmented_control("查看", names, default=first, key="overview_section") or first
SECTIONS[section]()
