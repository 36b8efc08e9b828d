"""How far each sheet of an upload really reaches, read from its XML as a stream before any parser sees it.

python-calamine lays a sheet out as a grid from its first to its last cell: two cells, A1 and XFD1048576,
ask for 17 billion cells. A sheet's declared <dimension> may lie or be missing, so the cells themselves are
counted with calamine's rules: a cell's r="B7" places it, a cell without r= follows the one before it in
its row, a row without r= follows the row before it, and every </row> moves the next row down. The scan
keeps a few counters, never the cells, and refuses a sheet longer or wider than the import allows.

Three readings, tried in order on each part, each complete on its own:
  * canonical (what Excel, WPS, LibreOffice, openpyxl and xlsxwriter write): every cell is <c r="B7" and
    every row <row r="7" within the limits; a few regular expressions, each run in C over the whole
    window, find anything else;
  * row by row (cells without r=, as some generators write): rows are split apart and their cells counted;
  * exact: expat, element by element, for anything else (namespace prefixes, cells with and without r= in
    one row, unusual attribute syntax). Slow, and bounded by the reading process's time limit.
A reading that meets what it cannot vouch for starts the part again with the next one. The readings follow
well-formed XML; a malformed file that a parser would still accept meets the reading process's memory limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from xml.parsers import expat

from xueji.excel.limits import SheetLimits, UnsafeWorkbook, dtd_refusal

_LONGEST_TAG = 1 << 20  # no spreadsheet writes a start tag this long


class _Restart(Exception):
    """This reading cannot vouch for the part: read it again with the next one."""


class Unvouched(Exception):
    """No reading asked for could vouch for the part (only when fewer than all three are asked for)."""


class _Done(Exception):
    """The exact reading has passed the end of sheetData: nothing after it places a cell."""


class SheetTooLarge(UnsafeWorkbook):
    """A sheet reaches further than the import allows."""


@dataclass
class PartScan:
    """What one XML part held: its inflated size, whether it has formulas, how far its cells were seen to
    reach (the canonical reading only vouches that they stay within the limits, and reports 0)."""

    size: int = 0
    formulas: bool = False
    rows: int = 0
    columns: int = 0


# -- references: "B7" → (row 7, column 2); letters in either case, as calamine reads them ------------------

_REF = re.compile(rb"([A-Za-z]{0,8})([0-9]{1,12})")


def column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _position(value: bytes) -> tuple[int, int] | None:
    """(row, column) of a reference such as B7 (column 0 when it has no letters); None if it is not one."""
    match = _REF.fullmatch(value)
    if match is None:
        return None
    return int(match[2]), column_number(match[1])


def too_large(sheet: str, limits: SheetLimits, size: str, rows: int) -> SheetTooLarge:
    advice = "(数据较多时请按学校或乡镇分成几个文件)" if rows > limits.max_rows else ""
    return SheetTooLarge(
        f"工作表“{sheet}”{size},超过{limits.label}允许的 {limits.max_rows:,} 行 × {limits.max_columns:,} 列。"
        f"空行和设置了格式的空单元格也算在内:请删去多余的行和列,或把数据复制到新的工作簿后再上传{advice}"
    )


class _Extent:
    """How far the cells reach, checked against the limits as it grows."""

    def __init__(self, sheet: str, limits: SheetLimits) -> None:
        self.sheet, self.limits = sheet, limits
        self.rows = 0
        self.columns = 0

    def reach(self, rows: int, columns: int) -> None:
        self.rows, self.columns = max(self.rows, rows), max(self.columns, columns)
        if self.rows > self.limits.max_rows or self.columns > self.limits.max_columns:
            size = f"至少有 {self.rows:,} 行 × {self.columns:,} 列"
            raise too_large(self.sheet, self.limits, size, self.rows)

    def far(self, reference: bytes, *, cell: bool) -> None:
        """A reference (r= of a cell or a row) that is itself beyond the limits: refused with what it proves."""
        where = _position(reference)
        if where is None or (where[0] <= self.limits.max_rows and where[1] <= self.limits.max_columns):
            return
        rows, columns = where
        if cell:
            size = f"有单元格位于 {reference.decode().upper()}(即至少 {rows:,} 行 × {columns:,} 列)"
        else:
            size = f"有第 {rows:,} 行"
        raise too_large(self.sheet, self.limits, size, rows)

    def declared(self, ref: bytes) -> None:
        """The sheet's own <dimension ref="A1:H200">: refused at once when it claims more than allowed."""
        corners = [_position(part) for part in ref.split(b":")]
        if not corners or any(c is None for c in corners):
            return  # calamine refuses such a sheet itself; its cells are counted anyway
        rows = max(c[0] for c in corners if c)
        columns = max(c[1] for c in corners if c)
        if rows > self.limits.max_rows or columns > self.limits.max_columns:
            size = f"声明的数据范围为 {ref.decode().upper()}(即 {rows:,} 行 × {columns:,} 列)"
            raise too_large(self.sheet, self.limits, size, rows)


