"""The national registry import template (学籍导入模板) as a file: read it, hand out a blank one, and
write back the rows that were refused, with their reasons."""

from __future__ import annotations

import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from operator import itemgetter

from xueji.excel.limits import ImportKind, TemplateError
from xueji.excel.sandbox import read_sheet
from xueji.excel.spill import CHUNK, SpilledRows
from xueji.rules.registry_record import COLUMNS, CheckedRow, Column, example_cells

__all__ = [
    "COLUMN_RULES",
    "RegistrySheet",
    "TemplateError",
    "blank_template",
    "error_workbook",
    "read_registry",
]

_HEADER_SCAN_ROWS = 10  # a title line or two may sit above the header row


@dataclass
class RegistrySheet:
    """What was read: the rows, kept on disk in chunks (excel.spill: iterate them, or .chunks(), as often as
    needed; never all in memory), notices about the file as a whole, and the rows that share a student with
    another row of the file (row number → the other rows), when the rows were checked as they were read."""

    rows: SpilledRows[CheckedRow]
    notices: list[str] = field(default_factory=list)
    duplicates: dict[int, list[int]] = field(default_factory=dict)


def _header_key(text: object) -> str:
    """Compare headers by their letters only: no spaces, no 'required' asterisks, full-width folded."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "*＊")


_BY_HEADER: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        _BY_HEADER[_header_key(_name)] = _column


def read_registry(
    data: bytes, check: Callable[[Sequence[CheckedRow]], object] | None = None
) -> RegistrySheet:
    """Read the first sheet of a template file into rows; refuse unsafe files and missing columns. The file
    is checked and parsed in the reading process (excel.sandbox), every cell arriving as text, a batch at a
    time; `check` (rules.registry_record.check_rows) runs on each chunk of rows as it arrives, and the rows go
    to disk in chunks, so memory does not grow with the file. With `check`, the rows that passed it are also
    compared by who they are (查重 within the file), keeping a hash and a row number each."""
    sheet = read_sheet(data, ImportKind.REGISTRY)
    notices = []
    if sheet.has_formulas:
        notices.append("文件中有公式:公式按其文本读取,不计算;含公式的单元格将被拒绝,请粘贴为数值后再导入")
    rows = sheet.rows
    spilled: SpilledRows[CheckedRow] = SpilledRows()
    keys = _Keys()
    try:
        header_at, sources, unknown = _find_header(rows)
        if unknown:
            notices.append(f"以下列不属于导入模板,已忽略:{'、'.join(unknown)}")
        needed = max(sources) + 1
        pick = itemgetter(*sources)
        blank = [""] * (needed + 1)  # the last: what index -1, a template column the file lacks, reads
        chunk: list[CheckedRow] = []
        for number, cells in enumerate(rows, start=header_at + 1):
            width = len(cells)
            texts = pick(cells + blank[width:] if width <= needed else [*cells[:needed], ""])
            if "".join(texts).strip():
                chunk.append(CheckedRow(number, texts))
                if len(chunk) == CHUNK:
                    _keep(chunk, check, keys, spilled)
                    chunk = []
        _keep(chunk, check, keys, spilled)
    finally:
        rows.close()  # a refusal of the header ends the reading process at once
    if not len(spilled):
        notices.append("文件中没有学生数据行")
    return RegistrySheet(spilled, notices, keys.duplicates(spilled))


def _keep(
    chunk: list[CheckedRow],
    check: Callable[[Sequence[CheckedRow]], object] | None,
    keys: _Keys,
    spilled: SpilledRows[CheckedRow],
) -> None:
    """Check a chunk of rows (when asked), note who each row that passed is, and put the chunk on disk."""
    if check is not None:
        check(chunk)
        for row in chunk:
            if row.ok:
                keys.add(row)
    spilled.add(chunk)


class _Keys:
    """Who each checked row is (rules.registry_record.CheckedRow.match_key), as a 64-bit hash and a row number:
    16 bytes a row. Rows whose hashes meet are compared by their keys in one more pass over those rows."""

    def __init__(self) -> None:
        self.hashes = array("q")
        self.rows = array("q")

    def add(self, row: CheckedRow) -> None:
        self.hashes.append(hash(row.match_key()))
        self.rows.append(row.row)

    def duplicates(self, spilled: SpilledRows[CheckedRow]) -> dict[int, list[int]]:
        ordered = array("q", sorted(self.hashes))  # a moment's list of the hashes, then packed again
        shared = {a for a, b in zip(ordered, ordered[1:], strict=False) if a == b}
        del ordered
        if not shared:
            return {}
        candidates = {row for h, row in zip(self.hashes, self.rows, strict=True) if h in shared}
        groups: dict[tuple, list[int]] = defaultdict(list)
        for row in spilled:
            if row.row in candidates and row.ok:
                groups[row.match_key()].append(row.row)
        return {
            number: [n for n in group if n != number]
            for group in groups.values()
            if len(group) > 1
            for number in group
        }


def _find_header(rows: Iterator[Sequence[object]]) -> tuple[int, list[int], list[str]]:
    """Find the header row; return its 1-based number, the file column of each template column (-1 for
    none), and the headers that are not the template's."""
    for number, cells in enumerate(rows, start=1):
        matched = {i: _BY_HEADER[_header_key(v)] for i, v in enumerate(cells) if _header_key(v) in _BY_HEADER}
        if len(matched) >= 3:
            missing = [c.header for c in COLUMNS if c.required and c not in matched.values()]
            if missing:
                raise TemplateError(f"第{number}行表头缺少必需的列:{'、'.join(missing)};请使用导入模板")
            counts = Counter(c.header for c in matched.values())
            duplicated = [header for header, n in counts.items() if n > 1]
            if duplicated:
                raise TemplateError(f"表头中这些列出现了不止一次:{'、'.join(duplicated)}")
            unknown = [str(v).strip() for i, v in enumerate(cells) if i not in matched and _header_key(v)]
            where = {c.key: i for i, c in matched.items()}
            return number, [where.get(c.key, -1) for c in COLUMNS], unknown
        if number >= _HEADER_SCAN_ROWS:
            break
    raise TemplateError(
        f"前{_HEADER_SCAN_ROWS}行中找不到表头(应含“姓名”“身份证件号”“班号”等列);请使用导入模板"
    )


