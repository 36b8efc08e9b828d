"""四个一 月报: the figures of a school's monthly report (keys, groups and labels, in order), which month may be
submitted when and by which day (XUEJI_REPORT_DUE_DAY, default 5: a month's report is due by that day of the
next month), the rules of a correction (a new version with a reason of at least 4 characters), how a month's
submission stands, and the county's quarters. Pure functions: no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from xueji.rules.accountability import LedgerMonth
from xueji.rules.cases import CaseCategory
from xueji.rules.home_teaching import ComplianceState
from xueji.rules.ladder import Step
from xueji.rules.visits import VisitKind
from xueji.rules.vocab import GRADE_LABELS

REASON_MIN = 4  # a correction's reason, in characters
TEXT_MAX = 300  # the note and the reason (monthly_report.note / correction_reason)
LADDER_STEPS = (Step.SCHOOL, Step.TOWNSHIP, Step.COUNTY, Step.FOLLOW_UP, Step.CLOSURE)  # the steps with work


@dataclass(frozen=True)
class Figure:
    key: str
    group: str
    label: str
    stock: bool = False  # a count at the month's end (or at submission), not a count of the month's events


def _figures() -> tuple[Figure, ...]:
    enrolled = [Figure("enrolled", "在籍学生(月末)", "在籍学生合计", True)]
    enrolled += [Figure(f"enrolled_g{g}", "在籍学生(月末)", label, True) for g, label in GRADE_LABELS.items()]
    changes = [
        Figure("transfers_in", "学籍变动(本月)", "转入(含外县转入)"),
        Figure("transfers_out", "学籍变动(本月)", "转出"),
        Figure("dropouts", "学籍变动(本月)", "辍学"),
        Figure("resumptions", "学籍变动(本月)", "休学复学"),
        Figure("returns", "学籍变动(本月)", "劝返复学"),
    ]
    suspected = [
        Figure("suspected_opened", "疑似辍学", "本月新增疑似辍学"),
        Figure("suspected_open", "疑似辍学", "月末在册疑似辍学", True),
    ]
    cases = [Figure(f"cases_opened.{c.value}", "个案(本月新建)", c.label) for c in CaseCategory]
    cases += [Figure(f"cases_closed.{c.value}", "个案(本月销号)", c.label) for c in CaseCategory]
    visits = [Figure(f"visits.{k.value}", "家访与劝返(本月)", k.label) for k in VisitKind]
    home = [Figure("home_teaching", "送教上门(本学期,报送时)", "送教上门儿童", True)]
    home += [
        Figure(f"home_teaching.{s.value}", "送教上门(本学期,报送时)", s.label, True) for s in ComplianceState
    ]
    checks = [Figure("registry_checks", "人籍一致核查(本月)", "核查班次")]
    ladder = [Figure(f"ladder.{s.value}", "劝返复学进度(月末在办)", s.label, True) for s in LADDER_STEPS]
    return tuple(enrolled + changes + suspected + cases + visits + home + checks + ladder)


FIGURES = _figures()
KEYS = tuple(f.key for f in FIGURES)
LABELS = {f.key: f.label for f in FIGURES}
GROUPS = tuple(dict.fromkeys(f.group for f in FIGURES))
STOCKS = frozenset(f.key for f in FIGURES if f.stock)
# The figures counted per child (个案, 疑似辍学, 家访, 劝返复学进度), which a child no school follows has too; the
# others (在籍, 学籍变动, 送教上门, 人籍核查) belong to a school.
CHILD_KEYS = tuple(
    k
    for k in KEYS
    if k.startswith(("cases_opened.", "cases_closed.", "visits.", "ladder."))
    or k in ("suspected_opened", "suspected_open")
)
_SHORT = {
    "学籍变动(本月)": "异动",
    "个案(本月新建)": "新建个案",
    "个案(本月销号)": "销号个案",
    "送教上门(本学期,报送时)": "送教",
    "劝返复学进度(月末在办)": "在办",
}
# A column heading per figure for tables with one column per figure: the label, prefixed where it repeats.
HEADINGS = {
    f.key: f.label
    if [g.label for g in FIGURES].count(f.label) == 1
    else f"{_SHORT.get(f.group, f.group)}·{f.label}"
    for f in FIGURES
}


def ordered(figures: Mapping[str, int]) -> dict[str, int]:
    """Every figure key in order, with 0 for a key the counts did not meet."""
    return {key: int(figures.get(key, 0)) for key in KEYS}


def totals(reports: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The sum of each figure over several schools' (or months') reports."""
    summed = dict.fromkeys(KEYS, 0)
    for figures in reports:
        for key in KEYS:
            summed[key] += int(figures.get(key, 0))
    return summed


def over_months(months: Sequence[Mapping[str, int] | None]) -> dict[str, int]:
    """One school's figures over a quarter's ended months, oldest first (None for a month not submitted):
    events summed over the months submitted; counts at a month's end (在籍, 在册, 在办) only from the last month
    given, the quarter's last ended one. When that month was not submitted those counts are left out (absent
    from the result), never taken from an earlier month."""
    summed = totals(m for m in months if m is not None)
    last = months[-1] if months else None
    if last is None:
        return {key: summed[key] for key in KEYS if key not in STOCKS}
    return {key: int(last.get(key, 0)) if key in STOCKS else summed[key] for key in KEYS}


