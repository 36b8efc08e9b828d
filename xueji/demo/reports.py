"""The demo's 四个一 monthly reports: last month's report submitted by most schools (a few after the due day),
古港镇完全小学's corrected once (version 2, with its reason), and two schools left not submitted, so that the
review page and 我的待办 have something to show."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session

from xueji.clock import CHINA_TZ
from xueji.models import AppUser, MonthlyReport, School
from xueji.rules.accountability import LedgerMonth
from xueji.rules.monthly_report import due_on, last_month
from xueji.services.reports.figures import compute
from xueji.services.system.accounts import actor_by_username, system_actor

DEMO_SCHOOL = "2143016965"  # 古港镇完全小学: the demo registrar's school
MISSING = 2  # schools left without last month's report
CORRECTION = "补录 3 次十月份家访记录(纸质记录后补录入系统),更正家访次数"


def load_reports(session: Session, ctx) -> None:  # noqa: ANN001 - build.DemoContext (imported by build)
    """Submit last month's report for every school but the last two, the demo school's corrected once."""
    month = last_month(ctx.spec.today)
    due = due_on(month, 5)
    system = system_actor(session)
    registrar = session.scalar(select(AppUser.id).where(AppUser.username == "demo_registrar"))
    schools = session.execute(select(School.id, School.code).order_by(School.code)).all()
    submitting = [row for row in schools if row.code == DEMO_SCHOOL]
    submitting += [row for row in schools if row.code != DEMO_SCHOOL][: max(0, len(schools) - 1 - MISSING)]
    for n, (school_id, code) in enumerate(submitting):
        own = code == DEMO_SCHOOL
        actor = actor_by_username(session, "demo_registrar") if own else system
        figures = compute(session, actor=actor, school_id=school_id, month=month)
        day = due - timedelta(days=2 - n % 4)  # most on time, every fourth school two days late
        first = dict(figures)
        if own:  # version 1 lacked three visits entered later from paper; version 2 has them
            first["visits.visit"] = max(0, first["visits.visit"] - 3)
        note = "" if own else "演示数据:由系统操作员代为报送"
        session.add(
            _report(school_id, month, 1, first, day, registrar if own else system.user_id, None, note)
        )
        if own:
            later = day + timedelta(days=5)
            session.add(_report(school_id, month, 2, figures, later, registrar, CORRECTION))
    session.flush()


def _report(
    school_id: int,
    month: LedgerMonth,
    version: int,
    figures: dict[str, int],
    day,  # noqa: ANN001 - a date
    user_id: int | None,
    reason: str | None,
    note: str = "",
) -> MonthlyReport:
    return MonthlyReport(
        school_id=school_id,
        month=month.key,
        version=version,
        figures=figures,
        note=note,
        correction_reason=reason,
        submitted_by=user_id,
        submitted_at=datetime.combine(day, time(9, 30), tzinfo=CHINA_TZ).astimezone(UTC),
    )
