"""台账: the three ledgers of cases (all at-risk school-age children, suspected dropouts, dropouts) with
动态销号 (an entry leaves the open ledger only when its case is closed with a reason), and the cases still
missing a responsible person on either line (双线包保), per school and township."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import pandas as pd
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.models import AppUser, Case, Child, HomeVisit, School, SchoolAgeChild, Student, Township
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus, CloseReason, RiskLevel
from xueji.rules.masking import mask_id_number
from xueji.services.common.access import child_condition, require, sees_full_identifiers
from xueji.services.common.exports import export_table


class Ledger(StrEnum):
    ALL = "all"
    SUSPECTED_DROPOUT = "suspected_dropout"
    DROPOUT = "dropout"

    @property
    def label(self) -> str:
        return {
            "all": "适龄儿童重点关注台账",
            "suspected_dropout": "疑似辍学台账",
            "dropout": "辍学台账",
        }[self.value]


class Standing(StrEnum):
    """Which entries of a ledger: those still on it, those struck off (销号), or both."""

    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"

    @property
    def label(self) -> str:
        return {"open": "在册(未销号)", "closed": "已销号", "all": "全部"}[self.value]


@dataclass(frozen=True)
class LedgerFilter:
    ledger: Ledger = Ledger.ALL
    standing: Standing = Standing.OPEN
    category: CaseCategory | None = None  # within the all-children ledger
    risk: RiskLevel | None = None
    search: str = ""  # a name, or the tail of an ID number
    missing_responsible: bool = False  # only open cases lacking a person on either line
    priority_only: bool = False  # only children of 脱贫户/监测户 (the 乡村振兴 list, via the 适龄儿童台账)


@dataclass(frozen=True)
class LedgerRow:
    case_id: int
    child_id: int
    township: str
    school: str
    name: str
    sex: str
    birth_date: date | None
    id_number: str | None
    category: str
    risk: str
    status: str
    source: str
    opened_on: date
    education: str
    government: str
    last_visit: date | None
    closed_on: date | None
    close_reason: str
    receiving_school: str
    close_evidence: str
    priority: str = ""  # 重点: the household type on the 乡村振兴 list (脱贫户, 防返贫监测户 …)


@dataclass(frozen=True)
class LedgerPage:
    total: int
    rows: list[LedgerRow]


_education = aliased(AppUser)
_government = aliased(AppUser)


def missing_education() -> ColumnElement[bool]:
    return col(Case.education_user_id).is_(None)


def missing_government() -> ColumnElement[bool]:
    named = and_(
        func.coalesce(Case.government_name, "") != "", func.coalesce(Case.government_phone, "") != ""
    )
    return and_(col(Case.government_user_id).is_(None), ~named)


def _priority_of_child() -> ColumnElement:
    """The child's household type on the 乡村振兴 list, from the 适龄儿童台账: by registry record, else by ID number
    (a correlated expression over Child and Student)."""
    by_student = (
        select(func.max(SchoolAgeChild.priority))
        .where(SchoolAgeChild.student_id == Child.student_id, col(SchoolAgeChild.priority).is_not(None))
        .correlate(Child)
        .scalar_subquery()
    )
    by_number = (
        select(func.max(SchoolAgeChild.priority))
        .where(SchoolAgeChild.id_number == Child.id_number, col(SchoolAgeChild.priority).is_not(None))
        .correlate(Child)
        .scalar_subquery()
    )
    return case((col(Child.student_id).is_not(None), by_student), else_=by_number)


def _is_priority() -> ColumnElement[bool]:
    """The child's household is on the 乡村振兴 list (set-based, for the filter)."""
    listed = select(SchoolAgeChild.student_id).where(col(SchoolAgeChild.priority).is_not(None))
    numbers = select(SchoolAgeChild.id_number).where(col(SchoolAgeChild.priority).is_not(None))
    return or_(col(Child.student_id).in_(listed), col(Child.id_number).in_(numbers))


