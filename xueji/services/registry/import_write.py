"""Write a planned registry import: new classes, new students and their family members, updates, records
moved here (升学, 转回, 劝返: their status changes in intake_write), and the audit entries, in the caller's
transaction. The rows are sorted again a chunk at a time (import_plan.RowSorter, with the plan's class sizes)
and each chunk is written before the next is read, so the write holds one chunk's rows, never the file's.
Bulk paths throughout (see db.insert_rows)."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Collection, Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session

from xueji.audit import Entry, record_many
from xueji.auth import Actor
from xueji.clock import now
from xueji.db import allocate_ids, insert_rows, table_grown
from xueji.excel.registry_template import RegistrySheet
from xueji.models import FamilyMember, SchoolClass, Student
from xueji.rules.masking import mask_identifiers
from xueji.rules.pinyin import name_initials
from xueji.rules.registry_record import CheckedRow
from xueji.rules.status_changes import Document
from xueji.rules.vocab import StudentStatus
from xueji.services.registry.import_plan import (
    MEMBER_FIELDS,
    STUDENT_FIELDS,
    ImportPlan,
    RowSorter,
    RowVerdict,
    SchoolRef,
    Tally,
    Update,
    classes_of,
    new_plan,
)
from xueji.services.registry.intake_write import record_arrivals
from xueji.services.setup.moves import current_village_ids

STUDENT_TABLE = Student.__table__  # type: ignore[attr-defined]
MEMBER_TABLE = FamilyMember.__table__  # type: ignore[attr-defined]


class _Created:
    """The new students' ids as they are made, chunk by chunk: their count, range and SHA-256 (of the ids
    joined by commas, as one list would give)."""

    def __init__(self) -> None:
        self.count = 0
        self.low: int | None = None
        self.high: int | None = None
        self.digest = hashlib.sha256()

    def add(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        self.digest.update((("," if self.count else "") + ",".join(map(str, ids))).encode())
        self.count += len(ids)
        self.low = ids[0] if self.low is None else min(self.low, ids[0])
        self.high = ids[-1] if self.high is None else max(self.high, ids[-1])


class _Writer:
    """Writes an import's accepted rows a chunk at a time, with each chunk's audit entries; the import's own
    entry last (finish)."""

    def __init__(
        self, session: Session, actor: Actor, plan: ImportPlan, proofs: Collection[Document]
    ) -> None:
        self.session, self.actor, self.plan, self.proofs = session, actor, plan, proofs
        self.stamp = now()
        self.class_ids = classes_of(session, [s.id for s in plan.schools.values()])
        self.villages = current_village_ids(
            session
        )  # a retired village code leads to the village that took it
        self.created = _Created()
        self.written = {"更新": 0, "moved": 0}

    def chunk(self, verdicts: Sequence[RowVerdict]) -> None:
        session, stamp, class_ids, villages = self.session, self.stamp, self.class_ids, self.villages
        accepted = [v for v in verdicts if v.kind in ("new", "update", "moved") and v.school_id is not None]
        entries = self._classes({(v.school_id, v.row.values["class_code"]) for v in accepted})  # type: ignore[misc]
        new = [v.row for v in accepted if v.kind == "new"]
        updates = [v.update for v in accepted if v.kind == "update" and v.update is not None]
        moved = [v.update for v in accepted if v.kind == "moved" and v.update is not None]
        arrivals = [v.arrival for v in accepted if v.arrival is not None]
        created_ids = _insert_new(session, self.plan, new, class_ids, villages, stamp)
        self.created.add(created_ids)
        entries.extend(_apply_updates(session, updates, class_ids, villages, stamp))
        _apply_updates(session, moved, class_ids, villages, stamp, moved=True)  # audited with their changes
        by_row = {row.row: student_id for row, student_id in zip(new, created_ids, strict=True)}
        entries.extend(
            record_arrivals(
                session,
                self.actor,
                arrivals,
                created=by_row,
                class_ids=class_ids,
                proofs=self.proofs,
                stamp=stamp,
            )
        )
        if entries:
            record_many(session, actor=self.actor, entries=entries)
        self.written["更新"] += len(updates)
        self.written["moved"] += len(moved)
        if arrivals:  # the status changes and cases are ORM objects: let this chunk's go
            session.flush()
            session.expunge_all()
            gc.collect()

    def _classes(self, keys: set[tuple[int, str]]) -> list[Entry]:
        """Create the classes rows go into that do not exist yet; their audit entries."""
        missing = sorted(key for key in keys if key not in self.class_ids)
        if not missing:
            return []
        self.session.execute(
            insert(SchoolClass), [{"school_id": school, "code": code} for school, code in missing]
        )
        self.class_ids.update(classes_of(self.session, sorted({school for school, _ in missing})))
        table_grown(self.session, SchoolClass.__table__)  # type: ignore[attr-defined]
        return [
            Entry("create", entity_type="school_class", entity_id=self.class_ids[key], after={"code": key[1]})
            for key in missing
        ]

    def finish(self, file_name: str, file_digest: str) -> int:
        plan, created = self.plan, self.created
        if (created.count, self.written["更新"], self.written["moved"]) != (
            plan.totals["新增"],
            plan.totals["更新"],
            plan.totals["moved"],
        ):  # the write sorted the rows as the plan did, under the same lock: anything else is a fault
            raise RuntimeError(f"导入写入与计划不符:计划 {plan.counts},写入新增 {created.count}")
        entry = Entry(
            "import",
            entity_type="student",
            entity_id=next(iter(plan.schools)) if plan.only_school else None,
            after={
                "schools": sorted(plan.schools) if plan.only_school else "scope",
                "created": created.count,
                "created_ids": [created.low, created.high] if created.count else [],
                "created_ids_sha256": created.digest.hexdigest(),
                "updated": plan.totals["更新"],
                "moved": plan.moved_count,
                "sources": plan.sources if plan.arrival_count else {},
                "unchanged": plan.totals["无变化"],
                "skipped": plan.totals["有错误"],
                "file_sha256": file_digest,
            },
            detail=f"学籍导入 {file_name} → {plan.label}:新增{created.count},"
            f"更新{plan.totals['更新']},迁入{plan.moved_count},无变化{plan.totals['无变化']},"
            f"跳过错误行{plan.totals['有错误']}",
        )
        record_many(self.session, actor=self.actor, entries=[entry])
        return created.count


def plan_and_write(
    session: Session,
    actor: Actor,
    sheet: RegistrySheet,
    schools: Sequence[SchoolRef],
    *,
    only_school: bool,
    only_valid: bool,
    file_name: str,
    file_digest: str,
    proofs: Collection[Document] = (),
) -> tuple[ImportPlan, int | None]:
    """One pass: sort each chunk and write it at once, in the caller's transaction under its write lock. The
    writing stops at the first refused row unless only_valid; the pass goes on counting. Returns the plan
    and how many were created, or None when what was written must not stand (a refused row, or a class
    the rows take past the limit, whose rows a second pass must refuse): the caller rolls it back."""
    plan = new_plan(sheet, schools, only_school)
    sorter = RowSorter(session, sheet, plan)
    tally = Tally(session, plan, sorter, None)
    writer = _Writer(session, actor, plan, proofs)
    for verdicts in sorter.chunks():
        tally.add(verdicts)
        if only_valid or not plan.totals["有错误"]:
            writer.chunk(verdicts)
    tally.finish()
    if plan.over or (plan.totals["有错误"] and not only_valid):
        return plan, None
    return plan, writer.finish(file_name, file_digest)


def write_plan(
    session: Session,
    actor: Actor,
    plan: ImportPlan,
    sheet: RegistrySheet,
    file_name: str,
    file_digest: str,
    proofs: Collection[Document] = (),
) -> int:
    """Write the rows the plan accepts, sorting them again chunk by chunk as the plan did (its class sizes and
    classes past the limit), each chunk's audit entries with it; then the import's own entry (counts, the new
    ids' range and SHA-256, the file's SHA-256). Returns how many were created."""
    writer = _Writer(session, actor, plan, proofs)
    for verdicts in RowSorter(session, sheet, plan).chunks():
        writer.chunk(verdicts)
    return writer.finish(file_name, file_digest)


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
    new: Sequence[CheckedRow],
    class_ids: dict[tuple[int, str], int],
    villages: dict[str, int],
    stamp: Any,
) -> list[int]:
    if not new:
        return []
    ids = allocate_ids(session, STUDENT_TABLE, len(new))
    fields = itemgetter(*STUDENT_FIELDS)
    enrolled = StudentStatus.ENROLLED.value
    students = []
    for student_id, row in zip(ids, new, strict=True):
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
    members = (_member_row(sid, m) for sid, row in zip(ids, new, strict=True) for m in row.family)
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
