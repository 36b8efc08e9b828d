"""上线清单 on SQLite and PostgreSQL: an empty database lacks every line; a county made row by row fills them in,
and each figure is the count of what was made (what is missing named, the rest counted)."""

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from xueji.auth import Actor, PermissionDenied
from xueji.db import session_scope
from xueji.models import (
    AppSetting,
    AppUser,
    AuditLog,
    CalendarDay,
    County,
    RoleGrant,
    School,
    SchoolClass,
    SchoolYear,
    Student,
    Term,
    Township,
    Village,
)
from xueji.rules.vocab import Role, ScopeKind, StudentStatus
from xueji.services.setup.checklist import LineState, checklist, leads_here
from xueji.services.system import accounts
from xueji.services.system.deadlines import COMPLETE_KEY

SPRING = date(2027, 3, 1)  # 2026-2027 second term; chinesecalendar knows nothing of 2027


def _admin(session: Session) -> Actor:
    accounts.create_first_admin(session, password="Gugang#2027x")
    return accounts.actor_by_username(session, "admin")


def _states(found) -> dict[str, LineState]:
    return {line.key: line.state for line in found.lines}


def _user(session: Session, username: str, role: Role, **scope: int) -> None:
    kind = (
        ScopeKind.SCHOOL
        if "school_id" in scope
        else ScopeKind.TOWNSHIP
        if "township_id" in scope
        else ScopeKind.COUNTY
    )
    session.add(
        AppUser(username=username, display_name=username, role=role.value, scope_kind=kind.value, **scope)
    )


def _pupil(
    session: Session, school_id: int, class_id: int, n: int, status: StudentStatus = StudentStatus.ENROLLED
):
    session.add(
        Student(
            school_id=school_id,
            class_id=class_id,
            name=f"学生{n}",
            sex="男",
            birth_date=date(2018, 5, n % 28 + 1),
            entry_month="202409",
            status=status.value,
        )
    )


