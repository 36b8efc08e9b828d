"""Build xlsx workbooks from tables, with Chinese headers and text cells that stay text."""

from __future__ import annotations

import math
from collections.abc import Mapping
from io import BytesIO

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# Text that a spreadsheet would take for a formula (or DDE payload) when the cell is typed or imported.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(ws: WriteOnlyWorksheet, value: object) -> object:
    """Write risky text as a string cell with Excel's quote prefix, so it shows as text, never runs; a missing
    value (None, NaN, pandas' NA) as an empty cell."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def sheet_name(text: str) -> str:
    """An Excel sheet title: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in text).strip("'") or "Sheet"
    return cleaned[:31]


def append_table(ws: WriteOnlyWorksheet, df: pd.DataFrame) -> None:
    """Write the header row and one row per record, sizing columns to their content."""
    for i, column in enumerate(df.columns, start=1):
        width = max([len(str(column)) * 2, *(len(str(v)) + 2 for v in df[column].head(200))])
        ws.column_dimensions[get_column_letter(i)].width = min(width, 60)
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        ws.append([safe_cell(ws, v) for v in row])


def tables_to_xlsx(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """Return a workbook with one sheet per table, in the given order."""
    wb = Workbook(write_only=True)
    for title, df in sheets.items():
        append_table(wb.create_sheet(title=sheet_name(title)), df)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def table_to_xlsx(df: pd.DataFrame, *, sheet: str = "Sheet1") -> bytes:
    """Return the table as xlsx bytes, one header row and one row per record."""
    return tables_to_xlsx({sheet: df})
