"""疑似同一人 on both databases: candidates found by blocking and scoring, the review queue in each scope, decisions
audited and remembered across a list's versions, refusals audited, undo by the county."""

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from xueji.auth import PermissionDenied
from xueji.db import session_scope
from xueji.models import (
    AuditLog,
    County,
    DeptList,
    DeptPerson,
    MatchDecision,
    School,
    Student,
    Township,
    Village,
)
from xueji.rules.dept_lists import ListKind, person_key
from xueji.services.comparisons import match_review, matching

GUGANG = "430181108000"


def _student(session: Session, township_code: str, skip: int = 0) -> Student:
    """An enrolled record with an ID number at a school of the township."""
    return session.scalars(
        select(Student)
        .join(School)
        .join(Township)
        .where(
            Township.code == township_code, col(Student.id_number).is_not(None), Student.status == "enrolled"
        )
        .order_by(Student.id)
        .offset(skip)
        .limit(1)
    ).one()


def _village(session: Session, township_code: str) -> int:
    return session.scalars(
        select(Village.id).join(Township).where(Township.code == township_code).order_by(Village.code)
    ).first()


def _one_off(number: str) -> str:
    """The same ID number with its 16th digit changed."""
    return number[:15] + str((int(number[15]) + 1) % 10) + number[16:]


def _list(session: Session, county: int, persons: list[dict]) -> tuple[int, list[int]]:
    """A new version of the county's register (after any the demo brought), with these persons."""
    version = 1 + (
        session.scalar(
            select(func.max(DeptList.version)).where(
                DeptList.county_id == county, DeptList.kind == ListKind.RESIDENTS.value
            )
        )
        or 0
    )
    listed = DeptList(
        county_id=county,
        kind=ListKind.RESIDENTS.value,
        version=version,
        list_date=date(2026, 10, version),
        row_count=0,
    )
    session.add(listed)
    session.flush()
    ids = []
    for row, p in enumerate(persons, start=2):
        person = DeptPerson(
            list_id=listed.id,
            row_number=row,
            person_key=person_key(id_number=p["id_number"], name=p["name"], birth_date=p["birth_date"]),
            **p,
        )
        session.add(person)
        session.flush()
        ids.append(int(person.id or 0))
    return int(listed.id or 0), ids


@pytest.fixture
def county(demo_engine, actors, fixed_today):
    return plant_candidates(demo_engine)


def plant_candidates(engine) -> dict:
    """A register of three: 刘志-like homophone of a Gugang record with its ID one digit off (living in Gugang), the
    same name and birthday as a temporary record of another township (living there), and one exact ID match."""
    with session_scope(engine) as session:
        county_id = session.scalars(select(County.id)).one()
        other = session.scalars(
            select(Township.code).where(Township.code != GUGANG).order_by(Township.code)
        ).first()
        s1, s3 = _student(session, GUGANG), _student(session, GUGANG, skip=1)
        s2 = _student(session, other)
        s2.id_number = None  # a temporary record: the child has no ID number yet
        s1.name, s2.name = "刘志", "王小明"
        session.commit()
        persons = [
            {"name": "刘智", "sex": s1.sex, "birth_date": s1.birth_date, "id_number": _one_off(s1.id_number or ""),
             "village_id": _village(session, GUGANG)},
            {"name": "王小明", "sex": s2.sex, "birth_date": s2.birth_date, "id_number": "430181201401010010",
             "village_id": _village(session, other)},
            {"name": s3.name, "sex": s3.sex, "birth_date": s3.birth_date, "id_number": s3.id_number,
             "village_id": _village(session, GUGANG)},
        ]  # fmt: skip
        list_id, ids = _list(session, county_id, persons)
        found = matching.refresh_candidates(session, county_id=county_id, list_id=list_id, person_ids=ids)
        session.commit()
        return {"county": county_id, "list": list_id, "ids": ids, "found": found, "persons": persons,
                "s1": s1.id, "s2": s2.id}  # fmt: skip


def _queue(engine, actor):
    with session_scope(engine) as session:
        return match_review.review_queue(session, actor=actor)


def _refusals(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count()).select_from(AuditLog).where(col(AuditLog.outcome).in_(["refused", "denied"]))
        )


def test_a_homophone_with_an_id_one_digit_off_and_a_temporary_record_are_candidates_an_exact_id_is_not(
    demo_engine, actors, county
):
    assert county["found"] == set(county["ids"][:2])
    queue = _queue(demo_engine, actors["demo_county"])
    reasons = {q.listed.name: q.reason for q in queue}
    assert reasons["刘智"].startswith("身份证号相差一位,姓名同音(liu zhi),出生日期相同")
    assert reasons["王小明"].startswith("姓名相同,出生日期相同")
    first = next(q for q in queue if q.listed.name == "刘智")
    assert "*" in (first.listed.id_number or "")  # the county officer sees masked numbers
    assert "姓名:刘智 / 刘志(同音 liu zhi)" in first.differences
    with session_scope(demo_engine) as session:
        assert matching.pending_count(session, actor=actors["demo_county"]) == 2


