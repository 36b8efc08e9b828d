"""疑似同一人审核: the queue of undecided candidates (services.comparisons.matching finds them), the decisions on them
(confirmed or rejected, remembered by the child's person_key across the list's versions), and their undoing by the
county. Each decision recomputes the child's ledger row and tasks (compare.refresh_person) in its transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.clock import china_time, now
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    AppUser,
    DeptList,
    DeptPerson,
    MatchCandidate,
    MatchDecision,
    School,
    SchoolClass,
    Student,
    Village,
)
from xueji.rules.class_code import parse_class_code
from xueji.rules.dept_lists import ListKind
from xueji.rules.masking import mask_id_number
from xueji.rules.name_match import Facts, differences
from xueji.rules.vocab import Role, ScopeKind, StudentStatus
from xueji.services.common import lock_keys
from xueji.services.common.access import deny, require, sees_full_identifiers
from xueji.services.common.refusals import audit_refusal
from xueji.services.comparisons import compare
from xueji.services.comparisons.matching import (
    candidate_condition,
    candidates,
    newer_version,
    search,
    undecided,
)
from xueji.sql import chunked

NOTE_MIN = 2
NOTE_MAX = 200


class MatchError(ValueError):
    """A decision that cannot be taken (already decided, no note where one is needed): nothing was written."""


# ---- the queue --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a pair as the reviewer sees it."""

    name: str
    sex: str | None
    birth_date: date | None
    id_number: str | None  # masked unless the role sees full numbers
    village: str | None
    where: str  # the list and its date, or the school and class
    status: str  # the registry status, or the list's category


@dataclass(frozen=True)
class QueueItem:
    candidate_id: int
    listed: Side
    registered: Side
    score: float
    reason: str
    differences: tuple[str, ...]
    lists: tuple[str, ...]  # the lists the child is on (a child on two lists is decided once)


def _status_label(value: str) -> str:
    try:
        return StudentStatus(value).label
    except ValueError:
        return value


def _class_name(code: str | None) -> str:
    if not code:
        return ""
    try:
        return parse_class_code(code).name
    except ValueError:
        return code


def review_queue(session: Session, *, actor: Actor, limit: int = 50, search: str = "") -> list[QueueItem]:
    """The undecided candidates in the actor's scope, oldest list first, each with both sides (ID numbers masked
    unless the role sees them), the score, the reason and what differs; narrowed by a name in either side."""
    require(session, actor, Action.MATCH_REVIEW)
    full = sees_full_identifiers(actor)
    home, lives = aliased(Village), aliased(Village)
    query = (
        candidates()
        .add_columns(
            MatchCandidate.student_id,
            MatchCandidate.score,
            MatchCandidate.reason,
            DeptPerson,
            DeptList.kind,
            DeptList.list_date,
            lives.name,
            Student.name,
            Student.sex,
            Student.birth_date,
            Student.id_number,
            Student.home_village_id,
            Student.status,
            home.name,
            School.name,
            SchoolClass.code,
        )
        .join(School, Student.school_id == School.id)
        .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(lives, DeptPerson.village_id == lives.id)
        .outerjoin(home, Student.home_village_id == home.id)
        .where(candidate_condition(actor), undecided())
        .order_by(DeptList.list_date, DeptList.id, DeptPerson.row_number, col(MatchCandidate.score).desc())
        .limit(limit * 2)
    )
    for word in search.split():
        query = query.where(
            or_(
                col(DeptPerson.name).contains(word, autoescape=True),
                col(Student.name).contains(word, autoescape=True),
            )
        )
    items: dict[tuple[str, int], QueueItem] = {}
    for row in session.execute(query):
        (cid, sid, score, reason, person, kind, list_date, village, name, sex, born, number, _, status, home_name,
         school, class_code) = row  # fmt: skip
        list_words = f"{ListKind(kind).label}({list_date.isoformat()})"
        key = (person.person_key, sid)
        if key in items:
            if list_words not in items[key].lists:
                items[key] = _with_list(items[key], list_words)
            continue
        listed = Facts(person.name, person.birth_date, person.sex, person.id_number, person.village_id)
        registered = Facts(name, born, sex, number, None)
        said = differences(listed, registered)
        if village and home_name and village != home_name:
            said.append(f"村:{village} / {home_name}")
        items[key] = QueueItem(
            candidate_id=cid,
            listed=Side(
                person.name,
                person.sex,
                person.birth_date,
                person.id_number if full else mask_id_number(person.id_number),
                village,
                list_words,
                person.category or "",
            ),
            registered=Side(
                name,
                sex,
                born,
                number if full else mask_id_number(number),
                home_name,
                " ".join(x for x in (school, _class_name(class_code)) if x),
                _status_label(status),
            ),
            score=score,
            reason=reason,
            differences=tuple(said),
            lists=(list_words,),
        )
        if len(items) >= limit:
            break
    return list(items.values())


