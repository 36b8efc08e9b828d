"""通知书和个案档案: generate a case's documents (.docx) from the templates (xueji.notices), number them in the
township's sequence for the year (文号), keep the file exactly as generated, and hand it out again (audited).

Who issues what (rules.notices.ISSUERS): 限期入学/复学通知书 — the child's own township, while the case's ladder
stands at the township's step (the notice is tied to that step); 劝返复学告知书 — the school's registrar (their
own school's case) or the child's own township (a township official also sees the children of other townships
at its schools, but a 文号 is the child's township's), on an open out-of-school case; 个案档案 — any NOTICE_ISSUE
role, any case in scope. Every refusal is audited.

A document printed with full ID numbers (the order and the case file of a township or school account) is handed
out again only to a role that sees such numbers (field work) or may reveal them (STUDENT_REVEAL), audited as a
reveal; a teacher, say, is refused."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

from docx import Document
from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import china_time, today
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.locks import write_lock
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
    NUMBER,
    NoticeKind,
    admission_word,
    chinese_date,
    file_name,
    issuing_unit,
    may_issue,
    notice_number,
    shows_full_id,
    template_words,
    time_limit,
)
from xueji.rules.visits import ReturnOutcome, VisitKind, VisitMethod
from xueji.rules.vocab import Role
from xueji.services.cases.detail import ChildCard, child_card, user_names
from xueji.services.cases.ladder_base import open_step
from xueji.services.cases.opening import add_event
from xueji.services.common import lock_keys
from xueji.services.common.access import FIELDWORK_ROLES, child_condition, deny, require
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
    template: str  # 内置模板 / 本县模板
    full_numbers: bool = False  # printed with full ID numbers (and phones, in a case file)
    downloadable: bool = True  # by this user (a full-number file only by one who may see the numbers)


# ---- who may issue what, now ----------------------------------------------------------------------------------


def _township_step(session: Session, case_id: int) -> LadderStep | None:
    """The case's open ladder step if it is the township's (the step an order belongs to)."""
    step = open_step(session, case_id)
    return step if step is not None and step.step == Step.TOWNSHIP.value else None


def _why_not(
    session: Session, actor: Actor, case: Case, child: Child, kind: NoticeKind
) -> tuple[str, bool] | None:
    """Why this actor may not issue this kind on this case now, and whether that is a matter of permission (the
    role, the township) rather than of the case; None if they may."""
    if not may_issue(kind, actor.role):
        return f"您的角色({actor.role.label})不能生成{kind.label}", True
    if kind is NoticeKind.CASE_FILE:
        return None
    if kind.numbered and actor.role is Role.TOWNSHIP_OFFICIAL and actor.scope_id != child.township_id:
        return (
            f"{kind.label}由儿童所在乡镇生成(文号是该乡镇的);该儿童不住在本乡镇,请由其所在乡镇或就读学校生成",
            True,
        )
    if not CaseCategory(case.category).out_of_school:
        return f"只有疑似辍学、辍学个案才能生成{kind.label}", False
    if case.status == CaseStatus.CLOSED.value:
        return f"该个案已销号,不能再生成{kind.label}", False
    if kind is NoticeKind.ORDER:
        step = _township_step(session, case.id)
        if step is None:
            return "该个案的劝返复学当前不在“乡镇书面限期通知”这一步,不能生成限期通知书", False
        issued = session.scalar(
            select(Notice.number).where(Notice.step_id == step.id, Notice.kind == NoticeKind.ORDER.value)
        )
        if issued is not None:
            return f"这一步已生成限期通知书({issued}):请下载已有的一份送达,不要重复取号", False
    return None


def _found(session: Session, actor: Actor, case_id: int) -> tuple[Case, Child] | None:
    """The case and its child if the case lies in the actor's scope."""
    found = session.execute(
        select(Case, Child)
        .join(Child, Case.child_id == Child.id)
        .where(Case.id == case_id, child_condition(actor))
    ).first()
    return (found[0], found[1]) if found else None


def _case_in_scope(session: Session, actor: Actor, case_id: int, action: Action) -> tuple[Case, Child]:
    require(session, actor, action)
    found = _found(session, actor, case_id)
    if found is None:
        deny(session, actor, action.value, "该个案不在您的管辖范围内", entity_type="case", entity_id=case_id)
    return found


def _refuse(
    session: Session, actor: Actor, case_id: int, kind: NoticeKind, problem: tuple[str, bool]
) -> NoReturn:
    """Audit the refusal (a denial if it is a matter of permission) and raise it."""
    message, permission = problem
    if permission:
        deny(session, actor, Action.NOTICE_ISSUE.value, message, entity_type="case", entity_id=case_id)
    audit_refusal(
        session, actor, action="notice.issue", entity_type="case", entity_id=case_id, message=message,
        after={"notice": kind.value},
    )  # fmt: skip
    raise NoticeError(message)


