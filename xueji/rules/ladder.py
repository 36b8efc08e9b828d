"""劝返复学的步骤 (the return ladder, 义务教育法 art. 5, 58): the steps an out-of-school case moves through, who owns
each, its deadline, when it escalates to the next owner, what a skip needs, and when a case may be struck off
(动态销号). Pure functions: no database.

Settings (xueji.config, each with the default here): XUEJI_LADDER_ATTEMPTS, XUEJI_LADDER_SCHOOL_DAYS,
XUEJI_LADDER_TOWNSHIP_DAYS, XUEJI_LADDER_ORDER_DAYS, XUEJI_LADDER_COUNTY_DAYS, XUEJI_LADDER_DAYS (working or
calendar), XUEJI_LADDER_FOLLOW_UPS, XUEJI_CLOSURE_APPROVER, XUEJI_CLOSURE_DAYS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from xueji.rules.cases import CloseReason
from xueji.rules.text_limits import length_problems
from xueji.rules.vocab import Role
from xueji.rules.working_days import WorkCalendar, add_working_days


class Step(StrEnum):
    SCHOOL = "school"  # 1 学校和家庭劝返: the education line, at least N recorded return attempts
    TOWNSHIP = "township"  # 2 乡镇书面限期通知: the written order served on the guardian, with a time limit
    COUNTY = "county"  # 3 县级措施: administrative measures, or a referral to the court / judicial support
    RETURNED = "returned"  # 复学: back in school (the registry's 复学/劝返复学), a record, not a task
    FOLLOW_UP = "follow_up"  # 返校跟踪: is the child still in school, after 1 week, 1 month, at term end …
    CLOSURE = "closure"  # 销号审批: the township's or the county's approval to strike the case off
    READY = "ready"  # 可申请销号: a pseudo-step, never stored: no step open (returned, follow-ups settled)

    @property
    def label(self) -> str:
        return {
            "school": "学校和家庭劝返",
            "township": "乡镇书面限期通知",
            "county": "县级行政措施",
            "returned": "已复学",
            "follow_up": "返校跟踪",
            "closure": "销号审批",
            "ready": "可申请销号",
        }[self.value]


class StepState(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"  # passed over by hand, with the reason
    ESCALATED = "escalated"  # its deadline passed: the next owner's step opened
    REJECTED = "rejected"  # a 销号 request refused, with the reason

    @property
    def label(self) -> str:
        return {
            "open": "进行中",
            "done": "已完成",
            "skipped": "已跳过",
            "escalated": "逾期已升级",
            "rejected": "未批准",
        }[self.value]


class CountyMeasure(StrEnum):
    ADMINISTRATIVE = "administrative"  # 行政措施 (the county's order, 约谈, a fine under art. 58)
    COURT = "court"  # 提请司法支持 / 向法院起诉
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"administrative": "行政措施", "court": "提请司法支持", "other": "其他措施"}[self.value]


class DayKind(StrEnum):
    WORKING = "working"  # deadlines count Chinese working days (rules.working_days)
    CALENDAR = "calendar"

    @property
    def label(self) -> str:
        return {"working": "工作日", "calendar": "自然日"}[self.value]


TERM_END = "term_end"  # a follow-up at the end of the term of the return


@dataclass(frozen=True)
class LadderPolicy:
    """The county's numbers for the ladder (settings; defaults below)."""

    attempts: int = 2  # return attempts the school records before handing the case to the township
    school_days: int = 10  # the school's step lasts this many days
    township_days: int = 10  # the township serves its written order within this many days
    order_days: int = 15  # the time limit the order gives the guardian (calendar days, as printed on it)
    county_days: int = 20  # the county records its measures within this many days
    day_kind: DayKind = DayKind.WORKING  # how school_days, township_days, county_days, closure_days count
    follow_ups: tuple[int | str, ...] = (7, 30, TERM_END)  # calendar days after the return, or TERM_END
    closure_approver: Role = Role.TOWNSHIP_OFFICIAL  # or Role.COUNTY_OFFICER
    closure_days: int = 5  # a 销号 request is decided within this many days