def test_the_township_sees_only_the_children_living_in_its_villages(demo_engine, actors, county):
    names = [q.listed.name for q in _queue(demo_engine, actors["demo_township"])]
    assert names == ["刘智"]
    with session_scope(demo_engine) as session:
        assert matching.pending_count(session, actor=actors["demo_township"]) == 1
    other = next(q for q in _queue(demo_engine, actors["demo_county"]) if q.listed.name == "王小明")
    before = _refusals(demo_engine)
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        match_review.decide(
            session, actor=actors["demo_township"], candidate_id=other.candidate_id, confirmed=False
        )
    assert _refusals(demo_engine) == before + 1


def test_a_decision_is_audited_with_both_sides_and_a_second_one_refused_and_audited(
    demo_engine, actors, county
):
    item = next(q for q in _queue(demo_engine, actors["demo_township"]))
    with session_scope(demo_engine) as session:
        decision = match_review.decide(
            session,
            actor=actors["demo_township"],
            candidate_id=item.candidate_id,
            confirmed=True,
            note="已核对户口簿",
        )
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "match.confirm")).one()
        assert entry.entity_id == str(decision.id)
        assert entry.after["listed"]["name"] == "刘智" and entry.after["registry"]["name"] == "刘志"
    assert _queue(demo_engine, actors["demo_township"]) == []
    before = _refusals(demo_engine)
    with (
        session_scope(demo_engine) as session,
        pytest.raises(match_review.MatchError, match="已由刘专干于.*判定为是同一人"),
    ):
        match_review.decide(
            session, actor=actors["demo_county"], candidate_id=item.candidate_id, confirmed=False
        )
    assert _refusals(demo_engine) == before + 1
    with session_scope(demo_engine) as session:
        assert matching.confirmed_pairs(session, county_id=county["county"]) == {
            person_key(id_number=county["persons"][0]["id_number"], name="", birth_date=None): county["s1"]
        }


def test_confirming_needs_a_note_and_the_refusal_is_audited(demo_engine, actors, county):
    item = _queue(demo_engine, actors["demo_county"])[0]
    before = _refusals(demo_engine)
    with session_scope(demo_engine) as session, pytest.raises(match_review.MatchError, match="核实依据"):
        match_review.decide(
            session, actor=actors["demo_county"], candidate_id=item.candidate_id, confirmed=True
        )
    assert _refusals(demo_engine) == before + 1
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(MatchDecision)) == 0


def test_decisions_are_remembered_when_a_new_version_of_the_list_arrives(demo_engine, actors, county):
    queue = {q.listed.name: q for q in _queue(demo_engine, actors["demo_county"])}
    with session_scope(demo_engine) as session:
        match_review.decide(
            session,
            actor=actors["demo_county"],
            candidate_id=queue["王小明"].candidate_id,
            confirmed=False,
            note="不同父母",
        )
        match_review.decide(
            session,
            actor=actors["demo_county"],
            candidate_id=queue["刘智"].candidate_id,
            confirmed=True,
            note="学校核实",
        )
    with session_scope(demo_engine) as session:
        list_id, ids = _list(session, county["county"], county["persons"])
        found = matching.refresh_candidates(
            session, county_id=county["county"], list_id=list_id, person_ids=ids
        )
        session.commit()
    assert found == set()  # one confirmed, one rejected: nobody asked again
    assert _queue(demo_engine, actors["demo_county"]) == []


def test_the_county_undoes_a_decision_and_the_pair_is_asked_again_the_township_may_not(
    demo_engine, actors, county
):
    item = next(q for q in _queue(demo_engine, actors["demo_county"]) if q.listed.name == "王小明")
    with session_scope(demo_engine) as session:
        decision = match_review.decide(
            session, actor=actors["demo_county"], candidate_id=item.candidate_id, confirmed=False
        )
        decision_id = int(decision.id or 0)
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied, match="只有县教育局"):
        match_review.undo_decision(
            session, actor=actors["demo_township"], decision_id=decision_id, reason="误判"
        )
    with session_scope(demo_engine) as session:
        rows = match_review.decisions(session, actor=actors["demo_county"])
        assert [(r.listed, r.confirmed, r.decided_by) for r in rows] == [("王小明", False, "陈科长")]
        match_review.undo_decision(
            session, actor=actors["demo_county"], decision_id=decision_id, reason="误判"
        )
        assert (
            session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "match.undo"))
            == 1
        )
    assert "王小明" in [q.listed.name for q in _queue(demo_engine, actors["demo_county"])]


def test_another_surname_with_the_same_birthday_is_no_candidate(demo_engine, actors, fixed_today):
    """王伟 / 张伟 born the same day are two children (the finding of the review: no longer one character apart)."""
    with session_scope(demo_engine) as session:
        county_id = session.scalars(select(County.id)).one()
        s = _student(session, GUGANG, skip=2)
        s.name = "王伟"
        session.commit()
        person = {"name": "张伟", "sex": s.sex, "birth_date": s.birth_date, "id_number": "430181201401010010",
                  "village_id": _village(session, GUGANG)}  # fmt: skip
        list_id, ids = _list(session, county_id, [person])
        found = matching.refresh_candidates(session, county_id=county_id, list_id=list_id, person_ids=ids)
        session.commit()
    assert found == set()
