"""Hostile .xlsx files, built in memory (none is committed): sparse far cells, lying or extreme dimensions,
a million rows, thousands of columns, many sheets, shared-string and style bombs, XML entities in any part
and in UTF-16, zip bombs with honest and lying directories. Shared by tests/integration/test_hostile_files.py
and benchmarks/hostile_files.py."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable

NS = "http://schemas.openxmlformats.org"
_CONTENT_TYPES = (
    f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{NS}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
_ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10)) if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def workbook(
    sheets: Iterable[tuple[str, bytes | str]],
    *,
    extra: dict[str, bytes | str] | None = None,
    replace: dict[str, bytes | str] | None = None,
) -> bytes:
    """An xlsx with these sheets (name, sheet XML), plus extra parts; `replace` swaps a standard part."""
    sheets = list(sheets)
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _) in enumerate(sheets, 1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{NS}/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _ROOT_RELS,
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}/spreadsheetml/2006/main" '
        f'xmlns:r="{NS}/officeDocument/2006/relationships"><sheets>{entries}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<Relationships xmlns="{NS}/package/2006/relationships">{rels}</Relationships>',
    }
    for i, (_, xml) in enumerate(sheets, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    parts.update(extra or {})
    parts.update(replace or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, part in parts.items():
            z.writestr(name, part)
    return buffer.getvalue()


def sheet_xml(rows: str, *, dimension: str | None = None, head: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{NS}/spreadsheetml/2006/main">{head}{dim}<sheetData>{rows}</sheetData></worksheet>'
    )


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sparse(far: str) -> bytes:
    """Two cells: A1 and one far away (e.g. XFD1048576, which makes calamine ask for 512 GiB)."""
    row = int("".join(ch for ch in far if ch.isdigit()))
    xml = sheet_xml(
        f'<row r="1">{text_cell("A1", "姓名")}</row><row r="{row}"><c r="{far}"><v>1</v></c></row>'
    )
    return workbook([("Sheet1", xml)])


def declared(dimension: str) -> bytes:
    """An extreme declared dimension over a two-cell sheet."""
    return workbook(
        [("Sheet1", sheet_xml(f'<row r="1">{text_cell("A1", "姓名")}</row>', dimension=dimension))]
    )


def many_rows(rows: int, *, dimension: bool = True, references: bool = True) -> bytes:
    """A sheet of `rows` rows of one number each: with r= on every row and cell and a true dimension (as
    Excel writes), or without any of them (as some generators write)."""
    if references:
        body = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(1, rows + 1))
    else:
        body = "<row><c><v>1</v></c></row>" * rows
    return workbook([("Sheet1", sheet_xml(body, dimension=f"A1:A{rows}" if dimension else None))])


def wide(columns: int) -> bytes:
    """One row of `columns` cells without r= (their place is their order), and no dimension."""
    return workbook([("Sheet1", sheet_xml("<row>" + "<c><v>1</v></c>" * columns + "</row>"))])


def many_sheets(count: int) -> bytes:
    return workbook((f"S{i}", sheet_xml(f'<row r="1">{text_cell("A1", "x")}</row>')) for i in range(count))


def shared_strings(count: int) -> bytes:
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}/spreadsheetml/2006/main" count="{count}" '
        f'uniqueCount="{count}">' + "<si><t>a</t></si>" * count + "</sst>"
    )
    xml = sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    return workbook([("Sheet1", xml)], extra={"xl/sharedStrings.xml": sst})


def styles(count: int) -> bytes:
    xfs = f'<cellXfs count="{count}">' + '<xf numFmtId="0" fontId="0"/>' * count + "</cellXfs>"
    part = f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}/spreadsheetml/2006/main">{xfs}</styleSheet>'
    xml = sheet_xml('<row r="1"><c r="A1" s="1"><v>1</v></c></row>')
    return workbook([("Sheet1", xml)], extra={"xl/styles.xml": part})


def entities_in(part: str, *, utf16: bool = False) -> bytes:
    """The billion-laughs DOCTYPE in one part (the sheet, the workbook, shared strings, content types...),
    in UTF-8 or in UTF-16 (which a byte search for "<!DOCTYPE" does not see)."""
    declaration = '<?xml version="1.0" encoding="UTF-16"?>' if utf16 else '<?xml version="1.0"?>'
    root = {"xl/sharedStrings.xml": "sst", "[Content_Types].xml": "Types"}.get(part, "worksheet")
    xml = f"{declaration}{LAUGHS}<{root}><sheetData><row><c><is><t>&lol9;</t></is></c></row></sheetData></{root}>"
    payload = xml.encode("utf-16") if utf16 else xml.encode()
    if part == "xl/worksheets/sheet1.xml":
        return workbook([("Sheet1", payload)])
    return workbook(
        [("Sheet1", sheet_xml(f'<row r="1">{text_cell("A1", "x")}</row>'))], extra={part: payload}
    )


def zip_bomb(size: int, *, lie: bool) -> bytes:
    """A sheet that inflates to `size` bytes of spaces inside sheetData. With lie=True the zip's directory
    and local header claim the part is 1 KB."""
    head = sheet_xml("").encode()
    cut = head.index(b"</sheetData>")
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    body = io.BytesIO()
    crc = zlib.crc32(head[:cut])
    body.write(compressor.compress(head[:cut]))
    block = b" " * (1 << 20)
    for _ in range(size >> 20):
        body.write(compressor.compress(block))
        crc = zlib.crc32(block, crc)
    body.write(compressor.compress(head[cut:]))
    crc = zlib.crc32(head[cut:], crc)
    body.write(compressor.flush())
    total = cut + (size >> 20 << 20) + len(head) - cut
    plain = workbook([("Sheet1", sheet_xml(f'<row r="1">{text_cell("A1", "x")}</row>'))])
    return _with_member(plain, "xl/worksheets/sheet1.xml", body.getvalue(), crc, 1024 if lie else total)


def _with_member(data: bytes, name: str, deflated: bytes, crc: int, declared_size: int) -> bytes:
    """The workbook with one member replaced by raw deflated bytes and the size its headers declare."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    directory = []
    for info in source.infolist():
        if info.filename == name:
            raw, method, size, crc32 = deflated, zipfile.ZIP_DEFLATED, declared_size, crc
        else:
            raw = _raw(data, info)
            method, size, crc32 = info.compress_type, info.file_size, info.CRC
        encoded = info.filename.encode()
        offset = out.tell()
        out.write(
            struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc32, len(raw), size, len(encoded), 0
            )
        )
        out.write(encoded + raw)
        directory.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0,
                crc32,
                len(raw),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    for entry in directory:
        out.write(entry)
    out.write(
        struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, len(directory), len(directory), out.tell() - start, start, 0
        )
    )
    return out.getvalue()


