"""Build an xlsx workbook from a table, with Chinese headers and text cells that stay text."""

from __future__ import annotations

from io import BytesIO

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

_FORMULA_START = ("=", "+", "-", "@")


def _safe_cell(value: object) -> object:
    """Keep a text cell from being read as a formula when the file is opened (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_to_xlsx(df: pd.DataFrame, *, sheet: str = "Sheet1") -> bytes:
    """Return the table as xlsx bytes, one header row and one row per record."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31])
    for i, column in enumerate(df.columns, start=1):
        width = max([len(str(column)) * 2, *(len(str(v)) + 2 for v in df[column].head(200))])
        ws.column_dimensions[get_column_letter(i)].width = min(width, 60)
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        ws.append([_safe_cell(v) for v in row])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
