"""Which pages a role sees: each page names the action it needs, checked against the permission table.

Page scripts live in subfolders of pages/: Streamlit runs a process's first script run (and every AppTest run)
in its old multipage mode when pages/ holds scripts at its top level, and that mode makes every such script
reachable by URL whatever st.navigation registers. It only looks at the top level, so subfolders keep the
router the only way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import streamlit as st

from xueji.auth import Action, Actor
from xueji.rules.vocab import Role, ScopeKind


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    action: Action
    section: str
    url_path: str | None = None  # when the file's name is another page's too (reports/review, sweeps/review)
    also: Action | None = (
        None  # a second action the page's lists need (a city's officer reads no student lists)
    )


PAGES = (
    PageSpec(
        "pages/overview/counties.py", "各县区对比", ":material/compare_arrows:", Action.SUPERVISE_READ, "概况"
    ),
    PageSpec("pages/overview/home.py", "概况", ":material/dashboard:", Action.OVERVIEW_READ, "概况"),
    PageSpec(
        "pages/dashboards/retention.py", "巩固率", ":material/trending_up:", Action.OVERVIEW_READ, "概况"
    ),
    PageSpec(
        "pages/dashboards/accountability.py",
        "月度台账与考核",
        ":material/fact_check:",
        Action.OVERVIEW_READ,
        "概况",
    ),
    PageSpec("pages/cases/visits.py", "家访", ":material/home_pin:", Action.VISIT_LOG, "控辍保学"),
    PageSpec("pages/cases/ledgers.py", "控辍保学台账", ":material/list_alt:", Action.CASE_READ, "控辍保学"),
    PageSpec(
        "pages/cases/case_detail.py", "个案详情", ":material/folder_shared:", Action.CASE_READ, "控辍保学"
    ),
    PageSpec("pages/cases/ladder.py", "劝返复学", ":material/stairs:", Action.CASE_READ, "控辍保学"),
    PageSpec(
        "pages/cases/supervision.py",
        "包保督办",
        ":material/supervisor_account:",
        Action.OVERVIEW_READ,
        "控辍保学",
    ),
    PageSpec(
        "pages/cases/import_visits.py", "家访导入", ":material/upload_file:", Action.VISIT_LOG, "控辍保学"
    ),
    PageSpec(
        "pages/comparisons/results.py",
        "三比对结果",
        ":material/compare_arrows:",
        Action.COMPARE_READ,
        "四查三比对",
    ),
    PageSpec(
        "pages/comparisons/tasks.py",
        "适龄儿童核实",
        ":material/person_search:",
        Action.COMPARE_READ,
        "四查三比对",
    ),
    PageSpec(
        "pages/comparisons/match_review.py",
        "疑似同一人审核",
        ":material/join_inner:",
        Action.MATCH_REVIEW,
        "四查三比对",
    ),
    PageSpec(
        "pages/comparisons/ledger.py",
        "适龄儿童台账",
        ":material/groups_2:",
        Action.COMPARE_READ,
        "四查三比对",
    ),
    PageSpec(
        "pages/comparisons/lists.py",
        "部门名单导入",
        ":material/upload_file:",
        Action.LISTS_IMPORT,
        "四查三比对",
    ),
    PageSpec(
        "pages/reports/monthly.py", "学校月报", ":material/summarize:", Action.REPORT_READ, "四个一报告"
    ),
    PageSpec(
        "pages/reports/review.py",
        "月报报送与季报",
        ":material/inventory:",
        Action.REPORT_REVIEW,
        "四个一报告",
        "report-review",
    ),
    PageSpec("pages/sweeps/entry.py", "入户登记", ":material/home_work:", Action.SWEEP_RECORD, "拉网式排查"),
    PageSpec(
        "pages/sweeps/import_sweep.py",
        "排查导入",
        ":material/upload_file:",
        Action.SWEEP_RECORD,
        "拉网式排查",
    ),
    PageSpec("pages/sweeps/progress.py", "排查进度", ":material/map:", Action.SWEEP_READ, "拉网式排查"),
    PageSpec("pages/sweeps/review.py", "排查审核", ":material/task_alt:", Action.SWEEP_REVIEW, "拉网式排查"),
    PageSpec("pages/sweeps/findings.py", "比对结果", ":material/compare:", Action.SWEEP_READ, "拉网式排查"),
    PageSpec("pages/sweeps/plan.py", "排查计划", ":material/event_note:", Action.SWEEP_PLAN, "拉网式排查"),
    PageSpec(
        "pages/home_teaching/board.py",
        "送教看板",
        ":material/traffic:",
        Action.HOME_TEACHING_READ,
        "送教上门",
    ),
    PageSpec(
        "pages/home_teaching/visit.py",
        "送教登记",
        ":material/edit_note:",
        Action.HOME_TEACHING_VISIT,
        "送教上门",
    ),
    PageSpec(
        "pages/home_teaching/child.py",
        "送教档案",
        ":material/assignment_ind:",
        Action.HOME_TEACHING_READ,
        "送教上门",
    ),
    PageSpec(
        "pages/home_teaching/import_home_visits.py",
        "送教导入",
        ":material/upload_file:",
        Action.HOME_TEACHING_VISIT,
        "送教上门",
    ),
    PageSpec("pages/registry/students.py", "学生名册", ":material/groups:", Action.STUDENT_READ, "学籍"),
    PageSpec("pages/registry/student_detail.py", "学生档案", ":material/badge:", Action.STUDENT_READ, "学籍"),
    PageSpec(
        "pages/registry/import_students.py",
        "学籍导入",
        ":material/upload_file:",
        Action.STUDENT_IMPORT,
        "学籍",
    ),
    PageSpec("pages/registry/rosters.py", "名册打印", ":material/print:", Action.STUDENT_EXPORT, "学籍"),
    PageSpec(
        "pages/registry/status_changes.py",
        "学籍异动",
        ":material/swap_horiz:",
        Action.STATUS_CHANGE_READ,
        "学籍",
    ),
    PageSpec(
        "pages/registry/suspensions.py",
        "休学与请假",
        ":material/event_busy:",
        Action.STATUS_CHANGE_READ,
        "学籍",
    ),
    PageSpec("pages/registry/class_sizes.py", "班额", ":material/table_rows:", Action.OVERVIEW_READ, "学籍"),
    PageSpec(
        "pages/registry/registration.py",
        "新生注册",
        ":material/how_to_reg:",
        Action.OVERVIEW_READ,
        "学籍",
        also=Action.STUDENT_READ,  # its lists name the children not yet registered
    ),
    PageSpec(
        "pages/registry/term_reports.py",
        "开学报到与流生",
        ":material/fact_check:",
        Action.OVERVIEW_READ,
        "学籍",
        also=Action.STUDENT_READ,  # the lost students by name
    ),
    PageSpec(
        "pages/registry/registry_checks.py", "人籍一致", ":material/rule:", Action.OVERVIEW_READ, "学籍"
    ),
    PageSpec(
        "pages/registry/assignments.py", "教师包保", ":material/handshake:", Action.ASSIGNMENT_MANAGE, "学籍"
    ),
    PageSpec("pages/registry/rollover.py", "学年升级", ":material/upgrade:", Action.ROLLOVER_RUN, "学籍"),
    PageSpec("pages/setup/checklist.py", "上线清单", ":material/checklist:", Action.SETUP_READ, "上线设置"),
    PageSpec(
        "pages/setup/import_setup.py",
        "基础数据导入",
        ":material/upload_file:",
        Action.SETUP_MANAGE,
        "上线设置",
    ),
    PageSpec(
        "pages/setup/divisions.py", "区划与学校", ":material/account_tree:", Action.SETUP_MANAGE, "上线设置"
    ),
    PageSpec("pages/setup/terms.py", "学期设置", ":material/date_range:", Action.SETUP_MANAGE, "上线设置"),
    PageSpec(
        "pages/setup/import_accounts.py", "账号导入", ":material/group_add:", Action.USER_MANAGE, "上线设置"
    ),
    PageSpec("pages/system/users.py", "账号管理", ":material/manage_accounts:", Action.USER_MANAGE, "系统"),
    PageSpec(
        "pages/system/approvals.py", "账号审批", ":material/verified_user:", Action.GRANT_APPROVE, "系统"
    ),
    PageSpec("pages/system/holidays.py", "节假日安排", ":material/event:", Action.CALENDAR_MANAGE, "系统"),
    PageSpec("pages/system/robots.py", "群机器人提醒", ":material/smart_toy:", Action.ROBOT_MANAGE, "系统"),
    PageSpec("pages/system/audit_log.py", "审计日志", ":material/policy:", Action.AUDIT_READ, "系统"),
)


SUPERVISING_SCOPES = frozenset({ScopeKind.CITY, ScopeKind.PROVINCE})


def pages_for(actor: Actor) -> list[PageSpec]:
    """The pages this actor may open, in menu order. A city's or province's officer in their own scope sees only
    the supervision pages (各县区对比); once they pick one of their counties (ui.supervision) the actor is narrowed to
    it and they see that county's pages their role may read as well."""
    if actor.role is Role.SYSTEM:
        return []
    if actor.via is None and actor.scope_kind in SUPERVISING_SCOPES:
        return [p for p in PAGES if p.action is Action.SUPERVISE_READ and actor.can(p.action)]
    return [p for p in PAGES if actor.can(p.action) and (p.also is None or actor.can(p.also))]


def title_for(page: PageSpec, actor: Actor) -> str:
    """A teacher's roster is their own students."""
    if page.path == "pages/registry/students.py" and actor.role is Role.TEACHER:
        return "我的学生"
    return page.title


def elsewhere(specs: list[PageSpec]) -> list[st.Page]:
    """Every page not in this actor's menu, hidden, at its own address: an old bookmark, a county pick that was
    refused or a page of another role then says so in Chinese (instead of Streamlit's English "Page not found")."""
    return [
        st.Page(partial(_not_here, spec.title), title=spec.title, url_path=address(spec), visibility="hidden")
        for spec in not_in_menu(specs)
    ]


def not_in_menu(specs: list[PageSpec]) -> list[PageSpec]:
    """The pages whose address this menu does not hold."""
    taken = {address(spec) for spec in specs}
    return [spec for spec in PAGES if address(spec) not in taken]


def address(spec: PageSpec) -> str:
    """The page's address (/retention): its url_path, else its file's name as Streamlit derives it."""
    return spec.url_path or Path(spec.path).stem


def _not_here(title: str) -> None:
    st.title(title)
    st.info(f"“{title}”不在您现在的菜单里(所选县区已失效,或本账号没有这个页面)。请从左侧菜单进入。")
