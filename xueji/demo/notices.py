"""The demo's documents, issued through the notices' service by the demo accounts: the township's 限期复学通知书
for the case the ladder's demo leaves at the township's step past its deadline, the school's 劝返复学告知书 for an
out-of-school case of its own, and the township's 个案档案 of the ordered case (which lists the order)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.auth import Actor
from xueji.demo.ladder import township_overdue_case
from xueji.models import AppUser, Case, Child, LadderStep, Notice
from xueji.rules.cases import CaseCategory, CaseStatus
from xueji.rules.notices import NoticeKind
from xueji.services.cases.notices import issue_notice
from xueji.services.system.accounts import actor_of

if TYPE_CHECKING:
    from xueji.demo.build import DemoContext

OUT_OF_SCHOOL = [c.value for c in CaseCategory if c.out_of_school]


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    return actor_of(user) if user is not None else None


def _open_case(
    session: Session, *, school_id: int | None, township_id: int | None, but: int | None
) -> int | None:
    """An out-of-school case still being persuaded (the school's own, or the township's), other than `but`, with no
    document."""
    query = (
        select(Case.id)
        .join(Child, Case.child_id == Child.id)
        .where(col(Case.category).in_(OUT_OF_SCHOOL))
        .where(col(Case.status).in_((CaseStatus.OPEN.value, CaseStatus.FOLLOWING.value)))
        .where(Case.id != (but or 0), ~col(Case.id).in_(select(Notice.case_id)))
        .order_by(Case.id)
        .limit(1)
    )
    if school_id is not None:
        query = query.where(Child.school_id == school_id)
    if township_id is not None:
        query = query.where(Child.township_id == township_id)
    return session.scalar(query)


def load_notices(session: Session, ctx: DemoContext) -> None:
    """One order, one 告知书, one case file (after the ladder's demo)."""
    township, registrar = _actor(session, "demo_township"), _actor(session, "demo_registrar")
    if township is None or registrar is None:
        return
    ordered = township_overdue_case(session)
    if ordered is not None and session.scalar(
        select(LadderStep.id).where(LadderStep.case_id == ordered, LadderStep.state == "open")
    ):
        issue_notice(session, actor=township, case_id=ordered, kind=NoticeKind.ORDER)
    persuaded = _open_case(session, school_id=registrar.scope_id, township_id=None, but=ordered)
    if persuaded is not None:
        issue_notice(session, actor=registrar, case_id=persuaded, kind=NoticeKind.PERSUASION)
    filed = ordered or _open_case(session, school_id=None, township_id=township.scope_id, but=persuaded)
    if filed is not None:
        issue_notice(session, actor=township, case_id=filed, kind=NoticeKind.CASE_FILE)
