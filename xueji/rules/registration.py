"""新生注册: the intake's registry must be complete by a deadline (grade 1 by 30 September, grade 7 by
31 October); what a record still lacks, and where a school's intake stands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from xueji.rules.vocab import Stage


class RecordGap(StrEnum):
    """What an intake record still lacks before the registry counts as complete."""

    ID_NUMBER = "id_number"
    FAMILY = "family"
    GUARDIAN = "guardian"
    FAMILY_PHONE = "family_phone"

    @property
    def label(self) -> str:
        return {
            "id_number": "无身份证号(临时学籍)",
            "family": "缺家庭成员",
            "guardian": "未标明监护人",
            "family_phone": "缺家长联系电话",
        }[self.value]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def record_gaps(record: Mapping[str, object], family: Sequence[Mapping[str, object]]) -> list[RecordGap]:
    """Every gap of one record. The template's required columns cannot be blank after an import; what an
    intake record can still lack is the ID number (a temporary record), its family members, a member marked
    as guardian, and a phone number to reach the family."""
    gaps = [RecordGap.ID_NUMBER] if _blank(record.get("id_number")) else []
    if not family:
        return [*gaps, RecordGap.FAMILY]
    if not any(m.get("is_guardian") for m in family):
        gaps.append(RecordGap.GUARDIAN)
    if all(_blank(m.get("phone")) for m in family):
        gaps.append(RecordGap.FAMILY_PHONE)
    return gaps


@dataclass(frozen=True)
class RegistrationDeadlines:
    """The day (month, day) in the autumn of the school year by which each intake grade must be complete."""

    grade1: tuple[int, int] = (9, 30)
    grade7: tuple[int, int] = (10, 31)

    def for_stage(self, stage: Stage, school_year_start: int) -> date:
        month, day = self.grade1 if stage is Stage.PRIMARY else self.grade7
        return date(school_year_start, month, day)


class RegistrationState(StrEnum):
    COMPLETE = "complete"
    OPEN = "open"
    LATE = "late"

    @property
    def label(self) -> str:
        return {"complete": "已完成", "open": "进行中", "late": "逾期未完成"}[self.value]


def registration_state(*, today: date, deadline: date, students: int, complete: int) -> RegistrationState:
    """Complete when every intake record is complete (and there is an intake); late once the deadline passed."""
    if students and complete == students:
        return RegistrationState.COMPLETE
    return RegistrationState.LATE if today > deadline else RegistrationState.OPEN


def parse_month_day(text: str) -> tuple[int, int]:
    """Read an MM-DD setting (e.g. 09-30); raise ValueError when it is not a day of the year."""
    month, _, day = text.partition("-")
    value = (int(month), int(day))
    date(2000, *value)  # a leap year, so 02-29 is accepted
    return value
