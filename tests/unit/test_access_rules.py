from datetime import UTC, datetime, timedelta

import pytest

from xueji.auth import PERMISSIONS, ROLE_SCOPES, Action, hash_password, verify_password
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.passwords import password_problems
from xueji.rules.sessions import lockout_until, session_end_reason
from xueji.rules.vocab import Role

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)


@pytest.mark.parametrize("password", ["Abcdef12", "abcdef1!", "ABCDEF1!", "Gugang#2027", "长城Ab1!xx"])
def test_eight_characters_from_three_classes_are_accepted(password):
    assert password_problems(password) == []


@pytest.mark.parametrize(
    ("password", "reason"),
    [("Ab1!", "至少 8 位"), ("abcdefgh1", "至少三类"), ("ABCDEFGH", "至少三类"), ("12345678!", "至少三类")],
)
def test_short_or_plain_passwords_are_refused_with_the_reason(password, reason):
    assert any(reason in p for p in password_problems(password))


def test_a_password_containing_the_username_is_refused():
    assert any("账号名" in p for p in password_problems("Zhangsan#2026", username="zhangsan"))


def test_id_numbers_are_masked_six_plus_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number(None) is None


def test_phone_numbers_are_masked_three_plus_four():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""


def test_a_session_ends_after_thirty_idle_minutes():
    assert (
        session_end_reason(
            login_at=T0, last_seen=T0, now=T0 + timedelta(minutes=29), idle=IDLE, absolute=ABSOLUTE
        )
        is None
    )
    reason = session_end_reason(
        login_at=T0, last_seen=T0, now=T0 + timedelta(minutes=30), idle=IDLE, absolute=ABSOLUTE
    )
    assert reason and "30 分钟" in reason


def test_an_active_session_still_ends_after_twelve_hours():
    at = T0 + timedelta(hours=12)
    reason = session_end_reason(
        login_at=T0, last_seen=at - timedelta(minutes=1), now=at, idle=IDLE, absolute=ABSOLUTE
    )
    assert reason and "12 小时" in reason


def test_the_fifth_failure_locks_for_ten_minutes():
    lock = timedelta(minutes=10)
    assert lockout_until(failed_logins=4, now=T0, max_failures=5, lock=lock) is None
    assert lockout_until(failed_logins=5, now=T0, max_failures=5, lock=lock) == T0 + lock


def test_passwords_are_hashed_with_argon2_and_verified():
    stored = hash_password("Xueji#2026")
    assert stored.startswith("$argon2id$") and "Xueji#2026" not in stored
    assert verify_password(stored, "Xueji#2026")
    assert not verify_password(stored, "xueji#2026")
    assert not verify_password(None, "Xueji#2026")
    assert not verify_password("not a hash", "Xueji#2026")


def test_the_admin_and_the_auditor_share_no_right():
    assert not PERMISSIONS[Role.ADMIN] & PERMISSIONS[Role.AUDITOR]
    assert Action.AUDIT_READ not in PERMISSIONS[Role.ADMIN]
    assert not any(a.value.startswith("student") for a in PERMISSIONS[Role.ADMIN] | PERMISSIONS[Role.AUDITOR])


def test_every_role_has_permissions_and_scopes():
    assert set(PERMISSIONS) == set(Role) == set(ROLE_SCOPES)