def _conditions(actor: Actor, given: LedgerFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [child_condition(actor)]
    if given.ledger is not Ledger.ALL:
        found.append(Case.category == given.ledger.value)
    elif given.category is not None:
        found.append(Case.category == given.category.value)
    if given.standing is Standing.OPEN:
        found.append(Case.status != CaseStatus.CLOSED.value)
    elif given.standing is Standing.CLOSED:
        found.append(Case.status == CaseStatus.CLOSED.value)
    if given.risk is not None:
        found.append(Case.risk_level == given.risk.value)
    if given.missing_responsible:
        found += [col(Case.status) != CaseStatus.CLOSED.value, or_(missing_education(), missing_government())]
    if given.priority_only:
        found.append(_is_priority())
    text = given.search.strip()
    if text:
        if text.isdigit() or text[-1:] in "xX":
            found.append(
                func.coalesce(Student.id_number, Child.id_number).endswith(text.upper(), autoescape=True)
            )
        else:
            found.append(func.coalesce(Student.name, Child.name).contains(text, autoescape=True))
    return found


def _joined(query: Select) -> Select:
    return (
        query.select_from(Case)
        .join(Child, Case.child_id == Child.id)
        .outerjoin(Student, Child.student_id == Student.id)
        .outerjoin(School, Child.school_id == School.id)
        .join(Township, Child.township_id == Township.id)
    )


def ledger_page(
    session: Session,
    *,
    actor: Actor,
    given: LedgerFilter,
    limit: int | None = 50,
    offset: int = 0,
    masked: bool = False,
) -> LedgerPage:
    """One page of a ledger in scope, newest cases first; ID numbers masked unless the role needs them (and
    always when masked is asked)."""
    require(session, actor, Action.CASE_READ)
    where = _conditions(actor, given)
    total = session.scalar(_joined(select(func.count())).where(*where)) or 0
    last_visit = (
        select(func.max(HomeVisit.visit_date))
        .where(HomeVisit.child_id == Child.id)
        .correlate(Child)
        .scalar_subquery()
    )
    columns = [
        Case.id,
        Child.id,
        Township.name,
        func.coalesce(School.name, ""),
        func.coalesce(Student.name, Child.name),
        func.coalesce(Student.sex, Child.sex, ""),
        func.coalesce(Student.birth_date, Child.birth_date),
        func.coalesce(Student.id_number, Child.id_number),
        Case.category,
        Case.disability_type,
        Case.risk_level,
        Case.status,
        Case.source,
        Case.opened_on,
        _education.display_name,
        func.coalesce(_government.display_name, Case.government_name, ""),
        last_visit,
        Case.closed_on,
        Case.close_reason,
        Case.receiving_school,
        Case.close_evidence,
        _priority_of_child(),
    ]
    query = (
        _joined(select(*columns))
        .outerjoin(_education, Case.education_user_id == _education.id)
        .outerjoin(_government, Case.government_user_id == _government.id)
        .where(*where)
        .order_by(col(Case.opened_on).desc(), col(Case.id).desc())
        .limit(limit)
        .offset(offset)
    )
    full = sees_full_identifiers(actor) and not masked
    rows = [
        LedgerRow(
            case_id=r[0],
            child_id=r[1],
            township=r[2],
            school=r[3],
            name=r[4],
            sex=r[5],
            birth_date=r[6],
            id_number=r[7] if full else mask_id_number(r[7]),
            category=CaseCategory(r[8]).label + (f"({r[9]})" if r[9] else ""),
            risk=RiskLevel(r[10]).label,
            status=CaseStatus(r[11]).label,
            source=CaseSource(r[12]).label,
            opened_on=r[13],
            education=r[14] or "",
            government=r[15],
            last_visit=r[16],
            closed_on=r[17],
            close_reason=CloseReason(r[18]).label if r[18] else "",
            receiving_school=r[19] or "",
            close_evidence=r[20] or "",
            priority=r[21] or "",
        )
        for r in session.execute(query)
    ]
    return LedgerPage(total, rows)


HEADERS = {
    "township": "乡镇",
    "school": "跟进学校",
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "priority": "重点(脱贫户/监测户)",
    "category": "类别",
    "risk": "风险",
    "status": "状态",
    "source": "来源",
    "opened_on": "建档日期",
    "education": "教育线包保人",
    "government": "政府线包保人",
    "last_visit": "最近家访",
    "closed_on": "销号日期",
    "close_reason": "销号原因",
    "receiving_school": "接收学校",
    "close_evidence": "销号依据",
}


def ledger_frame(rows: list[LedgerRow]) -> pd.DataFrame:
    """The ledger as a table with Chinese headers (the page and the export)."""
    frame = pd.DataFrame([r.__dict__ for r in rows], columns=["case_id", "child_id", *HEADERS])
    return frame.drop(columns=["case_id", "child_id"]).rename(columns=HEADERS)


def export_ledger(session: Session, *, actor: Actor, given: LedgerFilter) -> bytes:
    """The whole ledger (every page) as xlsx, ID numbers masked; audited."""
    page = ledger_page(session, actor=actor, given=given, limit=None, masked=True)
    return export_table(
        session,
        actor=actor,
        action=Action.CASE_READ,
        frame=ledger_frame(page.rows),
        sheet=given.ledger.label,
        detail=given.standing.label,
        entity_type="case",
    )


@dataclass(frozen=True)
class GapRow:
    township: str
    school: str
    open_cases: int
    no_education: int
    no_government: int
    missing: int  # lacking either


def responsibility_gaps(session: Session, *, actor: Actor) -> list[GapRow]:
    """Per school (and township) in scope: open cases, and how many lack the education-line teacher or the
    government-line cadre. Schools with no gap are left out."""
    require(session, actor, Action.CASE_READ)
    no_edu = func.sum(case((missing_education(), 1), else_=0))
    no_gov = func.sum(case((missing_government(), 1), else_=0))
    either = func.sum(case((or_(missing_education(), missing_government()), 1), else_=0))
    query = (
        select(
            Township.name, func.coalesce(School.name, "(未指定学校)"), func.count(), no_edu, no_gov, either
        )
        .select_from(Case)
        .join(Child, Case.child_id == Child.id)
        .join(Township, Child.township_id == Township.id)
        .outerjoin(School, Child.school_id == School.id)
        .where(Case.status != CaseStatus.CLOSED.value, child_condition(actor))
        .group_by(Township.code, Township.name, School.code, School.name)
        .having(or_(no_edu > 0, no_gov > 0))
        .order_by(Township.code, School.code)
    )
    return [GapRow(*r) for r in session.execute(query)]


def gaps_frame(rows: list[GapRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [(r.township, r.school, r.open_cases, r.no_education, r.no_government, r.missing) for r in rows],
        columns=["乡镇", "学校", "在办个案", "缺教育线包保人", "缺政府线包保人", "缺任一线"],
    )


def open_counts(session: Session, *, actor: Actor) -> dict[CaseCategory, int]:
    """Open cases in scope per category."""
    require(session, actor, Action.CASE_READ)
    query = (
        select(Case.category, func.count())
        .join(Child, Case.child_id == Child.id)
        .where(Case.status != CaseStatus.CLOSED.value, child_condition(actor))
        .group_by(Case.category)
    )
    return {CaseCategory(c): n for c, n in session.execute(query)}
