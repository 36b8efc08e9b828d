"""Plan a registry import: sort every checked row into new, updated, unchanged, moved (an arrival: the child's
record in the county moves here by 升学, 转回 or 劝返) or rejected, adding what only the database knows (the
school in scope, 查重 by ID number, existing classes and their sizes). Nothing is written here.

The rows are taken a chunk at a time from the checked sheet (excel.spill), never all at once: a pass keeps
counters by small keys (class sizes, counts by kind, source, class and reason) and the first KEEP rows of each
kind for the preview. Class sizes (大班额) depend on every row, so when a pass finds a class over the limit a
second pass sorts the rows again with those classes known. The write (import_write) runs the same pass once
more, under the write lock, and writes each chunk as it is sorted."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.excel.registry_template import RegistrySheet
from xueji.models import FamilyMember, School, SchoolClass, Student, Township
from xueji.perf import collector_paused
from xueji.rules import intake
from xueji.rules.class_code import parse_class_code
from xueji.rules.registry_record import CheckedRow
from xueji.rules.status_changes import ChangeKind
from xueji.rules.terms import school_year_bounds
from xueji.rules.vocab import SchoolKind, Stage, StudentStatus
from xueji.services.common.access import deny, require, school_condition
from xueji.services.common.calendar import school_year_on
from xueji.sql import among

if TYPE_CHECKING:
    import pandas as pd

# The Student columns an import sets (class_id and home_village_id are derived from codes).
STUDENT_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "birthplace_code",
    "native_place",
    "ethnicity",
    "nationality",
    "id_type",
    "id_number",
    "household_code",
    "entry_month",
    "current_address",
    "mailing_address",
    "home_address",
    "needs_aid",
    "only_child",
    "left_behind",
    "migrant",
    "orphan",
    "disabled",
    "disability_type",
)
MEMBER_FIELDS = ("seq", "name", "relation", "household_code", "phone", "workplace", "is_guardian")
_LOOKUP_CHUNK = 2000
_SQLITE_LOOKUP_CHUNK = 100
_ARRAY_CHUNK = 5000  # PostgreSQL: an import's chunk (excel.spill.CHUNK) in one lookup, one array (sql.among)


@dataclass
class Update:
    row: CheckedRow
    student_id: int
    school_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    members_changed: list[dict[str, Any]]  # family members 1 and 2 as the row gives them, with "id" if known
    members_before: list[
        dict[str, Any]
    ]  # the same members as the record held them (the audit's before-values)

    @property
    def family_changed(self) -> bool:
        return bool(self.members_changed)


@dataclass
class Arrival:
    """A child arriving by this import (rules.intake): a record of the county moved here (`update` holds its
    values as an update would write them), or a new record from another county (its row is in ImportPlan.new)."""

    row: CheckedRow
    move: intake.Move
    school_id: int  # the school it arrives at
    effective_date: date
    sentence: str  # what the preview says, e.g. 从古港镇完全小学毕业,升入本校
    update: Update | None = None
    from_school_id: int | None = None  # the school the record leaves (a moved record)


@dataclass(frozen=True)
class SchoolRef:
    id: int
    code: str
    name: str
    kind: str


KEEP = 1000  # rows kept of each kind (new, updated, unchanged, moved, rejected, warned) for the preview


@dataclass
class ImportPlan:
    """What an import would do. The counts cover every row; the lists hold the first KEEP rows of each kind
    (all of them in a file of fewer rows): see `complete`."""

    schools: dict[str, SchoolRef]  # code → school: where the rows may go (one, or every school in scope)
    only_school: bool  # the import was for one named school
    new: list[CheckedRow] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    unchanged: list[CheckedRow] = field(default_factory=list)
    rejected: list[CheckedRow] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)  # moved records, and new records from outside
    new_classes: dict[tuple[int, str], int] = field(default_factory=dict)  # (school id, code) → its size
    notices: list[str] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)  # 新增 更新 无变化 有错误, moved, arrivals, ...
    arrival_counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # ("source"|"move", value)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)  # (column, reason) → rejected rows
    by_class: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (school, class, kind) → rows
    warned_rows: list[CheckedRow] = field(default_factory=list)
    rows: int = 0  # rows in the file
    # what the write pass needs to sort the rows as this plan did
    sizes: Counter[tuple[int, str]] = field(default_factory=Counter)  # class sizes after the import
    over: frozenset[tuple[int, str]] = frozenset()  # classes the import would take past the limit
    graduates: bool | None = None  # whether the county holds last year's primary graduates (asked once)
    _codes: dict[int | None, str] = field(default_factory=dict, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        return {kind: self.totals[kind] for kind in ("新增", "更新", "无变化", "有错误")}

    @property
    def moved(self) -> list[Arrival]:
        """The arrivals that move an existing record (升学, 转回, 劝返), not counted as 新增 or 更新."""
        return [a for a in self.arrivals if a.update is not None]

    @property
    def moved_count(self) -> int:
        return self.totals["moved"]

    @property
    def arrival_count(self) -> int:
        return self.totals["arrivals"]

    @property
    def warned_count(self) -> int:
        return self.totals["warned"]

    @property
    def changes(self) -> int:
        """Records the import would create or change."""
        return self.totals["新增"] + self.totals["更新"] + self.totals["moved"]

    @property
    def complete(self) -> bool:
        """Whether the lists hold every row of their kind (a file of fewer than KEEP rows of each)."""
        return (
            len(self.new) == self.totals["新增"]
            and len(self.updates) == self.totals["更新"]
            and len(self.unchanged) == self.totals["无变化"]
            and len(self.rejected) == self.totals["有错误"]
            and len(self.arrivals) == self.totals["arrivals"]
            and len(self.warned_rows) == self.totals["warned"]
        )

    @property
    def sources(self) -> dict[str, int]:
        """The arrivals counted by source: 本县小学升入, 外县转入, 返回 (of which 转回 and 劝返)."""
        counts = self.arrival_counts
        return {
            **{source.value: counts[("source", source.value)] for source in intake.Source},
            "其中转回": counts[("move", intake.Move.BACK_FROM_TRANSFER.value)],
            "其中劝返": counts[("move", intake.Move.BACK_FROM_DROPOUT.value)],
        }

    @property
    def outside_count(self) -> int:
        """The arrivals from another county (外县转入, 转回, 初一新生 from outside): their proofs are asked for."""
        outside = [m for m in intake.Move if m.kind is ChangeKind.TRANSFER_IN_OUTSIDE]
        return sum(self.arrival_counts[("move", m.value)] for m in outside)

    @property
    def sources_text(self) -> str:
        """The sources in one line, those with nobody left out: 本县小学升入 7 人,外县转入 1 人,返回 1 人(其中转回 1 人)."""
        counts = self.sources
        parts = [f"{s.value} {counts[s.value]} 人" for s in intake.Source if counts[s.value]]
        within = [f"{k} {counts[k]} 人" for k in ("其中转回", "其中劝返") if counts[k]]
        if within and parts:
            parts[-1] += "(" + ",".join(within) + ")"  # 返回 is the last source: its two kinds
        return ",".join(parts)

    @property
    def temporary(self) -> int:
        return self.totals["temporary"]

    @property
    def warned(self) -> list[CheckedRow]:
        """The first KEEP accepted rows with warnings, in row order."""
        return sorted(self.warned_rows, key=lambda r: r.row)

    @property
    def label(self) -> str:
        return "、".join(s.name for s in self.schools.values()) if self.only_school else "管辖范围内各校"

    def class_counts(self) -> list[tuple[str, str, int, int, int, int]]:
        """Per school and class: (school code, class code, 新增, 更新, 迁入, 无变化), in code order."""
        counts = self.by_class
        return [
            (
                school,
                code,
                counts[(school, code, "新增")],
                counts[(school, code, "更新")],
                counts[(school, code, "迁入")],
                counts[(school, code, "无变化")],
            )
            for school, code in sorted({(school, code) for school, code, _ in counts})
        ]

    def reason_counts(self) -> list[tuple[str, str, int]]:
        """Every reason a row was refused for, with how many rows, most frequent first."""
        return [(column, reason, n) for (column, reason), n in self.reasons.most_common()]

    def _take(self, verdict: RowVerdict) -> None:
        """Count one row's verdict; keep the row while its list is short."""
        row, kind = verdict.row, verdict.kind
        if kind == "rejected":
            self.totals["有错误"] += 1
            for problem in {(p.column, p.reason) for p in row.errors}:
                self.reasons[problem] += 1
            if len(self.rejected) < KEEP:
                self.rejected.append(row)
            return
        if row.warnings:
            self.totals["warned"] += 1
            if len(self.warned_rows) < KEEP:
                self.warned_rows.append(row)
        school = self._codes.get(verdict.school_id) or next(
            code for code, s in self.schools.items() if s.id == verdict.school_id
        )
        self._codes[verdict.school_id] = school
        label = {"new": "新增", "update": "更新", "unchanged": "无变化", "moved": "迁入"}[kind]
        self.by_class[(school, row.values["class_code"], label)] += 1
        if verdict.arrival is not None:
            arrival = verdict.arrival
            self.totals["arrivals"] += 1
            self.arrival_counts[("source", arrival.move.source.value)] += 1
            self.arrival_counts[("move", arrival.move.value)] += 1
            if len(self.arrivals) < KEEP:
                self.arrivals.append(arrival)
        if kind == "new":
            self.totals["新增"] += 1
            self.totals["temporary"] += row.is_temporary
            if len(self.new) < KEEP:
                self.new.append(row)
        elif kind == "update":
            self.totals["更新"] += 1
            if len(self.updates) < KEEP and verdict.update is not None:
                self.updates.append(verdict.update)
        elif kind == "unchanged":
            self.totals["无变化"] += 1
            if len(self.unchanged) < KEEP:
                self.unchanged.append(row)
        else:
            self.totals["moved"] += 1


