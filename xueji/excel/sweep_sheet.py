"""The paper sheet of a village's household sweep (拉网式排查登记表) as xlsx: a title row, the header, the known
rows, blank rows to fill in the field, drop-down lists for the statuses, sex, disability type and the
county's schools, and a sheet of instructions. ID and phone columns are text, so no digit is lost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from xueji.excel.tables import FORMULA_START

COLUMNS = {  # header → key, in the sheet's order
    "组": "group_name",
    "户主姓名": "head_name",
    "地址": "address",
    "联系电话": "phone",
    "适龄儿童数": "school_age_count",
    "走访日期": "visited_on",
    "户备注": "household_note",
    "儿童姓名": "name",
    "身份证号": "id_number",
    "性别": "sex",
    "出生日期": "birth_date",
    "状况": "status",
    "就读学校/去向": "place",
    "残疾类型": "disability_type",
    "儿童备注": "note",
}
REQUIRED = ("户主姓名", "走访日期", "儿童姓名", "状况")
HOUSEHOLD_KEYS = (
    "group_name",
    "head_name",
    "address",
    "phone",
    "school_age_count",
    "visited_on",
    "household_note",
)
CHILD_KEYS = ("name", "id_number", "sex", "birth_date", "status", "place", "disability_type", "note")
TEXT_COLUMNS = ("联系电话", "身份证号", "走访日期", "出生日期")
BLANK_ROWS = 40
INSTRUCTIONS = (
    "填写说明",
    "1. 每行一个适龄儿童(6–15周岁);没有适龄儿童的户也填一行,儿童各列留空。",
    "2. 同一户的各行“组”“户主姓名”相同;户的信息(地址、电话、适龄儿童数、走访日期)写在任意一行即可,各行不能互相矛盾。",
    "3. 只有填了“走访日期”的户才会导入;没走访到的户留空,下次再填。",
    "4. “状况”从下拉列表中选;在本地学校就读的,“就读学校/去向”选本县学校;在外地就读的写省/县/学校;"
    "户在人不在的写去向;残疾在家的选“残疾类型”。",
    "5. 有身份证号的写18位身份证号(可不填出生日期、性别);没有的写出生日期(如 2016-03-04)。",
    "6. 已在系统中的户和孩子会被更新,不会重复;导入前系统逐行检查,有错误的行一行都不导入,并给出错误报告。",
)


def sweep_workbook(
    *,
    title: str,
    rows: Sequence[Mapping[str, object]],
    statuses: Sequence[str],
    schools: Sequence[str],
    disability_types: Sequence[str],
) -> bytes:
    """The village's sheet: the given rows (keys as in COLUMNS) followed by blank rows, with drop-downs."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "排查登记"
    headers = list(COLUMNS)
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(headers)
    for i, header in enumerate(headers, start=1):
        cell = ws.cell(row=2, column=i)
        cell.font = Font(bold=True)
        if header in REQUIRED:
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
        ws.column_dimensions[get_column_letter(i)].width = (
            20 if header in ("身份证号", "就读学校/去向", "地址") else 11
        )
    for row in rows:
        ws.append([row.get(key, "") for key in COLUMNS.values()])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"  # shown as the text typed, never run as a formula
                cell.quotePrefix = True
    last = 2 + len(rows) + BLANK_ROWS
    for header in TEXT_COLUMNS:
        letter = get_column_letter(headers.index(header) + 1)
        for r in range(3, last + 1):
            ws[f"{letter}{r}"].number_format = "@"
    ws.freeze_panes = "C3"

    lists = {"状况": statuses, "性别": ("男", "女"), "残疾类型": disability_types, "就读学校/去向": schools}
    # the school list suggests; any text is still accepted there (a school elsewhere, where they went)
    add_choices(wb, ws, headers, lists, rows=(3, last), suggest=("就读学校/去向",))
    add_notes(wb, INSTRUCTIONS)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def add_choices(
    wb: Workbook,
    ws: Worksheet,
    headers: Sequence[str],
    lists: Mapping[str, Sequence[str]],
    *,
    rows: tuple[int, int],
    suggest: Sequence[str] = (),
) -> None:
    """Drop-down lists for these columns (header → the words offered) over rows (first, last), the words kept
    in a hidden sheet 选项; a column in `suggest` offers its words but takes any text."""
    options = wb.create_sheet("选项")
    for column, (header, values) in enumerate(lists.items(), start=1):
        options.cell(row=1, column=column, value=header)
        for r, value in enumerate(values, start=2):
            options.cell(row=r, column=column, value=value)
        letter = get_column_letter(column)
        source = f"{quote_sheetname(options.title)}!${letter}$2:${letter}${max(2, len(values) + 1)}"
        strict = header not in suggest
        check = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=strict)
        if strict:
            check.error = f"请从下拉列表中选择{header}"
        target = get_column_letter(headers.index(header) + 1)
        check.add(f"{target}{rows[0]}:{target}{rows[1]}")
        ws.add_data_validation(check)
    options.sheet_state = "hidden"


def add_notes(wb: Workbook, lines: Sequence[str]) -> Worksheet:
    """The sheet 填写说明: one line a row, wrapped."""
    notes = wb.create_sheet("填写说明")
    for line in lines:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    for cell in notes["A"]:
        cell.alignment = Alignment(wrap_text=True)
    return notes
