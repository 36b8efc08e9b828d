"""送教上门 (home teaching): whether a child's term of home-teaching visits complies with the policy in force
(source 002: at least 5 visits a term, at least one every month, each at least 2 class hours; the amounts are
settings, rules.home_teaching_policy) and how far behind it is. Pure: the visits, the term and today in; a
verdict with its reasons out."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from xueji.rules.home_teaching_policy import HomeTeachingPolicy, Owed, Period, owed, term_calendar
from xueji.rules.text_limits import length_problems, too_long


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
    NOT_COMPLIANT = "not_compliant"

    @property
    def label(self) -> str:
        return {
            "compliant": "已达标",
            "on_track": "进度正常",
            "at_risk": "有风险",
            "behind": "已落后",
            "not_compliant": "未达标",
        }[self.value]

    @property
    def light(self) -> str:
        """The traffic light: red behind or not compliant, amber at risk, green otherwise."""
        return {
            "compliant": "green",
            "on_track": "green",
            "at_risk": "orange",
            "behind": "red",
            "not_compliant": "red",
        }[self.value]

    @property
    def needs_follow_up(self) -> bool:
        """Whether the child belongs on a list of children to follow up (red or amber)."""
        return self.light != "green"


@dataclass(frozen=True)
class Compliance:
    state: ComplianceState
    counted: int  # visits of at least the minimum class hours, in the term, from the start of home teaching
    needed: int  # visits still needed to reach what the child owes this term
    months: tuple[Period, ...]  # the periods (months, or N-week blocks) the every-period rule requires
    missed: tuple[Period, ...]  # required periods that have ended with no counted visit
    months_left: int  # periods not yet ended in which a visit can still be made (a stub included)
    short: int  # visits under the minimum class hours (their hours count, the visit does not)
    visited: tuple[Period, ...] = ()  # required periods with a counted visit
    reasons: tuple[str, ...] = field(default=())
    owed: Owed = Owed(5, 0, 1, 1)  # what the child owes this term (the share taught at home)
    hours: float = 0  # class hours of every visit in the term, short ones included
    hours_needed: float = 0  # class hours still needed (0 when the policy does not count them)
    ended: bool = False  # the term is over: the verdict is final
    hopeless: bool = False  # no visit still to come can make the child compliant this term
    weeks_left: int = 0  # school weeks from today (or the start) to the term's end, a part week counted

    @property
    def outlook(self) -> str:
        """Whether the child can still be compliant this term, as the board says it."""
        if self.state is ComplianceState.COMPLIANT:
            return "已达标"
        if self.ended:
            return "学期已结束,未达标"
        return "本学期已无法达标" if self.hopeless else "仍可达标"

    @property
    def out_of_reach(self) -> str:
        """Why the child can no longer be compliant this term ("" while they can): the board's words."""
        return self.reasons[-1] if self.hopeless else ""


def term_compliance(
    visits: Iterable[VisitHours],
    *,
    term_start: date,
    term_end: date,
    today: date,
    policy: HomeTeachingPolicy,
    started: date | None = None,
) -> Compliance:
    """The child's standing for the term from the visits: a visit counts when it falls in the term, on or after
    the day home teaching started; it counts as a visit with at least the minimum class hours, and its hours
    count whatever they are."""
    first = max(term_start, started) if started else term_start
    in_term = [v for v in visits if first <= v.day <= term_end]
    counted: dict[date, int] = {}
    for v in in_term:
        if v.class_hours >= policy.min_class_hours:
            counted[v.day] = counted.get(v.day, 0) + 1
    return compliance_of(
        counted,
        short=len(in_term) - sum(counted.values()),
        hours=sum(v.class_hours for v in in_term),
        term_start=term_start,
        term_end=term_end,
        today=today,
        policy=policy,
        started=started,
    )


