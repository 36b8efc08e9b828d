"""学籍异动: the kinds of status change, what each needs before it may be submitted, and what it does."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from xueji.rules.suspensions import (
    SuspensionPolicy,
    extension_problems,
    late_suspension_problem,
    one_year_after,
)
from xueji.rules.terms import TermDates
from xueji.rules.text_limits import length_problems
from xueji.rules.vocab import StudentStatus


class ChangeKind(StrEnum):
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    SUSPENSION = "suspension"
    RESUMPTION = "resumption"
    DROPOUT = "dropout"
    RETURN = "return"
    GRADUATION = "graduation"
    DEATH = "death"
    PROMOTION = "promotion"  # 升学: a graduate's record moves to the junior school that takes them (小升初)
    TRANSFER_IN_OUTSIDE = (
        "transfer_in_outside"  # 外县转入: from another county (a new record, or one that left)
    )
    EXTENSION = "extension"  # 续休: a suspension extended, asked in the half month before it ends

    @property
    def label(self) -> str:
        return {
            "transfer_out": "转出",
            "transfer_in": "转入",
            "suspension": "休学",
            "resumption": "复学",
            "dropout": "辍学",
            "return": "劝返复学",
            "graduation": "毕业",
            "death": "死亡",
            "promotion": "升学",
            "transfer_in_outside": "外县转入",
            "extension": "续休",
        }[self.value]

    @property
    def allowed_from(self) -> frozenset[StudentStatus]:
        """The statuses a student may be in when this change is submitted."""
        enrolled = frozenset({StudentStatus.ENROLLED})
        return {
            "transfer_out": enrolled,
            "transfer_in": enrolled,
            "suspension": enrolled,
            "resumption": frozenset({StudentStatus.SUSPENDED}),
            "dropout": frozenset({StudentStatus.ENROLLED, StudentStatus.SUSPENDED}),
            "return": frozenset({StudentStatus.DROPPED_OUT}),
            "graduation": enrolled,
            "death": frozenset({StudentStatus.ENROLLED, StudentStatus.SUSPENDED, StudentStatus.DROPPED_OUT}),
            "promotion": frozenset({StudentStatus.GRADUATED}),
            "transfer_in_outside": frozenset(
                {StudentStatus.TRANSFERRED_OUT}
            ),  # or a record new to the county
            "extension": frozenset({StudentStatus.SUSPENDED}),
        }[self.value]

    @property
    def result(self) -> StudentStatus:
        """The student's status once the change is approved."""
        return {
            "transfer_out": StudentStatus.TRANSFERRED_OUT,
            "transfer_in": StudentStatus.ENROLLED,
            "suspension": StudentStatus.SUSPENDED,
            "resumption": StudentStatus.ENROLLED,
            "dropout": StudentStatus.DROPPED_OUT,
            "return": StudentStatus.ENROLLED,
            "graduation": StudentStatus.GRADUATED,
            "death": StudentStatus.DECEASED,
            "promotion": StudentStatus.ENROLLED,
            "transfer_in_outside": StudentStatus.ENROLLED,
            "extension": StudentStatus.SUSPENDED,
        }[self.value]

    @property
    def places_in_class(self) -> bool:
        """The request names the class the child will sit in."""
        return self in (
            ChangeKind.TRANSFER_IN,
            ChangeKind.RESUMPTION,
            ChangeKind.RETURN,
            ChangeKind.PROMOTION,
            ChangeKind.TRANSFER_IN_OUTSIDE,
        )

    @property
    def is_transfer(self) -> bool:
        return self in (ChangeKind.TRANSFER_IN, ChangeKind.TRANSFER_OUT)


class ChangeState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"submitted": "待审批", "approved": "已批准", "rejected": "已驳回"}[self.value]


class Document(StrEnum):
    MEDICAL_CERTIFICATE = "medical_certificate"
    TRANSFER_CERTIFICATE = "transfer_certificate"
    RESIDENCE_PERMIT = "residence_permit"
    DEATH_CERTIFICATE = "death_certificate"
    HOUSEHOLD_PROOF = "household_proof"  # 转入: the household or property in the receiving school's catchment
    REGISTRY_FORM = "registry_form"  # 转入: the sending school's sealed registry form (学籍登记表)

    @property
    def label(self) -> str:
        return {
            "medical_certificate": "医疗证明",
            "transfer_certificate": "转学证明",
            "residence_permit": "居住证",
            "death_certificate": "死亡证明",
            "household_proof": "户籍或房产证明",
            "registry_form": "转出学校学籍登记表",
        }[self.value]


FINAL_GRADES = frozenset({6, 9})  # 六年级 and 九年级 normally take no transfers


def request_problems(
    kind: ChangeKind,
    *,
    status: StudentStatus,
    grade: int | None,
    documents: frozenset[Document],
    override_reason: str | None,
    effective_date: date,
    suspension_until: date | None,
    placement_grade: int | None,
    grade_at_suspension: int | None,
    reason: str,
    today: date,
    destination: str | None = None,
    suspension_end: date | None = None,  # 续休: the current end (latest approved 休学 or 续休)
    term: TermDates | None = None,  # the term of the effective date (休学 after mid-term)
    suspension_policy: SuspensionPolicy = SuspensionPolicy(),  # noqa: B008 - frozen, never mutated
) -> list[str]:
    """Every reason, in Chinese, why this request may not be submitted as it stands (empty: it may)."""
    problems = []
    if not reason.strip():
        problems.append("请填写异动原因")
    problems += [
        label + problem
        for label, problem in length_problems(
            {
                "异动原因": ("status_change.reason", reason.strip()),
                "转往": ("status_change.destination", (destination or "").strip()),
                "特殊情况说明": ("status_change.override_reason", (override_reason or "").strip()),
            }
        )
    ]
    if status not in kind.allowed_from:
        allowed = "、".join(s.label for s in kind.allowed_from)
        problems.append(f"学生当前为“{status.label}”,{kind.label}只适用于{allowed}的学生")
    if effective_date > today + timedelta(days=60):
        problems.append("异动日期不能晚于今天两个月以上")
    if kind.is_transfer and grade in FINAL_GRADES and not (override_reason or "").strip():
        problems.append(f"{grade}年级原则上不办理转学;确需转学时请填写特殊情况说明")
    if kind is ChangeKind.SUSPENSION:
        if Document.MEDICAL_CERTIFICATE not in documents:
            problems.append("休学须有医疗证明(请勾选已核验的医疗证明)")
        if suspension_until is None:
            problems.append("请填写休学截止日期")
        elif not effective_date < suspension_until <= one_year_after(effective_date):
            problems.append("休学期限最长一年:截止日期须在开始日期之后一年以内(期满可申请延长)")
        if late := late_suspension_problem(effective_date, term, override_reason):
            problems.append(late)
    if kind is ChangeKind.EXTENSION:
        problems += extension_problems(
            current_end=suspension_end,
            new_end=suspension_until,
            has_certificate=Document.MEDICAL_CERTIFICATE in documents,
            override_reason=override_reason,
            today=today,
            policy=suspension_policy,
        )
    if kind.places_in_class and placement_grade is None:
        problems.append("请选择编入的班级")
    if (
        kind is ChangeKind.RESUMPTION
        and placement_grade is not None
        and grade_at_suspension is not None
        and placement_grade < grade_at_suspension
    ):
        problems.append(f"复学编入的年级不能低于休学时的年级({grade_at_suspension}年级)")
    if kind is ChangeKind.DEATH and Document.DEATH_CERTIFICATE not in documents:
        problems.append("请核验并勾选死亡证明")
    return problems
