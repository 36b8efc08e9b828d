"""The dashboard figures against counts made row by row in Python from the same demo (SQLite and PostgreSQL):
open cases by township and category, visits by month, the sweep per township, the villages behind, the
overdue visits per school, each within the actor's scope."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from xueji.db import session_scope
from xueji.models import Case, Child, HomeVisit, Sweep, SweepVillage, Township, Village
from xueji.rules.cases import CaseCategory
from xueji.rules.sweeps import VillageStatus
from xueji.rules.visits import VisitKind
from xueji.services.cases import visits
from xueji.services.dashboards import figures

pytestmark = pytest.mark.usefixtures("fixed_today")
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("username", ["demo_county", "demo_township"])
def test_open_cases_by_township_and_category(demo_engine, actors, username):
    actor = actors[username]
    with session_scope(demo_engine) as session:
        frame = figures.open_cases_by_township(session, actor=actor)
        rows = session.execute(
            select(Township.name, Case.category, Case.status, Township.code)
            .join(Child, Case.child_id == Child.id)
            .join(Township, Child.township_id == Township.id)
        ).all()
    wanted = {"demo_county": None, "demo_township": "430181108000"}[username]
    by_hand = Counter(
        (t, CaseCategory(c).label)
        for t, c, status, code in rows
        if status != "closed" and wanted in (None, code)
    )
    shown = {(r["乡镇"], c): r[c] for r in frame.to_dict("records") for c in frame.columns[1:-1] if r[c]}
    assert shown == dict(by_hand)
    assert list(frame["合计"]) == sorted(frame["合计"], reverse=True)


def test_visits_by_month_this_school_year(demo_engine, actors):
    with session_scope(demo_engine) as session:
        frame = figures.visits_by_month(session, actor=actors["demo_county"], school_year=2026)
        days = session.execute(select(HomeVisit.visit_date, HomeVisit.kind)).all()
    by_hand = Counter(
        (f"{d.year}年{d.month}月", VisitKind(k).label) for d, k in days if date(2026, 9, 1) <= d <= TODAY
    )
    assert list(frame["月份"]) == ["2026年9月", "2026年10月", "2026年11月"]
    shown = {
        (r["月份"], k.label): r[k.label] for r in frame.to_dict("records") for k in VisitKind if r[k.label]
    }
    assert shown == dict(by_hand) and sum(by_hand.values()) > 0


def test_the_sweep_per_township_and_the_villages_behind(demo_engine, actors):
    county = actors["demo_county"]
    with session_scope(demo_engine) as session:
        per_township = figures.sweep_by_township(session, actor=county)
        behind = figures.villages_behind(session, actor=county)
        rows = session.execute(
            select(Township.name, Village.name, SweepVillage.status, Sweep.due_date)
            .join(Sweep, SweepVillage.sweep_id == Sweep.id)
            .join(Township, Sweep.township_id == Township.id)
            .join(Village, SweepVillage.village_id == Village.id)
        ).all()
    done = {VillageStatus.SUBMITTED.value, VillageStatus.REVIEWED.value}
    for line in per_township.to_dict("records"):
        mine = [r for r in rows if r[0] == line["乡镇"]]
        assert (line["村/社区"], line["已提交或已审核"], line["已逾期未提交"]) == (
            len(mine),
            sum(r[2] in done for r in mine),
            sum(r[2] not in done and r[3] < TODAY for r in mine),
        )
    assert sorted(zip(behind["乡镇"], behind["村/社区"], strict=True)) == sorted(
        (t, v) for t, v, status, _ in rows if status not in done
    )
    assert set(behind["是否逾期"]) == {"已逾期"}  # the demo's sweeps were due on 1 October


def test_overdue_visits_per_school_add_up_the_teachers(demo_engine, actors):
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        schools = figures.overdue_visits_by_school(session, actor=township)
        teachers = visits.overdue_by_teacher(session, actor=township)
    by_hand: Counter[tuple[str, str]] = Counter()
    for t in teachers:
        by_hand[(t.township, t.school)] += t.overdue
    assert {(r["乡镇"], r["学校"]): r["家访逾期"] for r in schools.to_dict("records")} == dict(by_hand)
    assert set(schools["乡镇"]) == {"古港镇"} and list(schools["家访逾期"]) == sorted(
        schools["家访逾期"], reverse=True
    )
