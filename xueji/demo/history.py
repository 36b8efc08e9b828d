"""The demo county's status-change history, so that retention (巩固率) has something to count: the dropped-out
and suspended students' approved requests (last school year or this one), a few junior pupils who dropped out
last spring and were brought back this autumn, and about one pupil in two hundred who moved between the
county's schools this term (only pupils who reported this term, so the lost-student list stays as it was).
Each request carries its paper trail (submitted, decided by the county officer, the documents checked), with a
few decided late and a few transfers in whose household proof is still to come, as the monthly ledger
(月度台账) of a real county shows them."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlmodel import Session

from xueji.clock import CHINA_TZ
from xueji.demo.cases import day_between
from xueji.models import AppUser, School, StatusChange, Student, TermReport
from xueji.rules.status_changes import ChangeKind, ChangeState
from xueji.rules.vocab import StudentStatus

if TYPE_CHECKING:
    from xueji.demo.build import DemoContext

REASONS = {
    ChangeKind.DROPOUT: "外出务工,多次劝返未果",
    ChangeKind.SUSPENSION: "因病休学,附医院证明",
    ChangeKind.RETURN: "经劝返,回校复学",
    ChangeKind.TRANSFER_IN: "随父母工作调动转学",
}


def _row(kind: ChangeKind, student_id: int, school_id: int, day: date, **extra: object) -> dict[str, object]:
    return {
        "student_id": student_id,
        "kind": kind.value,
        "state": ChangeState.APPROVED.value,
        "school_id": school_id,
        "effective_date": day,
        "reason": REASONS[kind],
        "due_date": day + timedelta(days=10),
        **extra,
    }


def load_history(session: Session, ctx: DemoContext) -> None:
    rng = ctx.rng
    today = ctx.spec.today
    year_start = date(ctx.school_year, 9, 1)
    last_year = date(ctx.school_year - 1, 9, 1)
    rows: list[dict[str, object]] = []
    students = session.execute(
        select(Student.id, Student.school_id, Student.status).order_by(Student.id)
    ).all()
    reported = set(session.scalars(select(TermReport.student_id)))
    schools = session.scalars(select(School.id).order_by(School.id)).all()
    for sid, school_id, status in students:
        if status == StudentStatus.DROPPED_OUT.value:
            rows.append(
                _row(
                    ChangeKind.DROPOUT,
                    sid,
                    school_id,
                    day_between(rng, last_year, today - timedelta(days=20)),
                )
            )
        elif status == StudentStatus.SUSPENDED.value:
            day = day_between(rng, last_year + timedelta(days=60), today - timedelta(days=20))
            rows.append(
                _row(ChangeKind.SUSPENSION, sid, school_id, day, suspension_until=day + timedelta(days=365))
            )
        elif sid in reported and rng.random() < 0.003:  # dropped out last spring, back this autumn
            left = day_between(rng, date(ctx.school_year, 3, 1), date(ctx.school_year, 6, 30))
            rows.append(_row(ChangeKind.DROPOUT, sid, school_id, left))
            rows.append(
                _row(
                    ChangeKind.RETURN,
                    sid,
                    school_id,
                    day_between(rng, year_start, year_start + timedelta(days=45)),
                )
            )
        elif sid in reported and len(schools) > 1 and rng.random() < 0.005:  # moved here from another school
            came_from = rng.choice([s for s in schools if s != school_id])
            day = day_between(rng, year_start, today - timedelta(days=10))
            rows.append(_row(ChangeKind.TRANSFER_IN, sid, came_from, day, to_school_id=school_id))
    if rows:
        decider = session.scalar(select(AppUser.id).where(AppUser.username == "demo_county"))
        trail = random.Random(ctx.spec.seed + 23)  # its own draws: the history above stays as it was
        session.execute(insert(StatusChange), [_paper_trail(row, trail, decider) for row in rows])


DOCUMENTS = {
    ChangeKind.SUSPENSION: "medical_certificate",
    ChangeKind.TRANSFER_IN: "household_proof,registry_form",
}


def _paper_trail(row: dict[str, object], rng: random.Random, decider: int | None) -> dict[str, object]:
    """Submitted a few days before it took effect, due 7 working days later (about 9 days), decided by the
    county officer within 2 days, or for one request in twelve 3 days late; transfers in with both proofs, or
    for one in four with the household proof to follow."""
    day = row["effective_date"]
    assert isinstance(day, date)
    kind = ChangeKind(str(row["kind"]))
    submitted = day - timedelta(days=5)
    due = submitted + timedelta(days=9)
    decided = due + timedelta(days=3) if rng.random() < 1 / 12 else submitted + timedelta(days=2)
    documents = DOCUMENTS.get(kind, "")
    extra: dict[str, object] = {}
    if kind is ChangeKind.TRANSFER_IN and rng.random() < 0.25:
        documents = "registry_form"
        extra["placement_reason"] = "证明待补:房产证明正在办理"
    return {
        **row,
        **extra,
        "documents": documents,
        "submitted_at": datetime.combine(submitted, time(9), CHINA_TZ).astimezone(UTC),
        "due_date": due,
        "decided_by": decider,
        "decided_at": datetime.combine(decided, time(15), CHINA_TZ).astimezone(UTC),
    }
