"""Read an uploaded workbook in a child process with a memory and time limit, so that whatever the file does
(a parser crash, an abort of the Rust parser, a runaway) becomes a Chinese refusal for that one user and
the server keeps serving everyone else.

The child is a fresh interpreter running xueji.excel.worker (spawned, not forked). Forking the Streamlit
server is faster (6 ms against 50 ms, benchmarks/hostile_files.py) but copies a multi-threaded process of
several hundred MB holding database connections, whose locks may be held by another thread at that instant;
a forkserver (17 ms) re-imports the main module in every child unless the whole app is preloaded into it.
A fresh interpreter with the worker's few imports shares nothing with the server.

The rows come back in batches while the child is still reading, so the server checks the first rows while
the last are converted; at most XUEJI_IMPORT_PARALLEL files are read at once per server process.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import xueji
from xueji.config import get_settings
from xueji.excel.limits import MB, ImportKind, SheetLimits, UnsafeWorkbook
from xueji.rules.registry_record import LossyNumber

_PACKAGE_ROOT = str(Path(xueji.__file__).resolve().parent.parent)
_log = logging.getLogger("xueji.uploads")
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@dataclass(frozen=True)
class SheetText:
    """The first sheet of an upload: every cell as text, rows from row 1 and columns from A (a number that
    lost digits in Excel is a LossyNumber). The rows arrive as the reading process sends them: iterate them
    once, and close() them if you stop early (that ends the reading process at once)."""

    name: str
    has_formulas: bool
    rows: Rows


@dataclass(frozen=True)
class Reading:
    """How the last reading in this thread went: for the log, the tests and benchmarks/hostile_files.py."""

    seconds: float
    child_peak_bytes: int | None  # the reading process's peak resident memory (None if it was killed)
    exit_code: int | None
    outcome: str  # end, refused, memory, unreadable, timeout, crashed


last_reading: ContextVar[Reading | None] = ContextVar("last_reading", default=None)


def read_sheet(data: bytes, kind: ImportKind) -> SheetText:
    """Check and read an upload for this import in the reading process; raise UnsafeWorkbook (a TemplateError)
    with the reason in Chinese when the file is refused, whatever happened to the process (also while the
    rows are iterated)."""
    limits = get_settings().uploads.limits(kind)
    if len(data) > limits.max_file_bytes:  # no need to start a process for that
        raise UnsafeWorkbook(
            f"文件过大:{len(data) / MB:.1f} MB,{limits.label}的上限为 {limits.max_file_bytes // MB} MB"
        )
    slot = _slot(get_settings().uploads.parallel)
    if not slot.acquire(timeout=limits.seconds):
        raise UnsafeWorkbook("服务器正在读取其他上传的文件,请稍后再试")
    child = _Child(data, limits, slot)
    frame = child.frame()
    if frame[0] != "sheet":
        child.refuse(frame)
    return SheetText(frame[1], frame[2], Rows(child))


def read_sheets(data: bytes, kind: ImportKind, names: tuple[str, ...]) -> dict[str, list[list[str]] | None]:
    """Check and read the sheets of a workbook by name in the reading process (a set-up workbook of several
    sheets): name → its rows as text from row 1 (as read_sheet gives them), None where the workbook has no
    such sheet. Refusals as read_sheet's."""
    limits = get_settings().uploads.limits(kind)
    if len(data) > limits.max_file_bytes:
        raise UnsafeWorkbook(
            f"文件过大:{len(data) / MB:.1f} MB,{limits.label}的上限为 {limits.max_file_bytes // MB} MB"
        )
    slot = _slot(get_settings().uploads.parallel)
    if not slot.acquire(timeout=limits.seconds):
        raise UnsafeWorkbook("服务器正在读取其他上传的文件,请稍后再试")
    child = _Child(data, limits, slot, names)
    sheets: dict[str, list[list[str]] | None] = {}
    current: list[list[str]] | None = None
    while True:
        frame = child.frame()
        if frame[0] == "end":
            child.close("end", frame[1])
            return sheets
        if frame[0] == "missing":
            sheets[frame[1]], current = None, None
        elif frame[0] == "sheet":
            current, child.row = [], 0
            sheets[frame[1]] = current
        elif frame[0] == "rows" and current is not None:
            rows, lossy = frame[1], frame[2]
            for row, column in lossy:
                rows[row - child.row][column] = LossyNumber(rows[row - child.row][column])
            child.row += len(rows)
            current.extend(rows)
        else:
            child.refuse(frame)


def _slot(parallel: int) -> threading.BoundedSemaphore:
    """At most `parallel` reading processes at once (each may take the memory limit), per server process."""
    with _slots_lock:
        return _slots.setdefault(parallel, threading.BoundedSemaphore(parallel))


