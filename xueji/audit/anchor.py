"""Anchors: the audit log's head (hash, entry count, last id, time) written outside the database.

`xueji audit anchor` appends one line per run to an append-only file (and prints it, for paper); `xueji audit
verify` then requires every anchored entry to be still there with the same hash and the same number of entries
up to it, so a log cut short (its tail pointer moved back) or wiped no longer verifies.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.clock import CHINA_TZ, now
from xueji.config import get_settings
from xueji.models import AuditLog

PREFIX = "xueji-audit-anchor v1"
_LINE = re.compile(
    rf"^{re.escape(PREFIX)} at=(?P<at>\S+) count=(?P<count>\d+) last_id=(?P<last_id>\d+) "
    r"head=(?P<head>[0-9a-f]{64}|-) key=(?P<key>[0-9a-f]{16}|-)$"
)


class AnchorFileError(Exception):
    """The anchor file cannot be read or holds a line that is not an anchor; the message says which."""


@dataclass(frozen=True)
class Anchor:
    at: datetime
    count: int  # entries with an id up to last_id; append-only, so it can never change
    last_id: int  # 0 for an empty log
    head: str | None  # the hash of entry last_id
    key_id: str | None  # the key that signed it (None: an unkeyed entry)
    line_no: int = 0

    def line(self) -> str:
        return (
            f"{PREFIX} at={self.at.astimezone(CHINA_TZ).isoformat(timespec='seconds')} count={self.count} "
            f"last_id={self.last_id} head={self.head or '-'} key={self.key_id or '-'}"
        )

    @property
    def label(self) -> str:
        return f"{self.at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} 的锚点(第 {self.line_no} 行)"


def anchor_file() -> Path:
    return get_settings().audit_anchor_file


def parse(line: str, line_no: int) -> Anchor:
    found = _LINE.match(line.strip())
    if not found:
        raise AnchorFileError(
            f"锚点文件 {anchor_file()} 第 {line_no} 行不是锚点记录(文件被改动?):{line[:80]!r}"
        )
    try:
        at = datetime.fromisoformat(found["at"])
    except ValueError as exc:
        raise AnchorFileError(f"锚点文件 {anchor_file()} 第 {line_no} 行的时间无法识别") from exc
    head, key = found["head"], found["key"]
    return Anchor(
        at, int(found["count"]), int(found["last_id"]), None if head == "-" else head,
        None if key == "-" else key, line_no,
    )  # fmt: skip


def read_anchors(path: Path | None = None) -> list[Anchor]:
    """Every anchor in the file, oldest first; none when the file does not exist yet."""
    path = path or anchor_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorFileError(f"无法读取锚点文件 {path}:{exc}") from exc
    return [parse(line, n) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def current_head(session: Session) -> Anchor:
    """The log's head now, read in one statement so that the count and the last id agree."""
    count, last_id = session.execute(select(func.count(), func.max(AuditLog.id))).one()
    head = key_id = None
    if last_id is not None:
        head, key_id = session.execute(
            select(col(AuditLog.hash), col(AuditLog.key_id)).where(col(AuditLog.id) == last_id)
        ).one()
    return Anchor(now(), int(count), int(last_id or 0), head, key_id)


def append(anchor: Anchor, path: Path | None = None) -> Anchor:
    """Append the anchor as one line (O_APPEND, flushed to disk); returns it with its line number."""
    path = path or anchor_file()
    lines = len(read_anchors(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(anchor.line() + "\n")
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise AnchorFileError(f"无法写入锚点文件 {path}:{exc.strerror or exc}") from exc
    return Anchor(anchor.at, anchor.count, anchor.last_id, anchor.head, anchor.key_id, lines + 1)
