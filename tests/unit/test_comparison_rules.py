"""三比对 rules: who is of school age on the reference day, what comparing the register with the registry finds
for each child, where a ledger child stands, and how the ledger tells one child from another."""

from datetime import date

import pytest

from xueji.rules.comparisons import (
    MATCHED_OUTCOME,
    REGISTRY_STANDING,
    SWEEP_STANDING,
    Outcome,
    Standing,
    VerifyOutcome,
    dedupe_key,
    joined_sources,
    listed_outcome,
    sources_label,
    standing_of,
)
from xueji.rules.school_age import birth_window, reference_day
from xueji.rules.sweeps import FoundStatus
from xueji.rules.vocab import StudentStatus

REFERENCE = date(2026, 8, 31)  # the school year 2026–2027, counted on 31 August
AGES = (6, 15)


def test_the_reference_day_is_31_august_of_the_school_years_start_year():
    assert reference_day(date(2026, 11, 23), month_day=(8, 31)) == REFERENCE
    assert reference_day(date(2027, 3, 1), month_day=(8, 31)) == REFERENCE  # second term: the same year
    assert reference_day(date(2027, 9, 1), month_day=(8, 31)) == date(2027, 8, 31)


@pytest.mark.parametrize(
    ("birth", "of_age"),
    [
        (date(2020, 9, 1), False),  # 6th birthday the day after the reference day: not yet 6
        (date(2020, 8, 31), True),  # 6 on the reference day itself
        (date(2020, 8, 30), True),  # 6 the day before
        (date(2010, 9, 1), True),  # 16th birthday the day after: still 15
        (date(2010, 8, 31), False),  # 16 on the reference day: past compulsory age
        (date(2010, 8, 30), False),  # 16 the day before
    ],
)
def test_the_age_window_turns_on_the_6th_and_16th_birthday(birth, of_age):
    earliest, latest = birth_window(REFERENCE, AGES)
    assert (earliest <= birth <= latest) is of_age


def test_the_birth_window_is_the_first_and_last_birthday_of_age():
    assert birth_window(REFERENCE, AGES) == (date(2010, 9, 1), date(2020, 8, 31))
    assert birth_window(REFERENCE, (7, 14)) == (date(2011, 9, 1), date(2019, 8, 31))


def test_a_listed_child_without_a_record_is_not_enrolled_or_pending_review():
    assert listed_outcome(status=None, school_township=None, home_township=1) is Outcome.NOT_ENROLLED
    assert listed_outcome(status=None, school_township=None, home_township=1, pending=True) is (
        Outcome.PENDING_REVIEW
    )


def test_a_listed_child_at_a_school_of_their_township_is_in_school_and_elsewhere_separated():
    for status in ("enrolled", "suspended"):
        assert listed_outcome(status=status, school_township=1, home_township=1) is Outcome.IN_SCHOOL
        assert listed_outcome(status=status, school_township=2, home_township=1) is Outcome.SEPARATED
    # a child of the register with no village known cannot be placed in a township: not 人户分离 by guess
    assert listed_outcome(status="enrolled", school_township=2, home_township=None) is Outcome.SEPARATED


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("dropped_out", Outcome.DROPPED_OUT),
        ("transferred_out", Outcome.LEFT_REGISTRY),
        ("graduated", Outcome.LEFT_REGISTRY),
        ("deceased", Outcome.LEFT_REGISTRY),
    ],
)
def test_a_listed_child_whose_record_left_school_says_so(status, outcome):
    assert listed_outcome(status=status, school_township=1, home_township=1) is outcome


def test_every_registry_status_has_an_outcome_and_a_standing():
    assert set(MATCHED_OUTCOME) == set(REGISTRY_STANDING) == {s.value for s in StudentStatus}
    assert set(SWEEP_STANDING) == {s.value for s in FoundStatus}


def test_standing_follows_the_registry_then_the_townships_finding_then_the_sweep():
    assert standing_of(status="enrolled") is Standing.IN_SCHOOL
    assert standing_of(status="suspended") is Standing.SUSPENDED
    assert standing_of(status="dropped_out") is Standing.DROPOUT
    assert standing_of(status="transferred_out") is Standing.LEFT
    assert standing_of(status=None) is Standing.TO_VERIFY
    assert standing_of(status=None, task_outcome="other_county") is Standing.OTHER_COUNTY
    assert standing_of(status=None, task_outcome="not_found") is Standing.UNKNOWN
    assert standing_of(status=None, sweep_status="moved_away") is Standing.MOVED_AWAY
    # the registry is the stronger fact: a task recorded before the child enrolled does not count
    assert standing_of(status="enrolled", task_outcome="out_of_school") is Standing.IN_SCHOOL


def test_an_open_case_overrides_the_registry_and_home_teaching_overrides_a_dropout_case():
    assert standing_of(status="enrolled", open_cases={"suspected_dropout"}) is Standing.SUSPECTED_DROPOUT
    assert standing_of(status="enrolled", open_cases={"suspected_dropout", "dropout"}) is Standing.DROPOUT
    assert (
        standing_of(status="dropped_out", open_cases={"dropout", "home_teaching"}) is Standing.HOME_TEACHING
    )
    assert standing_of(status="enrolled", open_cases={"orphan", "disabled"}) is Standing.IN_SCHOOL


def test_each_task_outcome_gives_the_standing_it_names():
    for outcome in VerifyOutcome:
        assert standing_of(status=None, task_outcome=outcome.value) is outcome.standing


def test_one_child_by_id_number_whatever_the_name_else_by_name_birth_and_village():
    born = date(2015, 3, 2)
    assert dedupe_key(
        id_number="43018120150302001x", name="刘志", birth_date=born, village_id=1
    ) == dedupe_key(id_number="43018120150302001X", name="刘智", birth_date=born, village_id=2)
    assert dedupe_key(id_number=None, name="刘志 ", birth_date=born, village_id=1) == dedupe_key(
        id_number="", name="刘志", birth_date=born, village_id=1
    )
    # same name and birthday in two villages: two children
    assert dedupe_key(id_number=None, name="刘志", birth_date=born, village_id=1) != dedupe_key(
        id_number=None, name="刘志", birth_date=born, village_id=2
    )


def test_sources_are_joined_in_the_ledgers_order_and_read_in_chinese():
    assert joined_sources({"welfare", "sweep", "residents"}) == "residents,sweep,welfare"
    assert sources_label("residents,registry,households") == "户籍、学籍、乡村振兴"
    assert sources_label("") == ""
