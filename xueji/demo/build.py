"""Build the demo county into an empty database, deterministically from a seed."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import func, insert, select
from sqlmodel import Session

from xueji.audit import seal_all
from xueji.db import refresh_statistics
from xueji.demo import names
from xueji.demo.accounts import DEMO_PASSWORD as DEMO_PASSWORD  # re-exported: the login page shows it
from xueji.demo.accounts import import_accounts
from xueji.demo.cases import load_cases, load_head_teachers, load_visits
from xueji.demo.dept_lists import load_dept_lists
from xueji.demo.geography import COUNTY, SCHOOLS, TOWNSHIPS, SchoolSpec, TownshipSpec
from xueji.demo.history import load_history
from xueji.demo.home_teaching import load_home_teaching
from xueji.demo.ladder import load_ladder
from xueji.demo.notices import load_notices
from xueji.demo.reports import load_reports
from xueji.demo.sweeps import load_sweeps
from xueji.demo.term_start import load_intake_gaps, load_term_start
from xueji.excel.account_template import AccountLine, ClassLine
from xueji.excel.setup_template import filled_workbook
from xueji.models import (
    AppSetting,
    AppUser,
    County,
    FamilyMember,
    School,
    SchoolClass,
    Student,
    TeacherAssignment,
    Township,
    Village,
)
from xueji.rules.class_code import ClassCode, grade_in_school_year
from xueji.rules.id_number import build_id_number
from xueji.rules.pinyin import name_initials
from xueji.rules.setup_rows import COUNTY_SHEET, SCHOOL_SHEET, TERM_SHEET, TOWNSHIP_SHEET, VILLAGE_SHEET
from xueji.rules.term_calendar import TERM_NAMES
from xueji.rules.terms import default_terms, school_year_name, school_year_start
from xueji.rules.vocab import Role, ScopeKind, Sex, StudentStatus
from xueji.services.setup import workbook_import
from xueji.services.system.accounts import system_actor

DEMO_SETTING_KEY = "demo_database"

# Where migrant children's families come from: (region code, native place); codes valid for births 2008–2021.
MIGRANT_ORIGINS = (
    ("431023", "湖南永兴"),
    ("431121", "湖南祁阳"),
    ("360981", "江西丰城"),
    ("421181", "湖北麻城"),
    ("511623", "四川邻水"),
    ("500233", "重庆忠县"),
    ("450881", "广西桂平"),
)
DISABILITY_TYPES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
MINORITIES = ("土家族", "苗族", "瑶族", "侗族")


class DemoError(RuntimeError):
    """The demo cannot be loaded into this database."""


@dataclass(frozen=True)
class DemoSpec:
    seed: int = 2026
    scale: float = 1.0  # multiplies the classes per grade; 1.0 gives about 8,000 students
    copies: int = 1  # each school this many times (campuses), for a county of realistic size: 38 → 300,000
    today: date = date(2026, 11, 23)
    school_years_back: int = 2


@dataclass
class DemoSummary:
    townships: int = 0
    villages: int = 0
    schools: int = 0
    classes: int = 0
    students: int = 0
    family_members: int = 0


@dataclass
class DemoContext:
    spec: DemoSpec
    rng: random.Random
    school_year: int
    summary: DemoSummary = field(default_factory=DemoSummary)
    village_ids: dict[str, int] = field(default_factory=dict)
    township_ids: dict[str, int] = field(default_factory=dict)
    school_ids: dict[str, int] = field(default_factory=dict)
    used_id_numbers: set[str] = field(default_factory=set)
    # the county the registry is built for: the demo county, or another county of the demo city (demo.city)
    county: tuple[str, str] = COUNTY
    townships: tuple[TownshipSpec, ...] = TOWNSHIPS
    schools: tuple[SchoolSpec, ...] = SCHOOLS


def setup_workbook(ctx: DemoContext) -> bytes:
    """The demo county as a county would describe itself: the set-up workbook (excel.setup_template)."""
    schools = [_campus(s, copy) for copy in range(ctx.spec.copies) for s in SCHOOLS]
    terms = [
        (school_year_name(t.school_year_start).removesuffix("学年"), TERM_NAMES[t.seq], t.start, t.end)
        for start_year in range(ctx.school_year - ctx.spec.school_years_back, ctx.school_year + 1)
        for t in default_terms(start_year)
    ]
    return filled_workbook(
        {
            COUNTY_SHEET: [COUNTY],
            TOWNSHIP_SHEET: [(t.code, t.name) for t in TOWNSHIPS],
            VILLAGE_SHEET: [village for t in TOWNSHIPS for village in t.villages],
            SCHOOL_SHEET: [(s.code, s.name, s.kind.label, s.township_code) for s in schools],
            TERM_SHEET: terms,
        }
    )


def _load_setup(session: Session, ctx: DemoContext) -> None:
    """County, townships, villages, schools and terms through the set-up import a real county uses."""
    if not 1 <= ctx.spec.copies <= 98:
        raise DemoError("每所学校的校区数应在 1 到 98 之间")
    workbook_import.commit_workbook(
        session, actor=system_actor(session), data=setup_workbook(ctx), file_name="演示县区基础数据.xlsx"
    )
    ctx.township_ids.update(
        {code: int(tid) for code, tid in session.execute(select(Township.code, Township.id))}
    )
    ctx.village_ids.update(
        {code: int(vid) for code, vid in session.execute(select(Village.code, Village.id))}
    )
    ctx.school_ids.update({code: int(sid) for code, sid in session.execute(select(School.code, School.id))})
    ctx.summary.townships = len(ctx.township_ids)
    ctx.summary.villages = len(ctx.village_ids)


def _birth_date(rng: random.Random, grade: int, school_year: int) -> date:
    """A birth date that puts the child in that grade (6 at the start of grade 1), a few a year older."""
    grade1_year = school_year - (grade - 1)
    born_from = date(grade1_year - 7, 9, 1)
    if rng.random() < 0.03:
        born_from = date(grade1_year - 8, 9, 1)
    return born_from + timedelta(days=rng.randrange(365))


def _id_number(ctx: DemoContext, region: str, birth: date, male: bool) -> str:
    while True:
        number = build_id_number(region, birth, ctx.rng.randrange(500), male=male)
        if number not in ctx.used_id_numbers:
            ctx.used_id_numbers.add(number)
            return number


def _status(rng: random.Random, grade: int) -> str:
    roll = rng.random()
    if grade >= 7 and roll < 0.004:
        return StudentStatus.DROPPED_OUT.value
    if roll < 0.006:
        return StudentStatus.SUSPENDED.value
    return StudentStatus.ENROLLED.value


def _family(
    rng: random.Random, surname: str, village_code: str, *, left_behind: bool, orphan: bool
) -> list[dict]:
    if orphan:
        guardian_male = rng.random() < 0.5
        return [
            {
                "name": names.person_name(rng, male=guardian_male, adult=True, surname=surname),
                "relation": "祖父" if guardian_male else "祖母",
                "phone": names.mobile_phone(rng),
                "household_code": village_code,
                "workplace": "在家务农",
                "works_away": False,
                "is_guardian": True,
            }
        ]
    father_away = left_behind or rng.random() < 0.3
    mother_away = left_behind and rng.random() < 0.85
    members = [
        {
            "name": names.person_name(rng, male=True, adult=True, surname=surname),
            "relation": "父亲",
            "works_away": father_away,
        },
        {
            "name": names.person_name(rng, male=False, adult=True),
            "relation": "母亲",
            "works_away": mother_away,
        },
    ]
    for m in members:
        m["workplace"] = rng.choice(names.WORK_AWAY if m["works_away"] else names.WORK_LOCAL)
        m["phone"] = names.mobile_phone(rng)
        m["household_code"] = village_code
        m["is_guardian"] = not m["works_away"]
    if father_away and mother_away:
        members.append(
            {
                "name": names.person_name(rng, male=False, adult=True, surname=surname),
                "relation": "祖母",
                "phone": names.mobile_phone(rng),
                "household_code": village_code,
                "workplace": "在家务农",
                "works_away": False,
                "is_guardian": True,
            }
        )
    return members


def _student_row(
    ctx: DemoContext, school: SchoolSpec, class_id: int, grade: int, entry_year: int
) -> tuple[dict, list[dict]]:
    rng = ctx.rng
    township = next(t for t in ctx.townships if t.code == school.township_code)
    home_code = school.village_code if rng.random() < 0.5 else rng.choice(township.villages)[0]
    home_name = dict(township.villages)[home_code]
    male = rng.random() < 0.52
    surname = rng.choice(names.SURNAMES)
    birth = _birth_date(rng, grade, ctx.school_year)
    migrant = rng.random() < 0.06
    region, native = rng.choice(MIGRANT_ORIGINS) if migrant else (ctx.county[0][:6], _native(ctx.county[1]))
    temporary = rng.random() < 0.002
    id_number = None if temporary else _id_number(ctx, region, birth, male)
    orphan = rng.random() < 0.003
    left_behind = not migrant and not orphan and rng.random() < 0.22
    disabled = rng.random() < 0.012
    address = f"湖南省{ctx.county[1]}{township.name}{home_name}{rng.randint(1, 15)}组"
    name = surname + names.person_name(rng, male=male)[1:]
    student = {
        "registry_number": f"G{id_number}" if id_number else None,
        "class_id": class_id,
        "name": name,
        "name_initials": name_initials(name),
        "sex": (Sex.MALE if male else Sex.FEMALE).value,
        "birth_date": birth,
        "birthplace_code": region + "000000",
        "native_place": native,
        "ethnicity": rng.choice(MINORITIES) if rng.random() < 0.03 else "汉族",
        "id_number": id_number,
        "household_code": region + "000000" if migrant else home_code,
        "entry_month": f"{entry_year}09",
        "current_address": address,
        "mailing_address": address,
        "home_address": address,
        "home_village_id": ctx.village_ids[home_code],
        "status": _status(rng, grade),
        "needs_aid": rng.random() < (0.3 if (left_behind or disabled or orphan) else 0.08),
        "left_behind": left_behind,
        "migrant": migrant,
        "disabled": disabled,
        "disability_type": rng.choice(DISABILITY_TYPES) if disabled else None,
        "orphan": orphan,
        "only_child": rng.random() < 0.35,
    }
    return student, _family(rng, surname, student["household_code"], left_behind=left_behind, orphan=orphan)


def _native(county_name: str) -> str:
    """籍贯 as the registry writes it: 湖南浏阳 for 浏阳市, 湖南长沙 for 长沙县."""
    return "湖南" + (county_name[:-1] if len(county_name) > 2 else county_name)


def _campus(spec: SchoolSpec, copy: int) -> SchoolSpec:
    """The copy-th campus of a demo school: its own code (digits 5–6 count campuses) and name."""
    if copy == 0:
        return spec
    return replace(
        spec, code=f"{spec.code[:4]}{copy + 1:02d}{spec.code[6:]}", name=f"{spec.name}{copy + 1}校区"
    )


def _load_registry(session: Session, ctx: DemoContext) -> None:
    rng = ctx.rng
    for spec in (_campus(s, copy) for copy in range(ctx.spec.copies) for s in ctx.schools):
        school_id = ctx.school_ids[spec.code]
        per_grade = max(1, round(spec.classes_per_grade * ctx.spec.scale))
        students: list[dict] = []
        families: list[list[dict]] = []
        for stage in spec.kind.stages:
            for entry_year in range(ctx.school_year - stage.years + 1, ctx.school_year + 1):
                grade = grade_in_school_year(entry_year, stage, ctx.school_year)
                for number in range(1, per_grade + 1):
                    code = ClassCode(entry_year, stage, number).code
                    cls = SchoolClass(
                        school_id=school_id,
                        code=code,
                        head_teacher_name=names.person_name(rng, male=rng.random() < 0.4, adult=True),
                    )
                    session.add(cls)
                    session.flush()
                    ctx.summary.classes += 1
                    for _ in range(rng.randint(33, 55) if ctx.spec.scale >= 1 else rng.randint(8, 20)):
                        student, family = _student_row(ctx, spec, cls.id, grade, entry_year)
                        student["school_id"] = school_id
                        students.append(student)
                        families.append(family)
        ids = session.scalars(
            insert(Student).returning(Student.id, sort_by_parameter_order=True), students
        ).all()
        members = [
            {**m, "student_id": sid, "seq": seq}
            for sid, family in zip(ids, families, strict=True)
            for seq, m in enumerate(family, start=1)
        ]
        session.execute(insert(FamilyMember), members)
        ctx.summary.students += len(students)
        ctx.summary.family_members += len(members)
    ctx.summary.schools = len(ctx.schools) * ctx.spec.copies


load_registry = _load_registry  # the demo city builds its other counties' registries with it (demo.city)


# (username, name, role, scope kind, scope code): one account per role.
DEMO_ACCOUNTS = (
    ("demo_admin", "王管理", Role.ADMIN, ScopeKind.COUNTY, COUNTY[0]),
    ("demo_auditor", "赵审计", Role.AUDITOR, ScopeKind.COUNTY, COUNTY[0]),
    ("demo_county", "陈科长", Role.COUNTY_OFFICER, ScopeKind.COUNTY, COUNTY[0]),
    ("demo_township", "刘专干", Role.TOWNSHIP_OFFICIAL, ScopeKind.TOWNSHIP, "430181108000"),
    ("demo_registrar", "李学籍", Role.REGISTRAR, ScopeKind.SCHOOL, "2143016965"),
    ("demo_teacher", "周老师", Role.TEACHER, ScopeKind.SCHOOL, "2143016965"),
    ("demo_coordinator", "黄协调", Role.COORDINATOR, ScopeKind.TOWNSHIP, "430181108000"),
)


def _load_accounts(session: Session, ctx: DemoContext) -> None:
    """One account per role through the account import a county uses (excel.account_template), all with the
    demo password; the teacher heads one class of 古港镇完全小学 (the 任教班级 sheet) and answers for one more
    child."""
    school = "2143016965"
    import_accounts(
        session,
        [AccountLine(username, name, role, code) for username, name, role, _, code in DEMO_ACCOUNTS],
        [ClassLine("demo_teacher", school, f"{ctx.school_year - 1}101", head_teacher=True)],
        file_name="演示账号.xlsx",
    )
    teacher = session.scalar(select(AppUser.id).where(AppUser.username == "demo_teacher"))
    other = session.scalar(
        select(Student.id)
        .join(SchoolClass)
        .where(
            SchoolClass.school_id == ctx.school_ids[school], SchoolClass.code == f"{ctx.school_year - 3}101"
        )
        .order_by(Student.id)
        .limit(1)
    )
    session.add(TeacherAssignment(user_id=teacher, student_id=other))


def _mark_demo(session: Session, ctx: DemoContext) -> None:
    session.add(AppSetting(key=DEMO_SETTING_KEY, value=f"seed={ctx.spec.seed}"))


# The parts of the demo, in order. Later features append theirs (cases, visits, sweeps, home teaching, the
# departments' lists of 四查三比对, imported last: they compare with everything before them).
PARTS: list[Callable[[Session, DemoContext], None]] = [
    _load_setup,
    _load_registry,
    _load_accounts,
    load_intake_gaps,
    load_term_start,
    load_head_teachers,
    load_cases,
    load_visits,
    load_sweeps,
    load_home_teaching,
    load_history,
    load_dept_lists,
    load_ladder,
    load_notices,
    load_reports,  # last: each school's report counts everything above
    _mark_demo,
]


def load_demo(session: Session, spec: DemoSpec | None = None) -> DemoSummary:
    """Load the demo county into an empty database in one transaction."""
    spec = spec or DemoSpec()
    if session.scalar(select(func.count()).select_from(County)):
        raise DemoError("数据库中已有县区数据,演示数据只能载入空数据库")
    ctx = DemoContext(spec=spec, rng=random.Random(spec.seed), school_year=school_year_start(spec.today))
    for part in PARTS:
        part(session, ctx)
    session.commit()
    seal_all(
        session
    )  # PostgreSQL: the demo's audit entries sealed now, not when a server's sealer first runs
    refresh_statistics(session)
    return ctx.summary
