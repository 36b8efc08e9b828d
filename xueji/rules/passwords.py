"""Password rules: at least 8 characters drawn from at least 3 of 4 classes."""

from __future__ import annotations

import string

MIN_LENGTH = 8
MIN_CLASSES = 3


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


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Return every reason (in Chinese) the password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少 {MIN_LENGTH} 位")
    if character_classes(password) < MIN_CLASSES:
        problems.append("密码须包含小写字母、大写字母、数字、符号中的至少三类")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含账号名")
    return problems
