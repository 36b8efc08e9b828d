import pytest

from xueji.rules.class_code import ClassCodeError, grade_in_school_year, parse_class_code
from xueji.rules.vocab import Stage


def test_a_class_code_gives_entry_year_stage_number_and_the_template_name():
    code = parse_class_code("2011102")
    assert (code.entry_year, code.stage, code.number) == (2011, Stage.PRIMARY, 2)
    assert code.name == "小学2011级(02)班"
    assert code.code == "2011102"


def test_a_junior_class_is_named_with_its_stage():
    assert parse_class_code("2025201").name == "初中2025级(01)班"


@pytest.mark.parametrize(
    ("code", "school_year", "grade", "label"),
    [
        ("2025101", 2025, 1, "一年级"),
        ("2025101", 2026, 2, "二年级"),
        ("2021103", 2026, 6, "六年级"),
        ("2026201", 2026, 7, "七年级"),
        ("2024205", 2026, 9, "九年级"),
    ],
)
def test_grade_is_derived_from_the_class_code_and_the_school_year(code, school_year, grade, label):
    parsed = parse_class_code(code)
    assert parsed.grade(school_year) == grade
    assert parsed.grade_label(school_year) == label


def test_a_class_past_its_stage_is_no_longer_current():
    assert parse_class_code("2020101").is_current(2025)
    assert not parse_class_code("2020101").is_current(2026)
    assert not parse_class_code("2027101").is_current(2026)


def test_the_grade_rule_counts_junior_grades_from_seven():
    assert grade_in_school_year(2026, Stage.JUNIOR, 2026) == 7
    assert grade_in_school_year(2026, Stage.SENIOR, 2026) == 10


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("201210", "7位数字"),
        ("20121011", "7位数字"),
        ("2012a01", "7位数字"),
        ("2012401", "学段编号"),
        ("2012100", "班级编号"),
        ("1200101", "入学年份"),
    ],
)
def test_a_malformed_class_code_is_refused_with_the_reason(text, reason):
    with pytest.raises(ClassCodeError, match=reason):
        parse_class_code(text)