def parse_follow_ups(raw: str) -> tuple[int | str, ...]:
    """'7,30,term_end' → (7, 30, 'term_end'): days after the return, increasing, then optionally the term end."""
    items: list[int | str] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if part == TERM_END:
            items.append(TERM_END)
            continue
        try:
            days = int(part)
        except ValueError as exc:
            raise ValueError(f"“{part}”不是天数,也不是 {TERM_END}") from exc
        if days < 1:
            raise ValueError(f"天数应大于 0:{part}")
        items.append(days)
    days_only = [i for i in items if isinstance(i, int)]
    if days_only != sorted(set(days_only)):
        raise ValueError("天数应从小到大且不重复")
    if TERM_END in items and items[-1] != TERM_END:
        raise ValueError(f"{TERM_END} 应放在最后")
    if not items:
        raise ValueError("至少要有一次返校跟踪")
    return tuple(items)


# ---- who owns each step ----------------------------------------------------------------------------------

# The education line: the school's registrar, the child's teacher; the township official may act on its steps too.
EDUCATION_LINE = frozenset({Role.REGISTRAR, Role.TEACHER, Role.TOWNSHIP_OFFICIAL})
SKIPPABLE = (Step.SCHOOL, Step.TOWNSHIP, Step.FOLLOW_UP)
SKIP_REASON_MIN = 4


def _too_long(fields: dict[str, tuple[str, str | None]]) -> list[str]:
    return [label + problem for label, problem in length_problems(fields)]


def owner_roles(step: Step, policy: LadderPolicy) -> frozenset[Role]:
    """The roles that may act on a step (their scope is checked by the services)."""
    if step is Step.TOWNSHIP:
        return frozenset({Role.TOWNSHIP_OFFICIAL})
    if step is Step.COUNTY:
        return frozenset({Role.COUNTY_OFFICER})
    if step is Step.CLOSURE:
        return frozenset({policy.closure_approver})
    return EDUCATION_LINE


def owner_label(step: Step, policy: LadderPolicy) -> str:
    """Who owns a step, in words."""
    if step is Step.TOWNSHIP:
        return "乡镇"
    if step is Step.COUNTY:
        return "县教育局"
    if step is Step.CLOSURE:
        return "县教育局" if policy.closure_approver is Role.COUNTY_OFFICER else "乡镇"
    return "学校(教育线)"


def owned_steps(role: Role, policy: LadderPolicy) -> tuple[Step, ...]:
    """The open steps a role answers for (its to-do list: 我的待办, the 'mine only' filter)."""
    steps: list[Step] = []
    if role in (Role.REGISTRAR, Role.TEACHER):
        steps += [Step.SCHOOL, Step.FOLLOW_UP, Step.READY]
    if role is Role.TOWNSHIP_OFFICIAL:
        steps.append(Step.TOWNSHIP)
    if role is Role.COUNTY_OFFICER:
        steps.append(Step.COUNTY)
    if role is policy.closure_approver:
        steps.append(Step.CLOSURE)
    return tuple(steps)


# The steps a township official answers for only for children living in the official's township (the child's
# township, not the school's): the written order and the 销号 decision.
OWN_TOWNSHIP_STEPS = (Step.TOWNSHIP, Step.CLOSURE)

# Where each step stands on the ladder (a later step is further along).
POSITION = {
    Step.SCHOOL: 1,
    Step.TOWNSHIP: 2,
    Step.COUNTY: 3,
    Step.RETURNED: 4,
    Step.FOLLOW_UP: 5,
    Step.READY: 6,
    Step.CLOSURE: 7,
}


def next_step(step: Step) -> Step | None:
    """The step a handing-up, an escalation or a skip opens (None: no higher owner)."""
    return {Step.SCHOOL: Step.TOWNSHIP, Step.TOWNSHIP: Step.COUNTY}.get(step)


# ---- deadlines ---------------------------------------------------------------------------------------------