def _with_list(item: QueueItem, words: str) -> QueueItem:
    return replace(item, lists=(*item.lists, words))


# ---- decisions --------------------------------------------------------------------------------------------------


def _side_facts(name: str, sex: str | None, born: date | None, number: str | None) -> dict[str, object]:
    return {"name": name, "sex": sex, "birth_date": born, "id_number": number}


def _refuse(session: Session, actor: Actor, action: str, entity_id: object, message: str) -> None:
    audit_refusal(
        session, actor, action=action, entity_type="match_candidate", entity_id=entity_id, message=message
    )
    raise MatchError(message)


def _who_when(session: Session, decision: MatchDecision) -> str:
    who = session.scalar(select(AppUser.display_name).where(AppUser.id == decision.decided_by)) or "系统"
    return f"{who}于{china_time(decision.decided_at)}"


@unit_of_work
def decide(
    session: Session, *, actor: Actor, candidate_id: int, confirmed: bool, note: str = ""
) -> MatchDecision:
    """Confirm (the same child) or reject a candidate, remembered for the county by (person_key, record): a
    confirmation needs a note saying what was checked, since it takes the child off the verification list; it
    also closes the person's other candidates. Audited with both sides; the child's ledger row and tasks are
    recomputed in the same transaction."""
    require(session, actor, Action.MATCH_REVIEW)
    write_lock(
        session, lock_keys.county(session, actor, "compare")
    )  # the county's decisions, ledger and tasks
    action = "match.confirm" if confirmed else "match.reject"
    found = session.execute(
        candidates()
        .with_only_columns(MatchCandidate, DeptPerson, DeptList, Student)
        .where(MatchCandidate.id == candidate_id, candidate_condition(actor))
    ).first()
    if found is None:
        deny(
            session,
            actor,
            action,
            "该疑似同一人记录不存在或不在您的管辖范围内",
            entity_type="match_candidate",
            entity_id=candidate_id,
        )
    pair, person, listed, student = found
    note = " ".join(note.split())
    if confirmed and len(note) < NOTE_MIN:
        _refuse(
            session,
            actor,
            action,
            candidate_id,
            "确认是同一人须写明核实依据(如:已核对户口簿、已电话联系监护人)",
        )
    if len(note) > NOTE_MAX:
        _refuse(session, actor, action, candidate_id, f"说明最多 {NOTE_MAX} 字")
    county = listed.county_id
    earlier = session.scalars(
        select(MatchDecision).where(
            MatchDecision.county_id == county,
            or_(
                MatchDecision.person_key == person.person_key,
                and_(MatchDecision.student_id == student.id, col(MatchDecision.confirmed).is_(True)),
            ),
        )
    ).all()
    for decision in earlier:
        if decision.person_key == person.person_key and decision.student_id == student.id:
            said = "是同一人" if decision.confirmed else "不是同一人"
            _refuse(
                session,
                actor,
                action,
                candidate_id,
                f"{person.name}与学籍记录{student.name}已由{_who_when(session, decision)}判定为{said},不能重复判定;"
                "如判定有误,请县教育局撤销该判定后重新审核",
            )
        if decision.confirmed and decision.person_key == person.person_key:
            _refuse(session, actor, action, candidate_id, f"{person.name}已确认为另一条学籍记录的同一人")
        if decision.confirmed:
            _refuse(session, actor, action, candidate_id, f"学籍记录{student.name}已确认为名单上另一人")
    decision = MatchDecision(
        county_id=county,
        person_key=person.person_key,
        student_id=int(student.id or 0),
        confirmed=confirmed,
        note=note,
        decided_by=actor.user_id,
        decided_at=now(),
    )
    session.add(decision)
    session.flush()
    record(
        session,
        actor=actor,
        action=action,
        entity_type="match_decision",
        entity_id=decision.id,
        after={
            "listed": _side_facts(person.name, person.sex, person.birth_date, person.id_number)
            | {"list": listed.kind, "version": listed.version},
            "registry": _side_facts(student.name, student.sex, student.birth_date, student.id_number)
            | {"student_id": student.id},
            "score": pair.score,
            "reason": pair.reason,
            "note": note,
        },
        detail=f"{'确认' if confirmed else '排除'}疑似同一人:{person.name} / {student.name}",
    )
    compare.refresh_person(session, actor=actor, county_id=county, person_key=person.person_key)
    session.commit()
    return decision


