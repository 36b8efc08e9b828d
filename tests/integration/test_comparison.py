"""三比对 on SQLite and PostgreSQL, on the demo county: each outcome of the register against the registry (人户分离
and 随迁 too), a confirmed decision, a new version of the register replacing the last one's effect, the ledger's
one row per child across sources, the special groups and their cases opened once, a township's scope, the run
and the exports audited."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from xueji.auth import Actor, PermissionDenied
from xueji.db import session_scope
from xueji.models import (
    AuditLog,
    Case,
    Child,
    ChildGroup,
    ComparisonRun,
    DeptList,
    DeptPerson,
    MatchCandidate,
    MatchDecision,
    School,
    SchoolAgeChild,
    Student,
    Township,
    VerificationTask,
    Village,
)
from xueji.rules.comparisons import Outcome, Standing
from xueji.rules.dept_lists import ListKind, person_key
from xueji.services.comparisons import compare, views

pytestmark = pytest.mark.usefixtures("fixed_today")
SAC = SchoolAgeChild


def without_lists(engine) -> None:
    """The demo county as it was before any department's list: its lists, and what they made, taken away."""
    with session_scope(engine) as session:
        for model in (
            MatchCandidate,
            MatchDecision,
            VerificationTask,
            ChildGroup,
            SAC,
            ComparisonRun,
            DeptPerson,
            DeptList,
        ):
            session.execute(delete(model))
        session.commit()


def add_list(session: Session, county: int, kind: ListKind, people: list[dict], version: int = 1) -> int:
    """A version of a department's list, as the import stores it."""
    listed = DeptList(
        county_id=county, kind=kind.value, version=version, list_date=date(2026, 11, 1), row_count=len(people)
    )
    session.add(listed)
    session.flush()
    for row, p in enumerate(people, start=2):
        session.add(
            DeptPerson(
                list_id=listed.id,
                row_number=row,
                person_key=person_key(
                    id_number=p.get("id_number"), name=p["name"], birth_date=p.get("birth_date")
                ),
                **p,
            )
        )
    session.commit()
    return int(listed.id or 0)


def student(session: Session, township: int, n: int = 0) -> Student:
    """The n-th enrolled student of age at a school of the township."""
    return session.scalars(
        select(Student)
        .join(School, Student.school_id == School.id)
        .where(
            School.township_id == township, Student.status == "enrolled", col(Student.id_number).is_not(None)
        )
        .order_by(Student.id)
        .offset(n)
    ).first()


def villages(session: Session, township: int) -> list[int]:
    return list(
        session.scalars(select(Village.id).where(Village.township_id == township).order_by(Village.code))
    )


def resident(s: Student, village: int, **changes: object) -> dict:
    return {
        "name": s.name,
        "sex": s.sex,
        "birth_date": s.birth_date,
        "id_number": s.id_number,
        "village_id": village,
    } | changes


@pytest.fixture
def county(demo_engine, actors) -> dict:
    """The demo county with a register: children matched in their township, in another (人户分离), not in the
    registry, dropped out, transferred out, too old, and one with a mistyped ID number."""
    without_lists(demo_engine)
    with session_scope(demo_engine) as session:
        gugang, shashi = session.scalars(select(Township.id).order_by(Township.id).limit(2)).all()
        county_id = session.scalar(select(Township.county_id).where(Township.id == gugang))
        here, away = student(session, gugang, 0), student(session, shashi, 0)
        dropped, moved = student(session, gugang, 1), student(session, gugang, 2)
        typo = student(session, gugang, 3)
        dropped.status, moved.status = "dropped_out", "transferred_out"
        v = villages(session, gugang)
        unknown = {
            "name": "未入学",
            "sex": "男",
            "birth_date": date(2018, 5, 1),
            "id_number": "430181201805010011",
            "village_id": v[0],
        }
        old = {
            "name": "超龄",
            "sex": "女",
            "birth_date": date(2010, 8, 31),
            "id_number": "430181201008310022",
            "village_id": v[0],
        }
        people = [
            resident(here, v[0]),
            resident(away, v[1]),
            unknown,
            resident(dropped, v[0]),
            resident(moved, v[0]),
            old,
            resident(typo, v[0], id_number=typo.id_number[:-2] + "99"),
        ]
        session.commit()
        register = add_list(session, county_id, ListKind.RESIDENTS, people)
        ids = {
            k: s.id
            for k, s in {"here": here, "away": away, "dropped": dropped, "moved": moved, "typo": typo}.items()
        }
        numbers = {k: s.id_number for k, s in {"here": here, "away": away, "typo": typo}.items()}
    return {
        "county": county_id,
        "gugang": gugang,
        "shashi": shashi,
        "register": register,
        "ids": ids,
        "numbers": numbers,
        "engine": demo_engine,
        "villages": v,
    }


