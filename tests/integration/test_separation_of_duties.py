"""Separation of duties, the whole matrix: the administrator requests, the role the matrix names (in a scope that
holds the request's) approves, everyone else is refused and the refusal audited; administrator and auditor
accounts are made on the command line only; and no chain of the administrator's own actions reads a child's
full ID number."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select

from tests.factories import new_registrar
from xueji.auth import Action, PermissionDenied
from xueji.cli import main as xueji_main
from xueji.db import session_scope
from xueji.demo.build import DEMO_PASSWORD
from xueji.models import AppUser, AuditLog, RoleGrant
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.registry import students
from xueji.services.system import accounts, audit_log, role_grants

COUNTY = "430181000000"
GUGANG = "430181108000"
SHASHI = "430181106000"
SCHOOL = "2143016965"  # 古港镇完全小学, demo_registrar's school
NEIGHBOUR = "2143016967"  # 古港镇梅田小学

# (role, scope kind, scope code) → who may approve; everyone else in the county is refused.
MATRIX = [
    (Role.COUNTY_OFFICER, ScopeKind.COUNTY, COUNTY, {"demo_county"}),
    (Role.TOWNSHIP_OFFICIAL, ScopeKind.TOWNSHIP, GUGANG, {"demo_county"}),
    (Role.COORDINATOR, ScopeKind.COUNTY, COUNTY, {"demo_county"}),
    (Role.COORDINATOR, ScopeKind.TOWNSHIP, SHASHI, {"demo_county"}),
    (Role.COORDINATOR, ScopeKind.SCHOOL, SCHOOL, {"demo_county"}),
    (Role.REGISTRAR, ScopeKind.SCHOOL, SCHOOL, {"demo_county"}),
    (Role.TEACHER, ScopeKind.SCHOOL, SCHOOL, {"demo_county", "demo_registrar"}),
]
EVERYONE = [
    "demo_admin",
    "demo_auditor",
    "demo_county",
    "demo_township",
    "demo_registrar",
    "demo_teacher",
    "demo_coordinator",
    "reg_meitian",  # a registrar of another school
]


def _denials(engine: Engine, username: str) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.username == username, AuditLog.outcome == "denied")
        )


def refused(engine: Engine, username: str, call: Callable[[], object], match: str | None = None) -> None:
    """The call is refused with a Chinese message, and the refusal is in the audit log under the caller's name."""
    before = _denials(engine, username)
    with pytest.raises(PermissionDenied, match=match):
        call()
    assert _denials(engine, username) == before + 1, username


def _request(session, admin, username, role, kind, code):
    return role_grants.request_account(
        session,
        actor=admin,
        username=username,
        display_name="新同事",
        role=role,
        scope_kind=kind,
        scope_code=code,
    )


@pytest.mark.parametrize(
    ("role", "kind", "code", "approvers"), MATRIX, ids=[f"{r.value}-{k.value}" for r, k, _, _ in MATRIX]
)
def test_each_role_and_scope_is_approved_by_its_approvers_only(
    demo_engine, actors, role, kind, code, approvers
):
    with session_scope(demo_engine) as session:
        who = dict(actors) | {
            "reg_meitian": new_registrar(session, actors["demo_admin"], "reg_meitian", NEIGHBOUR)
        }
        grant = _request(session, who["demo_admin"], "asked_1", role, kind, code)
        assert session.scalar(select(AppUser.id).where(AppUser.username == "asked_1")) is None
        for name in EVERYONE:
            if name in approvers:
                continue
            refused(
                demo_engine,
                name,
                lambda a=who[name]: role_grants.approve(session, actor=a, grant_id=grant.id),
            )
            refused(
                demo_engine,
                name,
                lambda a=who[name]: role_grants.reject(session, actor=a, grant_id=grant.id, reason="不同意"),
            )
            if who[name].can(Action.GRANT_APPROVE):
                assert role_grants.awaiting(session, actor=who[name]) == [], name
        for n, name in enumerate(sorted(approvers)):
            if n:
                grant = _request(session, who["demo_admin"], f"asked_{n + 1}", role, kind, code)
            assert [r.id for r in role_grants.awaiting(session, actor=who[name])] == [grant.id]
            approved = role_grants.approve(session, actor=who[name], grant_id=grant.id)
            signed = accounts.authenticate(session, username=approved.username, password=approved.password)
            assert signed.must_change_password
            assert (signed.actor.role, signed.actor.scope_kind) == (role, kind)
            entry = session.scalars(
                select(AuditLog).where(AuditLog.action == "grant_approve").order_by(AuditLog.id.desc())
            ).first()
            assert (entry.username, entry.entity_id) == (name, str(grant.id))


