"""The password blocklist on top of the class rule, one-time password expiry, and the separation-of-duties matrix."""

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from xueji.auth import (
    COMMAND_LINE_ROLES,
    GRANT_APPROVERS,
    PERMISSIONS,
    Action,
    hash_password,
    needs_rehash,
    verify_password,
)
from xueji.demo.build import DEMO_PASSWORD
from xueji.rules.passwords import (
    blocked_passwords,
    character_classes,
    one_time_password_expired,
    password_problems,
)
from xueji.rules.vocab import Role
from xueji.services.system.role_grants import approvers_label

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
VALID = timedelta(hours=72)


@pytest.mark.parametrize(
    "password",
    [DEMO_PASSWORD, "Password1", "Password1!", "P@ssw0rd", "Admin@123", "1qaz@WSX"],
)
def test_common_and_demo_passwords_are_refused_though_they_pass_the_class_rule(password):
    assert character_classes(password) >= 3 and len(password) >= 8
    assert any("常见密码" in p for p in password_problems(password))


def test_the_blocklist_ignores_case():
    assert password_problems("pASSWORD1") != []
    assert "password1" in blocked_passwords()


def test_a_password_built_on_the_product_name_is_refused():
    assert any("xueji" in p for p in password_problems("Xueji#2027"))


def test_an_uncommon_password_of_three_classes_is_accepted():
    assert password_problems("Gugang#2027") == []


def test_a_one_time_password_expires_after_its_period_and_not_before():
    assert not one_time_password_expired(issued_at=T0, now=T0 + VALID - timedelta(seconds=1), valid=VALID)
    assert one_time_password_expired(issued_at=T0, now=T0 + VALID, valid=VALID)
    assert one_time_password_expired(issued_at=None, now=T0, valid=VALID)


def test_a_hash_made_with_other_argon2_parameters_needs_rehashing():
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("Gugang#2027")
    assert verify_password(weak, "Gugang#2027") and needs_rehash(weak)
    assert not needs_rehash(hash_password("Gugang#2027"))


def test_no_role_that_reads_children_is_granted_without_an_approver():
    reads = {
        r for r, actions in PERMISSIONS.items() if Action.STUDENT_READ in actions and r is not Role.SYSTEM
    }
    assert reads <= set(GRANT_APPROVERS)
    assert set(GRANT_APPROVERS) | COMMAND_LINE_ROLES | {Role.SYSTEM} == set(Role)


def test_the_admin_the_auditor_and_the_supervisors_approve_nothing_and_are_made_on_the_command_line_only():
    approvers = set().union(*GRANT_APPROVERS.values())
    above = {Role.ADMIN, Role.AUDITOR, Role.CITY_OFFICER, Role.PROVINCE_OFFICER}
    assert not approvers & above
    assert above == COMMAND_LINE_ROLES
    assert all(Action.GRANT_APPROVE in PERMISSIONS[a] for a in approvers)
    assert Action.GRANT_APPROVE not in PERMISSIONS[Role.ADMIN]


def test_the_approvers_are_named_in_chinese():
    assert approvers_label(Role.TEACHER) == "本校学籍管理员或本县县教育局"
    assert approvers_label(Role.REGISTRAR) == "本县县教育局"
    assert approvers_label(Role.AUDITOR) == "服务器命令行"
