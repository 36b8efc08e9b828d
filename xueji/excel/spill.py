"""Rows kept on disk between the passes of an import, so that a large file is never held in memory as rows:
each chunk (a few thousand rows) is pickled, compressed and appended to an anonymous temporary file, and read
back chunk by chunk as often as a pass needs. The file has no name (it is unlinked as it is made) and goes
with the object. Only this process writes and reads it: what it unpickles is what it pickled."""

from __future__ import annotations

import os
import pickle  # noqa: S403 (our own rows, written by this process to its own anonymous file)
import tempfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
CHUNK = 5000  # rows a chunk: what one pass holds at a time


class SpilledRows(Generic[T]):
    """A sequence of rows written once, in chunks, then read back in order any number of times."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="xueji-import-")
        self._chunks: list[tuple[int, int, int]] = []  # (offset, length, rows)
        self._end = 0
        self._count = 0
        self._lock = threading.Lock()

    def add(self, rows: Sequence[T]) -> None:
        if not rows:
            return
        data = zlib.compress(pickle.dumps(list(rows), protocol=pickle.HIGHEST_PROTOCOL), 1)
        with self._lock:
            os.pwrite(self._file.fileno(), data, self._end)
            self._chunks.append((self._end, len(data), len(rows)))
            self._end += len(data)
            self._count += len(rows)

    def chunks(self) -> Iterator[list[T]]:
        """The rows, one chunk at a time (each chunk a fresh copy: a pass may change its rows freely)."""
        for offset, length, _ in list(self._chunks):
            data = os.pread(self._file.fileno(), length, offset)
            yield pickle.loads(zlib.decompress(data))  # noqa: S301 (written above by this process)

    def __iter__(self) -> Iterator[T]:
        for chunk in self.chunks():
            yield from chunk

    def __len__(self) -> int:
        return self._count

    @property
    def disk_bytes(self) -> int:
        return self._end

    def close(self) -> None:
        self._file.close()

    def __del__(self) -> None:
        try:
            self._file.close()
        except Exception:  # noqa: S110 (interpreter shutdown)
            pass