def test_every_direct_path_to_power_is_refused_to_the_administrator_and_audited(
    demo_engine, actors, use_database
):
    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        operator = accounts.system_actor(session)
        accounts.create_user(
            session,
            actor=operator,
            username="admin2",
            display_name="第二管理员",
            role=Role.ADMIN,
            scope_kind=ScopeKind.COUNTY,
            scope_code=COUNTY,
        )
        ids = {
            name: accounts.user_id_of(session, name) for name in ("demo_auditor", "demo_teacher", "admin2")
        }
        own = _request(session, admin, "mine_1", Role.TEACHER, ScopeKind.SCHOOL, SCHOOL)

        def new(role):
            return lambda: accounts.create_user(
                session,
                actor=admin,
                username=f"direct_{role.value}",
                display_name="直建",
                role=role,
                scope_kind=ScopeKind.COUNTY if role is not Role.TEACHER else ScopeKind.SCHOOL,
                scope_code=COUNTY if role is not Role.TEACHER else SCHOOL,
            )

        paths = [
            (new(Role.TEACHER), "经第二人批准"),
            (new(Role.COUNTY_OFFICER), "经第二人批准"),
            (new(Role.AUDITOR), "经第二人批准"),
            (new(Role.ADMIN), "经第二人批准"),
            (lambda: accounts.reset_password(session, actor=admin, user_id=ids["demo_teacher"]), "批准"),
            (lambda: accounts.reset_password(session, actor=admin, user_id=ids["demo_auditor"]), "批准"),
            (
                lambda: accounts.set_role_and_scope(
                    session,
                    actor=admin,
                    user_id=ids["demo_teacher"],
                    role=Role.AUDITOR,
                    scope_kind=ScopeKind.COUNTY,
                    scope_code=COUNTY,
                ),
                "批准",
            ),
            (
                lambda: accounts.set_role_and_scope(
                    session,
                    actor=admin,
                    user_id=admin.user_id,
                    role=Role.COUNTY_OFFICER,
                    scope_kind=ScopeKind.COUNTY,
                    scope_code=COUNTY,
                ),
                "批准",
            ),
            (lambda: _request(session, admin, "aud_x", Role.AUDITOR, ScopeKind.COUNTY, COUNTY), "命令行"),
            (lambda: _request(session, admin, "adm_x", Role.ADMIN, ScopeKind.COUNTY, COUNTY), "命令行"),
            (
                lambda: role_grants.request_role_change(
                    session,
                    actor=admin,
                    user_id=ids["demo_teacher"],
                    role=Role.AUDITOR,
                    scope_kind=ScopeKind.COUNTY,
                    scope_code=COUNTY,
                ),
                "命令行",
            ),
            (
                lambda: role_grants.request_role_change(
                    session,
                    actor=admin,
                    user_id=ids["demo_auditor"],
                    role=Role.COUNTY_OFFICER,
                    scope_kind=ScopeKind.COUNTY,
                    scope_code=COUNTY,
                ),
                "审计员账号",
            ),
            (
                lambda: role_grants.request_password_reset(session, actor=admin, user_id=ids["demo_auditor"]),
                "审计员",
            ),
            (
                lambda: role_grants.request_password_reset(session, actor=admin, user_id=ids["admin2"]),
                "命令行",
            ),
            (
                lambda: accounts.set_active(session, actor=admin, user_id=ids["demo_auditor"], active=False),
                "审计员",
            ),
            (lambda: role_grants.approve(session, actor=admin, grant_id=own.id), "审批账号申请"),
            (lambda: role_grants.reject(session, actor=admin, grant_id=own.id, reason="x"), "审批账号申请"),
            (lambda: role_grants.awaiting(session, actor=admin), "审批账号申请"),
        ]
        for call, match in paths:
            refused(demo_engine, "demo_admin", call, match)
        # nobody else may ask either
        for name in ("demo_county", "demo_registrar", "demo_auditor"):
            refused(
                demo_engine,
                name,
                lambda a=actors[name]: _request(
                    session, a, "by_other", Role.TEACHER, ScopeKind.SCHOOL, SCHOOL
                ),
                "管理账号",
            )
        assert (
            session.scalar(select(func.count()).select_from(AppUser).where(AppUser.username.like("direct_%")))
            == 0
        )
        session.expire_all()
        assert session.get(AppUser, ids["demo_auditor"]).is_active
        assert accounts.load_actor(session, ids["demo_teacher"])[0].role is Role.TEACHER
    # nor through the command line acting as the administrator
    before = _denials(demo_engine, "demo_admin")
    assert xueji_main(["user", "reset-password", "demo_auditor", "--as", "demo_admin"]) == 1
    assert xueji_main(["user", "add", "aud9", "--name", "审", "--role", "auditor", "--scope-kind", "county",
                       "--scope", COUNTY, "--as", "demo_admin"]) == 1  # fmt: skip
    assert _denials(demo_engine, "demo_admin") == before + 2


