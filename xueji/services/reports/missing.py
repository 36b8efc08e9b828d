"""Which schools in scope have submitted a month's report, on time or late, corrected or not, and which have not
(overdue after XUEJI_REPORT_DUE_DAY of the next month); the list exported, and the lines of 我的待办."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import china_day, china_time, today
from xueji.config import get_settings
from xueji.models import MonthlyReport, School, Township
from xueji.rules.accountability import LedgerMonth
from xueji.rules.monthly_report import (
    MonthState,
    SubmissionState,
    due_on,
    last_month,
    month_state,
    owes_report,
    submission_state,
)
from xueji.rules.vocab import ScopeKind
from xueji.services.common.access import require, school_condition
from xueji.services.common.exports import export_table
from xueji.services.reports.opening import opening_days

if TYPE_CHECKING:  # 我的待办 imports this module: its types are taken when the function runs
    from xueji.services.dashboards.work_items import WorkItem

MONTHLY_PAGE = "pages/reports/monthly.py"
REVIEW_PAGE = "pages/reports/review.py"


@dataclass(frozen=True)
class SchoolMonth:
    school_id: int
    township: str
    code: str
    school: str
    due: date
    state: SubmissionState
    first_at: datetime | None
    latest_at: datetime | None
    versions: int

    @property
    def corrected(self) -> bool:
        return self.versions > 1


def school_months(session: Session, actor: Actor, month: LedgerMonth) -> list[SchoolMonth]:
    """Every school in the actor's scope that owes the month's report (opened by the month's end, per
    services.reports.opening, and not closed before it) with how its report for the month stands."""
    submitted = (
        select(
            MonthlyReport.school_id,
            func.min(MonthlyReport.submitted_at).label("first_at"),
            func.max(MonthlyReport.submitted_at).label("latest_at"),
            func.count().label("n"),
        )
        .where(MonthlyReport.month == month.key)
        .group_by(MonthlyReport.school_id)
        .subquery()
    )
    rows = session.execute(
        select(
            School.id,
            Township.name,
            School.code,
            School.name,
            submitted.c.first_at,
            submitted.c.latest_at,
            func.coalesce(submitted.c.n, 0),
        )
        .join(Township, School.township_id == Township.id)
        .outerjoin(submitted, submitted.c.school_id == School.id)
        .where(
            school_condition(actor), or_(col(School.closed_on).is_(None), col(School.closed_on) > month.last)
        )
        .order_by(Township.code, School.code)
    ).all()
    opened = opening_days(session, (int(r[0]) for r in rows))
    rows = [r for r in rows if owes_report(month, opened[int(r[0])])]
    due_day, day = get_settings().report_due_day, today()
    return [
        SchoolMonth(
            int(sid),
            township,
            code,
            name,
            due_on(month, due_day),
            submission_state(
                month, first_submitted=china_day(first) if first else None, today=day, due_day=due_day
            ),
            first,
            latest,
            int(n),
        )
        for sid, township, code, name, first, latest, n in rows
    ]


def month_status(session: Session, *, actor: Actor, month: LedgerMonth) -> list[SchoolMonth]:
    """The review's list for a month: the schools in scope, those overdue first."""
    require(session, actor, Action.REPORT_REVIEW)
    order = {
        SubmissionState.OVERDUE: 0,
        SubmissionState.NOT_DUE: 1,
        SubmissionState.LATE: 2,
        SubmissionState.ON_TIME: 3,
    }
    return sorted(school_months(session, actor, month), key=lambda r: order[r.state])


def missing(session: Session, *, actor: Actor, month: LedgerMonth) -> list[SchoolMonth]:
    """The schools in scope that have not submitted the month's report."""
    return [r for r in month_status(session, actor=actor, month=month) if not r.state.submitted]


def status_frame(rows: list[SchoolMonth]) -> pd.DataFrame:
    """The review's table, in words."""
    return pd.DataFrame(
        [
            {
                "乡镇": r.township,
                "学校": r.school,
                "学校标识码": r.code,
                "报送期限": r.due,
                "报送情况": r.state.label,
                "首次报送": china_time(r.first_at),
                "版本数": r.versions,
                "是否更正": "已更正" if r.corrected else "",
                "最新版本报送": china_time(r.latest_at) if r.corrected else "",
            }
            for r in rows
        ],
        columns=[
            "乡镇",
            "学校",
            "学校标识码",
            "报送期限",
            "报送情况",
            "首次报送",
            "版本数",
            "是否更正",
            "最新版本报送",
        ],
    )


def export_status(session: Session, *, actor: Actor, month: LedgerMonth) -> bytes:
    """The month's list as xlsx, audited."""
    frame = status_frame(month_status(session, actor=actor, month=month))
    return export_table(
        session,
        actor=actor,
        action=Action.REPORT_REVIEW,
        frame=frame,
        sheet=f"{month.label}月报报送情况",
        entity_type="monthly_report",
    )


def report_work_items(session: Session, actor: Actor) -> list[WorkItem]:
    """我的待办: the registrar's last month not yet submitted (overdue after the due day); for a township or the
    county, the schools in scope that have not submitted last month's report."""
    from xueji.services.dashboards.work_items import Urgency, WorkItem

    month = last_month(today())
    if month_state(month, today()) is not MonthState.ENDED:
        return []
    if actor.can(Action.REPORT_SUBMIT) and actor.scope_kind is ScopeKind.SCHOOL:
        rows = school_months(session, actor, month)
        page = MONTHLY_PAGE
    elif actor.can(Action.REPORT_REVIEW):
        rows = school_months(session, actor, month)
        page = REVIEW_PAGE
    else:
        return []
    waiting = [r for r in rows if not r.state.submitted]
    if not waiting:
        return []
    overdue = [r for r in waiting if r.state is SubmissionState.OVERDUE]
    own = page == MONTHLY_PAGE
    return [
        WorkItem(
            what=f"{month.label}月报{'逾期未报送' if overdue else '待报送'}",
            count=1 if own else len(waiting),
            unit="份" if own else "所学校",
            urgency=Urgency.OVERDUE if overdue else Urgency.DUE,
            page=page,
            due=waiting[0].due,
            detail=""
            if own
            else "、".join(r.school for r in waiting[:3]) + ("等" if len(waiting) > 3 else ""),
        )
    ]