def owes_report(month: LedgerMonth, opened_on: date | None) -> bool:
    """Whether a school owes the month's report: it had opened by the month's last day (opened_on None: no
    sign of the school having opened yet, so it owes nothing)."""
    return opened_on is not None and opened_on <= month.last


def changed_keys(frozen: Mapping[str, int], fresh: Mapping[str, int]) -> list[str]:
    """The figures whose value today differs from the submitted copy's."""
    return [key for key in KEYS if frozen.get(key) != fresh.get(key)]


# ---- months ------------------------------------------------------------------------------------------------


def parse_month(text: str) -> LedgerMonth:
    """Read YYYY-MM (e.g. 2026-10); raise ValueError with the reason in Chinese otherwise."""
    return LedgerMonth.parse(text)


def last_month(today: date) -> LedgerMonth:
    """The month before today's: the one a school reports at the start of a month."""
    return LedgerMonth(today.year - 1, 12) if today.month == 1 else LedgerMonth(today.year, today.month - 1)


def due_on(month: LedgerMonth, due_day: int) -> date:
    """The day a month's report is due: that day of the next month (its last day if the month is shorter)."""
    after = month.next()
    return min(after.first + timedelta(days=due_day - 1), after.last)


class MonthState(StrEnum):
    ENDED = "ended"  # may be submitted
    RUNNING = "running"  # a draft: the figures so far, not yet submittable
    FUTURE = "future"

    @property
    def label(self) -> str:
        return {"ended": "已结束,可报送", "running": "本月未结束,仅为草稿", "future": "尚未开始"}[self.value]


def month_state(month: LedgerMonth, today: date) -> MonthState:
    if month.last < today:
        return MonthState.ENDED
    return MonthState.RUNNING if month.first <= today else MonthState.FUTURE


def submit_problem(month: LedgerMonth, today: date) -> str | None:
    """Why this month's report cannot be submitted today (None when it can)."""
    state = month_state(month, today)
    if state is MonthState.FUTURE:
        return f"{month.label}尚未开始,不能报送"
    if state is MonthState.RUNNING:
        return f"{month.label}尚未结束,月报须在月末之后报送(现为草稿)"
    return None


def note_problem(note: str) -> str | None:
    if len(note.strip()) > TEXT_MAX:
        return f"备注不超过 {TEXT_MAX} 字(现有 {len(note.strip())} 字)"
    return None


def reason_problem(reason: str) -> str | None:
    """Why a correction's reason is not enough (None when it is): required, 4 to 300 characters."""
    text = reason.strip()
    if len(text) < REASON_MIN:
        return f"更正须填写原因,至少 {REASON_MIN} 个字"
    if len(text) > TEXT_MAX:
        return f"更正原因不超过 {TEXT_MAX} 字(现有 {len(text)} 字)"
    return None


class SubmissionState(StrEnum):
    NOT_DUE = "not_due"  # not submitted, the due day not passed
    OVERDUE = "overdue"  # not submitted, past the due day
    ON_TIME = "on_time"
    LATE = "late"  # submitted after the due day

    @property
    def label(self) -> str:
        return {
            "not_due": "未报送(未到期)",
            "overdue": "逾期未报送",
            "on_time": "按时报送",
            "late": "逾期报送",
        }[self.value]

    @property
    def submitted(self) -> bool:
        return self in (SubmissionState.ON_TIME, SubmissionState.LATE)


def submission_state(
    month: LedgerMonth, *, first_submitted: date | None, today: date, due_day: int
) -> SubmissionState:
    """How a school's report for the month stands, from the day its first version was submitted."""
    due = due_on(month, due_day)
    if first_submitted is None:
        return SubmissionState.OVERDUE if today > due else SubmissionState.NOT_DUE
    return SubmissionState.ON_TIME if first_submitted <= due else SubmissionState.LATE


# ---- quarters ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1–4

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read YYYY-Qn (e.g. 2026-Q3); raise ValueError with the reason in Chinese otherwise."""
        year, sep, rest = text.strip().upper().partition("-Q")
        if not sep or len(year) != 4 or not year.isdigit() or rest not in ("1", "2", "3", "4"):
            raise ValueError(f"季度应为 YYYY-Qn(如 2026-Q3),实际为 {text!r}")
        return cls(int(year), int(rest))

    @classmethod
    def of(cls, month: LedgerMonth) -> Quarter:
        return cls(month.year, (month.month - 1) // 3 + 1)

    @property
    def months(self) -> list[LedgerMonth]:
        return [LedgerMonth(self.year, 3 * (self.number - 1) + i) for i in (1, 2, 3)]

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{'一二三四'[self.number - 1]}季度"


def last_quarter(today: date) -> Quarter:
    """The latest quarter whose months have all ended."""
    current = Quarter.of(LedgerMonth.of(today))
    return Quarter(current.year - 1, 4) if current.number == 1 else Quarter(current.year, current.number - 1)


def recent_quarters(today: date, count: int = 4) -> list[Quarter]:
    """This quarter and the ones before it, newest first."""
    found = [Quarter.of(LedgerMonth.of(today))]
    while len(found) < count:
        q = found[-1]
        found.append(Quarter(q.year - 1, 4) if q.number == 1 else Quarter(q.year, q.number - 1))
    return found