def test_the_auditor_is_created_and_reset_on_the_command_line_and_that_is_audited(
    demo_engine, use_database, capsys
):
    assert xueji_main(["user", "add", "aud2", "--name", "钱审计", "--role", "auditor", "--scope-kind", "county",
                       "--scope", COUNTY]) == 0  # fmt: skip
    first = capsys.readouterr().out.split("一次性密码:")[1].split("(")[0]
    assert xueji_main(["user", "reset-password", "aud2"]) == 0
    second = capsys.readouterr().out.split("一次性密码:")[1].split("(")[0]
    with session_scope(demo_engine) as session:
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(session, username="aud2", password=first)
        signed = accounts.authenticate(session, username="aud2", password=second)
        assert signed.actor.role is Role.AUDITOR and signed.must_change_password
        user_id = accounts.user_id_of(session, "aud2")
        entries = session.scalars(
            select(AuditLog)
            .where(AuditLog.entity_type == "user", AuditLog.entity_id == str(user_id))
            .order_by(AuditLog.id)
        ).all()
        made = [(e.action, e.username, e.channel, e.detail) for e in entries if e.action != "login"]
        assert made == [
            ("create", "system", "cli", "服务器命令行"),
            ("password_reset", "system", "cli", "服务器命令行"),
        ]
        # the auditor reads these entries; the administrator does not
        frame, _ = audit_log.list_entries(
            session, actor=signed.actor, filter=audit_log.AuditFilter(action="password_reset"), limit=10
        )
        assert len(frame) >= 1


def test_an_approver_never_approves_a_change_to_their_own_account(demo_engine, actors):
    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        other, _ = accounts.create_user(
            session,
            actor=accounts.system_actor(session),
            username="county2",
            display_name="第二科长",
            role=Role.COUNTY_OFFICER,
            scope_kind=ScopeKind.COUNTY,
            scope_code=COUNTY,
        )
        county, county2 = actors["demo_county"], accounts.actor_of(other)
        reset = role_grants.request_password_reset(session, actor=admin, user_id=county.user_id)
        assert role_grants.awaiting(session, actor=county) == []
        refused(
            demo_engine,
            "demo_county",
            lambda: role_grants.approve(session, actor=county, grant_id=reset.id),
            "自己",
        )
        assert [r.id for r in role_grants.awaiting(session, actor=county2)] == [reset.id]
        role_grants.reject(session, actor=county2, grant_id=reset.id, reason="本人未申请")
        grant = role_grants.request_role_change(
            session,
            actor=admin,
            user_id=county.user_id,
            role=Role.TOWNSHIP_OFFICIAL,
            scope_kind=ScopeKind.TOWNSHIP,
            scope_code=GUGANG,
        )
        refused(
            demo_engine,
            "demo_county",
            lambda: role_grants.reject(session, actor=county, grant_id=grant.id, reason="不"),
            "自己",
        )
        role_grants.approve(session, actor=county2, grant_id=grant.id)
        assert accounts.load_actor(session, county.user_id)[0].role is Role.TOWNSHIP_OFFICIAL


