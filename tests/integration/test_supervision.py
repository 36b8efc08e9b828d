"""City and province officers: the scope matrix above the county (they read their counties, nothing of another
city, and write nothing), the drill-down into one county (as_county, refusals audited), their accounts."""

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from xueji.auth import Actor, PermissionDenied
from xueji.db import session_scope
from xueji.excel.setup_template import filled_workbook
from xueji.models import (
    AppUser,
    AuditLog,
    Case,
    Child,
    City,
    County,
    LadderStep,
    Province,
    School,
    Student,
    Township,
)
from xueji.rules.accountability import LedgerMonth
from xueji.rules.cases import CaseStatus
from xueji.rules.setup_rows import CITY_SHEET, COUNTY_SHEET, SCHOOL_SHEET, TOWNSHIP_SHEET
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases import handling, ladder_steps
from xueji.services.common.access import (
    actor_county_id,
    child_condition,
    school_condition,
    student_condition,
)
from xueji.services.common.supervision import as_county, supervised_counties
from xueji.services.overview import counts
from xueji.services.registry import assignments, students
from xueji.services.reports import submission
from xueji.services.setup import workbook_import
from xueji.services.system import accounts

LIUYANG, NINGXIANG, LUSONG = "430181000000", "430182000000", "430203000000"


def _city_workbook() -> bytes:
    """长沙市 (the demo county 浏阳市 joins it, 宁乡市 is new) and 株洲市 with 芦淞区: one township and school each."""
    return filled_workbook(
        {
            CITY_SHEET: [("430100000000", "长沙市"), ("430200000000", "株洲市")],
            COUNTY_SHEET: [(LIUYANG, "浏阳市"), (NINGXIANG, "宁乡市"), (LUSONG, "芦淞区")],
            TOWNSHIP_SHEET: [("430182105000", "花明楼镇"), ("430203100000", "建宁街道")],
            SCHOOL_SHEET: [
                ("2143018201", "花明楼镇中心小学", "小学", "430182105000"),
                ("2143020301", "建宁小学", "小学", "430203100000"),
            ],
        }
    )


def _student(session, school_code: str, name: str) -> int:
    school_id = session.scalar(select(School.id).where(School.code == school_code))
    student = Student(
        school_id=school_id, name=name, sex="女", birth_date=date(2018, 5, 1), entry_month="202409"
    )
    session.add(student)
    session.flush()
    assert student.id is not None
    return student.id


@pytest.fixture
def city(demo_engine, actors):
    """The demo county inside 长沙市 with a second county, 株洲市 beside it, and the officers above them."""
    operator = actors["demo_admin"]
    with session_scope(demo_engine) as session:
        system = accounts.system_actor(session)
        workbook_import.commit_workbook(session, actor=system, data=_city_workbook(), file_name="市州.xlsx")
        ningxiang = _student(session, "2143018201", "宁乡生")
        lusong = _student(session, "2143020301", "株洲生")
        session.commit()
        made = {}
        for username, role, kind, code in (
            ("changsha_city", Role.CITY_OFFICER, ScopeKind.CITY, "430100000000"),
            ("zhuzhou_city", Role.CITY_OFFICER, ScopeKind.CITY, "430200000000"),
            ("hunan_province", Role.PROVINCE_OFFICER, ScopeKind.PROVINCE, "430000000000"),
        ):
            user, _ = accounts.create_user(
                session,
                actor=system,
                username=username,
                display_name="督学",
                role=role,
                scope_kind=kind,
                scope_code=code,
            )
            made[username] = accounts.actor_of(user)
        ids = dict(session.execute(select(County.code, County.id)).all())
    del operator
    return {"actors": made, "county": ids, "students": {"ningxiang": ningxiang, "lusong": lusong}}


def _denials(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count()).select_from(AuditLog).where(col(AuditLog.outcome).in_(["denied", "refused"]))
        )


def test_the_city_workbook_puts_the_counties_in_their_cities_and_the_province(demo_engine, city):
    with session_scope(demo_engine) as session:
        rows = session.execute(
            select(County.code, City.code, Province.code, Province.name)
            .join(City, col(County.city_id) == City.id)
            .join(Province, col(City.province_id) == Province.id)
            .order_by(County.code)
        ).all()
    assert rows == [
        (LIUYANG, "430100000000", "430000000000", "湖南省"),
        (NINGXIANG, "430100000000", "430000000000", "湖南省"),
        (LUSONG, "430200000000", "430000000000", "湖南省"),
    ]


