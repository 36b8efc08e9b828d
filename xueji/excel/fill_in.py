"""A sheet people fill in and upload again: instruction lines, the header row, an example row the imports skip
(its first cell starts with 示例), text-formatted columns so codes keep every digit, and drop-down lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from xueji.excel.tables import FORMULA_START
from xueji.rules.setup_rows import EXAMPLE_MARK

_TEXT = "@"
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_NOTE_FONT = Font(color="555555")
_REQUIRED_FONT = Font(bold=True, color="C00000")
_EXAMPLE_FONT = Font(color="808080", italic=True)
EXAMPLE_NOTE = f"以“{EXAMPLE_MARK}”开头的行是示例,导入时跳过(可保留,也可删除)。"


def example_cell(value: str) -> str:
    """The first cell of an example row: marked so that the import skips it."""
    return f"{EXAMPLE_MARK}:{value}"


def is_example(first_cell: str) -> bool:
    """Tell whether a row whose first cell is this is the template's example row."""
    return first_cell.strip().startswith(EXAMPLE_MARK)


def write_sheet(
    ws: Worksheet,
    *,
    headers: Sequence[str],
    required: Sequence[str] = (),
    notes: Sequence[str] = (),
    example: Sequence[str] | None = None,
    rows: Iterable[Sequence[str]] = (),
    choices: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Fill the sheet: notes (one line each), headers (required ones in red), the example row (marked), rows;
    whole columns as text; a drop-down list of choices under the headers that have them."""
    for line in [*notes, *([EXAMPLE_NOTE] if example is not None else [])]:
        ws.append([line])
        ws.cell(row=ws.max_row, column=1).font = _NOTE_FONT
    head_row = ws.max_row + 1
    for i, header in enumerate(headers, start=1):
        cell = ws.cell(row=head_row, column=i, value=header)
        cell.fill = _HEAD_FILL
        cell.font = _REQUIRED_FONT if header in required else Font(bold=True)
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(len(header) * 2 + 4, 16)
        ws.column_dimensions[letter].number_format = _TEXT  # a code typed later keeps its digits
    if example is not None:
        _append(ws, [example_cell(example[0]), *example[1:]], font=_EXAMPLE_FONT)
    for row in rows:
        _append(ws, row)
    for header, options in (choices or {}).items():
        column = get_column_letter(list(headers).index(header) + 1)
        rule = DataValidation(type="list", formula1=f'"{",".join(options)}"', allow_blank=True)
        rule.add(f"{column}{head_row + 1}:{column}{head_row + 20_000}")
        ws.add_data_validation(rule)
    ws.freeze_panes = ws.cell(row=head_row + 1, column=1)


def _append(ws: Worksheet, values: Sequence[str], *, font: Font | None = None) -> None:
    row = ws.max_row + 1
    for i, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=i, value=value or None)
        cell.number_format = _TEXT
        if isinstance(value, str) and value.startswith(FORMULA_START):
            cell.data_type, cell.quotePrefix = "s", True  # shown as text, never run
        if font is not None:
            cell.font = font


def workbook_bytes(wb: Workbook) -> bytes:
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
