"""Write the arrivals of a registry import (rules.intake) in the caller's transaction: one approved status
change per arriving child (升学, 外县转入, 劝返复学), decided by the importer, with its source and the proofs the
registrar ticked; the child's cases follow the record (services.cases.opening.apply_status_change, as an approval
does, and the cases' school); one audit entry per moved record and per new record from outside."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlmodel import Session

from xueji.audit import Entry
from xueji.auth import Actor
from xueji.clock import today
from xueji.models import StatusChange, Student
from xueji.rules import intake
from xueji.rules.masking import mask_identifiers
from xueji.rules.status_changes import ChangeKind, ChangeState, Document
from xueji.services.cases.opening import apply_status_change
from xueji.services.registry.import_plan import Arrival


def record_arrivals(
    session: Session,
    actor: Actor,
    arrivals: Sequence[Arrival],
    *,
    created: Mapping[int, int],
    class_ids: Mapping[tuple[int, str], int],
    proofs: Collection[Document],
    stamp: datetime,
) -> list[Entry]:
    """The status changes of these arrivals (one chunk of an import's; records already moved or created;
    `created`: row number → new student id), the cases brought in line, and their audit entries."""
    if not arrivals:
        return []
    documents = ",".join(sorted(d.value for d in proofs))
    changes = []
    for arrival in arrivals:
        student_id = arrival.update.student_id if arrival.update else created[arrival.row.row]
        changes.append((arrival, _change(arrival, student_id, class_ids, actor, documents, stamp)))
    session.add_all([change for _, change in changes])
    session.flush()
    entries = []
    for arrival, change in changes:
        student = session.get(Student, change.student_id)
        assert student is not None  # written by this import a moment ago
        apply_status_change(session, actor=actor, change=change, student=student)
        entries.append(_entry(arrival, change))
    return entries


def _change(
    arrival: Arrival,
    student_id: int,
    class_ids: Mapping[tuple[int, str], int],
    actor: Actor,
    documents: str,
    stamp: datetime,
) -> StatusChange:
    move, v = arrival.move, arrival.row.values
    outside = move.kind is ChangeKind.TRANSFER_IN_OUTSIDE
    return StatusChange(
        student_id=student_id,
        kind=move.kind.value,
        state=ChangeState.APPROVED.value,
        school_id=arrival.from_school_id or arrival.school_id,  # the school the record leaves, if any
        to_school_id=arrival.school_id,
        to_class_id=class_ids[(arrival.school_id, v["class_code"])],
        effective_date=arrival.effective_date,
        reason=intake.INTAKE_REASON if move is intake.Move.OUTSIDE_INTAKE else intake.REASON[move.kind],
        documents=documents if outside else "",
        source_county=v["source_county"] if outside else None,
        source_school=v["source_school"] if outside else None,
        submitted_by=actor.user_id,
        submitted_at=stamp,
        due_date=today(),
        decided_by=actor.user_id,
        decided_at=stamp,
        decision_reason="学籍导入时办理",
    )


def _entry(arrival: Arrival, change: StatusChange) -> Entry:
    detail = f"学籍导入:{arrival.move.value}({arrival.sentence}),异动 #{change.id}"
    if arrival.update is None:  # a new record from outside: its creation is in the import's own entry
        return Entry(
            "create",
            entity_type="status_change",
            entity_id=change.id,
            after={
                "kind": change.kind,
                "student_id": change.student_id,
                "effective_date": change.effective_date,
                "source_county": change.source_county,
                "documents": change.documents,
            },
            detail=detail,
        )
    u = arrival.update
    family = u.family_changed
    return Entry(
        "update",
        entity_type="student",
        entity_id=u.student_id,
        before=mask_identifiers(u.before | ({"family": u.members_before} if family else {})),
        after=mask_identifiers(
            u.after | ({"family": u.members_changed} if family else {}) | {"change": change.id}
        ),
        detail=detail,
    )