def run(engine, actor: Actor) -> dict[str, int]:
    with session_scope(engine) as session:
        return compare.run_comparison(session, actor=actor)


def row_of(engine, **where) -> SchoolAgeChild:
    with session_scope(engine) as session:
        found = session.scalars(select(SAC).filter_by(**where)).all()
        assert len(found) == 1, found
        session.expunge_all()
        return found[0]


def test_each_outcome_of_the_register_against_the_registry(county, actors):
    engine = county["engine"]
    counts = run(engine, actors["demo_county"])
    ids = county["ids"]
    assert row_of(engine, student_id=ids["here"]).outcome == Outcome.IN_SCHOOL.value
    away = row_of(engine, student_id=ids["away"])
    assert (away.outcome, away.township_id) == (Outcome.SEPARATED.value, county["gugang"])  # lives in 古港
    assert away.sources.startswith("residents,registry")  # (and the sweep, which found them too)
    unknown = row_of(engine, id_number="430181201805010011")
    assert (unknown.outcome, unknown.standing, unknown.student_id) == ("not_enrolled", "to_verify", None)
    dropped = row_of(engine, student_id=ids["dropped"])
    assert (dropped.outcome, dropped.standing) == (Outcome.DROPPED_OUT.value, Standing.DROPOUT.value)
    assert row_of(engine, student_id=ids["moved"]).outcome == Outcome.LEFT_REGISTRY.value
    with session_scope(engine) as session:
        assert (
            session.scalar(select(func.count()).where(SAC.id_number == "430181201008310022")) == 0
        )  # 16 on 31 Aug
        # the mistyped number: not matched, so the register's child is to verify and the record stays 随迁
        enrolled = session.scalar(
            select(func.count())
            .select_from(Student)
            .where(col(Student.status).in_(["enrolled", "suspended"]))
        )
        migrants = session.scalar(select(func.count()).where(SAC.outcome == "migrant"))
        assert migrants == enrolled - 2  # all but the two matched at school (in school, 人户分离)
        assert counts["migrant"] == migrants and counts["separated"] == 1 and counts["in_school"] == 1
        assert counts["not_enrolled"] + counts["pending_review"] == 2  # 未入学 and the mistyped one
        assert session.scalar(select(func.count()).select_from(ComparisonRun)) == 1
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "compare")).one()
        assert entry.after["migrant"] == migrants


def test_a_confirmed_decision_matches_the_child_and_refresh_recomputes_only_them(county, actors):
    engine = county["engine"]
    run(engine, actors["demo_county"])
    typo_key = county["numbers"]["typo"][:-2] + "99"
    with session_scope(engine) as session:
        session.add(
            MatchDecision(
                county_id=county["county"],
                person_key=typo_key,
                student_id=county["ids"]["typo"],
                confirmed=True,
            )
        )
        compare.refresh_person(
            session, actor=actors["demo_county"], county_id=county["county"], person_key=typo_key
        )
        session.commit()
    row = row_of(engine, person_key=typo_key)
    assert (row.student_id, row.outcome) == (county["ids"]["typo"], "in_school")
    assert row.sources.startswith("residents,registry")
    with session_scope(engine) as session:  # the record is no longer a 随迁 row of its own
        assert session.scalar(select(func.count()).where(SAC.student_id == county["ids"]["typo"])) == 1


