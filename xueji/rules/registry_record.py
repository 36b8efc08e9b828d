"""One row of the national registry import template (学籍导入模板): its columns, and every check on it.

Pure: text in, normalised values and Chinese problems out. The checks that need the database (the school
is in scope, 查重 against existing records, class sizes) live in services.registry.file_import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from xueji.rules.class_code import ClassCode, ClassCodeError, parse_class_code
from xueji.rules.ethnicity import normalise_ethnicity
from xueji.rules.id_number import check_digit
from xueji.rules.text_limits import max_length, too_long
from xueji.rules.vocab import grade_label


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False  # the header must be in the file
    aliases: tuple[str, ...] = ()
    example: str = ""


def _member_columns(n: int, example: tuple[str, ...]) -> list[Column]:
    keys = ("name", "relation", "household_code", "phone", "workplace", "is_guardian")
    headers = ("姓名", "关系", "户口所在地行政区划", "联系电话", "工作单位", "是否监护人")
    return [
        Column(f"m{n}_{key}", f"成员{n}{header}", example=value)
        for key, header, value in zip(keys, headers, example, strict=True)
    ]


# The national template's columns, in its order. Headers are matched by name (or alias), never by position.
COLUMNS: tuple[Column, ...] = (
    Column("school_code", "学校标识码", True, example="2143016965"),
    Column("name", "姓名", True, example="李思远"),
    Column("sex", "性别", True, example="男"),
    Column("birth_date", "出生日期", True, example="20190512"),
    Column("birthplace_code", "出生地行政区划代码", True, ("出生地行政区划",), example="430181108000"),
    Column("native_place", "籍贯", True, example="湖南浏阳"),
    Column("ethnicity", "民族", True, example="汉族"),
    Column("nationality", "国籍/地区", True, ("国籍", "国籍地区"), example="中国"),
    Column("id_type", "身份证件类型", True, ("证件类型",), example="居民身份证"),
    Column("id_number", "身份证件号", True, ("身份证号", "身份证号码", "身份证件号码"), example=""),
    Column("household_code", "户口所在地行政区划", True, ("户口所在地行政区划代码",), example="430181108201"),
    Column("class_code", "班号", True, example="2025101"),
    Column("entry_month", "入学年月", True, example="202509"),
    Column("current_address", "现住址", True, example="浏阳市古港镇梅田村一组"),
    Column("mailing_address", "通信地址", True, example="浏阳市古港镇梅田村一组"),
    Column("home_address", "家庭地址", True, ("家庭住址",), example="浏阳市古港镇梅田村一组"),
    Column("needs_aid", "是否需要申请资助", True, example="否"),
    Column("only_child", "是否独生子女", example="否"),
    Column("left_behind", "是否留守儿童", example="是"),
    Column("migrant", "是否进城务工人员随迁子女", aliases=("是否随迁子女",), example="否"),
    Column("orphan", "是否孤儿", example="否"),
    Column("disability_type", "残疾人类型", aliases=("残疾类型",), example="无残疾"),
    *_member_columns(1, ("李建国", "父亲", "430181108201", "13907310001", "广东省东莞市", "是")),
    *_member_columns(2, ("王秀英", "祖母", "430181108201", "", "", "否")),
    # Optional, issue 23: a child transferring in from another county (外县转入) is marked by 转出县区.
    Column("source_county", "转出县区", aliases=("转入来源县区", "来源县区")),
    Column("source_school", "原学校", aliases=("转出学校",)),
    Column("transfer_date", "转入日期"),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# The columns people type free text into, with the model field that bounds them (rules.text_limits).
TEXT_FIELDS = {
    "name": "student.name",
    "native_place": "student.native_place",
    "nationality": "student.nationality",
    "id_number": "student.id_number",
    "current_address": "student.current_address",
    "mailing_address": "student.mailing_address",
    "home_address": "student.home_address",
    **{f"m{n}_{key}": f"family_member.{key}" for n in (1, 2) for key in ("name", "relation", "workplace")},
    "source_county": "status_change.source_county",
    "source_school": "status_change.source_school",
}
YES_NO_KEYS = ("needs_aid", "only_child", "left_behind", "migrant", "orphan")
ID_TYPES = (
    "居民身份证",
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "护照",
    "外国人永久居留身份证",
    "其他",
)
DISABILITY_TYPES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
RESIDENT_ID = "居民身份证"

_ID18 = re.compile(r"\d{17}[\dX]")
_NAME_CHAR = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff·A-Za-z]")
_NAME = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff·A-Za-z]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
_FORMULA_START = ("=", "+", "-", "@", "\t")
_YES, _NO = "是", "否"


class LossyNumber(str):
    """A cell Excel stored as a number too long to keep every digit (an 18-digit ID typed as a number)."""


@dataclass
class Problem:
    column: str  # the Chinese header, as the user sees it
    value: str
    reason: str


@dataclass(slots=True)
class CheckedRow:
    """One data row: its spreadsheet row number, the text as read, and what the checks made of it."""

    row: int
    raw: tuple[str, ...]  # the cells as read, in COLUMNS order ("" where the column is missing)
    values: dict[str, Any] = field(default_factory=dict)
    family: list[dict[str, Any]] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    checked: tuple[int, int] = (0, 0)  # how many errors and warnings the file's own checks found

    def __reduce__(self) -> tuple:
        """Pickled as its fields in order (excel.spill keeps checked rows on disk): quicker than slots' state."""
        return (
            CheckedRow,
            (self.row, self.raw, self.values, self.family, self.errors, self.warnings, self.checked),
        )

    def forget_later_problems(self) -> None:
        """Drop what a database plan added, keeping the file's own verdicts, before planning again."""
        del self.errors[self.checked[0] :]
        del self.warnings[self.checked[1] :]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def is_temporary(self) -> bool:
        return not self.values.get("id_number")

    def reject(self, key: str, reason: str) -> None:
        self.errors.append(Problem(COLUMN_BY_KEY[key].header, self.cell(key), reason))

    def warn(self, key: str, reason: str) -> None:
        self.warnings.append(Problem(COLUMN_BY_KEY[key].header, self.cell(key), reason))

    def cell(self, key: str) -> str:
        return self.raw[_INDEX[key]]

    @property
    def reasons(self) -> str:
        return ";".join(f"{p.column}:{p.reason}" for p in self.errors)

    def match_key(self) -> tuple:
        """Who the row is (查重): the ID number, or for a temporary record its name, birth date and sex."""
        v = self.values
        return ("id", v["id_number"]) if v["id_number"] else ("temp", v["name"], v["birth_date"], v["sex"])


