"""劝返复学的步骤 (the return ladder, 义务教育法 art. 5, 58): the steps an out-of-school case moves through, who owns
each, its deadline, when it escalates to the next owner, what a skip needs, and when a case may be struck off
(动态销号). Pure functions: no database.

Settings (xueji.config, each with the default here): XUEJI_LADDER_ATTEMPTS, XUEJI_LADDER_SCHOOL_DAYS,
XUEJI_LADDER_TOWNSHIP_DAYS, XUEJI_LADDER_ORDER_DAYS, XUEJI_LADDER_COUNTY_DAYS, XUEJI_LADDER_DAYS (working or
calendar), XUEJI_LADDER_FOLLOW_UPS, XUEJI_CLOSURE_APPROVER, XUEJI_CLOSURE_DAYS.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xueji.rules.vocab import Role


class Step(StrEnum):
    SCHOOL = "school"  # 1 学校和家庭劝返: the education line, at least N recorded return attempts
    TOWNSHIP = "township"  # 2 乡镇书面限期通知: the written order served on the guardian, with a time limit
    COUNTY = "county"  # 3 县级措施: administrative measures, or a referral to the court / judicial support
    RETURNED = "returned"  # 复学: back in school (the registry's 复学/劝返复学), a record, not a task
    FOLLOW_UP = "follow_up"  # 返校跟踪: is the child still in school, after 1 week, 1 month, at term end …
    CLOSURE = "closure"  # 销号审批: the township's or the county's approval to strike the case off

    @property
    def label(self) -> str:
        return {
            "school": "学校和家庭劝返",
            "township": "乡镇书面限期通知",
            "county": "县级行政措施",
            "returned": "已复学",
            "follow_up": "返校跟踪",
            "closure": "销号审批",
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