@dataclass
class RowVerdict:
    """Where one row goes: new, update, unchanged, moved (an arrival of a record of the county) or rejected."""

    kind: str
    row: CheckedRow
    school_id: int | None = None
    update: Update | None = None
    arrival: Arrival | None = None


def schools_for_import(session: Session, *, actor: Actor, school_code: str | None) -> list[SchoolRef]:
    """The schools rows may go to: the one named (it must be in scope), else every school in scope."""
    require(session, actor, Action.STUDENT_IMPORT)
    # a closed (merged) school takes no new records: its records went to the school that took it over
    query = (
        select(School).where(school_condition(actor), col(School.closed_on).is_(None)).order_by(School.code)
    )
    if school_code:
        query = query.where(School.code == school_code.strip())
    schools = [SchoolRef(s.id, s.code, s.name, s.kind) for s in session.scalars(query)]
    if not schools:
        deny(
            session,
            actor,
            Action.STUDENT_IMPORT.value,
            f"学校 {school_code} 不存在、已撤并关闭或不在您的管辖范围内"
            if school_code
            else "您的管辖范围内没有在用的学校",
            entity_type="school",
            entity_id=school_code,
        )
    return schools


def plan_import(
    session: Session, *, actor: Actor, sheet: RegistrySheet, schools: Sequence[SchoolRef], only_school: bool
) -> ImportPlan:
    """Sort every row into new, updated, unchanged or rejected, with all the reasons; write nothing. The
    schools are taken from the database, and one outside the actor's scope is refused (and audited), whoever
    passed it: the page and the command line only offer schools in scope, but the service does not rely on it."""
    require(session, actor, Action.STUDENT_IMPORT)
    schools = schools_in_scope(session, actor=actor, schools=schools)
    with collector_paused():
        return _plan(session, sheet, schools, only_school)


