"""The rows of a department's list (户籍, 民政, 残联, 乡村振兴), checked without a database: names, ID numbers
(GB 11643 check digit) and the birth date and sex they hold, the village code of the household (a village of
this county; what the database knows comes in as plain data), dates, phones, each list's vocabulary, the same
person twice, text lengths. Every problem is (row, column, value, reason) in Chinese; a list is imported only
when none is found."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from xueji.rules.dept_lists import HOUSEHOLD_TYPES, WELFARE_CATEGORIES, ListKind, person_key
from xueji.rules.division import DivisionCodeError, DivisionLevel, parse_division_code
from xueji.rules.registry_record import DISABILITY_TYPES, name_problem, phone_problem, resident_id_problem
from xueji.rules.text_limits import length_problem
from xueji.rules.visits import parse_day

SheetRow = tuple[int, Mapping[str, str]]  # (the spreadsheet's row number, column key → text)

DISABILITY_GRADES = ("一级", "二级", "三级", "四级")
SEXES = {"男": "男", "女": "女", "男性": "男", "女性": "女", "1": "男", "2": "女"}
CERTIFICATE_MAX = 30  # 残疾证号: the holder's 18-character ID and two digits (类别, 等级); older ones differ

# What each list is, for the page and the template's instructions.
ABOUT: dict[ListKind, str] = {
    ListKind.RESIDENTS: "户籍在本县的适龄儿童:与学籍比对,找出适龄未入学、人户分离的孩子。",
    ListKind.WELFARE: "民政认定的孤儿、事实无人抚养儿童、困境儿童等:孩子的档案标记为特殊群体并建档关注。",
    ListKind.DISABLED: "持残疾证的儿童:未在校也未送教上门的,生成送教上门评估任务。",
    ListKind.HOUSEHOLDS: "脱贫户、防返贫监测户等的家庭成员:其中的孩子在各台账中列为重点。",
}


@dataclass(frozen=True)
class ListProblem:
    row: int
    column: str  # the header, as in the sheet
    value: str
    reason: str


@dataclass(frozen=True)
class ListPerson:
    """One good row, as dept_person stores it."""

    row: int
    person_key: str
    name: str
    id_number: str
    birth_date: date
    sex: str
    village_id: int | None = None
    address: str | None = None
    guardian_name: str | None = None
    guardian_phone: str | None = None
    category: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Places:
    """What the database knows of the county's villages: its 12-digit code, and each village code of it (in
    use, or merged: then the village it was merged into) → the village's id."""

    county_code: str
    villages: Mapping[str, int]


def _plain(text: str) -> str:
    """Full-width digits and letters to ASCII, all spaces out."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def welfare_category(text: str) -> str | None:
    """民政's 类别 as the list names it (孤儿, 事实无人抚养儿童, …), from the usual spellings; None if unknown."""
    word = _plain(text)
    for name in WELFARE_CATEGORIES:
        if word in (name, name.removesuffix("儿童")):
            return name
    return None


def disability_type(text: str) -> str | None:
    """残疾类别 in its short form (视力, …): 视力 and 视力残疾 both; None if unknown."""
    word = _plain(text).removesuffix("残疾").removesuffix("残")
    return word if word in DISABILITY_TYPES else None


def disability_grade(text: str) -> str | None:
    """残疾等级 as 一级…四级, from 一级, 1级, 1, 一, 一级残疾; None if unknown."""
    word = _plain(text).removesuffix("残疾").removesuffix("级")
    digits = {"1": "一", "2": "二", "3": "三", "4": "四"}
    word = digits.get(word, word)
    return f"{word}级" if f"{word}级" in DISABILITY_GRADES else None


def household_type(text: str) -> str | None:
    """乡村振兴's 户类型 (脱贫户, 防返贫监测户, …); None if unknown."""
    word = _plain(text)
    return word if word in HOUSEHOLD_TYPES else None


