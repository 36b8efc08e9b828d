"""转学 controls (issue 23): the proofs a transfer in must carry, the grade it places the child in, the window at
the start (and end) of each term, and mid-year entrants into full classes. Pure: plain values in, reasons out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.terms import TermDates, term_on

TRANSFER_IN_KINDS = (ChangeKind.TRANSFER_IN, ChangeKind.TRANSFER_IN_OUTSIDE)
# 转入: proof the child may enrol here (household or property in the catchment) and the sending school's sealed
# registry form (sources 002, 000)
DEFAULT_PROOFS = frozenset({Document.HOUSEHOLD_PROOF, Document.REGISTRY_FORM})


def parse_proofs(text: str) -> frozenset[Document]:
    """The proofs a transfer in needs, from a comma-separated list of document keys (empty: the default)."""
    keys = [k.strip() for k in text.replace(",", ",").split(",") if k.strip()]
    if not keys:
        return DEFAULT_PROOFS
    known = {d.value: d for d in Document}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"未知的材料 {'、'.join(unknown)}(可选:{'、'.join(known)})")
    return frozenset(known[k] for k in keys)


def missing_proofs(
    kind: ChangeKind, documents: Collection[Document], required: frozenset[Document]
) -> list[Document]:
    """The required proofs a request of this kind lacks, in a fixed order (none for kinds that need none)."""
    if kind not in TRANSFER_IN_KINDS:
        return []
    return sorted(required - set(documents), key=lambda d: list(Document).index(d))


def proofs_problem(kind: ChangeKind, missing: list[Document], proofs_later: str) -> str | None:
    """Why a transfer in lacking proofs may not be submitted: it may, when the registrar says why they come later."""
    if not missing or proofs_later.strip():
        return None
    names = "、".join(d.label for d in missing)
    return f"{kind.label}须核验{names};材料暂缺时须填写证明待补说明(缺什么、何时补交)"


# ---- the grade placed in (000: 取消留级; 002: 学籍与转入年级是否一致) ----------------------------------------------

PLACED_KINDS = (*TRANSFER_IN_KINDS, ChangeKind.RESUMPTION, ChangeKind.RETURN)


def is_repeat(kind: ChangeKind, *, record_grade: int | None, placement_grade: int | None) -> bool:
    """Whether this placement is below the grade the child's record holds now: a repeat (留级). A resumption is
    never one: it may go back to the grade at suspension, and no lower (rules.status_changes.request_problems)."""
    if kind not in PLACED_KINDS or kind is ChangeKind.RESUMPTION:
        return False
    return record_grade is not None and placement_grade is not None and placement_grade < record_grade


def placement_problem(
    kind: ChangeKind, *, record_grade: int | None, placement_grade: int | None, repeat_reason: str
) -> str | None:
    """Why a child may not be placed in this grade: never above the record's grade now (no skipping); below it is
    a repeat (留级, abolished in principle) and needs a reason."""
    if kind not in PLACED_KINDS or record_grade is None or placement_grade is None:
        return None
    if placement_grade > record_grade:
        return f"编入{placement_grade}年级高于学籍所在的{record_grade}年级:不能跳级编入"
    repeat = is_repeat(kind, record_grade=record_grade, placement_grade=placement_grade)
    if repeat and not repeat_reason.strip():
        return (
            f"编入{placement_grade}年级低于学籍所在的{record_grade}年级,属留级(原则上取消留级):"
            "确需编入时须填写留级原因"
        )
    return None


REPEAT_PREFIX = "留级:"
PROOFS_LATER_PREFIX = "证明待补:"


def placement_note(*, repeat_reason: str | None, proofs_later: str | None) -> str | None:
    """The change's placement_reason: its parts named (留级 / 证明待补) so that a ledger can tell them apart."""
    parts = [
        prefix + text.strip()
        for prefix, text in ((REPEAT_PREFIX, repeat_reason or ""), (PROOFS_LATER_PREFIX, proofs_later or ""))
        if text.strip()
    ]
    return ";".join(parts) or None


def note_parts(note: str | None) -> dict[str, str]:
    """placement_note read back: {"留级": reason, "证明待补": reason} for the parts present."""
    found = {}
    for part in (note or "").split(";"):
        for prefix in (REPEAT_PREFIX, PROOFS_LATER_PREFIX):
            if part.startswith(prefix):
                found[prefix.rstrip(":")] = part[len(prefix) :]
    return found


# ---- the transfer window (000 §三.1⑶: 转学须于学期结束前的两周和新学期开学的第2周内进行; 开学一周后不收插班生) -------


