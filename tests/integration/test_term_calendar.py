"""学期设置 on SQLite and PostgreSQL: a school year's terms added and changed with the same checks, refusals audited,
open sweeps' due dates moved with the start, and the deadlines that read the terms following them: a lost-student
check on the first school day after the Spring Festival opens nothing, a week later it opens the cases, and with
the term moved later it opens nothing again."""

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from xueji.auth import Actor, PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.excel.setup_template import filled_workbook
from xueji.models import AuditLog, Case, Student, Sweep, SweepVillage, Term
from xueji.rules.cases import CaseSource
from xueji.rules.setup_rows import COUNTY_SHEET, SCHOOL_SHEET, TERM_SHEET, TOWNSHIP_SHEET, VILLAGE_SHEET
from xueji.rules.sweeps import HouseholdFacts
from xueji.rules.terms import TermDates
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases.opening import open_lost_cases
from xueji.services.common.calendar import term_on
from xueji.services.registry import file_import
from xueji.services.setup import terms, workbook_import
from xueji.services.setup.terms import TermError
from xueji.services.sweeps import fieldwork
from xueji.services.system import accounts, holidays

SCHOOL = "2143016965"
COUNTY = {
    COUNTY_SHEET: [("430181000000", "浏阳市")],
    TOWNSHIP_SHEET: [("430181108000", "古港镇")],
    VILLAGE_SHEET: [("430181108201", "梅田村"), ("430181108202", "沔江村")],
    SCHOOL_SHEET: [(SCHOOL, "古港镇完全小学", "小学", "430181108000")],
}
AUTUMN_2025 = TermDates(2025, 1, date(2025, 9, 1), date(2026, 1, 20))
# the first working day after the 2026 Spring Festival holiday (15–23 February)
SPRING_2026 = TermDates(2025, 2, date(2026, 2, 24), date(2026, 7, 10))


@pytest.fixture
def pin_today(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    def pin(day: date) -> None:
        monkeypatch.setenv("XUEJI_TODAY", day.isoformat())
        get_settings.cache_clear()

    yield pin
    get_settings.cache_clear()


@pytest.fixture
def county(engine: Engine) -> Actor:
    """An empty database set up as a real county would be: `xueji init`, then the set-up workbook (no terms);
    returns the administrator."""
    with session_scope(engine) as session:
        accounts.create_first_admin(session)
        admin = accounts.actor_by_username(session, "admin")
        workbook_import.commit_workbook(
            session, actor=admin, data=filled_workbook(COUNTY), file_name="县区.xlsx"
        )
        return accounts.actor_by_username(session, "admin")


def add_2025(engine: Engine, admin: Actor) -> None:
    with session_scope(engine) as session:
        terms.add_school_year(session, actor=admin, first=AUTUMN_2025, second=SPRING_2026)


def term_dates(engine: Engine) -> list[tuple[int, date, date]]:
    with session_scope(engine) as session:
        return [
            tuple(r)
            for r in session.execute(select(Term.seq, Term.start_date, Term.end_date).order_by(Term.seq))
        ]


def refusals(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(AuditLog.detail).where(AuditLog.entity_type == "term", AuditLog.outcome == "refused")
            )
        )


def test_adding_a_school_year_sets_its_two_terms_audited(engine, county):
    add_2025(engine, county)
    assert term_dates(engine) == [
        (1, AUTUMN_2025.start, AUTUMN_2025.end),
        (2, SPRING_2026.start, SPRING_2026.end),
    ]
    with session_scope(engine) as session:
        listed = terms.list_terms(session, actor=county)
        assert [v.label for v in listed] == ["2025-2026学年第一学期", "2025-2026学年第二学期"]
        assert listed[1].days == 137
        created = session.scalars(
            select(AuditLog.detail).where(AuditLog.entity_type == "term", AuditLog.action == "create")
        ).all()
    assert len(created) == 2 and "2025-2026学年第二学期 2026-02-24 至 2026-07-10" in created[1]


