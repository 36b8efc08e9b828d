"""家访 and 劝返: what a visit record needs, and when the next visit of a case falls due under the policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from xueji.rules.cases import CaseCategory, RiskLevel
from xueji.rules.text_limits import length_problems


class VisitKind(StrEnum):
    VISIT = "visit"
    RETURN_ATTEMPT = "return_attempt"

    @property
    def label(self) -> str:
        return {"visit": "家访", "return_attempt": "劝返"}[self.value]


class VisitMethod(StrEnum):
    HOME = "home"
    PHONE = "phone"
    VIDEO = "video"
    PARENT_MEETING = "parent_meeting"

    @property
    def label(self) -> str:
        return {"home": "上门", "phone": "电话", "video": "视频", "parent_meeting": "家长会"}[self.value]


class ReturnOutcome(StrEnum):
    RETURNED = "returned"
    AGREED = "agreed"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"

    @property
    def label(self) -> str:
        return {
            "returned": "已返校",
            "agreed": "同意返校",
            "refused": "仍不愿返校",
            "unreachable": "未能联系上",
        }[self.value]


class VisitState(StrEnum):
    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"ok": "正常", "due": "即将到期", "overdue": "已逾期"}[self.value]


@dataclass(frozen=True)
class VisitFacts:
    """A visit as entered, before it is saved."""

    visit_date: date
    kind: VisitKind
    method: VisitMethod
    visitors: str
    met_with: str
    child_situation: str
    family_situation: str
    risk_after: RiskLevel
    next_step: str
    next_visit_on: date | None = None
    outcome: ReturnOutcome | None = None


def visit_problems(visit: VisitFacts, *, today: date, earliest: date) -> list[tuple[str, str]]:
    """Everything wrong with a visit record, as (field, reason); empty when it may be saved. A visit cannot be
    dated in the future, nor before `earliest` (the start of the previous school year)."""
    problems: list[tuple[str, str]] = []
    if visit.visit_date > today:
        problems.append(("家访日期", "不能晚于今天"))
    elif visit.visit_date < earliest:
        problems.append(("家访日期", f"不能早于 {earliest:%Y-%m-%d}"))
    if not visit.visitors.strip():
        problems.append(("家访人", "请填写家访人"))
    if not visit.met_with.strip() and visit.method is not VisitMethod.PARENT_MEETING:
        problems.append(("见到的人", "请填写见到或联系上的人(如母亲、祖父)"))
    if not visit.child_situation.strip():
        problems.append(("孩子情况", "请简要填写孩子的情况"))
    if visit.kind is VisitKind.RETURN_ATTEMPT and visit.outcome is None:
        problems.append(("劝返结果", "劝返须选择结果"))
    if visit.kind is VisitKind.VISIT and visit.outcome is not None:
        problems.append(("劝返结果", "只有劝返记录填写劝返结果"))
    if visit.next_visit_on is not None and visit.next_visit_on <= visit.visit_date:
        problems.append(("下次家访日期", "应晚于本次家访日期"))
    problems += length_problems(
        {
            "家访人": ("home_visit.visitors", visit.visitors.strip()),
            "见到的人": ("home_visit.met_with", visit.met_with.strip()),
            "孩子情况": ("home_visit.child_situation", visit.child_situation.strip()),
            "家庭情况": ("home_visit.family_situation", visit.family_situation.strip()),
            "下一步": ("home_visit.next_step", visit.next_step.strip()),
        }
    )
    return problems


# How often an open case must be visited, in days (常访、多访: the families of special students often).
DEFAULT_VISIT_DAYS: Mapping[CaseCategory, int] = {
    CaseCategory.SUSPECTED_DROPOUT: 14,
    CaseCategory.DROPOUT: 14,
    CaseCategory.LEFT_BEHIND: 30,
    CaseCategory.ORPHAN: 30,
    CaseCategory.DISABLED: 30,
    CaseCategory.HOME_TEACHING: 30,
    CaseCategory.HARDSHIP: 60,
    CaseCategory.MIGRANT: 60,
    CaseCategory.STRUGGLING: 60,
}


@dataclass(frozen=True)
class VisitPolicy:
    days: Mapping[CaseCategory, int]
    warn_days: int = 7  # a visit falling due within this many days is shown as due

    def interval(self, category: CaseCategory) -> int:
        return self.days[category]


def parse_visit_days(text: str) -> dict[CaseCategory, int]:
    """The policy's days from "suspected_dropout=14,left_behind=30" over the defaults; ValueError if wrong."""
    days = dict(DEFAULT_VISIT_DAYS)
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        try:
            category = CaseCategory(key.strip())
        except ValueError:
            raise ValueError(f"没有“{key.strip()}”这个个案类别") from None
        if not value.strip().isdigit() or not 1 <= int(value) <= 366:
            raise ValueError(f"{key.strip()} 的家访间隔应为 1–366 天,实际为 {value.strip()!r}")
        days[category] = int(value)
    return days


def visit_due(*, opened_on: date, last_visit: date | None, interval_days: int) -> date:
    """The day by which an open case needs its next visit: the interval after the last visit made since the
    case opened, or after the opening itself."""
    base = last_visit if last_visit is not None and last_visit > opened_on else opened_on
    return base + timedelta(days=interval_days)


def visit_state(due: date, *, today: date, warn_days: int) -> VisitState:
    """Overdue after the due day; due from `warn_days` before it."""
    if due < today:
        return VisitState.OVERDUE
    if due <= today + timedelta(days=warn_days):
        return VisitState.DUE
    return VisitState.OK


def parse_day(text: str) -> date:
    """A date as people write it in a sheet: 2026-11-20, 2026/11/20, 2026.11.20 or 20261120."""
    cleaned = text.strip().replace("/", "-").replace(".", "-")
    if cleaned.isdigit() and len(cleaned) == 8:
        cleaned = f"{cleaned[:4]}-{cleaned[4:6]}-{cleaned[6:]}"
    parts = cleaned.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError("日期应写成 2026-11-20 或 20261120")
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise ValueError("不是有效的日期") from None