class _Row:
    """One row being checked: its cells and the problems found so far."""

    def __init__(self, shape: _Shape, number: int, cells: Mapping[str, str]) -> None:
        self.number = number
        self.cells = cells
        self.header = shape.header
        self.required = shape.required
        self.villages = shape.villages
        self.problems: list[ListProblem] = []

    def text(self, key: str) -> str:
        return self.cells.get(key, "").strip()

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(ListProblem(self.number, self.header[key], self.cells.get(key, ""), reason))

    def missing(self, key: str) -> bool:
        """Blank: a problem if the column is required."""
        if self.text(key):
            return False
        if key in self.required:
            self.problem(key, "不能为空")
        return True

    def name(self, key: str) -> str | None:
        if self.missing(key):
            return None
        name, reason = name_problem(self.text(key))
        if reason:
            self.problem(key, reason)
            return None
        return name

    def id_number(self, key: str) -> tuple[str, date, str] | None:
        """(the ID number, the birth date and the sex it holds)."""
        if self.missing(key):
            return None
        number, reason = resident_id_problem(self.text(key))
        if reason:
            if number.isdigit() and number.endswith("000") and "校验位" in reason:
                reason += "(该列可能被存成了数字,末几位已丢失:请把该列设为文本后重新填写)"
            self.problem(key, reason)
            return None
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))  # a real date: checked above
        return number, born, "男" if int(number[16]) % 2 else "女"

    def day(self, key: str, *, today: date, born: date | None = None) -> date | None:
        if self.missing(key):
            return None
        try:
            on = parse_day(self.text(key))
        except ValueError as error:
            self.problem(key, str(error))
            return None
        if on > today:
            self.problem(key, "晚于今天")
        elif born is not None and on < born:
            self.problem(key, f"早于出生日期 {born:%Y-%m-%d}")
        elif on.year < 1900:
            self.problem(key, "年份早于1900年")
        return on

    def bounded(self, key: str, column: str) -> str | None:
        """Free text, at most as long as its column (`column`, e.g. "dept_person.address")."""
        text = self.text(key)
        if not text:
            return None
        reason = length_problem(text, column)
        if reason:
            self.problem(key, reason)
        return text

    def phone(self, key: str) -> str | None:
        phone, reason = phone_problem(self.text(key))
        if reason:
            self.problem(key, reason)
        return phone

    def word(self, key: str, parse: Any, choices: Sequence[str]) -> str | None:
        """A cell of a vocabulary: the word as stored, or a problem naming the choices."""
        if self.missing(key):
            return None
        found = parse(self.text(key))
        if found is None:
            self.problem(key, f"应为{'、'.join(choices)}之一")
        return found

    def village(self, key: str, places: Places) -> int | None:
        if self.missing(key):
            return None
        text = self.text(key)
        if text not in self.villages:  # a county's list names a few hundred villages: each judged once
            self.villages[text] = _village(_plain(text), places)
        found = self.villages[text]
        if isinstance(found, str):
            self.problem(key, found)
            return None
        return found


def _village(code: str, places: Places) -> int | str:
    """The village's id, or why the code is not a village of this county."""
    try:
        division = parse_division_code(code)
    except DivisionCodeError as error:
        return str(error)
    if code in places.villages:
        return places.villages[code]
    if not division.is_within(parse_division_code(places.county_code)):
        return f"不是本县({places.county_code[:6]})的代码:只能导入本县户籍的孩子"
    if division.level is not DivisionLevel.VILLAGE:
        return "是乡镇(街道)级代码:请填孩子户籍所在村(社区)的12位代码(末三位不全为0)"
    return "本县没有这个村(社区)代码:请核对;新设的村(社区)请先在“区划管理”中添加"


@dataclass
class _Shape:
    """What every row of one list shares: its headers, required keys, the village codes judged so far."""

    header: dict[str, str]
    required: set[str]
    villages: dict[str, int | str] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: ListKind) -> _Shape:
        return cls(
            {key: header for header, key in kind.columns.items()}, {kind.columns[h] for h in kind.required}
        )


def check_rows(
    kind: ListKind, rows: Sequence[SheetRow], *, today: date, places: Places
) -> tuple[list[ListPerson], list[ListProblem]]:
    """Check every row of a list; return the good rows and every problem (the list is good when none)."""
    people: list[ListPerson] = []
    problems: list[ListProblem] = []
    first_of: dict[str, int] = {}
    households: dict[str, tuple[int, str, str | None]] = {}  # head's ID → (first row, head's name, 户类型)
    member_of: dict[str, tuple[int, str, str]] = {}  # member's key → (row, head's ID or "", head's name)
    shape = _Shape.of(kind)
    for number, cells in rows:
        row = _Row(shape, number, cells)
        person = _person(kind, row, today=today, places=places)
        if person is not None:
            if kind is ListKind.HOUSEHOLDS:
                _household_duplicates(row, person, households, member_of)
            elif person.person_key in first_of:
                row.problem("id_number", f"与第{first_of[person.person_key]}行是同一人(身份证号重复)")
            first_of.setdefault(person.person_key, number)
        problems += row.problems
        if person is not None and not row.problems:
            people.append(person)
    return ([] if problems else people), problems


