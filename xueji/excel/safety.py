"""Refuse hostile workbooks before any parser sees them: the file's size, its zip directory, every part
inflated as a stream (zip bombs whose directory lies included), XML only in UTF-8 and without any DOCTYPE
(entity bombs, in any encoding), the number of sheets, shared strings and styles, and how far each sheet's
cells really reach (xueji.excel.extent). Runs in the reading child process, before the parser."""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from io import BytesIO

from xueji.excel.extent import declarations, scan_part, windows
from xueji.excel.limits import MB, SheetLimits, UnsafeWorkbook

__all__ = ["UnsafeWorkbook", "WorkbookScan", "check_container", "scan_parts"]

MAX_MEMBERS = 4096  # parts of the zip; an Excel workbook has a few dozen
MAX_STRUCTURE_BYTES = 8 * MB  # workbook.xml and its relationships: a few KB in any real workbook
_CHUNK = 1 << 20
_XML_NAMES = (".xml", ".rels", ".vml")
_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_UTF8 = {b"utf-8", b"utf8"}
_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\s([^>]*)>")
_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\s([^>]*)>")
_ATTRIBUTE = re.compile(rb"""([\w.:-]+)\s*=\s*(["'])(.*?)\2""", re.S)
_STRINGS = (b"<si>", b"<si ", b"<si/")
_STYLES = (b"<xf", b"<font", b"<fill", b"<border", b"<numFmt", b"<dxf")


@dataclass
class WorkbookScan:
    inflated_bytes: int
    has_formulas: bool
    sheets: list[str] = field(default_factory=list)  # the sheet names, in the workbook's order
    # the zip member of each part a reader needs: "sheet:<name>", "sharedStrings", "styles", "workbook"
    parts: dict[str, str] = field(default_factory=dict)


def check_container(data: bytes, limits: SheetLimits) -> zipfile.ZipFile:
    """The fast checks, from the zip's directory alone: size, format, parts, the sizes its parts declare."""
    if len(data) > limits.max_file_bytes:
        raise UnsafeWorkbook(
            f"文件过大:{len(data) / MB:.1f} MB,{limits.label}的上限为 {limits.max_file_bytes // MB} MB"
        )
    if not data.startswith(b"PK\x03\x04"):
        raise UnsafeWorkbook("只接受 .xlsx 文件(Excel 2007 及以后的格式);.xls 等旧格式请先另存为 .xlsx")
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise UnsafeWorkbook(f"文件已损坏,无法作为 xlsx 打开:{error}") from None
    if len(infos) > MAX_MEMBERS:
        raise UnsafeWorkbook(
            f"文件由 {len(infos):,} 个部件组成(Excel 文件只有几十个),不像是 Excel 工作簿,已拒绝"
        )
    names = {info.filename.lower() for info in infos}
    if "[content_types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise UnsafeWorkbook("这不是 Excel 工作簿(.xlsx):缺少工作表")
    if sum(info.file_size for info in infos) > limits.max_inflated_bytes:
        raise UnsafeWorkbook(_too_big(limits))
    return archive


def scan_parts(archive: zipfile.ZipFile, limits: SheetLimits) -> WorkbookScan:
    """Inflate every part as a stream and check it; refuse the file at the first thing out of bounds."""
    names, roles = _structure(archive, limits)
    total = 0
    formulas = False
    parts: dict[str, str] = {}
    try:
        for info in archive.infolist():
            part = info.filename.lower()
            role = roles.get(
                part, "sheet" if part.startswith("xl/worksheets/") and part.endswith(".xml") else ""
            )
            if role.startswith("sheet:") or role in ("sharedStrings", "styles"):
                parts.setdefault(role, info.filename)
            elif part == "xl/workbook.xml":
                parts["workbook"] = info.filename
            remaining = limits.max_inflated_bytes - total
            if role in ("sharedStrings", "styles"):
                total += _plain_xml(archive, info, remaining, limits, role)
            elif role or part.endswith(_XML_NAMES):  # any other XML part is counted as a sheet could be
                sheet = role.removeprefix("sheet:") if role.startswith("sheet:") else info.filename
                scan = scan_part(sheet, limits, partial(_xml, archive, info, remaining, limits))
                total += scan.size
                formulas |= scan.formulas and role.startswith("sheet")
            else:
                total += sum(len(chunk) for chunk in _inflate(archive, info, remaining, limits))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as error:
        raise UnsafeWorkbook(f"文件已损坏,无法作为 xlsx 打开:{error}") from None
    return WorkbookScan(total, formulas, names, parts)


