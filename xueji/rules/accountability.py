"""本月台帐 and 年度目标考核 (source 002): what counts against a school in a month of the school year. Pure.

Source 002 puts three kinds of registry work into the month's ledger and the year's assessment: a transfer in
submitted without the proofs (记入本月台帐管理,纳入学年度目标考核), a status change left past its 7 working
days, and the oversized-class work (起始年级大班额、插班造成大班额). It also sets the 人籍一致 checks (每学期至少两次)
and the intake deadlines (一年级9月底、七年级10月底). It gives no points or formula for the assessment
(在年度目标考核考评中测算评分 names none), so the assessment here is the counts, not a score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


@dataclass(frozen=True, order=True)
class LedgerMonth:
    """A calendar month of the school year: the unit of the ledger (本月台帐)."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> LedgerMonth:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> LedgerMonth:
        """Read YYYY-MM (e.g. 2026-10); raise ValueError otherwise."""
        year, sep, month = text.strip().partition("-")
        if not sep or len(year) != 4 or not (year.isdigit() and month.isdigit()) or not 1 <= int(month) <= 12:
            raise ValueError(f"月份应为 YYYY-MM(如 2026-10),实际为 {text!r}")
        return cls(int(year), int(month))

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.next().first - timedelta(days=1)

    def next(self) -> LedgerMonth:
        return LedgerMonth(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last

    def cut(self, today: date) -> date:
        """The day the month's ledger is drawn up at: its last day, or today while the month runs."""
        return min(self.last, today)


def months_between(first: date, last: date) -> list[LedgerMonth]:
    """Every month from the one holding `first` to the one holding `last` (a school year: 12 months)."""
    months, month = [], LedgerMonth.of(first)
    while month.first <= last:
        months.append(month)
        month = month.next()
    return months


def months_so_far(first: date, last: date, today: date) -> list[LedgerMonth]:
    """The months of a school year (first..last) that have begun by today: the ones with a ledger."""
    return [m for m in months_between(first, last) if m.first <= today]


class Item(StrEnum):
    """What goes into a school's monthly ledger."""

    OVERDUE_APPROVAL = "overdue_approval"
    MISSING_PROOF = "missing_proof"
    OVERSIZED_CLASS = "oversized_class"
    LATE_REGISTRATION = "late_registration"
    CHECKS_SHORT = "checks_short"
    EXPIRED_SUSPENSION = "expired_suspension"
    OUTSIDE_WINDOW = "outside_window"
    BELOW_GRADE = "below_grade"

    @property
    def label(self) -> str:
        return {
            "overdue_approval": "异动审批超期",
            "missing_proof": "转入缺证明材料",
            "oversized_class": "大班额",
            "late_registration": "新生逾期注册",
            "checks_short": "人籍一致核查不足",
            "expired_suspension": "休学期满未处理",
            "outside_window": "窗口期外转入(有说明)",
            "below_grade": "降级编班(有说明)",
        }[self.value]

    @property
    def counted(self) -> bool:
        """Counted in the ledger's total and the assessment; the explained ones are listed for the record only:
        a late transfer went to the county with its reason, a lower grade was placed with a recorded reason."""
        return self not in (Item.OUTSIDE_WINDOW, Item.BELOW_GRADE)

    @property
    def rule(self) -> str:
        """What the item means, with its source, for the page and the export."""
        return {
            "overdue_approval": "学籍异动须在7个工作日内审批(002):当月审批时已超期,或月底仍未审批且已超期",
            "missing_proof": "转入须有转入学校服务范围内户籍或房产证明、转出学校学籍登记表(002):当月提交而缺材料的转入",
            "oversized_class": "班额不得超过上限(002:起始年级55人以内,不得因插班造成大班额):按当前在读人数,只计本月",
            "late_registration": "一年级新生9月底、七年级新生10月底前完成学籍注册(002):截止后当月新建或升入的学籍",
            "checks_short": "每学期至少两次人籍一致核查(002):学期结束当月,核查次数不足的班级",
            "expired_suspension": "休学最长一年,期满须复学或续休(000):期满仍未办理的休学",
            "outside_window": "开学转学窗口期之后的转入,已说明理由、报县审批(000、002):当月提交",
            "below_grade": "编入低于学籍年级的班级,已记录理由(000,原则上不留级):当月提交",
        }[self.value]


COUNTED_ITEMS = tuple(item for item in Item if item.counted)


def overdue_in_month(*, due: date, decided_on: date | None, month: LedgerMonth, today: date) -> bool:
    """A status change counts in a month's ledger when it was decided in that month after its due date, or when
    at the month's end (today, while the month runs) it was still undecided and its due date had passed. A
    request left undecided for three months is in each of the three months' ledgers; the year counts it once."""
    cut = month.cut(today)
    if decided_on is not None and month.first <= decided_on <= cut:
        return decided_on > due
    still_open = decided_on is None or decided_on > cut
    return still_open and due < cut and month.first <= today


def late_registration(*, added_on: date, deadline: date, live_since: date | None = None) -> bool:
    """An intake record (grade 1 or 7) added after the deadline is a late registration, unless it came with the
    school's first load of its registry into the system (the month of its first record): a county going live in
    November loads its whole registry then, which is no late registration."""
    if added_on <= deadline:
        return False
    return live_since is None or LedgerMonth.of(added_on) != LedgerMonth.of(live_since)


def checks_short(checks: int, required: int) -> bool:
    """A class with fewer checks (on distinct days) than required in a term (each term at least two, 002)."""
    return checks < required


def term_checks_month(*, term_end: date, month: LedgerMonth, today: date) -> bool:
    """A term's missing checks are counted in the month the term ended, once it has ended (after its last day)."""
    return month.contains(term_end) and term_end < today


def total(counts: dict[Item, int]) -> int:
    """The ledger's total for a school: the counted items only."""
    return sum(n for item, n in counts.items() if item.counted)