def test_the_proposal_for_a_year_avoids_the_spring_festival_and_the_administrators_holidays(engine, county):
    with session_scope(engine) as session:
        autumn, spring = terms.proposal(session, actor=county, start_year=2025)
    assert (autumn.start, spring.start) == (date(2025, 9, 1), date(2026, 3, 2))
    add_2025(engine, county)
    with session_scope(engine) as session:
        holidays.save_days(
            session, actor=county, rows=[{"day": "2026-09-01", "kind": "放假", "name": "调休"}], source="录入"
        )
        following = terms.proposal(session, actor=county)  # the year after those set
    assert following[0].school_year_start == 2026 and following[0].start == date(2026, 9, 2)


def test_a_year_already_set_is_refused_and_the_refusal_audited(engine, county):
    add_2025(engine, county)
    with pytest.raises(TermError, match="2025-2026学年的学期已经设置"), session_scope(engine) as session:
        terms.add_school_year(session, actor=county, first=AUTUMN_2025, second=SPRING_2026)
    assert len(refusals(engine)) == 1


def test_a_term_starting_on_a_public_holiday_is_refused_naming_it(engine, county):
    add_2025(engine, county)
    with pytest.raises(TermError, match="开学日期 2026-02-17 是春节假期,请改为节后第一个上课日") as refused:
        with session_scope(engine) as session:
            terms.change_term(
                session,
                actor=county,
                school_year_start=2025,
                seq=2,
                start=date(2026, 2, 17),
                end=SPRING_2026.end,
            )
    assert "2025-2026学年第二学期" in str(refused.value)
    assert term_dates(engine)[1][1] == SPRING_2026.start  # unchanged
    assert "春节假期" in refusals(engine)[0]


def test_terms_out_of_order_are_refused(engine, county):
    add_2025(engine, county)
    with pytest.raises(TermError, match="应晚于第一学期的结束日期"), session_scope(engine) as session:
        terms.change_term(
            session, actor=county, school_year_start=2025, seq=2, start=date(2026, 1, 12), end=SPRING_2026.end
        )


def official(engine: Engine) -> Actor:
    with session_scope(engine) as session:
        user, _ = accounts.create_user(
            session,
            actor=accounts.system_actor(session),
            username="gugang",
            display_name="古港镇干部",
            role=Role.TOWNSHIP_OFFICIAL,
            scope_kind=ScopeKind.TOWNSHIP,
            scope_code="430181108000",
        )
        return accounts.actor_of(user)


def test_moving_a_term_moves_the_due_date_of_its_open_sweep(engine, county, pin_today):
    add_2025(engine, county)
    pin_today(date(2026, 2, 25))
    township = official(engine)
    with session_scope(engine) as session:
        sweep = fieldwork.plan_sweep(session, actor=township, term=SPRING_2026)
        sweep_id, due = sweep.id, sweep.due_date
    assert due == date(2026, 3, 26)  # 30 days after the start (XUEJI_SWEEP_DAYS)
    with session_scope(engine) as session:
        saved = terms.change_term(
            session, actor=county, school_year_start=2025, seq=2, start=date(2026, 3, 2), end=SPRING_2026.end
        )
    assert [(m.before, m.after) for m in saved.sweeps_moved] == [(date(2026, 3, 26), date(2026, 4, 1))]
    assert "古港镇 03-26→04-01" in saved.summary
    with session_scope(engine) as session:
        assert session.scalar(select(Sweep.due_date).where(Sweep.id == sweep_id)) == date(2026, 4, 1)
        entry = session.scalar(
            select(AuditLog).where(AuditLog.entity_type == "sweep", AuditLog.action == "update")
        )
        assert entry.before == {"due_date": "2026-03-26"} and entry.after == {"due_date": "2026-04-01"}


