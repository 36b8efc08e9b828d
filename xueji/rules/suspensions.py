"""休学 and 请假 over time (source 000): a suspension lasts at most a year and is extended (续休) in the half month
before it ends; no new suspension after mid-term in principle; leave (请假) has dates, and leave of more than
3 months in a row, or more than 10 weeks of one term, becomes a suspension. Pure: dates in, verdicts out."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from xueji.rules.terms import TermDates


@dataclass(frozen=True)
class SuspensionPolicy:
    # 000: "休学期满后仍不能复学者,应在休学期满前半个月内办理延期休学手续"
    extension_days: int = 15
    # 000: "学生请假超过三个月要求休学,必须由家长提出申请,附医疗单位证明"
    leave_max_months: int = 3
    # 000: "一学期内,请病、事假累计超过十周,跟班学习有困难者" (准予休学)
    leave_max_term_weeks: int = 10
    notice_days: int = 31  # an ending suspension shows up a month before it ends
    leave_warn_days: int = 14  # a leave about to cross its limit shows up two weeks before


def one_year_after(day: date) -> date:
    """The same date a year later (29 February → 28 February)."""
    return months_after(day, 12)


def months_after(day: date, months: int) -> date:
    """The same day of the month so many months later (31 January + 1 → 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def extension_window(end: date, policy: SuspensionPolicy) -> tuple[date, date]:
    """The days on which an extension of a suspension ending on end may be asked: the half month before."""
    return end - timedelta(days=policy.extension_days), end


def extension_open(end: date, today: date, policy: SuspensionPolicy) -> bool:
    first, last = extension_window(end, policy)
    return first <= today <= last


def extension_problems(
    *,
    current_end: date | None,
    new_end: date | None,
    has_certificate: bool,
    override_reason: str | None,
    today: date,
    policy: SuspensionPolicy,
) -> list[str]:
    """Why a 续休 request may not be submitted (empty: it may). Asked in the window before the current end; after
    the end only with a written reason (the child is still ill: a late extension, not a false resumption)."""
    if current_end is None:
        return ["没有找到该学生已批准的休学,不能续休"]
    problems = []
    first, last = extension_window(current_end, policy)
    if today < first:
        problems.append(
            f"休学将于 {current_end:%Y-%m-%d} 期满,续休申请须在 {first:%Y-%m-%d} 至 {last:%Y-%m-%d} 之间提交"
        )
    elif today > last and not (override_reason or "").strip():
        problems.append(
            f"休学已于 {current_end:%Y-%m-%d} 期满,续休申请应在 {first:%Y-%m-%d} 至 {last:%Y-%m-%d} 之间提交;"
            "逾期续休须填写特殊情况说明"
        )
    if not has_certificate:
        problems.append("续休须有医疗证明(请勾选已核验的医疗证明)")
    latest = one_year_after(current_end)
    if new_end is None:
        problems.append("请填写续休截止日期")
    elif not current_end < new_end <= latest:
        problems.append(
            f"续休截止日期须在 {current_end:%Y-%m-%d} 之后、{latest:%Y-%m-%d} 之前(续休一次最长一年)"
        )
    return problems


def mid_term(term: TermDates) -> date:
    """The term's midpoint (期中): the middle day between its first and last day."""
    return term.start + (term.end - term.start) // 2


def late_suspension_problem(
    effective_date: date, term: TermDates | None, override_reason: str | None
) -> str | None:
    """A new suspension starting after the midpoint of its term needs a written reason (000: 期中考试后不再办理
    休学证明, in principle); None when it may go ahead."""
    if term is None or not term.contains(effective_date) or (override_reason or "").strip():
        return None
    middle = mid_term(term)
    if effective_date <= middle:
        return None
    return (
        f"休学开始日期 {effective_date:%Y-%m-%d} 已过{term.name}期中({middle:%Y-%m-%d}),"
        "原则上期中后不再办理休学;确需休学时请填写特殊情况说明"
    )


class SuspensionState(StrEnum):
    ENDING = "ending"  # ends within the notice period, extension not open yet
    EXTENSION_OPEN = "extension_open"  # in the half month before the end
    EXPIRED = "expired"  # ended, neither resumption nor extension asked: a problem for the school
    REQUESTED = "requested"  # a resumption or extension is waiting for approval

    @property
    def label(self) -> str:
        return {
            "ending": "即将期满",
            "extension_open": "可申请续休",
            "expired": "休学已期满未办理",
            "requested": "已申请,待审批",
        }[self.value]


def suspension_state(end: date, today: date, *, requested: bool, policy: SuspensionPolicy) -> SuspensionState:
    """Where an ending suspension stands today."""
    if requested:
        return SuspensionState.REQUESTED
    if today > end:
        return SuspensionState.EXPIRED
    if extension_open(end, today, policy):
        return SuspensionState.EXTENSION_OPEN
    return SuspensionState.ENDING


def suspension_listed(end: date, today: date, policy: SuspensionPolicy) -> bool:
    """An ending suspension shows up within the notice period before its end, and stays once ended."""
    return end <= today + timedelta(days=policy.notice_days)


# 请假 (leave) with dates


def leave_date_problems(start: date | None, until: date | None, term: TermDates) -> list[str]:
    """Why a leave's dates cannot be recorded for this term (empty: they can)."""
    if start is None or until is None:
        return ["请假须填写开始和截止日期"]
    if until < start:
        return ["请假截止日期不能早于开始日期"]
    if until < term.start or start > term.end:
        return [f"请假日期须与{term.name}({term.start:%Y-%m-%d} 至 {term.end:%Y-%m-%d})有重叠"]
    if until > one_year_after(start):
        return ["请假不能超过一年;长期不能到校请办理休学"]
    return []


@dataclass(frozen=True)
class LeaveLimit:
    over_on: date  # the first day on which the leave is over its limit
    why: str  # which limit, in Chinese


def leave_limit(start: date, until: date, term: TermDates, policy: SuspensionPolicy) -> LeaveLimit | None:
    """The first day this leave, as planned, goes over a limit (more than N months in a row, or more than W weeks
    of the term), or None when it never does. Weeks are counted in calendar days (W × 7) within the term."""
    found: list[LeaveLimit] = []
    months = months_after(start, policy.leave_max_months)
    if months <= until:
        found.append(LeaveLimit(months, f"连续请假超过{policy.leave_max_months}个月"))
    weeks = max(start, term.start) + timedelta(days=policy.leave_max_term_weeks * 7)
    if weeks <= min(until, term.end):
        found.append(LeaveLimit(weeks, f"一学期内请假超过{policy.leave_max_term_weeks}周"))
    return min(found, key=lambda f: f.over_on) if found else None


class LeaveLevel(StrEnum):
    OVER = "over"  # past its limit: to be converted into a suspension
    SOON = "soon"  # will be past it within the warning days
    PLANNED = "planned"  # planned past it, later

    @property
    def label(self) -> str:
        return {"over": "已超过,应办理休学", "soon": "即将超过", "planned": "计划超过"}[self.value]


def leave_level(limit: LeaveLimit, today: date, policy: SuspensionPolicy) -> LeaveLevel:
    if limit.over_on <= today:
        return LeaveLevel.OVER
    if limit.over_on <= today + timedelta(days=policy.leave_warn_days):
        return LeaveLevel.SOON
    return LeaveLevel.PLANNED