@unit_of_work
def undo_decision(session: Session, *, actor: Actor, decision_id: int, reason: str) -> None:
    """Take back a decision (the county officer only, with the reason): the pair goes back to the queue, and the
    child's ledger row and tasks are recomputed. Audited with what was decided."""
    require(session, actor, Action.MATCH_REVIEW)
    lock_keys.sqlite_first(session)
    county = session.scalar(select(MatchDecision.county_id).where(MatchDecision.id == decision_id))
    write_lock(session, f"county:{county}:compare")
    decision = session.get(MatchDecision, decision_id)
    if actor.role is not Role.COUNTY_OFFICER and actor.role is not Role.SYSTEM:
        deny(session, actor, "match.undo", "只有县教育局可以撤销疑似同一人的判定", entity_type="match_decision",
             entity_id=decision_id)  # fmt: skip
    if decision is None or (actor.role is Role.COUNTY_OFFICER and decision.county_id != actor.scope_id):
        deny(session, actor, "match.undo", "该判定不存在或不在您的管辖范围内", entity_type="match_decision",
             entity_id=decision_id)  # fmt: skip
    reason = " ".join(reason.split())
    if not NOTE_MIN <= len(reason) <= NOTE_MAX:
        audit_refusal(session, actor, action="match.undo", entity_type="match_decision", entity_id=decision_id,
                      message="撤销判定须写明原因(2 至 200 字)")  # fmt: skip
        raise MatchError("撤销判定须写明原因(2 至 200 字)")
    before = {
        "person_key": decision.person_key,
        "student_id": decision.student_id,
        "confirmed": decision.confirmed,
        "note": decision.note,
        "decided_by": decision.decided_by,
        "decided_at": decision.decided_at,
    }
    county, key, undone = decision.county_id, decision.person_key, decision.student_id
    session.delete(decision)
    session.flush()
    record(
        session,
        actor=actor,
        action="match.undo",
        entity_type="match_decision",
        entity_id=decision_id,
        before=before,
        detail=f"撤销疑似同一人判定:{reason}",
    )
    _search_again(session, county, key)
    compare.refresh_person(session, actor=actor, county_id=county, person_key=key, student_ids=[undone])
    session.commit()


def _search_again(session: Session, county_id: int, person_key: str) -> None:
    """Look for the person's candidates again in each list in effect that names them (after an undo)."""
    for list_id, person_id in session.execute(
        select(DeptPerson.list_id, DeptPerson.id)
        .join(DeptList, DeptPerson.list_id == DeptList.id)
        .where(DeptList.county_id == county_id, DeptPerson.person_key == person_key, ~newer_version())
    ):
        search(session, county_id, list_id, [person_id])


@dataclass(frozen=True)
class DecisionRow:
    decision_id: int
    listed: str  # the listed child's name
    registered: str  # the record's name and school
    confirmed: bool
    note: str
    decided_by: str
    decided_at: datetime


def decisions(session: Session, *, actor: Actor, limit: int = 100) -> list[DecisionRow]:
    """The decisions in the actor's scope, newest first."""
    require(session, actor, Action.MATCH_REVIEW)
    if actor.scope_kind is ScopeKind.COUNTY:
        scope: ColumnElement[bool] = col(MatchDecision.county_id) == actor.scope_id
    elif actor.scope_kind is ScopeKind.TOWNSHIP:
        rows = (
            select(DeptPerson.id)
            .join(DeptList, DeptPerson.list_id == DeptList.id)
            .where(
                DeptList.county_id == MatchDecision.county_id,
                DeptPerson.person_key == MatchDecision.person_key,
            )
        )
        villages = select(Village.id).where(Village.township_id == actor.scope_id)
        scope = or_(
            exists(rows.where(col(DeptPerson.village_id).in_(villages))),
            and_(
                ~exists(rows.where(col(DeptPerson.village_id).is_not(None))),
                col(Student.school_id).in_(select(School.id).where(School.township_id == actor.scope_id)),
            ),
        )
    else:
        scope = false()
    found = session.execute(
        select(MatchDecision, Student.name, School.name, AppUser.display_name)
        .join(Student, MatchDecision.student_id == Student.id)
        .join(School, Student.school_id == School.id)
        .outerjoin(AppUser, MatchDecision.decided_by == AppUser.id)
        .where(scope)
        .order_by(col(MatchDecision.decided_at).desc(), col(MatchDecision.id).desc())
        .limit(limit)
    ).all()
    names = _listed_names(session, [(d.county_id, d.person_key) for d, *_ in found])
    return [
        DecisionRow(
            int(d.id or 0),
            names.get(d.person_key, ""),
            f"{name}({school})",
            d.confirmed,
            d.note,
            who or "系统",
            d.decided_at,
        )
        for d, name, school, who in found
    ]


def _listed_names(session: Session, keys: list[tuple[int, str]]) -> dict[str, str]:
    """person_key → the name on the newest list row that carries it."""
    names: dict[str, str] = {}
    for part in chunked({k for _, k in keys}):
        for key, name in session.execute(
            select(DeptPerson.person_key, DeptPerson.name)
            .join(DeptList, DeptPerson.list_id == DeptList.id)
            .where(col(DeptPerson.person_key).in_(part), col(DeptList.county_id).in_({c for c, _ in keys}))
            .order_by(DeptList.list_date, DeptList.id)
        ):
            names[key] = name
    return names