class WindowPhase(StrEnum):
    TERM_START = "term_start"  # the term's first days: transfers as usual
    TERM_END = "term_end"  # the term's last days: transfers as usual
    HOLIDAY = "holiday"  # between terms: transfers as usual, the child starts at the next term
    MID_TERM = "mid_term"  # outside the window: a reason, and the county decides


@dataclass(frozen=True)
class WindowPolicy:
    start_days: int = 14  # 新学期开学的第2周内 (000)
    end_days: int = 14  # 学期结束前的两周 (000); 0: no window at the term's end
    midyear_class_limit: int = 55  # 插班生 refused into a class this full (002: 大班额学校不再接收插班生, 55)


@dataclass(frozen=True)
class TransferWindow:
    phase: WindowPhase
    term: str | None  # the term's name, e.g. 2026-2027学年第一学期
    term_day: int | None  # 1 on the term's first day; None between terms
    policy: WindowPolicy

    @property
    def outside(self) -> bool:
        """A transfer now needs a reason (特殊情况说明) and the county's approval."""
        return self.phase is WindowPhase.MID_TERM

    @property
    def midyear(self) -> bool:
        """A child transferred in now is a mid-year entrant (插班生): past the term's first days."""
        return self.term_day is not None and self.term_day > self.policy.start_days

    @property
    def notice(self) -> str:
        """What applies to a transfer today, in a sentence for the request form."""
        start = f"开学后 {self.policy.start_days} 天"
        if self.phase is WindowPhase.TERM_START:
            return f"今天是{self.term}开学第 {self.term_day} 天,在转学窗口内({start})。"
        if self.phase is WindowPhase.TERM_END:
            return f"今天在{self.term}结束前 {self.policy.end_days} 天内,在转学窗口内。"
        if self.phase is WindowPhase.HOLIDAY:
            return "今天在假期中,可以办理转学;转入的学生自下学期开学起在新学校就读。"
        return (
            f"已过本学期转学窗口({start},今天是开学第 {self.term_day} 天):"
            "转学须填写特殊情况说明,由县教育局审批。"
        )

    @property
    def entrant_notice(self) -> str:
        """What applies to a transfer in today besides the window: a mid-year entrant and the class limit."""
        if not self.midyear:
            return ""
        return f"转入的学生为插班生,已有 {self.policy.midyear_class_limit} 人的班级不再接收。"


def transfer_window(day: date, terms: Sequence[TermDates], policy: WindowPolicy) -> TransferWindow:
    """Where day falls for transfers: the term's first or last days, a holiday, or mid-term (outside)."""
    term = term_on(day, terms)
    if term is None:
        return TransferWindow(WindowPhase.HOLIDAY, None, None, policy)
    term_day = (day - term.start).days + 1
    if term_day <= policy.start_days:
        phase = WindowPhase.TERM_START
    elif (term.end - day).days < policy.end_days:
        phase = WindowPhase.TERM_END
    else:
        phase = WindowPhase.MID_TERM
    return TransferWindow(phase, term.name, term_day, policy)


def window_problem(kind: ChangeKind, window: TransferWindow, override_reason: str) -> str | None:
    """A transfer outside the window needs a reason (the county then decides)."""
    if kind.is_transfer and window.outside and not override_reason.strip():
        return (
            f"已过本学期转学窗口(开学后 {window.policy.start_days} 天,今天是开学第 {window.term_day} 天):"
            "请填写特殊情况说明,由县教育局审批"
        )
    return None


def midyear_problem(kind: ChangeKind, window: TransferWindow, *, class_name: str, size: int) -> str | None:
    """A mid-year entrant (插班生) into a class already at the limit is refused, naming the class and its size."""
    limit = window.policy.midyear_class_limit
    if kind not in TRANSFER_IN_KINDS or not window.midyear or size < limit:
        return None
    return (
        f"{class_name}已有{size}人,达到插班上限({limit}人):开学 {window.policy.start_days} 天后,"
        "满额的班级不再接收插班生,请编入其他班级"
    )


def placement_hint(kind: ChangeKind, *, record_grade: int | None, placement_grade: int | None) -> str | None:
    """What the form says about the class chosen, before submit: a repeat needs a reason, a higher grade is refused."""
    if kind not in PLACED_KINDS or record_grade is None or placement_grade is None:
        return None
    problem = placement_problem(
        kind, record_grade=record_grade, placement_grade=placement_grade, repeat_reason=""
    )
    if problem is None and placement_grade < record_grade:  # a resumption back to its grade
        return f"编入{placement_grade}年级(学籍现为{record_grade}年级):复学可回到休学时的年级,不能更低"
    return problem
