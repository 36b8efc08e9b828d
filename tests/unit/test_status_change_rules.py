"""What each status change needs before it may be submitted: pure rules, no database."""

from datetime import date

from xueji.rules.status_changes import (
    ChangeKind,
    Document,
    one_year_after,
    request_problems,
)
from xueji.rules.vocab import StudentStatus

TODAY = date(2026, 11, 23)


def problems(kind, **given):
    base = {
        "status": StudentStatus.ENROLLED,
        "grade": 3,
        "documents": frozenset(),
        "override_reason": None,
        "effective_date": TODAY,
        "suspension_until": None,
        "placement_grade": None,
        "grade_at_suspension": None,
        "reason": "原因",
        "today": TODAY,
    }
    return request_problems(kind, **(base | given))


def test_a_complete_dropout_request_has_no_problems():
    assert problems(ChangeKind.DROPOUT) == []


def test_a_change_needs_a_reason():
    assert problems(ChangeKind.DROPOUT, reason=" ") == ["请填写异动原因"]


def test_a_change_must_suit_the_students_current_status():
    assert problems(ChangeKind.RESUMPTION, placement_grade=3) == ["学生当前为“在读”,复学只适用于休学的学生"]


def test_grades_six_and_nine_take_no_transfer_without_an_override_reason():
    assert problems(ChangeKind.TRANSFER_OUT, grade=9) == [
        "9年级原则上不办理转学;确需转学时请填写特殊情况说明"
    ]
    assert problems(ChangeKind.TRANSFER_OUT, grade=9, override_reason="随父母工作调动") == []
    assert problems(ChangeKind.TRANSFER_OUT, grade=8) == []


def test_a_suspension_needs_a_medical_certificate_and_ends_within_a_year():
    medical = frozenset({Document.MEDICAL_CERTIFICATE})
    assert problems(ChangeKind.SUSPENSION, documents=medical, suspension_until=date(2027, 11, 23)) == []
    assert problems(ChangeKind.SUSPENSION, documents=medical, suspension_until=date(2027, 11, 24)) == [
        "休学期限最长一年:截止日期须在开始日期之后一年以内(期满可申请延长)"
    ]
    assert problems(ChangeKind.SUSPENSION, suspension_until=date(2027, 3, 1)) == [
        "休学须有医疗证明(请勾选已核验的医疗证明)"
    ]


def test_resumption_places_the_child_no_lower_than_the_grade_at_suspension():
    suspended = {"status": StudentStatus.SUSPENDED, "grade_at_suspension": 4}
    assert problems(ChangeKind.RESUMPTION, placement_grade=4, **suspended) == []
    assert problems(ChangeKind.RESUMPTION, placement_grade=5, **suspended) == []
    assert problems(ChangeKind.RESUMPTION, placement_grade=3, **suspended) == [
        "复学编入的年级不能低于休学时的年级(4年级)"
    ]


def test_one_year_after_29_february_is_28_february():
    assert one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)
