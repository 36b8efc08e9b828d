# ruff: noqa: S608 - the SQL is the test's own text (a fixed sub-select spliced in), the values are bound
"""各县区对比 on a small city: three counties (the small demo county and two copies of it made in SQL, then made to
differ), refreshed into county_figure; every figure the city officer's page reads equals the count from the base
tables at the same moment, counted here in plain SQL independently of the services; the total's rate comes from
the summed parts; another city's officer sees none of it and a county officer is refused."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from benchmarks.city import clone_counties, ensure_city, ensure_officer
from xueji.auth import PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.cases import CaseCategory
from xueji.rules.class_code import parse_class_code
from xueji.rules.registration import record_gaps
from xueji.rules.retention import total
from xueji.rules.vocab import SchoolKind, Stage
from xueji.services.dashboards import retention
from xueji.services.home_teaching import board, records
from xueji.services.overview import summaries
from xueji.services.system.accounts import actor_by_username

pytestmark = pytest.mark.usefixtures("fixed_today")
TODAY = date(2026, 11, 23)
YEAR_START = date(2026, 9, 1)
COUNTY = "SELECT t.id FROM township t WHERE t.county_id = :c"


def _one(session: Session, sql: str, **params: object) -> int:
    return int(session.execute(text(sql), params).scalar_one() or 0)


@pytest.fixture
def city(demo_engine: Engine) -> list[int]:
    """Three counties of one city, each a little different; a second city with its own officer and no county."""
    with demo_engine.connect() as conn:
        ids = clone_counties(conn, 3, log=lambda *_: None)
        ensure_officer(conn, ensure_city(conn), "city_officer")
        conn.execute(text("INSERT INTO city (code, name) VALUES ('430200000000', '株洲市')"))
        other = conn.execute(text("SELECT id FROM city WHERE code = '430200000000'")).scalar_one()
        ensure_officer(conn, int(other), "other_city_officer")
        # the second county closes some cases, the third loses some flags and gets a dropout with no change
        conn.execute(
            text(
                "UPDATE child_case SET status = 'closed' WHERE id IN (SELECT c.id FROM child_case c "
                f"JOIN child ch ON ch.id = c.child_id WHERE ch.township_id IN ({COUNTY}) "
                "AND c.status <> 'closed' ORDER BY c.id LIMIT 4)"
            ),
            {"c": ids[1]},
        )
        third = f"SELECT s.id FROM school s WHERE s.township_id IN ({COUNTY})"
        conn.execute(
            text(
                "UPDATE student SET migrant = false, left_behind = false WHERE id IN (SELECT id FROM student "
                f"WHERE school_id IN ({third}) AND status = 'enrolled' AND left_behind ORDER BY id LIMIT 7)"
            ),
            {"c": ids[2]},
        )
        # the second county has one lost student less (reported late), the third one class more fully checked
        term = "(SELECT id FROM term WHERE start_date <= '2026-11-23' ORDER BY start_date DESC LIMIT 1)"
        conn.execute(
            text(
                "INSERT INTO term_report (term_id, student_id, reported_on, recorded_at) "
                f"SELECT {term}, min(st.id), '2026-11-20', '2026-11-20 08:00:00' FROM student st "
                f"JOIN school s ON s.id = st.school_id WHERE s.township_id IN ({COUNTY}) "
                "AND st.status = 'enrolled' AND NOT EXISTS (SELECT 1 FROM term_report r "
                f"WHERE r.student_id = st.id AND r.term_id = {term}) AND NOT EXISTS (SELECT 1 FROM "
                "status_change x WHERE x.student_id = st.id AND x.state = 'submitted')"
            ),
            {"c": ids[1]},
        )
        short = conn.execute(
            text(
                "SELECT k.id, k.school_id FROM school_class k JOIN school s ON s.id = k.school_id "
                f"WHERE s.township_id IN ({COUNTY}) AND k.code LIKE '2026%' AND NOT EXISTS "
                f"(SELECT 1 FROM registry_check r WHERE r.class_id = k.id AND r.term_id = {term}) ORDER BY k.id"
            ),
            {"c": ids[2]},
        ).first()
        assert short is not None
        # and one school of the third county completes its intake records (a phone and a guardian for every family)
        gap = (
            "SELECT min(st.school_id) FROM student st JOIN school_class k ON k.id = st.class_id "
            f"JOIN school s ON s.id = st.school_id WHERE s.township_id IN ({COUNTY}) AND k.code LIKE '2026%' "
            "AND EXISTS (SELECT 1 FROM family_member f WHERE f.student_id = st.id AND f.phone IS NULL)"
        )
        conn.execute(
            text(
                "UPDATE family_member SET phone = '13907310001', is_guardian = TRUE WHERE student_id IN "
                "(SELECT st.id FROM student st JOIN school_class k ON k.id = st.class_id "
                f"WHERE k.code LIKE '2026%' AND st.school_id = ({gap}))"
            ),
            {"c": ids[2]},
        )
        for day in ("2026-10-10", "2026-11-10"):
            conn.execute(
                text(
                    "INSERT INTO registry_check (term_id, school_id, class_id, checked_on, method, on_registry, "
                    f"present, missing, extra, mismatched, findings, recorded_at) SELECT {term}, :school, "
                    ":class, :day, 'tick', 0, 0, 0, 0, 0, '[]', '2026-11-20 08:00:00'"
                ),
                {"school": short.school_id, "class": short.id, "day": day},
            )
        conn.commit()
    return ids


def _expected(session: Session, county: int) -> dict[str, int]:
    """The county's figures counted from the base tables in plain SQL."""
    c = {"c": county}
    students = session.execute(
        text(
            "SELECT count(*), sum(CASE WHEN st.left_behind THEN 1 ELSE 0 END), "
            "sum(CASE WHEN st.migrant THEN 1 ELSE 0 END), sum(CASE WHEN st.disabled THEN 1 ELSE 0 END) "
            f"FROM student st JOIN school s ON s.id = st.school_id WHERE s.township_id IN ({COUNTY}) "
            "AND st.status = 'enrolled'"
        ),
        c,
    ).one()
    cases = dict(
        session.execute(
            text(
                "SELECT k.category, count(*) FROM child_case k JOIN child ch ON ch.id = k.child_id "
                f"WHERE ch.township_id IN ({COUNTY}) AND k.status <> 'closed' GROUP BY k.category"
            ),
            c,
        ).all()
    )
    policy = get_settings().visit_policy
    overdue = set()
    for teacher, child, category, opened, last in session.execute(
        text(
            "SELECT k.education_user_id, ch.id, k.category, k.opened_on, "
            "(SELECT max(v.visit_date) FROM home_visit v WHERE v.child_id = ch.id) "
            f"FROM child_case k JOIN child ch ON ch.id = k.child_id WHERE ch.township_id IN ({COUNTY}) "
            "AND k.status <> 'closed'"
        ),
        c,
    ):
        opened, last = _day(opened), _day(last)
        base = last if last is not None and last > opened else opened
        if base < TODAY - timedelta(days=policy.days.get(CaseCategory(category), 0)):
            overdue.add((teacher, child))
    term = _one(
        session, "SELECT id FROM term WHERE start_date <= :d ORDER BY start_date DESC LIMIT 1", d=TODAY
    )
    sweep_term = _one(
        session,
        "SELECT max(w.term_id) FROM sweep w JOIN term m ON m.id = w.term_id WHERE m.start_date <= :d",
        d=TODAY,
    )
    villages = session.execute(
        text(
            "SELECT count(*), sum(CASE WHEN v.status IN ('submitted', 'reviewed') THEN 1 ELSE 0 END) "
            "FROM sweep_village v JOIN sweep w ON w.id = v.sweep_id "
            f"WHERE w.term_id = :t AND w.township_id IN ({COUNTY})"
        ),
        {**c, "t": sweep_term},
    ).one()
    owing = (
        f"FROM school s WHERE s.township_id IN ({COUNTY}) AND (s.closed_on IS NULL OR s.closed_on > :end) "
        "AND EXISTS (SELECT 1 FROM student st WHERE st.school_id = s.id AND st.entry_month <= '202610')"
    )
    return {
        "schools": _one(session, f"SELECT count(*) FROM school WHERE township_id IN ({COUNTY})", **c),
        "enrolled": int(students[0]),
        "left_behind": int(students[1] or 0),
        "migrant": int(students[2] or 0),
        "disabled": int(students[3] or 0),
        "dropped_out": _one(
            session,
            "SELECT count(*) FROM student st JOIN school s ON s.id = st.school_id "
            f"WHERE s.township_id IN ({COUNTY}) AND st.status = 'dropped_out' AND EXISTS (SELECT 1 FROM "
            "status_change x WHERE x.student_id = st.id AND x.kind = 'dropout' AND x.state = 'approved' "
            "AND x.effective_date > :first AND x.effective_date <= :d)",
            **c,
            first=YEAR_START,
            d=TODAY,
        ),
        "open_cases": sum(int(n) for n in cases.values()),
        "suspected_dropout": int(cases.get("suspected_dropout", 0)),
        "dropout": int(cases.get("dropout", 0)),
        "ladder_overdue": _one(
            session,
            "SELECT count(*) FROM ladder_step l JOIN child_case k ON k.id = l.case_id "
            f"JOIN child ch ON ch.id = k.child_id WHERE ch.township_id IN ({COUNTY}) AND k.status <> 'closed' "
            "AND l.state = 'open' AND l.due_on < :d AND (l.step <> 'county' OR l.measure IS NULL)",
            **c,
            d=TODAY,
        ),
        "visits_overdue": len(overdue),
        "home_teaching": _one(
            session,
            "SELECT count(*) FROM home_plan p JOIN school s ON s.id = p.school_id "
            f"WHERE p.term_id = :t AND s.township_id IN ({COUNTY})",
            **c,
            t=term,
        ),
        "approvals_overdue": _one(
            session,
            "SELECT count(*) FROM status_change x JOIN school s ON s.id = x.school_id "
            f"WHERE s.township_id IN ({COUNTY}) AND x.state = 'submitted' AND x.due_date < :d",
            **c,
            d=TODAY,
        ),
        "reports_owed": _one(session, f"SELECT count(*) {owing}", **c, end=date(2026, 10, 31)),
        "reports_overdue": _one(
            session,
            f"SELECT count(*) {owing} AND NOT EXISTS (SELECT 1 FROM monthly_report m WHERE m.school_id = s.id "
            "AND m.month = '2026-10')",
            **c,
            end=date(2026, 10, 31),
        ),
        "sweep_villages": int(villages[0]),
        "sweep_done": int(villages[1] or 0),
        "lost": _one(
            session,
            "SELECT count(*) FROM student st JOIN school s ON s.id = st.school_id "
            f"WHERE s.township_id IN ({COUNTY}) AND st.status = 'enrolled' AND st.merged_into_id IS NULL "
            "AND st.archived_at IS NULL AND NOT EXISTS (SELECT 1 FROM term_report r WHERE r.student_id = st.id "
            "AND r.term_id = :t) AND NOT EXISTS (SELECT 1 FROM status_change x WHERE x.student_id = st.id "
            "AND x.kind IN ('transfer_out', 'transfer_in', 'suspension') AND (x.state = 'submitted' "
            "OR (x.state = 'approved' AND x.effective_date >= (SELECT start_date FROM term WHERE id = :t))))",
            **c,
            t=term,
        ),
        "intake_late": _intakes_late(session, county),
        "checks_short": _classes_short_of_checks(session, county, term),
    }


