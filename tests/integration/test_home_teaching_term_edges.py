"""送教看板 at the edges of a term, counted in SQL on SQLite and PostgreSQL: the issue's term (1 March–10 July)
with its July stub, a child one visit short after the term (未达标), a child who starts three weeks before the
end (owes ⌈5 × 22 ÷ 132⌉ = 1), class hours counted when the policy asks for them, and one visit every two weeks;
every row agrees with the pure rule over the same visits."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlmodel import Session

from tests.factories import SMALL_TOWNSHIPS, small_county
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AppUser, Child, HomePlan, HomeTeachingVisit, SchoolYear, Term
from xueji.rules.home_teaching import ComplianceState, VisitHours, term_compliance
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.home_teaching import board as home_board
from xueji.services.home_teaching import records
from xueji.services.system.accounts import actor_of

START, END = date(2027, 3, 1), date(2027, 7, 10)  # 31 + 30 + 31 + 30 + 10 = 132 days
MONTHLY = ["2027-03-12", "2027-04-09", "2027-05-14", "2027-06-04", "2027-06-18"]
CHILDREN = {  # name → (home teaching started, visits as (day, class hours))
    "按月五次": (START, [(d, 2.0) for d in MONTHLY]),
    "少一次": (START, [(d, 2.0) for d in MONTHLY[:4]]),
    "晚三周": (date(2027, 6, 19), [("2027-07-02", 2.0)]),
    "有一次课时不足": (START, [(d, 2.0) for d in MONTHLY[:4]] + [("2027-06-25", 1.5)]),
}


def _county(session: Session) -> tuple[int, AppUser]:
    ids = small_county(session)
    township = ids[next(iter(SMALL_TOWNSHIPS))]
    school = ids["2143016965"]
    year = SchoolYear(start_year=2026, start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
    session.add(year)
    session.flush()
    term = Term(school_year_id=year.id, seq=2, start_date=START, end_date=END)
    coordinator = AppUser(
        username="coordinator_edges",
        display_name="黄协调",
        role=Role.COORDINATOR.value,
        scope_kind=ScopeKind.TOWNSHIP.value,
        township_id=township,
    )
    session.add_all([term, coordinator])
    session.flush()
    for name, (started, visits) in CHILDREN.items():
        child = Child(name=name, township_id=township, school_id=school)
        session.add(child)
        session.flush()
        plan = HomePlan(child_id=child.id, term_id=term.id, school_id=school, started_on=started)
        session.add(plan)
        session.flush()
        for day, hours in visits:
            session.add(
                HomeTeachingVisit(
                    plan_id=plan.id,
                    child_id=child.id,
                    visit_date=date.fromisoformat(day),
                    teachers="周老师",
                    class_hours=hours,
                    content="认知训练",
                )
            )
    session.commit()
    return int(term.id or 0), coordinator


def _board(engine, monkeypatch, today: str, **env: str) -> dict[str, home_board.BoardRow]:
    """The board on `today` under the policy `env` sets, checked row by row against the pure rule."""
    monkeypatch.setenv("XUEJI_TODAY", today)
    for name in ("XUEJI_HOME_TEACHING_HOURS_PER_TERM", "XUEJI_HOME_TEACHING_EVERY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with session_scope(engine) as session:
        coordinator = session.scalar(select(AppUser).where(AppUser.username == "coordinator_edges"))
        term = records.term_of(session, session.scalar(select(Term.id)))
        rows = home_board.board(session, actor=actor_of(coordinator), term=term)
        for row in rows:
            expected = term_compliance(
                [VisitHours(d, h) for d, h in _visits(session, row.plan_id)],
                term_start=START,
                term_end=END,
                today=date.fromisoformat(today),
                policy=get_settings().home_teaching,
                started=row.started_on,
            )
            assert row.compliance == expected, row.name
    return {r.name: r for r in rows}


def _visits(session: Session, plan_id: int) -> list[tuple[date, float]]:
    return list(
        session.execute(
            select(HomeTeachingVisit.visit_date, HomeTeachingVisit.class_hours).where(
                HomeTeachingVisit.plan_id == plan_id
            )
        ).all()
    )


@pytest.fixture
def edges(engine):
    with session_scope(engine) as session:
        _county(session)
    yield engine
    get_settings.cache_clear()


def test_the_board_at_the_terms_edges_counts_visits_hours_and_the_share_owed(edges, monkeypatch):
    during = _board(edges, monkeypatch, "2027-07-05")
    assert {n: r.compliance.state for n, r in during.items()} == {
        "按月五次": ComplianceState.COMPLIANT,
        "少一次": ComplianceState.ON_TRACK,  # the July stub is left for one visit, and is not required
        "晚三周": ComplianceState.COMPLIANT,  # one visit owed, made on 2 July
        "有一次课时不足": ComplianceState.ON_TRACK,
    }
    assert during["少一次"].compliance.months_left == 1

    after = _board(edges, monkeypatch, "2027-07-11")
    assert {n: r.compliance.state for n, r in after.items()} == {
        "按月五次": ComplianceState.COMPLIANT,  # the 1–10 July stub is not required
        "少一次": ComplianceState.NOT_COMPLIANT,  # 未达标, never 有风险 once the term is over
        "晚三周": ComplianceState.COMPLIANT,
        "有一次课时不足": ComplianceState.NOT_COMPLIANT,
    }
    assert {r.name for r in list(after.values())[:2]} == {"少一次", "有一次课时不足"}  # worst first
    late = after["晚三周"].compliance
    assert (late.owed.visits, late.owed.taught_days, late.owed.term_days, late.months) == (1, 22, 132, ())
    short = after["有一次课时不足"]
    assert (short.visits, short.compliance.counted, short.hours) == (5, 4, 9.5)
    frame = home_board.board_frame(list(after.values())).set_index("姓名")
    assert frame.loc["晚三周", "应送计算"] == "本学期 3 周送教:应送教 ⌈5 × 22 ÷ 132⌉ = 1 次"
    assert frame.loc["按月五次", "应送计算"] == "全学期送教:应送教 5 次"
    assert frame.loc["少一次", "能否达标"] == "学期已结束,未达标"
    assert "应送课时" not in frame.columns  # class hours a term are not counted by default
    assert not frame.isna().any().any()

    hours = _board(edges, monkeypatch, "2027-07-11", XUEJI_HOME_TEACHING_HOURS_PER_TERM="10")
    assert hours["按月五次"].compliance.state is ComplianceState.COMPLIANT  # 5 × 2 = 10 class hours
    assert hours["晚三周"].compliance.owed.hours == 2  # ⌈10 × 22 ÷ 132⌉
    assert hours["有一次课时不足"].compliance.hours_needed == pytest.approx(
        0.5
    )  # 9.5 of 10: the short visit counts
    frame = home_board.board_frame(list(hours.values())).set_index("姓名")
    assert (frame.loc["晚三周", "应送课时"], frame.loc["晚三周", "累计课时"]) == (2, 2.0)

    fortnightly = _board(edges, monkeypatch, "2027-05-20", XUEJI_HOME_TEACHING_EVERY="2w")
    monthly = fortnightly["按月五次"].compliance  # one visit a month leaves two-week blocks empty
    assert [p.label for p in monthly.missed] == [
        "第3–4周(3月15日–3月28日)",
        "第7–8周(4月12日–4月25日)",
        "第9–10周(4月26日–5月9日)",
    ]
    assert (monthly.state, monthly.outlook) == (ComplianceState.BEHIND, "本学期已无法达标")
