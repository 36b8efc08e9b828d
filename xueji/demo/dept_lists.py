"""The demo county's lists from other departments (四查三比对), each a workbook with its template's headers, as
the department sends it, imported by the county officer (陈科长) through the import a county uses, which runs the
comparison: public security's 户籍 list of school-age children in two versions (September's and November's),
civil affairs' (民政) orphans and children in hardship, the disabled persons' federation's (残联) disabled
children, and rural revitalisation's (乡村振兴) 脱贫户 and 监测户 with their members.

Most children on the 户籍 list are registry records under the same ID number. Planted among them, as a real list
has them: about one child in a hundred with no registry record at all (适龄未入学, to verify), a few registered in
古港镇 and at school in another township (人户分离), and children the matcher must leave to a person: the
registry's temporary records (临时学籍号: the register has their number, so only name and birth date can propose
them), one of them typed with a homophone (刘志/刘智), an ID number one digit off and one with two digits swapped
(the registry's typing), and a child with the same name and birthday as a temporary record, of another
township, who is not that child. Migrant pupils are not on it (随迁). The November list has a few children
September's had not (moved in) and lacks a few it had (moved away). Children of age who finished junior school are left off:
the demo's registry has no graduates to explain them.

民政's list holds the registry's orphans, some children in hardship (two the registry does not flag, so their
cases open) and two children with no registry record; 残联's the registry's disabled pupils, one it does not
flag, and two children of age with no school and no home teaching (to assess for 送教上门); 乡村振兴's some
families of the registry, among them the families of children out of school (comparison 3). The county of the
benchmarks (copies > 1) gets no lists: their benchmarks bring their own."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlmodel import Session, col

from xueji.config import get_settings
from xueji.demo import names
from xueji.demo.registry_file import inline_workbook
from xueji.models import AppUser, Case, Child, FamilyMember, School, Student, Township, Village
from xueji.rules.cases import CaseCategory, CaseStatus
from xueji.rules.dept_lists import ListKind
from xueji.rules.id_number import build_id_number, check_digit
from xueji.rules.list_rows import DISABILITY_GRADES
from xueji.rules.registry_record import DISABILITY_TYPES
from xueji.rules.school_age import birth_window, reference_day
from xueji.rules.vocab import StudentStatus
from xueji.services.comparisons import list_import
from xueji.services.system.accounts import actor_of

if TYPE_CHECKING:
    from xueji.demo.build import DemoContext

DEMO_TOWNSHIP = "430181108000"  # 古港镇: the demo township official's, where most planted children live
COUNTY_REGION = "430181"
IMPORTER = "demo_county"
# Given-name characters and a homophone (the same pinyin) a clerk may type for them.
HOMOPHONES = {
    pair[0]: pair[1]
    for pair in "志智 浩皓 宇雨 轩萱 杰洁 俊骏 明鸣 博波 文雯 鑫欣 涵寒 琪棋 婷亭 佳嘉 思丝 怡宜 悦月 彤桐 晨辰 "
    "阳扬 睿瑞 泽则 凯恺 航杭 峰锋 辉晖 鹏朋 伟玮 宏鸿 诚成 远源 雅亚 静婧 慧惠 清青 心馨 妍研 丽莉 娟鹃 瑶遥 梦蒙 "
    "紫子 可珂 曦希 婉琬 诗师 语雨 梓紫 萱轩 敏珉 晴情 欣鑫 馨心 嫣烟 雨语".split()
}
# 残疾人证号: the holder's ID number, then the category's digit (the registry's order) and the grade's
DISABILITY_CODES = {kind: i for i, kind in enumerate(DISABILITY_TYPES, start=1)}
HOUSEHOLD_WEIGHTS = (("脱贫户", 3), ("防返贫监测户", 1))


@dataclass(frozen=True)
class DemoList:
    """One department's list as its workbook holds it: one row per person, keyed as ListKind.columns."""

    kind: ListKind
    list_date: date
    file_name: str
    rows: tuple[dict[str, object], ...]

    def workbook(self) -> bytes:
        """The list as the department sends it: the template's headers, one row per person, cells as text."""
        keys = list(self.kind.columns.values())
        return inline_workbook(
            list(self.kind.columns),
            ([_text(row.get(key)) for key in keys] for row in self.rows),
            sheet=self.kind.short + "名单",
        )


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


@dataclass
class Pupil:
    """A registry record of age with an ID number, as the lists need it."""

    id: int
    name: str
    sex: str
    birth: date
    id_number: str | None  # None: a temporary record (临时学籍号), the child's number not yet known
    village: str | None  # the household's village code in the county (None: a migrant's)
    school_township: str
    status: str
    disabled: bool
    disability_type: str | None
    orphan: bool
    needs_aid: bool
    address: str | None
    guardian: tuple[str, str | None] = ("", None)  # name, phone
    head: tuple[str, str] | None = None  # the family's first member: name, relation