def _intakes_late(session: Session, county: int) -> int:
    """Open schools with an intake (grade 1, grade 7 by the school's stages) not complete: both deadlines (30
    September, 31 October) have passed on TODAY. A record is complete with an ID number and a family member, one marked
    guardian and one with a phone (rules.registration.record_gaps, the rule itself)."""
    family: dict[int, list[dict[str, object]]] = {}
    for student, guardian, phone in session.execute(
        text(
            "SELECT f.student_id, f.is_guardian, f.phone FROM family_member f JOIN student st ON st.id = f.student_id "
            f"JOIN school s ON s.id = st.school_id WHERE s.township_id IN ({COUNTY})"
        ),
        {"c": county},
    ):
        family.setdefault(student, []).append({"is_guardian": bool(guardian), "phone": phone})
    intake: dict[tuple[int, Stage], list[bool]] = {}
    for student, school, code, id_number in session.execute(
        text(
            "SELECT st.id, st.school_id, k.code, st.id_number FROM student st "
            "JOIN school_class k ON k.id = st.class_id JOIN school s ON s.id = st.school_id "
            f"WHERE s.township_id IN ({COUNTY}) AND st.status IN ('enrolled', 'suspended') "
            "AND st.merged_into_id IS NULL AND st.archived_at IS NULL"
        ),
        {"c": county},
    ):
        parsed = parse_class_code(code)
        if parsed.grade(2026) == parsed.stage.first_grade:
            gaps = record_gaps({"id_number": id_number}, family.get(student, []))
            intake.setdefault((school, parsed.stage), []).append(not gaps)
    late = 0
    for school, kind in session.execute(
        text(f"SELECT id, kind FROM school WHERE township_id IN ({COUNTY}) AND closed_on IS NULL"),
        {"c": county},
    ):
        stages = [intake.get((school, stage), []) for stage in SchoolKind(kind).stages]
        late += any(not (complete and all(complete)) for complete in stages)  # a school once
    return late