@dataclass(frozen=True)
class _Year:
    """The school year the rows are placed in: its start year, first day, and today."""

    start: int
    first_day: date
    today: date


def _year(session: Session) -> _Year:
    day = today()
    start = school_year_on(session, day)
    first_day = school_year_bounds(start, start_month=get_settings().school_year_start_month)[0]
    return _Year(start, first_day, day)


def schools_in_scope(session: Session, *, actor: Actor, schools: Sequence[SchoolRef]) -> list[SchoolRef]:
    """The schools as the database has them (code, name and kind), each one inside the actor's scope;
    the first one outside is denied and audited."""
    ids = list(dict.fromkeys(s.id for s in schools))
    query = select(School).where(
        col(School.id).in_(ids), school_condition(actor), col(School.closed_on).is_(None)
    )
    found = {s.id: SchoolRef(s.id, s.code, s.name, s.kind) for s in session.scalars(query)}
    outside = next((s for s in schools if s.id not in found), None)
    if outside is not None:
        deny(
            session,
            actor,
            Action.STUDENT_IMPORT.value,
            f"学校 {outside.code} {outside.name} 不存在、已撤并关闭或不在您的管辖范围内,不能导入",
            entity_type="school",
            entity_id=outside.id,
        )
    return [found[i] for i in ids]