def issuable(session: Session, *, actor: Actor, case_id: int) -> list[NoticeKind]:
    """The kinds this actor may generate on this case now (for the buttons); [] outside their scope."""
    if not actor.can(Action.NOTICE_ISSUE):
        return []
    found = _found(session, actor, case_id)
    if found is None:
        return []
    return [k for k in NoticeKind if _why_not(session, actor, found[0], found[1], k) is None]


# ---- full numbers ---------------------------------------------------------------------------------------------


def prints_full_numbers(kind: NoticeKind, issuer: Role) -> bool:
    """Whether a document of this kind generated by an account of this role prints full ID numbers (and the
    case file full phones): as generation decides, for the field-work roles, never on the 告知书."""
    return shows_full_id(kind, sees_fieldwork=issuer in FIELDWORK_ROLES)


def may_take_full_numbers(actor: Actor) -> bool:
    """Whether the actor may take a document printed with full numbers: a role that sees them in field work, or
    one that may reveal them (the county, the township, the coordinator)."""
    return actor.role in FIELDWORK_ROLES or actor.can(Action.STUDENT_REVEAL)


def _issuer_role(value: str | None) -> Role:
    """The issuing account's role (the server's batch run when none)."""
    return Role(value) if value else Role.SYSTEM


# ---- issuing --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    """A document built and checked but not yet numbered: its {{文号}} is still to fill."""

    kind: NoticeKind
    title: str
    issued_on: date
    template: str
    data: bytes


def issue_notice(session: Session, *, actor: Actor, case_id: int, kind: NoticeKind) -> Notice:
    """Generate the document, give it the township's next 文号 for the year (numbered kinds), keep it on the
    case, put it on the timeline and in the audit log.

    The document is built first, without holding the audit tail's lock: reading the case file's tables and
    building the .docx would otherwise hold up every writer. The lock is taken afterwards, only to check the case
    again, take the 文号, fill it into the document's {{文号}} (left unfilled by the build) and keep the notice.
    The reading transaction is ended (committed, as the write would commit it) before the write begins."""
    draft = _draft(session, actor=actor, case_id=case_id, kind=kind)
    session.commit()  # this service wrote nothing yet; the write begins afresh (on SQLite: BEGIN IMMEDIATE)
    return _keep(session, actor=actor, case_id=case_id, draft=draft)


def _draft(session: Session, *, actor: Actor, case_id: int, kind: NoticeKind) -> _Draft:
    case, child = _case_in_scope(session, actor, case_id, Action.NOTICE_ISSUE)
    problem = _why_not(session, actor, case, child, kind)
    if problem is not None:
        _refuse(session, actor, case_id, kind, problem)
    settings = get_settings()
    issued_on = today()
    township = session.get(Township, child.township_id)
    assert township is not None  # a child's township is a foreign key
    county = session.get(County, township.county_id)
    card = child_card(session, child, True)
    full = prints_full_numbers(kind, actor.role)
    enrolled_before = child.student_id is not None
    title = kind.heading(enrolled_before=enrolled_before)
    values = {
        "乡镇": township.name,
        "县": county.name if county else "",
        "学校": card.school or ("户籍所在地学校" if kind is NoticeKind.ORDER else ""),
        "儿童姓名": card.name,
        "性别": card.sex,
        "出生日期": chinese_date(card.birth_date),
        "身份证号": (card.id_number if full else mask_id_number(card.id_number)) or "未登记",
        "监护人": card.guardian,
        "住址": card.address,
        "年级": card.class_name,
        "入学复学": admission_word(enrolled_before=enrolled_before),
        "期限天数": str(settings.ladder.order_days),
        # the limit runs from the day the order is served (the ladder's comply_by), unknown now: no date
        "期限日期": time_limit(settings.ladder.order_days),
        "发文日期": chinese_date(issued_on),
        "签发单位": issuing_unit(
            actor.role, township=township.name, school=card.school, county=county.name if county else ""
        ),
    }
    if not kind.numbered:
        values[NUMBER] = ""
    try:
        template = template_for(kind, settings.notice_templates)
        document = open_template(template)
    except NoticeTemplateError as exc:
        _refuse(session, actor, case_id, kind, (str(exc), False))
    fill(document, values)
    if kind is NoticeKind.CASE_FILE:
        append_case_file(document, _case_file(session, case, child, card, full))
    document.core_properties.title = title
    return _Draft(kind, title, issued_on, template.name, to_bytes(document))


