"""Import the national registry template: check every row, plan (new, updated, unchanged, rejected),
then write the accepted rows in one transaction with their audit entries.

The file is read and its rows checked once (check_file); plan_import adds what only the database knows
(the school in scope, 查重, existing classes and their sizes); commit_import plans again inside the
write transaction, so what is written always agrees with the database at that moment.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from xueji.audit import Entry, lock_tail, record_many
from xueji.auth import Action, Actor
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.db import allocate_ids, insert_rows
from xueji.excel.registry_template import RegistrySheet, read_registry
from xueji.models import FamilyMember, School, SchoolClass, Student, Village
from xueji.perf import collector_paused
from xueji.rules.class_code import parse_class_code
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.registry_record import CheckedRow, check_row
from xueji.rules.vocab import SchoolKind, StudentStatus
from xueji.services.access import deny, require, school_condition
from xueji.services.calendar import school_year_on

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
STUDENT_TABLE = Student.__table__  # type: ignore[attr-defined]
MEMBER_TABLE = FamilyMember.__table__  # type: ignore[attr-defined]


class ImportBlocked(Exception):
    """The import cannot be committed as asked; the message says why, in Chinese."""

    def __init__(self, message: str, plan: ImportPlan | None = None) -> None:
        super().__init__(message)
        self.plan = plan


@dataclass
class Update:
    row: CheckedRow
    student_id: int
    school_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    members_changed: list[dict[str, Any]]  # family members 1 and 2 as the row gives them, with "id" if known

    @property
    def family_changed(self) -> bool:
        return bool(self.members_changed)


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
    def temporary(self) -> int:
        return sum(r.is_temporary for r in self.new)

    @property
    def warned(self) -> list[CheckedRow]:
        accepted = [*self.new, *(u.row for u in self.updates), *self.unchanged]
        return sorted((r for r in accepted if r.warnings), key=lambda r: r.row)

    @property
    def label(self) -> str:
        return "、".join(s.name for s in self.schools.values()) if self.only_school else "管辖范围内各校"

    def school_name(self, school_id: int) -> str:
        return next(s.name for s in self.schools.values() if s.id == school_id)


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    created: int

    @property
    def summary(self) -> str:
        p = self.plan
        text = f"新增 {self.created} 人,更新 {len(p.updates)} 人,无变化 {len(p.unchanged)} 人"
        if p.rejected:
            text += f",跳过有错误的 {len(p.rejected)} 行"
        if p.new_classes:
            text += f";新建班级 {len(p.new_classes)} 个"
        return text


def check_file(session: Session, *, actor: Actor, data: bytes) -> RegistrySheet:
    """Read a template file and check every row on its own (no database rules yet)."""
    require(session, actor, Action.STUDENT_IMPORT)
    day = today()
    year = school_year_on(session, day)
    with collector_paused():
        sheet = read_registry(data)
        for row in sheet.rows:
            check_row(row, today=day, school_year=year)
    return sheet


def schools_for_import(session: Session, *, actor: Actor, school_code: str | None) -> list[SchoolRef]:
    """The schools rows may go to: the one named (it must be in scope), else every school in scope."""
    require(session, actor, Action.STUDENT_IMPORT)
    query = select(School).where(school_condition(actor)).order_by(School.code)
    if school_code:
        query = query.where(School.code == school_code.strip())
    schools = [SchoolRef(s.id, s.code, s.name, s.kind) for s in session.scalars(query)]
    if not schools:
        deny(
            session,
            actor,
            Action.STUDENT_IMPORT.value,
            f"学校 {school_code} 不存在或不在您的管辖范围内" if school_code else "您的管辖范围内没有学校",
            entity_type="school",
            entity_id=school_code,
        )
    return schools


def plan_import(
    session: Session, *, actor: Actor, sheet: RegistrySheet, schools: Sequence[SchoolRef], only_school: bool
) -> ImportPlan:
    """Sort every row into new, updated, unchanged or rejected, with all the reasons; write nothing."""
    require(session, actor, Action.STUDENT_IMPORT)
    with collector_paused():
        return _plan(session, sheet, schools, only_school)


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
    classes = _classes(session, school_ids)
    existing = _existing_students(session, rows, school_ids)
    families = _families(
        session, [s["id"] for s in existing.values() if s["school_id"] in school_of.values()]
    )
    moves: list[tuple[CheckedRow, int, str | None]] = []  # rows adding to a class: (row, school, class left)
    for row in rows:
        school_id = school_of[row.row]
        current = existing.get(_match_key(row))
        if current is not None and current["school_id"] != school_id:
            row.reject(
                "id_number",
                f"查重:该学生已在{current['school_name']}有学籍;应办理转学,不能重复建籍",
            )
            plan.rejected.append(row)
            continue
        if current is None:
            plan.new.append(row)
            moves.append((row, school_id, None))
            continue
        before, after = _changes(current, row.values)
        members = _member_changes(row, families.get(current["id"], {}))
        if before or members:
            plan.updates.append(Update(row, current["id"], school_id, before, after, members))
            if "class_code" in after and current["status"] == StudentStatus.ENROLLED:
                moves.append((row, school_id, before.get("class_code")))
        else:
            plan.unchanged.append(row)
    _check_class_sizes(session, plan, moves, classes)
    _drop_rejected(plan)
    plan.rejected.sort(key=lambda r: r.row)
    if sum(plan.counts.values()) != len(sheet.rows):  # every row must end up somewhere, visibly
        raise RuntimeError(f"导入计划与文件行数不符:{plan.counts},文件 {len(sheet.rows)} 行")
    return plan


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


def _classes(session: Session, school_ids: Sequence[int]) -> dict[tuple[int, str], int]:
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
    plan.new = [r for r in plan.new if r.ok]
    plan.updates = [u for u in plan.updates if u.row.ok]


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


def _member_changes(row: CheckedRow, existing: dict[int, dict]) -> list[dict]:
    """The members the row gives that differ from the record (a blank member in the file changes nothing)."""
    changed = []
    for member in row.family:
        current = existing.get(member["seq"])
        if current is None:
            changed.append(dict(member))
        elif any(current[f] != member[f] for f in MEMBER_FIELDS):
            changed.append({"id": current["id"], **member})
    return changed


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


def _student_values(values: dict, class_id: int | None, villages: dict[str, int]) -> dict[str, Any]:
    result = {name: values[name] for name in STUDENT_FIELDS}
    result["class_id"] = class_id
    result["home_village_id"] = villages.get(values["household_code"])
    return result


def _masked(changes: dict) -> dict:
    return {k: mask_id_number(v) if k == "id_number" else v for k, v in changes.items()}


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
) -> ImportResult:
    """Plan again under the write lock, then write every accepted row and its audit entries, all or nothing."""
    require(session, actor, Action.STUDENT_IMPORT)
    lock_tail(session)  # take the write lock before reading, so the plan cannot go stale before the write
    plan = plan_import(session, actor=actor, sheet=sheet, schools=schools, only_school=only_school)
    if plan.rejected and not only_valid:
        raise ImportBlocked(
            f"有 {len(plan.rejected)} 行有错误,未导入任何数据。请修改后重新导入,或选择“仅导入无误的行”。",
            plan,
        )
    if on_write is not None:
        on_write()
    with collector_paused():
        created = _write(session, actor, plan, file_name, file_digest)
    session.commit()
    return ImportResult(plan, created)


def _write(session: Session, actor: Actor, plan: ImportPlan, file_name: str, file_digest: str) -> int:
    stamp = now()
    class_ids = _create_classes(session, plan)
    villages: dict[str, int] = dict(session.execute(select(Village.code, Village.id)).all())
    entries: list[Entry] = [
        Entry("create", entity_type="school_class", entity_id=class_ids[key], after={"code": key[1]})
        for key in plan.new_classes
    ]
    created_ids = _insert_new(session, plan, class_ids, villages, stamp)
    entries.extend(_apply_updates(session, plan, class_ids, villages, stamp))
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
                "unchanged": len(plan.unchanged),
                "skipped": len(plan.rejected),
                "file_sha256": file_digest,
            },
            detail=f"学籍导入 {file_name} → {plan.label}:新增{len(created_ids)},"
            f"更新{len(plan.updates)},无变化{len(plan.unchanged)},跳过错误行{len(plan.rejected)}",
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
    return _classes(session, [s.id for s in plan.schools.values()])


NEW_STUDENT_COLUMNS = (
    "id",
    "school_id",
    "class_id",
    "home_village_id",
    "registry_number",
    "status",
    "created_at",
    "updated_at",
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
            (student_id, school_id, class_id, village, registry, enrolled, stamp, stamp, *fields(v))
        )
    insert_rows(session, STUDENT_TABLE, NEW_STUDENT_COLUMNS, students)
    members = (_member_row(sid, m) for sid, row in zip(ids, plan.new, strict=True) for m in row.family)
    insert_rows(session, MEMBER_TABLE, MEMBER_COLUMNS, members)
    return ids


def _member_row(student_id: int, member: dict) -> tuple:
    return (student_id, *(member[f] for f in MEMBER_FIELDS), False)


def _apply_updates(
    session: Session,
    plan: ImportPlan,
    class_ids: dict[tuple[int, str], int],
    villages: dict[str, int],
    stamp: Any,
) -> Iterable[Entry]:
    if not plan.updates:
        return []
    changed = []
    for u in plan.updates:
        if u.before:
            values = _student_values(
                u.row.values, class_ids[(u.school_id, u.row.values["class_code"])], villages
            )
            if values["id_number"] and "id_number" in u.after:
                values["registry_number"] = f"G{values['id_number']}"
            changed.append({"id": u.student_id, **values, "updated_at": stamp})
    if changed:
        session.execute(update(Student), changed)
    members = [(u.student_id, m) for u in plan.updates for m in u.members_changed]
    known = [m for _, m in members if "id" in m]
    if known:
        session.execute(update(FamilyMember), known)
    insert_rows(
        session, MEMBER_TABLE, MEMBER_COLUMNS, (_member_row(sid, m) for sid, m in members if "id" not in m)
    )
    return [
        Entry(
            "update",
            entity_type="student",
            entity_id=u.student_id,
            before=_masked(u.before),
            after=_masked(u.after)
            | ({"family": _masked_family(u.members_changed)} if u.family_changed else {}),
            detail="学籍导入更新",
        )
        for u in plan.updates
    ]


def _masked_family(members: list[dict]) -> list[dict]:
    return [{**m, "phone": mask_phone(m["phone"])} for m in members]


def import_file(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    school_code: str | None,
    only_valid: bool = False,
    file_name: str = "",
    on_write: Callable[[], None] | None = None,
) -> ImportResult:
    """Check and commit a file in one go (the batch path); ImportBlocked carries the plan when rows fail."""
    sheet = check_file(session, actor=actor, data=data)
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
    )


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