def test_without_a_register_the_registry_is_in_the_ledger_with_nothing_to_compare(demo_engine, actors):
    without_lists(demo_engine)
    counts = run(demo_engine, actors["demo_county"])
    with session_scope(demo_engine) as session:
        students = session.scalar(select(func.count()).select_from(Student))
        assert counts["children"] >= students and counts["migrant"] == 0 and counts["not_enrolled"] == 0
        assert session.scalar(select(func.count()).where(col(SAC.outcome).is_not(None))) == 0
    with session_scope(demo_engine) as session:
        assert not views.state(session, actor=actors["demo_county"]).has_register


def test_a_new_version_of_the_register_replaces_the_last_ones_effect(county, actors):
    engine = county["engine"]
    run(engine, actors["demo_county"])
    with session_scope(engine) as session:
        newcomer = {
            "name": "新来的",
            "sex": "女",
            "birth_date": date(2017, 1, 2),
            "id_number": "430181201701020027",
            "village_id": county["villages"][2],
        }
        add_list(session, county["county"], ListKind.RESIDENTS, [newcomer], version=2)
    counts = run(engine, actors["demo_county"])
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).where(SAC.id_number == "430181201805010011")) == 0
        assert session.scalar(select(func.count()).where(SAC.id_number == "430181201701020027")) == 1
        assert counts["not_enrolled"] + counts["pending_review"] == 1 and counts["in_school"] == 0
        # the child in school last time is 随迁 now: no longer on the register
        assert session.scalar(select(SAC.outcome).where(SAC.student_id == county["ids"]["here"])) == "migrant"


def test_one_row_per_child_across_the_register_registry_sweep_and_lists(county, actors):
    engine = county["engine"]
    here = county["numbers"]["here"]
    loner = {"name": "单列", "birth_date": date(2016, 6, 6), "id_number": "430181201606060035"}
    with session_scope(engine) as session:
        add_list(
            session,
            county["county"],
            ListKind.WELFARE,
            [{"name": "x", "id_number": here, "category": "孤儿"}, loner | {"category": "困境儿童"}],
        )
        add_list(
            session,
            county["county"],
            ListKind.DISABLED,
            [loner | {"category": "肢体", "detail": {"grade": "二级"}}],
        )
        add_list(
            session,
            county["county"],
            ListKind.HOUSEHOLDS,
            [{"name": "y", "id_number": here, "category": "脱贫户"}],
        )
    run(engine, actors["demo_county"])
    row = row_of(engine, id_number=here)
    assert (row.groups, row.priority) == ("orphan", "脱贫户")
    assert row.sources.replace(",sweep", "") == "residents,registry,welfare,households"  # the demo swept them
    alone = row_of(engine, id_number=loner["id_number"])
    assert (alone.sources, alone.groups, alone.standing) == (
        "welfare,disabled",
        "disabled,hardship",
        "unknown",
    )
    with session_scope(engine) as session:
        twice = session.execute(
            select(SAC.id_number)
            .where(col(SAC.id_number).is_not(None))
            .group_by(SAC.id_number)
            .having(func.count() > 1)
        ).all()
        assert twice == []
        swept = session.scalar(select(func.count()).where(col(SAC.sources).contains("sweep")))
        assert swept > 0  # the demo's sweep children are in the ledger, once each


