"""The county's term calendar: checks of term dates (order, school year, overlaps, public holidays) and the
dates proposed for a new school year, which keep clear of the Spring Festival.

Holidays come in as a callable (day → the holiday's Chinese name, or None on a day that is not one), built by
the service from the administrator's holiday table over chinesecalendar (`holiday_namer`), so these rules stay
pure and a year chinesecalendar does not know still works (it just knows fewer holidays).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

from xueji.rules.setup_rows import SetupProblem, SheetRow, is_example
from xueji.rules.terms import TermDates, school_year_bounds, school_year_name
from xueji.rules.visits import parse_day

HolidayName = Callable[[date], str | None]

TERM_SHEET = "学期"
TERM_NAMES = {1: "第一学期", 2: "第二学期"}
_TERM_ALIASES = {
    "第一学期": 1, "第二学期": 2, "一": 1, "二": 2, "1": 1, "2": 2, "上学期": 1, "下学期": 2,
    "秋季学期": 1, "春季学期": 2,
}  # fmt: skip

# chinesecalendar names its holidays in English; people read them in Chinese.
LIBRARY_HOLIDAYS = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明节",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午节",
    "national_day": "国庆节",
    "mid_autumn_festival": "中秋节",
    "anti_fascist_70th_day": "抗战胜利70周年纪念日",
}
_BY_ENGLISH = {h.value: LIBRARY_HOLIDAYS.get(h.name, h.value) for h in chinese_calendar.Holiday}

# 正月初一 of each year (the lunar calendar, checked against chinesecalendar for the years it covers): where the
# Spring Festival holiday falls when no holiday table says so yet.
SPRING_FESTIVAL = {
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
    2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3), 2031: date(2031, 1, 23),
    2032: date(2032, 2, 11), 2033: date(2033, 1, 31), 2034: date(2034, 2, 19), 2035: date(2035, 2, 8),
    2036: date(2036, 1, 28), 2037: date(2037, 2, 15), 2038: date(2038, 2, 4), 2039: date(2039, 1, 24),
    2040: date(2040, 2, 12), 2041: date(2041, 2, 1), 2042: date(2042, 1, 22), 2043: date(2043, 2, 10),
    2044: date(2044, 1, 30), 2045: date(2045, 2, 17), 2046: date(2046, 2, 6), 2047: date(2047, 1, 26),
    2048: date(2048, 2, 14), 2049: date(2049, 2, 2), 2050: date(2050, 1, 23),
}  # fmt: skip
# The State Council's Spring Festival holiday has run from New Year's Eve (or 初一) to about 初六/初七.
_SPRING_HOLIDAY_BEFORE, _SPRING_HOLIDAY_AFTER = 1, 6


def library_holiday_name(day: date) -> str | None:
    """The public holiday chinesecalendar knows on that day, in Chinese (None on other days, on adjusted
    working days, and in years it has no data for)."""
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return _BY_ENGLISH.get(name, name) if off and name else None


ESTIMATED_SPRING_FESTIVAL = "按农历推算的春节假期"


def library_knows(day: date) -> bool:
    """Whether chinesecalendar has the State Council's arrangements for the day's year."""
    try:
        chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return True


def estimated_spring_festival(day: date) -> str | None:
    """In a year nobody has published yet, the usual Spring Festival holiday around 正月初一 (a term must not
    start in it either); None on other days."""
    new_year = SPRING_FESTIVAL.get(day.year)
    if new_year is None:
        return None
    inside = (
        new_year - timedelta(days=_SPRING_HOLIDAY_BEFORE)
        <= day
        <= new_year + timedelta(days=_SPRING_HOLIDAY_AFTER)
    )
    return ESTIMATED_SPRING_FESTIVAL if inside else None


def holiday_namer(
    table: Mapping[date, tuple[bool, str]],
    library: HolidayName = library_holiday_name,
    knows: Callable[[date], bool] = library_knows,
) -> HolidayName:
    """Holiday names from the administrator's table (day → (is a working day, name)) over the library's: a day
    in the table is a holiday only when marked 放假 (named 节假日 when the name was left blank). In a year neither
    knows (the table has no day of it, the library no data), the Spring Festival is estimated from the lunar
    calendar, so a term is not set to start in it before the State Council publishes the year's holidays."""
    filled = {day.year for day in table}

    def name(day: date) -> str | None:
        if day in table:
            working, text = table[day]
            return None if working else (text.strip() or "节假日")
        if day.year not in filled and not knows(day):
            return estimated_spring_festival(day)
        return library(day)

    return name


