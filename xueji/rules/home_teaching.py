"""送教上门 (home teaching): whether a child's term of home-teaching visits complies with the rule — at least 5
visits a term, at least one in every month, each at least 2 class hours — and how far behind it is. Pure: the
visits, the term and today in; a verdict with its reasons out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache

from xueji.rules.text_limits import length_problems, too_long


@dataclass(frozen=True)
class HomeTeachingPolicy:
    """The rule's numbers (DOMAIN.md), and the calendar months in which no school runs (e.g. February when the
    spring term starts late), which the every-month rule skips."""

    visits_per_term: int = 5
    min_class_hours: float = 2
    skip_months: frozenset[int] = frozenset()


@dataclass(frozen=True)
class VisitHours:
    """One home-teaching visit: its day and class hours (课时)."""

    day: date
    class_hours: float


class ComplianceState(StrEnum):
    COMPLIANT = "compliant"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BEHIND = "behind"

    @property
    def label(self) -> str:
        return {"compliant": "已达标", "on_track": "进度正常", "at_risk": "有风险", "behind": "已落后"}[
            self.value
        ]

    @property
    def light(self) -> str:
        """The traffic light: red behind, amber at risk, green otherwise."""
        return {"compliant": "green", "on_track": "green", "at_risk": "orange", "behind": "red"}[self.value]


@dataclass(frozen=True)
class Compliance:
    state: ComplianceState
    counted: int  # visits of at least the minimum class hours, in the term, from the start of home teaching
    needed: int  # visits still needed to reach the term's number
    months: tuple[tuple[int, int], ...]  # the (year, month)s the every-month rule covers
    missed: tuple[tuple[int, int], ...]  # ended months with no counted visit
    months_left: int  # months of the rule not yet ended (this month included)
    short: int  # visits under the minimum class hours (not counted)
    visited: tuple[tuple[int, int], ...] = ()  # months with a counted visit
    reasons: tuple[str, ...] = field(default=())


def _months(first: date, last: date, skip: frozenset[int]) -> list[tuple[int, int]]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        if month not in skip:
            months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month_ended(year: int, month: int, term_end: date, today: date) -> bool:
    """A month has ended when today is past it, or past the term's last day when the term ends inside it."""
    if (term_end.year, term_end.month) == (year, month):
        return today > term_end
    return (today.year, today.month) > (year, month)


