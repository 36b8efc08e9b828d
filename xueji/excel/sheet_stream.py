"""Read a sheet's cells as a stream, in the reading process, in bounded memory: the sheet's XML is inflated a
megabyte at a time and its rows are cut out with a few regular expressions run in C, so a 300,000-row file
never sits in memory as a grid (python-calamine lays the whole sheet out first: about 400 MB for 100,000
rows of the registry template).

The fast reading follows what Excel, WPS, LibreOffice, openpyxl and xlsxwriter write: the main namespace
unprefixed, rows <row ...>...</row> holding cells <c ...>...</c>. Whatever it cannot vouch for (a prefixed
namespace, CDATA, a row whose cells it did not all recognise) hands the rest of the sheet, from the first row
not yet given out, to openpyxl's streaming reader (slower, exact). Values are given as the parsers give them
(str, int, float, bool, date, datetime, time), for excel.cells.cell_text to turn into text.

Shared strings are kept packed (their UTF-8 bytes in one buffer and an offset each: about 25 bytes a string
instead of about 90 as Python strings); dates are recognised by the cell's style, as calamine does.
"""

from __future__ import annotations

import html
import re
import zipfile
from array import array
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta

from xueji.excel.extent import column_number

_CHUNK = 1 << 20
_MAIN = re.compile(r"<sheetData\b")
_ROW = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
# A cell: the attributes in the order every writer puts them (r=, s=, t=) in C, any others apart; then the
# usual bodies (a value, a plain inline string) or anything else.
_CELL = re.compile(
    r'<c(?: r="([A-Za-z]{1,8})\d+")?(?: s="(\d+)")?(?: t="(\w+)")?([^>]*?)'
    r"(?:/>|>(?:<v>([^<]*)</v>|<is><t(?:\s[^>]*)?>([^<]*)</t></is>|(.*?))</c>)",
    re.S,
)
_ATTR = re.compile(r"""\b(r|t|s)\s*=\s*["']([^"']*)["']""")
_ROW_NUMBER = re.compile(r"""\br\s*=\s*["'](\d+)["']""")
_CELL_REF = re.compile(r"([A-Za-z]{1,8})(\d+)")
_V = re.compile(r"<v(?:\s[^>]*)?>([^<]*)</v>", re.S)
_T = re.compile(r"<t(?:\s[^>]*)?>([^<]*)</t>", re.S)
_PHONETIC = re.compile(r"<rPh\b.*?</rPh>", re.S)
_SI = re.compile(r"<si\b[^>]*?(?:/>|>(.*?)</si>)", re.S)
_SIMPLE_SI = re.compile(r"<t(?:\s[^>]*)?>([^<]*)</t>")
_XF_BLOCK = re.compile(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(r"<xf\b([^>]*)>")
_NUM_FMT = re.compile(r"<numFmt\b([^>]*)>")
_ATTRIBUTE = re.compile(r"""([\w:]+)\s*=\s*["']([^"']*)["']""")
_DATE1904 = re.compile(r"""date1904\s*=\s*["'](1|true)["']""")
# Excel's built-in number formats that are dates or times (including the East Asian ones, 27–36 and 50–58).
_DATE_FORMAT_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


class Irregular(Exception):
    """The fast reading cannot vouch for this part: the exact reader takes over."""


class SharedStrings:
    """The workbook's shared strings, packed: every string's UTF-8 bytes in one buffer."""

    def __init__(self) -> None:
        self._bytes = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._bytes += text.encode()
        self._ends.append(len(self._bytes))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        end = self._ends[index]  # IndexError for a reference past the table, as any parser would refuse
        start = self._ends[index - 1] if index else 0
        return self._bytes[start:end].decode()


def _text(raw: str) -> str:
    return html.unescape(raw) if "&" in raw else raw


def _rich(body: str) -> str:
    """The text of a rich or unusual string body: its <t> runs, phonetic guides left out."""
    if "<rPh" in body:
        body = _PHONETIC.sub("", body)
    return _text("".join(_T.findall(body)))


def _decoded(chunks: Iterator[bytes]) -> Iterator[str]:
    """The part as text, cut only after a '>' so that no tag and no character is split."""
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        cut = window.rfind(b">") + 1
        if cut:
            yield window[:cut].decode()
        tail = window[cut:]
    if tail:
        yield tail.decode()


def _inflated(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def shared_strings(archive: zipfile.ZipFile, member: str | None) -> SharedStrings:
    table = SharedStrings()
    if member is None:
        return table
    rest = ""
    for text in _decoded(_inflated(archive, member)):
        window = rest + text
        if "<![CDATA[" in window or (":si" in window and "<si" not in window):
            raise Irregular("shared strings")
        end = window.rfind("</si>")
        last = max(end + 5 if end >= 0 else 0, window.rfind("/>") + 2 if "<si/>" in window else 0)
        for match in _SI.finditer(window, 0, last):
            body = match[1]
            if not body:
                table.append("")
                continue
            simple = _SIMPLE_SI.fullmatch(body)
            table.append(_text(simple[1]) if simple else _rich(body))
        rest = window[last:]
    return table


def date_styles(archive: zipfile.ZipFile, member: str | None) -> frozenset[int]:
    """The indexes of the cell styles (s=) whose number format is a date or a time."""
    if member is None:
        return frozenset()
    xml = b"".join(_inflated(archive, member)).decode()
    custom = {}
    for match in _NUM_FMT.finditer(xml):
        attributes = dict(_ATTRIBUTE.findall(match[1]))
        if attributes.get("numFmtId", "").isdigit():
            custom[int(attributes["numFmtId"])] = html.unescape(attributes.get("formatCode", ""))
    block = _XF_BLOCK.search(xml)
    found = set()
    for index, match in enumerate(_XF.finditer(block[1] if block else "")):
        number = dict(_ATTRIBUTE.findall(match[1])).get("numFmtId", "0")
        if not number.isdigit():
            continue
        fmt_id = int(number)
        if fmt_id in custom:
            if _is_date_format(custom[fmt_id]):
                found.add(index)
        elif fmt_id in _DATE_FORMAT_IDS:
            found.add(index)
    return frozenset(found)


def _is_date_format(code: str) -> bool:
    """A custom number format that shows a date or time: y, m, d, h or s outside quotes and brackets
    ([h] and [mm] of elapsed time count), and not General."""
    if code.lower() == "general":
        return False
    elapsed = re.search(r"\[(h+|m+|s+)\]", code, re.I) is not None
    return elapsed or re.search(r"[ymdhs]", _QUOTED.sub("", code.split(";")[0]), re.I) is not None


def uses_1904(archive: zipfile.ZipFile, member: str | None) -> bool:
    if member is None:
        return False
    head = b"".join(_inflated(archive, member))[:200_000].decode(errors="replace")
    return _DATE1904.search(head) is not None


def _serial_value(serial: float, epoch_1904: bool) -> date | datetime | time:
    """An Excel serial day number as calamine gives it: a time below one day, a date or a date and time."""
    if 0 <= serial < 1:
        seconds = round(serial * 86400)
        return time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
    if epoch_1904:
        base = datetime(1904, 1, 1)
    elif serial < 60:  # Excel counts a 29 February 1900 that never was
        base = datetime(1899, 12, 31)
    else:
        base = datetime(1899, 12, 30)
    moment = base + timedelta(days=serial)
    return moment.date() if moment.time() == time(0) else moment


_COLUMNS: dict[str, int] = {}  # column letters → 0-based index, as met


def _attributes(extra: str, letters: str, style: str, kind: str) -> tuple[str, str, str]:
    """The r=, s= and t= of a cell whose attributes are not in the usual order or form."""
    for name, value in _ATTR.findall(extra):
        if name == "r":
            reference = _CELL_REF.fullmatch(value)
            if reference is None:
                raise Irregular("cell reference")
            letters = reference[1]
        elif name == "t":
            kind = value
        else:
            style = value
    return letters, style, kind


class FastSheet:
    """The rows of one sheet part, from row 1: (0-based row number, its values by column from A)."""

    def __init__(
        self,
        archive: zipfile.ZipFile,
        member: str,
        strings: SharedStrings,
        dates: frozenset[int],
        epoch_1904: bool,
    ) -> None:
        self.archive, self.member = archive, member
        self.strings, self.dates, self.epoch_1904 = strings, dates, epoch_1904
        self.given = 0  # rows given out so far (the next row number, 0-based)

    def rows(self) -> Iterator[tuple[int, Sequence[object]]]:
        rest = ""
        started = False
        for text in _decoded(_inflated(self.archive, self.member)):
            window = rest + text
            if not started:
                at = _MAIN.search(window)
                if at is None:
                    if ":sheetData" in window:
                        raise Irregular("prefixed namespace")
                    rest = window[-200:]
                    continue
                started, window = True, window[at.start() :]
            if "<![CDATA[" in window:
                raise Irregular("CDATA")
            cut = window.rfind("</row>")
            cut = cut + 6 if cut >= 0 else 0
            if "</sheetData>" in window:
                cut = window.index("</sheetData>")
            yield from self._window(window, cut)
            rest = window[cut:]
            if "</sheetData>" in window:
                return
        if rest.strip():
            yield from self._window(rest, len(rest))

    def _window(self, window: str, cut: int) -> Iterator[tuple[int, Sequence[object]]]:
        pieces = window[:cut].split("</row>")
        last = pieces.pop()  # what follows the last </row>: nothing, or rows without a body (<row r="9"/>)
        for piece in pieces:
            at = piece.find("<row")
            if at < 0 or piece.count("<row", at + 4) or piece.count("/>", at, piece.find(">", at) + 1):
                yield from self._rows(piece + "</row>")
                continue
            close = piece.find(">", at)
            yield from self._row(piece[at + 4 : close], piece[close + 1 :])
        if "<row" in last:
            yield from self._rows(last)

    def _rows(self, text: str) -> Iterator[tuple[int, Sequence[object]]]:
        """Rows the quick split cannot take apart (a row without a body among them)."""
        for match in _ROW.finditer(text):
            yield from self._row(match[1], match[2])

    def _row(self, attributes: str, body: str | None) -> Iterator[tuple[int, Sequence[object]]]:
        number = _ROW_NUMBER.search(attributes)
        row = int(number[1]) - 1 if number else self.given
        if row < self.given:
            raise Irregular("rows out of order")
        while self.given < row:  # rows the file skips are blank rows
            yield self.given, ()
            self.given += 1
        values = self._cells(body) if body else []
        yield row, values
        self.given = row + 1

    def _cells(self, body: str) -> list[object]:
        cells = _CELL.findall(body)
        if len(cells) != body.count("<c"):
            raise Irregular("unrecognised cells")
        values: list[object] = []
        columns = _COLUMNS
        for letters, style, kind, extra, plain, inline, other in cells:
            if extra and extra.strip():
                letters, style, kind = _attributes(extra, letters, style, kind)
            if letters:
                column = columns.get(letters)
                if column is None:
                    column = columns.setdefault(letters, column_number(letters.encode()) - 1)
                if column != len(values):
                    if column < len(values):
                        raise Irregular("cells out of order")
                    values.extend([""] * (column - len(values)))
            if inline and not other:
                values.append(html.unescape(inline) if "&" in inline else inline)
            elif kind == "s" and plain:
                values.append(self.strings[int(plain)])
            elif plain and not kind and not style:
                values.append(int(plain) if plain.isdigit() else self._value("", "", plain, "", ""))
            else:
                values.append(self._value(kind, style, plain, inline, other))
        return values

    def _value(self, kind: str, style: str, plain: str, inline: str, other: str) -> object:
        if inline or kind == "inlineStr":
            return _text(inline) if inline or not other else _rich(other)
        if not plain:
            if not other:
                return ""
            found = _V.search(other)
            plain = found[1] if found else ""
            if not plain:
                return _rich(other) if "<is" in other else ""
        if kind == "s":
            return self.strings[int(plain)]
        if kind in ("str", "e"):
            return _text(plain)
        if kind == "b":
            return plain.strip() in ("1", "true")
        if kind == "d":
            return plain[:10] if "T" in plain else plain
        text = plain.strip()
        number: int | float = int(text) if text.lstrip("-").isdigit() else float(text)
        if style and int(style) in self.dates:
            return _serial_value(float(number), self.epoch_1904)
        return number
