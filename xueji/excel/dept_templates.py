"""The blank template of each department's list (户籍, 民政, 残联, 乡村振兴) as xlsx: the headers
(rules.dept_lists.ListKind.columns), required ones highlighted, ID, phone, date and code columns as text so no
digit is lost, drop-down lists for the columns with a vocabulary, and a sheet of instructions."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from xueji.excel.sweep_sheet import add_choices, add_notes
from xueji.rules.dept_lists import HOUSEHOLD_TYPES, WELFARE_CATEGORIES, ListKind
from xueji.rules.list_rows import ABOUT, DISABILITY_GRADES
from xueji.rules.registry_record import DISABILITY_TYPES

TEXT_KEYS = (
    "id_number",
    "head_id_number",
    "birth_date",
    "recognised_on",
    "village_code",
    "guardian_phone",
    "certificate",
)
WIDE_KEYS = ("id_number", "head_id_number", "address", "village_code", "certificate")
ROWS = 2000  # rows given the text format and the drop-downs; more can be pasted
REQUIRED_FILL = "FFF2CC"


def choices(kind: ListKind) -> dict[str, Sequence[str]]:
    """Header → the words its drop-down offers."""
    found: dict[ListKind, dict[str, Sequence[str]]] = {
        ListKind.RESIDENTS: {"性别": ("男", "女")},
        ListKind.WELFARE: {"类别": tuple(WELFARE_CATEGORIES)},
        ListKind.DISABLED: {
            "残疾类别": tuple(t + "残疾" for t in DISABILITY_TYPES),
            "残疾等级": DISABILITY_GRADES,
        },
        ListKind.HOUSEHOLDS: {"户类型": HOUSEHOLD_TYPES},
    }
    return found[kind]


def instructions(kind: ListKind) -> list[str]:
    common = [
        f"{kind.label}(由{kind.department}提供)填写说明",
        ABOUT[kind],
        "1. 表头不要改动;黄色表头为必填列。表头可以在前10行中的任意一行,列的顺序可以调整。",
        "2. 身份证号填18位(最后一位可以是X),系统按校验位检查;该列已设为文本格式,请勿改为数字格式。",
        "3. 日期写成 2026-11-20 或 20261120;不能晚于今天。",
        "4. 同一人不能出现两次(按身份证号判断)。",
        "5. 导入前系统逐行检查,有错误的行时一行都不导入,并给出错误报告(原始行+错误原因),改好后可直接重新导入。",
        "6. 每次导入都保存为一个新版本,取代上一版本的效力;系统列出与上一版本相比新增、移出和信息变化的人。",
    ]
    specific = {
        ListKind.RESIDENTS: [
            "7. 出生日期、性别须与身份证号一致;性别可不填(按身份证号第17位)。",
            "8. 户籍地行政区划代码填孩子户籍所在村(社区)的12位代码(末三位不全为0),须为本县的村(社区);"
            "已撤并的村填原代码也可,按并入的村计。",
            "9. 监护人电话填11位手机号或带区号的固定电话。",
        ],
        ListKind.WELFARE: [
            f"7. 类别从下拉列表中选:{'、'.join(WELFARE_CATEGORIES)}。",
            "8. 认定日期可不填;填写的不能早于孩子的出生日期。出生日期、性别按身份证号计。",
        ],
        ListKind.DISABLED: [
            f"7. 残疾类别:{'、'.join(t + '残疾' for t in DISABILITY_TYPES)}(写“视力”或“视力残疾”均可)。",
            f"8. 残疾等级:{'、'.join(DISABILITY_GRADES)},可不填;残疾证号可不填。出生日期、性别按身份证号计。",
        ],
        ListKind.HOUSEHOLDS: [
            "7. 每行一名家庭成员;同一户的各行户主姓名、户主身份证号相同,户类型也须相同。",
            f"8. 户类型:{'、'.join(HOUSEHOLD_TYPES)}。一名成员只能属于一户。",
        ],
    }[kind]
    return common + specific


def blank_template(kind: ListKind) -> bytes:
    """The list's blank template: the header row, text-formatted rows with drop-downs, and 填写说明."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = kind.short + "名单"
    headers = list(kind.columns)
    ws.append(headers)
    for i, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        if header in kind.required:
            cell.fill = PatternFill("solid", fgColor=REQUIRED_FILL)
        key = kind.columns[header]
        ws.column_dimensions[get_column_letter(i)].width = 22 if key in WIDE_KEYS else 12
        if key in TEXT_KEYS:
            for r in range(2, ROWS + 2):
                ws.cell(row=r, column=i).number_format = "@"
    ws.freeze_panes = "A2"

    add_choices(wb, ws, headers, choices(kind), rows=(2, ROWS + 1))
    notes = add_notes(wb, instructions(kind))
    notes["A1"].font = Font(bold=True, size=13)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
