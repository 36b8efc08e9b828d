"""Resident identity numbers (居民身份证号, GB 11643): 18 characters with a MOD 11-2 check digit."""

from __future__ import annotations

from datetime import date
from operator import mul

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """Return the MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("需要17位数字")
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def build_id_number(region: str, birth: date, sequence: int, *, male: bool) -> str:
    """Build a valid 18-character number; sequence (0–499) gives digits 15–17 with the sex parity."""
    if not 0 <= sequence < 500:
        raise ValueError("sequence 应在 0–499 之间")
    order = sequence * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)