class _Child:
    """One reading process: started with the file on its input, killed at the time limit, its frames read
    one by one; it gives back its slot when it ends, however it ends."""

    def __init__(
        self, data: bytes, limits: SheetLimits, slot: threading.BoundedSemaphore, names: tuple[str, ...] = ()
    ) -> None:
        self.limits, self.slot = limits, slot
        self.started = time.perf_counter()
        self.timed_out = False
        self.closed = False
        self.row = 0  # the sheet's row number (0-based) of the next row to come
        self.detail = ""
        self.errors = tempfile.TemporaryFile()  # a pipe nobody reads could stall a child that writes much
        path = os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "xueji.excel.worker",
                    json.dumps(limits.to_json()),
                    *([json.dumps(list(names))] if names else []),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
                env={**os.environ, "PYTHONPATH": path},
                cwd=_PACKAGE_ROOT,
            )
        except BaseException:
            self.errors.close()
            slot.release()
            raise
        self.timer = threading.Timer(limits.seconds, self._time_up)
        self.timer.daemon = True
        self.timer.start()
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(data)
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # the child has already ended: its frames (or their absence) say why

    def _time_up(self) -> None:
        self.timed_out = True
        self.process.kill()

    def frame(self) -> tuple[Any, ...]:
        """The next frame; a refusal (after closing) if the process ended without one."""
        assert self.process.stdout is not None
        header = self.process.stdout.read(4)
        size = struct.unpack(">I", header)[0] if len(header) == 4 else 0
        # a batch holds at most what the file inflates to: a larger length is not the worker speaking
        payload = self.process.stdout.read(size) if size <= self.limits.max_inflated_bytes else b""
        try:
            return _PlainValues(BytesIO(payload)).load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, struct.error):
            self.close("timeout" if self.timed_out else "crashed")
            if self.timed_out:
                _log.warning("upload reading stopped after %s s", self.limits.seconds)
                raise UnsafeWorkbook(_too_slow(self.limits)) from None
            _log.warning("upload reading process ended with %s: %s", self.process.returncode, self.detail)
            raise UnsafeWorkbook(_ended(self.process.returncode, self.limits)) from None

    def batch(self) -> list[list[str]]:
        """The next batch of rows ([] at the end, when the process has ended)."""
        if self.closed:
            return []
        frame = self.frame()
        if frame[0] == "end":
            self.close("end", frame[1])
            return []
        if frame[0] != "rows":
            self.refuse(frame)
        rows, lossy = frame[1], frame[2]
        for row, column in lossy:
            rows[row - self.row][column] = LossyNumber(rows[row - self.row][column])
        self.row += len(rows)
        return rows

    def refuse(self, frame: tuple[Any, ...]) -> None:
        self.close(frame[0], frame[-1])
        if frame[0] == "refused":
            raise UnsafeWorkbook(frame[1])
        if frame[0] == "memory":
            raise UnsafeWorkbook(_too_much_memory(self.limits))
        _log.info("upload unreadable: %s", frame[1])
        raise UnsafeWorkbook(f"无法读取该 xlsx 文件:{frame[1]}")

    def close(self, outcome: str, peak: int | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self.timer.cancel()
        if self.process.poll() is None and outcome not in ("end", "refused", "memory", "unreadable"):
            self.process.kill()
        self.process.wait()
        self.errors.seek(0)
        self.detail = self.errors.read()[-2000:].decode(errors="replace")  # the end of its standard error
        for stream in (self.process.stdout, self.errors):
            if stream is not None:
                stream.close()
        self.slot.release()
        seconds = time.perf_counter() - self.started
        last_reading.set(Reading(seconds, peak, self.process.returncode, outcome))


class Rows(Iterator[list[str]]):
    """The rows of a sheet as the reading process sends them. close() (or dropping it) ends the process
    at once, for a reader that stops early (a header refused)."""

    def __init__(self, child: _Child) -> None:
        self._child = child
        self._batch: list[list[str]] = []
        self._at = 0

    def __next__(self) -> list[str]:
        while self._at == len(self._batch):
            self._batch, self._at = self._child.batch(), 0
            if not self._batch:
                raise StopIteration
        self._at += 1
        return self._batch[self._at - 1]

    def close(self) -> None:
        self._child.close("abandoned")

    def __del__(self) -> None:
        if not self._child.closed:
            self.close()


class _PlainValues(pickle.Unpickler):
    """The reading process answers with strings, numbers, lists and tuples only: no class may be loaded."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"unexpected {module}.{name}")


def _too_slow(limits: SheetLimits) -> str:
    return (
        f"读取文件用时超过 {limits.seconds} 秒,已停止并拒绝。文件可能含有异常的结构;"
        "若确是正常的大文件,请按学校或乡镇分成几个文件后再上传"
    )


def _too_much_memory(limits: SheetLimits) -> str:
    return (
        f"读取文件时超出内存上限({limits.memory_bytes // MB:,} MB),已拒绝。文件可能含有异常的结构;"
        "若确是正常的大文件,请按学校或乡镇分成几个文件后再上传"
    )


def _ended(code: int | None, limits: SheetLimits) -> str:
    if code in (-signal.SIGABRT, -signal.SIGKILL):  # a Rust allocation that failed aborts the process
        return _too_much_memory(limits)
    if code == -signal.SIGXCPU:
        return _too_slow(limits)
    return f"读取文件的进程意外结束(代码 {code}),已拒绝。文件可能已损坏或含有异常的结构"
