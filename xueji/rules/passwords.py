"""Password rules: at least 8 characters from at least 3 of 4 classes, not a common or public password; and
when a one-time password has expired."""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files

MIN_LENGTH = 8
MIN_CLASSES = 3
PRODUCT_NAME = "xueji"  # the demo's password is public and built on it; so would a guesser's first tries be


def character_classes(password: str) -> int:
    """Count the classes present: lowercase, uppercase, digits, other symbols."""
    return sum(
        (
            any(c in string.ascii_lowercase for c in password),
            any(c in string.ascii_uppercase for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


@cache
def blocked_passwords() -> frozenset[str]:
    """The common passwords refused whatever their classes (lower-cased), from the list shipped with the package."""
    text = files("xueji.rules").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Return every reason (in Chinese) the password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少 {MIN_LENGTH} 位")
    if character_classes(password) < MIN_CLASSES:
        problems.append("密码须包含小写字母、大写字母、数字、符号中的至少三类")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含账号名")
    if password.lower() in blocked_passwords():
        problems.append("这是常见密码或公开的演示密码,很容易被猜中,请换一个")
    elif PRODUCT_NAME in password.lower():
        problems.append("密码不能包含系统名称 xueji")
    return problems


def one_time_password_expired(*, issued_at: datetime | None, now: datetime, valid: timedelta) -> bool:
    """Tell whether a one-time password issued then is too old to sign in with (unknown issue time: expired)."""
    return issued_at is None or now - issued_at >= valid
