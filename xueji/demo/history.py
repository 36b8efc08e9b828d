"""The demo county's status-change history, so that retention (巩固率) has something to count: the dropped-out
and suspended students' approved requests (last school year or this one), a few junior pupils who dropped out
last spring and were brought back this autumn, and about one pupil in two hundred who moved between the
county's schools this term (only pupils who reported this term, so the lost-student list stays as it was)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlmodel import Session

from xueji.demo.cases import day_between
from xueji.models import School, StatusChange, Student, TermReport
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
        session.execute(insert(StatusChange), rows)
