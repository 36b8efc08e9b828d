"""The sweep's pure rules: village status moves, household and child checks, the age window, coverage and
lateness, and reconciliation (三比对) for every status and registry state, the weak match included."""

from datetime import date

import pytest

from xueji.rules.id_number import build_id_number
from xueji.rules.sweeps import (
    ChildFacts,
    Finding,
    FoundStatus,
    HouseholdFacts,
    MatchKind,
    RegistryMatch,
    VillageStatus,
    child_problems,
    coverage_rate,
    entry_problems,
    filled_child,
    group_of,
    household_problems,
    is_late,
    move_problem,
    reconcile,
    reconciled_text,
    reference_date,
    sweep_age_range,
)
from xueji.rules.vocab import StudentStatus

REFERENCE = date(2026, 8, 31)
TODAY = date(2026, 11, 23)
TERM_START = date(2026, 9, 1)
S = VillageStatus


# ---- village status -------------------------------------------------------------------------------------


@pytest.mark.parametrize("current", [S.PLANNED, S.IN_PROGRESS, S.RETURNED, S.REVIEWED])
def test_a_village_cannot_be_approved_or_returned_unless_it_was_submitted(current):
    assert (
        move_problem(current, S.REVIEWED, households=10)
        == f"该村排查{current.label},只有已提交的村才能审核通过"
    )
    assert move_problem(current, S.RETURNED, households=10, reason="漏户") is not None


def test_a_submitted_village_can_be_approved_or_returned_with_a_reason():
    assert move_problem(S.SUBMITTED, S.REVIEWED, households=10) is None
    assert move_problem(S.SUBMITTED, S.RETURNED, households=10, reason="三组未走访") is None
    assert move_problem(S.SUBMITTED, S.RETURNED, households=10, reason="  ") == (
        "退回须写明原因(如哪些组未排查、哪些户信息不全)"
    )


def test_a_village_with_no_household_cannot_be_submitted():
    assert move_problem(S.IN_PROGRESS, S.SUBMITTED, households=0) == "该村还没有登记任何户,不能提交"
    assert move_problem(S.PLANNED, S.SUBMITTED, households=0) == "该村还没有登记任何户,不能提交"
    assert move_problem(S.IN_PROGRESS, S.SUBMITTED, households=1) is None
    assert move_problem(S.RETURNED, S.SUBMITTED, households=1) is None


def test_only_villages_not_yet_submitted_take_entries():
    assert [s for s in S if s.open_for_entry] == [S.PLANNED, S.IN_PROGRESS, S.RETURNED]


# ---- lateness and coverage ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "today", "late"),
    [
        (S.PLANNED, date(2026, 10, 2), True),
        (S.IN_PROGRESS, date(2026, 10, 2), True),
        (S.RETURNED, date(2026, 10, 2), True),
        (S.SUBMITTED, date(2026, 10, 2), False),
        (S.REVIEWED, date(2026, 10, 2), False),
        (S.PLANNED, date(2026, 10, 1), False),  # the due day itself is still on time
    ],
)
def test_a_village_is_late_after_its_due_date_until_submitted(status, today, late):
    assert is_late(status, date(2026, 10, 1), today) is late


def test_coverage_is_households_visited_over_the_village_count():
    assert coverage_rate(45, 60) == 0.75
    assert coverage_rate(60, 60) == 1.0
    assert coverage_rate(66, 60) == 1.1  # more found than the count says: shown as it is, not hidden
    assert coverage_rate(10, None) is None
    assert coverage_rate(10, 0) is None


# ---- the age window --------------------------------------------------------------------------------------------


def test_ages_count_on_the_reference_day_of_the_school_years_start():
    assert reference_date(2026, (8, 31)) == REFERENCE
    oldest, youngest = sweep_age_range(REFERENCE)
    assert youngest == date(2020, 8, 31)  # six on 31 August
    assert oldest == date(2010, 9, 1)  # fifteen on 31 August (sixteen on 1 September 2026)