@dataclass
class _County:
    """What the lists are drawn from: the county's villages and its pupils of age."""

    villages: dict[str, tuple[str, str, str]]  # village code → (village, township code, township)
    pupils: list[Pupil]
    window: tuple[date, date]

    def village_codes(self, township: str | None = None, *, other_than: str | None = None) -> list[str]:
        return sorted(
            code
            for code, (_, tcode, _) in self.villages.items()
            if (township is None or tcode == township) and (other_than is None or tcode != other_than)
        )

    def address(self, village: str, rng: random.Random) -> str:
        name, _, township = self.villages[village]
        return f"湖南省浏阳市{township}{name}{rng.randint(1, 15)}组"


def load_dept_lists(session: Session, ctx: DemoContext) -> None:
    """Import the demo's department lists, oldest first, as the county officer would."""
    if ctx.spec.copies > 1:
        return
    user = session.scalar(select(AppUser).where(AppUser.username == IMPORTER))
    if user is None:
        return
    actor = actor_of(user)
    ordered = sorted(build_lists(session, ctx), key=lambda d: d.list_date)
    for n, dept_list in enumerate(ordered):
        data = dept_list.workbook()
        try:
            list_import.commit_list(
                session,
                actor=actor,
                kind=dept_list.kind,
                data=data,
                file_name=dept_list.file_name,
                list_date=dept_list.list_date,
                compare_now=n in (0, len(ordered) - 1),  # the first register's tasks, then all lists at once
            )
        except list_import.ListImportBlocked as refused:  # a bug in the demo: say which rows
            sheet = list_import.check_list(session, actor=actor, kind=dept_list.kind, data=data)
            raise DemoListError(f"{dept_list.file_name}:{refused};{sheet.problems[:5]}") from None


class DemoListError(RuntimeError):
    """The demo's own list did not pass the import's checks (a bug in the demo)."""


def build_lists(session: Session, ctx: DemoContext) -> list[DemoList]:
    """The five workbooks' contents: 户籍 (September and November), 民政, 残联 and 乡村振兴."""
    county = _read_county(session, ctx)
    maker = _Maker(ctx, county)
    older, current = maker.residents()
    today = ctx.spec.today
    return [
        older,
        current,
        DemoList(
            ListKind.WELFARE,
            today - timedelta(days=35),
            _file(ListKind.WELFARE, today - timedelta(days=35)),
            tuple(maker.welfare()),
        ),
        DemoList(
            ListKind.DISABLED,
            today - timedelta(days=28),
            _file(ListKind.DISABLED, today - timedelta(days=28)),
            tuple(maker.disabled()),
        ),
        DemoList(
            ListKind.HOUSEHOLDS,
            today - timedelta(days=40),
            _file(ListKind.HOUSEHOLDS, today - timedelta(days=40)),
            tuple(maker.households(session)),
        ),
    ]


def _file(kind: ListKind, day: date) -> str:
    return f"浏阳市{kind.label.replace('/', '、')}_{day:%Y%m%d}.xlsx"


def _read_county(session: Session, ctx: DemoContext) -> _County:
    settings = get_settings()
    reference = reference_day(
        ctx.spec.today, month_day=settings.sweep_age_date, start_month=settings.school_year_start_month
    )
    window = birth_window(reference, settings.school_age)
    villages = {
        code: (name, tcode, tname)
        for code, name, tcode, tname in session.execute(
            select(Village.code, Village.name, Township.code, Township.name)
            .join(Township, Township.id == Village.township_id)
            .order_by(Village.code)
        )
    }
    columns = (
        Student.id,
        Student.name,
        Student.sex,
        Student.birth_date,
        Student.id_number,
        Student.household_code,
        Student.migrant,
        Township.code,
        Student.status,
        Student.disabled,
        Student.disability_type,
        Student.orphan,
        Student.needs_aid,
        Student.home_address,
    )
    rows = session.execute(
        select(*columns)
        .join(School, School.id == Student.school_id)
        .join(Township, Township.id == School.township_id)
        .where(
            col(Student.birth_date).between(*window),
            col(Student.status).in_(
                [StudentStatus.ENROLLED.value, StudentStatus.SUSPENDED.value, StudentStatus.DROPPED_OUT.value]
            ),
        )
        .order_by(Student.id)
    ).all()
    pupils = {
        sid: Pupil(
            sid, name, sex, birth, number, household if not migrant and household in villages else None, *rest
        )
        for sid, name, sex, birth, number, household, migrant, *rest in rows
    }
    for sid, seq, name, relation, phone, guardian in session.execute(
        select(
            FamilyMember.student_id,
            FamilyMember.seq,
            FamilyMember.name,
            FamilyMember.relation,
            FamilyMember.phone,
            FamilyMember.is_guardian,
        )
        .where(or_(FamilyMember.seq == 1, col(FamilyMember.is_guardian)))
        .order_by(FamilyMember.student_id, FamilyMember.seq)
    ):
        pupil = pupils.get(sid)
        if pupil is None:
            continue
        if seq == 1:
            pupil.head = (name, relation)
        if guardian and not pupil.guardian[0]:
            pupil.guardian = (name, phone)
    return _County(villages, list(pupils.values()), window)


