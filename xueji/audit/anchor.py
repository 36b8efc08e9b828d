"""Anchors: the audit log's heads (each chain's last sealed entry, and the old global chain's end) written
outside the database.

`xueji audit anchor` appends one line per run to an append-only file (and prints it, for paper); `xueji audit
verify` then requires every anchored entry to be still there with the same hash (and, for the old global chain,
the same number of entries up to it), so a chain cut short (its head moved back) or a log wiped no longer
verifies. v2 lines (migration 0021 on) hold every chain's head; v1 lines, written before, still verify against
the old global chain.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from xueji.clock import CHINA_TZ, now
from xueji.config import get_settings

PREFIX = "xueji-audit-anchor v1"
PREFIX2 = "xueji-audit-anchor v2"
_LINE = re.compile(
    rf"^{re.escape(PREFIX)} at=(?P<at>\S+) count=(?P<count>\d+) last_id=(?P<last_id>\d+) "
    r"head=(?P<head>[0-9a-f]{64}|-) key=(?P<key>[0-9a-f]{16}|-)$"
)
_LINE2 = re.compile(
    rf"^{re.escape(PREFIX2)} at=(?P<at>\S+) count=(?P<count>\d+) "
    r"legacy=(?P<legacy>\d+):(?P<last_id>\d+):(?P<head>[0-9a-f]{64}|-) key=(?P<key>[0-9a-f]{16}|-) "
    r"chains=(?P<chains>-|\d+:\d+:[0-9a-f]{64}(?:,\d+:\d+:[0-9a-f]{64})*)$"
)


class AnchorFileError(Exception):
    """The anchor file cannot be read or holds a line that is not an anchor; the message says which."""


@dataclass(frozen=True)
class ChainHead:
    chain: int  # a county's id, or 0
    seq: int  # the position of the chain's last sealed entry
    hash: str


@dataclass(frozen=True)
class Anchor:
    at: datetime
    count: int  # v1: entries with an id up to last_id; v2: every entry covered (the old chain's and the seqs)
    last_id: int  # the last entry of the old global chain (0: none)
    head: str | None  # the hash of entry last_id
    key_id: str | None  # the key that signed it (None: an unkeyed entry)
    line_no: int = 0
    heads: tuple[ChainHead, ...] | None = None  # v2: every chain's head; None in a v1 line
    legacy: int | None = None  # v2: the entries of the old global chain (v1: count)

    @property
    def legacy_count(self) -> int:
        return self.count if self.legacy is None else self.legacy

    def line(self) -> str:
        at = self.at.astimezone(CHINA_TZ).isoformat(timespec="seconds")
        if self.heads is None:
            return (
                f"{PREFIX} at={at} count={self.count} "
                f"last_id={self.last_id} head={self.head or '-'} key={self.key_id or '-'}"
            )
        chains = ",".join(f"{h.chain}:{h.seq}:{h.hash}" for h in self.heads) or "-"
        return (
            f"{PREFIX2} at={at} count={self.count} legacy={self.legacy_count}:{self.last_id}:{self.head or '-'} "
            f"key={self.key_id or '-'} chains={chains}"
        )

    @property
    def label(self) -> str:
        return f"{self.at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} 的锚点(第 {self.line_no} 行)"


def anchor_file() -> Path:
    return get_settings().audit_anchor_file


def parse(line: str, line_no: int) -> Anchor:
    found = _LINE.match(line.strip()) or _LINE2.match(line.strip())
    if not found:
        raise AnchorFileError(
            f"锚点文件 {anchor_file()} 第 {line_no} 行不是锚点记录(文件被改动?):{line[:80]!r}"
        )
    try:
        at = datetime.fromisoformat(found["at"])
    except ValueError as exc:
        raise AnchorFileError(f"锚点文件 {anchor_file()} 第 {line_no} 行的时间无法识别") from exc
    head, key = found["head"], found["key"]
    anchor = Anchor(
        at, int(found["count"]), int(found["last_id"]), None if head == "-" else head,
        None if key == "-" else key, line_no,
    )  # fmt: skip
    if "chains" not in found.groupdict():
        return anchor
    heads = tuple(
        ChainHead(int(c), int(s), h)
        for c, s, h in (part.split(":") for part in found["chains"].split(",") if part != "-")
    )
    legacy = int(found["legacy"])
    if (
        len({h.chain for h in heads}) != len(heads)
        or any(h.seq < 1 for h in heads)
        or anchor.count != legacy + sum(h.seq for h in heads)
    ):
        raise AnchorFileError(f"锚点文件 {anchor_file()} 第 {line_no} 行的条数或链头不一致(文件被改动?)")
    return replace(anchor, heads=heads, legacy=legacy)


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


def of_heads(
    legacy: int, last_id: int, head: str | None, key_id: str | None, heads: Iterable[ChainHead]
) -> Anchor:
    """A v2 anchor, now, of the old global chain's end and these chains' heads (as verify found them)."""
    ordered = tuple(sorted(heads, key=lambda h: h.chain))
    return Anchor(now(), legacy + sum(h.seq for h in ordered), last_id, head, key_id, 0, ordered, legacy)


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
    return replace(anchor, line_no=lines + 1)
