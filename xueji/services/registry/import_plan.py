"""Plan a registry import: sort every checked row into new, updated, unchanged, moved (an arrival: the child's
record in the county moves here by 升学, 转回 or 劝返) or rejected, adding what only the database knows (the
school in scope, 查重 by ID number, existing classes and their sizes). Nothing is written here."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import func, select
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
from xueji.rules.terms import school_year_bounds
from xueji.rules.vocab import SchoolKind, Stage, StudentStatus
from xueji.services.common.access import deny, require, school_condition
from xueji.services.common.calendar import school_year_on

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


@dataclass
class ImportPlan:
    schools: dict[str, SchoolRef]  # code → school: where the rows may go (one, or every school in scope)
    only_school: bool  # the import was for one named school
    new: list[CheckedRow] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    unchanged: list[CheckedRow] = field(default_factory=list)
    rejected: list[CheckedRow] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)  # moved records, and new records from outside
    new_classes: dict[tuple[int, str], int] = field(default_factory=dict)  # (school id, code) → its size
    notices: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "新增": len(self.new),
            "更新": len(self.updates),
            "无变化": len(self.unchanged),
            "有错误": len(self.rejected),
        }

    @property
    def moved(self) -> list[Arrival]:
        """The arrivals that move an existing record (升学, 转回, 劝返), not counted as 新增 or 更新."""
        return [a for a in self.arrivals if a.update is not None]

    @property
    def sources(self) -> dict[str, int]:
        """The arrivals counted by source: 本县小学升入, 外县转入, 返回 (of which 转回 and 劝返)."""
        by_source = Counter(a.move.source for a in self.arrivals)
        by_move = Counter(a.move for a in self.arrivals)
        return {
            **{source.value: by_source[source] for source in intake.Source},
            "其中转回": by_move[intake.Move.BACK_FROM_TRANSFER],
            "其中劝返": by_move[intake.Move.BACK_FROM_DROPOUT],
        }

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
        return sum(r.is_temporary for r in self.new)

    @property
    def warned(self) -> list[CheckedRow]:
        accepted = [*self.new, *(u.row for u in self.updates), *self.unchanged, *(a.row for a in self.moved)]
        return sorted((r for r in accepted if r.warnings), key=lambda r: r.row)

    @property
    def label(self) -> str:
        return "、".join(s.name for s in self.schools.values()) if self.only_school else "管辖范围内各校"


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
    plan = ImportPlan({s.code: s for s in schools}, only_school, notices=list(sheet.notices))
    for row in sheet.rows:  # the database's verdicts belong to one plan, not to the file as read
        row.forget_later_problems()
    rows = [r for r in sheet.rows if r.ok]
    plan.rejected = [r for r in sheet.rows if not r.ok]
    school_of = _check_schools(rows, plan)
    _check_duplicates_in_file(rows)
    rows = _split_rejected(rows, plan)
    school_ids = [s.id for s in schools]
    classes = classes_of(session, school_ids)
    existing = _existing_students(session, rows, school_ids)
    families = _families(session, [s["id"] for s in existing.values()])
    year = _year(session)
    junior = {s.id for s in schools if Stage.JUNIOR in SchoolKind(s.kind).stages}
    graduates: list[bool] = []  # asked once, only when a grade-7 row has no record
    moves: list[tuple[CheckedRow, int, str | None]] = []  # rows adding to a class: (row, school, class left)
    for row in rows:
        school_id = school_of[row.row]
        current = existing.get(_match_key(row))
        into_grade = parse_class_code(row.values["class_code"]).grade(year.start)
        if row.values["transfer_date"] is not None:
            problem = intake.transfer_date_problem(
                row.values["transfer_date"], first_day=year.first_day, today=year.today
            )
            if problem:
                row.reject("transfer_date", problem)
                plan.rejected.append(row)
                continue
        if current is None:
            plan.new.append(row)
            moves.append((row, school_id, None))
            if into_grade == intake.INTAKE_GRADE and school_id in junior and not graduates:
                graduates.append(_county_has_graduates(session, school_ids, year.start))
            move = intake.sort_new(
                from_outside=row.values["source_county"] is not None,
                into_grade=into_grade,
                teaches_junior=school_id in junior,
                county_has_graduates=bool(graduates and graduates[0]),
            )
            if move is not None:
                plan.arrivals.append(_arrival(row, move, school_id, year, into_grade, None))
            continue
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
            plan.rejected.append(row)
            continue
        if verdict.move is not None:
            before, after = _changes(current, row.values)
            before |= {"school_id": current["school_id"], "status": current["status"]}
            after |= {"school_id": school_id, "status": StudentStatus.ENROLLED.value}
            members, members_before = _member_changes(row, families.get(current["id"], {}))
            moved = Update(row, current["id"], school_id, before, after, members, members_before)
            plan.arrivals.append(_arrival(row, verdict.move, school_id, year, into_grade, current, moved))
            moves.append((row, school_id, None))
            continue
        before, after = _changes(current, row.values)
        members, members_before = _member_changes(row, families.get(current["id"], {}))
        if before or members:
            plan.updates.append(Update(row, current["id"], school_id, before, after, members, members_before))
            if "class_code" in after and current["status"] == StudentStatus.ENROLLED:
                moves.append((row, school_id, before.get("class_code")))
        else:
            plan.unchanged.append(row)
    _check_class_sizes(session, plan, moves, classes)
    _drop_rejected(plan)
    plan.rejected.sort(key=lambda r: r.row)
    if sum(plan.counts.values()) + len(plan.moved) != len(
        sheet.rows
    ):  # every row must end up somewhere, visibly
        raise RuntimeError(f"导入计划与文件行数不符:{plan.counts},文件 {len(sheet.rows)} 行")
    return plan


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


def _match_key(row: CheckedRow) -> tuple:
    """Who a row is: the ID number, or for a temporary record its name, birth date and sex."""
    v = row.values
    return ("id", v["id_number"]) if v["id_number"] else ("temp", v["name"], v["birth_date"], v["sex"])


def _check_duplicates_in_file(rows: Sequence[CheckedRow]) -> None:
    keys = [_match_key(row) for row in rows]
    seen: dict[tuple, list[int]] = defaultdict(list)
    for row, key in zip(rows, keys, strict=True):
        seen[key].append(row.row)
    for row, key in zip(rows, keys, strict=True):
        if len(seen[key]) == 1:
            continue
        others = [n for n in seen[key] if n != row.row]
        lines = "、".join(map(str, others))
        if row.is_temporary:
            row.reject("name", f"与第{lines}行疑似同一学生(姓名、出生日期、性别相同,都没有身份证件号)")
        else:
            row.reject("id_number", f"与第{lines}行的身份证件号重复(同一学生出现多次)")


def _split_rejected(rows: list[CheckedRow], plan: ImportPlan) -> list[CheckedRow]:
    plan.rejected.extend(r for r in rows if not r.ok)
    return [r for r in rows if r.ok]


def _drop_rejected(plan: ImportPlan) -> None:
    plan.rejected.extend(r for r in plan.new if not r.ok)
    plan.rejected.extend(u.row for u in plan.updates if not u.row.ok)
    plan.rejected.extend(a.row for a in plan.moved if not a.row.ok)
    plan.new = [r for r in plan.new if r.ok]
    plan.updates = [u for u in plan.updates if u.row.ok]
    plan.arrivals = [a for a in plan.arrivals if a.row.ok]


_COMPARED = (Student.id, Student.school_id, Student.status, *(getattr(Student, f) for f in STUDENT_FIELDS))


def _existing_students(
    session: Session, rows: Sequence[CheckedRow], school_ids: Sequence[int]
) -> dict[tuple, dict]:
    """The registry records the rows refer to: by ID number anywhere, temporary ones in these schools."""
    found: dict[tuple, dict] = {}
    columns = [*_COMPARED, col(School.name).label("school_name"), col(SchoolClass.code).label("class_code")]
    base = (
        select(*columns)
        .join(School, Student.school_id == School.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
    )
    ids = [r.values["id_number"] for r in rows if r.values["id_number"]]
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        for record in session.execute(base.where(col(Student.id_number).in_(chunk))).mappings():
            found[("id", record["id_number"])] = dict(record)
    # Temporary records, matched by name, birth date and sex: a row may bring the ID number they lacked.
    wanted = {(r.values["name"], r.values["birth_date"], r.values["sex"]) for r in rows}
    temporary = base.where(col(Student.school_id).in_(school_ids), col(Student.id_number).is_(None))
    for record in session.execute(temporary).mappings():
        key = (record["name"], record["birth_date"], record["sex"])
        if key in wanted:
            found.setdefault(("temp", *key), dict(record))
    for row in rows:
        v = row.values
        if v["id_number"] and ("id", v["id_number"]) not in found:
            temp = found.get(("temp", v["name"], v["birth_date"], v["sex"]))
            if temp is not None:
                found[("id", v["id_number"])] = temp
    return found


def _families(session: Session, student_ids: Sequence[int]) -> dict[int, dict[int, dict]]:
    """Family members 1 and 2 of each student: student id → seq → the member's fields and id."""
    result: dict[int, dict[int, dict]] = defaultdict(dict)
    for start in range(0, len(student_ids), _LOOKUP_CHUNK):
        chunk = student_ids[start : start + _LOOKUP_CHUNK]
        query = select(
            FamilyMember.id, FamilyMember.student_id, *(getattr(FamilyMember, f) for f in MEMBER_FIELDS)
        ).where(col(FamilyMember.student_id).in_(chunk), col(FamilyMember.seq).in_((1, 2)))
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


