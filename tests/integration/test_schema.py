"""The schema is created by migration, matches the models, and keeps rows when upgraded."""

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from xueji.cli import main as xueji_main
from xueji.db import current_revision, head_revision, make_engine, migrate, session_scope
from xueji.models import (
    AppSetting,
    AppUser,
    AuditChain,
    AuditLog,
    CalendarDay,
    Case,
    CaseEvent,
    Child,
    ChildGroup,
    City,
    ComparisonRun,
    County,
    CountyFigure,
    DeptList,
    DeptPerson,
    FamilyMember,
    FormDraft,
    GrantClass,
    HomeAssessment,
    HomePlan,
    HomePlanTeacher,
    HomeTeachingVisit,
    HomeVisit,
    Household,
    JobLease,
    LadderStep,
    MatchCandidate,
    MatchDecision,
    MonthlyReport,
    Notice,
    Province,
    RecordMove,
    RegistryCheck,
    RobotHook,
    RoleGrant,
    Rollover,
    School,
    SchoolAgeChild,
    SchoolClass,
    SchoolYear,
    StatusChange,
    Student,
    Sweep,
    SweepChild,
    SweepFinding,
    SweepTeamMember,
    SweepVillage,
    TeacherAssignment,
    Term,
    TermReport,
    Township,
    VerificationTask,
    Village,
    WebSession,
)


def test_upgrade_from_empty_creates_every_table_at_head(database_url):
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == head_revision(engine)
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == [], f"models differ from migrations; add a migration: {diff}"


