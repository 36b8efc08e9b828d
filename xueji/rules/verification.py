"""适龄儿童核实: what the township must record for each outcome of a verification (and the coordinator for an
assessment), when a task is due and overdue, when the comparison opens or closes a task. Pure: plain values in,
(field, reason) problems and verdicts out. The vocabularies are rules.comparisons' (VerifyOutcome, Standing,
TaskKind, TaskStatus) and rules.home_teaching's assessment conclusions (Conclusion)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from xueji.rules.comparisons import Outcome, Standing, TaskStatus, VerifyOutcome
from xueji.rules.home_teaching import Conclusion

# the most each written field may hold: the whole goes into verification_task.outcome_detail (300)
FIELD_MAX = {"school": 60, "proof": 40, "place": 80, "tried": 120, "situation": 120, "note": 80}
FIELD_LABELS = {
    "visited_on": "核实日期",
    "school": "就读学校",
    "proof": "证明材料",
    "place": "迁往何处",
    "tried": "已采取的查找办法",
    "situation": "失学/辍学情况",
    "note": "备注",
}
# what each outcome needs besides the date (送教上门: the school that teaches is welcome, not required)
REQUIRED: dict[VerifyOutcome, tuple[str, ...]] = {
    VerifyOutcome.OTHER_COUNTY: ("school", "proof"),
    VerifyOutcome.HOME_TEACHING: (),
    VerifyOutcome.MOVED_AWAY: ("place",),
    VerifyOutcome.DECEASED: (),
    VerifyOutcome.NOT_FOUND: ("tried",),
    VerifyOutcome.OUT_OF_SCHOOL: ("situation",),
}
OPTIONAL: dict[VerifyOutcome, tuple[str, ...]] = {
    VerifyOutcome.OTHER_COUNTY: ("note",),
    VerifyOutcome.HOME_TEACHING: ("school", "note"),
    VerifyOutcome.MOVED_AWAY: ("note",),
    VerifyOutcome.DECEASED: ("note",),
    VerifyOutcome.NOT_FOUND: (),
    VerifyOutcome.OUT_OF_SCHOOL: ("note",),
}
PROOFS = ("学籍证明", "在校证明", "学生证", "转学联系函")  # what 在外县就读's proof usually is
ASSESSMENT_OUTCOMES = tuple(Conclusion)  # 已评估: 随班就读 / 特殊教育学校 / 送教上门 / 暂缓
ASSESSMENT_DETAIL_MAX = 200

# The comparison's reasons for closing an open task (verification_task.closed_reason)
FOUND_IN_REGISTRY = "已在学籍中找到"
LEFT_REGISTER = "不在新版户籍名单中"
AGED_OUT = "已超出义务教育年龄"
CONFIRMED_MATCH = "已确认与学籍为同一人"
LEFT_LEDGER = "不在新版名单中"
HOME_TEACHING_OPEN = "已纳入送教上门"

# Where a disabled child of age is already provided for (no 送教上门 assessment): at school, suspended with the
# record kept, taught at home, or no longer the county's child (studying elsewhere, moved, deceased, left).
PROVIDED_FOR = frozenset(
    {
        Standing.IN_SCHOOL,
        Standing.SUSPENDED,
        Standing.HOME_TEACHING,
        Standing.OTHER_COUNTY,
        Standing.MOVED_AWAY,
        Standing.DECEASED,
        Standing.LEFT,
    }
)
DISABLED_GROUP = "disabled"  # rules.cases.CaseCategory.DISABLED, as school_age_child.groups holds it


@dataclass(frozen=True)
class Finding:
    """What an official found when verifying one child: the outcome, the day they checked, and its details."""

    outcome: VerifyOutcome
    visited_on: date | None
    school: str = ""
    proof: str = ""
    place: str = ""
    tried: str = ""
    situation: str = ""
    note: str = ""

    def value(self, field: str) -> str:
        return " ".join(str(getattr(self, field)).split())


def finding_problems(
    finding: Finding, *, today: date, opened_on: date | None = None
) -> list[tuple[str, str]]:
    """Everything wrong with a finding, as (field label, reason): a missing required field, a field too long, a
    check day in the future or before the task was opened."""
    problems: list[tuple[str, str]] = []
    if finding.visited_on is None:
        problems.append((FIELD_LABELS["visited_on"], "请填写核实日期"))
    elif finding.visited_on > today:
        problems.append((FIELD_LABELS["visited_on"], "核实日期不能晚于今天"))
    elif opened_on is not None and finding.visited_on < opened_on:
        problems.append((FIELD_LABELS["visited_on"], f"核实日期不能早于任务下达日期 {opened_on:%Y-%m-%d}"))
    for field in REQUIRED[finding.outcome]:
        if not finding.value(field):
            problems.append((FIELD_LABELS[field], f"“{finding.outcome.label}”须填写{FIELD_LABELS[field]}"))
    for field in (*REQUIRED[finding.outcome], *OPTIONAL[finding.outcome]):
        if len(finding.value(field)) > FIELD_MAX[field]:
            problems.append((FIELD_LABELS[field], f"不能超过 {FIELD_MAX[field]} 字"))
    return problems


def finding_detail(finding: Finding) -> str:
    """The finding as one line for the task (outcome_detail) and the audit: its fields, then the day."""
    fields = (*REQUIRED[finding.outcome], *OPTIONAL[finding.outcome])
    parts = [f"{FIELD_LABELS[f]}:{finding.value(f)}" for f in fields if finding.value(f)]
    day = f"{finding.visited_on:%Y-%m-%d}核实" if finding.visited_on else ""
    return ";".join([*parts, day] if day else parts)[:300]


def with_attempt(previous: str | None, attempt: str, *, limit: int = 300) -> str:
    """暂未找到 again: the newest attempt first, then the earlier ones, cut to the column's length."""
    joined = f"{attempt} | {previous}" if previous else attempt
    return joined[:limit]


