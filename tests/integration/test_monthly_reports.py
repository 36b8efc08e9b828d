"""四个一 月报 through the services, on SQLite and PostgreSQL: the figures against hand counts, submission, correction
(versions kept, figures frozen), refusals, the missing list, and `xueji report monthly`."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import DEMO_SCHOOL, class_of, new_registrar, visit_facts
from tests.integration.test_status_changes import (
    NEIGHBOUR,
    PROOFS,
    decide,
    student_in,
    submit,
    submit_dropout,
)
from xueji.auth import PermissionDenied
from xueji.cli import main as xueji_main
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, Child, MonthlyReport, School
from xueji.rules.accountability import LedgerMonth
from xueji.rules.monthly_report import SubmissionState
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.visits import ReturnOutcome, VisitKind
from xueji.rules.vocab import SchoolKind
from xueji.services.cases.visits import log_visit
from xueji.services.reports import figures, missing, submission
from xueji.services.setup.school_merge import add_school

pytestmark = pytest.mark.usefixtures("fixed_today")
TODAY = date(2026, 11, 23)
NOVEMBER, OCTOBER = LedgerMonth(2026, 11), LedgerMonth(2026, 10)


def school_id(engine, code: str = DEMO_SCHOOL) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(School.id).where(School.code == code)))


def count(engine, actor, month=NOVEMBER, code=DEMO_SCHOOL) -> dict[str, int]:
    with session_scope(engine) as session:
        return figures.school_month(session, actor=actor, school_id=school_id(engine, code), month=month)


def test_the_months_figures_move_by_exactly_the_events_counted_by_hand(demo_engine, actors):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    before = count(demo_engine, registrar)
    # one child transferred out, one who dropped out and was brought back, two visits and one return attempt
    leaving = student_in(demo_engine, DEMO_SCHOOL, grade=5)
    out = submit(
        demo_engine,
        registrar,
        student_id=leaving.id,
        kind=ChangeKind.TRANSFER_OUT,
        effective_date=TODAY,
        reason="随父母迁居",
        destination="广东省东莞市某小学",
        override_reason="父母工作调动",
    )
    decide(demo_engine, county, out)
    back = student_in(demo_engine, DEMO_SCHOOL, grade=4)
    decide(demo_engine, county, submit_dropout(demo_engine, registrar, back.id, "厌学在家"))
    returned = submit(
        demo_engine,
        registrar,
        student_id=back.id,
        kind=ChangeKind.RETURN,
        effective_date=TODAY,
        reason="劝返成功",
        to_class_id=class_of(demo_engine, DEMO_SCHOOL, 4),
    )
    decide(demo_engine, county, returned)
    visited = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    with session_scope(demo_engine) as session:
        for kind in (VisitKind.VISIT, VisitKind.VISIT, VisitKind.RETURN_ATTEMPT):
            outcome = ReturnOutcome.REFUSED if kind is VisitKind.RETURN_ATTEMPT else None
            facts = visit_facts(kind=kind, outcome=outcome)
            log_visit(session, actor=registrar, facts=facts, student_id=visited.id)
    after = count(demo_engine, registrar)
    delta = {k: after[k] - before[k] for k in after if after[k] != before[k] and not k.startswith("ladder.")}
    assert (
        delta
        == {
            "enrolled": -1,
            "enrolled_g5": -1,
            "transfers_out": 1,
            "dropouts": 1,
            "returns": 1,
            "visits.visit": 2,
            "visits.return_attempt": 1,
            "cases_opened.dropout": 1,  # the dropout opened its case; after the return it is followed up, not closed
        }
    )
    # October, counted back from today: none of November's events, the same enrolment as at October's end
    assert count(demo_engine, registrar, OCTOBER) == count(demo_engine, county, OCTOBER)


def test_a_report_is_frozen_when_submitted_and_corrected_only_by_a_new_version_with_a_reason(
    demo_engine, actors
):
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    sid = school_id(demo_engine)
    with session_scope(demo_engine) as session:  # the demo submitted October; November is submitted here
        with pytest.raises(submission.ReportError, match="尚未结束"):
            submission.submit(session, actor=registrar, school_id=sid, month=NOVEMBER)
    with session_scope(demo_engine) as session:
        with pytest.raises(submission.ReportError, match="尚未开始"):
            submission.submit(session, actor=registrar, school_id=sid, month=LedgerMonth(2027, 1))
    september = LedgerMonth(2026, 9)
    with session_scope(demo_engine) as session:
        first = submission.submit(session, actor=registrar, school_id=sid, month=september, note="按时报送")
        assert (first.version, first.note, first.submitted_by) == (1, "按时报送", registrar.user_id)
        frozen = dict(first.figures)
    with session_scope(demo_engine) as session:
        with pytest.raises(submission.ReportError, match="已报送"):
            submission.submit(session, actor=registrar, school_id=sid, month=september)
    # the data of September changes afterwards: a visit entered late from paper
    child = student_in(demo_engine, DEMO_SCHOOL, grade=2)
    with session_scope(demo_engine) as session:
        log_visit(
            session, actor=registrar, facts=visit_facts(visit_date=date(2026, 9, 15)), student_id=child.id
        )
        view = submission.month_view(session, actor=county, school_id=sid, month=september)
    assert view.latest is not None and view.latest.figures == frozen  # frozen even though the data changed
    assert view.changed == ["visits.visit"] and view.fresh["visits.visit"] == frozen["visits.visit"] + 1
    with session_scope(demo_engine) as session:
        with pytest.raises(submission.ReportError, match="至少 4 个字"):
            submission.correct(session, actor=registrar, school_id=sid, month=september, reason="补录")
        second = submission.correct(
            session, actor=registrar, school_id=sid, month=september, reason="补录九月家访一次"
        )
        assert second.version == 2 and second.figures["visits.visit"] == frozen["visits.visit"] + 1
        kept = submission.versions(session, sid, september)
    assert [(v.version, v.reason) for v in kept] == [(1, None), (2, "补录九月家访一次")]
    assert kept[0].figures == frozen
    with session_scope(demo_engine) as session:
        audited = session.execute(
            select(AuditLog.action, AuditLog.outcome)
            .where(AuditLog.entity_type == "monthly_report", AuditLog.action != "export")
            .order_by(AuditLog.id)
        ).all()
    assert [a for a, outcome in audited if outcome == "success"] == ["report.submit", "report.correct"]
    assert sum(1 for _, outcome in audited if outcome == "refused") == 4  # Nov, Jan, twice, a short reason


def test_only_the_schools_own_registrar_submits_and_each_refusal_is_audited(demo_engine, actors):
    sid = school_id(demo_engine)
    september = LedgerMonth(2026, 9)
    with session_scope(demo_engine) as session:
        other = new_registrar(session, actors["demo_admin"], "reg_meitian", "2143016967")
    for actor in (actors["demo_teacher"], other, actors["demo_county"], actors["demo_township"]):
        with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
            submission.submit(session, actor=actor, school_id=sid, month=september)
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).where(MonthlyReport.month == september.key)) == 0
        denied = session.scalar(
            select(func.count()).where(AuditLog.action == "denied", AuditLog.detail.like("report.submit%"))
        )
        assert denied == 4
        with pytest.raises(PermissionDenied):  # another school's registrar cannot read ours either
            submission.month_view(session, actor=other, school_id=sid, month=september)


def test_the_missing_list_shows_who_has_not_submitted_and_who_was_late_or_corrected(demo_engine, actors):
    county, township = actors["demo_county"], actors["demo_township"]
    with session_scope(demo_engine) as session:
        rows = missing.month_status(session, actor=county, month=OCTOBER)
        mine = missing.month_status(session, actor=township, month=OCTOBER)
        items = missing.report_work_items(session, county)
        with pytest.raises(PermissionDenied):
            missing.month_status(session, actor=actors["demo_registrar"], month=OCTOBER)
        schools = session.scalar(select(func.count()).select_from(School))
    states = [r.state for r in rows]
    assert len(rows) == schools and states.count(SubmissionState.OVERDUE) == 2  # the demo left two out
    assert states[:2] == [SubmissionState.OVERDUE] * 2  # overdue first
    assert SubmissionState.LATE in states and SubmissionState.ON_TIME in states
    assert [r.school for r in rows if r.corrected] == ["古港镇完全小学"]
    assert {r.township for r in mine} == {"古港镇"} and all(r.state.submitted for r in mine)
    assert [(i.count, i.urgency.value, i.page) for i in items] == [(2, "overdue", "pages/reports/review.py")]
    # September: nobody submitted, all overdue; a month whose due day has not come is not overdue
    with session_scope(demo_engine) as session:
        september = missing.month_status(session, actor=county, month=LedgerMonth(2026, 9))
        assert {r.state for r in september} == {SubmissionState.OVERDUE}
        assert {r.state for r in missing.month_status(session, actor=county, month=NOVEMBER)} == {
            SubmissionState.NOT_DUE
        }


def test_a_childs_visits_stay_in_the_month_of_the_school_they_were_at_when_they_move_later(
    demo_engine, actors
):
    """A correction of October recounts October: a visit in October to a child who moved to another school in
    November stays in the first school's October (the school on October's last day), not the new one's."""
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    with session_scope(demo_engine) as session:
        log_visit(
            session, actor=registrar, facts=visit_facts(visit_date=date(2026, 10, 20)), student_id=child.id
        )
    before, theirs = count(demo_engine, county, OCTOBER), count(demo_engine, county, OCTOBER, NEIGHBOUR)
    with session_scope(demo_engine) as session:
        neighbour = new_registrar(session, actors["demo_admin"], "reg_meitian", NEIGHBOUR)
    moved = submit(
        demo_engine,
        neighbour,
        student_id=child.id,
        kind=ChangeKind.TRANSFER_IN,
        effective_date=TODAY,
        reason="随父母迁居",
        documents=PROOFS | {Document.TRANSFER_CERTIFICATE},
        to_class_id=class_of(demo_engine, NEIGHBOUR, 3),
        override_reason="父母工作调动",
    )
    decide(demo_engine, county, moved)  # outside the transfer window: the county approves
    with session_scope(demo_engine) as session:
        assert session.scalar(select(Child.school_id).where(Child.student_id == child.id)) == school_id(
            demo_engine, NEIGHBOUR
        )
    assert count(demo_engine, county, OCTOBER)["visits.visit"] == before["visits.visit"]
    assert count(demo_engine, county, OCTOBER, NEIGHBOUR)["visits.visit"] == theirs["visits.visit"]
    assert count(demo_engine, county, NOVEMBER, NEIGHBOUR)["enrolled"] > 0