@lru_cache(maxsize=256)
def _calendar(
    first: date, term_end: date, today: date, skip: frozenset[int]
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """The months the rule covers and those of them that have ended (the same for most children of a term)."""
    months = tuple(_months(first, term_end, skip))
    return months, tuple(m for m in months if _month_ended(*m, term_end, today))


def term_compliance(
    visits: Iterable[VisitHours],
    *,
    term_start: date,
    term_end: date,
    today: date,
    policy: HomeTeachingPolicy,
    started: date | None = None,
) -> Compliance:
    """The child's standing for the term. A visit counts when it falls in the term, on or after the day home
    teaching started, and has at least the minimum class hours. Compliant: enough counted visits and no ended
    month without one. Behind: an ended month had none. At risk: the visits still needed exceed the months
    left. Months before home teaching started, and the policy's skipped months, are not required."""
    first = max(term_start, started) if started else term_start
    in_term = [v for v in visits if first <= v.day <= term_end]
    counted = Counter((v.day.year, v.day.month) for v in in_term if v.class_hours >= policy.min_class_hours)
    short = len(in_term) - sum(counted.values())
    return compliance_of(counted, short, first=first, term_end=term_end, today=today, policy=policy)


def compliance_of(
    counted_by_month: Mapping[tuple[int, int], int],
    short: int,
    *,
    first: date,
    term_end: date,
    today: date,
    policy: HomeTeachingPolicy,
) -> Compliance:
    """The verdict from the counted visits per (year, month), between `first` (the later of the term's start
    and the start of home teaching) and the term's end, and the number of visits too short to count — what a
    GROUP BY over the visits gives."""
    months, ended = _calendar(first, term_end, today, policy.skip_months)
    visited = {m for m, n in counted_by_month.items() if n > 0}
    missed = tuple(m for m in ended if m not in visited)
    months_left = len(months) - len(ended)
    total = sum(counted_by_month.values())
    needed = max(0, policy.visits_per_term - total)
    reasons: list[str] = []
    if missed:
        reasons.append("、".join(f"{y}年{m}月" for y, m in missed) + "没有送教")
    if needed:
        reasons.append(f"还差 {needed} 次(本学期至少 {policy.visits_per_term} 次)")
    if short:
        reasons.append(f"{short} 次不足 {policy.min_class_hours:g} 课时,不计入")
    if missed:
        state = ComplianceState.BEHIND
    elif needed > months_left:
        state = ComplianceState.AT_RISK
        reasons.append(f"剩余 {months_left} 个月,少于还需的 {needed} 次")
    elif needed == 0:
        state = ComplianceState.COMPLIANT
    else:
        state = ComplianceState.ON_TRACK
    return Compliance(
        state,
        total,
        needed,
        months,
        missed,
        months_left,
        short,
        tuple(sorted(visited)),
        tuple(reasons),
    )


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


def parse_planned_dates(text: str) -> tuple[date, ...]:
    """Planned visit dates typed as "2026-09-15, 2026-10-13" (either comma), sorted, each once."""
    days = set()
    for part in text.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            days.add(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"“{part}”不是日期,格式应为 2026-09-15,多个日期用逗号分隔") from None
    return tuple(sorted(days))


def due_this_month(compliance: Compliance, today: date) -> bool:
    """A teacher's reminder: this month is one the rule covers and has no counted visit yet."""
    this_month = (today.year, today.month)
    return this_month in compliance.months and this_month not in compliance.visited


# ---- what the records need ------------------------------------------------------------------------------


class Degree(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    PROFOUND = "profound"

    @property
    def label(self) -> str:
        return {"mild": "轻度", "moderate": "中度", "severe": "重度", "profound": "极重度"}[self.value]


class Conclusion(StrEnum):
    REGULAR_CLASS = "regular_class"
    SPECIAL_SCHOOL = "special_school"
    HOME_TEACHING = "home_teaching"
    DEFERRED = "deferred"

    @property
    def label(self) -> str:
        return {
            "regular_class": "随班就读",
            "special_school": "特殊教育学校",
            "home_teaching": "送教上门",
            "deferred": "暂缓",
        }[self.value]


class GoalArea(StrEnum):
    LIFE_SKILLS = "life_skills"
    COMMUNICATION = "communication"
    MOTOR = "motor"
    COGNITION = "cognition"
    SOCIAL = "social"
    ACADEMICS = "academics"

    @property
    def label(self) -> str:
        return {
            "life_skills": "生活自理",
            "communication": "沟通交流",
            "motor": "运动康复",
            "cognition": "认知",
            "social": "社会适应",
            "academics": "文化学习",
        }[self.value]


# One goal, or one goal's progress: the plan's goals and a visit's progress are kept as JSON (goal area → text).
MAX_GOAL_TEXT = 500


@dataclass(frozen=True)
class AssessmentFacts:
    assessed_on: date
    members: str
    disability_type: str
    degree: Degree
    ability: str
    conclusion: Conclusion
    next_review_on: date | None = None


def assessment_problems(
    assessment: AssessmentFacts, *, today: date, disability_types: Iterable[str]
) -> list[tuple[str, str]]:
    """Everything wrong with an assessment record, as (field, reason)."""
    problems: list[tuple[str, str]] = []
    if assessment.assessed_on > today:
        problems.append(("评估日期", "不能晚于今天"))
    if not assessment.members.strip():
        problems.append(("评估人员", "请填写参加评估的人员"))
    if assessment.disability_type not in set(disability_types):
        problems.append(("残疾类型", "请选择残疾类型"))
    if not assessment.ability.strip():
        problems.append(("接受教育能力", "请简要写明接受教育的能力"))
    if assessment.next_review_on is not None and assessment.next_review_on <= assessment.assessed_on:
        problems.append(("下次复评日期", "应晚于评估日期"))
    problems += length_problems(
        {
            "评估人员": ("home_assessment.members", assessment.members.strip()),
            "接受教育能力": ("home_assessment.ability", assessment.ability.strip()),
        }
    )
    return problems


@dataclass(frozen=True)
class PlanFacts:
    started_on: date
    goals: dict[GoalArea, str]
    methods: str
    teacher_ids: tuple[int, ...]
    planned_dates: tuple[date, ...] = ()


def plan_problems(plan: PlanFacts, *, term_start: date, term_end: date) -> list[tuple[str, str]]:
    """Everything wrong with a term's plan (一人一案), as (field, reason): at least one goal and one teacher, the
    start and the planned dates inside the term."""
    problems: list[tuple[str, str]] = []
    if not any(text.strip() for text in plan.goals.values()):
        problems.append(("目标", "至少写一个领域的目标"))
    if not plan.teacher_ids:
        problems.append(("送教教师", "至少安排一名送教教师"))
    if not term_start <= plan.started_on <= term_end:
        problems.append(("开始送教日期", f"应在本学期内({term_start:%Y-%m-%d} 至 {term_end:%Y-%m-%d})"))
    outside = [d for d in plan.planned_dates if not term_start <= d <= term_end]
    if outside:
        problems.append(("计划送教日期", "、".join(f"{d:%m-%d}" for d in outside) + " 不在本学期内"))
    problems += _goal_problems("目标", plan.goals)
    problems += length_problems({"教学方法与措施": ("home_plan.methods", plan.methods.strip())})
    return problems


def _goal_problems(what: str, texts: Mapping[GoalArea, str]) -> list[tuple[str, str]]:
    found = []
    for area, text in texts.items():
        reason = too_long(text.strip(), MAX_GOAL_TEXT)
        if reason:
            found.append((f"{what}·{area.label}", reason))
    return found


@dataclass(frozen=True)
class HomeVisitFacts:
    visit_date: date
    teachers: str
    class_hours: float
    content: str
    response: str = ""
    progress: dict[GoalArea, str] = field(default_factory=dict)
    guardian_signed: bool = False
    next_visit_on: date | None = None


MAX_CLASS_HOURS = 8


def home_visit_problems(visit: HomeVisitFacts, *, today: date, term_start: date) -> list[tuple[str, str]]:
    """Everything wrong with a home-teaching visit, as (field, reason). Fewer class hours than the rule asks
    are allowed (the visit is kept, but not counted)."""
    problems: list[tuple[str, str]] = []
    if visit.visit_date > today:
        problems.append(("送教日期", "不能晚于今天"))
    elif visit.visit_date < term_start:
        problems.append(("送教日期", f"不能早于本学期开学 {term_start:%Y-%m-%d}"))
    if not visit.teachers.strip():
        problems.append(("送教教师", "请填写送教教师"))
    if not 0 < visit.class_hours <= MAX_CLASS_HOURS:
        problems.append(("课时", f"应大于 0、不超过 {MAX_CLASS_HOURS}"))
    if not visit.content.strip():
        problems.append(("送教内容", "请填写本次送教内容"))
    if visit.next_visit_on is not None and visit.next_visit_on <= visit.visit_date:
        problems.append(("下次送教日期", "应晚于本次送教日期"))
    problems += length_problems(
        {
            "送教教师": ("home_teaching_visit.teachers", visit.teachers.strip()),
            "送教内容": ("home_teaching_visit.content", visit.content.strip()),
            "孩子反应": ("home_teaching_visit.response", visit.response.strip()),
        }
    )
    problems += _goal_problems("目标进展", visit.progress)
    return problems


def class_hours_of(minutes: int, class_hour_minutes: int) -> float:
    """Minutes of teaching as class hours (课时), to the half hour below: 90 minutes of 45 are 2 class hours."""
    return int(minutes * 2 / class_hour_minutes) / 2
