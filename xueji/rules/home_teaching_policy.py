"""送教上门 policy: how many visits and class hours a term asks, how often a visit is due (every calendar month, or
every N weeks), which periods of a term are required (a stub at either end only when the term covers enough of
it), and the share of the term owed by a child who starts home teaching mid-term. Pure; read from settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

MAX_EVERY_WEEKS = 8


@dataclass(frozen=True)
class HomeTeachingPolicy:
    """The amounts (source 002: at least 5 visits a term, at least 1 every month, each at least 2 class hours),
    which provinces set for themselves: visits a term; one visit every calendar month (every_weeks 0) or every N
    weeks of the term; the class hours a visit needs to count as a visit; class hours a term (0: not counted);
    the share of a period the term must cover for a stub at either end to be required; months with no school;
    the visits a child can have in one week at most, by which the weeks left tell whether the term can still
    be made (one a week: a teacher who also teaches at school goes out once a week at most)."""

    visits_per_term: int = 5
    min_class_hours: float = 2
    skip_months: frozenset[int] = frozenset()
    every_weeks: int = 0
    hours_per_term: int = 0
    partial_share: float = 0.5
    most_per_week: int = 1

    @property
    def period_name(self) -> str:
        """What one period is called on screen: 月 or 周期."""
        return "月" if self.every_weeks == 0 else "周期"

    @property
    def period_word(self) -> str:
        """A period in a sentence: 月份 or 周期."""
        return "月份" if self.every_weeks == 0 else "周期"

    @property
    def every_text(self) -> str:
        """How often a visit is due, as the interface says it."""
        if self.every_weeks == 0:
            return "每月至少 1 次"
        return "每周至少 1 次" if self.every_weeks == 1 else f"每 {self.every_weeks} 周至少 1 次"

    def describe(self) -> str:
        """The policy in force, in one sentence."""
        hours = f",本学期累计至少 {self.hours_per_term} 课时" if self.hours_per_term else ""
        return (
            f"每生每学期至少 {self.visits_per_term} 次,{self.every_text},每次至少 {self.min_class_hours:g} 课时"
            f"{hours}。不足 {self.min_class_hours:g} 课时的送教计入课时、不计入次数;学期首尾不完整的{self.period_word},"
            f"学期覆盖不少于 {self.partial_share:.0%} 的天数才要求送教;学期中途开始送教的,按送教天数占学期天数"
            "的比例计算应送次数和课时(向上取整)。"
        )


@dataclass(frozen=True, order=True)
class Period:
    """One period of the every-month (or every-N-weeks) rule, clipped to the term and the start of home
    teaching: a visit on a day from first to last counts for it."""

    first: date
    last: date
    label: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True)
class Calendar:
    """A term's periods for a child: those the rule requires, and every one in which school runs at all
    (required or a stub too short to be required), in order."""

    required: tuple[Period, ...]
    open: tuple[Period, ...]


def _month_spans(first: date, term_end: date) -> list[tuple[date, date, int, str]]:
    spans = []
    year, month = first.year, first.month
    while (year, month) <= (term_end.year, term_end.month):
        nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        start = date(year, month, 1)
        spans.append(
            (
                max(start, first),
                min(nxt - timedelta(days=1), term_end),
                (nxt - start).days,
                f"{year}年{month}月",
            )
        )
        year, month = nxt.year, nxt.month
    return spans


def _week_spans(
    first: date, term_start: date, term_end: date, weeks: int
) -> list[tuple[date, date, int, str]]:
    """Blocks of N weeks counted from the term's first day (school weeks), those from `first` on."""
    spans = []
    length = 7 * weeks
    n = (first - term_start).days // length
    while (start := term_start + timedelta(days=n * length)) <= term_end:
        end = start + timedelta(days=length - 1)
        lo, hi = max(start, first), min(end, term_end)
        week = f"第{n * weeks + 1}周" if weeks == 1 else f"第{n * weeks + 1}–{n * weeks + weeks}周"
        spans.append((lo, hi, length, f"{week}({lo.month}月{lo.day}日–{hi.month}月{hi.day}日)"))
        n += 1
    return spans