def test_a_school_added_in_november_is_not_missing_for_october(demo_engine, actors):
    county, admin = actors["demo_county"], actors["demo_admin"]
    with session_scope(demo_engine) as session:
        township = session.scalar(select(School.township_id).where(School.code == DEMO_SCHOOL))
        added = add_school(
            session,
            actor=admin,
            code="2143099990",
            name="新建测试小学",
            kind=SchoolKind.PRIMARY,
            township_id=township,
        )
        october = [r.school_id for r in missing.month_status(session, actor=county, month=OCTOBER)]
        november = [r.school_id for r in missing.month_status(session, actor=county, month=NOVEMBER)]
        items = missing.report_work_items(session, county)
    assert added.id not in october and added.id in november
    assert [i.count for i in items] == [2]  # still the demo's two, not the new school


def test_xueji_report_monthly_writes_a_readable_xlsx_and_submits_as_the_registrar(
    demo_engine, database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("XUEJI_DATABASE_URL", database_url)
    get_settings.cache_clear()
    out = tmp_path / "月报.xlsx"
    base = ["report", "monthly", "--school", DEMO_SCHOOL, "-o", str(out)]
    assert xueji_main([*base, "--month", "2026-09", "--submit", "--as", "demo_teacher"]) == 1
    assert xueji_main([*base, "--month", "2026-13", "--as", "demo_registrar"]) == 1
    assert xueji_main([*base, "--month", "2026-09", "--submit", "--as", "demo_registrar"]) == 0
    sheets = load_workbook(out, read_only=True)
    assert sheets.sheetnames == ["月报", "说明", "版本记录"]
    rows = list(sheets["月报"].iter_rows(values_only=True))
    assert rows[0][:3] == ("类别", "项目", "今日计算") and rows[1][1] == "在籍学生合计"
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).where(MonthlyReport.month == "2026-09")) == 1
        enrolled = session.scalar(select(MonthlyReport.figures).where(MonthlyReport.month == "2026-09"))[
            "enrolled"
        ]
        assert rows[1][2] == enrolled
        assert session.scalar(select(func.count()).select_from(Child)) > 0