def _child(**kw) -> ChildFacts:
    values = {"name": "张小明", "status": FoundStatus.NOT_ENROLLED, "birth_date": date(2016, 3, 4)}
    return ChildFacts(**(values | kw))


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        (date(2020, 8, 31), True),
        (date(2020, 9, 1), False),
        (date(2010, 9, 1), True),
        (date(2010, 8, 31), False),
    ],
)
def test_a_child_outside_6_to_15_on_the_reference_day_is_refused(born, ok):
    problems = child_problems(_child(birth_date=born), reference=REFERENCE)
    assert (problems == []) is ok
    if not ok:
        assert problems[0][0] == "出生日期" and "不在 6–15 周岁" in problems[0][1]


def test_the_id_number_must_be_valid_and_agree_with_birth_date_and_sex():
    number = build_id_number("430181", date(2016, 3, 4), 10, male=True)
    assert child_problems(_child(id_number=number, sex="男"), reference=REFERENCE) == []
    assert child_problems(_child(id_number=number, sex="女"), reference=REFERENCE) == [
        ("性别", "与身份证号不一致(身份证号为男性)")
    ]
    assert child_problems(_child(id_number=number, birth_date=date(2016, 3, 5)), reference=REFERENCE)[0] == (
        "出生日期",
        "与身份证号中的出生日期 20160304 不一致",
    )
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert child_problems(_child(id_number=wrong), reference=REFERENCE)[0][0] == "身份证号"


def test_the_id_number_fills_in_birth_date_and_sex():
    number = build_id_number("430181", date(2016, 3, 4), 10, male=False)
    filled = filled_child(
        ChildFacts(name=" 张小红 ", status=FoundStatus.NOT_ENROLLED, id_number=number.lower())
    )
    assert (filled.name, filled.birth_date, filled.sex, filled.id_number) == (
        "张小红",
        date(2016, 3, 4),
        "女",
        number,
    )
    assert child_problems(filled, reference=REFERENCE) == []


@pytest.mark.parametrize(
    ("facts", "field", "reason_part"),
    [
        (_child(name=""), "儿童姓名", "必填"),
        (_child(birth_date=None), "出生日期", "必填"),
        (_child(status=FoundStatus.LOCAL_SCHOOL), "就读学校/去向", "本县学校"),
        (_child(status=FoundStatus.ELSEWHERE), "就读学校/去向", "就读地"),
        (_child(status=FoundStatus.MOVED_AWAY), "就读学校/去向", "去向"),
        (_child(status=FoundStatus.DISABLED_HOME), "残疾类型", "残疾类型"),
        (_child(status=FoundStatus.DISABLED_HOME, disability_type="其他"), "残疾类型", "残疾类型"),
        (_child(sex="M"), "性别", "男或女"),
    ],
)
def test_each_missing_or_wrong_child_field_is_named(facts, field, reason_part):
    problems = child_problems(facts, reference=REFERENCE)
    assert any(f == field and reason_part in r for f, r in problems), problems


def test_a_complete_child_of_each_status_passes():
    complete = {
        FoundStatus.LOCAL_SCHOOL: {"school_id": 1},
        FoundStatus.ELSEWHERE: {"place": "广东省深圳市某小学"},
        FoundStatus.MOVED_AWAY: {"place": "随父母去广东"},
        FoundStatus.DISABLED_HOME: {"disability_type": "智力"},
    }
    for status in FoundStatus:
        assert child_problems(_child(status=status, **complete.get(status, {})), reference=REFERENCE) == []


def test_a_household_needs_a_head_a_valid_phone_and_a_visit_day_in_the_term():
    good = HouseholdFacts(
        head_name="张大山", phone="13800138000", school_age_count=2, visited_on=date(2026, 11, 20)
    )
    assert household_problems(good, today=TODAY, earliest=TERM_START) == []
    bad = HouseholdFacts(
        head_name="张 大山", phone="12345", school_age_count=21, visited_on=date(2026, 11, 24)
    )
    assert [f for f, _ in household_problems(bad, today=TODAY, earliest=TERM_START)] == [
        "户主姓名",
        "联系电话",
        "适龄儿童数",
        "走访日期",
    ]
    early = HouseholdFacts(head_name="张大山", visited_on=date(2026, 8, 30))
    assert household_problems(early, today=TODAY, earliest=TERM_START) == [
        ("走访日期", "不能早于本学期开学 2026-09-01")
    ]
    assert household_problems(HouseholdFacts(head_name=""), today=TODAY, earliest=TERM_START) == [
        ("户主姓名", "必填"),
        ("走访日期", "必填"),
    ]