def _plan(
    session: Session, sheet: RegistrySheet, schools: Sequence[SchoolRef], only_school: bool
) -> ImportPlan:
    """One pass over the rows; a second one when a class would go past the limit (its rows are refused, and
    the counts and lists must say so)."""
    plan = _one_pass(session, sheet, schools, only_school, sizes=None)
    if plan.over:
        plan = _one_pass(
            session, sheet, schools, only_school, sizes=plan.sizes, over=plan.over, graduates=plan.graduates
        )
    if sum(plan.counts.values()) + plan.moved_count != plan.rows:  # every row must end up somewhere, visibly
        raise RuntimeError(f"导入计划与文件行数不符:{plan.counts},文件 {plan.rows} 行")
    return plan


def _one_pass(
    session: Session,
    sheet: RegistrySheet,
    schools: Sequence[SchoolRef],
    only_school: bool,
    *,
    sizes: Counter[tuple[int, str]] | None,
    over: frozenset[tuple[int, str]] = frozenset(),
    graduates: bool | None = None,
) -> ImportPlan:
    plan = new_plan(sheet, schools, only_school)
    plan.graduates, plan.over = graduates, over
    sorter = RowSorter(session, sheet, plan)
    tally = Tally(session, plan, sorter, sizes)
    for verdicts in sorter.chunks():
        tally.add(verdicts)
    tally.finish()
    return plan


def new_plan(sheet: RegistrySheet, schools: Sequence[SchoolRef], only_school: bool) -> ImportPlan:
    return ImportPlan({s.code: s for s in schools}, only_school, notices=list(sheet.notices))


class Tally:
    """Adds a pass's verdicts into its plan, chunk by chunk: the counts, the lists' first rows and, in a first
    pass (no sizes given), the class sizes after the import; finish() names the classes past the limit and
    the classes the import creates."""

    def __init__(
        self, session: Session, plan: ImportPlan, sorter: RowSorter, sizes: Counter[tuple[int, str]] | None
    ) -> None:
        self.plan, self.sorter = plan, sorter
        self.first = sizes is None
        plan.sizes = sorter.enrolled() if sizes is None else sizes
        self.classes = classes_of(session, sorter.school_ids)  # the classes before the import
        self.targets: set[tuple[int, str]] = set()

    def add(self, verdicts: Sequence[RowVerdict]) -> None:
        plan = self.plan
        for verdict in verdicts:
            plan.rows += 1
            move = self.sorter.moves.get(verdict.row.row)
            if move is not None:
                key, leaving = move
                if self.first:
                    plan.sizes[key] += 1
                    if leaving:
                        plan.sizes[(key[0], leaving)] -= 1
                if verdict.kind != "rejected":
                    self.targets.add(key)
            plan._take(verdict)

    def finish(self) -> None:
        plan = self.plan
        if self.first:  # the classes the rows would take past the limit: a second pass refuses their rows
            plan.over = frozenset(key for key in self.targets if plan.sizes[key] > self.sorter.limit)
        plan.new_classes = {key: plan.sizes[key] for key in sorted(self.targets) if key not in self.classes}