@lru_cache(maxsize=256)
def term_calendar(first: date, term_start: date, term_end: date, policy: HomeTeachingPolicy) -> Calendar:
    """The periods from `first` (the later of the term's start and the start of home teaching) to the term's
    end. A period is required when the days of it in that span, leaving out the months with no school, are at
    least the policy's share of the whole period (a calendar month's days, or N × 7)."""
    if policy.every_weeks:
        spans = _week_spans(first, term_start, term_end, policy.every_weeks)
    else:
        spans = _month_spans(first, term_end)
    required, open_ = [], []
    for lo, hi, length, label in spans:
        days = sum(
            1 for i in range((hi - lo).days + 1) if (lo + timedelta(days=i)).month not in policy.skip_months
        )
        if days == 0:
            continue
        period = Period(lo, hi, label)
        open_.append(period)
        if days >= policy.partial_share * length:
            required.append(period)
    return Calendar(tuple(required), tuple(open_))


@dataclass(frozen=True)
class Owed:
    """What a child owes this term: all of the policy's amounts for a whole term, or the share taught at home
    (rounded up) for a child who started mid-term."""

    visits: int
    hours: int  # 0 when the policy does not count class hours
    taught_days: int
    term_days: int

    @property
    def whole_term(self) -> bool:
        return self.taught_days >= self.term_days

    def formula(self, policy: HomeTeachingPolicy) -> str:
        """How the amounts owed were worked out, with the child's numbers."""
        hours = f",{self.hours} 课时" if policy.hours_per_term else ""
        if self.whole_term:
            return f"全学期送教:应送教 {self.visits} 次{hours}"
        d, t = self.taught_days, self.term_days
        text = (
            f"本学期 {round(d / 7)} 周送教:应送教 ⌈{policy.visits_per_term} × {d} ÷ {t}⌉ = {self.visits} 次"
        )
        if policy.hours_per_term:
            text += f",⌈{policy.hours_per_term} × {d} ÷ {t}⌉ = {self.hours} 课时"
        return text


def owed(first: date, term_start: date, term_end: date, policy: HomeTeachingPolicy) -> Owed:
    """The visits (and class hours) owed from `first` to the term's end: ⌈amount × days taught ÷ term days⌉,
    both counted in calendar days, the first and the last included."""
    term_days = (term_end - term_start).days + 1
    taught = min(term_days, max(0, (term_end - first).days + 1))
    if taught >= term_days:
        return Owed(policy.visits_per_term, policy.hours_per_term, term_days, term_days)
    return Owed(
        math.ceil(policy.visits_per_term * taught / term_days),
        math.ceil(policy.hours_per_term * taught / term_days),
        taught,
        term_days,
    )


# ---- the settings ---------------------------------------------------------------------------------------


def parse_skip_months(text: str) -> frozenset[int]:
    """A setting such as "2" or "1,2": calendar months with no school, which the every-month rule skips."""
    months = set()
    for part in text.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 12:
            raise ValueError(f"月份应为 1–12 的整数,实际为 {part!r}")
        months.add(int(part))
    return frozenset(months)


def parse_every(text: str) -> int:
    """How often a visit is due: "month" (every calendar month, 0) or "1w", "2w" … (every N weeks, N)."""
    raw = text.strip().lower()
    if raw in ("", "month", "m"):
        return 0
    number = raw.removesuffix("w")
    if raw.endswith("w") and number.isdigit() and 1 <= int(number) <= MAX_EVERY_WEEKS:
        return int(number)
    raise ValueError(f"应为 month(每月)或 1w–{MAX_EVERY_WEEKS}w(每 N 周),实际为 {text!r}")


def parse_share(text: str) -> float:
    """The share of a stub month the term must cover for it to be required: a number above 0, at most 1."""
    try:
        share = float(text)
    except ValueError:
        raise ValueError(f"应为大于 0、不超过 1 的小数(如 0.5),实际为 {text!r}") from None
    if not 0 < share <= 1:
        raise ValueError(f"应为大于 0、不超过 1 的小数(如 0.5),实际为 {text!r}")
    return share