def _person(kind: ListKind, row: _Row, *, today: date, places: Places) -> ListPerson | None:
    name = row.name("name")
    checked = row.id_number("id_number")
    values: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    if kind is ListKind.RESIDENTS:
        born = row.day("birth_date", today=today)
        sex_text = _plain(row.text("sex"))
        sex = SEXES.get(sex_text)
        if sex_text and sex is None:
            row.problem("sex", "性别只能填“男”或“女”")
        if checked and born and born != checked[1]:
            row.problem("birth_date", f"与身份证号中的出生日期 {checked[1]:%Y-%m-%d} 不一致")
        if checked and sex and sex != checked[2]:
            row.problem("sex", f"与身份证号不一致:身份证号第17位表示{checked[2]}性")
        values["village_id"] = row.village("village_code", places)
        values["address"] = row.bounded("address", "dept_person.address")
        values["guardian_name"] = row.name("guardian_name") if row.text("guardian_name") else None
        values["guardian_phone"] = row.phone("guardian_phone")
    elif kind is ListKind.WELFARE:
        values["category"] = row.word("category", welfare_category, list(WELFARE_CATEGORIES))
        values["guardian_name"] = row.name("guardian_name") if row.text("guardian_name") else None
        recognised = row.day("recognised_on", today=today, born=checked[1] if checked else None)
        if recognised:
            detail["认定日期"] = recognised.isoformat()
    elif kind is ListKind.DISABLED:
        values["category"] = row.word("category", disability_type, DISABILITY_TYPES)
        grade = row.word("grade", disability_grade, DISABILITY_GRADES)
        certificate = _plain(row.text("certificate")).upper()
        if certificate and not (certificate.isascii() and certificate.isalnum()):
            row.problem("certificate", "残疾证号只能由数字和字母组成")
        elif len(certificate) > CERTIFICATE_MAX:
            row.problem("certificate", f"残疾证号不超过 {CERTIFICATE_MAX} 位(现有 {len(certificate)} 位)")
        detail |= {"残疾等级": grade} if grade else {}
        detail |= {"残疾证号": certificate} if certificate else {}
    else:
        head = row.name("head_name")
        head_id = row.id_number("head_id_number")
        values["category"] = row.word("category", household_type, HOUSEHOLD_TYPES)
        detail |= {"户主姓名": head} if head else {}
        detail |= {"户主身份证号": head_id[0]} if head_id else {}
    if name is None or checked is None or row.problems:
        return None
    number, born, sex = checked
    key = person_key(id_number=number, name=name, birth_date=born)
    return ListPerson(row.number, key, name, number, born, sex, detail=detail, **values)


def _household_duplicates(
    row: _Row,
    person: ListPerson,
    households: dict[str, tuple[int, str, str | None]],
    member_of: dict[str, tuple[int, str, str]],
) -> None:
    """乡村振兴: one household (known by the head's ID; rows without it are not claimed to be one household,
    since two heads may share a name) has one 户类型; a member is in one household."""
    head_id = person.detail.get("户主身份证号", "")
    head_name = person.detail.get("户主姓名", "")
    if head_id:
        first, first_name, kind = households.setdefault(head_id, (row.number, head_name, person.category))
        if kind != person.category:
            row.problem("category", f"同一户主({first_name})在第{first}行的户类型为“{kind}”,两行不一致")
    if person.person_key in member_of:
        at, other_id, other_name = member_of[person.person_key]
        where = "本户" if head_id and other_id == head_id else f"户主为{other_name}的户"
        row.problem("id_number", f"该成员已在第{at}行{where}中出现:一人只能在名单中出现一次")
    else:
        member_of[person.person_key] = (row.number, head_id, head_name)