class RowSorter:
    """Sorts the rows of a sheet against the database, a chunk at a time (one pass). `plan` brings the schools,
    the classes found past the limit (refused here) and, once known, whether the county has last year's
    graduates; the verdicts of a chunk go to the caller before the next chunk is read."""

    def __init__(self, session: Session, sheet: RegistrySheet, plan: ImportPlan) -> None:
        self.session, self.sheet, self.plan = session, sheet, plan
        self.school_ids = [s.id for s in plan.schools.values()]
        self.year = _year(session)
        self.junior = {s.id for s in plan.schools.values() if Stage.JUNIOR in SchoolKind(s.kind).stages}
        self.temporary = _temporary_records(session, self.school_ids)
        self.limit = get_settings().class_size_limit
        self.moves: dict[int, tuple[tuple[int, str], str | None]] = {}  # row → (class it joins, class left)

    def enrolled(self) -> Counter[tuple[int, str]]:
        """The enrolled students of each class of the schools, as the database has them."""
        query = (
            select(SchoolClass.school_id, SchoolClass.code, func.count(Student.id))
            .join(Student, Student.class_id == SchoolClass.id)
            .where(col(SchoolClass.school_id).in_(self.school_ids), Student.status == StudentStatus.ENROLLED)
            .group_by(SchoolClass.school_id, SchoolClass.code)
        )
        return Counter({(school_id, code): n for school_id, code, n in self.session.execute(query)})

    def chunks(self) -> Iterator[list[RowVerdict]]:
        for rows in self.sheet.rows.chunks():
            yield self._sort(rows)

    def _sort(self, rows: list[CheckedRow]) -> list[RowVerdict]:
        plan, year = self.plan, self.year
        self.moves.clear()  # the previous chunk's: its verdicts have been taken
        for row in rows:  # the database's verdicts belong to one plan, not to the file as read
            row.forget_later_problems()
        ok = [r for r in rows if r.ok]
        school_of = _check_schools(ok, plan)
        _check_duplicates_in_file(ok, self.sheet.duplicates)
        ok = [r for r in ok if r.ok]
        existing = _existing_students(self.session, ok, self.temporary)
        families = _families(self.session, [s["id"] for s in existing.values()])
        verdicts = []
        for row in rows:
            if not row.ok:
                verdicts.append(RowVerdict("rejected", row))
                continue
            verdict = self._one(row, school_of[row.row], existing.get(row.match_key()), families, year)
            move = self.moves.get(row.row)
            if move is not None and move[0] in plan.over and plan.sizes[move[0]] > self.limit:
                name = parse_class_code(move[0][1]).name
                size = plan.sizes[move[0]]
                row.reject("class_code", f"{name}导入后将有{size}人,超过每班{self.limit}人的上限(大班额)")
                verdict = RowVerdict("rejected", row)
            verdicts.append(verdict)
        return verdicts

    def _one(
        self,
        row: CheckedRow,
        school_id: int,
        current: dict | None,
        families: dict[int, dict[int, dict]],
        year: _Year,
    ) -> RowVerdict:
        into_grade = parse_class_code(row.values["class_code"]).grade(year.start)
        if row.values["transfer_date"] is not None:
            problem = intake.transfer_date_problem(
                row.values["transfer_date"], first_day=year.first_day, today=year.today
            )
            if problem:
                row.reject("transfer_date", problem)
                return RowVerdict("rejected", row)
        if current is None:
            self.moves[row.row] = ((school_id, row.values["class_code"]), None)
            if into_grade == intake.INTAKE_GRADE and school_id in self.junior and self.plan.graduates is None:
                self.plan.graduates = _county_has_graduates(self.session, self.school_ids, year.start)
            move = intake.sort_new(
                from_outside=row.values["source_county"] is not None,
                into_grade=into_grade,
                teaches_junior=school_id in self.junior,
                county_has_graduates=bool(self.plan.graduates),
            )
            arrival = _arrival(row, move, school_id, year, into_grade, None) if move is not None else None
            return RowVerdict("new", row, school_id, arrival=arrival)
        code = current["class_code"]
        verdict = intake.sort_existing(
            StudentStatus(current["status"]),
            same_school=current["school_id"] == school_id,
            school_name=current["school_name"],
            record_stage=parse_class_code(code).stage if code else None,
            into_grade=into_grade,
        )
        if verdict.refusal is not None:
            row.reject("id_number", verdict.refusal)
            return RowVerdict("rejected", row)
        if verdict.move is not None:
            before, after = _changes(current, row.values)
            before |= {"school_id": current["school_id"], "status": current["status"]}
            after |= {"school_id": school_id, "status": StudentStatus.ENROLLED.value}
            members, members_before = _member_changes(row, families.get(current["id"], {}))
            moved = Update(row, current["id"], school_id, before, after, members, members_before)
            self.moves[row.row] = ((school_id, row.values["class_code"]), None)
            arrival = _arrival(row, verdict.move, school_id, year, into_grade, current, moved)
            return RowVerdict("moved", row, school_id, update=moved, arrival=arrival)
        before, after = _changes(current, row.values)
        members, members_before = _member_changes(row, families.get(current["id"], {}))
        if before or members:
            update = Update(row, current["id"], school_id, before, after, members, members_before)
            if "class_code" in after and current["status"] == StudentStatus.ENROLLED:
                self.moves[row.row] = ((school_id, row.values["class_code"]), before.get("class_code"))
            return RowVerdict("update", row, school_id, update=update)
        return RowVerdict("unchanged", row, school_id)


