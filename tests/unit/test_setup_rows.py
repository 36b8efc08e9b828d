"""The set-up workbook's rows checked without a database: codes, hierarchy, names, duplicates, one county."""

import pytest

from xueji.rules.setup_rows import (
    COUNTY_SHEET,
    SCHOOL_SHEET,
    TOWNSHIP_SHEET,
    VILLAGE_SHEET,
    Existing,
    Known,
    SetupProblem,
    check_setup_rows,
    is_example,
    parse_school_kind,
)
from xueji.rules.vocab import SchoolKind, Stage

COUNTY = [(3, {"code": "430181000000", "name": "浏阳市"})]
TOWNSHIPS = [(3, {"code": "430181108000", "name": "古港镇"}), (4, {"code": "430181106000", "name": "沙市镇"})]


def school(code="2143016965", name="古港镇完全小学", kind="小学", township="430181108000"):
    return {"code": code, "name": name, "kind": kind, "township": township}


def problems_of(sheets, existing: Existing | None = None) -> list[SetupProblem]:
    return check_setup_rows(sheets, existing or Existing()).problems


def only(problems: list[SetupProblem]) -> SetupProblem:
    assert len(problems) == 1, problems
    return problems[0]


def test_a_complete_small_county_has_no_problem_and_every_row_comes_back():
    found = check_setup_rows(
        {
            COUNTY_SHEET: COUNTY,
            TOWNSHIP_SHEET: TOWNSHIPS,
            VILLAGE_SHEET: [(3, {"code": "430181108201", "name": "梅田村"})],
            SCHOOL_SHEET: [(3, school())],
        },
        Existing(),
    )
    assert found.problems == []
    assert found.county is not None and found.county.code == "430181000000"
    assert [t.code for t in found.townships] == ["430181108000", "430181106000"]
    assert found.villages[0].parent == "430181108000"
    assert found.schools[0].kind is SchoolKind.PRIMARY


def test_the_example_row_is_skipped():
    rows = [(4, {"code": "示例:430181000000", "name": "浏阳市"})]
    assert is_example(rows[0][1])
    found = check_setup_rows({COUNTY_SHEET: rows}, Existing())
    assert found.problems == [] and found.county is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("43018100000", "行政区划代码应为12位数字"),
        ("430181108000", "应为县级行政区划代码"),
        ("00018100000a", "行政区划代码应为12位数字"),
    ],
)
def test_a_county_code_must_be_twelve_digits_at_county_level(code, reason):
    problem = only(problems_of({COUNTY_SHEET: [(3, {"code": code, "name": "浏阳市"})]}))
    assert (problem.sheet, problem.row, problem.column, problem.value) == (
        COUNTY_SHEET,
        3,
        "行政区划代码",
        code,
    )
    assert reason in problem.reason


def test_a_name_is_required_and_bounded_by_its_column():
    blank = only(problems_of({COUNTY_SHEET: [(3, {"code": "430181000000", "name": " "})]}))
    assert (blank.column, blank.reason) == ("名称", "必填")
    long = only(problems_of({TOWNSHIP_SHEET: [(3, {"code": "430181108000", "name": "镇" * 51})]}, _county()))
    assert long.column == "名称" and "不超过 50 字" in long.reason


def _county() -> Existing:
    return Existing(county=("430181000000", "浏阳市"))


def test_a_second_county_is_refused_in_the_file_and_against_the_database():
    two = problems_of(
        {COUNTY_SHEET: [*COUNTY, (4, {"code": "430102000000", "name": "芙蓉区"})]},
    )
    assert only(two).row == 4 and "一个系统只管理一个县区" in two[0].reason
    other = only(problems_of({COUNTY_SHEET: [(3, {"code": "430102000000", "name": "芙蓉区"})]}, _county()))
    assert "本系统已设置县区 浏阳市(430181000000)" in other.reason


def test_the_same_county_again_is_fine():
    assert problems_of({COUNTY_SHEET: COUNTY}, _county()) == []


def test_a_township_must_be_township_level_and_inside_the_county():
    problems = problems_of(
        {
            TOWNSHIP_SHEET: [
                (3, {"code": "430181108201", "name": "梅田村"}),
                (4, {"code": "430102001000", "name": "外县镇"}),
            ]
        },
        _county(),
    )
    assert [p.row for p in problems] == [3, 4]
    assert "应为乡镇级行政区划代码" in problems[0].reason
    assert "不在本县区内:前6位应为 430181" in problems[1].reason


def test_a_township_without_any_county_is_refused():
    problem = only(problems_of({TOWNSHIP_SHEET: TOWNSHIPS[:1]}))
    assert "尚未设置县区" in problem.reason


def test_a_village_needs_its_township_in_the_workbook_or_the_database():
    village = [(3, {"code": "430181108201", "name": "梅田村"})]
    problem = only(problems_of({VILLAGE_SHEET: village}, _county()))
    assert "所属乡镇 430181108000 不在“乡镇”表中" in problem.reason
    known = Existing(county=_county().county, townships={"430181108000": Known("古港镇", "430181000000")})
    assert problems_of({VILLAGE_SHEET: village}, known) == []
    assert problems_of({VILLAGE_SHEET: village, TOWNSHIP_SHEET: TOWNSHIPS}, _county()) == []


def test_a_village_code_must_be_village_level():
    problem = only(problems_of({VILLAGE_SHEET: [(3, {"code": "430181108000", "name": "古港镇"})]}, _county()))
    assert "应为村(社区)级行政区划代码" in problem.reason