def compliance_of(
    counted_by_day: Mapping[date, int],
    *,
    short: int,
    hours: float,
    term_start: date,
    term_end: date,
    today: date,
    policy: HomeTeachingPolicy,
    started: date | None = None,
) -> Compliance:
    """The verdict from the counted visits per day (from the start of home teaching to the term's end), the
    number of visits too short to count and the class hours of all of them — what a GROUP BY gives.

    Owed: the policy's amounts, or for a child who started mid-term ⌈amount × days taught ÷ term days⌉.
    Required periods: every month (or N weeks) from the start, a stub at either end only when covered for at
    least the policy's share. Compliant: the visits and hours owed, and a counted visit in every ended required
    period. After the term anything short is 未达标 (not compliant). During the term: 已落后 (behind) when an
    ended required period had no visit or no visit still to come can make up the shortfall; 有风险 (at risk)
    when the visits still needed exceed the periods left, or the hours still needed exceed the periods left at
    the term's pace of hours; else 进度正常 (on track)."""
    first = max(term_start, started) if started else term_start
    calendar = term_calendar(first, term_start, term_end, policy)
    due = owed(first, term_start, term_end, policy)
    visited = tuple(p for p in calendar.required if any(n > 0 and d in p for d, n in counted_by_day.items()))
    missed = tuple(p for p in calendar.required if p.last < today and p not in visited)
    months_left = sum(p.last >= today for p in calendar.open)
    total = sum(counted_by_day.values())
    needed = max(0, due.visits - total)
    hours_needed = max(0.0, due.hours - hours) if policy.hours_per_term else 0.0
    ended = today > term_end
    weeks = school_weeks_left(max(today, first), term_end, policy.skip_months)
    too_late = out_of_reach(needed, hours_needed, weeks, policy)
    hopeless = not ended and bool(missed or too_late)
    pace = due.hours / max(1, len(calendar.open))  # class hours a period at the term's pace
    reasons: list[str] = []
    if missed:
        reasons.append("、".join(p.label for p in missed) + "没有送教")
    if needed:
        reasons.append(f"还差 {needed} 次(本学期应送教 {due.visits} 次)")
    if hours_needed:
        reasons.append(f"还差 {hours_needed:g} 课时(本学期应送教 {due.hours} 课时)")
    if short:
        reasons.append(f"{short} 次不足 {policy.min_class_hours:g} 课时,只计课时、不计次数")
    if not (needed or hours_needed or missed):
        state = ComplianceState.COMPLIANT
    elif ended:
        state = ComplianceState.NOT_COMPLIANT
    elif hopeless:
        state = ComplianceState.BEHIND
        reasons.append(
            f"本学期已无法达标:已结束的{policy.period_word}补不上(如当时确有送教而未登记,请补登)"
            if missed
            else too_late
        )
    elif needed > months_left or hours_needed > months_left * pace:
        state = ComplianceState.AT_RISK
        if needed > months_left:
            reasons.append(f"剩余 {months_left} 个{policy.period_name},少于还需的 {needed} 次")
        else:
            reasons.append(
                f"剩余 {months_left} 个{policy.period_name},每个{policy.period_name}需超过 {pace:g} 课时"
            )
    else:
        state = ComplianceState.ON_TRACK
    return Compliance(
        state,
        total,
        needed,
        calendar.required,
        missed,
        months_left,
        short,
        visited,
        tuple(reasons),
        due,
        hours,
        hours_needed,
        ended,
        hopeless,
        weeks,
    )


def school_weeks_left(day: date, term_end: date, skip_months: frozenset[int] = frozenset()) -> int:
    """The weeks from `day` (included) to the term's last day in which a visit can still be made: the days
    outside the months with no school, in weeks of 7, a part week counted as one. 0 once the term is over."""
    days = sum(
        1 for i in range((term_end - day).days + 1) if (day + timedelta(days=i)).month not in skip_months
    )
    return math.ceil(days / 7)


def out_of_reach(needed: int, hours_needed: float, weeks_left: int, policy: HomeTeachingPolicy) -> str:
    """Why the term can no longer be made ("" while it can): the visits still needed are more than the weeks
    left allow at the policy's most visits a week, or the class hours still needed more than those visits can
    give at the most class hours one visit may record (MAX_CLASS_HOURS)."""
    possible = weeks_left * policy.most_per_week
    if needed > possible:
        return f"本学期已无法达标:剩余 {weeks_left} 周,还需 {needed} 次"
    if hours_needed > possible * MAX_CLASS_HOURS:
        return f"本学期已无法达标:剩余 {weeks_left} 周,还需 {hours_needed:g} 课时"
    return ""


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
    """A teacher's reminder: the period today falls in is one the rule requires and has no counted visit yet."""
    return any(today in p for p in compliance.months) and not any(today in p for p in compliance.visited)


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