def _arrival(
    row: CheckedRow,
    move: intake.Move,
    school_id: int,
    year: _Year,
    into_grade: int,
    current: dict | None,
    update: Update | None = None,
) -> Arrival:
    v = row.values
    text = intake.sentence(
        move,
        from_school=current["school_name"] if current and current["school_id"] != school_id else None,
        source_county=v["source_county"],
        source_school=v["source_school"],
    )
    day = intake.effective_date(
        move,
        first_day=year.first_day,
        today=year.today,
        transfer_date=v["transfer_date"],
        into_grade=into_grade,
    )
    return Arrival(row, move, school_id, day, text, update, current["school_id"] if current else None)


def _county_has_graduates(session: Session, school_ids: Sequence[int], school_year: int) -> bool:
    """Whether the county of these schools holds last year's primary graduates (its primaries are on the system:
    a grade-7 entrant it has no record of then comes from outside). Graduates keep their primary class, whose
    code starts with the entry year six years back and stage 1."""
    county = (
        select(Township.county_id)
        .join(School, School.township_id == Township.id)
        .where(col(School.id).in_(school_ids))
    )
    schools = (
        select(School.id)
        .join(Township, School.township_id == Township.id)
        .where(col(Township.county_id).in_(county))
    )
    found = session.scalar(
        select(Student.id)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(
            Student.status == StudentStatus.GRADUATED.value,
            col(Student.school_id).in_(schools),
            col(SchoolClass.code).like(f"{school_year - 6}{Stage.PRIMARY.value}%"),
        )
        .limit(1)
    )
    return found is not None


def _check_schools(rows: Sequence[CheckedRow], plan: ImportPlan) -> dict[int, int]:
    """Each row's school (row number → school id); reject rows for a school outside the import."""
    school_of = {}
    kinds = {code: SchoolKind(s.kind) for code, s in plan.schools.items()}
    for row in rows:
        school = plan.schools.get(row.values["school_code"])
        if school is None:
            if plan.only_school:
                expected = next(iter(plan.schools.values()))
                row.reject("school_code", f"与本次导入的学校不一致(应为 {expected.code} {expected.name})")
            else:
                row.reject("school_code", "该学校不存在或不在您的管辖范围内")
            continue
        school_of[row.row] = school.id
        kind = kinds[school.code]
        code = row.values["class_code"]
        if code and parse_class_code(code).stage not in kind.stages:
            stage = parse_class_code(code).stage
            row.reject("class_code", f"{school.name}是{kind.label},没有{stage.label}班级")
    return school_of


