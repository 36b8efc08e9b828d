"""Pinyin initials for search, and the grade ↔ class-code cohort the grade filter uses."""

import pytest

from xueji.rules.class_code import cohort_in_grade, grade_in_school_year
from xueji.rules.pinyin import looks_like_initials, name_initials
from xueji.rules.vocab import Stage


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("张小明", "zxm"),
        ("曾国藩", "zgf"),  # 曾 as a surname is zēng, not céng
        ("单雄信", "sxx"),  # 单 as a surname is shàn
        ("欧阳娜娜", "oynn"),
        ("阿依古丽·买买提", "ayglmmt"),  # the dot of a minority name is not a letter
        (" 李 明 ", "lm"),
        ("", ""),
    ],
)
def test_initials_read_a_surname_as_a_surname(name, initials):
    assert name_initials(name) == initials


def test_only_latin_letters_are_taken_for_initials():
    assert looks_like_initials("zxm") and looks_like_initials("ZXM")
    assert not looks_like_initials("张") and not looks_like_initials("1234") and not looks_like_initials("")


@pytest.mark.parametrize("grade", range(1, 10))
def test_the_cohort_of_a_grade_is_in_that_grade(grade):
    entry_year, stage = cohort_in_grade(grade, 2026)
    assert grade_in_school_year(entry_year, stage, 2026) == grade
    assert stage is (Stage.PRIMARY if grade <= 6 else Stage.JUNIOR)


def test_the_shipped_initials_table_is_pypinyins_first_readings():
    """rules/pinyin_initials.txt spares the import pypinyin's 56 MB dictionary; if pypinyin is upgraded and
    this fails, write the table again: python -c "from xueji.rules.pinyin import initials_table_text as t;
    open('xueji/rules/pinyin_initials.txt', 'w', encoding='ascii').write(t())"."""
    from importlib.resources import files

    from xueji.rules.pinyin import INITIALS_FILE, initials_table_text

    assert files("xueji.rules").joinpath(INITIALS_FILE).read_text(encoding="ascii") == initials_table_text()
