"""Administrative division codes (行政区划代码): 12 digits, province(2) city(2) county(2) township(3) village(3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DivisionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class DivisionCodeError(ValueError):
    """The text is not a 12-digit division code."""


@dataclass(frozen=True)
class DivisionCode:
    code: str

    @property
    def province(self) -> str:
        return self.code[:2]

    @property
    def county_code(self) -> str:
        """The 12-digit code of the county this division lies in."""
        return self.code[:6] + "000000"

    @property
    def township_code(self) -> str:
        """The 12-digit code of the township this division lies in."""
        return self.code[:9] + "000"

    @property
    def level(self) -> DivisionLevel:
        c = self.code
        if c[9:] != "000":
            return DivisionLevel.VILLAGE
        if c[6:9] != "000":
            return DivisionLevel.TOWNSHIP
        if c[4:6] != "00":
            return DivisionLevel.COUNTY
        if c[2:4] != "00":
            return DivisionLevel.CITY
        return DivisionLevel.PROVINCE

    def is_within(self, other: DivisionCode) -> bool:
        """Tell whether this division lies inside (or is) the other one."""
        prefix = {
            DivisionLevel.PROVINCE: 2,
            DivisionLevel.CITY: 4,
            DivisionLevel.COUNTY: 6,
            DivisionLevel.TOWNSHIP: 9,
            DivisionLevel.VILLAGE: 12,
        }[other.level]
        return self.code[:prefix] == other.code[:prefix]


def parse_division_code(text: str) -> DivisionCode:
    """Parse a 12-digit division code, or raise DivisionCodeError with a Chinese reason."""
    code = text.strip()
    if len(code) != 12 or not code.isascii() or not code.isdigit():
        raise DivisionCodeError(f"行政区划代码应为12位数字,实际为“{text}”")
    if code[:2] == "00":
        raise DivisionCodeError(f"行政区划代码的省级代码不能为00:“{text}”")
    return DivisionCode(code)