def test_same_code_twice_in_a_sheet_is_a_duplicate():
    rows = [(3, {"code": "430181108201", "name": "梅田村"}), (7, {"code": "430181108201", "name": "梅田"})]
    problem = only(problems_of({VILLAGE_SHEET: rows, TOWNSHIP_SHEET: TOWNSHIPS}, _county()))
    assert (problem.row, problem.reason) == (7, "与第3行重复")


def test_same_name_twice_in_one_township_is_refused_but_not_in_two_townships():
    rows = [
        (3, {"code": "430181108201", "name": "新村"}),
        (4, {"code": "430181108202", "name": "新村"}),
        (5, {"code": "430181106201", "name": "新村"}),
    ]
    problems = problems_of({VILLAGE_SHEET: rows, TOWNSHIP_SHEET: TOWNSHIPS}, _county())
    assert sorted(p.row for p in problems) == [3, 4]
    assert all("同一乡镇内" in p.reason and "重名" in p.reason for p in problems)


def test_a_new_name_clashing_with_a_record_in_the_database_is_refused_unless_that_record_is_renamed():
    existing = Existing(
        county=_county().county,
        townships={"430181108000": Known("古港镇", "430181000000")},
        villages={"430181108201": Known("梅田村", "430181108000")},
    )
    clash = only(problems_of({VILLAGE_SHEET: [(3, {"code": "430181108202", "name": "梅田村"})]}, existing))
    assert "系统中已有的村(社区) 430181108201" in clash.reason
    swap = [
        (3, {"code": "430181108202", "name": "梅田村"}),
        (4, {"code": "430181108201", "name": "梅田一村"}),
    ]
    assert problems_of({VILLAGE_SHEET: swap}, existing) == []


def test_a_closed_record_is_not_imported_again():
    existing = Existing(
        county=_county().county,
        townships={"430181108000": Known("古港镇", "430181000000")},
        schools={
            "2143016967": Known(
                "梅田小学", "430181108000", closed="该学校已于 2027-08-31 撤并到古港镇完全小学"
            )
        },
    )
    problem = only(problems_of({SCHOOL_SHEET: [(3, school("2143016967", "梅田小学"))]}, existing))
    assert problem.column == "学校标识码" and "撤并" in problem.reason


def test_a_new_village_or_school_under_a_closed_township_is_refused():
    existing = Existing(
        county=_county().county,
        townships={"430181108000": Known("古港镇", "430181000000", closed="已撤并")},
    )
    problems = problems_of(
        {VILLAGE_SHEET: [(3, {"code": "430181108201", "name": "梅田村"})], SCHOOL_SHEET: [(3, school())]},
        existing,
    )
    assert len(problems) == 2 and all("已撤并或关闭" in p.reason for p in problems)


@pytest.mark.parametrize(
    ("code", "reason"),
    [("214301696", "Excel 可能去掉了开头的0"), ("21430169651", "10位数字"), ("21430169a5", "10位数字")],
)
def test_a_school_code_is_ten_digits(code, reason):
    problem = only(problems_of({SCHOOL_SHEET: [(3, school(code))], TOWNSHIP_SHEET: TOWNSHIPS}, _county()))
    assert problem.column == "学校标识码" and reason in problem.reason


def test_a_school_needs_a_known_township_and_a_compulsory_kind():
    problems = problems_of(
        {
            SCHOOL_SHEET: [
                (3, school(township="430181109000")),
                (4, school("2143016966", "一中", kind="高级中学")),
                (5, school("2143016968", "二中", kind="中学")),
                (6, school("2143016969", "三中", kind="")),
            ]
        },
        Existing(county=_county().county, townships={"430181108000": Known("古港镇", "430181000000")}),
    )
    reasons = {(p.row, p.column): p.reason for p in problems}
    assert "所属乡镇 430181109000 不在“乡镇”表中" in reasons[(3, "所在乡镇行政区划代码")]
    assert reasons[(4, "办学类型")] == "高级中学不实施义务教育,本系统不登记"
    assert reasons[(5, "办学类型")].startswith("应为小学、小学教学点、初级中学")
    assert reasons[(6, "办学类型")] == "必填"


def test_school_kinds_of_the_national_list_teach_their_compulsory_stages():
    assert parse_school_kind("完全中学").stages == (Stage.JUNIOR,)
    assert parse_school_kind("特殊教育学校").stages == (Stage.PRIMARY, Stage.JUNIOR)
    assert parse_school_kind("十二年一贯制学校").stages == (Stage.PRIMARY, Stage.JUNIOR)
    assert parse_school_kind("小学教学点").stages == (Stage.PRIMARY,)
    assert parse_school_kind("初中") is SchoolKind.JUNIOR
    assert parse_school_kind("nine_year") is SchoolKind.NINE_YEAR


def test_an_existing_village_keeps_its_township_even_when_its_code_says_another():
    # after a township merge a village keeps its code but belongs to the township that took it over
    existing = Existing(
        county=_county().county,
        townships={
            "430181108000": Known("古港镇", "430181000000", closed="已撤并"),
            "430181106000": Known("沙市镇", "430181000000"),
        },
        villages={"430181108201": Known("梅田村", "430181106000")},
    )
    found = check_setup_rows({VILLAGE_SHEET: [(3, {"code": "430181108201", "name": "梅田新村"})]}, existing)
    assert found.problems == [] and found.villages[0].parent == "430181106000"
