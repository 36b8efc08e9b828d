"""新生注册: what an intake record lacks, the deadlines and the state of a school's intake. Pure rules."""

from datetime import date

import pytest

from xueji.config import SettingsError, settings_from_env
from xueji.rules.registration import (
    RecordGap,
    RegistrationDeadlines,
    RegistrationState,
    parse_month_day,
    record_gaps,
    registration_state,
)
from xueji.rules.vocab import Stage

FATHER = {"name": "李建国", "phone": "13812345678", "is_guardian": True}


@pytest.mark.parametrize(
    ("record", "family", "gaps"),
    [
        ({"id_number": "43018120190312001X"}, [FATHER], []),
        ({"id_number": None}, [FATHER], [RecordGap.ID_NUMBER]),
        ({"id_number": "  "}, [FATHER], [RecordGap.ID_NUMBER]),
        ({"id_number": "43018120190312001X"}, [], [RecordGap.FAMILY]),
        ({"id_number": None}, [], [RecordGap.ID_NUMBER, RecordGap.FAMILY]),
        ({"id_number": "x"}, [{**FATHER, "is_guardian": False}], [RecordGap.GUARDIAN]),
        ({"id_number": "x"}, [{**FATHER, "phone": None}], [RecordGap.FAMILY_PHONE]),
        ({"id_number": "x"}, [{**FATHER, "phone": " "}, {"phone": None}], [RecordGap.FAMILY_PHONE]),
        # one member with a phone, another marked as guardian: complete
        ({"id_number": "x"}, [{**FATHER, "is_guardian": False}, {"phone": None, "is_guardian": True}], []),
        (
            {"id_number": ""},
            [{"phone": "", "is_guardian": False}],
            [RecordGap.ID_NUMBER, RecordGap.GUARDIAN, RecordGap.FAMILY_PHONE],
        ),
    ],
)
def test_record_gaps(record, family, gaps):
    assert record_gaps(record, family) == gaps


def test_deadlines_fall_in_the_autumn_of_the_school_year():
    deadlines = RegistrationDeadlines()
    assert deadlines.for_stage(Stage.PRIMARY, 2026) == date(2026, 9, 30)
    assert deadlines.for_stage(Stage.JUNIOR, 2026) == date(2026, 10, 31)
    assert RegistrationDeadlines(grade1=(10, 15)).for_stage(Stage.PRIMARY, 2027) == date(2027, 10, 15)


@pytest.mark.parametrize(
    ("today", "students", "complete", "state"),
    [
        (date(2026, 9, 20), 40, 38, RegistrationState.OPEN),
        (date(2026, 9, 30), 40, 38, RegistrationState.OPEN),  # the deadline day itself is still in time
        (date(2026, 10, 1), 40, 38, RegistrationState.LATE),
        (date(2026, 10, 1), 40, 40, RegistrationState.COMPLETE),
        (date(2026, 9, 1), 40, 40, RegistrationState.COMPLETE),
        (date(2026, 10, 1), 0, 0, RegistrationState.LATE),  # no intake on the registry after the deadline
        (date(2026, 9, 10), 0, 0, RegistrationState.OPEN),
    ],
)
def test_registration_state(today, students, complete, state):
    deadline = date(2026, 9, 30)
    assert registration_state(today=today, deadline=deadline, students=students, complete=complete) is state


def test_deadline_settings_are_read_and_bad_ones_refused():
    settings = settings_from_env({"XUEJI_GRADE1_REGISTRATION_DEADLINE": "10-08"})
    assert settings.registration_deadlines == RegistrationDeadlines(grade1=(10, 8), grade7=(10, 31))
    assert parse_month_day("02-29") == (2, 29)
    for bad in ("09-31", "13-01", "0930", "九月"):
        with pytest.raises(SettingsError, match="XUEJI_GRADE7_REGISTRATION_DEADLINE"):
            settings_from_env({"XUEJI_GRADE7_REGISTRATION_DEADLINE": bad})
