"""The demo county's department lists (四查三比对): each list imported by the county officer, the 户籍 list in two
versions, and the children planted in them coming out of the comparison as planted."""

from datetime import date

from sqlalchemy import func, select
from sqlmodel import col

from xueji.db import session_scope
from xueji.models import (
    AppUser,
    Case,
    ChildGroup,
    DeptList,
    DeptPerson,
    MatchCandidate,
    SchoolAgeChild,
    Student,
    Township,
    VerificationTask,
)
from xueji.rules.cases import CaseSource
from xueji.rules.comparisons import Outcome, Standing, TaskKind, TaskStatus
from xueji.rules.dept_lists import ListKind
from xueji.rules.name_match import NameRelation, name_relation

DEMO_DAY = date(2026, 11, 23)
GUGANG = "430181108000"


def _versions(session) -> dict[str, list[DeptList]]:
    found: dict[str, list[DeptList]] = {}
    for dept_list in session.scalars(select(DeptList).order_by(DeptList.kind, DeptList.version)):
        found.setdefault(dept_list.kind, []).append(dept_list)
    return found


def _keys(session, list_id: int) -> set[str]:
    return set(session.scalars(select(DeptPerson.person_key).where(DeptPerson.list_id == list_id)))


def test_each_list_is_imported_by_the_county_officer_before_the_demo_day(demo_engine):
    with session_scope(demo_engine) as session:
        versions = _versions(session)
        officer = session.scalar(select(AppUser.id).where(AppUser.username == "demo_county"))
        assert set(versions) == {k.value for k in ListKind}
        assert [v.version for v in versions[ListKind.RESIDENTS]] == [1, 2]
        for kind, kept in versions.items():
            for dept_list in kept:
                assert dept_list.imported_by == officer
                assert date(2026, 9, 1) <= dept_list.list_date < DEMO_DAY, kind
                rows = session.scalar(select(func.count()).where(DeptPerson.list_id == dept_list.id))
                assert rows == dept_list.row_count > 0, kind


def test_the_two_register_versions_differ_by_a_few_children_moved_in_and_out(demo_engine):
    with session_scope(demo_engine) as session:
        older, current = _versions(session)[ListKind.RESIDENTS]
        assert older.list_date < current.list_date
        before, after = _keys(session, older.id), _keys(session, current.id)
        assert len(after - before) == 4  # three pupils whose 户籍 moved in, a child of age just registered
        assert len(before - after) == 4  # three children who moved away, a pupil whose 户籍 moved out
        assert len(before & after) > 0.95 * len(after)


def test_the_register_is_mostly_the_registrys_children_and_never_a_migrant(demo_engine):
    with session_scope(demo_engine) as session:
        current = _versions(session)[ListKind.RESIDENTS][-1]
        numbers = set(session.scalars(select(DeptPerson.id_number).where(DeptPerson.list_id == current.id)))
        registry = dict(session.execute(select(Student.id_number, Student.migrant)).all())
        on_registry = [n for n in numbers if n in registry]
        assert 0.95 * len(numbers) < len(on_registry) < len(numbers)
        assert not [n for n in on_registry if registry[n]]
        assert (
            len(numbers - set(registry)) >= 6 + 4
        )  # 适龄未入学 and the registry's mistyped or missing numbers


def test_the_planted_children_come_out_of_the_comparison_as_planted(demo_engine):
    with session_scope(demo_engine) as session:
        gugang = session.scalar(select(Township.id).where(Township.code == GUGANG))
        outcomes = dict(
            session.execute(
                select(SchoolAgeChild.outcome, func.count()).group_by(SchoolAgeChild.outcome)
            ).all()
        )
        assert outcomes[Outcome.NOT_ENROLLED] >= 6
        assert outcomes[Outcome.SEPARATED] >= 3
        assert outcomes[Outcome.PENDING_REVIEW] >= 4
        assert outcomes[Outcome.MIGRANT] > 0
        unschooled_here = session.scalar(
            select(func.count()).where(
                SchoolAgeChild.outcome == Outcome.NOT_ENROLLED.value, SchoolAgeChild.township_id == gugang
            )
        )
        assert unschooled_here >= 3
        separated_here = session.scalar(
            select(func.count()).where(
                SchoolAgeChild.outcome == Outcome.SEPARATED.value, SchoolAgeChild.township_id == gugang
            )
        )
        assert separated_here == 3
        priority_out = session.scalar(
            select(func.count()).where(
                col(SchoolAgeChild.priority).is_not(None),
                col(SchoolAgeChild.standing).in_([Standing.SUSPECTED_DROPOUT.value, Standing.DROPOUT.value]),
            )
        )
        assert priority_out >= 1


def test_the_review_queue_holds_the_planted_near_matches(demo_engine):
    with session_scope(demo_engine) as session:
        pairs = session.execute(
            select(DeptPerson, Student, MatchCandidate.reason)
            .join(MatchCandidate, MatchCandidate.person_id == DeptPerson.id)
            .join(Student, Student.id == MatchCandidate.student_id)
        ).all()
    relations = {name_relation(p.name, s.name) for p, s, _ in pairs}
    assert (
        NameRelation.HOMOPHONE in relations
    )  # 刘思 on the register, 刘丝 in the registry (a temporary record)
    assert any("相差一位" in reason for *_, reason in pairs)
    assert any("颠倒" in reason for *_, reason in pairs)
    # the same name and birthday, another village: a candidate to reject, beside the child it is not
    twins = [
        (p, s)
        for p, s, _ in pairs
        if p.name == s.name and p.birth_date == s.birth_date and p.village_id != s.home_village_id
    ]
    assert twins


def test_unexplained_children_become_tasks_and_special_groups_open_their_cases(demo_engine):
    with session_scope(demo_engine) as session:
        gugang = session.scalar(select(Township.id).where(Township.code == GUGANG))
        tasks = session.execute(
            select(VerificationTask.kind, VerificationTask.status, VerificationTask.township_id)
        ).all()
        open_here = [t for t in tasks if t.status == TaskStatus.OPEN.value and t.township_id == gugang]
        assert sum(t.kind == TaskKind.VERIFY.value for t in open_here) >= 3
        assert sum(t.kind == TaskKind.ASSESSMENT.value for t in tasks) >= 1
        # the children who left the register between the versions: their tasks closed by the comparison
        assert sum(t.status == TaskStatus.CLOSED.value for t in tasks) == 3
        groups = set(session.scalars(select(ChildGroup.category).distinct()))
        assert {"orphan", "hardship", "disabled"} <= groups
        sources = set(session.scalars(select(Case.source).distinct()))
        assert {CaseSource.WELFARE.value, CaseSource.DISABLED_LIST.value} <= sources
