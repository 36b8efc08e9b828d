"""劝返复学: each out-of-school case's return ladder (rules.ladder), read and moved by its owners. Every write is
checked (permission, scope, the step's owner), audited, and leaves an event on the case's timeline.

CONTRACT (issue 26; helper A implements, the pages call it as written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from xueji.auth import Actor
from xueji.models import Case
from xueji.rules.cases import CloseReason
from xueji.rules.ladder import CountyMeasure, Step, StepState


class LadderError(ValueError):
    """The step cannot be moved as asked; the message says why, in Chinese."""


@dataclass(frozen=True)
class StepView:
    """One step of a case's ladder, as the timeline shows it."""

    id: int
    step: Step
    seq: int
    state: StepState
    owner: str  # who owns it, in words: 学校(教育线) / 乡镇 / 县教育局
    opened_on: date
    due_on: date
    overdue: bool  # open and past its deadline (for a served order: past the time limit it gave)
    ended_on: date | None = None
    ended_by: str | None = None  # the account's name
    reason: str | None = None
    served_on: date | None = None
    served_to: str | None = None
    comply_by: date | None = None
    measure: CountyMeasure | None = None
    detail: str | None = None
    in_school: bool | None = None
    close_reason: CloseReason | None = None
    status_change_id: int | None = None
    notices: tuple[tuple[int, str, str], ...] = ()  # (notice id, kind label, 文号 or "")


@dataclass(frozen=True)
class CaseLadder:
    case_id: int
    steps: tuple[StepView, ...]  # oldest first
    current: StepView | None  # the open step, if any
    attempts: int  # return attempts (劝返) recorded since the school's step opened
    attempts_needed: int  # the setting (XUEJI_LADDER_ATTEMPTS)
    allowed: frozenset[str] = field(default_factory=frozenset)  # what this actor may do now: "hand_up",
    # "skip", "serve", "measure", "return", "follow_up", "request_closure", "decide_closure"


@dataclass(frozen=True)
class LadderRow:
    """One case on the ladder list."""

    case_id: int
    child: str
    school: str
    township: str
    village: str
    category: str  # label
    step: Step
    seq: int
    owner: str
    opened_on: date
    due_on: date
    overdue: bool


def case_ladder(session: Session, *, actor: Actor, case_id: int) -> CaseLadder:
    """The ladder of one case in the actor's scope (CASE_READ)."""
    raise NotImplementedError


def ladder_rows(
    session: Session,
    *,
    actor: Actor,
    step: Step | None = None,
    overdue_only: bool = False,
    mine_only: bool = False,  # only the steps this actor's role owns
    search: str = "",
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[LadderRow], int]:
    """Open steps in scope, overdue first then by deadline, paged in SQL; and how many in all."""
    raise NotImplementedError


def ladder_counts(session: Session, *, actor: Actor) -> dict[Step, tuple[int, int]]:
    """Per step, (open, overdue) in the actor's scope, counted in SQL, for 我的待办 and the robots' digests."""
    raise NotImplementedError


def export_ladder(
    session: Session, *, actor: Actor, step: Step | None = None, overdue_only: bool = False
) -> bytes:
    """The list as xlsx (audited export)."""
    raise NotImplementedError


# ---- writes (each @unit_of_work, audited, with a case event) -------------------------------------------------


def hand_up(session: Session, *, actor: Actor, case_id: int, note: str) -> None:
    """The school's step is done after at least N recorded return attempts: the township's step opens."""
    raise NotImplementedError


def skip_step(session: Session, *, actor: Actor, case_id: int, reason: str) -> None:
    """Pass over the open step (the school's, the township's, a follow-up) with a reason; the next opens."""
    raise NotImplementedError


def serve_order(
    session: Session, *, actor: Actor, case_id: int, served_on: date, served_to: str, comply_by: date
) -> None:
    """The township's written order was served (LADDER_ORDER): needs the order notice generated for this step."""
    raise NotImplementedError


def record_measure(
    session: Session, *, actor: Actor, case_id: int, measure: CountyMeasure, detail: str, on: date
) -> None:
    """The county's measures (LADDER_COUNTY)."""
    raise NotImplementedError


def record_return(session: Session, *, actor: Actor, case_id: int, on: date) -> None:
    """Back in school, recorded by hand: the child's registry record must be 在籍 (linked by ID number when the
    child had none); the first follow-up opens."""
    raise NotImplementedError


def record_follow_up(
    session: Session, *, actor: Actor, case_id: int, on: date, in_school: bool, detail: str
) -> None:
    """A follow-up after the return: still in school (the next follow-up opens), or gone again (the school's step
    opens anew)."""
    raise NotImplementedError


def request_closure(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    reason: CloseReason,
    evidence: str,
    receiving_school: str = "",
) -> None:
    """Ask for 销号; for 已返校就读 every follow-up must be done (or skipped with a reason)."""
    raise NotImplementedError


def decide_closure(session: Session, *, actor: Actor, case_id: int, approve: bool, note: str) -> None:
    """The approver (XUEJI_CLOSURE_APPROVER's role, CLOSURE_APPROVE, in scope) approves (the case closes) or
    refuses with a reason."""
    raise NotImplementedError


def advance(session: Session, *, actor: Actor) -> dict[str, int]:
    """The nightly pass (xueji ladder advance; also run by xueji notify): open the first step of out-of-school
    cases that have none, escalate steps past their deadline. Idempotent; audited in one entry."""
    raise NotImplementedError


# ---- called inside other services' transactions --------------------------------------------------------------


def start_in(session: Session, *, actor: Actor, case: Case) -> None:
    """An out-of-school case opened: its school step opens."""
    raise NotImplementedError


def returned_in(
    session: Session, *, actor: Actor, case: Case, on: date, status_change_id: int | None
) -> None:
    """The registry's 复学/劝返复学 was approved: the return is recorded and the first follow-up opens."""
    raise NotImplementedError


def moved_in(session: Session, *, old_case_id: int, new_case_id: int) -> None:
    """A suspected dropout confirmed: the ladder goes on in the dropout case."""
    raise NotImplementedError
