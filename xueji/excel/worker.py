"""The reading process: `python -m xueji.excel.worker LIMITS` reads an uploaded workbook from standard input,
caps its own memory and CPU time first, checks the file (xueji.excel.safety) and only then reads the first
sheet (or the sheets asked for by name) as a stream (xueji.excel.sheet_stream; openpyxl for a file with
formulas), every cell as text.

Nothing a file does here reaches the server: a parser that crashes, a Rust allocation that aborts, a file
that runs away ends this process only, and the server turns that into a refusal (xueji.excel.sandbox).
Imports are kept few (no pandas, no database) so the process starts in a few hundredths of a second.

The answer goes to standard output as frames (a 4-byte length, then a pickle of plain values): first
("sheet", name, has formulas) or a refusal; then ("rows", rows, lossy) batches, which the server works on
while the next batch is read; last ("end", peak memory). A refusal is ("refused", reason, peak),
("memory", peak) or ("unreadable", detail, peak), and may come in place of any frame.
"""

from __future__ import annotations

import json
import pickle
import resource
import struct
import sys
import zipfile
from collections.abc import Iterator, Sequence
from io import BytesIO
from sys import intern
from typing import BinaryIO

from xueji.excel.cells import cell_text
from xueji.excel.limits import MB, SheetLimits, UnsafeWorkbook
from xueji.excel.safety import WorkbookScan, check_container, scan_parts
from xueji.excel.sheet_stream import FastSheet, Irregular, date_styles, shared_strings, uses_1904

BATCH = 5000  # rows a frame
Rows = list[list[str]]
Lossy = list[tuple[int, int]]


def limit_resources(limits: SheetLimits) -> None:
    """Cap this process before it touches the file: address space (what it has now plus the allowance),
    CPU seconds, no files written, no core dump of a crash."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    cpu = limits.seconds + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    address_space = _status("VmSize:", 512 * MB) + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def _status(field: str, default: int = 0) -> int:
    """A size from /proc/self/status (VmSize, VmHWM), in bytes; the default where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return default


def first_sheet(data: bytes, limits: SheetLimits) -> tuple[str, bool, Iterator[tuple[Rows, Lossy]]]:
    """Check the file, then open its first sheet: (its name, whether it has formulas, its rows in batches:
    from row 1 and column A, as text, trailing blanks dropped, with the (row, column) of numbers that lost
    digits in Excel)."""
    archive = check_container(data, limits)
    scan = scan_parts(archive, limits)
    name = scan.sheets[0] if scan.sheets else ""
    rows = _openpyxl_rows(data) if scan.has_formulas else _streamed_rows(data, archive, scan, name)
    return name, scan.has_formulas, _batches(rows)


def named_sheets(
    data: bytes, limits: SheetLimits, wanted: Sequence[str]
) -> Iterator[tuple[str, bool, Iterator[tuple[Rows, Lossy]] | None]]:
    """Check the file, then each wanted sheet in turn, by name: (its name, whether the workbook has formulas,
    its rows in batches as first_sheet gives them, or None where the workbook has no sheet of that name)."""
    archive = check_container(data, limits)
    scan = scan_parts(archive, limits)
    for name in wanted:
        if name not in scan.sheets:
            yield name, scan.has_formulas, None
            continue
        rows = _openpyxl_rows(data, name) if scan.has_formulas else _streamed_rows(data, archive, scan, name)
        yield name, scan.has_formulas, _batches(rows)


def _streamed_rows(
    data: bytes, archive: zipfile.ZipFile, scan: WorkbookScan, name: str
) -> Iterator[tuple[int, Sequence[object]]]:
    """The sheet's rows read as a stream (excel.sheet_stream), in bounded memory; what the fast reading cannot
    vouch for is read on by openpyxl's streaming reader from the first row not yet given out."""
    member = scan.parts.get(f"sheet:{name}")
    if member is None:  # a sheet its relationships do not lead to: the exact reader finds it by name
        yield from _openpyxl_rows(data, name)
        return
    try:
        strings = shared_strings(archive, scan.parts.get("sharedStrings"))
        sheet = FastSheet(
            archive,
            member,
            strings,
            date_styles(archive, scan.parts.get("styles")),
            uses_1904(archive, scan.parts.get("workbook")),
        )
    except Irregular:
        yield from _openpyxl_rows(data, name)
        return
    try:
        yield from sheet.rows()
    except Irregular:
        del strings, sheet.strings
        for row, values in _openpyxl_rows(data, name):
            if row >= sheet.given:
                yield row, values


def _openpyxl_rows(data: bytes, name: str | None = None) -> Iterator[tuple[int, Sequence[object]]]:
    """Formulas as their text (=...), never a computed value: openpyxl without data_only."""
    from openpyxl import load_workbook

    book = load_workbook(BytesIO(data), read_only=True, data_only=False)
    sheet = book.worksheets[0] if name is None else book[name]
    yield from enumerate(sheet.iter_rows(values_only=True))


def _batches(rows: Iterator[tuple[int, Sequence[object]]]) -> Iterator[tuple[Rows, Lossy]]:
    batch: Rows = []
    lossy: Lossy = []
    for row, values in rows:
        batch.append(_texts(values, row, lossy))
        if len(batch) == BATCH:
            yield batch, lossy
            batch, lossy = [], []
    if batch:
        yield batch, lossy


def _texts(values: Sequence[object], row: int, lossy: Lossy) -> list[str]:
    """One row as text. Strings are interned: most cells repeat (是/否, codes), and a pickle then carries
    each distinct text once."""
    try:  # the usual row: all text, converted in C (intern refuses anything but str)
        texts = list(map(intern, values))  # type: ignore[arg-type]
    except TypeError:
        texts = []
        for value in values:
            text, lost = cell_text(value)
            if lost:
                lossy.append((row, len(texts)))
            texts.append(intern(text))
    while texts and not texts[-1]:
        texts.pop()
    return texts


def _send(out: BinaryIO, *frame: object) -> None:
    payload = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(struct.pack(">I", len(payload)) + payload)
    out.flush()


def main(argv: list[str]) -> int:
    limits = SheetLimits(**json.loads(argv[1]))
    limit_resources(limits)
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    try:
        if len(argv) > 2:  # several sheets, by name: ("sheet", ...) and its rows, or ("missing", name), each
            for name, formulas, batches in named_sheets(data, limits, json.loads(argv[2])):
                if batches is None:
                    _send(out, "missing", name)
                    continue
                _send(out, "sheet", name, formulas)
                for rows, lossy in batches:
                    _send(out, "rows", rows, lossy)
        else:
            name, formulas, batches = first_sheet(data, limits)
            _send(out, "sheet", name, formulas)
            for rows, lossy in batches:
                _send(out, "rows", rows, lossy)
    except UnsafeWorkbook as error:
        _send(out, "refused", str(error), _status("VmHWM:"))
    except MemoryError:
        _send(out, "memory", _status("VmHWM:"))
    except (
        Exception
    ) as error:  # the parsers' own errors (CalamineError, zip errors...): the file is unreadable
        _send(out, "unreadable", f"{type(error).__name__}: {error}", _status("VmHWM:"))
    else:
        _send(out, "end", _status("VmHWM:"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