# ---- reconciliation -------------------------------------------------------------------------------------------

NONE = RegistryMatch()
ENROLLED_HERE = RegistryMatch(MatchKind.ID, StudentStatus.ENROLLED, school_id=1)


def _kinds(status, match, **kw) -> list[Finding]:
    return [f for f, _ in reconcile(status, match, **kw)]


@pytest.mark.parametrize("status", [FoundStatus.NOT_ENROLLED, FoundStatus.DROPPED_OUT])
def test_out_of_school_and_not_on_the_registry_is_a_suspected_dropout(status):
    assert reconcile(status, NONE) == [(Finding.SUSPECTED_DROPOUT, f"排查发现{status.label},不在任何学校")]


def test_out_of_school_but_enrolled_on_the_registry_is_both_enrolled_absent_and_a_suspected_dropout():
    assert _kinds(FoundStatus.NOT_ENROLLED, ENROLLED_HERE) == [
        Finding.ENROLLED_ABSENT,
        Finding.SUSPECTED_DROPOUT,
    ]


@pytest.mark.parametrize("known", [StudentStatus.DROPPED_OUT, StudentStatus.SUSPENDED])
def test_out_of_school_when_the_record_already_says_dropped_out_or_suspended_adds_nothing(known):
    assert reconcile(FoundStatus.DROPPED_OUT, RegistryMatch(MatchKind.ID, known, school_id=1)) == []


@pytest.mark.parametrize(
    "left", [StudentStatus.TRANSFERRED_OUT, StudentStatus.GRADUATED, StudentStatus.DECEASED]
)
def test_out_of_school_after_the_record_was_closed_is_a_suspected_dropout(left):
    assert _kinds(FoundStatus.NOT_ENROLLED, RegistryMatch(MatchKind.ID, left)) == [Finding.SUSPECTED_DROPOUT]


def test_disabled_at_home_is_a_home_teaching_candidate_unless_already_taught_at_home():
    assert _kinds(FoundStatus.DISABLED_HOME, NONE) == [Finding.HOME_TEACHING_CANDIDATE]
    assert _kinds(FoundStatus.DISABLED_HOME, ENROLLED_HERE) == [
        Finding.ENROLLED_ABSENT,
        Finding.HOME_TEACHING_CANDIDATE,
    ]
    taught = RegistryMatch(MatchKind.ID, StudentStatus.ENROLLED, school_id=1, home_teaching=True)
    assert reconcile(FoundStatus.DISABLED_HOME, taught) == []


def test_moved_away_while_enrolled_is_enrolled_absent_unless_a_transfer_is_under_way():
    assert reconcile(FoundStatus.MOVED_AWAY, ENROLLED_HERE, place="随父母去广东") == [
        (Finding.ENROLLED_ABSENT, "户在人不在,去向:随父母去广东")
    ]
    pending = RegistryMatch(MatchKind.ID, StudentStatus.ENROLLED, school_id=1, transfer_pending=True)
    assert reconcile(FoundStatus.MOVED_AWAY, pending) == []
    assert reconcile(FoundStatus.MOVED_AWAY, NONE) == []


def test_dead_while_the_record_is_open_is_enrolled_absent():
    assert _kinds(FoundStatus.DECEASED, ENROLLED_HERE) == [Finding.ENROLLED_ABSENT]
    assert _kinds(FoundStatus.DECEASED, RegistryMatch(MatchKind.ID, StudentStatus.SUSPENDED)) == [
        Finding.ENROLLED_ABSENT
    ]
    assert reconcile(FoundStatus.DECEASED, RegistryMatch(MatchKind.ID, StudentStatus.DECEASED)) == []
    assert reconcile(FoundStatus.DECEASED, NONE) == []


