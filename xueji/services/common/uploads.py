"""Refused uploads are audited: who, which file (its SHA-256 and name), for which import and why, in a
transaction of the audit's own so that the entry outlives the caller's rollback (as access.deny does)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from xueji.auth import Actor
from xueji.excel.limits import ImportKind, TemplateError
from xueji.excel.simple_table import TableRow, read_table
from xueji.services.common.refusals import audit_refusal


def record_refusal(
    session: Session,
    *,
    actor: Actor,
    kind: ImportKind,
    file_name: str,
    reason: str,
    digest: str,
    size: int | None = None,
) -> None:
    """Audit a refused upload in its own transaction (the caller's work, if any, is rolled back first)."""
    audit_refusal(
        session,
        actor,
        action="import",
        entity_type="upload",
        entity_id=digest[:40],
        after={"import": kind.label, "file_name": file_name[:200], "sha256": digest, "bytes": size},
        message=f"{kind.label}被拒绝:{file_name[:100] or '(未命名文件)'}:{reason}",
    )


def record_file_refusal(
    session: Session, *, actor: Actor, kind: ImportKind, data: bytes, file_name: str, reason: str
) -> None:
    """Audit a refused upload of these bytes (their SHA-256 and size) in its own transaction."""
    record_refusal(
        session,
        actor=actor,
        kind=kind,
        file_name=file_name,
        reason=reason,
        digest=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


@contextmanager
def refusals_audited(
    session: Session,
    *,
    actor: Actor,
    kind: ImportKind,
    data: bytes,
    file_name: str,
    refused: tuple[type[Exception], ...] = (TemplateError,),
) -> Iterator[None]:
    """Run an import's reading or writing; when it refuses the file (the exceptions named), audit that and
    let the refusal go on to the user."""
    try:
        yield
    except refused as error:
        record_file_refusal(
            session, actor=actor, kind=kind, data=data, file_name=file_name, reason=str(error)
        )
        raise


def read_rows(
    session: Session,
    *,
    actor: Actor,
    kind: ImportKind,
    data: bytes,
    file_name: str,
    columns: dict[str, str],
    required: tuple[str, ...],
) -> list[TableRow]:
    """A one-sheet upload's rows (excel.simple_table.read_table, in the reading process); a file refused before
    its rows is audited."""
    with refusals_audited(session, actor=actor, kind=kind, data=data, file_name=file_name):
        return read_table(data, columns, required=required, kind=kind)