def test_groups_and_their_cases_open_once_and_a_person_placed_nowhere_is_listed(county, actors):
    engine = county["engine"]
    here = county["numbers"]["here"]
    with session_scope(engine) as session:
        add_list(
            session,
            county["county"],
            ListKind.WELFARE,
            [
                {"name": "在籍", "id_number": here, "category": "事实无人抚养儿童"},
                {"name": "未入学", "id_number": "430181201805010011", "category": "困境儿童"},
                {
                    "name": "无处",
                    "birth_date": date(2015, 1, 1),
                    "id_number": "430181201501010048",
                    "category": "孤儿",
                },
            ],
        )
    with session_scope(engine) as session:
        before = session.scalar(select(func.count()).select_from(Case).where(Case.source == "welfare"))
    first = run(engine, actors["demo_county"])
    second = run(engine, actors["demo_county"])
    assert first["group_grouped"] == second["group_grouped"] == 2
    assert first["group_opened"] == 2 and second["group_opened"] == 0
    assert first["group_unplaced"] == 1
    with session_scope(engine) as session:
        assert (
            session.scalar(select(func.count()).select_from(Case).where(Case.source == "welfare"))
            == before + 2
        )
        assert session.scalar(select(func.count()).select_from(ChildGroup)) == 2
        groups = views.group_counts(session, actor=actors["demo_county"])
        assert set(groups["特殊群体"]) == {"孤儿/事实无人抚养", "家庭经济困难"}
        nowhere = views.unplaced(session, actor=actors["demo_county"])
        assert list(nowhere["姓名"]) == ["无处"] and nowhere["身份证号"][0] != "430181201501010048"


def test_a_township_sees_only_its_villages(county, actors):
    engine = county["engine"]
    run(engine, actors["demo_county"])
    township = actors["demo_township"]
    with session_scope(engine) as session:
        mine = session.scalar(select(Township.id).where(Township.id == township.scope_id))
        frame, total = views.ledger(session, actor=township, filters=views.LedgerFilter(), limit=None)
        assert total == session.scalar(select(func.count()).where(SAC.township_id == mine)) == len(frame)
        counts = views.place_counts(session, actor=township)
        assert counts["适龄儿童"].sum() == total
        other = session.scalar(select(Village.id).where(Village.township_id != mine).limit(1))
    with session_scope(engine) as session, pytest.raises(PermissionDenied):
        views.ledger(session, actor=township, filters=views.LedgerFilter(village_id=other))
    with session_scope(engine) as session, pytest.raises(PermissionDenied):
        compare.run_comparison(session, actor=township)
    with session_scope(engine) as session:
        assert (
            session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "denied")) == 2
        )


def test_exports_are_audited_and_masked(county, actors):
    engine = county["engine"]
    run(engine, actors["demo_county"])
    officer = actors["demo_county"]
    filters = views.LedgerFilter(outcome=Outcome.SEPARATED)
    with session_scope(engine) as session:
        data = views.export_ledger(session, actor=officer, filters=filters, title="人户分离")
        absent = views.export_absent(session, actor=officer)
    sheet = load_workbook(io.BytesIO(data)).active
    values = [c.value for c in sheet[2]]
    assert county["numbers"]["away"] not in values and "人户分离(在本县其他乡镇就读)" in values
    assert load_workbook(io.BytesIO(absent)).active["A1"].value == "来源"
    with session_scope(engine) as session:
        assert (
            session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export")) == 2
        )


@pytest.mark.usefixtures("use_database")
def test_the_command_line_runs_the_comparison_and_prints_the_counts(county, capsys):
    from xueji.cli import main as xueji_main

    assert xueji_main(["compare", "--as", "demo_county"]) == 0
    printed = capsys.readouterr().out
    assert "三比对完成" in printed and "人户分离(在本县其他乡镇就读):1" in printed
    with session_scope(county["engine"]) as session:
        assert session.scalar(select(AuditLog.username).where(AuditLog.action == "compare")) == "demo_county"


# ---- regressions of the review (issue 25) ----------------------------------------------------------------------


def _cases_of_student(session: Session, student_id: int) -> list[tuple[str, str]]:
    return list(
        session.execute(
            select(Case.category, Case.source)
            .join(Child, Case.child_id == Child.id)
            .where(Child.student_id == student_id)
        ).all()
    )


