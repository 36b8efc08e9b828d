"""SQLite writers of one server process wait in line, first come first served, before SQLite's write lock.

SQLite lets one writer in at a time and makes the others poll: its busy handler sleeps 1, 2, 5 … up to 100 ms
between tries, so under 50 users a writer could lose the lock again and again to later arrivals and wait
seconds (benchmarks/load.py measured the slowest 5 % of actions at 2.3–2.9 s). Here a writer of this process
first takes its turn in a FIFO line and is woken the moment the writer before it gives the database back; only
writers of other processes (a command run beside the server) still meet the busy handler.

A place in line belongs to a pooled connection: taken when its transaction begins IMMEDIATE or takes a write
lock (xueji.locks), given back when the connection returns to the pool (after its COMMIT or ROLLBACK), or is
invalidated or closed, so no ending of a session can keep it. A writer that waits past the busy timeout goes
on without its place and meets SQLite's own lock, as before (never a deadlock, whatever a caller nests).
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, event

_PLACE = "xueji_writer_place"  # in the pooled connection's info: this connection holds the line's head


class WriterQueue:
    """A first-in, first-out lock whose holder is handed over directly to the next waiter."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=self.timeout_s):
            return True
        with self._mutex:
            try:
                self._waiting.remove(turn)
            except ValueError:
                return True  # handed over just as the wait ended: the place is ours
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()  # still held: by the next in line now
            else:
                self._held = False

    def enter(self, info: dict[str, Any]) -> None:
        """Take a place for this pooled connection (its info), once per transaction."""
        if not info.get(_PLACE) and self.acquire():
            info[_PLACE] = True

    def leave(self, info: dict[str, Any]) -> None:
        if info.pop(_PLACE, False):
            self.release()


# by the engine's dialect, which its connections, its option-bearing copies and its pool after dispose() share
_queues: weakref.WeakKeyDictionary[Dialect, WriterQueue] = weakref.WeakKeyDictionary()


def install(engine: Engine, timeout_s: float) -> None:
    """Give a SQLite engine its line: places are given back as its connections return to the pool (whose
    listeners a pool made by dispose() keeps)."""
    queue = _queues[engine.dialect] = WriterQueue(timeout_s)

    def leave(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        if record is not None:
            queue.leave(record.info)

    for name in ("checkin", "invalidate", "close", "detach"):
        event.listen(engine.pool, name, leave)


def wait_in_line(connection: Connection) -> None:
    """Before taking SQLite's write lock on this connection: wait for this process's writers before it."""
    queue = _queues.get(connection.dialect)
    if queue is not None:
        queue.enter(connection.info)
