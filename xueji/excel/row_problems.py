"""What is wrong with an uploaded table's rows, as people need to see it: a table of row, column, value and
reason, and the error workbook (the rows with problems as they were, plus a reason column) to fix and upload
again. Shared by the simple-table imports (home visits, sweep sheets)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from xueji.excel.simple_table import TableRow
from xueji.excel.tables import table_to_xlsx


@dataclass(frozen=True)
class RowProblem:
    row: int  # the spreadsheet's row number
    column: str  # the header, as in the sheet
    value: str
    reason: str


def problems_frame(problems: Sequence[RowProblem]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.row, p.column, p.value, p.reason) for p in problems],
        columns=["行号", "列", "填写内容", "原因"],
    ).sort_values("行号", kind="stable")


def error_rows(
    rows: Sequence[TableRow], problems: Sequence[RowProblem], columns: Mapping[str, str]
) -> pd.DataFrame:
    """The rows with problems as they were (columns maps header → key), with the reasons in a last column."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        reasons.setdefault(p.row, []).append(f"[{p.column}] {p.reason}")
    table = [
        {**{h: r.cells.get(k, "") for h, k in columns.items()}, "错误原因": ";".join(reasons[r.number])}
        for r in rows
        if r.number in reasons
    ]
    return pd.DataFrame(table, columns=[*columns, "错误原因"])


def error_workbook(
    rows: Sequence[TableRow], problems: Sequence[RowProblem], columns: Mapping[str, str], *, sheet: str
) -> bytes:
    """The error rows (error_rows) as a workbook of one sheet."""
    return table_to_xlsx(error_rows(rows, problems, columns), sheet=sheet)