def test_studying_elsewhere_while_enrolled_here_without_a_transfer_goes_to_the_registrar():
    assert reconcile(FoundStatus.ELSEWHERE, ENROLLED_HERE, place="深圳某小学") == [
        (Finding.REGISTRY_MISMATCH, "在外地就读(深圳某小学),未办转学")
    ]
    pending = RegistryMatch(MatchKind.ID, StudentStatus.ENROLLED, school_id=1, transfer_pending=True)
    assert reconcile(FoundStatus.ELSEWHERE, pending) == []
    assert reconcile(FoundStatus.ELSEWHERE, RegistryMatch(MatchKind.ID, StudentStatus.TRANSFERRED_OUT)) == []
    assert reconcile(FoundStatus.ELSEWHERE, NONE) == []  # registered where they study, out of our sight


@pytest.mark.parametrize(
    ("match", "reason"),
    [
        (NONE, "在本地学校就读,但查无学籍"),
        (
            RegistryMatch(MatchKind.ID, StudentStatus.ENROLLED, school_id=2),
            "实际就读学校与学籍所在学校不一致",
        ),
        (
            RegistryMatch(MatchKind.ID, StudentStatus.DROPPED_OUT, school_id=1),
            "学籍状态为辍学,实际在本地学校就读",
        ),
        (
            RegistryMatch(MatchKind.ID, StudentStatus.SUSPENDED, school_id=1),
            "学籍状态为休学,实际在本地学校就读",
        ),
        (
            RegistryMatch(MatchKind.ID, StudentStatus.TRANSFERRED_OUT, school_id=1),
            "学籍状态为转出,实际在本地学校就读",
        ),
    ],
)
def test_at_a_local_school_against_a_record_that_disagrees_goes_to_the_registrar(match, reason):
    assert reconcile(FoundStatus.LOCAL_SCHOOL, match, school_id=1) == [(Finding.REGISTRY_MISMATCH, reason)]


def test_at_the_local_school_of_the_record_is_in_order():
    assert reconcile(FoundStatus.LOCAL_SCHOOL, ENROLLED_HERE, school_id=1) == []
    moving = RegistryMatch(MatchKind.ID, StudentStatus.ENROLLED, school_id=2, transfer_pending=True)
    assert reconcile(FoundStatus.LOCAL_SCHOOL, moving, school_id=1) == []


def test_a_weak_match_says_so_in_every_reason():
    weak = RegistryMatch(MatchKind.WEAK, StudentStatus.ENROLLED, school_id=1)
    found = reconcile(FoundStatus.NOT_ENROLLED, weak)
    assert [f for f, _ in found] == [Finding.ENROLLED_ABSENT, Finding.SUSPECTED_DROPOUT]
    assert all(r.endswith("(弱匹配:姓名+出生日期+村一致,请核实身份)") for _, r in found)
    assert reconcile(FoundStatus.LOCAL_SCHOOL, weak, school_id=1) == []


def test_the_counts_read_as_one_line():
    counts = {"suspected_dropout": 2, "enrolled_absent": 1, "opened": 2}
    assert reconciled_text(counts) == (
        "疑似辍学(已建档) 2,名在人不在 1,就读与学籍不符(待学籍管理员处理) 0,送教上门候选 0;新建疑似辍学个案 2 个"
    )


def test_a_households_problems_name_the_child_they_concern_and_a_child_twice():
    number = build_id_number("430181", date(2016, 3, 4), 10, male=True)
    twice = ChildFacts("张小明", FoundStatus.NOT_ENROLLED, id_number=number, birth_date=date(2016, 3, 4))
    problems = entry_problems(
        HouseholdFacts(head_name="", visited_on=date(2026, 11, 20)),
        [_child(), _child(name="张小红", status=FoundStatus.ELSEWHERE), twice, twice],
        reference=REFERENCE,
        today=TODAY,
        earliest=TERM_START,
    )
    assert problems == [
        (None, "户主姓名", "必填"),
        (1, "就读学校/去向", "在外地就读须填写就读地(省/县/学校)"),
        (3, "儿童姓名", "同一户中重复登记了这个孩子"),
    ]


def test_the_group_is_read_from_an_address():
    assert group_of("湖南省浏阳市古港镇古港社区12组") == "12组"
    assert group_of("古港镇宝盖村") == ""
    assert group_of(None) == ""