def test_a_group_list_opens_no_case_for_a_record_gone_from_school_or_a_child_past_school_age(county, actors):
    engine = county["engine"]
    with session_scope(engine) as session:
        graduated = student(session, county["gugang"], 5)
        graduated.status = "graduated"
        sid, number, born, name = graduated.id, graduated.id_number, graduated.birth_date, graduated.name
        session.commit()
        add_list(
            session,
            county["county"],
            ListKind.DISABLED,
            [
                {"name": name, "id_number": number, "birth_date": born, "category": "肢体"},
                # 超龄 is on the register, born 2010-08-31: 16 on the reference day
                {
                    "name": "超龄",
                    "id_number": "430181201008310022",
                    "birth_date": date(2010, 8, 31),
                    "category": "视力",
                },
            ],
        )
    counts = run(engine, actors["demo_county"])
    with session_scope(engine) as session:
        assert ("disabled", "disabled_list") not in _cases_of_student(session, sid)
        too_old = session.scalar(
            select(func.count())
            .select_from(Case)
            .join(Child, Case.child_id == Child.id)
            .where(Child.id_number == "430181201008310022")
        )
        assert too_old == 0
    assert counts["group_opened"] == 0 and counts["group_unplaced"] == 2


def test_an_open_dropout_case_outweighs_an_earlier_finding_of_the_township(county, actors):
    from xueji.rules.cases import CaseCategory, CaseSource
    from xueji.rules.comparisons import VerifyOutcome
    from xueji.rules.verification import Finding
    from xueji.services.cases.opening import PersonFacts, child_for_person, open_child_case
    from xueji.services.comparisons import tasks

    engine = county["engine"]
    run(engine, actors["demo_county"])
    number = "430181201805010011"
    with session_scope(engine) as session:
        task = session.scalar(select(VerificationTask.id).where(VerificationTask.id_number == number))
    with session_scope(engine) as session:
        tasks.record_outcome(
            session,
            actor=actors["demo_township"],
            task_id=task,
            finding=Finding(VerifyOutcome.NOT_FOUND, date(2026, 11, 23), tried="上门两次"),
        )
    assert row_of(engine, id_number=number).standing == Standing.UNKNOWN.value
    with session_scope(engine) as session:
        facts = PersonFacts(
            name="未入学",
            township_id=county["gugang"],
            birth_date=date(2018, 5, 1),
            id_number=number,
            village_id=county["villages"][0],
        )
        child = child_for_person(session, facts, reference=date(2026, 8, 31))
        open_child_case(
            session, actors["demo_township"], child, CaseCategory.DROPOUT, CaseSource.SWEEP, "辍学"
        )
        session.commit()
    run(engine, actors["demo_county"])
    assert row_of(engine, id_number=number).standing == Standing.DROPOUT.value


def _confirm_the_typo(engine, county, actors) -> int:
    from xueji.services.comparisons import match_review

    run(engine, actors["demo_county"])
    with session_scope(engine) as session:
        candidate = session.scalar(
            select(MatchCandidate.id).where(MatchCandidate.student_id == county["ids"]["typo"])
        )
    assert candidate is not None
    with session_scope(engine) as session:
        decision = match_review.decide(
            session, actor=actors["demo_county"], candidate_id=candidate, confirmed=True, note="核对户口簿"
        )
        return int(decision.id or 0)


def test_a_confirmed_child_is_one_row_with_the_sources_and_priority_the_true_number_brings(county, actors):
    engine = county["engine"]
    typo_id, good = county["ids"]["typo"], county["numbers"]["typo"]
    with session_scope(engine) as session:
        typo = session.get(Student, typo_id)
        add_list(
            session,
            county["county"],
            ListKind.HOUSEHOLDS,
            [{"name": typo.name, "id_number": good, "birth_date": typo.birth_date, "category": "脱贫户"}],
        )
    _confirm_the_typo(engine, county, actors)
    for _ in range(2):  # after the decision (refresh_person), and after a whole run
        row = row_of(engine, student_id=typo_id)
        assert (row.id_number, row.priority, row.outcome) == (good, "脱贫户", "in_school")
        assert "households" in row.sources.split(",") and row.sources.startswith("residents,registry")
        with session_scope(engine) as session:
            assert session.scalar(select(func.count()).where(SAC.id_number == good)) == 1
        run(engine, actors["demo_county"])


