"""适龄儿童核实 on both databases: tasks opened and closed by sync (ledger rows inserted directly, as a comparison
leaves them), each outcome recorded with what it needs, 失学/辍学 opening exactly one case, scope, overdue work."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlmodel import Session

from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.locks import write_lock
from xueji.models import (
    AuditLog,
    Case,
    Child,
    County,
    DeptList,
    DeptPerson,
    MatchDecision,
    SchoolAgeChild,
    Student,
    Township,
    VerificationTask,
    Village,
)
from xueji.rules import verification as rules
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus
from xueji.rules.comparisons import Outcome, Standing, TaskKind, VerifyOutcome
from xueji.rules.home_teaching import Conclusion
from xueji.rules.id_number import build_id_number
from xueji.services.comparisons import tasks
from xueji.services.comparisons.tasks import TaskFilter, VerificationError

TODAY = date(2026, 11, 23)
GUGANG = "430181108000"


@pytest.fixture(autouse=True)
def _today(fixed_today):
    return None


def clear_ledger(engine) -> None:
    """Start from an empty ledger and no tasks (the demo may hold its own comparison's): each test inserts the
    ledger rows a comparison would leave, and counts only what it made."""
    with session_scope(engine) as session:
        session.execute(delete(VerificationTask))
        session.execute(delete(SchoolAgeChild))
        session.commit()


@pytest.fixture(autouse=True)
def _empty_ledger(request):
    if "demo_engine" in request.fixturenames:
        clear_ledger(request.getfixturevalue("demo_engine"))


def _place(session: Session, township_code: str = GUGANG) -> tuple[int, int, int]:
    """(county id, township id, first village id) of a township of the demo county."""
    township = session.scalar(select(Township).where(Township.code == township_code))
    village = session.scalar(
        select(Village.id).where(Village.township_id == township.id).order_by(Village.code)
    )
    return township.county_id, township.id, village


def _other_township(session: Session) -> str:
    return session.scalar(select(Township.code).where(Township.code != GUGANG).order_by(Township.code))


def _list(session: Session, county_id: int, kind: str = "residents") -> int:
    version = (
        session.scalar(
            select(func.max(DeptList.version)).where(DeptList.county_id == county_id, DeptList.kind == kind)
        )
        or 0
    )
    listed = DeptList(county_id=county_id, kind=kind, version=version + 1, list_date=TODAY)
    session.add(listed)
    session.flush()
    return int(listed.id or 0)


def _child(
    session: Session,
    seq: int,
    *,
    township_code: str = GUGANG,
    outcome: str | None = Outcome.NOT_ENROLLED.value,
    standing: str = Standing.TO_VERIFY.value,
    groups: str = "",
    sources: str = "residents",
    list_id: int | None = None,
    id_number: str | None = None,
) -> str:
    """A ledger row (and its row on a residents list when list_id is given); returns its person key."""
    county, township, village = _place(session, township_code)
    born = date(2015, 3, 1) + timedelta(days=seq)
    number = id_number or build_id_number("430102", born, 400 + seq, male=seq % 2 == 1)
    name = f"核实{'一二三四五六七八九十'[seq % 10]}"
    session.add(
        SchoolAgeChild(
            county_id=county,
            township_id=township,
            village_id=village,
            person_key=number,
            name=name,
            sex="男" if seq % 2 else "女",
            birth_date=born,
            id_number=number,
            sources=sources,
            standing=standing,
            outcome=outcome,
            groups=groups,
        )
    )
    if list_id is not None:
        session.add(
            DeptPerson(
                list_id=list_id,
                row_number=seq + 1,
                person_key=number,
                name=name,
                birth_date=born,
                id_number=number,
                village_id=village,
                address="古港镇某村三组",
                guardian_name="监护人",
                guardian_phone="13800001234",
            )
        )
    session.flush()
    return number


def _sync(engine, actor) -> dict[str, int]:
    with session_scope(engine) as session:
        county = session.scalar(select(County.id))
        write_lock(session, f"county:{county}:compare")  # as run_comparison does
        counts = tasks.sync_tasks(session, actor=actor, county_id=county)
        session.commit()
        return counts


def _task(session: Session, key: str, kind: TaskKind = TaskKind.VERIFY) -> VerificationTask:
    return session.scalars(
        select(VerificationTask)
        .where(VerificationTask.person_key == key, VerificationTask.kind == kind.value)
        .order_by(VerificationTask.id.desc())
    ).first()


def _finding(outcome: VerifyOutcome, **kw) -> rules.Finding:
    return rules.Finding(outcome, kw.pop("visited_on", TODAY), **kw)


def test_sync_opens_one_task_per_unexplained_child_with_the_lists_facts_and_is_idempotent(
    demo_engine, actors
):
    with session_scope(demo_engine) as session:
        county, township, village = _place(session)
        list_id = _list(session, county)
        key = _child(session, 1, list_id=list_id)
        _child(session, 2, outcome=Outcome.IN_SCHOOL.value, standing=Standing.IN_SCHOOL.value)
        disabled = _child(
            session, 3, outcome=None, standing=Standing.UNKNOWN.value, groups="disabled", sources="disabled"
        )
        session.commit()
    first = _sync(demo_engine, actors["demo_county"])
    assert first["opened_verify"] == 1 and first["opened_assessment"] == 1
    with session_scope(demo_engine) as session:
        task = _task(session, key)
        assert (task.township_id, task.village_id, task.status) == (township, village, "open")
        assert task.due_on == TODAY + timedelta(days=30) and task.opened_on == TODAY
        assert task.person_id is not None and task.address == "古港镇某村三组" and task.guardian_phone
        assert _task(session, disabled, TaskKind.ASSESSMENT).source == "disabled"
        before = session.scalar(select(func.count()).select_from(AuditLog))
    again = _sync(demo_engine, actors["demo_county"])
    assert not any(again.values())
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(VerificationTask)) == 2
        assert (
            session.scalar(select(func.count()).select_from(AuditLog)) == before
        )  # nothing changed, nothing audited


def test_sync_closes_open_tasks_with_the_reason_and_never_reopens_a_done_one(demo_engine, actors):
    with session_scope(demo_engine) as session:
        county, _, _ = _place(session)
        keys = [_child(session, n) for n in range(4)]
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        done = _task(session, keys[3])
        student = session.scalar(select(Student.id).order_by(Student.id))
    with session_scope(demo_engine) as session:
        tasks.record_outcome(
            session, actor=township, task_id=done.id, finding=_finding(VerifyOutcome.DECEASED)
        )
    with session_scope(demo_engine) as session:
        rows = {r.person_key: r for r in session.scalars(select(SchoolAgeChild))}
        rows[keys[0]].outcome, rows[keys[0]].standing = Outcome.IN_SCHOOL.value, Standing.IN_SCHOOL.value
        rows[keys[1]].outcome, rows[keys[1]].student_id = Outcome.IN_SCHOOL.value, student
        session.add(MatchDecision(county_id=county, person_key=keys[1], student_id=student, confirmed=True))
        session.delete(rows[keys[2]])  # gone from the new register
        session.commit()
    counts = _sync(demo_engine, actors["demo_county"])
    assert counts["closed"] == 3 and counts["opened_verify"] == 0
    with session_scope(demo_engine) as session:
        reasons = [_task(session, k).closed_reason for k in keys[:3]]
        assert reasons == ["已在学籍中找到", "已确认与学籍为同一人", "不在新版户籍名单中"]
        assert _task(session, keys[3]).status == "done"
        assert session.scalar(select(func.count()).select_from(VerificationTask)) == 4


def test_a_child_who_ages_out_has_the_task_closed_as_past_school_age(demo_engine, actors):
    with session_scope(demo_engine) as session:
        key = _child(session, 5)
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    with session_scope(demo_engine) as session:  # a school year later: born too early, off the rebuilt ledger
        _task(session, key).birth_date = date(2009, 3, 1)
        session.execute(delete(SchoolAgeChild).where(SchoolAgeChild.person_key == key))
        session.commit()
    assert _sync(demo_engine, actors["demo_county"])["closed"] == 1
    with session_scope(demo_engine) as session:
        task = _task(session, key)
        assert (task.status, task.closed_reason) == ("closed", "已超出义务教育年龄")


def _open_case(session: Session, actor, task_id: int, category: CaseCategory) -> None:
    from xueji.services.cases.opening import child_for_person, open_child_case
    from xueji.services.comparisons.in_effect import school_age_reference

    task = session.get(VerificationTask, task_id)
    child = child_for_person(session, tasks._person(task), reference=school_age_reference()[0])
    open_child_case(session, actor, child, category, CaseSource.RESIDENTS, "测试:辍学")
    session.commit()


def test_a_finding_does_not_overwrite_the_standing_an_open_dropout_case_gives(demo_engine, actors):
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        keys = [_child(session, n) for n in (6, 7)]
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    with session_scope(demo_engine) as session:
        first, second = (_task(session, k).id for k in keys)
    with session_scope(demo_engine) as session:  # 暂未找到, then the township opens a 辍学 case
        tasks.record_outcome(
            session,
            actor=township,
            task_id=first,
            finding=_finding(VerifyOutcome.NOT_FOUND, tried="走访邻居"),
        )
    with session_scope(demo_engine) as session:
        _open_case(session, township, first, CaseCategory.DROPOUT)
        row = session.scalar(select(SchoolAgeChild).where(SchoolAgeChild.person_key == keys[0]))
        row.standing = Standing.DROPOUT.value  # as the comparison's rebuild leaves it (the case outranks)
        session.commit()
    _sync(demo_engine, actors["demo_county"])  # the sync leaves the standing to the comparison
    with session_scope(demo_engine) as session:  # a case first, then 暂未找到: the case still outranks
        _open_case(session, township, second, CaseCategory.DROPOUT)
    with session_scope(demo_engine) as session:
        tasks.record_outcome(
            session,
            actor=township,
            task_id=second,
            finding=_finding(VerifyOutcome.NOT_FOUND, tried="电话不通"),
        )
    with session_scope(demo_engine) as session:
        standings = dict(session.execute(select(SchoolAgeChild.person_key, SchoolAgeChild.standing)).all())
        assert [standings[k] for k in keys] == ["dropout", "dropout"]


@pytest.mark.parametrize(
    ("outcome", "fields", "missing"),
    [
        (VerifyOutcome.OTHER_COUNTY, {"school": "长沙市雨花区某小学", "proof": "在校证明"}, "证明材料"),
        (VerifyOutcome.MOVED_AWAY, {"place": "广东省东莞市"}, "迁往何处"),
        (VerifyOutcome.HOME_TEACHING, {}, None),
        (VerifyOutcome.DECEASED, {"note": "2026-10 病故"}, None),
    ],
)
def test_each_outcome_is_recorded_with_what_it_needs_and_moves_the_ledger(
    demo_engine, actors, outcome, fields, missing
):
    with session_scope(demo_engine) as session:
        key = _child(session, 5)
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        task_id = _task(session, key).id
    if missing:
        short = {k: v for k, v in fields.items() if k != "proof" and k != "place"}
        with pytest.raises(VerificationError, match=missing), session_scope(demo_engine) as session:
            tasks.record_outcome(session, actor=township, task_id=task_id, finding=_finding(outcome, **short))
        with session_scope(demo_engine) as session:
            assert session.scalar(select(AuditLog.outcome).order_by(AuditLog.id.desc()).limit(1)) == "refused"
    with session_scope(demo_engine) as session:
        tasks.record_outcome(session, actor=township, task_id=task_id, finding=_finding(outcome, **fields))
    with session_scope(demo_engine) as session:
        task = session.get(VerificationTask, task_id)
        assert (task.status, task.outcome, task.recorded_by) == ("done", outcome.value, township.user_id)
        for value in fields.values():
            assert value in task.outcome_detail
        assert session.scalar(select(SchoolAgeChild.standing).where(SchoolAgeChild.person_key == key)) == (
            outcome.standing.value
        )
        audit = session.scalar(
            select(AuditLog).where(AuditLog.action == "verify", AuditLog.outcome == "success")
        )
        assert audit.before["status"] == "open" and audit.after["status"] == "done"
        assessment = _task(session, key, TaskKind.ASSESSMENT)
        assert (assessment is not None) is (outcome is VerifyOutcome.HOME_TEACHING)
    with pytest.raises(VerificationError, match="已登记"), session_scope(demo_engine) as session:
        tasks.record_outcome(session, actor=township, task_id=task_id, finding=_finding(outcome, **fields))


def test_a_visit_date_in_the_future_or_not_found_without_what_was_tried_is_refused(demo_engine, actors):
    with session_scope(demo_engine) as session:
        key = _child(session, 6)
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        task_id = _task(session, key).id
    later = _finding(VerifyOutcome.NOT_FOUND, visited_on=TODAY + timedelta(days=1), tried="走访")
    with pytest.raises(VerificationError, match="不能晚于今天"), session_scope(demo_engine) as session:
        tasks.record_outcome(session, actor=township, task_id=task_id, finding=later)
    with pytest.raises(VerificationError, match="已采取的查找办法"), session_scope(demo_engine) as session:
        tasks.record_outcome(
            session, actor=township, task_id=task_id, finding=_finding(VerifyOutcome.NOT_FOUND)
        )
    for tried in ("上门无人,邻居称外出务工", "电话联系监护人未接通"):
        with session_scope(demo_engine) as session:
            tasks.record_outcome(
                session,
                actor=township,
                task_id=task_id,
                finding=_finding(VerifyOutcome.NOT_FOUND, tried=tried),
            )
    with session_scope(demo_engine) as session:
        task = session.get(VerificationTask, task_id)
        assert task.status == "open" and task.outcome == "not_found"
        assert task.outcome_detail.index("电话联系") < task.outcome_detail.index("上门无人")  # newest first


def test_out_of_school_opens_exactly_one_suspected_dropout_case_in_the_childs_village(demo_engine, actors):
    with session_scope(demo_engine) as session:
        county, township, village = _place(session)
        list_id = _list(session, county)
        key = _child(session, 7, list_id=list_id)
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    official = actors["demo_township"]
    with session_scope(demo_engine) as session:
        task_id = _task(session, key).id
    finding = _finding(VerifyOutcome.OUT_OF_SCHOOL, situation="在家帮忙务农,未入学")
    with session_scope(demo_engine) as session:
        task = tasks.record_outcome(session, actor=official, task_id=task_id, finding=finding)
        case = session.get(Case, task.case_id)
        child = session.get(Child, task.child_id)
        assert (case.category, case.source, case.status) == (
            CaseCategory.SUSPECTED_DROPOUT.value,
            CaseSource.RESIDENTS.value,
            CaseStatus.OPEN.value,
        )
        assert (child.township_id, child.village_id, child.id_number) == (township, village, key)
        assert child.guardian_name == "监护人" and child.school_id is not None  # the follow school
        assert "在家帮忙务农" in case.risk_reason
        assert (
            case.government_user_id == official.user_id
        )  # who found the child answers on the government line
        assert session.scalar(select(SchoolAgeChild.standing).where(SchoolAgeChild.person_key == key)) == (
            "suspected_dropout"
        )
    # the same child verified again (a later list version, a new task): no second case
    with session_scope(demo_engine) as session:
        first = session.get(VerificationTask, task_id)
        first.status = "closed"
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    with session_scope(demo_engine) as session:
        second = _task(session, key)
        assert second.id != task_id
        again = tasks.record_outcome(session, actor=official, task_id=second.id, finding=finding)
        assert again.case_id == case.id
        assert session.scalar(select(func.count()).select_from(Case).where(Case.child_id == child.id)) == 1


def test_a_township_cannot_record_another_townships_task_and_the_refusal_is_audited(demo_engine, actors):
    with session_scope(demo_engine) as session:
        other = _other_township(session)
        key = _child(session, 8, township_code=other)
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    with session_scope(demo_engine) as session:
        task_id = _task(session, key).id
    official = actors["demo_township"]
    with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:
        tasks.record_outcome(
            session, actor=official, task_id=task_id, finding=_finding(VerifyOutcome.DECEASED)
        )
    with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:  # the county reads only
        tasks.record_outcome(
            session, actor=actors["demo_county"], task_id=task_id, finding=_finding(VerifyOutcome.DECEASED)
        )
    with session_scope(demo_engine) as session:
        denied = session.scalars(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        assert {d.entity_id for d in denied if d.entity_type == "verification_task"} == {str(task_id)}
        assert session.get(VerificationTask, task_id).status == "open"
        assert tasks.task_list(session, actor=official).total == 0
        assert tasks.task_list(session, actor=actors["demo_county"]).total == 1


def test_overdue_tasks_come_first_with_their_days_and_are_counted_per_village(demo_engine, actors):
    with session_scope(demo_engine) as session:
        list_id = _list(session, _place(session)[0])
        keys = [_child(session, n, list_id=list_id) for n in (10, 11, 12)]
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    with session_scope(demo_engine) as session:
        late = _task(session, keys[1])
        late.due_on = TODAY - timedelta(days=5)
        session.commit()
    official = actors["demo_township"]
    with session_scope(demo_engine) as session:
        page = tasks.task_list(session, actor=official)
        assert [r.name for r in page.rows][0] == late.name and page.rows[0].overdue_days == 5
        assert page.rows[0].id_number == keys[1]  # field work: checked at the door, the guardian phoned
        assert "*" not in page.rows[0].guardian_phone
        county_view = tasks.task_list(session, actor=actors["demo_county"])
        assert "*" in county_view.rows[0].id_number and "*" in county_view.rows[0].guardian_phone
        assert tasks.task_list(session, actor=official, given=TaskFilter(overdue_only=True)).total == 1
        assert tasks.task_list(session, actor=official, given=TaskFilter(search=keys[2][-4:])).total == 1
        counts = tasks.task_counts(session, actor=official)
        assert counts[["待核实", "其中逾期"]].sum().tolist() == [3, 1]
        backlog = tasks.backlog(session, actor=official)
        assert (backlog.open, backlog.overdue, backlog.oldest_due) == (3, 1, TODAY - timedelta(days=5))
        assert sum(tasks.overdue_by_township(session, actor=actors["demo_county"]).values()) == 1
        data = tasks.export_tasks(session, actor=official, given=TaskFilter())
        assert data[:2] == b"PK"
        export = session.scalar(
            select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id.desc())
        )
        assert export is not None


def test_the_coordinator_records_an_assessment_and_home_teaching_opens_its_case_once(demo_engine, actors):
    with session_scope(demo_engine) as session:
        key = _child(session, 13, outcome=None, standing="unknown", groups="disabled", sources="disabled")
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    coordinator = actors["demo_coordinator"]
    with session_scope(demo_engine) as session:
        task_id = _task(session, key, TaskKind.ASSESSMENT).id
        listed = tasks.task_list(session, actor=coordinator, given=TaskFilter(kind=TaskKind.ASSESSMENT))
        assert [r.id for r in listed.rows] == [task_id]
    with pytest.raises(PermissionDenied), session_scope(demo_engine) as session:
        tasks.record_assessment(
            session,
            actor=actors["demo_township"],
            task_id=task_id,
            conclusion=Conclusion.HOME_TEACHING,
            detail="评估",
            assessed_on=TODAY,
        )
    with pytest.raises(VerificationError, match="评估人员"), session_scope(demo_engine) as session:
        tasks.record_assessment(
            session,
            actor=coordinator,
            task_id=task_id,
            conclusion=Conclusion.HOME_TEACHING,
            detail=" ",
            assessed_on=TODAY,
        )
    with session_scope(demo_engine) as session:
        task = tasks.record_assessment(
            session,
            actor=coordinator,
            task_id=task_id,
            conclusion=Conclusion.HOME_TEACHING,
            detail="县特殊教育专家委员会:重度肢体残疾",
            assessed_on=TODAY,
        )
        case = session.get(Case, task.case_id)
        assert (case.category, case.source) == (
            CaseCategory.HOME_TEACHING.value,
            CaseSource.DISABLED_LIST.value,
        )
        assert task.status == "done" and task.outcome == "home_teaching"
    # the ledger row still says unknown after a rebuild: the open 送教上门 case keeps a new task from opening
    with session_scope(demo_engine) as session:
        row = session.scalar(select(SchoolAgeChild).where(SchoolAgeChild.person_key == key))
        row.standing = "unknown"
        session.scalars(select(VerificationTask)).one().status = "closed"
        session.commit()
    assert _sync(demo_engine, actors["demo_county"])["opened_assessment"] == 0


def test_my_work_lists_the_townships_tasks_the_countys_overdue_and_the_coordinators_assessments(
    demo_engine, actors
):
    from xueji.services.dashboards.my_work import my_work

    with session_scope(demo_engine) as session:
        keys = [_child(session, n) for n in (20, 21)]
        _child(session, 22, outcome=None, standing="unknown", groups="disabled", sources="disabled")
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    with session_scope(demo_engine) as session:
        _task(session, keys[0]).due_on = TODAY - timedelta(days=2)
        session.commit()
    with session_scope(demo_engine) as session:
        township = {i.what: i for i in my_work(session, actor=actors["demo_township"]).items}
        line = township["适龄儿童待核实"]
        assert (line.count, line.detail, line.due) == (2, "逾期 1 人", TODAY - timedelta(days=2))
        county = my_work(session, actor=actors["demo_county"])
        assert {i.what: i.count for i in county.items}["核实逾期"] == 1
        assert county.townships.set_index("乡镇").loc["古港镇", "核实逾期(人)"] == 1
        coordinator = {i.what: i.count for i in my_work(session, actor=actors["demo_coordinator"]).items}
        assert coordinator["待评估(残联名单)"] == 1


def test_the_case_ledgers_flag_and_filter_children_of_poor_and_monitored_households(demo_engine, actors):
    from xueji.services.cases import ledgers

    county = actors["demo_county"]
    with session_scope(demo_engine) as session:
        every = ledgers.ledger_page(session, actor=county, given=ledgers.LedgerFilter(), limit=None)
        assert every.total > 1 and not any(r.priority for r in every.rows)
        child = session.scalars(
            select(Child).where(Child.student_id.is_not(None), Child.id.in_([r.child_id for r in every.rows]))
        ).first()
        number = session.get(Student, child.student_id).id_number
        _child(session, 30, outcome=None, standing="in_school", sources="registry", id_number=number)
        row = session.scalar(select(SchoolAgeChild).where(SchoolAgeChild.person_key == number))
        row.student_id, row.priority = child.student_id, "脱贫户"
        session.commit()
    with session_scope(demo_engine) as session:
        flagged = ledgers.ledger_page(
            session, actor=county, given=ledgers.LedgerFilter(priority_only=True), limit=None
        )
        assert {r.child_id for r in flagged.rows} == {child.id} and flagged.rows[0].priority == "脱贫户"
        assert "重点(脱贫户/监测户)" in ledgers.ledger_frame(flagged.rows).columns


def test_assessment_tasks_are_the_coordinators_not_the_teachers_or_registrars_nor_a_schools(
    demo_engine, actors
):
    from xueji.auth import Actor
    from xueji.models import School
    from xueji.rules.vocab import Role, ScopeKind

    with session_scope(demo_engine) as session:
        _child(session, 23, outcome=None, standing="unknown", groups="disabled", sources="disabled")
        session.commit()
    _sync(demo_engine, actors["demo_county"])
    coordinator = actors["demo_coordinator"]
    with session_scope(demo_engine) as session:
        school = session.scalar(select(School.id).where(School.township_id == _place(session)[1]))
    at_school = Actor(coordinator.user_id, coordinator.username, Role.COORDINATOR, ScopeKind.SCHOOL, school)
    given = TaskFilter(kind=TaskKind.ASSESSMENT)
    reads = (
        lambda session, actor: tasks.task_list(session, actor=actor, given=given),
        lambda session, actor: tasks.task_counts(session, actor=actor, kind=TaskKind.ASSESSMENT),
        lambda session, actor: tasks.backlog(session, actor=actor, kind=TaskKind.ASSESSMENT),
        lambda session, actor: tasks.export_tasks(session, actor=actor, given=given),
    )
    for actor in (actors["demo_teacher"], actors["demo_registrar"], at_school):
        assert not tasks.reads_tasks(actor, TaskKind.ASSESSMENT)
        for read in reads:
            with session_scope(demo_engine) as session, pytest.raises(PermissionDenied) as refused:
                read(session, actor)
            if actor is at_school:
                assert "学校账号" in str(refused.value)
    with session_scope(demo_engine) as session:
        assert tasks.task_list(session, actor=coordinator, given=given).total == 1
        denied = session.scalars(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        assert len([d for d in denied if "home_teaching.manage" in d.detail]) == 12