def test_a_reset_is_handed_to_the_approver_and_a_rejection_or_withdrawal_changes_nothing(demo_engine, actors):
    admin, registrar, county = actors["demo_admin"], actors["demo_registrar"], actors["demo_county"]
    with session_scope(demo_engine) as session:
        teacher_id = accounts.user_id_of(session, "demo_teacher")
        reset = role_grants.request_password_reset(session, actor=admin, user_id=teacher_id)
        with pytest.raises(accounts.AccountError, match="待批准的申请"):
            role_grants.request_password_reset(session, actor=admin, user_id=teacher_id)
        assert accounts.authenticate(
            session, username="demo_teacher", password=DEMO_PASSWORD
        )  # unchanged so far
        handed = role_grants.approve(session, actor=registrar, grant_id=reset.id)
        with pytest.raises(accounts.AccountError, match="已被处理"):
            role_grants.approve(session, actor=county, grant_id=reset.id)  # the second approver is too late
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(session, username="demo_teacher", password=DEMO_PASSWORD)
        assert accounts.authenticate(
            session, username="demo_teacher", password=handed.password
        ).must_change_password

        rejected = _request(session, admin, "nobody_1", Role.REGISTRAR, ScopeKind.SCHOOL, SCHOOL)
        with pytest.raises(accounts.AccountError, match="驳回原因"):
            role_grants.reject(session, actor=county, grant_id=rejected.id, reason=" ")
        role_grants.reject(session, actor=county, grant_id=rejected.id, reason="查无此人")
        withdrawn = _request(session, admin, "nobody_2", Role.TEACHER, ScopeKind.SCHOOL, SCHOOL)
        role_grants.cancel(session, actor=admin, grant_id=withdrawn.id)
        assert (
            session.scalar(select(func.count()).select_from(AppUser).where(AppUser.username.like("nobody_%")))
            == 0
        )
        pending, decided = role_grants.requests(session, actor=admin)
        assert pending == []
        assert [(r.username, r.status, r.note) for r in decided[:3]] == [
            ("nobody_2", "已撤回", ""),
            ("nobody_1", "已驳回", "查无此人"),
            ("demo_teacher", "已批准", ""),
        ]
        assert decided[2].decided_by == "李学籍(demo_registrar)" and decided[2].kind == "重置密码"


def test_the_registrar_sees_only_teacher_requests_of_their_own_school(demo_engine, actors):
    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        mine = _request(session, admin, "t_here", Role.TEACHER, ScopeKind.SCHOOL, SCHOOL)
        _request(session, admin, "t_there", Role.TEACHER, ScopeKind.SCHOOL, NEIGHBOUR)
        _request(session, admin, "r_here", Role.REGISTRAR, ScopeKind.SCHOOL, SCHOOL)
        assert [r.id for r in role_grants.awaiting(session, actor=actors["demo_registrar"])] == [mine.id]
        assert role_grants.awaiting_count(session, actor=actors["demo_county"]) == 3
        assert role_grants.awaiting_count(session, actor=actors["demo_teacher"]) == 0
        [row] = role_grants.awaiting(session, actor=actors["demo_registrar"])
        assert (row.kind, row.role, row.scope, row.approvers) == (
            "新建账号",
            "班主任/教师",
            "古港镇完全小学",
            "本校学籍管理员或本县县教育局",
        )


