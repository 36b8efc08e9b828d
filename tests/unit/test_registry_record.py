"""The checks on one row of the national registry template, field by field and across fields."""

from __future__ import annotations

from datetime import date

import pytest

from xueji.rules.ethnicity import ETHNICITIES, normalise_ethnicity
from xueji.rules.id_number import check_digit
from xueji.rules.registry_record import LossyNumber, check_row, example_cells, new_row

TODAY = date(2026, 11, 23)
YEAR = 2026


def checked(**changes: str):
    cells = example_cells() | changes
    return check_row(new_row(5, cells), today=TODAY, school_year=YEAR)


def problems(**changes: str) -> list[tuple[str, str, str]]:
    return [(p.column, p.value, p.reason) for p in checked(**changes).errors]


def test_the_example_row_of_the_blank_template_is_valid():
    row = checked()
    assert row.errors == [] and row.warnings == []
    assert row.values["id_number"] == example_cells()["id_number"]
    assert [m["relation"] for m in row.family] == ["父亲", "祖母"]


def test_lowercase_x_and_full_width_digits_in_an_id_number_are_normalised():
    number = example_cells()["id_number"]
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number[:-1]) + "x"
    row = checked(id_number=f" {full_width} ")
    assert row.errors == []
    assert row.values["id_number"] == number


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("43018120190512031", "身份证号应为18位,实际为17位"),
        ("43018120190512031Y", "身份证号含有不允许的字符“Y”"),
        ("430181 2019051203 1X", "身份证号含有不允许的字符“ ”"),
        ("4301812019051X0315", "身份证号只有最后一位可以是X"),
        ("430181201905120310", "身份证号校验位错误:按前17位应为“X”"),
    ],
)
def test_a_malformed_id_number_is_rejected_with_its_reason(value, reason):
    assert problems(id_number=value) == [("身份证件号", value, reason)]


def test_an_id_number_whose_birth_date_disagrees_with_the_birth_date_column_is_rejected():
    assert problems(birth_date="20190513") == [
        (
            "身份证件号",
            example_cells()["id_number"],
            "身份证号中的出生日期 20190512 与出生日期 20190513 不一致",
        )
    ]


def test_an_id_number_whose_sex_digit_disagrees_with_the_sex_column_is_rejected():
    assert problems(sex="女") == [
        ("身份证件号", example_cells()["id_number"], "身份证号第17位表示男性,与性别“女”不一致")
    ]


def test_an_id_number_excel_stored_as_a_number_is_rejected_as_lossy():
    (problem,) = problems(id_number=LossyNumber("430181201905120300"))
    assert problem[0] == "身份证件号" and "被存成了数字" in problem[2]


def test_a_row_without_id_number_is_a_flagged_temporary_record_not_an_error():
    row = checked(id_number="")
    assert row.errors == []
    assert row.is_temporary
    assert [(w.column, w.reason) for w in row.warnings] == [
        ("身份证件号", "无身份证件号:按临时学籍登记并标记,取得证件后请补录")
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("李 思远", "姓名中间不能有空格"),
        ("李思远2", "姓名不能含数字"),
        ("=李思远", "姓名含有不允许的字符“=”"),
        ("", "姓名不能为空"),
    ],
)
def test_a_bad_name_is_rejected(value, reason):
    assert problems(name=value) == [("姓名", value, reason)]


def test_spaces_around_a_name_are_trimmed():
    assert checked(name=" 李思远\u3000").values["name"] == "李思远"


@pytest.mark.parametrize("column", ["birthplace_code", "household_code"])
def test_a_division_code_of_eleven_digits_is_rejected(column):
    header = {"birthplace_code": "出生地行政区划代码", "household_code": "户口所在地行政区划"}[column]
    assert problems(**{column: "43018110800"}) == [
        (header, "43018110800", "行政区划代码应为12位数字,实际为11位")
    ]


def test_a_school_code_must_have_ten_digits():
    assert problems(school_code="214301696") == [
        ("学校标识码", "214301696", "学校标识码应为10位数字,实际为9位")
    ]


def test_a_class_code_of_six_digits_is_rejected():
    assert problems(class_code="202510") == [("班号", "202510", "班号应为7位数字,实际为“202510”")]


