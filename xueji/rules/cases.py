"""个案: the categories of at-risk children, a case's risk and status, how a case closes, and which cases
a child's registry flags call for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from xueji.rules.text_limits import length_problems


class CaseCategory(StrEnum):
    LEFT_BEHIND = "left_behind"
    MIGRANT = "migrant"
    DISABLED = "disabled"
    HARDSHIP = "hardship"
    STRUGGLING = "struggling"
    ORPHAN = "orphan"
    SUSPECTED_DROPOUT = "suspected_dropout"
    DROPOUT = "dropout"
    HOME_TEACHING = "home_teaching"

    @property
    def label(self) -> str:
        return {
            "left_behind": "留守儿童",
            "migrant": "随迁子女",
            "disabled": "残疾",
            "hardship": "家庭经济困难",
            "struggling": "学困生",
            "orphan": "孤儿/事实无人抚养",
            "suspected_dropout": "疑似辍学",
            "dropout": "辍学",
            "home_teaching": "送教上门",
        }[self.value]

    @property
    def out_of_school(self) -> bool:
        """The child is (or may be) out of school: the case ends when the child is back or gone."""
        return self in (CaseCategory.SUSPECTED_DROPOUT, CaseCategory.DROPOUT)

    @property
    def default_risk(self) -> RiskLevel:
        if self.out_of_school:
            return RiskLevel.HIGH
        if self in (CaseCategory.LEFT_BEHIND, CaseCategory.MIGRANT):
            return RiskLevel.LOW
        return RiskLevel.MEDIUM


class RiskLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        return {"high": "高", "medium": "中", "low": "低"}[self.value]


class CaseStatus(StrEnum):
    OPEN = "open"
    FOLLOWING = "following"
    STABLE = "stable"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": "新建", "following": "跟进中", "stable": "已返校/稳定", "closed": "已销号"}[
            self.value
        ]


class CaseSource(StrEnum):
    MANUAL = "manual"
    REGISTRY = "registry"
    LOST = "lost"
    DROPOUT = "dropout"
    SWEEP = "sweep"
    RESIDENTS = "residents"
    WELFARE = "welfare"
    DISABLED_LIST = "disabled_list"

    @property
    def label(self) -> str:
        return {
            "manual": "人工建档",
            "registry": "学籍标记",
            "lost": "开学未报到(流生)",
            "dropout": "辍学异动",
            "sweep": "入户排查",
            "residents": "户籍比对核实",
            "welfare": "民政名单",
            "disabled_list": "残联名单",
        }[self.value]


class CloseReason(StrEnum):
    RETURNED = "returned"
    ENROLLED_ELSEWHERE = "enrolled_elsewhere"
    REACHED_16 = "reached_16"
    DEATH = "death"
    DUPLICATE = "duplicate"
    NO_LONGER_APPLIES = "no_longer_applies"
    CONFIRMED_DROPOUT = "confirmed_dropout"

    @property
    def label(self) -> str:
        return {
            "returned": "已返校就读",
            "enrolled_elsewhere": "迁出并在外地入学",
            "reached_16": "年满16周岁",
            "death": "死亡",
            "duplicate": "重复建档",
            "no_longer_applies": "情况已消除",
            "confirmed_dropout": "确认辍学,转入辍学台账",
        }[self.value]


# Reasons a person may choose. "Confirmed dropout" is the system's: an approved dropout moves a suspected
# case to the dropout ledger. A child out of school leaves the ledger only back in school or gone for good;
# "no longer applies" (parents back home, the family no longer poor) is for the other categories.
_CHOSEN = (
    CloseReason.RETURNED,
    CloseReason.ENROLLED_ELSEWHERE,
    CloseReason.REACHED_16,
    CloseReason.DEATH,
    CloseReason.DUPLICATE,
)


def closing_reasons(category: CaseCategory) -> tuple[CloseReason, ...]:
    """The reasons a person may give to close a case of this category."""
    return _CHOSEN if category.out_of_school else (*_CHOSEN, CloseReason.NO_LONGER_APPLIES)


@dataclass(frozen=True)
class Closing:
    reason: CloseReason
    evidence: str  # what shows it: the receiving school's confirmation, the death certificate, the visit
    receiving_school: str = ""  # moved and enrolled elsewhere: the school that took the child
    on: date | None = None


def closing_problems(category: CaseCategory, closing: Closing, *, opened_on: date, today: date) -> list[str]:
    """Everything wrong with closing a case of this category this way (empty when it may close)."""
    problems = []
    if closing.reason not in closing_reasons(category):
        problems.append(f"“{category.label}”个案不能以“{closing.reason.label}”销号")
    if not closing.evidence.strip():
        problems.append("销号须注明依据(如接收学校回执、返校报到记录、死亡证明)")
    if closing.reason is CloseReason.ENROLLED_ELSEWHERE and not closing.receiving_school.strip():
        problems.append("迁出并在外地入学须写明接收学校")
    if closing.on is not None and not opened_on <= closing.on <= today:
        problems.append(f"销号日期应在建档日期 {opened_on:%Y-%m-%d} 与今天之间")
    problems += [
        label + problem
        for label, problem in length_problems(
            {
                "销号依据": ("child_case.close_evidence", closing.evidence.strip()),
                "接收学校": ("child_case.receiving_school", closing.receiving_school.strip()),
            }
        )
    ]
    return problems


def flag_categories(
    *, left_behind: bool, migrant: bool, disabled: bool, needs_aid: bool, orphan: bool
) -> set[CaseCategory]:
    """The categories a registry record's flags call for."""
    flags = {
        CaseCategory.LEFT_BEHIND: left_behind,
        CaseCategory.MIGRANT: migrant,
        CaseCategory.DISABLED: disabled,
        CaseCategory.HARDSHIP: needs_aid,
        CaseCategory.ORPHAN: orphan,
    }
    return {category for category, on in flags.items() if on}


FLAG_CATEGORIES = (
    CaseCategory.LEFT_BEHIND,
    CaseCategory.MIGRANT,
    CaseCategory.DISABLED,
    CaseCategory.HARDSHIP,
    CaseCategory.ORPHAN,
)


def to_open(wanted: Iterable[CaseCategory], open_now: Iterable[CaseCategory]) -> list[CaseCategory]:
    """The cases to open for a child: one per wanted category not already open, never two of one category."""
    have = set(open_now)
    return sorted(set(wanted) - have, key=list(CaseCategory).index)


def reopen_problem(category: CaseCategory, open_now: Iterable[CaseCategory], reason: str) -> str | None:
    """Why a closed case cannot be reopened now (None when it can)."""
    if not reason.strip():
        return "重新开启须说明原因"
    if category in set(open_now):
        return f"该儿童已有一个在办的“{category.label}”个案,不能再开启一个"
    return None


# A case moves by hand between the working statuses; it closes only through a closing with a reason.
STATUS_MOVES = {
    CaseStatus.OPEN: (CaseStatus.FOLLOWING, CaseStatus.STABLE),
    CaseStatus.FOLLOWING: (CaseStatus.STABLE,),
    CaseStatus.STABLE: (CaseStatus.FOLLOWING,),
    CaseStatus.CLOSED: (),
}


def status_problem(current: CaseStatus, new: CaseStatus) -> str | None:
    """Why a case cannot move from one status to another by hand (None when it can)."""
    if new is current:
        return None
    if new is CaseStatus.CLOSED:
        return "销号须选择销号原因并注明依据"
    if new not in STATUS_MOVES[current]:
        return f"个案不能从“{current.label}”改为“{new.label}”"
    return None


def age_on(birth: date, day: date) -> int:
    """Full years of age on a day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