def step_days(step: Step, policy: LadderPolicy) -> int:
    """The days a step is given (counted as policy.day_kind says); follow-ups have their own dates."""
    days = {
        Step.SCHOOL: policy.school_days,
        Step.TOWNSHIP: policy.township_days,
        Step.COUNTY: policy.county_days,
        Step.CLOSURE: policy.closure_days,
    }
    if step not in days:
        raise ValueError(f"{step.label}没有固定期限")
    return days[step]


def add_days(start: date, days: int, kind: DayKind, calendar: WorkCalendar) -> date:
    """start + days, in working days (start does not count) or calendar days."""
    if kind is DayKind.CALENDAR:
        return start + timedelta(days=days)
    return add_working_days(start, days, calendar).due


def step_due(step: Step, opened_on: date, policy: LadderPolicy, calendar: WorkCalendar) -> date:
    """The deadline of a step opened on a day."""
    return add_days(opened_on, step_days(step, policy), policy.day_kind, calendar)


def follow_up_due(
    returned_on: date, number: int, policy: LadderPolicy, *, term_end: date | None, today: date
) -> date | None:
    """The due date of the number-th follow-up (1-based) after a return on returned_on, or None when the policy
    has no such follow-up. Days count from the return (calendar days); term_end is the end of the term of the
    return (unknown: 90 days after the return). Never before the previous follow-up's date; a date already past
    when the follow-up opens becomes today."""
    if not 1 <= number <= len(policy.follow_ups):
        return None
    dates: list[date] = []
    for item in policy.follow_ups[:number]:
        if item == TERM_END:
            day = term_end if term_end is not None else returned_on + timedelta(days=90)
        else:
            day = returned_on + timedelta(days=int(item))
        dates.append(max(day, dates[-1]) if dates else day)
    return max(dates[-1], today)


# ---- escalation and overdue ---------------------------------------------------------------------------------


def is_overdue(
    step: Step, state: StepState, due_on: date, today: date, *, measure: str | None = None
) -> bool:
    """Open and past its deadline (a served order's due date is the time limit it gave); the county's step only
    while no measure is recorded."""
    if state is not StepState.OPEN or due_on >= today:
        return False
    return not (step is Step.COUNTY and measure)


@dataclass(frozen=True)
class Escalation:
    to: Step
    reason: str


def escalation(
    step: Step,
    state: StepState,
    due_on: date,
    today: date,
    *,
    served_on: date | None = None,
    comply_by: date | None = None,
) -> Escalation | None:
    """Whether an open step past its deadline goes up to the next owner: the school's to the township, the
    township's (order not served by its deadline, or served and the time limit passed) to the county. The
    county's, a follow-up and a 销号 request stay open and are listed overdue."""
    if state is not StepState.OPEN:
        return None
    if step is Step.SCHOOL and due_on < today:
        return Escalation(Step.TOWNSHIP, "逾期未完成,已升级至乡镇")
    if step is Step.TOWNSHIP:
        if served_on is None and due_on < today:
            return Escalation(Step.COUNTY, "逾期未送达限期通知,已升级至县教育局")
        if served_on is not None and (comply_by or due_on) < today:
            return Escalation(Step.COUNTY, "限期已过仍未复学,已升级至县教育局")
    return None


# ---- what each move needs ---------------------------------------------------------------------------------


def skip_problems(step: Step, reason: str, *, role: Role, policy: LadderPolicy) -> list[str]:
    """Why this role cannot skip this step with this reason (empty when it can)."""
    problems = []
    if step not in SKIPPABLE:
        problems.append(f"“{step.label}”不能跳过")
    elif role is not Role.COUNTY_OFFICER and role not in owner_roles(step, policy):
        problems.append(f"只有{owner_label(step, policy)}或县教育局可以跳过“{step.label}”")
    if len(reason.strip()) < SKIP_REASON_MIN:
        problems.append(f"跳过须写明原因(至少 {SKIP_REASON_MIN} 个字)")
    problems += _too_long({"原因": ("ladder_step.reason", reason.strip())})
    return problems


