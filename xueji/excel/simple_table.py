"""Small uploaded tables (a holiday list, a class attendance list): the same safety checks as the registry
template, then the first sheet as text cells under the headers asked for."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from openpyxl import load_workbook
from python_calamine import CalamineError, CalamineWorkbook

from xueji.excel.registry_template import TemplateError, cell_text
from xueji.excel.safety import UnsafeWorkbook, check_container, scan_parts


@dataclass(frozen=True)
class TableRow:
    number: int  # the spreadsheet's row number, as the user sees it
    cells: dict[str, str]  # key → text ("" where blank)


def read_table(data: bytes, headers: dict[str, str], *, required: tuple[str, ...]) -> list[TableRow]:
    """Rows of the first sheet; headers maps a Chinese header to a key; the header row is found in the
    first 10 rows; a missing required column is refused before any row is read."""
    try:
        scan = scan_parts(check_container(data))
    except UnsafeWorkbook as error:
        raise TemplateError(str(error)) from None
    try:
        if scan.has_formulas:  # a formula arrives as its text and fails its column's check, never computed
            sheet = load_workbook(BytesIO(data), read_only=True, data_only=False).worksheets[0]
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        else:
            rows = CalamineWorkbook.from_filelike(BytesIO(data)).get_sheet_by_index(0).to_python()
    except (CalamineError, OSError, KeyError) as error:
        raise TemplateError(f"无法读取该 xlsx 文件:{error}") from None
    named = [[cell_text(c).strip().lstrip("*") for c in row] for row in rows[:10]]
    at = next((i for i, names in enumerate(named) if all(h in names for h in required)), None)
    if at is None:
        raise TemplateError(f"没有找到表头:表头行应包含 {'、'.join(required)}")
    columns = {headers[n]: i for i, n in enumerate(named[at]) if n in headers}
    result = []
    for number, row in enumerate(rows[at + 1 :], start=at + 2):
        cells = {key: cell_text(row[i]).strip() if i < len(row) else "" for key, i in columns.items()}
        if any(cells.values()):
            result.append(TableRow(number, cells))
    return result
