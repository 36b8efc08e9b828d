"""The row rules of the departments' lists (rules.list_rows), without a database: ID numbers and what they hold,
village codes of this county, dates, vocabularies in their usual spellings, the same person twice."""

from __future__ import annotations

from datetime import date

import pytest

from xueji.rules.dept_lists import ListKind
from xueji.rules.id_number import build_id_number
from xueji.rules.list_rows import (
    Places,
    check_rows,
    disability_grade,
    disability_type,
    household_type,
    welfare_category,
)

TODAY = date(2026, 11, 23)
PLACES = Places("430181000000", {"430181108201": 11, "430181108202": 11, "430181106201": 12})
BORN = date(2016, 3, 4)
BOY = build_id_number("430181", BORN, 12, male=True)
GIRL = build_id_number("430181", date(2015, 9, 1), 40, male=False)


def resident(**cells: str) -> dict[str, str]:
    return {
        "name": "刘志",
        "sex": "男",
        "birth_date": "2016-03-04",
        "id_number": BOY,
        "village_code": "430181108201",
        "guardian_name": "刘大山",
        "guardian_phone": "13800001111",
    } | cells


def check(kind: ListKind, *rows: dict[str, str]):
    return check_rows(kind, list(enumerate(rows, start=2)), today=TODAY, places=PLACES)


def reasons(kind: ListKind, *rows: dict[str, str]) -> list[tuple[int, str, str]]:
    people, problems = check(kind, *rows)
    assert not people or not problems
    return [(p.row, p.column, p.reason) for p in problems]


def test_a_good_resident_row_becomes_a_person_in_its_village():
    people, problems = check(ListKind.RESIDENTS, resident(), resident(name="刘智", id_number=GIRL, sex="",
                                                                      birth_date="20150901"))  # fmt: skip
    assert not problems
    boy, girl = people
    assert (boy.person_key, boy.birth_date, boy.sex, boy.village_id) == (BOY, BORN, "男", 11)
    assert (girl.sex, girl.birth_date) == ("女", date(2015, 9, 1))  # sex from the ID when not given
    assert boy.guardian_phone == "13800001111"


def test_a_wrong_check_digit_is_refused_with_the_digit_expected():
    wrong = BOY[:17] + ("0" if BOY[17] != "0" else "1")
    ((row, column, reason),) = reasons(ListKind.RESIDENTS, resident(id_number=wrong))
    assert (row, column) == (2, "身份证号") and "校验位" in reason and BOY[17] in reason


def test_an_id_number_stored_as_a_number_says_the_digits_were_lost():
    ((_, _, reason),) = reasons(
        ListKind.WELFARE, {"name": "刘志", "id_number": BOY[:15] + "000", "category": "孤儿"}
    )
    assert "校验位" in reason and "设为文本" in reason


def test_birth_date_and_sex_must_agree_with_the_id_number():
    found = reasons(ListKind.RESIDENTS, resident(birth_date="2016-03-05", sex="女"))
    assert [(c, "不一致" in r) for _, c, r in found] == [("出生日期", True), ("性别", True)]
    assert "2016-03-04" in found[0][2]


def test_a_village_of_another_county_and_a_township_code_are_refused():
    found = reasons(
        ListKind.RESIDENTS,
        resident(village_code="430102001001"),
        resident(id_number=GIRL, sex="女", birth_date="2015-09-01", village_code="430181108000"),
        resident(
            name="王五", id_number=build_id_number("430181", BORN, 3, male=True), village_code="430181108299"
        ),
        resident(
            name="赵六", id_number=build_id_number("430181", BORN, 4, male=True), village_code="43018110820"
        ),
    )
    assert [(row, column) for row, column, _ in found] == [(2, "户籍地行政区划代码")] * 1 + [
        (3, "户籍地行政区划代码"),
        (4, "户籍地行政区划代码"),
        (5, "户籍地行政区划代码"),
    ]
    assert "不是本县" in found[0][2]
    assert "乡镇" in found[1][2]
    assert "本县没有这个村" in found[2][2]
    assert "12位" in found[3][2]


def test_a_merged_village_counts_as_the_one_it_went_into():
    (person,), _ = check(ListKind.RESIDENTS, resident(village_code="430181108202"))
    assert person.village_id == 11


def test_future_dates_and_a_recognition_before_birth_are_refused():
    future = reasons(ListKind.RESIDENTS, resident(birth_date="2027-01-01"))
    assert ("出生日期", "晚于今天") in [(c, r) for _, c, r in future]
    welfare = {"name": "刘志", "id_number": BOY, "category": "孤儿"}
    assert reasons(ListKind.WELFARE, welfare | {"recognised_on": "2026-12-01"})[0][2] == "晚于今天"
    assert "早于出生日期" in reasons(ListKind.WELFARE, welfare | {"recognised_on": "2015-01-01"})[0][2]
    assert "日期应写成" in reasons(ListKind.WELFARE, welfare | {"recognised_on": "去年"})[0][2]
    (person,), _ = check(ListKind.WELFARE, welfare | {"recognised_on": "2020/5/6"})
    assert person.detail == {"认定日期": "2020-05-06"}
    assert (person.birth_date, person.sex) == (BORN, "男")  # from the ID: the list gives neither