def test_a_class_code_with_an_unknown_stage_is_rejected():
    assert problems(class_code="2025401") == [
        ("班号", "2025401", "班号第5位应为学段编号(1小学、2初中、3高中),实际为 4")
    ]


def test_a_class_code_entry_year_must_match_the_entry_month():
    assert problems(entry_month="202409") == [
        ("班号", "2025101", "班号中的入学年份 2025 与入学年月 202409 不一致")
    ]


def test_a_class_that_has_graduated_is_rejected():
    assert problems(class_code="2019101", entry_month="201909") == [
        ("班号", "2019101", "按班号推算,该班在2026学年已毕业")
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("202513", "入学年月应为6位数字的真实年月,如 202509"),
        ("2025-9", "入学年月应为6位数字的真实年月,如 202509"),
        ("202612", "入学年月晚于本月"),
    ],
)
def test_a_bad_entry_month_is_rejected(value, reason):
    found = problems(entry_month=value)
    assert ("入学年月", value, reason) in found


def test_a_birth_date_that_is_not_a_real_date_is_rejected():
    assert ("出生日期", "20190231", "出生日期应为8位数字的真实日期,如 20190512") in problems(
        birth_date="20190231"
    )


def test_an_age_far_from_the_grade_is_a_warning_not_an_error():
    first17 = "430181" + "20150512" + "031"
    number = first17 + check_digit(first17)
    row = checked(birth_date="20150512", id_number=number)
    assert row.errors == []
    assert [(w.column, w.reason) for w in row.warnings] == [
        ("出生日期", "2026年9月1日满11周岁,二年级通常为7周岁,请核对出生日期和班号")
    ]


def test_ethnicity_is_normalised_from_a_known_name_or_code_and_must_end_in_zu():
    assert checked(ethnicity="汉").values["ethnicity"] == "汉族"
    assert checked(ethnicity="15").values["ethnicity"] == "土家族"
    assert problems(ethnicity="汉人") == [("民族", "汉人", "民族应为56个民族之一并以“族”结尾,如 汉族")]


def test_there_are_fifty_six_ethnic_groups_each_ending_in_zu():
    assert len(set(ETHNICITIES)) == 56
    assert all(name.endswith("族") and normalise_ethnicity(name) == name for name in ETHNICITIES)


def test_yes_no_fields_accept_only_yes_or_no():
    assert problems(needs_aid="Y") == [("是否需要申请资助", "Y", "只能填“是”或“否”")]
    assert problems(needs_aid="") == [("是否需要申请资助", "", "不能为空,请填“是”或“否”")]
    assert checked(left_behind="").values["left_behind"] is False


def test_text_starting_like_a_formula_is_rejected():
    assert problems(current_address='=HYPERLINK("http://x")') == [
        ("现住址", '=HYPERLINK("http://x")', "内容以“=”开头,可能是公式,请删去该符号")
    ]


def test_every_error_of_a_row_is_reported_not_just_the_first():
    found = problems(name="李 思远", sex="男性", school_code="1", class_code="202510", needs_aid="Y")
    assert {column for column, _, _ in found} == {"姓名", "性别", "学校标识码", "班号", "是否需要申请资助"}


def test_a_family_member_needs_a_name_and_relation_when_any_of_their_fields_is_filled():
    assert problems(m2_name="", m2_relation="") == [
        ("成员2姓名", "", "填写了家庭成员信息时,姓名和关系不能为空"),
        ("成员2关系", "", "填写了家庭成员信息时,姓名和关系不能为空"),
    ]


def test_a_phone_number_must_be_a_mobile_or_a_landline():
    assert checked(m1_phone="+86 139 0731 0001").family[0]["phone"] == "13907310001"
    assert checked(m1_phone="0731-83001234").family[0]["phone"] == "0731-83001234"
    assert problems(m1_phone="12345") == [
        ("成员1联系电话", "12345", "联系电话应为11位手机号或带区号的固定电话")
    ]


def test_a_disability_type_is_stored_by_its_short_name():
    row = checked(disability_type="肢体残疾")
    assert row.values["disabled"] is True and row.values["disability_type"] == "肢体"
    assert checked(disability_type="无残疾").values["disabled"] is False
