"""Write a planned registry import: new classes, new students and their family members, updates, records
moved here (升学, 转回, 劝返: their status changes in intake_write), and the audit entries, in the caller's
transaction. Bulk paths throughout (see db.insert_rows)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from operator import itemgetter
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session

from xueji.audit import Entry, record_many
from xueji.auth import Actor
from xueji.clock import now
from xueji.db import allocate_ids, insert_rows
from xueji.models import FamilyMember, SchoolClass, Student
from xueji.rules.masking import mask_identifiers
from xueji.rules.pinyin import name_initials
from xueji.rules.status_changes import Document
from xueji.rules.vocab import StudentStatus
from xueji.services.registry.import_plan import (
    MEMBER_FIELDS,
    STUDENT_FIELDS,
    ImportPlan,
    Update,
    classes_of,
)
from xueji.services.registry.intake_write import record_arrivals
from xueji.services.setup.moves import current_village_ids

STUDENT_TABLE = Student.__table__  # type: ignore[attr-defined]
MEMBER_TABLE = FamilyMember.__table__  # type: ignore[attr-defined]


def write_plan(
    session: Session,
    actor: Actor,
    plan: ImportPlan,
    file_name: str,
    file_digest: str,
    proofs: Collection[Document] = (),
) -> int:
    stamp = now()
    class_ids = _create_classes(session, plan)
    villages = current_village_ids(session)  # a retired village code leads to the village that took it
    entries: list[Entry] = [
        Entry("create", entity_type="school_class", entity_id=class_ids[key], after={"code": key[1]})
        for key in plan.new_classes
    ]
    created_ids = _insert_new(session, plan, class_ids, villages, stamp)
    entries.extend(_apply_updates(session, plan.updates, class_ids, villages, stamp))
    moved = [a.update for a in plan.moved if a.update is not None]
    _apply_updates(session, moved, class_ids, villages, stamp, moved=True)  # audited with their changes
    created = {row.row: student_id for row, student_id in zip(plan.new, created_ids, strict=True)}
    entries.extend(
        record_arrivals(
            session, actor, plan, created=created, class_ids=class_ids, proofs=proofs, stamp=stamp
        )
    )
    digest = hashlib.sha256(",".join(map(str, created_ids)).encode()).hexdigest()
    entries.append(
        Entry(
            "import",
            entity_type="student",
            entity_id=next(iter(plan.schools)) if plan.only_school else None,
            after={
                "schools": sorted(plan.schools) if plan.only_school else "scope",
                "created": len(created_ids),
                "created_ids": [min(created_ids), max(created_ids)] if created_ids else [],
                "created_ids_sha256": digest,
                "updated": len(plan.updates),
                "moved": len(moved),
                "sources": plan.sources if plan.arrivals else {},
                "unchanged": len(plan.unchanged),
                "skipped": len(plan.rejected),
                "file_sha256": file_digest,
            },
            detail=f"学籍导入 {file_name} → {plan.label}:新增{len(created_ids)},"
            f"更新{len(plan.updates)},迁入{len(moved)},无变化{len(plan.unchanged)},"
            f"跳过错误行{len(plan.rejected)}",
        )
    )
    record_many(session, actor=actor, entries=entries)
    return len(created_ids)


def _create_classes(session: Session, plan: ImportPlan) -> dict[tuple[int, str], int]:
    if plan.new_classes:
        session.execute(
            insert(SchoolClass),
            [{"school_id": school_id, "code": code} for school_id, code in plan.new_classes],
        )
    return classes_of(session, [s.id for s in plan.schools.values()])


NEW_STUDENT_COLUMNS = (
    "id",
    "school_id",
    "class_id",
    "home_village_id",
    "registry_number",
    "status",
    "created_at",
    "updated_at",
    "name_initials",
    *STUDENT_FIELDS,
)
MEMBER_COLUMNS = ("student_id", *MEMBER_FIELDS, "works_away")


def _insert_new(
    session: Session,
    plan: ImportPlan,
    class_ids: dict[tuple[int, str], int],
    villages: dict[str, int],
    stamp: Any,
) -> list[int]:
    ids = allocate_ids(session, STUDENT_TABLE, len(plan.new))
    fields = itemgetter(*STUDENT_FIELDS)
    enrolled = StudentStatus.ENROLLED.value
    students = []
    for student_id, row in zip(ids, plan.new, strict=True):
        v = row.values
        school_id = plan.schools[v["school_code"]].id
        registry = f"G{v['id_number']}" if v["id_number"] else None
        class_id = class_ids[(school_id, v["class_code"])]
        village = villages.get(v["household_code"])
        students.append(
            (
                student_id,
                school_id,
                class_id,
                village,
                registry,
                enrolled,
                stamp,
                stamp,
                name_initials(v["name"]),
                *fields(v),
            )
        )
    insert_rows(session, STUDENT_TABLE, NEW_STUDENT_COLUMNS, students)
    members = (_member_row(sid, m) for sid, row in zip(ids, plan.new, strict=True) for m in row.family)
    insert_rows(session, MEMBER_TABLE, MEMBER_COLUMNS, members)
    return ids


def _member_row(student_id: int, member: dict) -> tuple:
    return (student_id, *(member[f] for f in MEMBER_FIELDS), False)


def _apply_updates(
    session: Session,
    updates: list[Update],
    class_ids: dict[tuple[int, str], int],
    villages: dict[str, int],
    stamp: Any,
    *,
    moved: bool = False,
) -> Iterable[Entry]:
    """Write the updates (a moved record also takes its new school and 在读); their audit entries, except for
    moved records, whose entries name their status change (intake_write)."""
    if not updates:
        return []
    changed = []
    for u in updates:
        if u.before:
            values = _student_values(
                u.row.values, class_ids[(u.school_id, u.row.values["class_code"])], villages
            )
            if values["id_number"] and "id_number" in u.after:
                values["registry_number"] = f"G{values['id_number']}"
            if moved:
                values |= {"school_id": u.school_id, "status": StudentStatus.ENROLLED.value}
            changed.append({"id": u.student_id, **values, "updated_at": stamp})
    if changed:
        session.execute(update(Student), changed)
    members = [(u.student_id, m) for u in updates for m in u.members_changed]
    known = [m for _, m in members if "id" in m]
    if known:
        session.execute(update(FamilyMember), known)
    insert_rows(
        session, MEMBER_TABLE, MEMBER_COLUMNS, (_member_row(sid, m) for sid, m in members if "id" not in m)
    )
    if moved:
        return []
    return [
        Entry(
            "update",
            entity_type="student",
            entity_id=u.student_id,
            before=mask_identifiers(u.before | ({"family": u.members_before} if u.family_changed else {})),
            after=mask_identifiers(u.after | ({"family": u.members_changed} if u.family_changed else {})),
            detail="学籍导入更新",
        )
        for u in updates
    ]


def _student_values(values: dict, class_id: int | None, villages: dict[str, int]) -> dict[str, Any]:
    result = {name: values[name] for name in STUDENT_FIELDS}
    result["name_initials"] = name_initials(values["name"])
    result["class_id"] = class_id
    result["home_village_id"] = villages.get(values["household_code"])
    return result