def _classes_short_of_checks(session: Session, county: int, term: int) -> int:
    """Classes of grades 1–9 checked on fewer distinct days this term than a term asks (2 by default)."""
    rows = session.execute(
        text(
            "SELECT k.code, (SELECT count(DISTINCT r.checked_on) FROM registry_check r WHERE r.class_id = k.id "
            f"AND r.term_id = :t) FROM school_class k JOIN school s ON s.id = k.school_id "
            f"WHERE s.township_id IN ({COUNTY})"
        ),
        {"c": county, "t": term},
    )
    needed = get_settings().registry_checks_per_term
    return sum(1 for code, checks in rows if 1 <= parse_class_code(code).grade(2026) <= 9 and checks < needed)


def _day(value: object) -> date | None:
    """A date as SQLite (text) or PostgreSQL (date) gives it back."""
    return date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def test_every_figure_equals_the_count_from_the_base_tables(demo_engine: Engine, city: list[int]) -> None:
    with session_scope(demo_engine) as session:
        assert _one(
            session, "SELECT count(*) FROM status_change WHERE kind = 'dropout' AND state = 'approved'"
        )
        assert _one(
            session, "SELECT count(*) FROM status_change WHERE kind = 'transfer_in' AND state = 'approved'"
        )
        assert _one(session, "SELECT count(*) FROM home_visit")
        report = summaries.refresh_all(session)
        assert not report.failed and len(report.seconds) == 3
        officer = actor_by_username(session, "city_officer")
        result = summaries.city_figures(session, actor=officer)
        expected = {county: _expected(session, county) for county in city}
        by_id = {row.county_id: row for row in result.counties}
        assert sorted(by_id) == sorted(city)
        for county in city:
            row = by_id[county]
            assert row.refreshed_at is not None
            # the figures the page shows are the base tables' counts (home teaching behind: the board's rule)
            shown = {k: v for k, v in row.values.items() if k != "home_teaching_behind"}
            assert shown == expected[county], county
            actor = summaries.county_actor(county)
            term = records.latest_term(session)
            assert term is not None
            taught = board.board(session, actor=actor, term=term)
            assert row.values["home_teaching_behind"] == sum(
                r.compliance.state.needs_follow_up for r in taught
            )
            flows = retention.grade_flows(session, actor=actor, school_year=2026)
            assert row.flows == total(flows)
        # the counties differ, so a figure read from the wrong county would show
        assert expected[city[0]]["open_cases"] - 4 == expected[city[1]]["open_cases"]
        assert expected[city[2]]["left_behind"] < expected[city[0]]["left_behind"]
        assert expected[city[0]]["lost"] - 1 == expected[city[1]]["lost"]
        assert expected[city[0]]["checks_short"] - 1 == expected[city[2]]["checks_short"]
        assert expected[city[0]]["intake_late"] - 1 == expected[city[2]]["intake_late"]
        # the total sums the counties, and its rate comes from the summed parts, not an average of rates
        for key in expected[city[0]]:
            assert result.total.values[key] == sum(expected[c][key] for c in city), key
        kept = sum(by_id[c].flows.retained for c in city)
        counted = sum(by_id[c].flows.denominator for c in city)
        assert result.total.rate == Fraction(kept, counted)
        assert result.oldest is not None and result.oldest <= result.newest  # type: ignore[operator]
        frame = summaries.figures_frame(result)
        assert list(frame["县区"])[-1] == "合计" and len(frame) == 4
        assert frame.iloc[-1]["在读学生"] == sum(expected[c]["enrolled"] for c in city)