def _one_of_each(session):
    county = County(code="430181000000", name="浏阳市")
    session.add(county)
    session.flush()
    township = Township(county_id=county.id, code="430181108000", name="古港镇")
    session.add(township)
    session.flush()
    village = Village(township_id=township.id, code="430181108201", name="梅田村")
    school = School(township_id=township.id, code="2143016965", name="古港镇完全小学", kind="primary")
    session.add_all([village, school])
    session.flush()
    user = AppUser(
        username="t001", display_name="刘老师", role="teacher", scope_kind="school", school_id=school.id
    )
    session.add(user)
    session.flush()
    cls = SchoolClass(
        school_id=school.id, code="2025101", head_teacher_name="刘建国", head_teacher_id=user.id
    )
    session.add(cls)
    session.flush()
    student = Student(
        registry_number="G43018120190312001X",
        school_id=school.id,
        class_id=cls.id,
        name="李浩宇",
        sex="男",
        birth_date=date(2019, 3, 12),
        id_number="43018120190312001X",
        entry_month="202509",
        home_village_id=village.id,
        left_behind=True,
        disability_type="视力",
    )
    session.add(student)
    session.flush()
    year = SchoolYear(start_year=2025, start_date=date(2025, 9, 1), end_date=date(2026, 8, 31))
    session.add(year)
    session.flush()
    term = Term(school_year_id=year.id, seq=1, start_date=date(2025, 9, 1), end_date=date(2026, 1, 20))
    session.add(term)
    session.flush()
    rows = [
        county,
        township,
        village,
        school,
        user,
        cls,
        student,
        FamilyMember(
            student_id=student.id, seq=1, name="李建国", relation="父亲", phone="13812345678", works_away=True
        ),
        year,
        term,
        AuditLog(
            username="t001",
            role="teacher",
            scope="school:1",
            action="login",
            outcome="success",
            after={"姓名": "李浩宇"},
            hash="0" * 64,
            at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
            chain=1,
            mac="1" * 64,
            seq=1,
            sealed_at=datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC),
        ),
        AuditChain(chain=1, seq=1, hash="0" * 64),
        AppSetting(key="demo_database", value="seed=1"),
        TeacherAssignment(user_id=user.id, class_id=cls.id),
        CalendarDay(day=date(2027, 1, 1), is_workday=False, name="元旦"),
        StatusChange(
            student_id=student.id,
            kind="suspension",
            school_id=school.id,
            effective_date=date(2026, 11, 23),
            reason="住院治疗",
            documents="medical_certificate",
            suspension_until=date(2027, 6, 30),
            submitted_by=user.id,
            due_date=date(2026, 12, 2),
        ),
        Rollover(school_year=2026, county_id=county.id, graduated=[student.id], run_by=user.id),
        TermReport(
            term_id=term.id,
            student_id=student.id,
            reported_on=date(2025, 9, 1),
            leave_reason="病假",
            recorded_by=user.id,
        ),
        RegistryCheck(
            term_id=term.id,
            school_id=school.id,
            class_id=cls.id,
            checked_on=date(2025, 9, 20),
            method="tick",
            on_registry=1,
            present=0,
            missing=1,
            extra=0,
            mismatched=0,
            findings=[{"kind": "missing", "name": "李浩宇", "id_number": "430181********001X"}],
            recorded_by=user.id,
        ),
    ]
    child = Child(student_id=student.id, name="李浩宇", township_id=township.id, school_id=school.id)
    session.add(child)
    session.flush()
    case = Case(
        child_id=child.id,
        category="left_behind",
        risk_level="low",
        risk_reason="父母在外务工",
        source="registry",
        opened_on=date(2025, 9, 1),
        education_user_id=user.id,
        government_name="刘村干",
        government_phone="13800138000",
    )
    session.add(case)
    session.flush()
    rows += [
        child,
        case,
        CaseEvent(case_id=case.id, user_id=user.id, kind="opened", detail="学籍标记自动建档:留守儿童"),
        HomeVisit(
            child_id=child.id,
            visit_date=date(2025, 9, 10),
            kind="visit",
            method="home",
            visitors="周老师",
            met_with="祖母",
            child_situation="在校表现稳定",
            risk_after="low",
            next_visit_on=date(2025, 10, 10),
            recorded_by=user.id,
        ),
    ]
    session.add_all(rows)
    session.flush()
    sweep = Sweep(
        term_id=term.id,
        township_id=township.id,
        reference_date=date(2026, 8, 31),
        due_date=date(2026, 10, 1),
        planned_by=user.id,
    )
    session.add(sweep)
    session.flush()
    village_sweep = SweepVillage(
        sweep_id=sweep.id,
        village_id=village.id,
        status="submitted",
        household_count=120,
        contact_name="刘村干",
        contact_phone="13800138000",
        submitted_by=user.id,
        submitted_at=datetime(2026, 9, 20, 17, 0, tzinfo=UTC),
    )
    session.add(village_sweep)
    session.flush()
    household = Household(
        sweep_village_id=village_sweep.id,
        group_name="3组",
        head_name="李建国",
        phone="13812345678",
        school_age_count=1,
        visited_on=date(2026, 9, 12),
        recorded_by=user.id,
    )
    session.add(household)
    session.flush()
    found = SweepChild(
        household_id=household.id,
        sweep_village_id=village_sweep.id,
        name="李浩宇",
        sex="男",
        birth_date=date(2015, 3, 1),
        status="elsewhere",
        place="广东省深圳市某小学",
        match_kind="id",
        student_id=student.id,
        child_id=child.id,
    )
    session.add(found)
    session.flush()
    extra = [
        sweep,
        village_sweep,
        household,
        found,
        SweepTeamMember(sweep_village_id=village_sweep.id, user_id=user.id),
        SweepFinding(
            sweep_child_id=found.id,
            sweep_village_id=village_sweep.id,
            kind="registry_mismatch",
            reason="在外地就读(广东省深圳市某小学),未办转学",
            school_id=school.id,
        ),
    ]
    session.add_all(extra)
    session.flush()
    plan = HomePlan(
        child_id=child.id,
        term_id=term.id,
        school_id=school.id,
        started_on=date(2026, 9, 7),
        goals={"life_skills": "独立进食", "communication": "用词语表达需要"},
        methods="示范、反复练习",
        planned_dates=["2026-09-15", "2026-10-13"],
        created_by=user.id,
    )
    session.add(plan)
    session.flush()
    teaching = [
        plan,
        HomePlanTeacher(plan_id=plan.id, user_id=user.id),
        HomeAssessment(
            child_id=child.id,
            assessed_on=date(2026, 8, 20),
            members="县特教中心王老师、医生李某",
            disability_type="智力",
            degree="severe",
            ability="能短时注意,生活部分自理",
            conclusion="home_teaching",
            next_review_on=date(2027, 8, 20),
            recorded_by=user.id,
        ),
        HomeTeachingVisit(
            plan_id=plan.id,
            child_id=child.id,
            visit_date=date(2026, 9, 15),
            teachers="周老师",
            class_hours=2.5,
            content="认识颜色",
            response="能指认红色",
            progress={"cognition": "能指认两种颜色"},
            guardian_signed=True,
            next_visit_on=date(2026, 10, 13),
            recorded_by=user.id,
        ),
    ]
    session.add_all(teaching)
    grant = RoleGrant(
        kind="new_account",
        username="t002",
        display_name="王老师",
        role="teacher",
        scope_kind="school",
        school_id=school.id,
        requested_by=user.id,
        status="approved",
        decided_by=user.id,
        decided_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        batch="0f" * 16,
        phone="13800001111",
    )
    session.add(grant)
    session.flush()
    taught = GrantClass(grant_id=grant.id, school_id=school.id, class_code="2026101", head_teacher=True)
    session.add(taught)
    moved = RecordMove(
        kind="school_merge",
        student_id=student.id,
        from_school_id=school.id,
        to_school_id=school.id,
        from_class_id=cls.id,
        to_class_id=cls.id,
        moved_on=date(2027, 8, 31),
        by_user_id=user.id,
        reason="撤并",
    )
    session.add(moved)
    signed_in = WebSession(token_hash="a" * 64, user_id=user.id, client_addr="10.0.0.8")
    draft = FormDraft(user_id=user.id, form="home_visit", payload='{"note": "家长在外务工"}')
    session.add_all([signed_in, draft])
    session.flush()
    listed = DeptList(
        county_id=county.id, kind="residents", version=1, list_date=date(2026, 11, 1), row_count=1
    )
    session.add(listed)
    session.flush()
    person = DeptPerson(
        list_id=listed.id,
        row_number=2,
        person_key="430181201309150016",
        name="李浩宇",
        sex="男",
        birth_date=date(2013, 9, 15),
        id_number="430181201309150016",
        village_id=village.id,
        detail={"户籍地址": "梅田村3组"},
    )
    session.add(person)
    session.flush()
    compared = [
        MatchCandidate(person_id=person.id, student_id=student.id, score=0.9, reason="同名同生日"),
        MatchDecision(
            county_id=county.id, person_key=person.person_key, student_id=student.id, confirmed=True
        ),
        ComparisonRun(county_id=county.id, reference_date=date(2026, 8, 31), lists={"residents": listed.id}),
        SchoolAgeChild(
            county_id=county.id,
            township_id=township.id,
            village_id=village.id,
            person_key=person.person_key,
            name="李浩宇",
            student_id=student.id,
            school_id=school.id,
            sources="residents,registry",
            standing="in_school",
            outcome="in_school",
        ),
        VerificationTask(
            county_id=county.id,
            kind="verify",
            person_key="430181201501010011",
            person_id=person.id,
            source="residents",
            name="王小明",
            township_id=township.id,
            opened_on=date(2026, 11, 23),
            due_on=date(2026, 12, 23),
            child_id=child.id,
            case_id=case.id,
        ),
        ChildGroup(child_id=child.id, category="orphan", source="welfare", list_id=listed.id, detail="孤儿"),
    ]
    session.add_all(compared)
    session.flush()
    step = LadderStep(
        case_id=case.id,
        step="township",
        opened_on=date(2026, 11, 23),
        due_on=date(2026, 12, 7),
        served_on=date(2026, 11, 25),
        served_to="母亲 王小红",
        comply_by=date(2026, 12, 10),
    )
    session.add(step)
    session.flush()
    ladder = [
        step,
        Notice(
            case_id=case.id,
            step_id=step.id,
            kind="order",
            township_id=township.id,
            year=2026,
            seq=1,
            number="古港镇控辍〔2026〕1号",
            issued_on=date(2026, 11, 24),
            issued_by=user.id,
            template="内置 order.docx",
            sha256="b" * 64,
            content=b"PK\x03\x04 docx",
        ),
        MonthlyReport(school_id=school.id, month="2026-10", figures={"enrolled": 1284}, submitted_by=user.id),
        RobotHook(
            school_id=school.id,
            platform="dingtalk",
            webhook="https://oapi.dingtalk.com/robot/send?access_token=abc",
            secret="SEC0123",
        ),
        JobLease(name="notify", holder="host:1:abc", until=datetime(2026, 11, 23, 1, 0, tzinfo=UTC)),
    ]
    session.add_all(ladder[1:])
    province = Province(code="430000000000", name="湖南省")
    session.add(province)
    session.flush()
    city = City(code="430100000000", name="长沙市", province_id=province.id)
    session.add(city)
    session.flush()
    county = session.get(County, township.county_id)
    county.city_id = city.id
    supervision = [province, city, CountyFigure(county_id=county.id, figure="enrolled", value=1284)]
    session.add(supervision[2])
    session.commit()
    return (
        rows
        + extra
        + teaching
        + [grant, taught, moved, signed_in, draft, listed, person, *compared, *ladder, *supervision]
    )


