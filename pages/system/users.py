"""账号管理 (administrator): accounts listed and switched off; new accounts, role changes and password resets
requested here and approved by a second person (账号审批); every step audited."""

import pandas as pd
import streamlit as st

from xueji.auth import GRANT_APPROVERS, Action
from xueji.db import session_scope
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts, role_grants
from xueji.ui import display
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md

actor = require_actor(Action.USER_MANAGE)
st.title("账号管理")
st.caption(
    "账号仅限本人使用。新建账号、更改角色或管辖范围、重置密码在此提交申请,由第二人批准后生效"
    "(教师:本校学籍管理员或县教育局;其他角色:县教育局),一次性密码由批准人当面交给本人。"
    "系统管理员、审计员账号只能在服务器命令行上创建和重置。账号不删除,只停用。"
)

with session_scope() as session:
    users = accounts.list_users(session, actor=actor)
search = st.text_input("搜索账号或姓名", key="user_search")
shown = [u for u in users if search.strip() in u.username or search.strip() in u.display_name]
show_table(
    pd.DataFrame(
        [
            (
                u.username,
                u.display_name,
                u.role,
                u.scope,
                "是" if u.is_active else "否",
                "是" if u.locked else "",
                "是" if u.must_change_password else "",
                display.clock(u.last_login_at),
            )
            for u in shown
        ],
        columns=["账号", "姓名", "角色", "范围", "启用", "锁定中", "须改密码", display.timed("最近登录")],
    ),
    hide_index=True,
    width="stretch",
)

# The requests are listed here but read at the end of the run, after the forms below: a request just made
# (or withdrawn) is in the list straight away.
requests_box = st.container()

# The least privileged, most asked-for role first: a county officer is never the default.
REQUESTABLE = sorted((r for r in Role if r in GRANT_APPROVERS), key=lambda r: r is not Role.TEACHER)
SCOPE_KINDS = [ScopeKind.SCHOOL, ScopeKind.TOWNSHIP, ScopeKind.COUNTY]  # a teacher's scope first
SCOPE_NAMES = accounts.SCOPE_NAMES


def _role_label(role: Role) -> str:
    return f"{role.label}(由{role_grants.approvers_label(role)}批准)"


with st.expander("申请新建账号"):
    with st.form("new_user", clear_on_submit=True):
        username = st.text_input("账号(英文字母、数字、下划线)", max_chars=50)
        display_name = st.text_input("姓名", max_chars=50)
        role = st.selectbox("角色", REQUESTABLE, format_func=_role_label, placeholder="请选择")
        scope_kind = st.selectbox(
            "管辖范围", SCOPE_KINDS, format_func=lambda k: SCOPE_NAMES[k], placeholder="请选择"
        )
        scope_code = st.text_input("范围代码(县区/乡镇12位行政区划代码,学校10位标识码)", max_chars=12)
        if st.form_submit_button("提交申请", type="primary"):
            with shown_as_error(), session_scope() as session:
                grant = role_grants.request_account(
                    session,
                    actor=actor,
                    username=username,
                    display_name=display_name,
                    role=role,
                    scope_kind=scope_kind,
                    scope_code=scope_code,
                )
                st.success(
                    f"已提交申请 {grant.id}:新建账号 {md(grant.username)}({role.label}),"
                    f"待{role_grants.approvers_label(role)}在“账号审批”中批准;一次性密码由批准人交给本人。"
                )