def classes_of(session: Session, school_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """(school id, class code) → class id, for the schools of the import."""
    query = select(SchoolClass.school_id, SchoolClass.code, SchoolClass.id).where(
        col(SchoolClass.school_id).in_(school_ids)
    )
    return {(school_id, code): class_id for school_id, code, class_id in session.execute(query)}


def _check_duplicates_in_file(rows: Sequence[CheckedRow], duplicates: dict[int, list[int]]) -> None:
    """Refuse the rows that share a student with another row of the file (found as the file was read)."""
    for row in rows:
        others = duplicates.get(row.row)
        if not others:
            continue
        lines = "、".join(map(str, others))
        if row.is_temporary:
            row.reject("name", f"与第{lines}行疑似同一学生(姓名、出生日期、性别相同,都没有身份证件号)")
        else:
            row.reject("id_number", f"与第{lines}行的身份证件号重复(同一学生出现多次)")


_COMPARED = (Student.id, Student.school_id, Student.status, *(getattr(Student, f) for f in STUDENT_FIELDS))


def _base_query() -> Select:
    columns = [*_COMPARED, col(School.name).label("school_name"), col(SchoolClass.code).label("class_code")]
    return (
        select(*columns)
        .join(School, Student.school_id == School.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
    )


def _temporary_records(session: Session, school_ids: Sequence[int]) -> dict[tuple, dict]:
    """The temporary records (no ID number) of these schools by name, birth date and sex: a row may match one
    and bring the ID number it lacked."""
    found: dict[tuple, dict] = {}
    query = _base_query().where(col(Student.school_id).in_(school_ids), col(Student.id_number).is_(None))
    for record in session.execute(query).mappings():
        found.setdefault((record["name"], record["birth_date"], record["sex"]), dict(record))
    return found


def _existing_students(
    session: Session, rows: Sequence[CheckedRow], temporary: dict[tuple, dict]
) -> dict[tuple, dict]:
    """The registry records the rows refer to: by ID number anywhere, temporary ones in these schools."""
    found: dict[tuple, dict] = {}
    base = _base_query()
    ids = [r.values["id_number"] for r in rows if r.values["id_number"]]
    # SQLite weighs a long IN list against the table's size in sqlite_stat1, counted before the import: for
    # 2,000 numbers and a county that had 925 students it scans every school's students instead of looking
    # the numbers up, ever slower as the import writes (0.2 s a chunk at 100,000 rows); 100 keep the index.
    # PostgreSQL takes a chunk's numbers as one array (sql.among)
    dialect = session.get_bind().dialect.name
    step = _SQLITE_LOOKUP_CHUNK if dialect == "sqlite" else _ARRAY_CHUNK
    for start in range(0, len(ids), step):
        chunk = ids[start : start + step]
        for record in session.execute(base.where(among(col(Student.id_number), chunk, dialect))).mappings():
            found[("id", record["id_number"])] = dict(record)
    for row in rows:
        v = row.values
        temp = temporary.get((v["name"], v["birth_date"], v["sex"]))
        if temp is None:
            continue
        if not v["id_number"]:
            found[("temp", v["name"], v["birth_date"], v["sex"])] = temp
        elif ("id", v["id_number"]) not in found:
            found[("id", v["id_number"])] = temp
    return found


def _families(session: Session, student_ids: Sequence[int]) -> dict[int, dict[int, dict]]:
    """Family members 1 and 2 of each student: student id → seq → the member's fields and id."""
    result: dict[int, dict[int, dict]] = defaultdict(dict)
    dialect = session.get_bind().dialect.name
    step = _LOOKUP_CHUNK if dialect == "sqlite" else _ARRAY_CHUNK
    for start in range(0, len(student_ids), step):
        chunk = student_ids[start : start + step]
        query = select(
            FamilyMember.id, FamilyMember.student_id, *(getattr(FamilyMember, f) for f in MEMBER_FIELDS)
        ).where(among(col(FamilyMember.student_id), chunk, dialect), col(FamilyMember.seq).in_((1, 2)))
        for member in session.execute(query).mappings():
            result[member["student_id"]][member["seq"]] = dict(member)
    return result


def _member_changes(row: CheckedRow, existing: dict[int, dict]) -> tuple[list[dict], list[dict]]:
    """The members the row gives that differ from the record (a blank member in the file changes nothing), and
    those members as the record holds them (a member the record lacks: only its seq)."""
    changed, before = [], []
    for member in row.family:
        current = existing.get(member["seq"])
        if current is None:
            changed.append(dict(member))
            before.append({"seq": member["seq"]})
        elif any(current[f] != member[f] for f in MEMBER_FIELDS):
            changed.append({"id": current["id"], **member})
            before.append({f: current[f] for f in MEMBER_FIELDS})
    return changed, before


def _changes(current: dict, values: dict) -> tuple[dict, dict]:
    before, after = {}, {}
    for name in STUDENT_FIELDS:
        if current[name] != values[name]:
            before[name], after[name] = current[name], values[name]
    if current["class_code"] != values["class_code"]:
        before["class_code"], after["class_code"] = current["class_code"], values["class_code"]
    return before, after


def class_name(code: str) -> str:
    """The class name the template builds from a class code, e.g. 小学2026级(10)班."""
    return parse_class_code(code).name


def problems_frame(rows: Sequence[CheckedRow], which: str) -> pd.DataFrame:
    """One line per problem (errors or warnings) of the rows: row, name, column, value, reason."""
    import pandas as pd  # for the page; the import itself does without

    return pd.DataFrame(
        [
            (row.row, row.cell("name"), problem.column, str(problem.value), problem.reason)
            for row in rows
            for problem in getattr(row, which)
        ],
        columns=["行号", "姓名", "列", "填写内容", "原因"],
    )
