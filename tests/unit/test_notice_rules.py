"""The notices' rules: placeholders, the 文号, 入学 vs 复学, who issues what, dates and file names."""

from datetime import date

import pytest

from xueji.config import SettingsError, settings_from_env
from xueji.notices.xml_text import printable
from xueji.rules.notices import (
    PLACEHOLDERS,
    NoticeKind,
    admission_word,
    chinese_date,
    file_name,
    issuing_unit,
    may_issue,
    notice_number,
    placeholder_spans,
    placeholders_in,
    shows_full_id,
    template_words,
    time_limit,
    unknown_placeholders,
)
from xueji.rules.vocab import Role

DEFAULT_PATTERN = "{township}控辍〔{year}〕{seq}号"


def test_placeholders_are_found_with_or_without_spaces_inside_the_braces():
    assert placeholders_in("{{儿童姓名}}同学,{{ 文号 }},{单个括号}") == ["儿童姓名", "文号"]


def test_placeholder_spans_point_at_the_braces():
    text = "致{{监护人}}:"
    ((start, end, name),) = placeholder_spans(text)
    assert (text[start:end], name) == ("{{监护人}}", "监护人")


def test_an_unknown_placeholder_is_named_once():
    assert unknown_placeholders(["儿童姓名", "班主任", "文号", "班主任"]) == ["班主任"]


def test_the_documented_placeholders_include_the_brief_ones():
    for name in (
        "文号",
        "乡镇",
        "县",
        "学校",
        "儿童姓名",
        "性别",
        "出生日期",
        "身份证号",
        "监护人",
        "住址",
        "年级",
    ):
        assert name in PLACEHOLDERS
    assert {"期限天数", "发文日期", "签发单位"} <= set(PLACEHOLDERS)


def test_the_default_number_reads_like_a_township_document_number():
    assert notice_number(DEFAULT_PATTERN, township="古港镇", year=2026, seq=3) == "古港镇控辍〔2026〕3号"


def test_a_county_pattern_may_pad_the_sequence():
    assert notice_number("{township}教〔{year}〕{seq:03d}号", township="沿溪镇", year=2027, seq=7) == (
        "沿溪镇教〔2027〕007号"
    )


def test_a_child_never_registered_is_ordered_to_enrol_one_who_left_to_return():
    assert admission_word(enrolled_before=False) == "入学"
    assert NoticeKind.ORDER.heading(enrolled_before=False) == "限期入学通知书"
    assert NoticeKind.ORDER.heading(enrolled_before=True) == "限期复学通知书"
    assert NoticeKind.PERSUASION.heading(enrolled_before=True) == "劝返复学告知书"


def test_only_the_township_orders_and_the_teacher_issues_nothing():
    assert may_issue(NoticeKind.ORDER, Role.TOWNSHIP_OFFICIAL)
    assert not may_issue(NoticeKind.ORDER, Role.REGISTRAR)
    assert not may_issue(NoticeKind.ORDER, Role.COUNTY_OFFICER)
    assert may_issue(NoticeKind.PERSUASION, Role.REGISTRAR)
    assert not may_issue(NoticeKind.PERSUASION, Role.COUNTY_OFFICER)
    assert may_issue(NoticeKind.CASE_FILE, Role.COUNTY_OFFICER)
    assert not any(may_issue(k, Role.TEACHER) for k in NoticeKind)


def test_the_case_file_has_no_number():
    assert NoticeKind.ORDER.numbered and NoticeKind.PERSUASION.numbered
    assert not NoticeKind.CASE_FILE.numbered


def test_the_notice_left_with_the_family_masks_the_id_number():
    assert shows_full_id(NoticeKind.ORDER, sees_fieldwork=True)
    assert not shows_full_id(NoticeKind.PERSUASION, sees_fieldwork=True)
    assert not shows_full_id(NoticeKind.CASE_FILE, sees_fieldwork=False)


def test_official_dates_have_no_leading_zeros():
    assert chinese_date(date(2026, 11, 6)) == "2026年11月6日"
    assert chinese_date(None) == ""


def test_the_issuing_unit_follows_the_role():
    names = {"township": "古港镇", "school": "古港镇完全小学", "county": "浏阳市"}
    assert issuing_unit(Role.TOWNSHIP_OFFICIAL, **names) == "古港镇人民政府"
    assert issuing_unit(Role.TOWNSHIP_OFFICIAL, **{**names, "township": "淮川街道"}) == "淮川街道办事处"
    assert issuing_unit(Role.REGISTRAR, **names) == "古港镇完全小学"
    assert issuing_unit(Role.COUNTY_OFFICER, **names) == "浏阳市教育局"


def test_file_names_carry_the_number_or_the_child_and_day():
    assert file_name(
        "限期复学通知书", number="古港镇控辍〔2026〕3号", child="张三", issued_on=date(2026, 11, 23)
    ) == ("限期复学通知书_古港镇控辍〔2026〕3号.docx")
    assert file_name("个案档案", number=None, child="张/三", issued_on=date(2026, 11, 23)) == (
        "个案档案_张_三_20261123.docx"
    )


def test_the_printed_limit_runs_from_service_as_the_ladder_counts_it_so_it_names_no_date():
    assert time_limit(15) == "自接到本通知之日起15日内"


def test_the_case_file_names_the_template_in_words():
    assert template_words("内置 order.docx") == "内置模板"
    assert template_words("本县 persuasion.docx") == "本县模板"


@pytest.mark.parametrize("pattern", ["{township.name}控辍〔{year}〕{seq}号", "{year[0]}", "{x}", "{seq:q}"])
def test_a_number_pattern_the_notices_cannot_fill_is_refused_at_startup(pattern):
    with pytest.raises(SettingsError, match="XUEJI_NOTICE_NUMBER"):
        settings_from_env({"XUEJI_NOTICE_NUMBER": pattern})


def test_characters_xml_cannot_hold_are_left_out_and_the_rest_kept():
    assert printable("竹林\x0b村\x00\x0c3组\t\n\ud800") == "竹林村3组\t\n"