def test_names_phones_and_text_lengths():
    found = reasons(
        ListKind.RESIDENTS,
        resident(name="刘 志"),
        resident(name="刘志2", id_number=GIRL, sex="女", birth_date="2015-09-01"),
        resident(
            name="王五", id_number=build_id_number("430181", BORN, 3, male=True), guardian_phone="12345"
        ),
        resident(name="赵六", id_number=build_id_number("430181", BORN, 4, male=True), address="路" * 201),
        resident(name="", id_number=build_id_number("430181", BORN, 5, male=True)),
    )
    assert [(row, column) for row, column, _ in found] == [
        (2, "姓名"),
        (3, "姓名"),
        (4, "监护人电话"),
        (5, "户籍地址"),
        (6, "姓名"),
    ]
    assert (
        "空格" in found[0][2] and "数字" in found[1][2] and "200" in found[3][2] and found[4][2] == "不能为空"
    )


def test_the_same_id_number_twice_is_a_problem_on_the_later_row():
    found = reasons(ListKind.DISABLED, *[{"name": "刘志", "id_number": BOY.lower(), "category": "视力"}] * 2)
    assert found == [(3, "身份证号", "与第2行是同一人(身份证号重复)")]


@pytest.mark.parametrize(
    ("parse", "text", "word"),
    [
        (disability_type, "视力", "视力"),
        (disability_type, "视力残疾", "视力"),
        (disability_type, " 智力残疾 ", "智力"),
        (disability_type, "近视", None),
        (disability_grade, "一级", "一级"),
        (disability_grade, "2级", "二级"),
        (disability_grade, "3", "三级"),
        (disability_grade, "五级", None),
        (welfare_category, "事实无人抚养", "事实无人抚养儿童"),
        (welfare_category, "孤儿", "孤儿"),
        (welfare_category, "留守儿童", None),
        (household_type, "脱贫户", "脱贫户"),
        (household_type, "防返贫监测户", "防返贫监测户"),
        (household_type, "低保户", None),
    ],
)
def test_vocabularies_take_the_usual_spellings(parse, text, word):
    assert parse(text) == word


def test_a_word_outside_the_vocabulary_names_the_choices():
    found = reasons(
        ListKind.DISABLED, {"name": "刘志", "id_number": BOY, "category": "近视", "grade": "五级"}
    )
    assert [c for _, c, _ in found] == ["残疾类别", "残疾等级"]
    assert "视力" in found[0][2] and "四级" in found[1][2]
    (person,), _ = check(ListKind.DISABLED, {"name": "刘志", "id_number": BOY, "category": "肢体残疾", "grade": "2",
                                            "certificate": BOY + "42"})  # fmt: skip
    assert person.category == "肢体" and person.detail == {"残疾等级": "二级", "残疾证号": BOY + "42"}


HEAD = build_id_number("430181", date(1985, 1, 2), 7, male=True)
OTHER_HEAD = build_id_number("430181", date(1986, 1, 2), 8, male=True)


def member(**cells: str) -> dict[str, str]:
    base = {
        "head_name": "刘大山",
        "head_id_number": HEAD,
        "name": "刘志",
        "id_number": BOY,
        "category": "脱贫户",
    }
    return base | cells


def test_households_a_member_in_two_households_and_a_head_with_two_types():
    people, problems = check(ListKind.HOUSEHOLDS, member(), member(name="刘芳", id_number=GIRL))
    assert not problems and [p.detail["户主身份证号"] for p in people] == [HEAD, HEAD]
    found = reasons(
        ListKind.HOUSEHOLDS,
        member(),
        member(name="刘芳", id_number=GIRL, category="防返贫监测户"),
        member(head_name="王二", head_id_number=OTHER_HEAD),
    )
    assert [(row, column) for row, column, _ in found] == [(3, "户类型"), (4, "成员身份证号")]
    assert "脱贫户" in found[0][2] and "第2行" in found[1][2] and "刘大山" in found[1][2]


def test_households_the_head_id_is_checked_like_any_id():
    found = reasons(ListKind.HOUSEHOLDS, member(head_id_number=HEAD[:17] + "Y"))
    assert [(c, "字符" in r) for _, c, r in found] == [("户主身份证号", True)]


def test_households_two_heads_of_one_name_without_head_ids_are_two_households():
    wang = {"head_name": "王伟", "head_id_number": ""}
    people, problems = check(
        ListKind.HOUSEHOLDS,
        member(**wang),
        member(**wang, name="刘芳", id_number=GIRL, category="防返贫监测户"),
    )
    assert not problems and [p.category for p in people] == ["脱贫户", "防返贫监测户"]
    found = reasons(ListKind.HOUSEHOLDS, member(**wang), member(**wang))  # one member twice is still refused
    assert [(row, column) for row, column, _ in found] == [(3, "成员身份证号")]
    assert "户主为王伟的户" in found[0][2]
