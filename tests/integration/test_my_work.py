"""我的待办 per role on the demo county: each line is the count of the service that does that work's page, the
oldest deadline is the rule's, overdue comes first, and a role sees only its own kinds of work."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from xueji.audit import record
from xueji.auth import Actor
from xueji.clock import now, today
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import Case, Child, HomeVisit, LadderStep
from xueji.rules.cases import CaseCategory, CaseStatus
from xueji.rules.ladder import Step
from xueji.rules.registration import RegistrationState
from xueji.rules.visits import VisitState, visit_due
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases import ladder, visits
from xueji.services.common.access import child_condition
from xueji.services.dashboards import my_work as mw
from xueji.services.dashboards import work_items as w
from xueji.services.dashboards.work_items import Urgency
from xueji.services.registry import registration, term_reports
from xueji.services.system import audit_log, role_grants

pytestmark = pytest.mark.usefixtures("fixed_today")


def _work(engine, actor):
    with session_scope(engine) as session:
        return mw.my_work(session, actor=actor)


def _by_what(work):
    return {i.what: i for i in work.items}


def _ordered(work):
    ranks = [mw.ORDER[i.urgency] for i in work.items]
    return ranks == sorted(ranks)


def test_the_registrar_sees_registration_lost_students_and_their_cases_never_villages(demo_engine, actors):
    registrar = actors["demo_registrar"]
    work = _work(demo_engine, registrar)
    items = _by_what(work)
    with session_scope(demo_engine) as session:
        intake = registration.intake_progress(session, actor=registrar)
        reports = term_reports.report_progress(session, actor=registrar)
    late = [r for r in intake if r.state is RegistrationState.LATE]
    assert late  # the demo school is behind with its intake
    line = items["新生注册逾期未完成"]
    assert (line.count, line.due, line.urgency) == (
        sum(r.students - r.complete for r in late),
        min(r.deadline for r in late),
        Urgency.OVERDUE,
    )
    assert line.page == "pages/registry/registration.py"
    lost = items["流生(开学未报到)"]
    assert lost.count == sum(r.lost for r in reports) > 0
    assert lost.page == "pages/registry/term_reports.py"
    assert not [
        i for i in work.items if "村" in i.unit or "sweeps" in i.page
    ]  # villages are not a school's job
    assert _ordered(work) and work.townships.empty


def test_the_registrar_is_told_of_requests_only_they_approve(demo_engine, actors):
    with session_scope(demo_engine) as session:
        role_grants.request_account(
            session,
            actor=actors["demo_admin"],
            username="new_teacher",
            display_name="吴老师",
            role=Role.TEACHER,
            scope_kind=ScopeKind.SCHOOL,
            scope_code="2143016965",
        )
    line = _by_what(_work(demo_engine, actors["demo_registrar"]))["账号申请待您审批"]
    assert (line.count, line.page, line.due) == (1, "pages/system/approvals.py", today())
    assert "账号申请待您审批" not in _by_what(_work(demo_engine, actors["demo_township"]))
    filed = _by_what(_work(demo_engine, actors["demo_admin"]))["账号申请等待审批"]
    assert (filed.count, filed.urgency, filed.page) == (1, Urgency.NOTE, "pages/system/users.py")


def test_the_county_sees_overdue_work_per_township_adding_up_to_its_lines(demo_engine, actors):
    work = _work(demo_engine, actors["demo_county"])
    items = _by_what(work)
    frame = work.townships
    assert list(frame.columns) == mw.TOWNSHIP_COLUMNS and len(frame) > 1
    assert frame["家访逾期(人)"].sum() == items["家访逾期的儿童"].count
    assert frame["排查逾期(村)"].sum() == items["排查逾期未提交的村"].count
    assert frame["流生(人)"].sum() == items["流生(开学未报到)"].count
    assert frame["人籍一致未完成(班)"].sum() == items["人籍一致核查未完成"].count
    totals = frame.drop(columns="乡镇").sum(axis=1).tolist()
    assert totals == sorted(totals, reverse=True)  # the busiest township first
    assert work.items[0].urgency is Urgency.OVERDUE and _ordered(work)


def test_the_oldest_overdue_visit_is_the_rules_deadline(demo_engine, actors):
    township = actors["demo_township"]
    policy = get_settings().visit_policy
    with session_scope(demo_engine) as session:
        found = w.oldest_overdue_visit(session, township)
        cases = session.execute(
            select(Case.child_id, Case.category, Case.opened_on)
            .join(Child, Case.child_id == Child.id)
            .where(Case.status != CaseStatus.CLOSED.value, child_condition(township))
        ).all()
        last: dict[int, object] = {}
        for child, day in session.execute(select(HomeVisit.child_id, HomeVisit.visit_date)):
            last[child] = max(last.get(child, day), day)
    deadlines = [
        visit_due(
            opened_on=opened,
            last_visit=last.get(child),
            interval_days=policy.interval(CaseCategory(category)),
        )
        for child, category, opened in cases
    ]
    expected = min(d for d in deadlines if d < today())
    assert found == expected
    line = _by_what(_work(demo_engine, township))["家访逾期的儿童"]
    assert line.due == expected and line.page == "pages/cases/supervision.py"


def test_the_township_sees_its_villages_and_children_out_of_school(demo_engine, actors):
    items = _by_what(_work(demo_engine, actors["demo_township"]))
    assert items["排查逾期未提交的村"].urgency is Urgency.OVERDUE
    assert items["已提交待审核的村"].page == "pages/sweeps/review.py"
    assert items["缺政府线包保人的个案"].count > 0
    assert "在办的疑似辍学、辍学个案" in items
    assert not [i for i in items.values() if "registry" in i.page]  # registration is the schools' work


def test_the_teacher_sees_their_own_visits_due(demo_engine, actors):
    teacher = actors["demo_teacher"]
    with session_scope(demo_engine) as session:
        due = visits.due_visits(session, actor=teacher)
    policy = get_settings().visit_policy
    late = [r for r in due if r.state(today(), policy.warn_days) is VisitState.OVERDUE]
    line = _by_what(_work(demo_engine, teacher))["家访已逾期"]
    assert (line.count, line.due, line.page) == (len(late), min(r.due for r in late), "pages/cases/visits.py")
    assert late[0].name in line.detail


def test_the_coordinator_sees_the_boards_children(demo_engine, actors):
    items = _by_what(_work(demo_engine, actors["demo_coordinator"]))
    assert items["送教已落后或未达标"].page == "pages/home_teaching/board.py"
    assert items["本月尚未送教"].due.month == today().month


def test_the_auditor_is_told_when_the_anchor_is_missing_or_stale(demo_engine, actors, audit_anchor_file):
    auditor = actors["demo_auditor"]
    assert "审计日志还没有锚点" in _by_what(_work(demo_engine, auditor))
    with session_scope(demo_engine) as session:
        head = audit_log.anchor_head(session, actor=auditor)
    assert not [i for i in _work(demo_engine, auditor).items if i.urgency is Urgency.OVERDUE]
    stale = replace(head, at=head.at - timedelta(hours=3))
    with session_scope(demo_engine) as session:  # one entry written after the anchor
        record(session, actor=auditor, action="audit.view", detail="锚点之后的一条记录")
        session.commit()
    audit_anchor_file.write_text(stale.line() + "\n")
    assert "锚点超过 2 小时未更新" in _by_what(_work(demo_engine, auditor))
    assert now() > stale.at


def test_nobody_with_nothing_to_do_gets_a_line(engine):
    for role in (Role.TEACHER, Role.COORDINATOR, Role.TOWNSHIP_OFFICIAL):
        assert _work(engine, Actor(999, "nobody", role, ScopeKind.SCHOOL, 999)).items == ()


def test_each_role_is_given_the_ladder_steps_it_owns_counted_as_the_ladder_page_counts(demo_engine, actors):
    township, county, registrar = actors["demo_township"], actors["demo_county"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        counts = {a: ladder.ladder_counts(session, actor=a) for a in (township, county, registrar)}
        late_rows, _ = ladder.ladder_rows(session, actor=township, overdue_only=True)
        county_late = ladder.ladder_rows(session, actor=county, overdue_only=True)[1]
    mine = _by_what(_work(demo_engine, township))
    opened, overdue, _, _ = counts[township][Step.TOWNSHIP]
    assert overdue and opened > overdue  # the demo: one order past its deadline, one handed up today
    late = mine["限期通知逾期未送达"]
    first = next(r.due_on for r in late_rows if r.step is Step.TOWNSHIP)
    assert (late.count, late.urgency, late.due, late.page) == (overdue, Urgency.OVERDUE, first, w.LADDER)
    assert mine["限期通知待送达"].count == opened - overdue
    assert mine["销号待审批"].count == counts[township][Step.CLOSURE][0]  # the township approves by default
    assert not [i for i in mine.values() if i.what.startswith(("县级措施", "学校劝返进行中", "返校跟踪"))]
    theirs = _by_what(_work(demo_engine, county))
    measures = sum(theirs[k].count for k in ("县级措施待登记", "县级措施已逾期") if k in theirs)
    with session_scope(
        demo_engine
    ) as session:  # a county step whose measure is recorded waits for the return
        unmeasured = session.scalar(
            select(func.count())
            .select_from(LadderStep)
            .where(LadderStep.step == "county", LadderStep.state == "open", col(LadderStep.measure).is_(None))
        )
    assert measures == unmeasured == (counts[county][Step.COUNTY][0] if Step.COUNTY in counts[county] else 0)
    assert "销号待审批" not in theirs and "限期通知待送达" not in theirs
    assert _work(demo_engine, county).townships["劝返逾期(件)"].sum() == county_late > 0
    school = {what: item.count for what, item in _by_what(_work(demo_engine, registrar)).items()}
    for step, (waiting, late_line, _) in w.LADDER_LINES.items():
        mine_too = step in (Step.SCHOOL, Step.FOLLOW_UP, Step.READY)
        expected = tuple(counts[registrar].get(step, (0, 0))[:2]) if mine_too else (0, 0)
        assert (school.get(waiting, 0) + school.get(late_line, 0), school.get(late_line, 0)) == expected


def test_the_county_is_given_the_closures_when_it_approves_them(demo_engine, actors, monkeypatch):
    monkeypatch.setenv("XUEJI_CLOSURE_APPROVER", "county")
    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        waiting = ladder.ladder_counts(session, actor=actors["demo_county"])[Step.CLOSURE][0]
    assert _by_what(_work(demo_engine, actors["demo_county"]))["销号待审批"].count == waiting > 0
    assert "销号待审批" not in _by_what(_work(demo_engine, actors["demo_township"]))