# -- regular expressions for "at most N", so that the canonical reading checks every cell in C --------------


def _not_above(bound: str, *, letters: bool) -> str:
    """A regex for the numbers (digits without leading zero) or column letters that do not exceed `bound`:
    every shorter one, and those of its length that compare lower or equal, place by place."""

    def chars(low: str, high: str) -> str:
        return f"[{low}-{high}{low.lower()}-{high.lower()}]" if letters else f"[{low}-{high}]"

    def literal(text: str) -> str:
        return "".join(f"[{c}{c.lower()}]" for c in text) if letters else text

    first, low, high = ("A", "A", "Z") if letters else ("1", "0", "9")
    any_ = chars(low, high)
    options = [f"{chars(first, high)}{any_}{{0,{len(bound) - 2}}}"] if len(bound) > 1 else []
    for i, ch in enumerate(bound):
        below = chr(ord(ch) - 1)
        start = first if i == 0 else low
        if below >= start:
            options.append(f"{literal(bound[:i])}{chars(start, below)}{any_}{{{len(bound) - i - 1}}}")
    options.append(literal(bound))
    return "(?:" + "|".join(options) + ")"


@lru_cache(maxsize=16)
def _canonical_tags(max_rows: int, max_columns: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """A cell tag other than <c r="B7"… within the limits with no second r= after it (calamine takes the last
    r= of a cell, without complaint), and a row tag other than <row r="7"… within the limits (calamine takes
    a row's first r=). Each pattern starts with a literal, which the regex engine finds fast."""
    rows = "0*" + _not_above(str(max_rows), letters=False)
    columns = _not_above(column_letters(max_columns), letters=True)
    rest_of_tag = r"[^<r]*(?:r(?!\s*=)[^<r]*)*(?:<|\Z)"  # up to the next tag, with no "r=" in any spelling
    return (
        re.compile(rf'<c(?! r="{columns}{rows}"{rest_of_tag})[\s/>]'.encode()),
        re.compile(rf'<row(?! r="{rows}")[\s/>]'.encode()),
    )


# What both fast readings look at besides cells and rows: a <!...> declaration, the declared dimension, and
# (until one is seen) the end of a formula; one pass finds all three.
_OTHERS = re.compile(rb"<(?:!|/f>|dimension[\s/>])")
_OTHERS_AFTER_FORMULAS = re.compile(rb"<(?:!|dimension[\s/>])")
# A prefixed name of an element that places cells (<x:row>): found by its colon, then checked in Python.
_PREFIXED = re.compile(rb":(?:row|c|sheetData|dimension)[\s/>]")


_ATTRIBUTE_R = re.compile(rb"""\sr\s*=\s*(["'])([^"'<>]*)\1""")
_R_ANYWHERE = re.compile(rb"r\s*=")
_DIMENSION = re.compile(rb"""<dimension\s[^>]*?ref\s*=\s*(["'])([^"'<>]*)\1""")
_NAME = re.compile(rb"/?[A-Za-z_][\w.-]*")
_NAME_RUN = re.compile(rb"[\w.-]+")
_WHITESPACE = b" \t\r\n"


def _declaration_at(window: bytes, at: int) -> None:
    """Refuse a DOCTYPE (or any other <!...> declaration) at `at`; a comment or CDATA is only text."""
    if not window.startswith((b"<!--", b"<![CDATA["), at):
        raise UnsafeWorkbook(dtd_refusal())


def declarations(window: bytes) -> None:
    """Refuse the window if it holds a <!...> declaration (entities can only be declared in one)."""
    at = window.find(b"<!")
    while at != -1:
        _declaration_at(window, at)
        at = window.find(b"<!", at + 2)


def _prefixed(window: bytes) -> bool:
    """Whether an element that places cells has a namespace prefix here (<x:row>, <x:c>); a name run of
    64 characters or more before the colon is taken for one too (the look-back stops there)."""
    for match in _PREFIXED.finditer(window):
        at = match.start()
        start = window.rfind(b"<", max(0, at - 64), at)
        if start != -1 and _NAME.fullmatch(window, start + 1, at):
            return True
        if start == -1 and at >= 64 and _NAME_RUN.fullmatch(window, at - 64, at):
            return True
    return False


def _others(window: bytes, extent: _Extent, scan: PartScan) -> None:
    """Refuse a declaration; check the declared dimension; note formulas."""
    pattern = _OTHERS_AFTER_FORMULAS if scan.formulas else _OTHERS
    for match in pattern.finditer(window):
        token = match.group()
        if token == b"<!":
            _declaration_at(window, match.start())
        elif token == b"</f>":
            scan.formulas = True
        else:
            found = _DIMENSION.match(window, match.start())
            if found:
                extent.declared(found[2])


def windows(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The part in pieces that never cut a tag in two (a piece ends before a '<' whose tag is open)."""
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        cut = window.rfind(b"<")
        if cut == -1 or window.find(b">", cut) != -1:
            cut = len(window)
        elif len(window) - cut > _LONGEST_TAG:
            raise UnsafeWorkbook("文件的 XML 结构异常(标签过长),已拒绝")
        if cut:
            yield window[:cut]
        tail = window[cut:]
    if tail:
        yield tail


# -- the three readings -----------------------------------------------------------------------------------


def _canonical(chunks: Iterable[bytes], extent: _Extent, scan: PartScan) -> None:
    """A few passes per window, each a regular expression run in C; a match (rare in a canonical part) is
    looked at in Python: a reference beyond the limits is refused, anything else sends the part on."""
    cells, rows = _canonical_tags(extent.limits.max_rows, extent.limits.max_columns)
    for window in windows(chunks):
        _others(window, extent, scan)
        if _prefixed(window):
            raise _Restart
        for pattern in (rows, cells):
            match = pattern.search(window)
            if match is None:
                continue
            end = window.find(b">", match.start())
            found = _ATTRIBUTE_R.search(window, match.start(), end if end != -1 else len(window))
            if found and pattern is rows:
                _far_row(window, end, found[2], extent)
            elif found:
                extent.far(found[2], cell=True)
            raise _Restart


def _far_row(window: bytes, end: int, reference: bytes, extent: _Extent) -> None:
    """A row beyond the limits: named by its farthest cell when the row has cells, so the size is whole."""
    close = window.find(b"</row", end)
    cells = [m[2] for m in _ATTRIBUTE_R.finditer(window, end, close if close != -1 else len(window))]
    farthest = max(cells, key=lambda ref: (_position(ref) or (0, 0))[1], default=None)
    if farthest is not None and _position(farthest):
        extent.far(farthest, cell=True)
    extent.far(reference, cell=False)


class _RowByRow:
    """Cells without r=, counted in each row in the order calamine places them."""

    def __init__(self, extent: _Extent, scan: PartScan) -> None:
        self.extent, self.scan = extent, scan
        self.row = 0  # calamine's row index (0-based) of the current or next row
        self.column = 0  # calamine's column index: cells since the last </row>
        self.done = False  # past </sheetData>: nothing more is counted

    def read(self, chunks: Iterable[bytes]) -> None:
        for window in windows(chunks):
            _others(window, self.extent, self.scan)
            if not self.done:
                self._window(window)

    def _window(self, window: bytes) -> None:
        if _prefixed(window):
            raise _Restart
        self._no_cell_references(window)
        end = window.find(b"</sheetData")
        if end != -1:
            window, self.done = window[:end], True
        pieces = window.split(b"<row")
        self._cells(pieces[0])
        for piece in pieces[1:]:
            if piece[:1] and piece[:1] in b" \t\r\n/>":
                self._row(piece)
            else:
                self._cells(piece)  # an element whose name only starts with "row"

    def _no_cell_references(self, window: bytes) -> None:
        """This reading places cells by their order: an r= on any tag but a row's sends the part on."""
        for match in _R_ANYWHERE.finditer(window):
            if match.start() == 0 or window[match.start() - 1] not in _WHITESPACE:
                continue  # the end of a longer name (dtr=), or text
            start = window.rfind(b"<", 0, match.start())
            if start != -1 and not window.startswith(b"<row", start):
                raise _Restart

    def _row(self, piece: bytes) -> None:
        end = piece.find(b">")
        stop = end if end != -1 else len(piece)
        quote = piece.find(b'"', 4, stop) if piece.startswith(b' r="') else -1
        if quote != -1 and piece[4:quote].isdigit():  # the usual <row r="7">
            self.row = int(piece[4:quote]) - 1
            if self.row >= self.extent.limits.max_rows:
                self.extent.far(piece[4:quote], cell=False)
        else:
            found = _ATTRIBUTE_R.search(b" " + piece[:stop])
            if found and b"&" not in found[2]:  # calamine ignores an r= written with entities
                where = _position(found[2])
                if where is None:
                    raise _Restart
                self.extent.far(found[2], cell=False)
                self.row = where[0] - 1
        self._reached()
        if piece[stop - 1 : stop] == b"/":  # <row .../>: a row that ends where it starts
            self.row, self.column = self.row + 1, 0
        if end != -1:
            self._cells(piece, end + 1)

    def _cells(self, text: bytes, start: int = 0) -> None:
        """Cells and row ends in their order; every '<c' counts (a rich-text <color> too: that only errs high)."""
        while True:
            close = text.find(b"</row", start)
            cells = text.count(b"<c", start, close if close != -1 else len(text))
            if cells:
                self.column += cells
                self._reached()
            if close == -1:
                return
            self.row, self.column, start = self.row + 1, 0, close + 5

    def _reached(self) -> None:
        extent = self.extent
        if self.row >= extent.rows:
            extent.rows = self.row + 1
        if self.column > extent.columns:
            extent.columns = self.column
        if extent.rows > extent.limits.max_rows or extent.columns > extent.limits.max_columns:
            extent.reach(extent.rows, extent.columns)


def _exact(chunks: Iterable[bytes], extent: _Extent, scan: PartScan) -> None:
    """expat, element by element, with calamine's rules; where calamine and expat could see a cell
    differently (an r= written with entities), the larger reach is taken."""
    parser = expat.ParserCreate()
    state = {"row": 0, "column": 0, "in_data": False, "seen_data": False}

    def refuse(*_: object) -> None:
        raise UnsafeWorkbook(dtd_refusal())

    def start(name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "sheetData" and not state["seen_data"]:
            state["in_data"] = state["seen_data"] = True
        elif local == "dimension" and not state["seen_data"] and "ref" in attributes:
            extent.declared(attributes["ref"].encode())
        elif local == "f":
            scan.formulas = True
        if not state["in_data"]:
            return
        reference = attributes.get("r", "").encode()
        where = _position(reference) if reference else None
        if local == "row":
            if where is not None:
                extent.far(reference, cell=False)
                state["row"] = max(state["row"], where[0] - 1)
            extent.reach(state["row"] + 1, 0)
        elif local == "c":
            column = state["column"]
            if where is not None and where[1]:
                extent.far(reference, cell=True)
                column = max(column, where[1] - 1)
                extent.reach(where[0], where[1])
            extent.reach(state["row"] + 1, column + 1)
            state["column"] = column + 1

    def end(name: str) -> None:
        local = name.rpartition(":")[2]
        if state["in_data"] and local == "row":
            state["row"], state["column"] = state["row"] + 1, 0
        elif state["in_data"] and local == "sheetData":
            raise _Done

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    chunks = iter(chunks)
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Done:
        for window in windows(chunks):  # the rest of the part: its size still counts, and no DTD
            declarations(window)
    except expat.ExpatError as error:
        raise UnsafeWorkbook(f"文件的 XML 格式有误,无法读取:{error}") from None


READINGS = ("canonical", "row by row", "exact")


def scan_part(
    sheet: str,
    limits: SheetLimits,
    inflate: Callable[[], Iterator[bytes]],
    readings: tuple[str, ...] = READINGS,
) -> PartScan:
    """Read one XML part to its end with the first reading that can vouch for it (inflate() streams the part
    from its start, anew for each reading); refuse a sheet longer or wider than the limits."""
    for reading in readings:
        scan = PartScan()
        extent = _Extent(sheet, limits)
        chunks = _counted(inflate(), scan)
        try:
            if reading == "canonical":
                _canonical(chunks, extent, scan)
            elif reading == "row by row":
                _RowByRow(extent, scan).read(chunks)
            else:
                _exact(chunks, extent, scan)
        except _Restart:
            continue
        scan.rows, scan.columns = extent.rows, extent.columns
        return scan
    raise Unvouched


def _counted(chunks: Iterable[bytes], scan: PartScan) -> Iterator[bytes]:
    for chunk in chunks:
        scan.size += len(chunk)
        yield chunk
