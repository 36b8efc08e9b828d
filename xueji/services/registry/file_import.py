"""Import the national registry template: check every row, plan (new, updated, unchanged, rejected),
then write the accepted rows in one transaction with their audit entries.

The file is read and its rows checked once (check_file), as a stream: the checked rows go to an anonymous
temporary file in chunks (excel.spill) and only small keys stay in memory (查重 within the file); import_plan
adds what only the database knows, a chunk at a time; commit_import takes the write lock, plans again inside
that transaction (so what is written always agrees with the database at that moment) and hands the plan to
import_write, which writes chunk by chunk in that one transaction (all or nothing). Memory does not grow with
the file: benchmarks/import_students.py measures it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.db import unit_of_work
from xueji.excel.limits import ImportKind
from xueji.excel.registry_template import RegistrySheet, read_registry
from xueji.locks import write_lock
from xueji.models import School, Student, Township
from xueji.perf import collector_paused
from xueji.rules.registry_record import check_rows
from xueji.rules.status_changes import Document
from xueji.services.cases.opening import open_registry_cases
from xueji.services.common.access import require
from xueji.services.common.calendar import school_year_on
from xueji.services.common.uploads import record_refusal, refusals_audited
from xueji.services.registry.import_plan import (
    ImportPlan,
    SchoolRef,
    class_name,
    plan_import,
    problems_frame,
    schools_for_import,
    schools_in_scope,
)
from xueji.services.registry.import_write import plan_and_write, write_plan

__all__ = [
    "ImportBlocked",
    "ImportPlan",
    "ImportResult",
    "SchoolRef",
    "check_file",
    "class_name",
    "commit_import",
    "import_file",
    "plan_import",
    "problems_frame",
    "schools_for_import",
]


class ImportBlocked(Exception):
    """The import cannot be committed as asked; the message says why, in Chinese."""

    def __init__(self, message: str, plan: ImportPlan | None = None) -> None:
        super().__init__(message)
        self.plan = plan


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    created: int

    @property
    def summary(self) -> str:
        p = self.plan
        text = f"新增 {self.created} 人,更新 {p.totals['更新']} 人,无变化 {p.totals['无变化']} 人"
        if p.arrival_count:
            text += f";学籍迁入与外县来源 {p.arrival_count} 人:{p.sources_text}"
        if p.totals["有错误"]:
            text += f",跳过有错误的 {p.totals['有错误']} 行"
        if p.new_classes:
            text += f";新建班级 {len(p.new_classes)} 个"
        return text


def check_file(session: Session, *, actor: Actor, data: bytes, file_name: str = "") -> RegistrySheet:
    """Read a template file and check every row on its own (no database rules yet). A file refused before
    its rows (unsafe, too large, not the template) is audited with its SHA-256 and name."""
    require(session, actor, Action.STUDENT_IMPORT)
    day = today()
    year = school_year_on(session, day)
    audited = refusals_audited(session, actor=actor, kind=ImportKind.REGISTRY, data=data, file_name=file_name)
    with audited, collector_paused():
        return read_registry(data, check=partial(check_rows, today=day, school_year=year))


@unit_of_work
def commit_import(
    session: Session,
    *,
    actor: Actor,
    sheet: RegistrySheet,
    schools: Sequence[SchoolRef],
    only_school: bool,
    only_valid: bool = False,
    file_name: str = "",
    file_digest: str = "",
    on_write: Callable[[], None] | None = None,
    proofs: Collection[Document] = (),
) -> ImportResult:
    """Plan again under the write lock and write every accepted row and its audit entries, all or nothing: one
    pass sorts and writes each chunk of rows in turn (import_write.plan_and_write), and a refused row (without
    only_valid) or a class taken past the limit undoes it (the latter is planned and written again in two
    passes). The schools are checked against the actor's scope again here, whoever calls; a refused import is
    audited. `proofs`: the documents the registrar checked for this import's transfers in from
    another county (recorded on each 外县转入; a missing one is allowed and counted by the monthly ledger)."""
    require(session, actor, Action.STUDENT_IMPORT)
    # the write lock before reading, so the plan cannot go stale before the write: the counties of the
    # schools (查重 and arrivals reach across a county's schools; its set-up and rollover take it too)
    keys = _county_keys(session, schools)
    write_lock(session, *keys)
    schools = schools_in_scope(session, actor=actor, schools=schools)
    if on_write is not None:
        on_write()
    with collector_paused():
        # one pass: each chunk sorted and written at once (all or nothing: one transaction)
        plan, created = plan_and_write(
            session,
            actor,
            sheet,
            schools,
            only_school=only_school,
            only_valid=only_valid,
            file_name=file_name,
            file_digest=file_digest,
            proofs=proofs,
        )
    if created is None and plan.over:
        # a class would go past the limit: its rows are refused, which a second pass over the rows must know
        # from the start; what the first pass wrote is undone, and the import planned and written again
        session.rollback()
        write_lock(session, *keys)
        plan = plan_import(session, actor=actor, sheet=sheet, schools=schools, only_school=only_school)
        if not plan.totals["有错误"] or only_valid:
            with collector_paused():
                created = write_plan(session, actor, plan, sheet, file_name, file_digest, proofs)
    if created is None:
        message = (
            f"有 {plan.totals['有错误']} 行有错误,未导入任何数据。请修改后重新导入,或选择“仅导入无误的行”。"
        )
        record_refusal(  # rolls back what the pass wrote before the first refused row
            session,
            actor=actor,
            kind=ImportKind.REGISTRY,
            file_name=file_name,
            reason=message,
            digest=file_digest,
        )
        raise ImportBlocked(message, plan)
    with collector_paused():
        # the flags of new and updated records call for cases (留守, 随迁, 残疾, 困难, 孤儿)
        open_registry_cases(
            session,
            actor=actor,
            students=select(Student.id).where(
                col(Student.school_id).in_([s.id for s in plan.schools.values()])
            ),
        )
    session.commit()
    return ImportResult(plan, created)


def _county_keys(session: Session, schools: Sequence[SchoolRef]) -> list[str]:
    """The write-lock keys of an import: county:<id> of each county the schools are in (plain column reads,
    before the lock)."""
    query = (
        select(Township.county_id)
        .join(School, School.township_id == Township.id)
        .where(col(School.id).in_([s.id for s in schools]))
        .distinct()
    )
    return [f"county:{county}" for county in session.scalars(query)]


def import_file(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    school_code: str | None,
    only_valid: bool = False,
    file_name: str = "",
    on_write: Callable[[], None] | None = None,
    proofs: Collection[Document] = (),
) -> ImportResult:
    """Check and commit a file in one go (the batch path); ImportBlocked carries the plan when rows fail."""
    sheet = check_file(session, actor=actor, data=data, file_name=file_name)
    schools = schools_for_import(session, actor=actor, school_code=school_code)
    session.rollback()  # end the read transaction: the commit plans again under the write lock
    return commit_import(
        session,
        actor=actor,
        sheet=sheet,
        schools=schools,
        only_school=bool(school_code),
        only_valid=only_valid,
        file_name=file_name,
        file_digest=hashlib.sha256(data).hexdigest(),
        on_write=on_write,
        proofs=proofs,
    )
