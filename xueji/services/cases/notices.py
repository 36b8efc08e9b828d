"""通知书和个案档案: generate a case's documents (.docx) from the templates (xueji.notices), number them in the
township's sequence for the year (文号), keep the file exactly as generated, and hand it out again (audited).

Who issues what (rules.notices.ISSUERS): 限期入学/复学通知书 — the child's township, while the case's ladder
stands at the township's step (the notice is tied to that step); 劝返复学告知书 — the school's registrar (their
own school's case) or the township, on an open out-of-school case; 个案档案 — any NOTICE_ISSUE role, any case in
scope. Every refusal is audited."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date, timedelta

from docx import Document
from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.audit import lock_tail, record
from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.models import (
    AppUser,
    Case,
    CaseEvent,
    Child,
    County,
    FamilyMember,
    HomeVisit,
    LadderStep,
    Notice,
    Township,
)
from xueji.notices.case_file import CaseFile, Section, append_case_file
from xueji.notices.fill import NoticeTemplateError, fill, open_template, template_for, to_bytes
from xueji.rules.cases import CaseCategory, CaseStatus, CloseReason, RiskLevel
from xueji.rules.ladder import CountyMeasure, Step, StepState
from xueji.rules.masking import mask_id_number, mask_phone
from xueji.rules.notices import (
    NoticeKind,
    admission_word,
    chinese_date,
    file_name,
    issuing_unit,
    may_issue,
    notice_number,
    shows_full_id,
)
from xueji.rules.visits import ReturnOutcome, VisitKind, VisitMethod
from xueji.rules.vocab import Role
from xueji.services.cases.detail import ChildCard, _card
from xueji.services.cases.opening import add_event
from xueji.services.common.access import child_condition, deny, require, sees_fieldwork_identifiers
from xueji.services.common.refusals import audit_refusal

EVENT = "notice"  # the case timeline's kind


class NoticeError(ValueError):
    """The document cannot be generated as asked; the message says why, in Chinese."""


@dataclass(frozen=True)
class NoticeRow:
    id: int
    kind: NoticeKind
    title: str  # 限期复学通知书, 劝返复学告知书, 个案档案
    number: str  # the 文号; "" for a case file
    issued_on: date
    issued_by: str
    template: str  # 内置 order.docx / 本县 order.docx


# ---- who may issue what, now ----------------------------------------------------------------------------------


def _open_township_step(session: Session, case_id: int) -> LadderStep | None:
    return session.scalar(
        select(LadderStep).where(
            LadderStep.case_id == case_id,
            LadderStep.state == StepState.OPEN.value,
            LadderStep.step == Step.TOWNSHIP.value,
        )
    )


def _why_not(
    session: Session, actor: Actor, case: Case, child: Child, kind: NoticeKind
) -> tuple[str, bool] | None:
    """Why this actor may not issue this kind on this case now, and whether that is a matter of permission (the
    role, the township) rather than of the case; None if they may."""
    if not may_issue(kind, actor.role):
        return f"您的角色({actor.role.label})不能生成{kind.label}", True
    if kind is NoticeKind.CASE_FILE:
        return None
    if (
        kind is NoticeKind.ORDER
        and actor.role is Role.TOWNSHIP_OFFICIAL
        and actor.scope_id != child.township_id
    ):
        return "限期入学/复学通知书由儿童所在乡镇签发", True
    if not CaseCategory(case.category).out_of_school:
        return f"只有疑似辍学、辍学个案才能生成{kind.label}", False
    if case.status == CaseStatus.CLOSED.value:
        return f"该个案已销号,不能再生成{kind.label}", False
    if kind is NoticeKind.ORDER:
        step = _open_township_step(session, case.id)
        if step is None:
            return "该个案的劝返复学当前不在“乡镇书面限期通知”这一步,不能生成限期通知书", False
        issued = session.scalar(
            select(Notice.number).where(Notice.step_id == step.id, Notice.kind == NoticeKind.ORDER.value)
        )
        if issued is not None:
            return f"这一步已生成限期通知书({issued}):请下载已有的一份送达,不要重复取号", False
    return None


def _case_in_scope(session: Session, actor: Actor, case_id: int, action: Action) -> tuple[Case, Child]:
    require(session, actor, action)
    found = session.execute(
        select(Case, Child)
        .join(Child, Case.child_id == Child.id)
        .where(Case.id == case_id, child_condition(actor))
    ).first()
    if found is None:
        deny(session, actor, action.value, "该个案不在您的管辖范围内", entity_type="case", entity_id=case_id)
    return found[0], found[1]


def issuable(session: Session, *, actor: Actor, case_id: int) -> list[NoticeKind]:
    """The kinds this actor may generate on this case now (for the buttons); [] outside their scope."""
    if not actor.can(Action.NOTICE_ISSUE):
        return []
    found = session.execute(
        select(Case, Child)
        .join(Child, Case.child_id == Child.id)
        .where(Case.id == case_id, child_condition(actor))
    ).first()
    if found is None:
        return []
    return [k for k in NoticeKind if _why_not(session, actor, found[0], found[1], k) is None]


# ---- issuing --------------------------------------------------------------------------------------------------


@unit_of_work
def issue_notice(session: Session, *, actor: Actor, case_id: int, kind: NoticeKind) -> Notice:
    """Generate the document, give it the township's next 文号 for the year (numbered kinds), keep it on the
    case, put it on the timeline and in the audit log."""
    lock_tail(session)  # serialises writers: the next 文号 is read and taken in one go
    case, child = _case_in_scope(session, actor, case_id, Action.NOTICE_ISSUE)
    problem = _why_not(session, actor, case, child, kind)
    if problem is not None:
        message, permission = problem
        if permission:
            deny(session, actor, Action.NOTICE_ISSUE.value, message, entity_type="case", entity_id=case_id)
        audit_refusal(
            session, actor, action="notice.issue", entity_type="case", entity_id=case_id, message=message,
            after={"notice": kind.value},
        )  # fmt: skip
        raise NoticeError(message)
    settings = get_settings()
    issued_on = today()
    township = session.get(Township, child.township_id)
    assert township is not None  # a child's township is a foreign key
    county = session.get(County, township.county_id)
    seq = number = None
    if kind.numbered:
        last = session.scalar(
            select(func.max(Notice.seq)).where(
                Notice.township_id == township.id, Notice.year == issued_on.year
            )
        )
        seq = (last or 0) + 1
        number = notice_number(settings.notice_number, township=township.name, year=issued_on.year, seq=seq)
    card = _card(session, child, True)
    full = shows_full_id(kind, sees_fieldwork=sees_fieldwork_identifiers(actor))
    enrolled_before = child.student_id is not None
    title = kind.heading(enrolled_before=enrolled_before)
    days = settings.ladder.order_days
    values = {
        "文号": number or "",
        "乡镇": township.name,
        "县": county.name if county else "",
        "学校": card.school or ("户籍所在地学校" if kind is NoticeKind.ORDER else ""),
        "儿童姓名": card.name,
        "性别": card.sex,
        "出生日期": chinese_date(card.birth_date),
        "身份证号": (card.id_number if full else mask_id_number(card.id_number)) or "",
        "监护人": card.guardian,
        "住址": card.address,
        "年级": card.class_name,
        "入学复学": admission_word(enrolled_before=enrolled_before),
        "期限天数": str(days),
        "期限日期": chinese_date(issued_on + timedelta(days=days)),
        "发文日期": chinese_date(issued_on),
        "签发单位": issuing_unit(
            actor.role, township=township.name, school=card.school, county=county.name if county else ""
        ),
    }
    template = template_for(kind, settings.notice_templates)
    try:
        document = open_template(template)
    except NoticeTemplateError as exc:
        audit_refusal(
            session, actor, action="notice.issue", entity_type="case", entity_id=case_id, message=str(exc),
            after={"notice": kind.value},
        )  # fmt: skip
        raise NoticeError(str(exc)) from exc
    fill(document, values)
    if kind is NoticeKind.CASE_FILE:
        append_case_file(document, _case_file(session, case, child, card, full))
    document.core_properties.title = title
    content = to_bytes(document)
    step = _open_township_step(session, case.id) if kind is NoticeKind.ORDER else None
    notice = Notice(
        case_id=case.id,
        step_id=step.id if step else None,
        kind=kind.value,
        township_id=township.id,
        year=issued_on.year,
        seq=seq,
        number=number,
        issued_on=issued_on,
        issued_by=actor.user_id,
        template=template.name,
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(notice)
    session.flush()
    words = f"生成{title}" + (f" {number}" if number else "")
    add_event(session, case.id, actor, EVENT, words)
    record(
        session,
        actor=actor,
        action="notice.issue",
        entity_type="case",
        entity_id=case.id,
        after={"notice": kind.value, "number": number or "", "notice_id": notice.id, "sha256": notice.sha256},
        detail=words,
    )
    session.commit()
    session.refresh(notice)
    return notice


# ---- reading --------------------------------------------------------------------------------------------------


def _title(notice: Notice) -> str:
    """The title the document was generated with (限期入学 or 限期复学), kept in its properties."""
    try:
        return Document(io.BytesIO(notice.content)).core_properties.title or NoticeKind(notice.kind).label
    except Exception:  # a stored file is ours; should it not open, its kind still names it
        return NoticeKind(notice.kind).label


def case_notices(session: Session, *, actor: Actor, case_id: int) -> list[NoticeRow]:
    """The documents generated for a case in the actor's scope (CASE_READ), newest first."""
    _case_in_scope(session, actor, case_id, Action.CASE_READ)
    found = session.execute(
        select(Notice, AppUser.display_name)
        .outerjoin(AppUser, Notice.issued_by == AppUser.id)
        .where(Notice.case_id == case_id)
        .order_by(col(Notice.issued_at).desc(), col(Notice.id).desc())
    ).all()
    return [
        NoticeRow(n.id, NoticeKind(n.kind), _title(n), n.number or "", n.issued_on, who or "系统", n.template)
        for n, who in found
    ]


