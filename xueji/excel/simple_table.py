"""Small uploaded tables (a holiday list, a class attendance list, home-visit and sweep sheets): read in the
reading process like the registry template (excel.sandbox), then the first sheet as text cells under the
headers asked for."""

from __future__ import annotations

from dataclasses import dataclass

from xueji.excel.limits import ImportKind, TemplateError
from xueji.excel.sandbox import read_sheet, read_sheets


@dataclass(frozen=True)
class TableRow:
    number: int  # the spreadsheet's row number, as the user sees it
    cells: dict[str, str]  # key → text ("" where blank)


def read_table(
    data: bytes, headers: dict[str, str], *, required: tuple[str, ...], kind: ImportKind
) -> list[TableRow]:
    """Rows of the first sheet; headers maps a Chinese header to a key; the header row is found in the
    first 10 rows; a missing required column is refused before any row is read."""
    return _table(list(read_sheet(data, kind).rows), headers, required)


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of a workbook of several: its name, its headers (Chinese → key) and the required ones."""

    name: str
    headers: dict[str, str]
    required: tuple[str, ...]


def read_tables(
    data: bytes, specs: tuple[SheetSpec, ...], *, kind: ImportKind
) -> dict[str, list[TableRow] | None]:
    """The named sheets of a workbook, each as read_table reads a first sheet: name → rows, None for a sheet
    the workbook does not have. A sheet that is there without its required headers is refused."""
    sheets = read_sheets(data, kind, tuple(s.name for s in specs))
    found: dict[str, list[TableRow] | None] = {}
    for spec in specs:
        rows = sheets.get(spec.name)
        if rows is None:
            found[spec.name] = None
            continue
        try:
            found[spec.name] = _table(rows, spec.headers, spec.required)
        except TemplateError as error:
            raise TemplateError(f"工作表“{spec.name}”{error}") from None
    return found


def _table(rows: list[list[str]], headers: dict[str, str], required: tuple[str, ...]) -> list[TableRow]:
    named = [[c.strip().lstrip("*") for c in row] for row in rows[:10]]
    at = next((i for i, names in enumerate(named) if all(h in names for h in required)), None)
    if at is None:
        raise TemplateError(f"没有找到表头:表头行应包含 {'、'.join(required)}")
    columns = {headers[n]: i for i, n in enumerate(named[at]) if n in headers}
    result = []
    for number, row in enumerate(rows[at + 1 :], start=at + 2):
        cells = {key: row[i].strip() if i < len(row) else "" for key, i in columns.items()}
        if any(cells.values()):
            result.append(TableRow(number, cells))
    return result