_TEXT_FORMAT = "@"


def blank_template() -> bytes:
    """A blank template: the headers (required ones in red), one example row, and a sheet of instructions."""
    from openpyxl import Workbook  # the spreadsheet libraries load when a file is made, not with the import
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    red, head_fill = Font(color="C00000", bold=True), PatternFill("solid", fgColor="FFF2CC")
    wb = Workbook()
    ws = wb.active
    ws.title = "学生信息"
    example = example_cells()
    for i, column in enumerate(COLUMNS, start=1):
        head = ws.cell(row=1, column=i, value=column.header)
        head.fill = head_fill
        if column.required:
            head.font = red
        cell = ws.cell(row=2, column=i, value=example[column.key] or None)
        cell.number_format = _TEXT_FORMAT
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(len(column.header) * 2 + 2, 12)
        # Whole columns as text, so an ID or code typed later keeps every digit and its leading zeros.
        ws.column_dimensions[letter].number_format = _TEXT_FORMAT
    ws.freeze_panes = "C2"
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "是否必需", "填写要求"])
    for column in COLUMNS:
        notes.append([column.header, "必需" if column.required else "", COLUMN_RULES.get(column.key, "")])
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["C"].width = 90
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


COLUMN_RULES = {
    "school_code": "10位数字的学校标识码,须为本校",
    "name": "前后中间均无空格,不含数字",
    "sex": "男 或 女",
    "birth_date": "8位数字,如 20190512;须与身份证号中的出生日期一致",
    "birthplace_code": "12位数字行政区划代码,如浏阳市 430181000000",
    "native_place": "汉字,如 湖南浏阳",
    "ethnicity": "以“族”结尾,如 汉族",
    "nationality": "如 中国",
    "id_type": "默认 居民身份证",
    "id_number": "18位,最后一位可为X;暂无证件的留空,按临时学籍登记并标记",
    "household_code": "12位数字行政区划代码,如古港镇 430181108000",
    "class_code": "7位数字:4位入学年份+1位学段(1小学、2初中)+2位班级编号,如 2025101",
    "entry_month": "6位数字,如 202509;年份须与班号一致,不得晚于本月",
    "needs_aid": "是 或 否",
    "disability_type": "无残疾、视力残疾、听力残疾、言语残疾、肢体残疾、智力残疾、精神残疾、多重残疾",
    "source_county": "可选。从外县转入的学生填写原所在县区,如 江西省萍乡市上栗县;填写后按“外县转入”办理并记录来源",
    "source_school": "可选。外县转入学生的原学校",
    "transfer_date": "可选。外县转入的日期,8位数字,如 20261015;须在本学年内、不晚于今天;不填为导入当天",
}


def error_workbook(rows: Iterable[CheckedRow]) -> bytes:
    """The refused rows as read, each with its spreadsheet row number and its reasons, to fix and re-import."""
    import pandas as pd

    from xueji.excel.tables import tables_to_xlsx

    records = []
    for row in rows:
        record: dict[str, object] = {"原行号": row.row}
        record.update({c.header: str(v) for c, v in zip(COLUMNS, row.raw, strict=True)})
        record["错误原因"] = "\n".join(f"{p.column}:{p.reason}" for p in row.errors)
        record["提醒"] = "\n".join(f"{p.column}:{p.reason}" for p in row.warnings)
        records.append(record)
    columns = ["原行号", *(c.header for c in COLUMNS), "错误原因", "提醒"]
    return tables_to_xlsx({"错误行": pd.DataFrame(records, columns=columns)})