@unit_of_work
def notice_file(session: Session, *, actor: Actor, notice_id: int) -> tuple[str, bytes]:
    """The file as generated, with a name like 限期复学通知书_古港镇控辍〔2026〕3号.docx (CASE_READ, audited as an
    export)."""
    require(session, actor, Action.CASE_READ)
    notice = session.get(Notice, notice_id)
    if notice is None:
        deny(
            session,
            actor,
            "notice.read",
            "该文书不在您的管辖范围内",
            entity_type="notice",
            entity_id=notice_id,
        )
    case, child = _case_in_scope(session, actor, notice.case_id, Action.CASE_READ)
    title = _title(notice)
    name = file_name(title, number=notice.number, child=child.name, issued_on=notice.issued_on)
    record(
        session,
        actor=actor,
        action="export",
        entity_type="notice",
        entity_id=notice.id,
        detail=f"下载{title}" + (f" {notice.number}" if notice.number else "") + f"(个案 {case.id})",
    )
    session.commit()
    return name, notice.content


# ---- the case file's tables -------------------------------------------------------------------------------------


def _people(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(
        session.execute(select(AppUser.id, AppUser.display_name).where(col(AppUser.id).in_(wanted))).all()
    )


def _day(value: date | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def _case_file(session: Session, case: Case, child: Child, card: ChildCard, full: bool) -> CaseFile:
    """The child, the family, the case, every visit and return attempt, every ladder step, every document, every
    event: read with plain SQL."""
    phone = (lambda p: p or "") if full else (lambda p: mask_phone(p) or "")
    events = list(
        session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at))
    )
    visits = list(
        session.scalars(
            select(HomeVisit)
            .where(HomeVisit.child_id == child.id)
            .order_by(HomeVisit.visit_date, HomeVisit.id)
        )
    )
    steps = list(
        session.scalars(
            select(LadderStep)
            .where(LadderStep.case_id == case.id)
            .order_by(LadderStep.opened_on, LadderStep.id)
        )
    )
    notices = list(session.scalars(select(Notice).where(Notice.case_id == case.id).order_by(Notice.id)))
    people = _people(
        session,
        {case.education_user_id, case.government_user_id}
        | {e.user_id for e in events}
        | {s.ended_by for s in steps}
        | {n.issued_by for n in notices},
    )
    government = people.get(case.government_user_id or 0) or " ".join(
        filter(None, [case.government_name, phone(case.government_phone)])
    )
    closed = (
        f"{_day(case.closed_on)} {CloseReason(case.close_reason).label}" if case.close_reason else "未销号"
    )
    facts = [
        ("姓名", card.name),
        ("性别", card.sex),
        ("出生日期", chinese_date(card.birth_date)),
        ("身份证号", (card.id_number if full else mask_id_number(card.id_number)) or ""),
        ("学校、班级", f"{card.school} {card.class_name}".strip()),
        ("学籍状态", card.registry_status),
        ("乡镇、村(社区)", f"{card.township} {card.village}".strip()),
        ("家庭住址", card.address),
        ("监护人及电话", f"{card.guardian} {phone(card.guardian_phone)}".strip()),
        ("个案类别", CaseCategory(case.category).label),
        (
            "风险等级",
            RiskLevel(case.risk_level).label + (f"({case.risk_reason})" if case.risk_reason else ""),
        ),
        ("个案状态", CaseStatus(case.status).label),
        ("建档日期", _day(case.opened_on)),
        ("教育线包保人", people.get(case.education_user_id or 0, "")),
        ("政府线包保人", government),
        ("销号", closed),
    ]
    family: list[list[str]] = []
    if child.student_id is not None:
        family = [
            [m.name, m.relation, phone(m.phone), m.workplace or "", "是" if m.works_away else "否",
             "是" if m.is_guardian else "否"]
            for m in session.scalars(
                select(FamilyMember).where(FamilyMember.student_id == child.student_id).order_by(FamilyMember.seq)
            )
        ]  # fmt: skip
    elif child.guardian_name:
        family = [[child.guardian_name, "监护人", phone(child.guardian_phone), "", "", "是"]]
    visit_rows = [
        [
            _day(v.visit_date),
            f"{VisitMethod(v.method).label}{VisitKind(v.kind).label}",
            v.visitors,
            v.met_with,
            v.child_situation + (f";家庭:{v.family_situation}" if v.family_situation else ""),
            ReturnOutcome(v.outcome).label if v.outcome else "",
            v.next_step,
        ]
        for v in visits
    ]
    step_rows = [
        [
            Step(s.step).label + (f"(第{s.seq}次)" if s.seq > 1 or s.step == Step.FOLLOW_UP.value else ""),
            _day(s.opened_on),
            _day(s.due_on),
            StepState(s.state).label,
            f"{_day(s.ended_on)} {people.get(s.ended_by or 0, '')}".strip(),
            _step_record(s),
            "".join(filter(None, [s.detail, f"(原因:{s.reason})" if s.reason else ""])),
        ]
        for s in steps
    ]
    notice_rows = [
        [_title(n), n.number or "", _day(n.issued_on), people.get(n.issued_by or 0, "系统"), n.template]
        for n in notices
    ]
    event_rows = [[f"{e.at:%Y-%m-%d %H:%M}", people.get(e.user_id or 0, "系统"), e.detail] for e in events]
    return CaseFile(
        facts,
        (
            Section("家庭成员", ("姓名", "关系", "电话", "工作单位", "外出务工", "监护人"), family),
            Section(
                "家访与劝返记录", ("日期", "方式", "走访人", "见到", "情况", "劝返结果", "下一步"), visit_rows
            ),
            Section("劝返复学步骤", ("步骤", "开始", "期限", "状态", "结束", "送达/措施", "记录"), step_rows,
                    "尚未开始"),
            Section("已生成的文书", ("文书", "文号", "日期", "生成人", "模板"), notice_rows),
            Section("个案记录", ("时间", "记录人", "内容"), event_rows),
        ),
    )  # fmt: skip


def _step_record(step: LadderStep) -> str:
    parts = []
    if step.served_on:
        parts.append(f"{_day(step.served_on)} 送达 {step.served_to or ''}".strip())
    if step.comply_by:
        parts.append(f"限期至 {_day(step.comply_by)}")
    if step.measure:
        parts.append(CountyMeasure(step.measure).label)
    if step.in_school is not None:
        parts.append("在校" if step.in_school else "未在校")
    return ";".join(parts)
