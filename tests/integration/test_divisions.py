"""Townships, villages and schools kept right over the years, on an empty migrated database (SQLite and
PostgreSQL) with a small county made here: added, renamed, closed and merged; a school merge moves its records,
classes (one with a class code the receiving school already has), open cases and this term's plans, records a
RecordMove for each, and keeps the sending school's history readable; every refusal is audited; closed ones are
gone from the pickers for new records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from xueji.auth import Actor, PermissionDenied
from xueji.db import make_engine, migrate, session_scope
from xueji.models import (
    AppUser,
    AuditLog,
    Case,
    Child,
    County,
    RecordMove,
    RoleGrant,
    School,
    SchoolClass,
    SchoolYear,
    StatusChange,
    Student,
    Sweep,
    SweepVillage,
    TeacherAssignment,
    Term,
    Township,
    Village,
)
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus, RiskLevel
from xueji.rules.vocab import Role, SchoolKind, ScopeKind, StudentStatus
from xueji.services.cases import handling
from xueji.services.dashboards.retention import movements
from xueji.services.registry import students as student_list
from xueji.services.registry.import_plan import schools_for_import
from xueji.services.registry.student_record import student_detail
from xueji.services.setup import division_tables, divisions, rescope, school_merge
from xueji.services.setup.divisions import DivisionError
from xueji.services.setup.moves import MoveKind, current_village_ids
from xueji.services.sweeps.fieldwork import county_schools
from xueji.services.system import role_grants
from xueji.services.system.accounts import AccountError, actor_of, scope_columns

pytestmark = pytest.mark.usefixtures("fixed_today")  # today is 2026-11-23, school year 2026-2027
MERGE_DAY = date(2026, 11, 20)


@dataclass
class County_:
    admin: Actor
    officer: Actor
    gugang: int  # 古港镇
    yonghe: int  # 永和镇
    meitian_village: int
    yanxi_village: int
    central: int  # 古港镇完全小学, receives
    meitian: int  # 梅田小学, closes
    junior: int  # 永和中学
    teacher: int  # head teacher of 梅田小学's 2025101
    registrar: int


def _account(session: Session, username: str, role: Role, scope: ScopeKind, **scope_ids: int) -> AppUser:
    user = AppUser(
        username=username, display_name=username, role=role.value, scope_kind=scope.value, **scope_ids
    )
    session.add(user)
    session.flush()
    return user


def _student(
    session: Session, school: int, klass: int | None, name: str, status: StudentStatus, **more
) -> int:
    student = Student(
        school_id=school,
        class_id=klass,
        name=name,
        sex="男",
        birth_date=date(2017, 3, 1),
        entry_month="202409",
        status=status.value,
        **more,
    )
    session.add(student)
    session.flush()
    return int(student.id or 0)


@pytest.fixture
def county(engine) -> County_:
    """浏阳市 with two townships, three villages and three schools made through the services; 梅田小学 holds
    two classes (2025101 is a code 古港镇完全小学 has too), eight records of every kind, an open and a closed
    case, a head teacher and a registrar."""
    with session_scope(engine) as session:
        place = County(code="430181000000", name="浏阳市")
        session.add(place)
        session.flush()
        admin = actor_of(
            _account(session, "admin", Role.ADMIN, ScopeKind.COUNTY, county_id=int(place.id or 0))
        )
        officer = actor_of(
            _account(session, "county", Role.COUNTY_OFFICER, ScopeKind.COUNTY, county_id=int(place.id or 0))
        )
        session.commit()
        gugang = divisions.add_township(session, actor=admin, code="430181108000", name="古港镇")
        yonghe = divisions.add_township(session, actor=admin, code="430181109000", name="永和镇")
        meitian_v = divisions.add_village(session, actor=admin, code="430181108201", name="梅田村")
        yanxi = divisions.add_village(session, actor=admin, code="430181108202", name="沿溪村")
        divisions.add_village(session, actor=admin, code="430181109201", name="永和村")
        central = school_merge.add_school(
            session, actor=admin, code="2143016965", name="古港镇完全小学", kind=SchoolKind.PRIMARY,
            township_id=int(gugang.id or 0),
        )  # fmt: skip
        meitian = school_merge.add_school(
            session, actor=admin, code="2143016901", name="梅田小学", kind=SchoolKind.PRIMARY,
            township_id=int(gugang.id or 0),
        )  # fmt: skip
        junior = school_merge.add_school(
            session, actor=admin, code="2143016902", name="永和中学", kind=SchoolKind.JUNIOR,
            township_id=int(yonghe.id or 0),
        )  # fmt: skip
        ids = {"central": int(central.id or 0), "meitian": int(meitian.id or 0)}
        teacher = _account(session, "t_mt", Role.TEACHER, ScopeKind.SCHOOL, school_id=ids["meitian"])
        registrar = _account(session, "r_mt", Role.REGISTRAR, ScopeKind.SCHOOL, school_id=ids["meitian"])
        c2024 = SchoolClass(school_id=ids["meitian"], code="2024101")
        c2025 = SchoolClass(school_id=ids["meitian"], code="2025101", head_teacher_id=teacher.id)
        theirs = SchoolClass(school_id=ids["central"], code="2025101")
        session.add_all([c2024, c2025, theirs])
        session.flush()
        v = int(meitian_v.id or 0)
        for name, status in (("甲", StudentStatus.ENROLLED), ("乙", StudentStatus.ENROLLED)):
            _student(session, ids["meitian"], c2024.id, name, status, home_village_id=v)
        _student(session, ids["meitian"], c2024.id, "丙", StudentStatus.SUSPENDED, home_village_id=v)
        for name in ("丁", "戊"):
            _student(session, ids["meitian"], c2025.id, name, StudentStatus.ENROLLED)
        dropout = _student(
            session, ids["meitian"], c2025.id, "己", StudentStatus.DROPPED_OUT, home_village_id=v
        )
        _student(session, ids["meitian"], c2024.id, "庚", StudentStatus.TRANSFERRED_OUT)
        _student(session, ids["central"], theirs.id, "辛", StudentStatus.ENROLLED)
        child = Child(student_id=dropout, name="己", township_id=int(gugang.id or 0), village_id=v,
                      school_id=ids["meitian"])  # fmt: skip
        session.add(child)
        session.flush()
        for status in (CaseStatus.OPEN, CaseStatus.CLOSED):
            category = CaseCategory.DROPOUT if status is CaseStatus.OPEN else CaseCategory.LEFT_BEHIND
            session.add(
                Case(child_id=child.id, category=category.value, risk_level=RiskLevel.HIGH.value,
                     source=CaseSource.MANUAL.value, opened_on=date(2026, 10, 1), status=status.value)
            )  # fmt: skip
        session.commit()
        return County_(
            admin, officer, int(gugang.id or 0), int(yonghe.id or 0), v, int(yanxi.id or 0), ids["central"],
            ids["meitian"], int(junior.id or 0), int(teacher.id or 0), int(registrar.id or 0),
        )  # fmt: skip


def refused(session: Session, entity_type: str) -> list[str]:
    """The details of the refusals audited for this kind of record."""
    return list(
        session.scalars(
            select(AuditLog.detail)
            .where(AuditLog.outcome == "refused", AuditLog.entity_type == entity_type)
            .order_by(AuditLog.id)
        )
    )


def test_townships_villages_and_schools_are_added_with_their_codes_checked_and_refusals_audited(
    engine, county
):
    bad = [
        ("4301811080", "12位数字"),  # too short
        ("430181000000", "不是乡镇一级"),  # the county itself
        ("430182108000", "不在本县区"),  # another county
        ("430181108000", "已属于乡镇“古港镇”"),  # taken
    ]
    with session_scope(engine) as session:
        for code, reason in bad:
            with pytest.raises(DivisionError, match=reason):
                divisions.add_township(session, actor=county.admin, code=code, name="新镇")
        with pytest.raises(DivisionError, match="没有代码为 430181110000 的乡镇"):
            divisions.add_village(session, actor=county.admin, code="430181110201", name="新村")
        with pytest.raises(DivisionError, match="已有名为“梅田村”"):
            divisions.add_village(session, actor=county.admin, code="430181108209", name="梅田村")
        with pytest.raises(DivisionError, match="10位数字"):
            school_merge.add_school(
                session, actor=county.admin, code="21430", name="新校", kind=SchoolKind.PRIMARY,
                township_id=county.gugang,
            )  # fmt: skip
        assert len(refused(session, "township")) == 4
        assert len(refused(session, "village")) == 2
        assert len(refused(session, "school")) == 1
        assert session.scalar(select(func.count()).select_from(Township)) == 2
        created = session.scalar(
            select(func.count()).where(AuditLog.action == "create", AuditLog.outcome == "success")
        )
        assert created == 2 + 3 + 3


def test_renames_keep_the_code_and_are_audited_and_a_county_officer_may_not_change_anything(engine, county):
    with session_scope(engine) as session:
        assert divisions.rename_village(
            session, actor=county.admin, village_id=county.yanxi_village, name="沿溪社区"
        )
        assert not divisions.rename_village(
            session, actor=county.admin, village_id=county.yanxi_village, name="沿溪社区"
        )
        assert school_merge.update_school(
            session, actor=county.admin, school_id=county.junior, name="永和镇中学", kind=SchoolKind.NINE_YEAR
        ) == ["名称", "办学类型"]
        village = session.get_one(Village, county.yanxi_village)
        assert (village.code, village.name) == ("430181108202", "沿溪社区")
        entry = session.scalar(
            select(AuditLog).where(AuditLog.entity_type == "village", AuditLog.action == "update")
        )
        assert (entry.before, entry.after) == ({"name": "沿溪村"}, {"name": "沿溪社区"})
        with pytest.raises(PermissionDenied):
            divisions.rename_township(session, actor=county.officer, township_id=county.gugang, name="古港")
        assert session.scalar(select(func.count()).where(AuditLog.outcome == "denied")) == 1


def test_a_school_merge_moves_records_classes_cases_and_records_each_move(engine, county):
    with session_scope(engine) as session:
        plan = school_merge.preview_school_change(
            session, actor=county.admin, school_id=county.meitian, into_id=county.central
        )
        assert plan.blockers == []
        assert plan.summary.startswith(
            "将学校“梅田小学”撤并到“古港镇完全小学”:移动 6 名学生、1 份已离校学生的学籍档案、2 个班级、1 个未结个案"
        )
        assert "2 个账号仍属" in plan.summary and [a.username for a in plan.accounts] == ["r_mt", "t_mt"]
        assert any("2025101" in note for note in plan.notes)
        done = school_merge.change_school(
            session, actor=county.admin, school_id=county.meitian, into_id=county.central, on=MERGE_DAY,
            reason="浏教发〔2026〕12号",
        )  # fmt: skip
        assert done.moves == plan.moves

    with session_scope(engine) as session:
        closed = session.get_one(School, county.meitian)
        assert (closed.closed_on, closed.merged_into_id) == (MERGE_DAY, county.central)
        assert session.scalar(select(func.count()).where(Student.school_id == county.meitian)) == 0
        assert session.scalar(select(func.count()).where(Student.school_id == county.central)) == 8
        classes = dict(session.execute(select(SchoolClass.code, SchoolClass.school_id)).all())
        assert classes["2024101"] == county.central  # moved
        theirs = session.scalar(
            select(SchoolClass.id).where(
                SchoolClass.code == "2025101", SchoolClass.school_id == county.central
            )
        )
        joined = select(Student.name).where(Student.class_id == theirs).order_by(Student.name)
        assert sorted(session.scalars(joined)) == sorted(["丁", "戊", "己", "辛"])  # joined the same code
        assert session.scalar(select(Child.school_id)) == county.central
        # the head teacher of the joined class keeps the three current children she had, one by one
        mine = session.scalars(
            select(TeacherAssignment.student_id).where(TeacherAssignment.user_id == county.teacher)
        )
        assert sorted(session.get_one(Student, s).name for s in mine) == sorted(["丁", "戊", "己"])
        moves = session.execute(
            select(
                func.count(RecordMove.student_id),
                func.count(RecordMove.class_id),
                func.count(RecordMove.case_id),
            ).where(
                RecordMove.kind == MoveKind.SCHOOL_MERGE.value, RecordMove.from_school_id == county.meitian
            )
        ).one()
        assert tuple(moves) == (7, 2, 1)
        # accounts are not moved: a second person decides (rescope)
        assert session.get_one(AppUser, county.registrar).school_id == county.meitian
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "division_merge"))
        assert entry.after["moved"]["students"] == 7 and entry.after["accounts_left"] == ["r_mt", "t_mt"]
        assert "浏教发〔2026〕12号" in entry.detail


def test_the_sending_schools_history_stays_readable(engine, county):
    with session_scope(engine) as session:
        pupil = session.scalar(select(Student.id).where(Student.name == "丁"))
        session.add(
            StatusChange(student_id=pupil, kind="suspension", state="approved", school_id=county.meitian,
                         effective_date=date(2026, 9, 10), reason="病休", due_date=date(2026, 9, 20))
        )  # fmt: skip
        session.commit()
        school_merge.change_school(
            session, actor=county.admin, school_id=county.meitian, into_id=county.central, on=MERGE_DAY,
            reason="撤并",
        )  # fmt: skip
    with session_scope(engine) as session:
        detail = student_detail(session, actor=county.officer, student_id=pupil)
        assert [m.text for m in detail.moves] == [
            "2026-11-20 因梅田小学撤并,学籍由该校转入古港镇完全小学,编入小学2025级(01)班"
        ]
        assert detail.history and session.scalar(select(StatusChange.school_id)) == county.meitian
        # 巩固率 for the school year: the merged children were at 梅田小学 on its first day, at the other now
        at_meitian = movements(
            session, schools=select(School.id).where(School.id == county.meitian), school_year=2026
        )
        on_roll = [m for m in at_meitian if m.start_school is not None]
        assert {m.start_school for m in on_roll} == {county.meitian}  # not the school that took them
        assert {m.end_school for m in at_meitian} == {county.central}
        assert sum(m.count for m in on_roll) == 5  # 甲 乙 丙 丁 戊 were on its roll on 1 September
        rows = division_tables.school_table(session, actor=county.admin)
        state = rows.set_index("学校名称").loc["梅田小学", "状态"]
        assert state == "已撤并到古港镇完全小学(2026-11-20)"


def test_refused_merges_and_closes_are_audited_and_change_nothing(engine, county):
    with session_scope(engine) as session:
        pupil = session.scalar(select(Student.id).where(Student.name == "甲"))
        change = StatusChange(student_id=pupil, kind="transfer_out", school_id=county.meitian,
                              effective_date=date(2026, 11, 22), reason="随父母外出", due_date=date(2026, 12, 2))  # fmt: skip
        session.add(change)
        session.commit()
        change_id = change.id

        def attempt(into: int | None, match: str, school: int | None = None, on: date = MERGE_DAY) -> None:
            with pytest.raises(DivisionError, match=re.escape(match)):
                school_merge.change_school(
                    session,
                    actor=county.admin,
                    school_id=school or county.meitian,
                    into_id=into,
                    on=on,
                    reason="撤并",
                )

        attempt(county.central, f"#{change_id}(转出")  # a pending status change is named by number
        attempt(county.meitian, "不能撤并到它自己")
        attempt(county.junior, "接收学校是初级中学,不教班级 小学2024级(01)班、小学2025级(01)班")
        attempt(None, "请把它撤并到接收学校")  # a school holding records cannot simply close
        attempt(county.central, "晚于今天", on=date(2026, 12, 1))
        session.get_one(StatusChange, change_id).state = "rejected"
        grant = RoleGrant(kind="new_account", username="new_t", display_name="新", role="teacher",
                          scope_kind="school", school_id=county.meitian, requested_by=county.admin.user_id)  # fmt: skip
        session.add(grant)
        session.commit()
        attempt(county.central, "待批准的账号申请的范围是它(new_t)")
        grant.status = "cancelled"
        session.commit()
        school_merge.change_school(
            session, actor=county.admin, school_id=county.junior, into_id=None, on=MERGE_DAY, reason="停办"
        )  # an empty school closes on its own
        attempt(county.junior, "接收学校“永和中学”已于 2026-11-20 关闭")
        assert session.scalar(select(func.count()).where(Student.school_id == county.meitian)) == 7
        assert session.scalar(select(func.count()).select_from(RecordMove)) == 0
        reasons = refused(session, "school")
        assert len(reasons) == 7 and all(reasons)


def test_closed_schools_and_villages_are_gone_from_the_pickers_for_new_records(engine, county):
    with session_scope(engine) as session:
        school_merge.change_school(
            session, actor=county.admin, school_id=county.meitian, into_id=county.central, on=MERGE_DAY,
            reason="撤并",
        )  # fmt: skip
        divisions.change_village(
            session,
            actor=county.admin,
            village_id=county.yanxi_village,
            into_id=None,
            on=MERGE_DAY,
            reason="并",
        )
    with session_scope(engine) as session:
        operator = Actor(None, "system", Role.SYSTEM, ScopeKind.COUNTY, session.scalar(select(County.id)))
        names = {s.name for s in schools_for_import(session, actor=operator, school_code=None)}
        assert "梅田小学" not in names and "古港镇完全小学" in names
        with pytest.raises(PermissionDenied, match="已撤并关闭"):
            schools_for_import(session, actor=operator, school_code="2143016901")
        assert "梅田小学" not in dict(student_list.school_choices(session, actor=county.officer)).values()
        assert "梅田小学" not in {name for _, name, _ in county_schools(session, county.gugang)}
        official = actor_of(
            _account(session, "gg", Role.TOWNSHIP_OFFICIAL, ScopeKind.TOWNSHIP, township_id=county.gugang)
        )
        (township,) = handling.places(session, actor=official)
        assert [name for _, name in township[2]] == ["梅田村"]  # 沿溪村 closed
        with pytest.raises(AccountError, match="已撤并或关闭"):
            scope_columns(session, Role.TEACHER, ScopeKind.SCHOOL, "2143016901")
        session.rollback()


def test_accounts_of_a_merged_school_are_requested_for_the_receiving_school_and_move_on_approval(
    engine, county
):
    with session_scope(engine) as session:
        school_merge.change_school(
            session, actor=county.admin, school_id=county.meitian, into_id=county.central, on=MERGE_DAY,
            reason="撤并",
        )  # fmt: skip
        filed = rescope.request_rescope(
            session, actor=county.admin, scope_kind=ScopeKind.SCHOOL, scope_id=county.meitian
        )
        assert (filed.target, sorted(filed.filed), filed.skipped) == ("古港镇完全小学", ["r_mt", "t_mt"], [])
        assert session.get_one(AppUser, county.teacher).school_id == county.meitian  # not before approval
        grant = session.scalar(select(RoleGrant).where(RoleGrant.username == "t_mt"))
        role_grants.approve(session, actor=county.officer, grant_id=int(grant.id or 0))
        assert session.get_one(AppUser, county.teacher).school_id == county.central
        again = rescope.request_rescope(
            session, actor=county.admin, scope_kind=ScopeKind.SCHOOL, scope_id=county.meitian
        )
        assert again.filed == [] and again.skipped == [
            "r_mt:账号 r_mt 已有一条待批准的申请,请等它处理完或撤回后再申请"
        ]


def test_a_village_merge_retires_its_code_into_the_other_and_moves_where_children_live(engine, county):
    with session_scope(engine) as session:
        with pytest.raises(DivisionError, match="4 名在籍或辍学学生的家庭住在这里"):
            divisions.change_village(
                session,
                actor=county.admin,
                village_id=county.meitian_village,
                into_id=None,
                on=MERGE_DAY,
                reason="并",
            )
        plan = divisions.preview_village_change(
            session, actor=county.admin, village_id=county.meitian_village, into_id=county.yanxi_village
        )
        assert (
            plan.summary == "将村(社区)“梅田村”撤并到“沿溪村”:移动 4 份学籍的家庭所在村、1 名个案儿童的居住村"
        )
        divisions.change_village(
            session, actor=county.admin, village_id=county.meitian_village, into_id=county.yanxi_village,
            on=MERGE_DAY, reason="湘政函〔2026〕3号",
        )  # fmt: skip
    with session_scope(engine) as session:
        assert (
            session.scalar(select(func.count()).where(Student.home_village_id == county.meitian_village)) == 0
        )
        assert (
            session.scalar(select(func.count()).where(Student.home_village_id == county.yanxi_village)) == 4
        )
        assert session.scalar(select(Child.village_id)) == county.yanxi_village
        assert (
            current_village_ids(session)["430181108201"] == county.yanxi_village
        )  # an import follows the code
        pupil = session.scalar(select(Student.id).where(Student.name == "甲"))
        (line,) = student_detail(session, actor=county.officer, student_id=pupil).moves
        assert line.text == "2026-11-20 因梅田村并入沿溪村,家庭所在村(社区)改为沿溪村"
        closed = session.get_one(Village, county.meitian_village)
        assert (closed.closed_on, closed.merged_into_id, closed.code) == (
            MERGE_DAY,
            county.yanxi_village,
            "430181108201",
        )
        with pytest.raises(DivisionError, match="已属于村\\(社区\\)“梅田村”,已撤并或关闭"):
            divisions.add_village(session, actor=county.admin, code="430181108201", name="梅田村")


def test_a_township_merge_hands_over_its_villages_schools_and_children_but_not_its_accounts(engine, county):
    with session_scope(engine) as session:
        official = _account(
            session, "gg_official", Role.TOWNSHIP_OFFICIAL, ScopeKind.TOWNSHIP, township_id=county.gugang
        ).id
        session.commit()
        with pytest.raises(DivisionError, match="还有 2 个在用的村\\(社区\\)、2 所在用的学校"):
            divisions.change_township(
                session,
                actor=county.admin,
                township_id=county.gugang,
                into_id=None,
                on=MERGE_DAY,
                reason="撤",
            )
        plan = divisions.preview_township_change(
            session, actor=county.admin, township_id=county.gugang, into_id=county.yonghe
        )
        assert plan.moves == [(2, "个村(社区)"), (2, "所学校"), (1, "名个案儿童的居住乡镇")]
        assert [a.username for a in plan.accounts] == ["gg_official"]
        divisions.change_township(
            session,
            actor=county.admin,
            township_id=county.gugang,
            into_id=county.yonghe,
            on=MERGE_DAY,
            reason="撤乡并镇",
        )
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).where(School.township_id == county.yonghe)) == 3
        assert session.scalar(select(func.count()).where(Village.township_id == county.yonghe)) == 3
        assert session.scalar(select(Child.township_id)) == county.yonghe
        assert session.get_one(AppUser, official).township_id == county.gugang
        filed = rescope.request_rescope(
            session, actor=county.admin, scope_kind=ScopeKind.TOWNSHIP, scope_id=county.gugang
        )
        assert (filed.target, filed.filed) == ("永和镇", ["gg_official"])
        grant = session.scalar(select(RoleGrant).where(RoleGrant.username == "gg_official"))
        assert (grant.scope_kind, grant.township_id, grant.status) == ("township", county.yonghe, "pending")
        assert session.scalar(select(func.count()).where(RecordMove.kind == "township_merge")) == 4
        # a village code under the old township's prefix now belongs to the township that took it
        added = divisions.add_village(session, actor=county.admin, code="430181108203", name="新村")
        assert added.township_id == county.yonghe
        table = division_tables.township_table(session, actor=county.admin)
        assert list(table["状态"]) == ["已撤并到永和镇(2026-11-20)", "在用"]
        assert list(table["学校"]) == [0, 3]


def test_an_upgrade_from_0013_keeps_every_school_in_use_and_its_name_still_bounded(database_url):
    """0014 adds its columns without rebuilding the tables (on SQLite a rebuild would drop 0013's CHECKs)."""
    engine = make_engine(database_url)
    migrate(engine, "0013")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO county (code, name) VALUES ('430181000000', '浏阳市')"))
        conn.execute(
            text(
                "INSERT INTO township (county_id, code, name) SELECT id, '430181108000', '古港镇' FROM county"
            )
        )
        conn.execute(
            text(
                "INSERT INTO school (township_id, code, name, kind)"
                " SELECT id, '2143016965', '古港镇完全小学', 'primary' FROM township"
            )
        )
    migrate(engine, "0014")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, closed_on, merged_into_id FROM school")).all() == [
            ("古港镇完全小学", None, None)
        ]
    for change in ("UPDATE school SET name = :long", "UPDATE school SET merged_into_id = 999"):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(change), {"long": "校" * 81})