def test_every_table_round_trips(engine):
    with session_scope(engine) as session:
        written = {type(r): (inspect(r).identity, r.model_dump()) for r in _one_of_each(session)}
    assert set(written) == {m.class_ for m in SQLModel._sa_registry.mappers}
    with session_scope(engine) as session:
        for model, (identity, values) in written.items():
            read = session.get(model, identity).model_dump()
            for field, value in values.items():
                got = read[field]
                if isinstance(value, datetime):  # SQLite keeps no zone; compare the instant
                    got = got if got.tzinfo else got.replace(tzinfo=UTC)
                assert got == value, f"{model.__name__}.{field}"


def test_foreign_keys_are_enforced(engine):
    with session_scope(engine) as session, pytest.raises(IntegrityError):
        session.add(Township(county_id=999, code="430181108000", name="无主乡镇"))
        session.commit()


def test_xueji_init_upgrades_an_older_database_and_keeps_its_rows(use_database, capsys):
    engine = make_engine(use_database)
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO county (code, name) VALUES ('430181000000', '浏阳市')"))
    assert xueji_main(["init"]) == 0
    assert "升级" in capsys.readouterr().out
    assert current_revision(engine) == head_revision(engine)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(County)) == 1
        assert session.scalar(select(County.name)) == "浏阳市"
    assert xueji_main(["init"]) == 0
    assert "已是最新" in capsys.readouterr().out


def test_upgrading_to_0005_gives_existing_students_their_pinyin_initials(database_url):
    engine = make_engine(database_url)
    migrate(engine, "0004")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO county (id, code, name) VALUES (1, '430181000000', '浏阳市')"))
        conn.execute(
            text("INSERT INTO township (id, county_id, code, name) VALUES (1, 1, '430181108000', '古港镇')")
        )
        conn.execute(
            text(
                "INSERT INTO school (id, township_id, code, name, kind) VALUES (1, 1, '2143016965', '古港', 'primary')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO student (school_id, name, sex, birth_date, ethnicity, nationality, id_type, entry_month,"
                " status, needs_aid, left_behind, migrant, disabled, orphan, only_child, created_at, updated_at)"
                " VALUES (1, :name, '男', '2019-05-12', '汉族', '中国', '居民身份证', '202509', 'enrolled',"
                " false, false, false, false, false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            [{"name": "曾小明"}, {"name": "王芳"}],
        )
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, name_initials FROM student ORDER BY name")).all()
    assert sorted(rows) == sorted([("曾小明", "zxm"), ("王芳", "wf")])