def _read_paths(session, actor, student_id):
    return [
        lambda: students.reveal_identifiers(session, actor=actor, student_id=student_id, reason="核实"),
        lambda: students.export_roster(session, actor=actor, unmasked=True, reason="核实"),
        lambda: students.list_students(session, actor=actor, limit=10),
        lambda: audit_log.list_entries(session, actor=actor, filter=audit_log.AuditFilter(), limit=10),
    ]


def test_no_chain_of_the_administrators_own_actions_reads_a_childs_full_id_number(demo_engine, actors):
    admin = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        student_id = students.list_students(session, actor=actors["demo_county"], limit=1).rows[0].id
        hashes_before = dict(session.execute(select(AppUser.username, AppUser.password_hash)).all())
        seen: list[object] = []  # everything the administrator's calls handed back
        # everything the administrator may do: ask for accounts of every role, for their own account to read,
        # for resets of accounts that read, disable and enable, list
        for n, (role, kind, code, _) in enumerate(MATRIX):
            seen.append(_request(session, admin, f"chain_{n}", role, kind, code))
        seen.append(
            role_grants.request_role_change(
                session,
                actor=admin,
                user_id=admin.user_id,
                role=Role.COUNTY_OFFICER,
                scope_kind=ScopeKind.COUNTY,
                scope_code=COUNTY,
            )
        )
        for name in ("demo_county", "demo_registrar", "demo_coordinator", "demo_township"):
            seen.append(
                role_grants.request_password_reset(session, actor=admin, user_id=actors[name].user_id)
            )
        accounts.set_active(session, actor=admin, user_id=actors["demo_teacher"].user_id, active=False)
        accounts.set_active(session, actor=admin, user_id=actors["demo_teacher"].user_id, active=True)
        seen += accounts.list_users(session, actor=admin)
        # and what is refused to them (each audited, as the test above shows)
        for call in (
            lambda: accounts.reset_password(session, actor=admin, user_id=actors["demo_county"].user_id),
            lambda: accounts.create_user(
                session,
                actor=admin,
                username="x_county",
                display_name="x",
                role=Role.COUNTY_OFFICER,
                scope_kind=ScopeKind.COUNTY,
                scope_code=COUNTY,
            ),
        ):
            with pytest.raises(PermissionDenied):
                call()

        # nothing took effect: no new account, no password changed, the administrator is still an administrator
        session.expire_all()
        assert dict(session.execute(select(AppUser.username, AppUser.password_hash)).all()) == hashes_before
        me, _ = accounts.load_actor(session, admin.user_id)
        assert me.role is Role.ADMIN
        for read in _read_paths(session, me, student_id):
            with pytest.raises(PermissionDenied):
                read()
        # the administrator never held a password: what they were handed holds no secret of an account
        assert all(not isinstance(item, str) for item in seen)
        assert not any(hasattr(item, "password_hash") and item.password_hash for item in seen)

        # once a second person approves, the one-time passwords go to that person, never into what the
        # administrator can see
        county = actors["demo_county"]
        pending_ids = session.scalars(
            select(RoleGrant.id).where(RoleGrant.status == "pending").order_by(RoleGrant.id)
        ).all()
        handed = []
        for grant_id in pending_ids:
            grant = session.get(RoleGrant, grant_id)
            if grant.user_id in (admin.user_id, county.user_id):
                continue  # the administrator's own account, and the approver's own reset: not this approver's
            handed.append(role_grants.approve(session, actor=county, grant_id=grant_id))
        secrets_ = [h.password for h in handed if h.password]
        assert (
            len(secrets_) == len(MATRIX) + 3
        )  # the new accounts and the resets (not the county officer's own)
        pending, decided = role_grants.requests(session, actor=admin)
        visible = repr(pending) + repr(decided) + repr(accounts.list_users(session, actor=admin))
        assert not any(s in visible for s in secrets_)
        with session_scope(demo_engine) as fresh:
            logged = " ".join(
                str(e.before) + str(e.after) + str(e.detail) for e in fresh.scalars(select(AuditLog))
            )
        assert not any(s in logged for s in secrets_)
