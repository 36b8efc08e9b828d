"""疑似同一人: registry records that may be a listed child although no registry record has the child's ID number.
Candidates are found by blocking in SQL (the county's records, not merged, with the child's birth date, or name,
or the first 14 characters of the ID number) and scoring in Python (rules.name_match); services.comparisons.match_review
puts them to a person, who confirms or rejects each."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, delete, exists, false, func, insert, literal, or_, select, union
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.models import (
    DeptList,
    DeptPerson,
    MatchCandidate,
    MatchDecision,
    School,
    Student,
    Township,
    Village,
)
from xueji.rules.name_match import Facts, candidate
from xueji.rules.vocab import ScopeKind
from xueji.services.comparisons.in_effect import county_schools
from xueji.sql import chunked


def confirmed_pairs(session: Session, *, county_id: int) -> dict[str, int]:
    """person_key → student id of every confirmed decision of the county."""
    return dict(
        session.execute(
            select(MatchDecision.person_key, MatchDecision.student_id).where(
                MatchDecision.county_id == county_id, col(MatchDecision.confirmed).is_(True)
            )
        ).all()
    )


def blocking_query(county_id: int, list_id: int, person_ids: list[int]):  # noqa: ANN201 - a select
    """The pairs (person, registry record) worth scoring: records of the county, not merged, whose ID number is
    not the person's and not another person's of this list (those are exact matches), with the person's birth
    date, or name, or the first 14 characters of the ID number (region and birth date: one digit off after)."""
    person, student = DeptPerson, Student
    others = aliased(DeptPerson)
    prefix = func.substr(person.id_number, 1, 14)
    columns = (
        person.id,
        student.id,
        student.name,
        student.sex,
        student.birth_date,
        student.id_number,
        student.home_village_id,
    )
    where = (
        col(person.id).in_(person_ids),
        col(student.school_id).in_(county_schools(county_id)),
        col(student.merged_into_id).is_(None),
        or_(col(student.id_number).is_(None), student.id_number != person.id_number),
        ~exists(select(others.id).where(others.list_id == list_id, others.id_number == student.id_number)),
    )
    # the persons by a bare IN on an expression, not on their key: SQLite would otherwise probe the person index
    # once per ID in the list for every record it scans, instead of looking each record's birth date (or name:
    # an automatic index) up once
    in_list = (col(person.id) + 0).in_(person_ids)
    by_birth = (
        select(*columns).join(student, student.birth_date == person.birth_date).where(in_list, *where[1:])
    )
    by_name = select(*columns).join(student, student.name == person.name).where(in_list, *where[1:])
    # the county's schools as an expression here: SQLite would otherwise scan the county's records through the
    # school index for each person instead of seeking the ID number's range in its unique index
    by_number = (
        select(*columns)
        .join(
            student,
            and_(col(student.id_number) >= prefix, col(student.id_number) < prefix + literal(":")),
        )
        .where(
            where[0],
            (col(student.school_id) + 0).in_(county_schools(county_id)),
            *where[2:],
            col(person.id_number).is_not(None),
        )
    )
    return union(by_birth, by_name, by_number)


def _persons(session: Session, list_id: int, person_ids: Iterable[int]) -> dict[int, DeptPerson]:
    return {
        p.id: p
        for part in chunked(person_ids)
        for p in session.scalars(
            select(DeptPerson).where(DeptPerson.list_id == list_id, col(DeptPerson.id).in_(part))
        )
        if p.id is not None
    }


def _exactly_matched(session: Session, county_id: int, persons: dict[int, DeptPerson]) -> set[int]:
    """The persons whose ID number a registry record of the county carries: matched, not candidates."""
    numbers = {p.id_number: pid for pid, p in persons.items() if p.id_number}
    found: set[int] = set()
    for part in chunked(numbers):
        found.update(
            numbers[n]
            for n in session.scalars(
                select(Student.id_number).where(
                    col(Student.id_number).in_(part),
                    col(Student.merged_into_id).is_(None),
                    col(Student.school_id).in_(county_schools(county_id)),
                )
            )
            if n is not None
        )
    return found


def search(session: Session, county_id: int, list_id: int, person_ids: Iterable[int]) -> set[int]:
    """Find, score and store the candidates of these persons of the list (their earlier ones replaced)."""
    persons = _persons(session, list_id, person_ids)
    for part in chunked(persons):
        session.execute(delete(MatchCandidate).where(col(MatchCandidate.person_id).in_(part)))
    decided = session.execute(
        select(MatchDecision.person_key, MatchDecision.student_id, MatchDecision.confirmed).where(
            MatchDecision.county_id == county_id
        )
    ).all()
    confirmed_keys = {key for key, _, yes in decided if yes}
    taken = {
        sid for _, sid, yes in decided if yes
    }  # a record confirmed as someone is nobody else's candidate
    rejected = {(key, sid) for key, sid, yes in decided if not yes}
    open_persons = {pid: p for pid, p in persons.items() if p.person_key not in confirmed_keys}
    matched = _exactly_matched(session, county_id, open_persons)
    wanted = [pid for pid in open_persons if pid not in matched]
    rows: list[dict[str, object]] = []
    for part in chunked(wanted):
        for pid, sid, name, sex, born, number, village in session.execute(
            blocking_query(county_id, list_id, part)
        ):
            person = persons[pid]
            if sid in taken or (person.person_key, sid) in rejected:
                continue
            found = candidate(
                Facts(person.name, person.birth_date, person.sex, person.id_number, person.village_id),
                Facts(name, born, sex, number, village),
            )
            if found is not None:
                rows.append(
                    {"person_id": pid, "student_id": sid, "score": found[0], "reason": found[1][:200]}
                )
    if rows:
        session.execute(insert(MatchCandidate), rows)
    return {int(str(r["person_id"])) for r in rows}


def refresh_candidates(
    session: Session, *, county_id: int, list_id: int, person_ids: Iterable[int]
) -> set[int]:
    """For the given persons of this list (those with no exact-ID or confirmed match), find and store their
    candidates among the county's registry records, skipping rejected pairs; the candidates of the kind's earlier
    versions, and of this list's persons now matched by ID number, are dropped. The caller commits. Returns the
    ids of the persons left with an undecided candidate."""
    this = session.get(DeptList, list_id)
    if this is None:
        return set()
    earlier = (
        select(DeptPerson.id)
        .join(DeptList, DeptPerson.list_id == DeptList.id)
        .where(DeptList.county_id == county_id, DeptList.kind == this.kind, DeptList.id != list_id)
    )
    session.execute(delete(MatchCandidate).where(col(MatchCandidate.person_id).in_(earlier)))
    matched_now = select(DeptPerson.id).where(
        DeptPerson.list_id == list_id,
        exists(
            select(Student.id).where(
                Student.id_number == DeptPerson.id_number, col(Student.merged_into_id).is_(None)
            )
        ),
    )
    session.execute(delete(MatchCandidate).where(col(MatchCandidate.person_id).in_(matched_now)))
    return search(session, county_id, list_id, person_ids)


# ---- who sees what --------------------------------------------------------------------------------------------


def _actor_county(actor: Actor) -> ColumnElement[bool]:
    """A WHERE on DeptList: the lists of the actor's county."""
    if actor.scope_kind is ScopeKind.COUNTY:
        return DeptList.county_id == actor.scope_id
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        return col(DeptList.county_id).in_(select(Township.county_id).where(Township.id == actor.scope_id))
    return false()


