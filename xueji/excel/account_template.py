"""The account workbook (账号导入): sheets 账号 and 任教班级, as a blank template with instructions and an example
row, or filled from rows (the demo and the tests build theirs so); its error workbook; and the passwords
workbook of the accounts created (one-time passwords, to hand over)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from openpyxl import Workbook

from xueji.auth import GRANT_APPROVERS
from xueji.clock import china_time
from xueji.excel.fill_in import workbook_bytes, write_sheet
from xueji.excel.row_problems import RowProblem, error_rows
from xueji.excel.simple_table import SheetSpec, TableRow
from xueji.excel.tables import tables_to_xlsx
from xueji.rules.vocab import Role

ACCOUNT_SHEET = "账号"
CLASS_SHEET = "任教班级"
ACCOUNT_COLUMNS = {
    "账号": "username",
    "姓名": "name",
    "角色": "role",
    "管辖范围代码": "scope_code",
    "手机号": "phone",
}
CLASS_COLUMNS = {"账号": "username", "学校标识码": "school_code", "班号": "class_code", "是否班主任": "head"}
SPECS = (
    SheetSpec(ACCOUNT_SHEET, ACCOUNT_COLUMNS, required=("账号", "姓名", "角色", "管辖范围代码")),
    SheetSpec(CLASS_SHEET, CLASS_COLUMNS, required=("账号", "学校标识码", "班号")),
)
COLUMNS = {ACCOUNT_SHEET: ACCOUNT_COLUMNS, CLASS_SHEET: CLASS_COLUMNS}
# the roles an account workbook may hold: those an administrator requests in the app (auth.GRANT_APPROVERS)
ROLE_CHOICES = tuple(r for r in Role if r in GRANT_APPROVERS)
YES, NO = "是", "否"

_NOTES = {
    ACCOUNT_SHEET: (
        "账号:每行一个人的账号。账号由英文字母、数字、下划线和点组成,如 zhang.li;一人一号,不得共用。",
        "角色:" + "、".join(r.label for r in ROLE_CHOICES) + "。系统管理员、审计员账号不能导入,"
        "只能由运维在服务器命令行上逐个创建。",
        "管辖范围代码:学籍管理员、班主任/教师填10位学校标识码;乡镇干部填乡镇的12位行政区划代码;"
        "县教育局填县区的12位代码;送教上门协调员填学校、乡镇或县区的代码。手机号:11位手机号,可不填。",
    ),
    CLASS_SHEET: (
        "任教班级:班主任/教师任教的班级,每行一个班;账号须在“账号”表中(或系统中已有的教师账号)。",
        "学校标识码须是该教师账号的学校;班号7位:4位入学年份+1位学段(1小学、2初中)+2位班级编号,如 2026101。",
        "是否班主任:是 或 否(空着为否);每个班只能有一名班主任。系统中还没有的班级会新建(空班,学籍导入时填入学生)。",
    ),
}
_EXAMPLES = {
    ACCOUNT_SHEET: ("zhang.li", "张丽", Role.TEACHER.label, "2143016965", "13800000000"),
    CLASS_SHEET: ("zhang.li", "2143016965", "2026101", YES),
}
_CHOICES = {
    ACCOUNT_SHEET: {"角色": [r.label for r in ROLE_CHOICES]},
    CLASS_SHEET: {"是否班主任": [YES, NO]},
}


@dataclass(frozen=True)
class AccountLine:
    """One row of the 账号 sheet."""

    username: str
    name: str
    role: Role | str  # a Role is written as its label; text as it is (a test's wrong role)
    scope_code: str
    phone: str = ""


@dataclass(frozen=True)
class ClassLine:
    """One row of the 任教班级 sheet."""

    username: str
    school_code: str
    class_code: str
    head_teacher: bool | str = False  # 是 / 否; text as it is


def _text(value: Role | bool | str) -> str:
    if isinstance(value, Role):
        return value.label
    if isinstance(value, bool):
        return YES if value else NO
    return value


def _workbook(accounts: Sequence[AccountLine], classes: Sequence[ClassLine], *, example: bool) -> bytes:
    rows: dict[str, list[tuple[str, ...]]] = {
        ACCOUNT_SHEET: [(a.username, a.name, _text(a.role), a.scope_code, a.phone) for a in accounts],
        CLASS_SHEET: [(c.username, c.school_code, c.class_code, _text(c.head_teacher)) for c in classes],
    }
    wb = Workbook()
    wb.remove(wb.active)
    for spec in SPECS:
        write_sheet(
            wb.create_sheet(spec.name),
            headers=list(spec.headers),
            required=spec.required,
            notes=_NOTES[spec.name],
            example=_EXAMPLES[spec.name] if example else None,
            rows=rows[spec.name],
            choices=_CHOICES[spec.name],
        )
    return workbook_bytes(wb)


def blank_template() -> bytes:
    """The blank account workbook: each sheet with its instructions, headers and an example row."""
    return _workbook((), (), example=True)


def filled_workbook(accounts: Sequence[AccountLine], classes: Sequence[ClassLine] = ()) -> bytes:
    """An account workbook holding these rows, without example rows."""
    return _workbook(accounts, classes, example=False)


def error_workbook(
    rows: Mapping[str, Sequence[TableRow]], problems: Mapping[str, Sequence[RowProblem]]
) -> bytes:
    """Each sheet's rows with problems as they were, with their reasons, one sheet per sheet that has any: fix
    them and import the file again (the sheets and headers are the template's)."""
    return tables_to_xlsx(
        {
            sheet: error_rows(rows.get(sheet, ()), problems[sheet], columns)
            for sheet, columns in COLUMNS.items()
            if problems.get(sheet)
        }
    )


@dataclass(frozen=True)
class PasswordLine:
    """An account created, with the one-time password to hand over to its owner."""

    username: str
    name: str
    role: str  # the label
    scope: str  # the county's, township's or school's name
    password: str
    valid_until: datetime


PASSWORD_COLUMNS = ["账号", "姓名", "角色", "管辖范围", "一次性密码", "有效期至"]


def passwords_workbook(lines: Sequence[PasswordLine]) -> bytes:
    """The one-time passwords of the accounts created: to hand over in person, then destroy."""
    return tables_to_xlsx(
        {
            "一次性密码": pd.DataFrame(
                [(p.username, p.name, p.role, p.scope, p.password, china_time(p.valid_until)) for p in lines],
                columns=PASSWORD_COLUMNS,
            )
        }
    )
