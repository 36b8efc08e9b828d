"""The bound on each user-text field is the model column's length, read by the rules, the forms and the services'
last check alike."""

from datetime import date

import pytest

from xueji.models import HomePlan, Household, Student
from xueji.rules.registry_record import TEXT_FIELDS, cell_max_chars
from xueji.rules.sweeps import HouseholdFacts, household_problems
from xueji.rules.text_limits import JSON_LIMITS, LABELS, form_limit, length_problem, max_length, too_long
from xueji.services.common.text_bounds import TextTooLong, check_objects, overlong_field


def test_a_bound_is_the_models_column_length():
    assert max_length("student.name") == Student.__table__.c.name.type.length == 50
    assert max_length("household.note") == 200
    assert max_length("home_plan.goals") == JSON_LIMITS["home_plan.goals"]
    with pytest.raises(KeyError):
        max_length("student.birth_date")


def test_every_labelled_field_and_template_column_has_a_bound():
    assert all(max_length(field) > 0 for field in LABELS)
    assert all(cell_max_chars(key) == max_length(field) for key, field in TEXT_FIELDS.items())
    assert cell_max_chars("class_code") is None


def test_the_reason_says_the_limit_and_the_length_given():
    assert too_long("张" * 51, 50) == "不超过 50 字(现有 51 字)"
    assert too_long("张" * 50, 50) is None and too_long(None, 50) is None
    assert length_problem("址" * 201, "student.home_address") == "不超过 200 字(现有 201 字)"


def test_a_form_shows_an_older_longer_value_whole():
    assert form_limit("home_plan.methods") == 1000
    assert form_limit("home_plan.methods", "法" * 1200) == 1200


def test_a_huge_head_of_household_is_a_problem_naming_the_field():
    facts = HouseholdFacts(head_name="张" * 100_000, visited_on=date(2026, 11, 20))
    problems = household_problems(facts, today=date(2026, 11, 23), earliest=date(2026, 9, 1))
    assert ("户主姓名", "不超过 50 字(现有 100000 字)") in problems


def test_the_services_last_check_names_the_field_before_the_database_is_asked():
    student = Student(
        name="张" * 51, sex="男", school_id=1, entry_month="202509", birth_date=date(2019, 5, 12)
    )
    assert overlong_field(student) == "姓名不超过 50 字(现有 51 字),未保存"
    assert (
        overlong_field(Household(sweep_village_id=1, head_name="王", visited_on=date(2026, 11, 20))) is None
    )
    plan = HomePlan(
        child_id=1, term_id=1, school_id=1, started_on=date(2026, 9, 1), goals={"cognition": "认" * 7000}
    )
    assert overlong_field(plan).startswith("目标合计不超过 40000 个字符")
    with pytest.raises(TextTooLong, match="姓名"):
        check_objects([student])
