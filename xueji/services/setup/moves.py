"""The records a merge moved (RecordMove): written by the merges of schools, villages and townships, read back by
the student's record page, and the retired village codes an import follows to the village that took them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from xueji.auth import Actor
from xueji.clock import now
from xueji.models import RecordMove, School, SchoolClass, Village
from xueji.rules.class_code import parse_class_code


class MoveKind(StrEnum):
    SCHOOL_MERGE = "school_merge"
    VILLAGE_MERGE = "village_merge"
    TOWNSHIP_MERGE = "township_merge"

    @property
    def label(self) -> str:
        return {"school_merge": "学校撤并", "village_merge": "村(社区)撤并", "township_merge": "乡镇撤并"}[
            self.value
        ]


def write_moves(
    session: Session,
    *,
    actor: Actor,
    kind: MoveKind,
    moved_on: date,
    reason: str,
    rows: Iterable[dict[str, Any]],
) -> int:
    """One RecordMove per row (its subject and its from/to columns), in one statement; returns how many."""
    common = {
        "kind": kind.value,
        "moved_on": moved_on,
        "by_user_id": actor.user_id,
        "reason": reason,
        "recorded_at": now(),
    }
    columns = ("student_id", "class_id", "case_id", "school_id", "village_id") + tuple(
        f"{side}_{what}_id" for what in ("school", "class", "village", "township") for side in ("from", "to")
    )
    values = [common | dict.fromkeys(columns) | row for row in rows]
    if values:
        session.execute(insert(RecordMove), values)
    return len(values)


@dataclass(frozen=True)
class MoveLine:
    """One move of a student's record, as the record page says it."""

    moved_on: date
    kind: str
    text: str
    reason: str


def _class_name(code: str | None) -> str:
    return parse_class_code(code).name if code else ""


def student_moves(session: Session, student_ids: Sequence[int]) -> list[MoveLine]:
    """What merges did to these records (a student and the duplicates merged into it), oldest first: e.g.
    "2027-08-31 因古港镇梅田小学撤并,学籍由该校转入古港镇完全小学"."""
    if not student_ids:
        return []
    from_school, to_school = aliased(School), aliased(School)
    from_village, to_village = aliased(Village), aliased(Village)
    to_class = aliased(SchoolClass)
    rows = session.execute(
        select(
            RecordMove,
            from_school.name,
            to_school.name,
            from_village.name,
            to_village.name,
            to_class.code,
        )
        .outerjoin(from_school, RecordMove.from_school_id == from_school.id)
        .outerjoin(to_school, RecordMove.to_school_id == to_school.id)
        .outerjoin(from_village, RecordMove.from_village_id == from_village.id)
        .outerjoin(to_village, RecordMove.to_village_id == to_village.id)
        .outerjoin(to_class, RecordMove.to_class_id == to_class.id)
        .where(col(RecordMove.student_id).in_(student_ids))
        .order_by(RecordMove.moved_on, col(RecordMove.id))
    ).all()
    lines = []
    for move, school_a, school_b, village_a, village_b, class_code in rows:
        kind = MoveKind(move.kind)
        if kind is MoveKind.SCHOOL_MERGE:
            joined = f",编入{_class_name(class_code)}" if move.from_class_id != move.to_class_id else ""
            text = f"{move.moved_on:%Y-%m-%d} 因{school_a}撤并,学籍由该校转入{school_b}{joined}"
        else:
            text = f"{move.moved_on:%Y-%m-%d} 因{village_a}并入{village_b},家庭所在村(社区)改为{village_b}"
        lines.append(MoveLine(move.moved_on, kind.label, text, move.reason))
    return lines


def current_village_ids(session: Session) -> dict[str, int]:
    """Village code → the id of the village in use that holds it now: a merged village's code leads to the
    village it was merged into (through every later merge); a village closed without a successor keeps its own."""
    villages = {
        vid: (code, merged_into)
        for vid, code, merged_into in session.execute(
            select(Village.id, Village.code, Village.merged_into_id)
        )
    }

    def current(vid: int) -> int:
        seen = {vid}
        while (target := villages[vid][1]) is not None and target not in seen:
            vid = target
            seen.add(vid)
        return vid

    return {code: current(vid) for vid, (code, _) in villages.items()}