def assessment_problems(
    conclusion: Conclusion | None, detail: str, assessed_on: date | None, *, today: date
) -> list[tuple[str, str]]:
    """What is wrong with an assessment task's outcome: the conclusion, who assessed and how (the detail), the
    day (not in the future)."""
    problems: list[tuple[str, str]] = []
    if conclusion is None:
        problems.append(("评估结论", "请选择评估结论"))
    words = " ".join(detail.split())
    if not words:
        problems.append(("评估情况", "请填写评估人员和评估情况"))
    elif len(words) > ASSESSMENT_DETAIL_MAX:
        problems.append(("评估情况", f"不能超过 {ASSESSMENT_DETAIL_MAX} 字"))
    if assessed_on is None:
        problems.append(("评估日期", "请填写评估日期"))
    elif assessed_on > today:
        problems.append(("评估日期", "评估日期不能晚于今天"))
    return problems


# ---- due dates --------------------------------------------------------------------------------------------------


def due_on(opened_on: date, days: int) -> date:
    """The day a task opened on opened_on must be done by (XUEJI_VERIFY_DAYS later)."""
    return opened_on + timedelta(days=days)


def days_overdue(status: str, due: date, today: date) -> int:
    """How many days an open task is past its due day (0 when not overdue, done or closed)."""
    if status != TaskStatus.OPEN.value or due >= today:
        return 0
    return (today - due).days


# ---- what the comparison opens and closes -----------------------------------------------------------------------


def needs_verifying(outcome: str | None) -> bool:
    """A ledger child needs a verification task: of age, household here, no registry record (适龄未入学)."""
    return outcome is not None and Outcome(outcome).needs_verifying


def verify_close_reason(
    *, on_register: bool, outcome: str | None, confirmed_match: bool, of_age: bool
) -> str | None:
    """Why an open verification task closes after a comparison, or None when the child still needs it: past
    school age (born before the window of this school year); gone from the register's new version; found in
    the registry (by a confirmed match, or by ID number)."""
    if not of_age:
        return AGED_OUT
    if not on_register:
        return LEFT_REGISTER
    if outcome is None or needs_verifying(outcome) or outcome == Outcome.PENDING_REVIEW.value:
        return None  # a candidate waiting for review does not explain the child yet
    return CONFIRMED_MATCH if confirmed_match else FOUND_IN_REGISTRY


def needs_assessment(groups: str, standing: str, *, home_teaching_case: bool) -> bool:
    """A ledger child needs a 送教上门 assessment: on the 残联 list (group disabled), not provided for (in school,
    suspended, taught at home, or no longer here), and no open 送教上门 case."""
    disabled = DISABLED_GROUP in {g.strip() for g in groups.split(",")}
    return disabled and Standing(standing) not in PROVIDED_FOR and not home_teaching_case


def assessment_close_reason(*, on_ledger: bool, standing: str | None, home_teaching_case: bool) -> str | None:
    """Why an open assessment task closes after a comparison, or None when it still waits for the coordinator
    (a task left by a 送教上门 verification stays until a 送教上门 case is opened, whatever the list says)."""
    if home_teaching_case:
        return HOME_TEACHING_OPEN
    if not on_ledger or standing is None:
        return LEFT_LEDGER
    found = Standing(standing)
    if found in (Standing.IN_SCHOOL, Standing.SUSPENDED):
        return FOUND_IN_REGISTRY
    if found in PROVIDED_FOR and found is not Standing.HOME_TEACHING:
        return f"已核实:{found.label}"
    return None
