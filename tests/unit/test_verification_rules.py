"""rules.verification: what each outcome needs, the check day, due and overdue, what opens and closes a task."""

import functools
from datetime import date

from xueji.rules import verification as rules
from xueji.rules.comparisons import Outcome, Standing, VerifyOutcome
from xueji.rules.home_teaching import Conclusion

TODAY = date(2026, 11, 23)


def problems(outcome: VerifyOutcome, **fields) -> list[str]:
    finding = rules.Finding(outcome, fields.pop("visited_on", TODAY), **fields)
    return [field for field, _ in rules.finding_problems(finding, today=TODAY, opened_on=date(2026, 11, 1))]


def test_studying_in_another_county_needs_the_school_and_the_proof():
    assert problems(VerifyOutcome.OTHER_COUNTY) == ["就读学校", "证明材料"]
    assert problems(VerifyOutcome.OTHER_COUNTY, school="长沙市某小学", proof="在校证明") == []


def test_moved_away_needs_where_to_and_not_found_needs_what_was_tried():
    assert problems(VerifyOutcome.MOVED_AWAY) == ["迁往何处"]
    assert problems(VerifyOutcome.NOT_FOUND) == ["已采取的查找办法"]
    assert problems(VerifyOutcome.NOT_FOUND, tried="上门两次无人") == []


def test_out_of_school_needs_the_situation_and_home_teaching_or_death_need_nothing_more():
    assert problems(VerifyOutcome.OUT_OF_SCHOOL) == ["失学/辍学情况"]
    assert problems(VerifyOutcome.HOME_TEACHING) == []
    assert problems(VerifyOutcome.DECEASED) == []


def test_a_blank_of_spaces_is_missing_and_a_field_too_long_is_refused():
    assert problems(VerifyOutcome.MOVED_AWAY, place="   ") == ["迁往何处"]
    assert problems(VerifyOutcome.MOVED_AWAY, place="广" * 81) == ["迁往何处"]


def test_the_check_day_is_required_never_in_the_future_nor_before_the_task_was_opened():
    assert problems(VerifyOutcome.DECEASED, visited_on=None) == ["核实日期"]
    assert problems(VerifyOutcome.DECEASED, visited_on=date(2026, 11, 24)) == ["核实日期"]
    assert problems(VerifyOutcome.DECEASED, visited_on=date(2026, 10, 31)) == ["核实日期"]


def test_the_detail_names_the_fields_and_the_day_and_attempts_come_newest_first():
    finding = rules.Finding(VerifyOutcome.OTHER_COUNTY, TODAY, school="长沙市某小学", proof="在校证明")
    assert rules.finding_detail(finding) == "就读学校:长沙市某小学;证明材料:在校证明;2026-11-23核实"
    assert rules.with_attempt("第一次", "第二次") == "第二次 | 第一次"
    assert len(rules.with_attempt("旧" * 300, "新")) == 300


def test_a_task_is_overdue_only_when_open_and_past_its_due_day():
    due = rules.due_on(date(2026, 10, 1), 30)
    assert due == date(2026, 10, 31)
    assert rules.days_overdue("open", due, TODAY) == 23
    assert rules.days_overdue("open", TODAY, TODAY) == 0
    assert rules.days_overdue("done", due, TODAY) == 0


def test_only_a_child_of_age_with_no_registry_record_needs_verifying():
    assert rules.needs_verifying(Outcome.NOT_ENROLLED.value)
    assert not any(rules.needs_verifying(o.value) for o in Outcome if o is not Outcome.NOT_ENROLLED)
    assert not rules.needs_verifying(None)


def test_an_open_verification_closes_when_the_child_is_found_or_left_the_register():
    close = functools.partial(rules.verify_close_reason, of_age=True)
    assert close(on_register=False, outcome=None, confirmed_match=False) == "不在新版户籍名单中"
    assert close(on_register=True, outcome="in_school", confirmed_match=False) == "已在学籍中找到"
    assert close(on_register=True, outcome="separated", confirmed_match=True) == "已确认与学籍为同一人"
    assert close(on_register=True, outcome="not_enrolled", confirmed_match=False) is None
    assert close(on_register=True, outcome="pending_review", confirmed_match=False) is None


def test_a_child_who_ages_out_has_the_task_closed_as_past_school_age_not_as_gone_from_the_register():
    close = rules.verify_close_reason
    for on_register in (True, False):
        reason = close(on_register=on_register, outcome=None, confirmed_match=False, of_age=False)
        assert reason == "已超出义务教育年龄"
    assert close(on_register=False, outcome=None, confirmed_match=False, of_age=True) == "不在新版户籍名单中"


def test_a_disabled_child_needs_an_assessment_unless_provided_for_or_taught_at_home():
    assert rules.needs_assessment("welfare,disabled", Standing.UNKNOWN.value, home_teaching_case=False)
    assert rules.needs_assessment("disabled", Standing.DROPOUT.value, home_teaching_case=False)
    assert not rules.needs_assessment("disabled", Standing.DROPOUT.value, home_teaching_case=True)
    for standing in ("in_school", "suspended", "home_teaching", "deceased", "moved_away"):
        assert not rules.needs_assessment("disabled", standing, home_teaching_case=False)
    assert not rules.needs_assessment("orphan", Standing.UNKNOWN.value, home_teaching_case=False)


def test_an_open_assessment_closes_when_taught_at_home_in_school_or_gone_but_waits_otherwise():
    close = rules.assessment_close_reason
    assert close(on_ledger=True, standing="unknown", home_teaching_case=True) == "已纳入送教上门"
    assert close(on_ledger=False, standing=None, home_teaching_case=False) == "不在新版名单中"
    assert close(on_ledger=True, standing="in_school", home_teaching_case=False) == "已在学籍中找到"
    assert close(on_ledger=True, standing="deceased", home_teaching_case=False) == "已核实:死亡"
    # a 送教上门 verification left it: it waits for the coordinator
    assert close(on_ledger=True, standing="home_teaching", home_teaching_case=False) is None


def test_an_assessment_needs_a_conclusion_who_assessed_and_a_day_not_in_the_future():
    assert [f for f, _ in rules.assessment_problems(None, "", None, today=TODAY)] == [
        "评估结论",
        "评估情况",
        "评估日期",
    ]
    later = date(2026, 11, 24)
    assert [f for f, _ in rules.assessment_problems(Conclusion.DEFERRED, "专家组", later, today=TODAY)] == [
        "评估日期"
    ]
    assert rules.assessment_problems(Conclusion.HOME_TEACHING, "专家组", TODAY, today=TODAY) == []