def _structure(archive: zipfile.ZipFile, limits: SheetLimits) -> tuple[list[str], dict[str, str]]:
    """The sheets the workbook lists (refused beyond the limit), and the role of each part a relationship of
    the workbook points at: "sheet:<name>", "sharedStrings", "styles" or "other". A part is read for what
    it is pointed at as, whatever its name."""
    workbook = _small_part(archive, "xl/workbook.xml", limits)
    relationships = _small_part(archive, "xl/_rels/workbook.xml.rels", limits)
    sheets = [_attributes(m[1]) for m in _SHEET.finditer(workbook)]
    if len(sheets) > limits.max_sheets:
        raise UnsafeWorkbook(
            f"工作簿有 {len(sheets):,} 个工作表,{limits.label}最多接受 {limits.max_sheets} 个"
        )
    roles: dict[str, str] = {}
    target_of = {}
    for match in _RELATIONSHIP.finditer(relationships):
        attributes = _attributes(match[1])
        target = attributes.get("Target", "")
        path = (target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")).lower()
        target_of[attributes.get("Id", "")] = path
        kind = attributes.get("Type", "").rpartition("/")[2]
        roles[path] = kind if kind in ("sharedStrings", "styles") else "other"
    names = [s.get("name", "") for s in sheets]
    for sheet, name in zip(sheets, names, strict=True):
        rid = next((v for k, v in sheet.items() if k.endswith(":id") or k == "id"), "")
        if rid in target_of:
            roles[target_of[rid]] = f"sheet:{name}"
    for part in (i.filename.lower() for i in archive.infolist()):
        if part.endswith("sharedstrings.xml"):
            roles.setdefault(part, "sharedStrings")
        elif part.endswith("styles.xml"):
            roles.setdefault(part, "styles")
    return names, roles


def _plain_xml(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, remaining: int, limits: SheetLimits, role: str
) -> int:
    """Any other XML part: UTF-8, no declaration; shared strings and styles counted. Returns its size."""
    counted = {
        "sharedStrings": (_STRINGS, limits.max_shared_strings, "共享字符串"),
        "styles": (_STYLES, limits.max_styles, "单元格格式"),
    }.get(role)
    size = seen = 0
    pattern = _counter(counted[0]) if counted else None
    for window in windows(_xml(archive, info, remaining, limits)):
        size += len(window)
        if b"<!" in window:
            declarations(window)
        if counted and pattern:
            tags, most, what = counted
            seen += (
                sum(window.count(tag) for tag in tags) if b":" not in window else len(pattern.findall(window))
            )
            if seen > most:
                raise UnsafeWorkbook(f"文件的{what}超过 {most:,} 个(可能是构造出来的“炸弹”文件),已拒绝")
    return size


def _counter(tags: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """The tags with or without a namespace prefix (<x:si>), for windows where a prefix may appear."""
    return re.compile(b"<(?:[\\w.-]+:)?(?:" + b"|".join(re.escape(t[1:]) for t in tags) + b")")


def _attributes(text: bytes) -> dict[str, str]:
    return {
        m[1].decode(errors="replace"): html.unescape(m[3].decode(errors="replace"))
        for m in _ATTRIBUTE.finditer(text)
    }


def _small_part(archive: zipfile.ZipFile, path: str, limits: SheetLimits) -> bytes:
    info = next((i for i in archive.infolist() if i.filename.lower() == path), None)
    if info is None:
        return b""
    data = b"".join(_xml(archive, info, MAX_STRUCTURE_BYTES, limits, what="工作簿结构"))
    declarations(data)
    return data


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, remaining: int, limits: SheetLimits, what: str = ""
) -> Iterator[bytes]:
    """The part's bytes as they inflate; refused as soon as they pass what is left of the limit (a zip whose
    directory understates the sizes is caught here, not by trusting it)."""
    seen = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            seen += len(chunk)
            if seen > remaining:
                raise UnsafeWorkbook(f"{what}过大,已拒绝" if what else _too_big(limits))
            yield chunk


def _xml(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, remaining: int, limits: SheetLimits, what: str = ""
) -> Iterator[bytes]:
    """An XML part as it inflates, refused unless it is UTF-8 (a UTF-16 part could hide a DOCTYPE from a
    byte search; Excel and WPS only write UTF-8)."""
    chunks = _inflate(archive, info, remaining, limits, what)
    first = next(chunks, b"")
    _utf8(first, info.filename)
    yield first
    yield from chunks


def _utf8(start: bytes, part: str) -> None:
    head = start[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) or b"\x00" in head:
        raise UnsafeWorkbook(f"文件中的 {part} 不是 UTF-8 编码(Excel 只写 UTF-8),已拒绝")
    declared = _DECLARED_ENCODING.match(start.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared[1].strip().lower() not in _UTF8:
        encoding = declared[1].decode(errors="replace")
        raise UnsafeWorkbook(f"文件中的 {part} 声明为 {encoding} 编码(Excel 只写 UTF-8),已拒绝")


def _too_big(limits: SheetLimits) -> str:
    return f"文件解压后超过 {limits.max_inflated_bytes // MB} MB(可能是“压缩炸弹”),已拒绝"