def hand_up_problems(attempts: int, policy: LadderPolicy, note: str) -> list[str]:
    """Why the school cannot hand the case to the township yet (empty when it can)."""
    problems = []
    if attempts < policy.attempts:
        problems.append(f"已记录 {attempts} 次劝返,至少需要 {policy.attempts} 次才能提请乡镇")
    if not note.strip():
        problems.append("请写明劝返情况和提请乡镇的理由")
    problems += _too_long({"说明": ("ladder_step.detail", note.strip())})
    return problems


def serve_problems(
    *,
    has_notice: bool,
    served_on: date,
    served_to: str,
    comply_by: date,
    opened_on: date,
    today: date,
    already_served: bool = False,
) -> list[str]:
    """Why the township's order cannot be recorded as served (empty when it can)."""
    problems = []
    if already_served:
        problems.append("限期通知已登记送达")
    if not has_notice:
        problems.append("请先生成本步骤的限期入学/复学通知书,再登记送达")
    if served_on > today:
        problems.append("送达日期不能晚于今天")
    if served_on < opened_on:
        problems.append(f"送达日期不能早于本步骤开始日期 {opened_on:%Y-%m-%d}")
    if not served_to.strip():
        problems.append("请填写送达对象(监护人姓名及关系)")
    if comply_by <= served_on:
        problems.append("限期应晚于送达日期")
    problems += _too_long({"送达对象": ("ladder_step.served_to", served_to.strip())})
    return problems


def default_comply_by(served_on: date, policy: LadderPolicy) -> date:
    """The time limit the page offers: served_on + order_days (calendar days, as printed on the order)."""
    return served_on + timedelta(days=policy.order_days)


FOLLOW_UP_EARLY_DAYS = 2  # a follow-up found in school may be recorded at most this many days before its date


def follow_up_problem(on: date, due_on: date, seq: int, *, in_school: bool) -> str | None:
    """Why a follow-up cannot be recorded in school on this day: too early (before its date minus
    FOLLOW_UP_EARLY_DAYS). A child found out of school again may be recorded any day."""
    earliest = due_on - timedelta(days=FOLLOW_UP_EARLY_DAYS)
    if in_school and on < earliest:
        return (
            f"第 {seq} 次返校跟踪的日期为 {due_on:%Y-%m-%d},最早可在 {earliest:%Y-%m-%d} 登记在校"
            "(儿童再次离校可随时登记)"
        )
    return None


@dataclass(frozen=True)
class FollowUpDone:
    """A follow-up since the latest return: its number, state, and whether the child was found in school."""

    seq: int
    state: StepState
    in_school: bool | None


def follow_ups_remaining(follow_ups: Sequence[FollowUpDone], policy: LadderPolicy) -> list[int]:
    """The follow-ups (numbers) not yet done in school nor skipped, of those the policy plans."""
    settled = {
        f.seq
        for f in follow_ups
        if f.state is StepState.SKIPPED or (f.state is StepState.DONE and f.in_school)
    }
    return [n for n in range(1, len(policy.follow_ups) + 1) if n not in settled]


def closure_problems(
    reason: CloseReason,
    *,
    returned: bool,
    follow_ups: Sequence[FollowUpDone],
    policy: LadderPolicy,
    pending: bool = False,
) -> list[str]:
    """Why 销号 cannot be requested now (empty when it can): one request at a time; 已返校就读 only after the
    return was recorded and every follow-up was done in school or skipped."""
    problems = []
    if pending:
        problems.append("该个案已有销号申请在审批中")
    if reason is CloseReason.RETURNED:
        if not returned:
            problems.append("尚未登记复学:请先登记复学,完成返校跟踪后再申请销号")
        else:
            remaining = follow_ups_remaining(follow_ups, policy)
            if remaining:
                listed = "、".join(f"第 {n} 次" for n in remaining)
                problems.append(f"返校跟踪尚未完成:{listed}(须跟踪确认在校,或写明原因跳过)")
    return problems