def _raw(data: bytes, info: zipfile.ZipInfo) -> bytes:
    offset = info.header_offset
    name_length, extra_length = struct.unpack("<2H", data[offset + 26 : offset + 30])
    start = offset + 30 + name_length + extra_length
    return data[start : start + info.compress_size]


HOSTILE: dict[str, Callable[[], bytes]] = {
    "A1 + XFD1048576": lambda: sparse("XFD1048576"),
    "A1 + ZZ200000": lambda: sparse("ZZ200000"),
    "declared A1:XFD1048576": lambda: declared("A1:XFD1048576"),
    "1,048,575 rows (Excel style)": lambda: many_rows(1_048_575),
    "1,048,575 rows, no r=, no dimension": lambda: many_rows(1_048_575, dimension=False, references=False),
    "16,384 columns": lambda: wide(16_384),
    "5,000 sheets": lambda: many_sheets(5_000),
    "60 sheets": lambda: many_sheets(60),
    "6,000,000 shared strings": lambda: shared_strings(6_000_000),
    "100,000 styles": lambda: styles(100_000),
    "entities in the sheet": lambda: entities_in("xl/worksheets/sheet1.xml"),
    "entities in the workbook": lambda: entities_in("xl/workbook.xml"),
    "entities in shared strings": lambda: entities_in("xl/sharedStrings.xml"),
    "entities in content types": lambda: entities_in("[Content_Types].xml"),
    "entities in UTF-16": lambda: entities_in("xl/worksheets/sheet1.xml", utf16=True),
    "zip bomb, honest directory": lambda: zip_bomb(600 << 20, lie=False),
    "zip bomb, lying directory": lambda: zip_bomb(600 << 20, lie=True),
}


def memory_bomb(strings: int = 400, chars: int = 85_000) -> bytes:
    """A small file whose shared strings inflate to about 100 MB of distinct text (each string must be kept:
    any cell may name it), which the streaming reader cannot keep within a 64 MB allowance."""
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}/spreadsheetml/2006/main" count="{strings}" '
        f'uniqueCount="{strings}">'
        + "".join(f"<si><t>{i:06d}{'汉' * chars}</t></si>" for i in range(strings))
        + "</sst>"
    )
    return workbook(
        [("Sheet1", sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'))],
        extra={"xl/sharedStrings.xml": sst},
    )
