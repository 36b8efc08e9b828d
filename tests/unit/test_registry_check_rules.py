"""人籍一致: matching the children present to the registry, and checking an attendance list. Pure."""

from datetime import date

import pytest

from xueji.rules.id_number import build_id_number
from xueji.rules.registry_check import Finding, FindingKind, PresentPerson, RegistryPerson, reconcile
from xueji.services.registry.checks import RegistryCheckError, attendance_rows

ID = [build_id_number("430181", date(2018, 3, n), n, male=n % 2 == 1) for n in range(1, 6)]
REGISTRY = [
    RegistryPerson(1, "李浩宇", ID[0]),
    RegistryPerson(2, "王芳", ID[1]),
    RegistryPerson(3, "张伟", ID[2]),
    RegistryPerson(4, "刘洋", None),  # a temporary record
]


def kinds(findings: list[Finding]) -> list[tuple[FindingKind, str, int | None]]:
    return sorted((f.kind, f.name, f.student_id) for f in findings)


def test_everyone_present_as_registered_finds_nothing():
    present = [PresentPerson(p.name, p.id_number) for p in REGISTRY]
    assert reconcile(REGISTRY, present) == []
    assert reconcile([], []) == []


def test_children_not_present_are_missing():
    present = [PresentPerson("李浩宇", ID[0]), PresentPerson("刘洋")]
    assert kinds(reconcile(REGISTRY, present)) == [
        (FindingKind.MISSING, "张伟", 3),
        (FindingKind.MISSING, "王芳", 2),
    ]


def test_a_child_not_on_the_registry_is_extra_with_the_list_row():
    present = [*(PresentPerson(p.name, p.id_number) for p in REGISTRY), PresentPerson("陈静", ID[4], row=7)]
    (finding,) = reconcile(REGISTRY, present)
    assert (finding.kind, finding.name, finding.id_number, finding.row) == (
        FindingKind.EXTRA,
        "陈静",
        ID[4],
        7,
    )
    assert finding.student_id is None


def test_same_id_number_with_another_name_is_a_mismatch_not_missing_and_extra():
    present = [
        PresentPerson("李浩雨", ID[0], row=2),
        *(PresentPerson(p.name, p.id_number) for p in REGISTRY[1:]),
    ]
    (finding,) = reconcile(REGISTRY, present)
    assert (finding.kind, finding.student_id, finding.row) == (FindingKind.MISMATCH, 1, 2)
    assert "李浩宇" in finding.detail and "李浩雨" in finding.detail


def test_same_name_with_another_id_number_is_a_mismatch_showing_both_numbers():
    present = [
        PresentPerson("王芳", ID[3]),
        *(PresentPerson(p.name, p.id_number) for p in REGISTRY if p.student_id != 2),
    ]
    (finding,) = reconcile(REGISTRY, present)
    assert (finding.kind, finding.student_id, finding.id_number, finding.listed_id) == (
        FindingKind.MISMATCH,
        2,
        ID[1],
        ID[3],
    )


def test_a_temporary_record_found_with_an_id_number_is_flagged():
    present = [*(PresentPerson(p.name, p.id_number) for p in REGISTRY[:3]), PresentPerson("刘洋", ID[4])]
    (finding,) = reconcile(REGISTRY, present)
    assert finding.kind is FindingKind.MISMATCH and finding.student_id == 4 and "临时学籍" in finding.detail


def test_without_id_numbers_children_are_matched_by_name_and_namesakes_one_each():
    registry = [
        RegistryPerson(1, "王芳", None),
        RegistryPerson(2, "王芳", None),
        RegistryPerson(3, "张伟", None),
    ]
    assert kinds(reconcile(registry, [PresentPerson("王芳"), PresentPerson("张伟")])) == [
        (FindingKind.MISSING, "王芳", 2)
    ]
    assert kinds(reconcile(registry, [PresentPerson("王芳")] * 3)) == [
        (FindingKind.EXTRA, "王芳", None),
        (FindingKind.MISSING, "张伟", 3),
    ]


def test_a_child_listed_twice_is_counted_once_and_the_second_row_is_extra():
    present = [*(PresentPerson(p.name, p.id_number) for p in REGISTRY), PresentPerson("李浩宇", ID[0], row=9)]
    (finding,) = reconcile(REGISTRY, present)
    assert (finding.kind, finding.row) == (FindingKind.EXTRA, 9)


def test_every_registry_child_ends_up_matched_or_missing_exactly_once():
    present = [PresentPerson("李浩雨", ID[0]), PresentPerson("王芳", ID[3]), PresentPerson("陌生人")]
    findings = reconcile(REGISTRY, present)
    concerned = [f.student_id for f in findings if f.student_id is not None]
    assert sorted(concerned) == [1, 2, 3, 4]
    assert len(concerned) == len(set(concerned))


def test_an_attendance_list_is_checked_row_by_row_and_all_problems_reported():
    rows = [
        (2, "李浩宇", ID[0]),
        (3, "", ""),
        (4, "王芳", ID[1][:-1] + "0"),
        (5, "张伟", ID[0].lower()),
        (6, "刘洋", ""),
    ]
    with pytest.raises(RegistryCheckError) as raised:
        attendance_rows(rows)
    message = str(raised.value)
    assert "第3行 [姓名]" in message
    assert "第4行 [身份证号]" in message and "校验位" in message
    assert "第5行 [身份证号]" in message and "与第2行重复" in message
    assert "第6行" not in message and "第2行 [" not in message


def test_a_valid_attendance_list_normalises_id_numbers():
    wide = ID[2].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    present = attendance_rows([(2, " 张伟 ", wide), (3, "刘洋", "")])
    assert present == [PresentPerson("张伟", ID[2], 2), PresentPerson("刘洋", None, 3)]
