"""转学 controls as pure rules, with the source documents' numbers: both proofs for a transfer in (002), the grade
placed in (000: 取消留级), the window of the term's first two weeks and last two weeks (000 §三.1⑶), mid-year
entrants refused into classes of 55 (002)."""

from __future__ import annotations

from datetime import date

import pytest

from xueji.config import SettingsError, settings_from_env
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.terms import TermDates
from xueji.rules.transfers import (
    DEFAULT_PROOFS,
    WindowPhase,
    WindowPolicy,
    is_repeat,
    midyear_problem,
    missing_proofs,
    note_parts,
    parse_proofs,
    placement_note,
    placement_problem,
    proofs_problem,
    transfer_window,
    window_problem,
)

AUTUMN = TermDates(2026, 1, date(2026, 9, 1), date(2027, 1, 20))
SPRING = TermDates(2026, 2, date(2027, 2, 22), date(2027, 7, 9))
TERMS = (AUTUMN, SPRING)
POLICY = WindowPolicy()
IN = ChangeKind.TRANSFER_IN


def test_the_defaults_are_the_sources_two_weeks_two_weeks_and_55():
    settings = settings_from_env({})
    assert settings.transfer_window == WindowPolicy(start_days=14, end_days=14, midyear_class_limit=55)
    assert settings.transfer_proofs == {Document.HOUSEHOLD_PROOF, Document.REGISTRY_FORM}


def test_the_window_settings_are_read_and_refused_when_wrong():
    settings = settings_from_env(
        {
            "XUEJI_TRANSFER_WINDOW_DAYS": "7",
            "XUEJI_TRANSFER_WINDOW_END_DAYS": "0",
            "XUEJI_MIDYEAR_CLASS_LIMIT": "45",
        }
    )
    assert settings.transfer_window == WindowPolicy(start_days=7, end_days=0, midyear_class_limit=45)
    with pytest.raises(SettingsError, match="XUEJI_TRANSFER_WINDOW_DAYS"):
        settings_from_env({"XUEJI_TRANSFER_WINDOW_DAYS": "0"})


# ---- proofs -------------------------------------------------------------------------------------------------------


def test_a_transfer_in_needs_both_proofs_by_default_and_other_kinds_none():
    assert missing_proofs(IN, {Document.TRANSFER_CERTIFICATE}, DEFAULT_PROOFS) == [
        Document.HOUSEHOLD_PROOF,
        Document.REGISTRY_FORM,
    ]
    assert missing_proofs(IN, DEFAULT_PROOFS, DEFAULT_PROOFS) == []
    assert missing_proofs(ChangeKind.TRANSFER_OUT, set(), DEFAULT_PROOFS) == []
    assert parse_proofs("registry_form") == {Document.REGISTRY_FORM}
    with pytest.raises(ValueError, match="未知的材料"):
        parse_proofs("passport")


def test_a_missing_proof_is_refused_unless_the_registrar_says_why_it_comes_later():
    missing = [Document.REGISTRY_FORM]
    assert proofs_problem(IN, missing, "") == (
        "转入须核验转出学校学籍登记表;材料暂缺时须填写证明待补说明(缺什么、何时补交)"
    )
    assert proofs_problem(IN, missing, "原校盖章后一周内补交") is None
    assert proofs_problem(IN, [], "") is None


# ---- the grade placed in ------------------------------------------------------------------------------------------


def test_a_placement_in_the_records_grade_is_fine_and_a_higher_one_refused():
    assert placement_problem(IN, record_grade=4, placement_grade=4, repeat_reason="") is None
    assert placement_problem(IN, record_grade=4, placement_grade=5, repeat_reason="跳级") == (
        "编入5年级高于学籍所在的4年级:不能跳级编入"
    )


def test_a_lower_grade_is_a_repeat_and_needs_a_reason():
    assert placement_problem(IN, record_grade=4, placement_grade=3, repeat_reason="") == (
        "编入3年级低于学籍所在的4年级,属留级(原则上取消留级):确需编入时须填写留级原因"
    )
    assert (
        placement_problem(IN, record_grade=4, placement_grade=3, repeat_reason="外省教材不同,家长申请")
        is None
    )
    assert is_repeat(ChangeKind.RETURN, record_grade=5, placement_grade=4)
    assert (
        placement_problem(ChangeKind.RETURN, record_grade=5, placement_grade=4, repeat_reason="") is not None
    )


