"""The set-up workbook's rows (市州, 县区, 乡镇, 村社区, 学校), checked without a database: codes' shape and level,
the hierarchy (a county inside a city, a township inside a county, a village's township and a school's township
in the workbook or already known), names present and bounded, nothing twice. Without a 市州 sheet and with no city
in the database a deployment holds one county, as before; with cities it holds several, each inside its city. What the database holds comes in as plain data
(`Existing`), so every problem is found here, as (sheet, row, column, value, reason) in Chinese."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from xueji.rules.division import DivisionCode, DivisionCodeError, DivisionLevel, parse_division_code
from xueji.rules.provinces import province_name
from xueji.rules.text_limits import length_problem
from xueji.rules.vocab import SchoolKind

SheetRow = tuple[int, Mapping[str, str]]  # (the spreadsheet's row number, column key → text)

CITY_SHEET, COUNTY_SHEET, TOWNSHIP_SHEET, VILLAGE_SHEET, SCHOOL_SHEET, TERM_SHEET = (
    "市州",
    "县区",
    "乡镇",
    "村社区",
    "学校",
    "学期",
)
# Each sheet's headers (as the issue and the template name them) → the keys the checks read, in sheet order.
# A lone county's sheets; a city's or province's deployment adds the 市州 sheet (CITY_COLUMNS), before them.
COLUMNS: dict[str, dict[str, str]] = {
    COUNTY_SHEET: {"行政区划代码": "code", "名称": "name"},
    TOWNSHIP_SHEET: {"行政区划代码": "code", "名称": "name"},
    VILLAGE_SHEET: {"行政区划代码": "code", "名称": "name"},
    SCHOOL_SHEET: {
        "学校标识码": "code",
        "学校名称": "name",
        "办学类型": "kind",
        "所在乡镇行政区划代码": "township",
    },
    TERM_SHEET: {"学年": "school_year", "学期": "term", "开学日期": "start", "结束日期": "end"},
}
SHEETS = tuple(COLUMNS)
CITY_COLUMNS = {"行政区划代码": "code", "名称": "name"}
ALL_COLUMNS: dict[str, dict[str, str]] = {CITY_SHEET: CITY_COLUMNS, **COLUMNS}
ALL_SHEETS = tuple(ALL_COLUMNS)  # in the order they are read, checked and reported
HEADER = {sheet: {key: header for header, key in columns.items()} for sheet, columns in ALL_COLUMNS.items()}
EXAMPLE_MARK = "示例"  # the template's example row starts with it; such a row is never imported

_KIND_ALIASES = {
    "初中": SchoolKind.JUNIOR,
    "教学点": SchoolKind.TEACHING_POINT,
    "九年一贯制": SchoolKind.NINE_YEAR,
    "十二年一贯制": SchoolKind.TWELVE_YEAR,
    "完中": SchoolKind.COMPLETE_SECONDARY,
    "特教学校": SchoolKind.SPECIAL,
}
# Kinds of the national list that teach no compulsory stage: named, so the refusal says why.
_NOT_COMPULSORY = ("高级中学", "高中", "幼儿园", "中等职业学校", "中职", "职业高中", "技工学校")
_LEVEL_WORDS = {
    DivisionLevel.CITY: ("市(州)级", "第5–12位为0", "430100000000"),
    DivisionLevel.COUNTY: ("县级", "第7–12位为0", "430181000000"),
    DivisionLevel.TOWNSHIP: ("乡镇级", "第7–9位不全为0、第10–12位为0", "430181108000"),
    DivisionLevel.VILLAGE: ("村(社区)级", "第10–12位不全为0", "430181108201"),
}


@dataclass(frozen=True)
class SetupProblem:
    sheet: str
    row: int
    column: str  # the header, as in the sheet
    value: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.sheet}] 第{self.row}行 [{self.column}] “{self.value}”:{self.reason}"


@dataclass(frozen=True)
class DivisionRow:
    row: int
    code: str
    name: str
    parent: str  # the province's code for a city, the city's for a county ("": none), the county's for a
    # township, the township's for a village


@dataclass(frozen=True)
class SchoolRow:
    row: int
    code: str
    name: str
    kind: SchoolKind
    township: str  # the township's division code


@dataclass(frozen=True)
class Known:
    """A township, village or school the database already holds."""

    name: str
    parent: str  # its county's, township's (a village's, a school's) code
    closed: str | None = None  # why it may not be imported again (closed or merged), in Chinese
    kind: str = ""  # a school's SchoolKind value


@dataclass(frozen=True)
class Existing:
    """What the database holds, by code, for the rows to be checked against."""

    county: tuple[str, str] | None = None  # (code, name) of the first county: a lone county's
    counties: Mapping[str, Known] = field(default_factory=dict)  # every county; parent: its city's code or ""
    cities: Mapping[str, Known] = field(default_factory=dict)  # parent: the province's code
    townships: Mapping[str, Known] = field(default_factory=dict)
    villages: Mapping[str, Known] = field(default_factory=dict)
    schools: Mapping[str, Known] = field(default_factory=dict)

    def all_counties(self) -> Mapping[str, Known]:
        """Every county the database holds (the lone county's when only `county` is given)."""
        if self.counties or self.county is None:
            return self.counties
        return {self.county[0]: Known(self.county[1], "")}


@dataclass
class CheckedRows:
    county: DivisionRow | None = None  # the first county row (a lone county's only one)
    counties: list[DivisionRow] = field(default_factory=list)  # every good county row
    cities: list[DivisionRow] = field(default_factory=list)
    townships: list[DivisionRow] = field(default_factory=list)
    villages: list[DivisionRow] = field(default_factory=list)
    schools: list[SchoolRow] = field(default_factory=list)
    problems: list[SetupProblem] = field(default_factory=list)


def is_example(cells: Mapping[str, str]) -> bool:
    """The template's example row (its cells start with 示例), which the import skips."""
    return any(v.strip().startswith(EXAMPLE_MARK) for v in cells.values())


def parse_school_kind(text: str) -> SchoolKind:
    """A 办学类型 as the national list names it (小学, 初级中学, 九年一贯制学校, …), or ValueError saying why not."""
    text = text.strip()
    for kind in SchoolKind:
        if text in (kind.label, kind.value):
            return kind
    if text in _KIND_ALIASES:
        return _KIND_ALIASES[text]
    if text in _NOT_COMPULSORY:
        raise ValueError(f"{text}不实施义务教育,本系统不登记")
    raise ValueError("应为" + "、".join(k.label for k in SchoolKind))


def school_code_problem(text: str) -> str | None:
    """Why a 学校标识码 is not one: 10 digits."""
    if len(text) == 10 and text.isascii() and text.isdigit():
        return None
    hint = ";Excel 可能去掉了开头的0,请把该列设为文本" if text.isdigit() and len(text) < 10 else ""
    return f"学校标识码应为10位数字{hint}"


def _division(text: str, level: DivisionLevel) -> tuple[DivisionCode | None, str | None]:
    try:
        code = parse_division_code(text)
    except DivisionCodeError as error:
        return None, str(error)
    if code.level is not level:
        words, shape, example = _LEVEL_WORDS[level]
        return None, f"应为{words}行政区划代码({shape}),如 {example}"
    return code, None


def _name(cells: Mapping[str, str], key: str, field_name: str) -> tuple[str, str | None]:
    name = cells.get(key, "").strip()
    if not name:
        return name, "必填"
    return name, length_problem(name, field_name)


class _Sheet:
    """One sheet's problems and the first row of each code, as its rows are checked."""

    def __init__(self, sheet: str, found: CheckedRows) -> None:
        self.sheet, self.found = sheet, found
        self.first_row: dict[str, int] = {}
        self.bad: set[int] = set()

    def problem(self, row: int, key: str, value: str, reason: str) -> None:
        self.found.problems.append(SetupProblem(self.sheet, row, HEADER[self.sheet][key], value, reason))
        self.bad.add(row)

    def division(
        self, row: int, cells: Mapping[str, str], level: DivisionLevel
    ) -> tuple[str, DivisionCode | None]:
        """The row's 行政区划代码 as typed, and parsed: None (its problem recorded) unless a code of this level."""
        text = cells.get("code", "").strip()
        code, reason = _division(text, level)
        if reason:
            self.problem(row, "code", text, reason)
        return text, code

    def name(self, row: int, cells: Mapping[str, str], field_name: str) -> str:
        """The row's 名称, its problem recorded (missing, too long)."""
        name, reason = _name(cells, "name", field_name)
        if reason:
            self.problem(row, "name", name, reason)
        return name

    def repeated(self, row: int, code: str) -> bool:
        if code in self.first_row:
            self.problem(row, "code", code, f"与第{self.first_row[code]}行重复")
            return True
        self.first_row[code] = row
        return False

    def closed(self, row: int, code: str, known: Mapping[str, Known]) -> None:
        if code in known and known[code].closed:
            self.problem(row, "code", code, known[code].closed or "")


def _rows(sheets: Mapping[str, Sequence[SheetRow] | None], sheet: str) -> list[SheetRow]:
    return [(n, cells) for n, cells in sheets.get(sheet) or () if not is_example(cells)]


def check_setup_rows(sheets: Mapping[str, Sequence[SheetRow] | None], existing: Existing) -> CheckedRows:
    """Check the rows of the 县区, 乡镇, 村社区 and 学校 sheets (a sheet may be absent: None or missing) against
    each other and what the database holds; return the rows without problems and every problem."""
    found = CheckedRows()
    city_rows = _rows(sheets, CITY_SHEET)
    if city_rows or existing.cities:  # a city's or province's deployment: several counties, each in its city
        _check_cities(city_rows, existing, found)
        file_cities = {cells.get("code", "").strip() for _, cells in city_rows}
        counties = _check_counties(_rows(sheets, COUNTY_SHEET), existing, file_cities, found)
        county_code = None
    else:
        county_code = _check_county(_rows(sheets, COUNTY_SHEET), existing, found)
        found.counties = [found.county] if found.county else []
        counties = {county_code} if county_code else set()
    file_townships = {
        cells.get("code", "").strip() for _, cells in _rows(sheets, TOWNSHIP_SHEET)
    }  # a village or school may name a township of the workbook, checked on its own sheet
    _check_townships(_rows(sheets, TOWNSHIP_SHEET), existing, county_code, counties, found)
    _check_villages(_rows(sheets, VILLAGE_SHEET), existing, file_townships, found)
    _check_schools(_rows(sheets, SCHOOL_SHEET), existing, file_townships, found)
    return found


def _check_county(rows: list[SheetRow], existing: Existing, found: CheckedRows) -> str | None:
    """Check the county rows (one county per deployment); return the county's code the townships lie in."""
    sheet = _Sheet(COUNTY_SHEET, found)
    county_code = existing.county[0] if existing.county else None
    for number, cells in rows:
        text, code = sheet.division(number, cells, DivisionLevel.COUNTY)
        name = sheet.name(number, cells, "county.name")
        if code is None:
            continue
        if existing.county and code.code != existing.county[0]:
            sheet.problem(
                number,
                "code",
                text,
                f"本系统已设置县区 {existing.county[1]}({existing.county[0]}):一个系统只管理一个县区,"
                "不能导入另一个县区",
            )
            continue
        if sheet.first_row and code.code not in sheet.first_row:
            first = next(iter(sheet.first_row))
            sheet.problem(
                number, "code", text, f"一个系统只管理一个县区:第{sheet.first_row[first]}行已填写 {first}"
            )
            continue
        if sheet.repeated(number, code.code):
            continue
        county_code = county_code or code.code
        if number not in sheet.bad:
            found.county = DivisionRow(number, code.code, name, "")
    return county_code


def _check_cities(rows: list[SheetRow], existing: Existing, found: CheckedRows) -> None:
    """The cities (市州) of a city's or province's deployment; the province follows from the first two digits."""
    sheet = _Sheet(CITY_SHEET, found)
    checked: list[DivisionRow] = []
    for number, cells in rows:
        text, code = sheet.division(number, cells, DivisionLevel.CITY)
        if code is not None and province_name(code.code) is None:
            sheet.problem(number, "code", text, f"前2位 {code.province} 不是任何一个省级行政区的代码")
            code = None
        name = sheet.name(number, cells, "city.name")
        if code is None or sheet.repeated(number, code.code):
            continue
        checked.append(DivisionRow(number, code.code, name, code.province + "0" * 10))
    _same_names(sheet, checked, existing.cities, "市州", "同一省内")
    found.cities = [r for r in checked if r.row not in sheet.bad]


def _check_counties(
    rows: list[SheetRow], existing: Existing, file_cities: set[str], found: CheckedRows
) -> set[str]:
    """The counties of a city's or province's deployment, each inside a city of the workbook or the database
    (its first 4 digits); return every county code the townships may lie in (the workbook's and the database's)."""
    sheet = _Sheet(COUNTY_SHEET, found)
    checked: list[DivisionRow] = []
    known = existing.all_counties()
    for number, cells in rows:
        text, code = sheet.division(number, cells, DivisionLevel.COUNTY)
        name = sheet.name(number, cells, "county.name")
        if code is None or sheet.repeated(number, code.code):
            continue
        city = code.code[:4] + "0" * 8
        if city not in file_cities and city not in existing.cities:
            sheet.problem(
                number,
                "code",
                text,
                f"所属市州 {city} 不在“市州”表中,系统中也没有:县区代码的前4位应为其所属市州代码的前4位",
            )
        checked.append(DivisionRow(number, code.code, name, city))
    _same_names(sheet, checked, known, "县区", "同一市州内")
    found.counties = [r for r in checked if r.row not in sheet.bad]
    found.county = found.counties[0] if found.counties else None
    return set(known) | {r.code for r in checked}


def _check_townships(
    rows: list[SheetRow],
    existing: Existing,
    county_code: str | None,
    counties: set[str],
    found: CheckedRows,
) -> None:
    """A lone county's townships must lie in it (county_code); a city's deployment's in one of its counties."""
    sheet = _Sheet(TOWNSHIP_SHEET, found)
    checked: list[DivisionRow] = []
    for number, cells in rows:
        text, code = sheet.division(number, cells, DivisionLevel.TOWNSHIP)
        if code is not None and not counties:
            sheet.problem(number, "code", text, "尚未设置县区:请在“县区”表中填写本县区")
        elif code is not None and county_code is not None and code.county_code != county_code:
            sheet.problem(number, "code", text, f"不在本县区内:前6位应为 {county_code[:6]}")
        elif code is not None and code.county_code not in counties:
            sheet.problem(
                number,
                "code",
                text,
                f"所属县区 {code.county_code} 不在“县区”表中,系统中也没有:乡镇代码的前6位应为其所属县区代码的前6位",
            )
        name = sheet.name(number, cells, "township.name")
        if code is None or sheet.repeated(number, code.code):
            continue
        sheet.closed(number, code.code, existing.townships)
        checked.append(DivisionRow(number, code.code, name, code.county_code))
    _same_names(sheet, checked, existing.townships, "乡镇", "本县区")
    found.townships = [r for r in checked if r.row not in sheet.bad]


def _parent_problem(township: str, existing: Existing, file_townships: set[str]) -> str | None:
    """Why a new village or a school cannot be in this township (not in the workbook nor the database, or
    closed), or None."""
    known = existing.townships.get(township)
    if known is not None and known.closed:
        return f"所属乡镇 {township}({known.name})已撤并或关闭,请填写现在的乡镇"
    if known is None and township not in file_townships:
        return f"所属乡镇 {township} 不在“乡镇”表中,系统中也没有:请先填写该乡镇"
    return None


def _check_villages(
    rows: list[SheetRow], existing: Existing, file_townships: set[str], found: CheckedRows
) -> None:
    sheet = _Sheet(VILLAGE_SHEET, found)
    checked: list[DivisionRow] = []
    for number, cells in rows:
        text, code = sheet.division(number, cells, DivisionLevel.VILLAGE)
        name = sheet.name(number, cells, "village.name")
        if code is None or sheet.repeated(number, code.code):
            continue
        known = existing.villages.get(code.code)
        # a village already held keeps its township (a township merge moves villages without new codes)
        township = known.parent if known is not None else code.township_code
        if known is None and (why := _parent_problem(township, existing, file_townships)):
            sheet.problem(number, "code", text, why)
        sheet.closed(number, code.code, existing.villages)
        checked.append(DivisionRow(number, code.code, name, township))
    _same_names(sheet, checked, existing.villages, "村(社区)", "同一乡镇内")
    found.villages = [r for r in checked if r.row not in sheet.bad]


def _check_schools(
    rows: list[SheetRow], existing: Existing, file_townships: set[str], found: CheckedRows
) -> None:
    sheet = _Sheet(SCHOOL_SHEET, found)
    checked: list[SchoolRow] = []
    for number, cells in rows:
        text = cells.get("code", "").strip()
        if reason := school_code_problem(text):
            sheet.problem(number, "code", text, reason)
        name, name_reason = _name(cells, "name", "school.name")
        if name_reason:
            sheet.problem(number, "name", name, name_reason)
        kind_text = cells.get("kind", "").strip()
        kind = None
        try:
            kind = parse_school_kind(kind_text) if kind_text else None
        except ValueError as error:
            sheet.problem(number, "kind", kind_text, str(error))
        if not kind_text:
            sheet.problem(number, "kind", kind_text, "必填")
        township_text = cells.get("township", "").strip()
        township, reason = _division(township_text, DivisionLevel.TOWNSHIP)
        if reason:
            sheet.problem(number, "township", township_text, reason)
        elif township is not None and (why := _parent_problem(township.code, existing, file_townships)):
            sheet.problem(number, "township", township_text, why)
        if school_code_problem(text) or sheet.repeated(number, text):
            continue
        sheet.closed(number, text, existing.schools)
        if kind is not None and township is not None:
            checked.append(SchoolRow(number, text, name, kind, township.code))
    _same_names(
        sheet,
        [DivisionRow(s.row, s.code, s.name, s.township) for s in checked],
        existing.schools,
        "学校",
        "同一乡镇内",
    )
    found.schools = [s for s in checked if s.row not in sheet.bad]


def _same_names(
    sheet: _Sheet, rows: Iterable[DivisionRow], known: Mapping[str, Known], what: str, where: str
) -> None:
    """Two open records of one parent may not share a name once the file is applied (renames included)."""
    rows = list(rows)
    in_file = {r.code for r in rows}
    named: dict[tuple[str, str], list[tuple[str, int | None]]] = {}
    for code, k in known.items():
        if code not in in_file and not k.closed:
            named.setdefault((k.parent, k.name), []).append((code, None))
    for r in rows:
        if r.name:
            named.setdefault((r.parent, r.name), []).append((r.code, r.row))
    for r in rows:
        others = [(code, row) for code, row in named.get((r.parent, r.name), []) if code != r.code]
        if others:
            code, row = others[0]
            whose = f"第{row}行的{what} {code}" if row is not None else f"系统中已有的{what} {code}"
            sheet.problem(r.row, "name", r.name, f"{where}与{whose} 重名")