def candidate_condition(actor: Actor) -> ColumnElement[bool]:
    """A WHERE on a candidate joined with its DeptPerson, DeptList and Student: the county sees all of its
    county's; a township the persons living in its villages and, for a person of no known village, the
    records at its schools."""
    if actor.scope_kind is ScopeKind.COUNTY:
        return _actor_county(actor)
    if actor.scope_kind is ScopeKind.TOWNSHIP:
        villages = select(Village.id).where(Village.township_id == actor.scope_id)
        schools = select(School.id).where(School.township_id == actor.scope_id)
        return and_(
            _actor_county(actor),
            or_(
                col(DeptPerson.village_id).in_(villages),
                and_(col(DeptPerson.village_id).is_(None), col(Student.school_id).in_(schools)),
            ),
        )
    return false()  # a school, or a city's or province's officer not narrowed to a county: nothing
    return false()


def undecided() -> ColumnElement[bool]:
    """A WHERE on a candidate joined with its person and list: in a list in effect, no decision on the pair, the
    person not confirmed as anyone, the record not confirmed as anyone."""
    decided = exists(
        select(MatchDecision.id).where(
            MatchDecision.county_id == DeptList.county_id,
            or_(
                and_(
                    MatchDecision.person_key == DeptPerson.person_key,
                    or_(
                        MatchDecision.student_id == MatchCandidate.student_id,
                        col(MatchDecision.confirmed).is_(True),
                    ),
                ),
                and_(
                    MatchDecision.student_id == MatchCandidate.student_id,
                    col(MatchDecision.confirmed).is_(True),
                ),
            ),
        )
    )
    return and_(~newer_version(), ~decided)


def newer_version() -> ColumnElement[bool]:
    """A WHERE on DeptList: a later version of the same list exists (this one is no longer in effect)."""
    later = aliased(DeptList)
    return exists(
        select(later.id).where(
            later.county_id == DeptList.county_id,
            later.kind == DeptList.kind,
            later.version > DeptList.version,
        )
    )


def candidates():  # noqa: ANN202 - a select to extend
    return (
        select(MatchCandidate.id)
        .join(DeptPerson, MatchCandidate.person_id == DeptPerson.id)
        .join(DeptList, DeptPerson.list_id == DeptList.id)
        .join(Student, MatchCandidate.student_id == Student.id)
    )


def pending_count(session: Session, *, actor: Actor) -> int:
    """How many pairs (listed child, registry record) await a decision in the actor's scope."""
    if not actor.can(Action.MATCH_REVIEW):
        return 0
    pairs = (
        candidates()
        .with_only_columns(DeptPerson.person_key, MatchCandidate.student_id)
        .where(candidate_condition(actor), undecided())
        .group_by(DeptPerson.person_key, MatchCandidate.student_id)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(pairs)) or 0)