def _small_county(session: Session) -> dict[str, int]:
    """A county with two townships: 东镇 with two villages and two schools, 西乡 with neither; the 2026 school year's
    terms, 2027's holidays, one account of each county role, accounts and pupils at 东镇一小 only, and one pending
    account request."""
    county = County(code="430181000000", name="测试县")
    session.add(county)
    session.flush()
    east = Township(county_id=county.id, code="430181101000", name="东镇")
    west = Township(county_id=county.id, code="430181102000", name="西乡")
    session.add_all([east, west])
    session.flush()
    session.add_all(
        [
            Village(township_id=east.id, code="430181101001", name="东村"),
            Village(township_id=east.id, code="430181101002", name="南村"),
        ]
    )
    first = School(township_id=east.id, code="2143000001", name="东镇一小", kind="primary")
    second = School(township_id=east.id, code="2143000002", name="东镇二小", kind="primary")
    session.add_all([first, second])
    session.flush()
    year = SchoolYear(start_year=2026, start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
    session.add(year)
    session.flush()
    session.add_all(
        [
            Term(school_year_id=year.id, seq=1, start_date=date(2026, 9, 1), end_date=date(2027, 1, 22)),
            Term(school_year_id=year.id, seq=2, start_date=date(2027, 2, 22), end_date=date(2027, 7, 9)),
        ]
    )
    session.add(CalendarDay(day=date(2027, 1, 1), is_workday=False, name="元旦"))
    session.add(AppSetting(key=f"{COMPLETE_KEY}2027", value="admin"))  # the year confirmed complete
    _user(session, "kezhang", Role.COUNTY_OFFICER, county_id=county.id)
    _user(session, "shenji", Role.AUDITOR, county_id=county.id)
    _user(session, "xueji1", Role.REGISTRAR, school_id=first.id)
    _user(session, "laoshi1", Role.TEACHER, school_id=first.id)
    _user(session, "zhuangan", Role.TOWNSHIP_OFFICIAL, township_id=east.id)
    session.flush()
    teacher = session.scalar(select(AppUser.id).where(AppUser.username == "laoshi1"))
    headed = SchoolClass(school_id=first.id, code="2024101", head_teacher_id=teacher)
    unheaded = SchoolClass(school_id=first.id, code="2024102")
    graduated = SchoolClass(school_id=first.id, code="2018101")  # no pupil on the roll: not counted
    session.add_all([headed, unheaded, graduated])
    session.flush()
    for n in range(3):
        _pupil(session, first.id, headed.id, n)
        _pupil(session, first.id, unheaded.id, 10 + n)
    _pupil(session, first.id, graduated.id, 20, StudentStatus.GRADUATED)
    admin = session.scalar(select(AppUser.id).where(AppUser.username == "admin"))
    session.add(
        RoleGrant(
            kind="new_account",
            username="laoshi2",
            display_name="老师二",
            role=Role.TEACHER.value,
            scope_kind=ScopeKind.SCHOOL.value,
            school_id=second.id,
            requested_by=admin,
        )
    )
    session.commit()
    return {"county": county.id, "east": east.id, "west": west.id, "first": first.id, "second": second.id}


def test_an_empty_database_lacks_every_line(engine):
    with session_scope(engine) as session:
        found = checklist(session, actor=_admin(session), on=SPRING)
    states = _states(found)
    assert states.pop("requests") is LineState.DONE  # nothing waits: the one line an empty county has done
    assert set(states.values()) == {LineState.MISSING}
    assert len(states) == 13 and found.summary == "1/14 项已完成" and not found.complete
    assert found.line("terms").missing == "尚未设置:2026-2027学年第一学期、2026-2027学年第二学期"
    assert found.line("holidays").figure == "2027年:不完整;2028年:不完整"
    assert found.line("auditors").pages == () and "xueji user add" in found.line("auditors").how


def test_a_county_made_row_by_row_fills_the_lines_with_their_counts(engine):
    with session_scope(engine) as session:
        admin = _admin(session)
        _small_county(session)
        found = checklist(session, actor=admin, on=SPRING)
    line = found.line
    assert (line("county").state, line("county").figure) == (LineState.DONE, "测试县(430181000000)")
    assert (line("townships").state, line("townships").figure) == (LineState.DONE, "2 个")
    assert (line("villages").state, line("villages").figure) == (LineState.WARNING, "2 个,1/2 个乡镇已有")
    assert line("villages").missing == "没有村/社区的乡镇:西乡"
    assert (line("schools").state, line("schools").figure) == (LineState.WARNING, "2 所,1/2 个乡镇已有")
    assert (line("terms").state, line("terms").figure) == (LineState.DONE, "2026-2027学年:2/2 个学期已设置")
    assert (line("holidays").state, line("holidays").figure) == (
        LineState.DONE,
        "2027年:管理员已确认完整;2028年:不完整",
    )
    assert (line("county_officers").state, line("county_officers").figure) == (LineState.DONE, "1 个")
    assert (line("auditors").state, line("auditors").how) == (LineState.DONE, "")
    for key, what in (("registrars", "学籍管理员账号"), ("teachers", "教师账号")):
        assert (line(key).state, line(key).figure) == (LineState.MISSING, "1/2 所学校已有")
        assert line(key).missing == f"没有{what}的学校:东镇二小"
    assert line("township_officials").figure == "1/2 个乡镇已有"
    assert line("township_officials").missing == "没有乡镇干部账号的乡镇:西乡"
    assert (line("registry").figure, line("registry").missing) == (
        "1/2 所学校已有",
        "还没有学生的学校:东镇二小",
    )
    assert line("head_teachers").state is LineState.WARNING
    assert line("head_teachers").figure == "1/2 个班已指定班主任账号"  # the graduated class is not counted
    assert line("head_teachers").missing.startswith("没有班主任账号的班:东镇一小 小学2024级(02)班")
    assert (line("requests").state, line("requests").figure) == (LineState.WARNING, "1 条")
    assert found.summary == "6/14 项已完成" and not found.complete


def test_the_county_is_complete_once_nothing_is_missing_and_warnings_do_not_hold_it(engine):
    with session_scope(engine) as session:
        admin = _admin(session)
        ids = _small_county(session)
        assert leads_here(session, actor=admin)
        _user(session, "xueji2", Role.REGISTRAR, school_id=ids["second"])
        _user(session, "laoshi2b", Role.TEACHER, school_id=ids["second"])
        _user(session, "zhuangan2", Role.TOWNSHIP_OFFICIAL, township_id=ids["west"])
        cls = SchoolClass(school_id=ids["second"], code="2025101")
        session.add(cls)
        session.flush()
        _pupil(session, ids["second"], cls.id, 30)
        session.commit()
        found = checklist(session, actor=admin, on=SPRING)
        assert found.complete and found.summary == "10/14 项已完成"
        assert {k for k, s in _states(found).items() if s is LineState.WARNING} == {
            "villages",
            "schools",
            "head_teachers",
            "requests",
        }
        assert found.line("head_teachers").figure == "1/3 个班已指定班主任账号"
        assert not leads_here(session, actor=admin)


def test_an_inactive_account_does_not_count(engine):
    with session_scope(engine) as session:
        admin = _admin(session)
        _small_county(session)
        session.get_one(AppUser, accounts.user_id_of(session, "shenji")).is_active = False
        session.commit()
        assert checklist(session, actor=admin, on=SPRING).line("auditors").state is LineState.MISSING


def test_a_closed_school_is_no_longer_asked_for(engine):
    with session_scope(engine) as session:
        admin = _admin(session)
        ids = _small_county(session)
        session.get_one(School, ids["second"]).closed_on = date(2026, 8, 31)
        session.commit()
        found = checklist(session, actor=admin, on=SPRING)
    assert found.line("schools").figure == "1 所,1/2 个乡镇已有"
    for key in ("registrars", "teachers", "registry"):
        assert (found.line(key).state, found.line(key).figure) == (LineState.DONE, "1/1 所学校已有")


def test_the_first_five_names_are_shown_and_the_rest_counted(engine):
    with session_scope(engine) as session:
        admin = _admin(session)
        ids = _small_county(session)
        session.add_all(
            School(township_id=ids["east"], code=f"21430001{n:02d}", name=f"新校{n:02d}", kind="primary")
            for n in range(7)
        )
        session.commit()
        found = checklist(session, actor=admin, on=SPRING)
    assert found.line("registrars").figure == "1/9 所学校已有"
    assert (
        found.line("registrars").missing
        == "没有学籍管理员账号的学校:东镇二小、新校00、新校01、新校02、新校03 等 8 所"
    )


def test_next_years_terms_and_holidays_are_asked_for_two_months_ahead(engine):
    with session_scope(engine) as session:
        admin = _admin(session)
        _small_county(session)
        june = checklist(session, actor=admin, on=date(2027, 6, 20))
        july = checklist(session, actor=admin, on=date(2027, 7, 15))
        november = checklist(session, actor=admin, on=date(2027, 11, 15))
    assert june.line("terms").state is LineState.DONE
    assert july.line("terms").state is LineState.WARNING
    assert july.line("terms").missing == "尚未设置:2027-2028学年第一学期、2027-2028学年第二学期"
    assert july.line("terms").figure == "2026-2027学年:2/2 个学期已设置;2027-2028学年:0/2"
    assert november.line("terms").state is LineState.MISSING  # the school year has begun without its terms
    assert november.line("holidays").state is LineState.WARNING
    assert november.line("holidays").missing.startswith("2028年的节假日安排未内置也未确认完整")


def test_a_county_officer_lands_on_the_checklist_only_while_there_is_no_school(engine):
    with session_scope(engine) as session:
        county = County(code="430181000000", name="测试县")
        session.add(county)
        session.flush()
        _user(session, "kezhang", Role.COUNTY_OFFICER, county_id=county.id)
        session.commit()
        officer = accounts.actor_by_username(session, "kezhang")
        assert leads_here(session, actor=officer)
        assert checklist(session, actor=officer, on=SPRING).line("county").state is LineState.DONE
        township = Township(county_id=county.id, code="430181101000", name="东镇")
        session.add(township)
        session.flush()
        session.add(School(township_id=township.id, code="2143000001", name="东镇一小", kind="primary"))
        session.commit()
        assert not leads_here(session, actor=officer)


def test_a_teacher_may_not_read_the_checklist_and_the_denial_is_audited(engine):
    with session_scope(engine) as session:
        _admin(session)
        ids = _small_county(session)
        teacher = accounts.actor_by_username(session, "laoshi1")
        assert ids and not leads_here(session, actor=teacher)
        with pytest.raises(PermissionDenied):
            checklist(session, actor=teacher, on=SPRING)
        denied = session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.outcome == "denied", AuditLog.username == "laoshi1")
        )
    assert denied == 1