def test_the_page_reads_the_stored_figures_until_the_next_refresh(
    demo_engine: Engine, city: list[int]
) -> None:
    with session_scope(demo_engine) as session:
        summaries.refresh_county(session, city[0])
        officer = actor_by_username(session, "city_officer")
        before = summaries.city_figures(session, actor=officer)
        assert [c.county_id for c in before.not_refreshed] == city[1:]  # 尚未汇总, and not in the total
        assert before.total.values["enrolled"] == before.counties[0].values["enrolled"]
        line, stale = summaries.freshness(before, minutes=10, at=before.oldest)  # type: ignore[arg-type]
        assert line.startswith("数据截至 ") and line.endswith("每 10 分钟更新一次") and not stale
        session.execute(
            text("UPDATE student SET status = 'suspended' WHERE id = (SELECT min(id) FROM student)")
        )
        session.commit()
        assert summaries.city_figures(session, actor=officer).counties[0].values == before.counties[0].values
        summaries.refresh_county(session, city[0])
        after = summaries.city_figures(session, actor=officer)
        assert after.counties[0].values["enrolled"] == before.counties[0].values["enrolled"] - 1
        assert after.oldest is not None and after.oldest >= before.oldest  # type: ignore[operator]


def test_another_citys_officer_sees_nothing_and_a_county_officer_is_refused(
    demo_engine: Engine, city: list[int]
) -> None:
    with session_scope(demo_engine) as session:
        summaries.refresh_county(session, city[0])
        other = summaries.city_figures(session, actor=actor_by_username(session, "other_city_officer"))
        assert other.counties == [] and other.total.values["enrolled"] == 0
        with pytest.raises(PermissionDenied):
            summaries.city_figures(session, actor=actor_by_username(session, "demo_county"))
        denied = _one(session, "SELECT count(*) FROM audit_log WHERE outcome = 'denied'")
        assert denied >= 1