def test_a_resumption_may_go_back_to_its_grade_without_a_repeat_but_never_above_the_record():
    # suspended in grade 4 a year ago: the class is in grade 5 now, grade 4 is the floor (request_problems)
    assert not is_repeat(ChangeKind.RESUMPTION, record_grade=5, placement_grade=4)
    assert (
        placement_problem(ChangeKind.RESUMPTION, record_grade=5, placement_grade=4, repeat_reason="") is None
    )
    assert (
        placement_problem(ChangeKind.RESUMPTION, record_grade=5, placement_grade=6, repeat_reason="")
        is not None
    )


def test_kinds_that_place_nobody_and_unknown_grades_are_not_checked():
    assert placement_problem(ChangeKind.DROPOUT, record_grade=4, placement_grade=1, repeat_reason="") is None
    assert placement_problem(IN, record_grade=None, placement_grade=3, repeat_reason="") is None


def test_the_placement_note_names_its_parts_so_a_ledger_can_tell_them_apart():
    note = placement_note(repeat_reason=" 教材不同 ", proofs_later="登记表下周补交")
    assert note == "留级:教材不同;证明待补:登记表下周补交"
    assert note_parts(note) == {"留级": "教材不同", "证明待补": "登记表下周补交"}
    assert placement_note(repeat_reason="", proofs_later=None) is None
    assert note_parts(None) == {}


# ---- the window ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "phase", "term_day"),
    [
        (date(2026, 9, 1), WindowPhase.TERM_START, 1),
        (date(2026, 9, 14), WindowPhase.TERM_START, 14),  # 开学第2周内: the 14th day is the last
        (date(2026, 9, 15), WindowPhase.MID_TERM, 15),
        (date(2026, 11, 23), WindowPhase.MID_TERM, 84),
        (date(2027, 1, 6), WindowPhase.MID_TERM, 128),
        (date(2027, 1, 7), WindowPhase.TERM_END, 129),  # 学期结束前的两周: 7–20 January
        (date(2027, 1, 20), WindowPhase.TERM_END, 142),
        (date(2027, 2, 1), WindowPhase.HOLIDAY, None),  # winter holiday
        (date(2027, 2, 22), WindowPhase.TERM_START, 1),
        (date(2027, 8, 1), WindowPhase.HOLIDAY, None),  # summer holiday
    ],
)
def test_the_window_is_the_terms_first_and_last_two_weeks_and_the_holidays(day, phase, term_day):
    window = transfer_window(day, TERMS, POLICY)
    assert (window.phase, window.term_day) == (phase, term_day)
    assert window.outside is (phase is WindowPhase.MID_TERM)


def test_no_end_window_when_its_days_are_zero():
    assert transfer_window(date(2027, 1, 20), TERMS, WindowPolicy(end_days=0)).phase is WindowPhase.MID_TERM


def test_a_transfer_outside_the_window_needs_a_reason_and_says_who_decides():
    window = transfer_window(date(2026, 11, 23), TERMS, POLICY)
    assert window.notice.startswith("已过本学期转学窗口(开学后 14 天,今天是开学第 84 天)")
    assert "由县教育局审批" in window.notice
    problem = window_problem(ChangeKind.TRANSFER_OUT, window, "")
    assert problem and "请填写特殊情况说明" in problem
    assert window_problem(ChangeKind.TRANSFER_OUT, window, "父母工作调动") is None
    assert window_problem(ChangeKind.SUSPENSION, window, "") is None  # the window is for transfers only
    inside = transfer_window(date(2026, 9, 7), TERMS, POLICY)
    assert window_problem(IN, inside, "") is None
    assert inside.notice == "今天是2026-2027学年第一学期开学第 7 天,在转学窗口内(开学后 14 天)。"


def test_a_mid_year_entrant_is_refused_into_a_class_of_55_but_not_into_54_or_at_term_start():
    late = transfer_window(date(2026, 11, 23), TERMS, POLICY)
    assert midyear_problem(IN, late, class_name="小学2024级(01)班", size=55) == (
        "小学2024级(01)班已有55人,达到插班上限(55人):开学 14 天后,满额的班级不再接收插班生,请编入其他班级"
    )
    assert midyear_problem(IN, late, class_name="小学2024级(01)班", size=54) is None
    early = transfer_window(date(2026, 9, 3), TERMS, POLICY)
    assert midyear_problem(IN, early, class_name="小学2024级(01)班", size=55) is None
    end = transfer_window(date(2027, 1, 10), TERMS, POLICY)  # the end window: still after the first weeks
    assert end.midyear and not end.outside
    assert midyear_problem(IN, end, class_name="小学2024级(01)班", size=55) is not None
    assert midyear_problem(ChangeKind.RETURN, late, class_name="小学2024级(01)班", size=55) is None
    holiday = transfer_window(date(2027, 2, 1), TERMS, POLICY)
    assert not holiday.midyear