def _numbered(data: bytes, number: str) -> bytes:
    """The built document with its {{文号}} filled in."""
    document = Document(io.BytesIO(data))
    fill(document, {NUMBER: number})
    return to_bytes(document)


@unit_of_work
def _keep(session: Session, *, actor: Actor, case_id: int, draft: _Draft) -> Notice:
    # The person's write lock (the case checked again), then the township's 文号 of the year (the next one read
    # and taken in one go).
    write_lock(session, lock_keys.person_of_case(session, case_id))
    kind = draft.kind
    if kind.numbered:  # (on SQLite person_of_case took the database write lock before reading)
        township_id = session.scalar(
            select(Child.township_id).join(Case, Case.child_id == Child.id).where(Case.id == case_id)
        )
        write_lock(session, f"notice:{township_id}:{draft.issued_on.year}")
    case, child = _case_in_scope(session, actor, case_id, Action.NOTICE_ISSUE)
    problem = _why_not(session, actor, case, child, kind)
    if problem is not None:  # the case moved on while the document was built
        _refuse(session, actor, case_id, kind, problem)
    seq = number = None
    content = draft.data
    if kind.numbered:
        last = session.scalar(
            select(func.max(Notice.seq)).where(
                Notice.township_id == child.township_id, Notice.year == draft.issued_on.year
            )
        )
        seq = (last or 0) + 1
        township = session.get(Township, child.township_id)
        assert township is not None
        pattern = get_settings().notice_number
        number = notice_number(pattern, township=township.name, year=draft.issued_on.year, seq=seq)
        content = _numbered(draft.data, number)
    step = _township_step(session, case.id) if kind is NoticeKind.ORDER else None
    notice = Notice(
        case_id=case.id,
        step_id=step.id if step else None,
        kind=kind.value,
        township_id=child.township_id,
        year=draft.issued_on.year,
        seq=seq,
        number=number,
        issued_on=draft.issued_on,
        issued_by=actor.user_id,
        template=draft.template,
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(notice)
    session.flush()
    words = f"生成{draft.title}" + (f" {number}" if number else "")
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
        select(Notice, AppUser.display_name, AppUser.role)
        .outerjoin(AppUser, Notice.issued_by == AppUser.id)
        .where(Notice.case_id == case_id)
        .order_by(col(Notice.issued_at).desc(), col(Notice.id).desc())
    ).all()
    rows = []
    for n, who, role in found:
        full = prints_full_numbers(NoticeKind(n.kind), _issuer_role(role))
        rows.append(
            NoticeRow(
                n.id,
                NoticeKind(n.kind),
                _title(n),
                n.number or "",
                n.issued_on,
                who or "系统",
                template_words(n.template),
                full,
                not full or may_take_full_numbers(actor),
            )  # fmt: skip
        )
    return rows


@unit_of_work
def notice_file(session: Session, *, actor: Actor, notice_id: int) -> tuple[str, bytes]:
    """The file as generated, with a name like 限期复学通知书_古港镇控辍〔2026〕3号.docx (CASE_READ, audited as an
    export; a file printed with full numbers only for a role that may see them, audited as a reveal)."""
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
    what = title + (f" {notice.number}" if notice.number else "")
    issuer = session.scalar(select(AppUser.role).where(AppUser.id == notice.issued_by))
    full = prints_full_numbers(NoticeKind(notice.kind), _issuer_role(issuer))
    if full and not may_take_full_numbers(actor):
        deny(
            session,
            actor,
            "notice.read",
            f"{what}印有完整身份证号,您的角色({actor.role.label})不能下载;需要时请向乡镇或学校索取",
            entity_type="notice",
            entity_id=notice.id,
        )
    name = file_name(title, number=notice.number, child=child.name, issued_on=notice.issued_on)
    record(
        session,
        actor=actor,
        action="reveal" if full else "export",
        entity_type="notice",
        entity_id=notice.id,
        detail=f"下载{what}(个案 {case.id})" + (",含完整身份证号" if full else ""),
    )
    session.commit()
    return name, notice.content


# ---- the case file's tables -------------------------------------------------------------------------------------


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
    people = user_names(
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
        ("身份证号", (card.id_number if full else mask_id_number(card.id_number)) or "未登记"),
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
        [
            _title(n),
            n.number or "",
            _day(n.issued_on),
            people.get(n.issued_by or 0, "系统"),
            template_words(n.template),
        ]
        for n in notices
    ]
    event_rows = [[china_time(e.at), people.get(e.user_id or 0, "系统"), e.detail] for e in events]
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