class _Maker:
    """Draws every list from the county with the demo's random source, in a fixed order."""

    def __init__(self, ctx: DemoContext, county: _County) -> None:
        self.ctx, self.rng, self.county = ctx, ctx.rng, county
        self.locals = [p for p in county.pupils if p.village and p.id_number]
        self.unnumbered = [p for p in county.pupils if p.village and not p.id_number]
        # the planted children, by role: filled by residents(), read by the other lists
        self.unregistered: list[dict[str, object]] = []
        self.taken: set[int] = set()

    # ---- people ----------------------------------------------------------------------------------------------

    def _new_id(self, birth: date, male: bool) -> str:
        while True:
            number = build_id_number(COUNTY_REGION, birth, self.rng.randrange(500), male=male)
            if number not in self.ctx.used_id_numbers:
                self.ctx.used_id_numbers.add(number)
                return number

    def _changed(self, number: str | None, *, swap: bool) -> str | None:
        """The number with digit 15 mistyped, or digits 15 and 16 swapped; sex digit and checksum kept valid."""
        if number is None:
            return None
        body = list(number[:17])
        if swap:
            if body[14] == body[15]:
                return None
            body[14], body[15] = body[15], body[14]
        else:
            body[14] = str((int(body[14]) + self.rng.randint(1, 9)) % 10)
        first17 = "".join(body)
        changed = first17 + check_digit(first17)
        if changed in self.ctx.used_id_numbers:
            return None
        self.ctx.used_id_numbers.add(changed)
        return changed

    def _pick(self, pupils: list[Pupil], *, township: str | None = DEMO_TOWNSHIP) -> Pupil:
        """An untaken pupil, from the township's villages when there is one, else from anywhere."""
        free = [p for p in pupils if p.id not in self.taken]
        near = [p for p in free if township and self._township(p) == township]
        pupil = self.rng.choice(near or free)
        self.taken.add(pupil.id)
        return pupil

    def _township(self, pupil: Pupil) -> str | None:
        return self.county.villages[pupil.village][1] if pupil.village else None

    def _homophone(self, pupils: list[Pupil]) -> tuple[Pupil, str] | None:
        """A pupil (one with 志 when there is one) and their name with a homophone typed for a character."""
        sounding = [
            p for p in pupils if p.id not in self.taken and any(ch in HOMOPHONES for ch in p.name[1:])
        ]
        if not sounding:
            return None
        pupil = self._pick([p for p in sounding if "志" in p.name[1:]] or sounding)
        at = next(
            i
            for i, ch in enumerate(pupil.name)
            if i and ch in HOMOPHONES and ("志" not in pupil.name or ch == "志")
        )
        return pupil, pupil.name[:at] + HOMOPHONES[pupil.name[at]] + pupil.name[at + 1 :]

    def _row(self, pupil: Pupil, **change: object) -> dict[str, object]:
        village = pupil.village or ""
        row: dict[str, object] = {
            "name": pupil.name,
            "sex": pupil.sex,
            "birth_date": pupil.birth,
            "id_number": pupil.id_number,
            "address": pupil.address or self.county.address(village, self.rng),
            "village_code": village,
            "guardian_name": pupil.guardian[0] or None,
            "guardian_phone": pupil.guardian[1],
        }
        return {**row, **change}

    def _stranger(self, village: str, *, young: bool = False, like: Pupil | None = None) -> dict[str, object]:
        """A child of age on the register with no registry record (with the name, sex and birthday of `like`)."""
        rng = self.rng
        earliest, latest = self.county.window
        if young:  # just six: should have started grade 1 this September
            earliest = latest - timedelta(days=200)
        else:  # junior-school age, when children leave school
            latest = min(latest, earliest + timedelta(days=365 * 5))
        birth = like.birth if like else earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
        male = like.sex == "男" if like else rng.random() < 0.55
        name = like.name if like else names.person_name(rng, male=male)
        return {
            "name": name,
            "sex": "男" if male else "女",
            "birth_date": birth,
            "id_number": self._new_id(birth, male),
            "address": self.county.address(village, rng),
            "village_code": village,
            "guardian_name": names.person_name(rng, male=rng.random() < 0.5, adult=True, surname=name[0]),
            "guardian_phone": names.mobile_phone(rng),
        }

    # ---- the lists -------------------------------------------------------------------------------------------

    def residents(self) -> tuple[DemoList, DemoList]:
        rng, county = self.rng, self.county
        enrolled = [p for p in self.locals if p.status == StudentStatus.ENROLLED.value]
        gugang = county.village_codes(DEMO_TOWNSHIP)
        changed: dict[int, dict[str, object]] = {}
        # 人户分离: registered in 古港镇, at school in another township
        away = [p for p in enrolled if p.school_township != DEMO_TOWNSHIP]
        for _ in range(3):
            pupil = self._pick(away, township=None)
            village = rng.choice(gugang)
            changed[pupil.id] = self._row(pupil, village_code=village, address=county.address(village, rng))
        # the registry's temporary records: the register has their number; only name and birth date can propose
        # them, and one's name the clerk typed with a homophone (刘志/刘智)
        for pupil in self.unnumbered:
            changed[pupil.id] = self._row(pupil, id_number=self._new_id(pupil.birth, pupil.sex == "男"))
        sounded = self._homophone(self.unnumbered)
        if sounded is not None:
            pupil, renamed = sounded
            changed[pupil.id] = {**changed[pupil.id], "name": renamed}
        else:  # no temporary record to type: a homophone name and an ID number one digit off
            pupil, renamed = self._homophone(enrolled) or (enrolled[0], enrolled[0].name)
            number = self._changed(pupil.id_number, swap=False) or self._new_id(
                pupil.birth, pupil.sex == "男"
            )
            changed[pupil.id] = self._row(pupil, name=renamed, id_number=number)
        # the registry's typing of ID numbers: a digit wrong, two digits swapped
        for swap in (False, True):
            while True:
                pupil = self._pick(enrolled)
                typed = self._changed(pupil.id_number, swap=swap)
                if typed:
                    changed[pupil.id] = self._row(pupil, id_number=typed)
                    break
        # 户籍 moves between the two lists: a few moved in (on November's only), one moved out (September's only)
        moved_in = {self._pick(enrolled, township=None).id for _ in range(3)}
        moved_out = self._pick(enrolled, township=None).id
        registry_rows = [(p.id, changed.get(p.id) or self._row(p)) for p in self.locals + self.unnumbered]
        # 适龄未入学: about one in a hundred, half of them in 古港镇; one just six
        count = max(6, round(len(self.locals) / 100))
        strangers = [
            self._stranger(rng.choice(gugang if i % 2 == 0 else county.village_codes()), young=i == 4)
            for i in range(count)
        ]
        self.unregistered = strangers
        # the same name and birthday as a temporary record, in a village of another township: not that child
        # (with no temporary record left, a migrant pupil's: two ID numbers, two children, never proposed)
        others = [p for p in self.unnumbered if p.id not in self.taken] or [
            p for p in county.pupils if p.village is None and p.status == StudentStatus.ENROLLED.value
        ]
        twins = []
        if others:
            twin = rng.choice(others)
            village = rng.choice(
                county.village_codes(other_than=self._township(twin) or twin.school_township)
            )
            twins.append(self._stranger(village, like=twin))
        left = [self._stranger(rng.choice(county.village_codes())) for _ in range(3)]
        current = [row for sid, row in registry_rows if sid != moved_out] + strangers + twins
        older = (
            [row for sid, row in registry_rows if sid not in moved_in]
            + [s for i, s in enumerate(strangers) if i != 5]
            + twins
            + left
        )
        rng.shuffle(current)
        rng.shuffle(older)
        today = self.ctx.spec.today
        first, second = today - timedelta(days=70), today - timedelta(days=21)
        return (
            DemoList(ListKind.RESIDENTS, first, _file(ListKind.RESIDENTS, first), tuple(older)),
            DemoList(ListKind.RESIDENTS, second, _file(ListKind.RESIDENTS, second), tuple(current)),
        )

    def _recognised(self, birth: date) -> date:
        """When 民政 recognised the child: after the birth, before the list."""
        until = self.ctx.spec.today - timedelta(days=60)
        return birth + timedelta(days=self.rng.randrange(max(1, (until - birth).days)))

    def welfare(self) -> list[dict[str, object]]:
        rng = self.rng
        rows = []

        def add(name: object, id_number: object, birth: object, category: str, guardian: object) -> None:
            rows.append(
                {
                    "name": name,
                    "id_number": id_number,
                    "category": category,
                    "guardian_name": guardian,
                    "recognised_on": self._recognised(birth) if isinstance(birth, date) else None,
                }
            )

        for p in self.locals:
            if p.orphan:
                category = rng.choice(("孤儿", "孤儿", "事实无人抚养儿童"))
                add(p.name, p.id_number, p.birth, category, p.guardian[0] or None)
        aided = [p for p in self.locals if p.needs_aid and not p.orphan]
        for p in rng.sample(aided, k=min(4, len(aided))):
            add(p.name, p.id_number, p.birth, rng.choice(("困境儿童", "低保家庭儿童")), p.guardian[0] or None)
        plain = [p for p in self.locals if not p.needs_aid and not p.orphan and p.id not in self.taken]
        for category in ("困境儿童", "事实无人抚养儿童"):  # the registry does not flag them: a case opens
            p = self._pick(plain)
            add(p.name, p.id_number, p.birth, category, p.guardian[0] or None)
        for s, category in zip(self.unregistered[2:4], ("事实无人抚养儿童", "困境儿童"), strict=True):
            add(s["name"], s["id_number"], s["birth_date"], category, s["guardian_name"])
        rng.shuffle(rows)
        return rows

    def disabled(self) -> list[dict[str, object]]:
        rng = self.rng
        rows = []

        def add(name: object, id_number: str, kind: str) -> None:
            grade = rng.choices(range(4), weights=(2, 3, 3, 2))[0]
            rows.append(
                {
                    "name": name,
                    "id_number": id_number,
                    "category": f"{kind}残疾",
                    "grade": DISABILITY_GRADES[grade],
                    "certificate": f"{id_number}{DISABILITY_CODES[kind]}{grade + 1}",
                }
            )

        for p in self.locals:
            if p.disabled:
                add(p.name, p.id_number, p.disability_type or "肢体")
        plain = [p for p in self.locals if not p.disabled and p.status == StudentStatus.ENROLLED.value]
        p = self._pick(plain)  # the federation knows what the registry does not: a case opens
        add(p.name, p.id_number, rng.choice(("听力", "肢体", "言语")))
        for s in self.unregistered[:2]:  # of age, no school, no home teaching: to assess for 送教上门
            add(s["name"], str(s["id_number"]), rng.choice(("智力", "多重", "肢体")))
        rng.shuffle(rows)
        return rows

    def households(self, session: Session) -> list[dict[str, object]]:
        """Some of the registry's families, the families of children out of school among them."""
        rng = self.rng
        out = session.execute(
            select(Child.student_id, Case.category)
            .join(Case, Case.child_id == Child.id)
            .where(
                col(Child.student_id).is_not(None),
                col(Case.category).in_([CaseCategory.DROPOUT.value, CaseCategory.SUSPECTED_DROPOUT.value]),
                Case.status != CaseStatus.CLOSED.value,
            )
            .order_by(Child.student_id)
        ).all()
        by_id = {p.id: p for p in self.locals if p.head}
        chosen: list[Pupil] = []
        for category in (CaseCategory.DROPOUT.value, CaseCategory.SUSPECTED_DROPOUT.value):
            pupils = [by_id[sid] for sid, cat in out if cat == category and sid in by_id]
            if pupils:
                near = [p for p in pupils if self._township(p) == DEMO_TOWNSHIP]
                chosen.append(rng.choice(near or pupils))
        families = [p for p in by_id.values() if p.id not in {c.id for c in chosen}]
        chosen += rng.sample(families, k=min(len(families), max(8, len(self.locals) // 50)))
        rows = []
        kinds, weights = zip(*HOUSEHOLD_WEIGHTS, strict=True)
        for pupil in chosen:
            head, relation = pupil.head or (pupil.guardian[0], "")
            male = relation in ("父亲", "祖父", "外祖父")
            older = relation.startswith(("祖", "外祖"))
            born = date(
                rng.randint(1950, 1966) if older else rng.randint(1976, 1992),
                rng.randint(1, 12),
                rng.randint(1, 28),
            )
            head_id = self._new_id(born, male)
            kind = rng.choices(kinds, weights=weights)[0]
            base = {"head_name": head, "head_id_number": head_id, "category": kind}
            rows.append({**base, "name": head, "id_number": head_id})
            rows.append({**base, "name": pupil.name, "id_number": pupil.id_number})
        return rows
