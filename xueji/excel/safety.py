"""Refuse hostile workbooks before any parser sees them: size, zip bombs, XML entity bombs, formulas."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from io import BytesIO

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
_CHUNK = 1 << 20
# Entities (the "billion laughs" bomb) can only be declared inside a DOCTYPE, and xlsx parts never have one.
_DTD_MARK = b"<!DOCTYPE"
# Every formula cell, and the first cell of every shared formula, closes an <f> element with text in it.
_FORMULA_MARK = b"</f>"


class UnsafeWorkbook(ValueError):
    """The file is not an xlsx we are willing to open; the message says why, in Chinese."""


@dataclass(frozen=True)
class WorkbookScan:
    uncompressed_bytes: int
    has_formulas: bool


def check_container(data: bytes) -> zipfile.ZipFile:
    """The fast checks, from the zip's directory alone: size, format, the sizes its members declare."""
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeWorkbook(f"文件过大:{len(data) / 1048576:.1f} MB,上限为 {MAX_FILE_BYTES // 1048576} MB")
    if not data.startswith(b"PK\x03\x04"):
        raise UnsafeWorkbook("只接受 .xlsx 文件(Excel 2007 及以后的格式);.xls 等旧格式请先另存为 .xlsx")
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise UnsafeWorkbook(f"文件已损坏,无法作为 xlsx 打开:{error}") from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise UnsafeWorkbook("这不是 Excel 工作簿(.xlsx):缺少工作表")
    if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
        raise UnsafeWorkbook(_too_big())
    return archive


def scan_parts(archive: zipfile.ZipFile) -> WorkbookScan:
    """Inflate every XML part as a stream: real sizes (a zip whose directory lies is caught as soon as the
    real total passes the limit), no DOCTYPE anywhere, and whether any sheet holds formulas."""
    total = 0
    formulas = False
    try:
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            is_sheet = info.filename.startswith("xl/worksheets/")
            tail = b""
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > MAX_UNCOMPRESSED_BYTES:
                        raise UnsafeWorkbook(_too_big())
                    window = tail + chunk
                    if _DTD_MARK in window:
                        raise UnsafeWorkbook("文件含有 XML 实体声明(可能是“XML 炸弹”),已拒绝")
                    if is_sheet and not formulas:
                        formulas = _FORMULA_MARK in window
                    tail = chunk[-16:]
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise UnsafeWorkbook(f"文件已损坏,无法作为 xlsx 打开:{error}") from None
    return WorkbookScan(total, formulas)


def _too_big() -> str:
    return f"文件解压后超过 {MAX_UNCOMPRESSED_BYTES // 1048576} MB(可能是“压缩炸弹”),已拒绝"