if users:
    with st.expander("申请重置密码 / 更改角色;停用 / 启用"):
        chosen = st.selectbox(
            "账号",
            users,
            format_func=lambda u: f"{u.username} · {u.display_name} · {u.role}",
            key="user_pick",
            placeholder="请选择",
        )
        command_line_only = chosen.command_line_only
        auditor = chosen.role == Role.AUDITOR.label
        if auditor:
            st.info("审计员账号只能在服务器命令行上重置密码、更改角色、停用和启用(xueji user …)。")
        elif command_line_only:
            st.info(f"{chosen.role}账号的密码只能在服务器命令行上重置(`xueji user reset-password`)。")
        c1, c2 = st.columns(2)
        if c1.button("申请重置密码", key="reset_pw", disabled=command_line_only):
            with shown_as_error(), session_scope() as session:
                grant = role_grants.request_password_reset(session, actor=actor, user_id=chosen.id)
                st.success(
                    f"已提交申请 {grant.id}:重置 {md(chosen.username)} 的密码,"
                    f"待{role_grants.approvers_label(Role(grant.role))}批准;新的一次性密码由批准人交给本人。"
                )
        confirm = c2.checkbox("确认更改启用状态", key="confirm_active")
        if c2.button(
            "停用" if chosen.is_active else "启用", key="toggle_active", disabled=auditor or not confirm
        ):
            with shown_as_error(), session_scope() as session:
                accounts.set_active(session, actor=actor, user_id=chosen.id, active=not chosen.is_active)
                st.rerun()
        with st.form("role_scope"):
            st.write(f"申请更改 {md(chosen.username)} 的角色和管辖范围")
            new_role = st.selectbox(
                "新角色", REQUESTABLE, format_func=_role_label, key="new_role", placeholder="请选择"
            )
            new_kind = st.selectbox(
                "新管辖范围",
                SCOPE_KINDS,
                format_func=lambda k: SCOPE_NAMES[k],
                key="new_kind",
                placeholder="请选择",
            )
            new_code = st.text_input("范围代码", key="new_code", max_chars=12)
            if st.form_submit_button("提交申请", disabled=auditor):
                with shown_as_error(), session_scope() as session:
                    grant = role_grants.request_role_change(
                        session,
                        actor=actor,
                        user_id=chosen.id,
                        role=new_role,
                        scope_kind=new_kind,
                        scope_code=new_code,
                    )
                    st.success(
                        f"已提交申请 {grant.id},待{role_grants.approvers_label(new_role)}批准后生效(下次操作时)。"
                    )


with session_scope() as session:
    pending, decided = role_grants.requests(session, actor=actor)
with requests_box:
    st.subheader("待批准的申请")
    if pending:
        show_table(
            pd.DataFrame(
                [
                    (
                        r.id,
                        r.kind,
                        r.username,
                        r.display_name,
                        r.role,
                        r.scope,
                        r.approvers,
                        r.requested_by,
                        display.clock(r.requested_at),
                    )
                    for r in pending
                ],
                columns=[
                    "编号",
                    "申请",
                    "账号",
                    "姓名",
                    "角色",
                    "管辖范围",
                    "由谁批准",
                    "申请人",
                    display.timed("申请时间"),
                ],
            ),
            hide_index=True,
            width="stretch",
        )
        with st.form("cancel_grant"):
            withdrawn = st.selectbox(
                "撤回申请",
                pending,
                format_func=lambda r: f"{r.id} · {r.kind} · {r.username} {r.display_name}",
                placeholder="请选择",
            )
            if st.form_submit_button("撤回"):
                with shown_as_error(), session_scope() as session:
                    role_grants.cancel(session, actor=actor, grant_id=withdrawn.id)
                    st.rerun()
    else:
        st.caption("没有待批准的申请。")
    if decided:
        with st.expander("最近处理的申请"):
            show_table(
                pd.DataFrame(
                    [
                        (
                            r.id,
                            r.kind,
                            r.username,
                            r.display_name,
                            r.role,
                            r.scope,
                            r.status,
                            r.decided_by,
                            display.clock(r.decided_at),
                            r.note,
                        )
                        for r in decided
                    ],
                    columns=[
                        "编号",
                        "申请",
                        "账号",
                        "姓名",
                        "角色",
                        "管辖范围",
                        "结果",
                        "处理人",
                        display.timed("处理时间"),
                        "驳回原因",
                    ],
                ),
                hide_index=True,
                width="stretch",
            )