def _holiday_words(name: str) -> str:
    return name if name.endswith(("假期", "节假日", "放假")) else f"{name}假期"


def is_school_day(day: date, holiday_name: HolidayName) -> bool:
    """Monday to Friday and not a public holiday (a term does not start or end on a weekend in a proposal)."""
    return day.weekday() < 5 and holiday_name(day) is None


def next_school_day(day: date, holiday_name: HolidayName) -> date:
    while not is_school_day(day, holiday_name):
        day += timedelta(days=1)
    return day


def previous_school_day(day: date, holiday_name: HolidayName) -> date:
    while not is_school_day(day, holiday_name):
        day -= timedelta(days=1)
    return day


def holiday_problem(label: str, day: date, holiday_name: HolidayName) -> str | None:
    """Why a term may not start (label 开学日期) or end (结束日期) on that day: it is a public holiday, named, with
    the school day to take instead."""
    name = holiday_name(day)
    if name is None:
        return None
    if label == "开学日期":
        return (
            f"开学日期 {day:%Y-%m-%d} 是{_holiday_words(name)},请改为节后第一个上课日"
            f"({next_school_day(day, holiday_name):%Y-%m-%d})"
        )
    return (
        f"结束日期 {day:%Y-%m-%d} 是{_holiday_words(name)},请改为节前最后一个上课日"
        f"({previous_school_day(day, holiday_name):%Y-%m-%d})"
    )


def spring_festival_holiday(year: int, holiday_name: HolidayName) -> tuple[date, date] | None:
    """The first and last day of the year's Spring Festival holiday: as the holiday names say where they know
    it, else the usual span around 正月初一; None for a year beyond the lunar table."""
    new_year = SPRING_FESTIVAL.get(year)
    if new_year is None:
        return None
    if holiday_name(new_year) is None:
        return (
            new_year - timedelta(days=_SPRING_HOLIDAY_BEFORE),
            new_year + timedelta(days=_SPRING_HOLIDAY_AFTER),
        )
    first = last = new_year
    while holiday_name(first - timedelta(days=1)) is not None:
        first -= timedelta(days=1)
    while holiday_name(last + timedelta(days=1)) is not None:
        last += timedelta(days=1)
    return first, last


def proposed_terms(
    start_year: int, holiday_name: HolidayName = library_holiday_name, *, start_month: int = 9
) -> tuple[TermDates, TermDates]:
    """Dates to pre-fill for a school year, each a school day (Monday–Friday, no public holiday): the autumn term
    from 1 September to 20 January (or the last school day before the Spring Festival holiday), the spring term
    from the first Monday a full week after the Spring Festival holiday (children travel back, the week of
    registration) to 10 July. The administrator adjusts them to the county's calendar."""
    spring = spring_festival_holiday(start_year + 1, holiday_name)
    autumn_end = date(start_year + 1, 1, 20)
    spring_start = date(start_year + 1, 2, 17)
    if spring is not None:
        autumn_end = min(autumn_end, spring[0] - timedelta(days=1))
        after = spring[1] + timedelta(days=7)
        spring_start = after + timedelta(days=(7 - after.weekday()) % 7)  # the Monday on or after
    first = date(start_year, start_month, 1)
    return (
        TermDates(
            start_year,
            1,
            next_school_day(first, holiday_name),
            previous_school_day(autumn_end, holiday_name),
        ),
        TermDates(
            start_year,
            2,
            next_school_day(spring_start, holiday_name),
            previous_school_day(date(start_year + 1, 7, 10), holiday_name),
        ),
    )


# ---- checks ------------------------------------------------------------------------------------------------


def parse_school_year(text: str) -> int:
    """The start year of a school year written 2026-2027 (also 2026—2027, 2026~2027, with 学年 after it)."""
    cleaned = text.strip().removesuffix("学年").strip()
    for dash in ("—", "–", "~", "～", "至", "/", "－"):
        cleaned = cleaned.replace(dash, "-")
    parts = [p.strip() for p in cleaned.split("-")]
    if len(parts) != 2 or not all(len(p) == 4 and p.isascii() and p.isdigit() for p in parts):
        raise ValueError("学年应写成 2026-2027")
    first, second = int(parts[0]), int(parts[1])
    if second != first + 1:
        raise ValueError("学年应为相连的两年,如 2026-2027")
    if not 2000 <= first <= 2099:
        raise ValueError("学年的年份不在 2000–2099 之间")
    return first


def parse_term_seq(text: str) -> int:
    """1 for 第一学期 (autumn), 2 for 第二学期 (spring)."""
    seq = _TERM_ALIASES.get(text.strip())
    if seq is None:
        raise ValueError("只能填“第一学期”或“第二学期”")
    return seq