_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}


class Invalid(ValueError):
    """A cell's text cannot be taken; the message is the reason, in Chinese."""


def _code_text(text: str) -> str:
    """Full-width digits and letters to ASCII, surrounding spaces removed."""
    return text.strip() if text.isascii() else unicodedata.normalize("NFKC", text).strip()


def _digits(length: int, what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        code = _code_text(text)
        if len(code) == length and code.isdigit() and code.isascii():
            return code
        if not code:
            raise Invalid(f"{what}不能为空")
        if not (code.isascii() and code.isdigit()):
            raise Invalid(f"{what}应为{length}位数字,含有非数字字符")
        raise Invalid(f"{what}应为{length}位数字,实际为{len(code)}位")

    return check


_twelve = _digits(12, "行政区划代码")


def _division(text: str) -> str:
    code = _twelve(text)
    if code[:2] == "00":
        raise Invalid("行政区划代码的前两位(省级)不能为00")
    return code


def _optional(check: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: check(text) if text.strip() else None


def cell_max_chars(key: str) -> int | None:
    """How many characters a form may take for this column (None: a code or choice, checked by its rule)."""
    return max_length(TEXT_FIELDS[key]) if key in TEXT_FIELDS else None


def _text(field: str, *, required: bool) -> Callable[[str], str | None]:
    """A free-text cell, at most as long as its column (`field`, e.g. "student.native_place") takes."""

    def check(text: str) -> str | None:
        text = text.strip()
        if not text:
            if required:
                raise Invalid("不能为空")
            return None
        if text.startswith(_FORMULA_START):
            raise Invalid(f"内容以“{text[0]}”开头,可能是公式,请删去该符号")
        reason = too_long(text, max_length(field))
        if reason:
            raise Invalid(reason)
        return text

    return check


def _yes_no(*, required: bool) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        text = text.strip()
        if text == _YES:
            return True
        if text == _NO or (not text and not required):
            return False
        raise Invalid("只能填“是”或“否”" if text else "不能为空,请填“是”或“否”")

    return check


def _date8(text: str) -> date | None:
    """Parse 20150304 (the template's form) or 2015-03-04 (a date cell as read)."""
    text = _code_text(text)
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return date.fromisoformat(text)
    except ValueError:
        return None
    return None


def _birth_date(text: str) -> date:
    if not text.strip():
        raise Invalid("出生日期不能为空")
    born = _date8(text)
    if born is None:
        raise Invalid("出生日期应为8位数字的真实日期,如 20190512")
    return born


def _transfer_date(text: str) -> date:
    day = _date8(text)
    if day is None:
        raise Invalid("转入日期应为8位数字的真实日期,如 20261015")
    return day


def _name(text: str) -> str:
    text = text.strip()
    reason = too_long(text, max_length(TEXT_FIELDS["name"]))
    if reason:
        raise Invalid(f"姓名{reason}")
    if _NAME.fullmatch(text):
        return text
    if not text:
        raise Invalid("姓名不能为空")
    if any(ch.isspace() for ch in text):
        raise Invalid("姓名中间不能有空格")
    if any(ch.isdigit() for ch in text):
        raise Invalid("姓名不能含数字")
    bad = next(ch for ch in text if not _NAME_CHAR.fullmatch(ch))  # the name is not blank and fails _NAME
    raise Invalid(f"姓名含有不允许的字符“{bad}”")


_SEXES = {"男": "男", "女": "女", "1": "男", "2": "女"}


def _sex(text: str) -> str:
    sex = _SEXES.get(_code_text(text))
    if sex is None:
        raise Invalid("性别只能填“男”或“女”")
    return sex


def _entry_month(text: str) -> str:
    month = _code_text(text)
    if len(month) == 10 and month[4] == "-":  # a date cell
        month = month[:4] + month[5:7]
    if not month:
        raise Invalid("入学年月不能为空")
    if not (len(month) == 6 and month.isascii() and month.isdigit() and 1 <= int(month[4:]) <= 12):
        raise Invalid("入学年月应为6位数字的真实年月,如 202509")
    if int(month[:4]) < 1990:
        raise Invalid("入学年份早于1990年")
    return month


def _id_type(text: str) -> str:
    id_type = text.strip() or RESIDENT_ID
    if id_type not in ID_TYPES:
        raise Invalid(f"身份证件类型应为:{'、'.join(ID_TYPES)}")
    return id_type


def _id_text(text: str) -> str | None:
    if isinstance(text, LossyNumber):
        raise Invalid("身份证件号被存成了数字,后几位已丢失;请把该列设为文本格式后重新填写")
    return _code_text(text).upper() or None


def _resident_id(text: str) -> date:
    """Check an 18-character resident ID; return the birth date it holds."""
    if not _ID18.fullmatch(text):
        bad = [ch for ch in text if not (ch.isascii() and (ch.isdigit() or ch == "X"))]
        if bad:
            raise Invalid(f"身份证号含有不允许的字符“{bad[0]}”")
        if len(text) != 18:
            raise Invalid(f"身份证号应为18位,实际为{len(text)}位")
        raise Invalid("身份证号只有最后一位可以是X")
    expected = check_digit(text[:17])
    if text[17] != expected:
        raise Invalid(f"身份证号校验位错误:按前17位应为“{expected}”")
    born = _date8(text[6:14])
    if born is None:
        raise Invalid(f"身份证号中的出生日期 {text[6:14]} 不是真实日期")
    return born


def _class_code(text: str) -> ClassCode:
    try:
        return parse_class_code(_code_text(text))
    except ClassCodeError as error:
        raise Invalid(str(error)) from None


def _ethnicity(text: str) -> str:
    name = normalise_ethnicity(text)
    if name is None:
        raise Invalid("民族应为56个民族之一并以“族”结尾,如 汉族" if text.strip() else "民族不能为空")
    return name


def _disability(text: str) -> str | None:
    text = text.strip()
    if text in ("", "无", "无残疾", "否"):
        return None
    short = text.removesuffix("残疾")
    if short not in DISABILITY_TYPES:
        raise Invalid(f"残疾人类型应为{'、'.join(t + '残疾' for t in DISABILITY_TYPES)}或无残疾")
    return short


def _phone(text: str) -> str | None:
    phone = _code_text(text).replace(" ", "")
    if not phone:
        return None
    phone = phone.removeprefix("+86").removeprefix("0086")
    if _MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone):
        return phone
    raise Invalid("联系电话应为11位手机号或带区号的固定电话")


def _member_checks(n: int) -> list[tuple[str, Callable[[str], Any]]]:
    return [
        (f"m{n}_name", _text(TEXT_FIELDS[f"m{n}_name"], required=False)),
        (f"m{n}_relation", _text(TEXT_FIELDS[f"m{n}_relation"], required=False)),
        (f"m{n}_household_code", _optional(_division)),
        (f"m{n}_phone", _phone),
        (f"m{n}_workplace", _text(TEXT_FIELDS[f"m{n}_workplace"], required=False)),
        (f"m{n}_is_guardian", _yes_no(required=False)),
    ]


# One check per column: cell text → value, or Invalid(reason). Cross-field rules follow in check_row.
# Columns whose values are nearly unique to a child are checked every time; all others remember.
_UNIQUE = {"name", "id_number", "m1_name", "m1_phone", "m2_name", "m2_phone"}


_REMEMBER = 4096  # verdicts kept per column; most columns repeat a few values down a whole file
_Check = tuple[str, int, Callable[[str], Any], dict[str, Any] | None]


def _table(checks: list[tuple[str, Callable[[str], Any]]]) -> tuple[_Check, ...]:
    """(key, cell index, check, the verdicts it remembers or None) for each column."""
    return tuple((key, _INDEX[key], check, None if key in _UNIQUE else {}) for key, check in checks)


_CHECKS = _table(
    [
        ("school_code", _digits(10, "学校标识码")),
        ("name", _name),
        ("sex", _sex),
        ("birth_date", _birth_date),
        ("birthplace_code", _division),
        ("native_place", _text(TEXT_FIELDS["native_place"], required=True)),
        ("ethnicity", _ethnicity),
        ("nationality", _text(TEXT_FIELDS["nationality"], required=True)),
        ("id_type", _id_type),
        ("id_number", _id_text),
        ("household_code", _division),
        ("class_code", _class_code),
        ("entry_month", _entry_month),
        ("current_address", _text(TEXT_FIELDS["current_address"], required=True)),
        ("mailing_address", _text(TEXT_FIELDS["mailing_address"], required=False)),
        ("home_address", _text(TEXT_FIELDS["home_address"], required=False)),
        *((key, _yes_no(required=key == "needs_aid")) for key in YES_NO_KEYS),
        ("disability_type", _disability),
        ("source_county", _text(TEXT_FIELDS["source_county"], required=False)),
        ("source_school", _text(TEXT_FIELDS["source_school"], required=False)),
        ("transfer_date", _optional(_transfer_date)),
    ]
)
_MEMBER_FIELDS = ("name", "relation", "household_code", "phone", "workplace", "is_guardian")
# Family members 1 and 2: (seq, their checks, what takes their cells from a row's raw cells).
_MEMBERS = tuple(
    (n, checks, itemgetter(*(c[1] for c in checks)))
    for n in (1, 2)
    for checks in (_table(_member_checks(n)),)
)


def _age_on(day: date, born: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def check_row(row: CheckedRow, *, today: date, school_year: int) -> CheckedRow:
    """Check every field of the row, collecting all problems (not just the first); fill row.values."""
    check_rows([row], today=today, school_year=school_year)
    return row


def check_rows(rows: Sequence[CheckedRow], *, today: date, school_year: int) -> None:
    """check_row for each row of a batch (an import's chunk): each column is checked down the batch, every
    distinct text once (a column repeats a few values down a whole file), then the rules across fields run
    row by row."""
    this_month = f"{today:%Y%m}"
    for row, values in zip(rows, _run(rows, _CHECKS), strict=True):
        born, sex, month = values["birth_date"], values["sex"], values["entry_month"]
        if born is not None and born > today:
            row.reject("birth_date", "出生日期晚于今天")
        if month is not None and month > this_month:
            row.reject("entry_month", "入学年月晚于本月")
        _check_id_number(row, values, born, sex)
        _check_class(row, values, born, month, school_year)
        if values["source_county"] is None and (values["source_school"] or values["transfer_date"]):
            row.reject("source_county", "填写了原学校或转入日期时,须填写转出县区(外县转入)")
        values["disabled"] = values["disability_type"] is not None
        row.values = values
    _family(rows)
    for row in rows:
        row.checked = (len(row.errors), len(row.warnings))


def _run(rows: Sequence[CheckedRow], checks: tuple[_Check, ...]) -> list[dict[str, Any]]:
    """Each row's values under these checks, in the rows' order; a cell that fails its check rejects its row
    (problems in column order) and reads None."""
    raws = [row.raw for row in rows]
    columns = []
    for key, index, check, seen in checks:
        texts = list(map(itemgetter(index), raws))
        if seen is None:
            # nearly unique to a child: every cell checked (and a LossyNumber equals its digits' text)
            values = [_verdict(check, text) for text in texts]
            failed = True  # looked for cell by cell below
        else:
            # this batch's verdicts apart from the column's memory, which another import's thread may clear
            verdicts = {text: seen.get(text, _UNSEEN) for text in set(texts)}
            for text, verdict in verdicts.items():
                if verdict is _UNSEEN:
                    verdicts[text] = _verdict(check, text)  # a problem's one instance serves every such row
            if len(seen) + len(verdicts) > _REMEMBER:
                seen.clear()
            seen.update(verdicts)
            values = list(map(verdicts.__getitem__, texts))
            failed = any(verdict.__class__ is Invalid for verdict in verdicts.values())
        if failed:
            for i, value in enumerate(values):
                if value.__class__ is Invalid:
                    rows[i].reject(key, str(value))
                    values[i] = None
        columns.append(values)
    keys = [key for key, *_ in checks]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


_UNSEEN = object()


def _verdict(check: Callable[[str], Any], text: str) -> Any:  # noqa: ANN401 - a column's value
    """The check's value for the text, or the Invalid problem it raised."""
    try:
        return check(text)
    except Invalid as problem:
        return problem


def _check_id_number(row: CheckedRow, values: dict[str, Any], born: date | None, sex: str | None) -> None:
    text = values["id_number"]
    if text is None:
        if "身份证件号" not in {p.column for p in row.errors}:
            row.warn("id_number", "无身份证件号:按临时学籍登记并标记,取得证件后请补录")
        return
    if values["id_type"] != RESIDENT_ID:
        if not (text.isascii() and text.isalnum() and len(text) <= 18):
            row.reject("id_number", "证件号只能由字母和数字组成,最多18位")
            values["id_number"] = None
        return
    try:
        in_id = _resident_id(text)
    except Invalid as problem:
        row.reject("id_number", str(problem))
        values["id_number"] = None
        return
    if born is not None and in_id != born:
        row.reject("id_number", f"身份证号中的出生日期 {in_id:%Y%m%d} 与出生日期 {born:%Y%m%d} 不一致")
    id_sex = "男" if int(text[16]) % 2 else "女"
    if sex is not None and id_sex != sex:
        row.reject("id_number", f"身份证号第17位表示{id_sex}性,与性别“{sex}”不一致")


def _check_class(
    row: CheckedRow, values: dict[str, Any], born: date | None, month: str | None, school_year: int
) -> None:
    parsed: ClassCode | None = values["class_code"]
    if parsed is None:
        return
    values["class_code"] = parsed.code
    if month is not None and int(month[:4]) != parsed.entry_year:
        row.reject("class_code", f"班号中的入学年份 {parsed.entry_year} 与入学年月 {month} 不一致")
    if parsed.entry_year > school_year:
        row.reject("class_code", f"班号的入学年份 {parsed.entry_year} 晚于当前学年({school_year}学年)")
        return
    if not parsed.is_current(school_year):
        row.reject("class_code", f"按班号推算,该班在{school_year}学年已毕业")
        return
    if born is not None:
        grade = parsed.grade(school_year)
        age, usual = _age_on(date(school_year, 9, 1), born), grade + 5
        if abs(age - usual) >= 2:
            row.warn(
                "birth_date",
                f"{school_year}年9月1日满{age}周岁,{grade_label(grade)}通常为{usual}周岁,请核对出生日期和班号",
            )


def _family(rows: Sequence[CheckedRow]) -> None:
    """Each row's family members (row.family): those it fills in (a member with every cell blank is not there)."""
    for row in rows:
        row.family = []
    for n, checks, cells in _MEMBERS:
        present = [row for row in rows if "".join(cells(row.raw)).strip()]
        for row, checked in zip(present, _run(present, checks), strict=True):
            member = dict(zip(_MEMBER_FIELDS, checked.values(), strict=True))
            for required in ("name", "relation"):
                if member[required] is None and not row.cell(f"m{n}_{required}").strip():
                    row.reject(f"m{n}_{required}", "填写了家庭成员信息时,姓名和关系不能为空")
            row.family.append({"seq": n, **member})


def new_row(number: int, cells: Mapping[str, str]) -> CheckedRow:
    """A row to check, from the cells read under each column key."""
    return CheckedRow(number, tuple(cells.get(c.key, "") for c in COLUMNS))


def example_cells() -> dict[str, str]:
    """The example row of the blank template: a valid record from the demo county."""
    cells = {c.key: c.example for c in COLUMNS}
    first17 = "430181" + "20190512" + "031"
    cells["id_number"] = first17 + check_digit(first17)
    return cells


def resident_id_problem(text: str) -> tuple[str, str | None]:
    """Normalise an ID number as the import does; return it with why it is invalid (None when it is valid)."""
    number = _code_text(text).upper()
    try:
        _resident_id(number)
    except Invalid as problem:
        return number, str(problem)
    return number, None


def phone_problem(text: str) -> tuple[str | None, str | None]:
    """Normalise a phone number as the import does; return it with why it is invalid (None when it is valid)."""
    try:
        return _phone(text), None
    except Invalid as problem:
        return text.strip(), str(problem)


def name_problem(text: str) -> tuple[str, str | None]:
    """Check a person's name as the import does; return it stripped with why it is invalid (None when valid)."""
    try:
        return _name(text), None
    except Invalid as problem:
        return text.strip(), str(problem)