def test_a_village_whose_sweep_is_still_under_way_this_term_waits_for_its_review(engine, county):
    with session_scope(engine) as session:
        year = SchoolYear(start_year=2026, start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
        session.add(year)
        session.flush()
        term = Term(school_year_id=year.id, seq=1, start_date=date(2026, 9, 1), end_date=date(2027, 1, 22))
        session.add(term)
        session.flush()
        sweep = Sweep(term_id=term.id, township_id=county.gugang, reference_date=date(2026, 8, 31),
                      due_date=date(2026, 10, 1))  # fmt: skip
        session.add(sweep)
        session.flush()
        sweeping = SweepVillage(sweep_id=sweep.id, village_id=county.yanxi_village, status="in_progress")
        session.add(sweeping)
        session.commit()
        with pytest.raises(DivisionError, match="1 个村\\(社区\\)尚未审核\\(沿溪村\\)"):
            divisions.change_village(
                session,
                actor=county.admin,
                village_id=county.yanxi_village,
                into_id=None,
                on=MERGE_DAY,
                reason="并",
            )
        with pytest.raises(DivisionError, match="尚未审核"):
            divisions.change_township(
                session, actor=county.admin, township_id=county.gugang, into_id=county.yonghe, on=MERGE_DAY,
                reason="撤乡并镇",
            )  # fmt: skip
        sweeping.status = "reviewed"
        session.commit()
        divisions.change_village(
            session,
            actor=county.admin,
            village_id=county.yanxi_village,
            into_id=None,
            on=MERGE_DAY,
            reason="并",
        )
        assert session.get_one(SweepVillage, sweeping.id).village_id == county.yanxi_village  # history stays
        assert len(refused(session, "village")) == 1 and len(refused(session, "township")) == 1