def term_label(term: TermDates) -> str:
    return f"{school_year_name(term.school_year_start)}{TERM_NAMES[term.seq]}"


def term_problems(
    term: TermDates, *, others: Sequence[TermDates], holiday_name: HolidayName, start_month: int = 9
) -> list[tuple[str, str]]:
    """Everything wrong with a term's dates among the other terms of the calendar, as (column, reason): start
    before end, inside its school year, after the first term (for a second term) and before the second (for a
    first), overlapping no other term, neither day a public holiday."""
    problems: list[tuple[str, str]] = []
    if term.start >= term.end:
        problems.append(("结束日期", f"结束日期应晚于开学日期({term.start:%Y-%m-%d})"))
    first, last = school_year_bounds(term.school_year_start, start_month=start_month)
    year = school_year_name(term.school_year_start)
    for column, day in (("开学日期", term.start), ("结束日期", term.end)):
        if not first <= day <= last:
            problems.append((column, f"应在{year}内({first:%Y-%m-%d} 至 {last:%Y-%m-%d})"))
    for other in others:
        if (other.school_year_start, other.seq) == (term.school_year_start, term.seq):
            continue
        same_year = other.school_year_start == term.school_year_start
        if same_year and other.seq < term.seq and term.start <= other.end:
            problems.append(("开学日期", f"应晚于{TERM_NAMES[other.seq]}的结束日期({other.end:%Y-%m-%d})"))
        elif same_year and other.seq > term.seq and term.end >= other.start:
            problems.append(("结束日期", f"应早于{TERM_NAMES[other.seq]}的开学日期({other.start:%Y-%m-%d})"))
        elif not same_year and term.start <= other.end and other.start <= term.end:
            problems.append(
                ("开学日期", f"与{term_label(other)}({other.start:%Y-%m-%d} 至 {other.end:%Y-%m-%d})重叠")
            )
    for column, day in (("开学日期", term.start), ("结束日期", term.end)):
        reason = holiday_problem(column, day, holiday_name)
        if reason:
            problems.append((column, reason))
    return problems


@dataclass(frozen=True)
class TermRow:
    row: int
    term: TermDates


def check_term_rows(
    rows: Sequence[SheetRow],
    *,
    existing: Sequence[TermDates],
    holiday_name: HolidayName,
    start_month: int = 9,
) -> tuple[list[TermRow], list[SetupProblem]]:
    """Read and check the 学期 sheet's rows (学年, 学期, 开学日期, 结束日期 under the keys school_year, term, start,
    end) against each other and the terms already set (a row for a term already set replaces its dates)."""
    problems: list[SetupProblem] = []
    parsed: list[TermRow] = []
    seen: dict[tuple[int, int], int] = {}
    for number, cells in rows:
        if is_example(cells):
            continue
        found: list[tuple[str, str, str]] = []
        values: dict[str, object] = {}
        readers: dict[str, tuple[str, Callable[[str], object]]] = {
            "school_year": ("学年", parse_school_year),
            "term": ("学期", parse_term_seq),
            "start": ("开学日期", parse_day),
            "end": ("结束日期", parse_day),
        }
        for key, (column, read) in readers.items():
            text = cells.get(key, "").strip()
            if not text:
                found.append((column, text, "必填"))
                continue
            try:
                values[key] = read(text)
            except ValueError as error:
                found.append((column, text, str(error)))
        if not found:
            term = TermDates(values["school_year"], values["term"], values["start"], values["end"])  # type: ignore[arg-type]
            term_key = (term.school_year_start, term.seq)
            if term_key in seen:
                found.append(
                    ("学期", cells.get("term", ""), f"与第{seen[term_key]}行重复({term_label(term)})")
                )
            else:
                seen[term_key] = number
                parsed.append(TermRow(number, term))
        problems += [SetupProblem(TERM_SHEET, number, c, v, r) for c, v, r in found]
    from_file = {(t.term.school_year_start, t.term.seq) for t in parsed}
    calendar = [t for t in existing if (t.school_year_start, t.seq) not in from_file]
    calendar += [t.term for t in parsed]
    by_number = dict(rows)
    for item in parsed:
        cells = by_number[item.row]
        for column, reason in term_problems(
            item.term, others=calendar, holiday_name=holiday_name, start_month=start_month
        ):
            key = {"开学日期": "start", "结束日期": "end"}[column]
            problems.append(SetupProblem(TERM_SHEET, item.row, column, cells.get(key, ""), reason))
    bad = {p.row for p in problems}
    return [t for t in parsed if t.row not in bad], problems
