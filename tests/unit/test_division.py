import pytest

from xueji.rules.division import DivisionCodeError, DivisionLevel, parse_division_code


def test_a_village_code_knows_its_township_and_county():
    code = parse_division_code("430181108201")
    assert code.level is DivisionLevel.VILLAGE
    assert code.township_code == "430181108000"
    assert code.county_code == "430181000000"
    assert code.province == "43"


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("430000000000", DivisionLevel.PROVINCE),
        ("430100000000", DivisionLevel.CITY),
        ("430181000000", DivisionLevel.COUNTY),
        ("430181108000", DivisionLevel.TOWNSHIP),
        ("430181108001", DivisionLevel.VILLAGE),
    ],
)
def test_the_level_is_read_from_the_trailing_zeros(text, level):
    assert parse_division_code(text).level is level


def test_surrounding_spaces_are_trimmed():
    assert parse_division_code(" 430181108000 ").code == "430181108000"


@pytest.mark.parametrize(
    "text", ["43018110800", "4301811080001", "43018110800X", "４３０１８１１０８０００", "", "000181108000"]
)
def test_anything_but_twelve_ascii_digits_is_refused_with_a_chinese_reason(text):
    with pytest.raises(DivisionCodeError, match="行政区划代码"):
        parse_division_code(text)


def test_a_village_lies_within_its_township_but_not_the_next():
    village = parse_division_code("430181108201")
    assert village.is_within(parse_division_code("430181108000"))
    assert village.is_within(parse_division_code("430181000000"))
    assert not village.is_within(parse_division_code("430181106000"))