def test_undoing_a_confirmation_puts_the_record_back_in_the_ledger_at_once(county, actors):
    from xueji.services.comparisons import match_review

    engine = county["engine"]
    decision = _confirm_the_typo(engine, county, actors)
    typo_key = county["numbers"]["typo"][:-2] + "99"
    with session_scope(engine) as session:
        match_review.undo_decision(
            session, actor=actors["demo_county"], decision_id=decision, reason="判错了"
        )
    record = row_of(engine, student_id=county["ids"]["typo"])
    assert (record.person_key, record.outcome) == (county["numbers"]["typo"], Outcome.MIGRANT.value)
    listed = row_of(engine, person_key=typo_key)
    assert (listed.student_id, listed.outcome) == (None, Outcome.PENDING_REVIEW.value)


def test_a_welfare_child_with_a_mistyped_number_reaches_the_review_queue(county, actors):
    engine = county["engine"]
    here = county["numbers"]["here"]
    with session_scope(engine) as session:
        s = session.get(Student, county["ids"]["here"])
        typed = here[:-2] + "99"
        welfare = add_list(
            session,
            county["county"],
            ListKind.WELFARE,
            [{"name": s.name, "id_number": typed, "birth_date": s.birth_date, "category": "孤儿"}],
        )
    run(engine, actors["demo_county"])
    with session_scope(engine) as session:
        found = session.execute(
            select(MatchCandidate.student_id)
            .join(DeptPerson, MatchCandidate.person_id == DeptPerson.id)
            .where(DeptPerson.list_id == welfare)
        ).all()
        assert found == [(county["ids"]["here"],)]


def test_a_disabled_child_on_the_register_only_gets_the_grade_and_the_type_of_disability(county, actors):
    engine = county["engine"]
    with session_scope(engine) as session:
        add_list(
            session,
            county["county"],
            ListKind.DISABLED,
            [
                {
                    "name": "未入学",
                    "id_number": "430181201805010011",
                    "birth_date": date(2018, 5, 1),
                    "category": "肢体",
                    "detail": {"残疾等级": "二级"},
                }
            ],
        )
    run(engine, actors["demo_county"])
    with session_scope(engine) as session:
        group = session.scalars(select(ChildGroup)).one()
        assert group.detail == "肢体二级"
        case = session.scalars(select(Case).where(Case.child_id == group.child_id)).one()
        assert (case.category, case.disability_type) == ("disabled", "肢体")


def test_a_record_is_counted_in_the_township_of_its_home_village(county, actors):
    engine = county["engine"]
    with session_scope(engine) as session:
        s = student(session, county["gugang"], 6)
        s.home_village_id = villages(session, county["shashi"])[0]
        sid = s.id
        session.commit()
    run(engine, actors["demo_county"])
    assert row_of(engine, student_id=sid).township_id == county["shashi"]


def test_a_case_in_one_county_never_hangs_on_a_record_of_another(county):
    from xueji.models import County
    from xueji.services.cases.opening import PersonFacts, child_for_person

    engine = county["engine"]
    number = "430181201805010011"
    with session_scope(engine) as session:
        other = County(code="430182000000", name="邻县")
        session.add(other)
        session.flush()
        township = Township(county_id=other.id, code="430182001000", name="邻镇")
        session.add(township)
        session.flush()
        school = School(township_id=township.id, code="2199990001", name="邻县小学", kind="primary")
        session.add(school)
        session.flush()
        session.add(
            Student(
                school_id=school.id,
                name="未入学",
                sex="男",
                birth_date=date(2018, 5, 1),
                id_number=number,
                entry_month="202409",
            )  # fmt: skip
        )
        session.flush()
        facts = PersonFacts(
            name="未入学",
            township_id=county["gugang"],
            birth_date=date(2018, 5, 1),
            id_number=number,
            village_id=county["villages"][0],
        )
        child = child_for_person(session, facts, reference=date(2026, 8, 31))
        assert (child.student_id, child.township_id) == (None, county["gugang"])