def _check_class_sizes(
    session: Session,
    plan: ImportPlan,
    moves: list[tuple[CheckedRow, int, str | None]],
    classes: dict[tuple[int, str], int],
) -> None:
    """Refuse the rows that would take a class past the limit; note the classes the import creates."""
    limit = get_settings().class_size_limit
    enrolled = (
        select(SchoolClass.school_id, SchoolClass.code, func.count(Student.id))
        .join(Student, Student.class_id == SchoolClass.id)
        .where(
            col(SchoolClass.school_id).in_([s.id for s in plan.schools.values()]),
            Student.status == StudentStatus.ENROLLED,
        )
        .group_by(SchoolClass.school_id, SchoolClass.code)
    )
    sizes: Counter[tuple[int, str]] = Counter(
        {(school_id, code): n for school_id, code, n in session.execute(enrolled)}
    )
    for row, school_id, leaving in moves:
        sizes[(school_id, row.values["class_code"])] += 1
        if leaving:
            sizes[(school_id, leaving)] -= 1
    for row, school_id, _ in moves:
        key = (school_id, row.values["class_code"])
        if sizes[key] > limit:
            name = parse_class_code(key[1]).name
            row.reject("class_code", f"{name}导入后将有{sizes[key]}人,超过每班{limit}人的上限(大班额)")
    targets = {(school_id, row.values["class_code"]) for row, school_id, _ in moves if row.ok}
    plan.new_classes = {key: sizes[key] for key in sorted(targets) if key not in classes}


def class_name(code: str) -> str:
    """The class name the template builds from a class code, e.g. 小学2026级(10)班."""
    return parse_class_code(code).name


def problems_frame(rows: Sequence[CheckedRow], which: str) -> pd.DataFrame:
    """One line per problem (errors or warnings) of the rows: row, name, column, value, reason."""
    return pd.DataFrame(
        [
            (row.row, row.cell("name"), problem.column, str(problem.value), problem.reason)
            for row in rows
            for problem in getattr(row, which)
        ],
        columns=["行号", "姓名", "列", "填写内容", "原因"],
    )
