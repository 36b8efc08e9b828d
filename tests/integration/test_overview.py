"""The county overview counts, checked against plain SQL written independently of the service."""

from sqlalchemy import text

from xueji.db import session_scope
from xueji.services.overview import counts


def _scalar(session, sql, **params):
    return session.execute(text(sql), params).scalar_one()


def test_totals_match_the_tables(demo_engine, actors):
    county = actors["demo_county"]
    with session_scope(demo_engine) as session:
        totals = counts.county_totals(session, actor=county)
        assert totals.enrolled == _scalar(session, "SELECT count(*) FROM student WHERE status = 'enrolled'")
        assert totals.left_behind == _scalar(
            session, "SELECT count(*) FROM student WHERE status = 'enrolled' AND left_behind"
        )
        assert totals.temporary == _scalar(
            session, "SELECT count(*) FROM student WHERE status = 'enrolled' AND id_number IS NULL"
        )
        assert totals.schools == _scalar(session, "SELECT count(*) FROM school")
        assert totals.enrolled < _scalar(session, "SELECT count(*) FROM student")  # some are not enrolled


def test_rows_by_township_and_school_add_up(demo_engine, actors):
    county = actors["demo_county"]
    with session_scope(demo_engine) as session:
        totals = counts.county_totals(session, actor=county)
        townships = counts.by_township(session, actor=county)
        schools = counts.by_school(session, actor=county)
        for row in townships:
            assert row.enrolled == _scalar(
                session,
                "SELECT count(*) FROM student s JOIN school c ON c.id = s.school_id "
                "JOIN township t ON t.id = c.township_id WHERE t.code = :code AND s.status = 'enrolled'",
                code=row.code,
            )
    assert sum(r.enrolled for r in townships) == totals.enrolled
    assert sum(r.enrolled for r in schools) == totals.enrolled
    assert sum(r.schools for r in townships) == totals.schools


def test_grades_follow_the_class_codes(demo_engine, actors):
    county = actors["demo_county"]
    with session_scope(demo_engine) as session:
        grades = counts.by_grade(session, actor=county, school_year_start=2026)
        # 2026 entrants are grade 1 (primary, digit 1) and grade 7 (junior, digit 2)
        first = _scalar(
            session,
            "SELECT count(*) FROM student s JOIN school_class k ON k.id = s.class_id "
            "WHERE k.code LIKE '20261%' AND s.status = 'enrolled'",
        )
        seventh = _scalar(
            session,
            "SELECT count(*) FROM student s JOIN school_class k ON k.id = s.class_id "
            "WHERE k.code LIKE '20262%' AND s.status = 'enrolled'",
        )
        total = counts.county_totals(session, actor=county).enrolled
    assert [g.grade for g in grades] == list(range(1, 10))
    assert [g.label for g in grades][:2] == ["一年级", "二年级"]
    by = {g.grade: g.enrolled for g in grades}
    assert by[1] == first and by[7] == seventh
    assert sum(by.values()) == total
    # a year later the same classes are one grade up
    assert counts.by_grade(session, actor=county, school_year_start=2027)[0].grade == 2


def test_the_sql_grade_agrees_with_the_python_rule_for_every_class(demo_engine):
    from sqlalchemy import select

    from xueji.models import SchoolClass
    from xueji.rules.class_code import parse_class_code
    from xueji.sql import class_grade

    for year in (2025, 2026, 2030):
        with session_scope(demo_engine) as session:
            rows = session.execute(select(SchoolClass.code, class_grade(year))).all()
        assert rows and all(parse_class_code(code).grade(year) == grade for code, grade in rows)


def test_a_township_official_sees_only_their_township(demo_engine, actors):
    official = actors["demo_township"]
    with session_scope(demo_engine) as session:
        townships = counts.by_township(session, actor=official)
        schools = counts.by_school(session, actor=official)
        totals = counts.county_totals(session, actor=official)
        expected = _scalar(
            session,
            "SELECT count(*) FROM student s JOIN school c ON c.id = s.school_id "
            "WHERE c.township_id = :t AND s.status = 'enrolled'",
            t=official.scope_id,
        )
    assert [t.name for t in townships] == ["古港镇"]
    assert {s.township for s in schools} == {"古港镇"}
    assert totals.enrolled == expected == sum(s.enrolled for s in schools)
    assert totals.townships == 1


def test_a_registrar_sees_only_their_school(demo_engine, actors):
    registrar = actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        schools = counts.by_school(session, actor=registrar)
        grades = counts.by_grade(session, actor=registrar, school_year_start=2026)
    assert [s.code for s in schools] == ["2143016965"]
    assert [g.grade for g in grades] == [1, 2, 3, 4, 5, 6]  # a primary school has no junior grades
