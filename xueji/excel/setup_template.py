"""The set-up workbook ([市州,] 县区, 乡镇, 村社区, 学校, 学期): the blank template with instructions and an example row on
each sheet, the same layout filled from rows (the demo builds its county through it), and the error workbook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from xueji.excel.fill_in import EXAMPLE_NOTE, workbook_bytes, write_sheet
from xueji.excel.row_problems import RowProblem, error_rows
from xueji.excel.simple_table import TableRow
from xueji.excel.tables import tables_to_xlsx
from xueji.rules.setup_rows import (
    ALL_COLUMNS,
    ALL_SHEETS,
    CITY_SHEET,
    COUNTY_SHEET,
    SCHOOL_SHEET,
    SHEETS,
    TERM_SHEET,
    TOWNSHIP_SHEET,
    VILLAGE_SHEET,
    SetupProblem,
)
from xueji.rules.term_calendar import TERM_NAMES
from xueji.rules.vocab import SchoolKind

_TEXT = "@"
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_NOTE_FONT = Font(color="555555")
_EXAMPLE_FONT = Font(color="808080", italic=True)

INSTRUCTIONS: dict[str, tuple[str, ...]] = {
    CITY_SHEET: (
        "市州:市、省一级部署(一个系统管理多个县区)填写,每行一个市(州);只管理一个县区时请删除本表。",
        "行政区划代码:12位统计用区划代码,市级后8位为0;所属省按前2位确定,无需填写。",
    ),
    COUNTY_SHEET: (
        "县区:本系统管理的县(市、区)。只管理一个县区时只填一行;填写了“市州”表时可填多行。",
        "行政区划代码:国家统计局“统计用区划代码”的12位代码,县级后6位为0;前4位是所属市州代码的前4位。",
    ),
    TOWNSHIP_SHEET: (
        "乡镇:本县区(或各县区)的乡、镇、街道,每行一个。",
        "行政区划代码:12位统计用区划代码,前6位与所属县区相同,后3位为0;该县区须在“县区”表中或系统中已有。",
    ),
    VILLAGE_SHEET: (
        "村社区:各乡镇的村民委员会和社区居民委员会,每行一个。",
        "行政区划代码:12位统计用区划代码;前9位加“000”就是所属乡镇的代码,该乡镇须在“乡镇”表中或系统中已有。",
    ),
    SCHOOL_SHEET: (
        "学校:本县区实施义务教育的学校(含教学点、特殊教育学校),每行一所。",
        "学校标识码:全国中小学生学籍信息管理系统中的10位学校标识码;所在乡镇行政区划代码:学校所在乡镇的12位代码。",
        "办学类型:" + "、".join(k.label for k in SchoolKind) + "。",
    ),
    TERM_SHEET: (
        "学期:县教育局确定的校历,每学年两行(第一学期、第二学期)。",
        "学年写作 2026-2027;日期写作 2026-09-01。开学日期和结束日期不能是法定节假日。",
    ),
}
EXAMPLES: dict[str, tuple[str, ...]] = {
    CITY_SHEET: ("430100000000", "长沙市"),
    COUNTY_SHEET: ("430181000000", "浏阳市"),
    TOWNSHIP_SHEET: ("430181108000", "古港镇"),
    VILLAGE_SHEET: ("430181108201", "梅田村"),
    SCHOOL_SHEET: ("2143016965", "古港镇完全小学", SchoolKind.PRIMARY.label, "430181108000"),
    TERM_SHEET: ("2026-2027", TERM_NAMES[1], "2026-09-01", "2027-01-20"),
}
_CHOICES = {
    (SCHOOL_SHEET, "办学类型"): [k.label for k in SchoolKind],
    (TERM_SHEET, "学期"): list(TERM_NAMES.values()),
}
_GUIDE = (
    ("上线设置导入模板", ""),
    ("工作表", "县区、乡镇、村社区、学校、学期:按表头名称读取,列的顺序可以调整;不需要的工作表可以删除。"
     "市、省一级部署另有“市州”表(xueji setup template --city)。"),
    ("顺序", "先市州(市、省一级部署),再县区,再乡镇,再村社区和学校,最后学期。同一个文件里可以全部填写,也可以分几次导入(如以后只导入学期)。"),
    ("代码", "区划代码用国家统计局“统计用区划代码”(12位);学校标识码用全国学籍系统中的10位代码。代码列已设为文本格式,"
     "请勿改成数字格式,以免丢失开头的0。"),
    ("示例行", EXAMPLE_NOTE),
    ("检查", "导入前逐行检查,有错误时整份文件都不导入,并给出错误报告;可以先“仅检查”预览要新增和修改的内容。"),
    ("再次导入", "同一文件再次导入不会有任何改动;新文件中名称改变的会更名,新增的会新增。导入从不删除任何数据;"
     "撤并、关闭请在“区划与学校”页办理。"),
)  # fmt: skip


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def _sheet(ws: Worksheet, sheet: str, rows: Iterable[Sequence[object]], *, example: bool) -> None:
    headers = list(ALL_COLUMNS[sheet])
    write_sheet(
        ws,
        headers=headers,
        required=headers,
        notes=INSTRUCTIONS[sheet],
        example=EXAMPLES[sheet] if example else None,
        rows=([_text(v) for v in row] for row in rows),
        choices={header: choices for (name, header), choices in _CHOICES.items() if name == sheet},
    )


def _workbook(
    sheets: Mapping[str, Iterable[Sequence[object]]], *, example: bool, cities: bool = False
) -> bytes:
    wb = Workbook()
    guide = wb.active
    guide.title = "填写说明"
    for topic, text in _GUIDE:
        guide.append([topic, text])
    guide["A1"].font = Font(bold=True, size=14)
    guide.column_dimensions["A"].width = 12
    guide.column_dimensions["B"].width = 110
    for row in guide.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    for sheet in ALL_SHEETS if cities else SHEETS:
        if sheet in sheets or (example and (sheet != CITY_SHEET or cities)):
            _sheet(wb.create_sheet(sheet), sheet, sheets.get(sheet, ()), example=example)
    return workbook_bytes(wb)


def blank_template(*, cities: bool = False) -> bytes:
    """The blank set-up workbook: a guide, then each sheet with its instructions, headers and an example row; a
    city's or province's (cities=True) starts with the 市州 sheet."""
    return _workbook({}, example=True, cities=cities)


def filled_workbook(sheets: Mapping[str, Iterable[Sequence[object]]]) -> bytes:
    """A set-up workbook holding these rows (sheet name → rows, each in the sheet's header order; dates may be
    date objects), without example rows; sheets not given are left out."""
    unknown = set(sheets) - set(ALL_SHEETS)
    if unknown:
        raise ValueError(f"未知的工作表:{'、'.join(sorted(unknown))}")
    return _workbook(sheets, example=False, cities=CITY_SHEET in sheets)


def error_workbook(rows: Mapping[str, Sequence[TableRow]], problems: Sequence[SetupProblem]) -> bytes:
    """Each sheet's rows with problems as they were, with their reasons, one sheet per sheet that has any."""
    frames = {}
    for sheet in ALL_SHEETS:
        found = [RowProblem(p.row, p.column, p.value, p.reason) for p in problems if p.sheet == sheet]
        if found:
            frames[sheet] = error_rows(rows.get(sheet, ()), found, ALL_COLUMNS[sheet])
    return tables_to_xlsx(frames)