def test_each_officer_supervises_exactly_their_counties_by_code(demo_engine, city, actors):
    a = city["actors"]
    with session_scope(demo_engine) as session:
        names = {
            who: [c.code for c in supervised_counties(session, actor=actor)]
            for who, actor in {**a, "demo_county": actors["demo_county"]}.items()
        }
    assert names == {
        "changsha_city": [LIUYANG, NINGXIANG],
        "zhuzhou_city": [LUSONG],
        "hunan_province": [LIUYANG, NINGXIANG, LUSONG],
        "demo_county": [],
    }


def test_as_county_narrows_to_an_own_county_and_refuses_any_other_audited(demo_engine, city, actors):
    changsha, county = city["actors"]["changsha_city"], city["county"]
    with session_scope(demo_engine) as session:
        narrowed = as_county(session, actor=changsha, county_id=county[NINGXIANG])
        assert (narrowed.scope_kind, narrowed.scope_id) == (ScopeKind.COUNTY, county[NINGXIANG])
        assert narrowed.via == (ScopeKind.CITY, changsha.scope_id)
        assert narrowed.scope_label == f"city:{changsha.scope_id}>county:{county[NINGXIANG]}"
        assert actor_county_id(session, narrowed) == county[NINGXIANG]
        assert actor_county_id(session, changsha) is None  # un-narrowed: no county for county-wide services
        # narrowing again from a narrowed actor starts from home
        assert as_county(session, actor=narrowed, county_id=county[LIUYANG]).scope_id == county[LIUYANG]
    before = _denials(demo_engine)
    refusals = [
        (changsha, county[LUSONG], "不在您的管辖范围内"),  # another city's county
        (city["actors"]["zhuzhou_city"], county[LIUYANG], "不在您的管辖范围内"),
        (actors["demo_county"], county[LIUYANG], "无权"),  # a county officer has no drill-down
        (changsha, 999_999, "不在您的管辖范围内"),
    ]
    for actor, county_id, words in refusals:
        with session_scope(demo_engine) as session, pytest.raises(PermissionDenied, match=words):
            as_county(session, actor=actor, county_id=county_id)
    assert _denials(demo_engine) == before + len(refusals)
    with session_scope(demo_engine) as session:
        last = session.scalar(select(AuditLog).order_by(col(AuditLog.id).desc()).limit(1))
        assert last is not None and last.entity_type == "county" and last.outcome == "denied"


def _codes(session, actor: Actor) -> dict[str, set]:
    school_county = (
        select(County.code)
        .join(Township, Township.county_id == County.id)
        .join(School, School.township_id == Township.id)
    )
    return {
        "schools": set(session.scalars(school_county.where(school_condition(actor)))),
        "students": set(
            session.scalars(
                school_county.join(Student, Student.school_id == School.id).where(student_condition(actor))
            )
        ),
        "children": set(
            session.scalars(
                select(County.code)
                .join(Township, Township.county_id == County.id)
                .join(Child, Child.township_id == Township.id)
                .where(child_condition(actor))
            )
        ),
    }


def test_a_city_officer_reads_their_counties_and_nothing_of_another_city(demo_engine, city, actors):
    a, county = city["actors"], city["county"]
    with session_scope(demo_engine) as session:
        changsha = _codes(session, a["changsha_city"])
        zhuzhou = _codes(session, a["zhuzhou_city"])
        province = _codes(session, a["hunan_province"])
        narrowed = _codes(session, as_county(session, actor=a["changsha_city"], county_id=county[LIUYANG]))
        officer = _codes(session, actors["demo_county"])
        liuyang_cases = session.scalar(select(func.count()).select_from(Case))
    assert changsha["schools"] == changsha["students"] == {LIUYANG, NINGXIANG}
    assert changsha["children"] == {LIUYANG} and liuyang_cases > 0  # the demo's cases are all 浏阳市's
    assert zhuzhou == {"schools": {LUSONG}, "students": {LUSONG}, "children": set()}
    assert province["schools"] == province["students"] == {LIUYANG, NINGXIANG, LUSONG}
    assert narrowed == officer == {"schools": {LIUYANG}, "students": {LIUYANG}, "children": {LIUYANG}}