def test_a_change_that_would_leave_recorded_visits_outside_the_term_is_refused(engine, county, pin_today):
    add_2025(engine, county)
    pin_today(date(2026, 2, 26))
    township = official(engine)
    with session_scope(engine) as session:
        fieldwork.plan_sweep(session, actor=township, term=SPRING_2026)
        village = session.scalar(select(SweepVillage.id).order_by(SweepVillage.id))
        fieldwork.record_household(
            session,
            actor=township,
            sweep_village_id=village,
            household=HouseholdFacts(head_name="张大山", group_name="一组", visited_on=date(2026, 2, 25)),
            children=[],
        )
    with pytest.raises(TermError, match="已有 1 条排查走访的户 的日期在 2026-03-02 至 2026-07-10 之外"):
        with session_scope(engine) as session:
            terms.change_term(
                session,
                actor=county,
                school_year_start=2025,
                seq=2,
                start=date(2026, 3, 2),
                end=SPRING_2026.end,
            )
    assert term_dates(engine)[1][1] == SPRING_2026.start
    later = filled_workbook({TERM_SHEET: [("2025-2026", "第二学期", "2026-03-02", "2026-07-10")]})
    with session_scope(engine) as session:  # the set-up workbook is held to the same rule
        planned = workbook_import.check_workbook(session, actor=county, data=later, file_name="学期.xlsx")
    (problem,) = planned.problems
    assert problem.column == "开学日期" and problem.reason.startswith("已有 1 条排查走访的户 的日期在")


def test_only_the_administrator_changes_the_calendar(engine, county):
    add_2025(engine, county)
    township = official(engine)
    with pytest.raises(PermissionDenied), session_scope(engine) as session:
        terms.change_term(
            session,
            actor=township,
            school_year_start=2025,
            seq=2,
            start=date(2026, 3, 2),
            end=SPRING_2026.end,
        )


# ---- the deadlines that read the terms ----------------------------------------------------------------------


def students_not_reported(engine: Engine, pin_today) -> int:
    """Five pupils imported at the county's school; none reports for the spring term."""
    pin_today(SPRING_2026.start)
    with session_scope(engine) as session:
        data = template_workbook(list(template_rows([(SCHOOL, "primary")], 5, school_year=2025, seed=4)))
        file_import.import_file(
            session,
            actor=accounts.system_actor(session),
            data=data,
            school_code=SCHOOL,
            file_name="学籍.xlsx",
        )
        return session.scalar(select(func.count()).select_from(Student))


def lost_cases_opened_on(engine: Engine, pin_today, day: date) -> int:
    pin_today(day)
    with session_scope(engine) as session:
        return open_lost_cases(session, actor=accounts.system_actor(session))


def test_the_first_school_day_after_the_spring_festival_opens_no_lost_student_case(engine, county, pin_today):
    add_2025(engine, county)
    assert students_not_reported(engine, pin_today) == 5
    with session_scope(engine) as session:
        assert term_on(session, SPRING_2026.start).start == SPRING_2026.start
    assert lost_cases_opened_on(engine, pin_today, SPRING_2026.start) == 0
    assert lost_cases_opened_on(engine, pin_today, date(2026, 3, 2)) == 0  # the week is not over
    assert lost_cases_opened_on(engine, pin_today, date(2026, 3, 3)) == 5  # a full week after the start
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).where(Case.source == CaseSource.LOST.value)) == 5


def test_with_the_term_moved_later_the_lost_student_check_follows(engine, county, pin_today):
    add_2025(engine, county)
    students_not_reported(engine, pin_today)
    with session_scope(engine) as session:
        terms.change_term(
            session, actor=county, school_year_start=2025, seq=2, start=date(2026, 3, 2), end=SPRING_2026.end
        )
    assert (
        lost_cases_opened_on(engine, pin_today, date(2026, 3, 3)) == 0
    )  # was the day the old term's week ended
    assert lost_cases_opened_on(engine, pin_today, date(2026, 3, 8)) == 0
    assert lost_cases_opened_on(engine, pin_today, date(2026, 3, 9)) == 5


def test_no_lost_student_case_is_opened_in_the_winter_holiday(engine, county, pin_today):
    add_2025(engine, county)
    students_not_reported(engine, pin_today)
    assert lost_cases_opened_on(engine, pin_today, date(2026, 2, 10)) == 0  # between the two terms
