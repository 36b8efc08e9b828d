"""四查三比对's lists from other departments: what each list is, the headers of its template, the categories it
names, and how one person on a list is known from one version to the next (person_key)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class ListKind(StrEnum):
    """A department's list. The value is also the CLI's word: `xueji import residents FILE`."""

    RESIDENTS = "residents"  # 户籍: school-age children with their household here (public security)
    WELFARE = "welfare"  # 民政: orphans, children without de facto care, children in hardship
    DISABLED = "disabled"  # 残联: disabled children
    HOUSEHOLDS = "households"  # 乡村振兴: members of 脱贫户 and 防返贫监测户

    @property
    def label(self) -> str:
        return {
            "residents": "户籍适龄儿童名单",
            "welfare": "民政困境儿童名单",
            "disabled": "残联残疾儿童名单",
            "households": "乡村振兴脱贫户/监测户名单",
        }[self.value]

    @property
    def short(self) -> str:
        """The source as a ledger's 来源 column names it."""
        return {"residents": "户籍", "welfare": "民政", "disabled": "残联", "households": "乡村振兴"}[
            self.value
        ]

    @property
    def department(self) -> str:
        return {
            "residents": "公安(户籍)",
            "welfare": "民政部门",
            "disabled": "残疾人联合会",
            "households": "乡村振兴部门",
        }[self.value]

    @property
    def columns(self) -> dict[str, str]:
        """The template's headers, in order: Chinese header → key."""
        return _COLUMNS[self]

    @property
    def required(self) -> tuple[str, ...]:
        return _REQUIRED[self]


_COLUMNS: dict[ListKind, dict[str, str]] = {
    ListKind.RESIDENTS: {
        "姓名": "name",
        "性别": "sex",
        "出生日期": "birth_date",
        "身份证号": "id_number",
        "户籍地址": "address",
        "户籍地行政区划代码": "village_code",
        "监护人姓名": "guardian_name",
        "监护人电话": "guardian_phone",
    },
    ListKind.WELFARE: {
        "姓名": "name",
        "身份证号": "id_number",
        "类别": "category",
        "监护人": "guardian_name",
        "认定日期": "recognised_on",
    },
    ListKind.DISABLED: {
        "姓名": "name",
        "身份证号": "id_number",
        "残疾类别": "category",
        "残疾等级": "grade",
        "残疾证号": "certificate",
    },
    ListKind.HOUSEHOLDS: {
        "户主姓名": "head_name",
        "户主身份证号": "head_id_number",
        "成员姓名": "name",
        "成员身份证号": "id_number",
        "户类型": "category",
    },
}
_REQUIRED: dict[ListKind, tuple[str, ...]] = {
    ListKind.RESIDENTS: ("姓名", "出生日期", "身份证号", "户籍地行政区划代码"),
    ListKind.WELFARE: ("姓名", "身份证号", "类别"),
    ListKind.DISABLED: ("姓名", "身份证号", "残疾类别"),
    ListKind.HOUSEHOLDS: ("户主姓名", "成员姓名", "成员身份证号", "户类型"),
}

# 民政's categories, as the list names them; the case category each gives (rules.cases.CaseCategory values)
WELFARE_CATEGORIES: dict[str, str] = {
    "孤儿": "orphan",
    "事实无人抚养儿童": "orphan",
    "困境儿童": "hardship",
    "低保家庭儿童": "hardship",
    "特困供养儿童": "hardship",
}
# 乡村振兴's household types: the children of these households are priority (重点) in every ledger
HOUSEHOLD_TYPES: tuple[str, ...] = ("脱贫户", "防返贫监测户", "监测户", "突发严重困难户", "边缘易致贫户")


def person_key(*, id_number: str | None, name: str, birth_date: date | None) -> str:
    """How a person on a list is known across versions and decisions: the ID number, else name and birth date."""
    if id_number:
        return id_number.upper()
    return f"{name.strip()}|{birth_date.isoformat() if birth_date else ''}"