def test_a_narrowed_officer_sees_the_county_s_figures_as_its_own_officer_does(demo_engine, city, actors):
    county = city["county"]
    with session_scope(demo_engine) as session:
        narrowed = as_county(session, actor=city["actors"]["hunan_province"], county_id=county[LIUYANG])
        assert counts.county_totals(session, actor=narrowed) == counts.county_totals(
            session, actor=actors["demo_county"]
        )
        other = as_county(session, actor=city["actors"]["hunan_province"], county_id=county[LUSONG])
        assert counts.county_totals(session, actor=other).enrolled <= 1


def _writes(session, actor: Actor, ids: dict[str, int]):
    """One call of a write service of each capability (a case, a ladder step, the registry, a report, the set-up,
    an account); each must refuse the supervising officer."""
    return [
        lambda: handling.set_status(session, actor=actor, case_id=ids["case"], status=CaseStatus.STABLE),
        lambda: handling.reopen_case(session, actor=actor, case_id=ids["case"], reason="督导重新打开个案"),
        lambda: ladder_steps.skip_step(
            session, actor=actor, case_id=ids["ladder_case"], reason="市里要求跳过这一步骤"
        ),
        lambda: students.reveal_identifiers(
            session, actor=actor, student_id=ids["student"], reason="核实身份"
        ),
        lambda: assignments.assign_student(
            session, actor=actor, teacher_id=ids["teacher"], student_id=ids["student"]
        ),
        lambda: submission.submit(session, actor=actor, school_id=ids["school"], month=LedgerMonth(2026, 10)),
        lambda: workbook_import.commit_workbook(
            session, actor=actor, data=_city_workbook(), file_name="x.xlsx"
        ),
        lambda: accounts.create_user(
            session,
            actor=actor,
            username="made_by_city",
            display_name="某某",
            role=Role.COUNTY_OFFICER,
            scope_kind=ScopeKind.COUNTY,
            scope_code=LIUYANG,
        ),
    ]


def test_neither_officer_can_write_at_home_or_narrowed_every_refusal_audited(demo_engine, city, actors):
    county = city["county"]
    with session_scope(demo_engine) as session:
        case_id = session.scalar(select(Case.id).order_by(Case.id))
        ids = {
            "case": case_id,
            "ladder_case": session.scalar(
                select(LadderStep.case_id).where(LadderStep.state == "open").order_by(LadderStep.id)
            ),
            "student": session.scalar(select(Student.id).order_by(Student.id)),
            "school": session.scalar(select(School.id).where(School.code == "2143016965")),
            "teacher": session.scalar(select(AppUser.id).where(AppUser.username == "demo_teacher")),
        }
        who = [city["actors"]["changsha_city"], city["actors"]["hunan_province"]]
        who += [as_county(session, actor=a, county_id=county[LIUYANG]) for a in who]
        before_users = session.scalar(select(func.count()).select_from(AppUser))
    before = _denials(demo_engine)
    calls = 0
    for actor in who:
        with session_scope(demo_engine) as session:
            for write in _writes(session, actor, ids):
                with pytest.raises(Exception) as refused:  # noqa: PT011 - PermissionDenied or the ladder's refusal
                    write()
                assert (
                    "无权" in str(refused.value)
                    or "办理" in str(refused.value)
                    or "命令行" in str(refused.value)
                )
                calls += 1
    assert _denials(demo_engine) == before + calls
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(AppUser)) == before_users
        assert session.get(Case, case_id).status != CaseStatus.STABLE.value


def test_the_command_line_makes_city_and_province_accounts_by_code_and_refuses_a_wrong_kind(
    demo_engine, city
):
    with session_scope(demo_engine) as session:
        system = accounts.system_actor(session)
        made = session.scalar(select(AppUser).where(AppUser.username == "changsha_city"))
        assert made is not None and made.city_id is not None and made.scope_kind == "city"
        assert ("city", made.city_id) in accounts.scope_names(session)
        with pytest.raises(accounts.AccountError, match="市教育局的管辖范围只能是市"):
            accounts.create_user(
                session,
                actor=system,
                username="wrong_kind",
                display_name="某某",
                role=Role.CITY_OFFICER,
                scope_kind=ScopeKind.COUNTY,
                scope_code=LIUYANG,
            )
        with pytest.raises(accounts.AccountError, match="找不到代码为 440100000000 的市"):
            accounts.create_user(
                session,
                actor=system,
                username="no_city",
                display_name="某某",
                role=Role.CITY_OFFICER,
                scope_kind=ScopeKind.CITY,
                scope_code="440100000000",
            )
