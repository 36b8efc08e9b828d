"""Special groups from their sources: a child on the 民政 (孤儿, 事实无人抚养, 困境) or 残联 (残疾) list in effect
gets that category on their child record (ChildGroup, replaced with each version of the list) and a case of it
when none is open. The child is placed by their registry record (exact ID number, or a confirmed decision),
else by the household register (for the township and village); one placed nowhere is 未能定位, listed for the
county officer, with no case."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, delete, exists, insert, literal, select
from sqlmodel import Session, col

from xueji.auth import Actor
from xueji.models import Case, Child, ChildGroup, DeptList, DeptPerson, Student, Township, Village
from xueji.rules.cases import CaseCategory, CaseSource, CaseStatus
from xueji.rules.dept_lists import WELFARE_CATEGORIES, ListKind
from xueji.services.cases.opening import (
    PersonFacts,
    audit_opened,
    child_for_person,
    open_child_case,
    open_for_students,
)
from xueji.services.comparisons import matching
from xueji.services.comparisons.in_effect import county_children, school_age_reference
from xueji.sql import chunked

GROUP_LISTS: dict[ListKind, CaseSource] = {
    ListKind.WELFARE: CaseSource.WELFARE,
    ListKind.DISABLED: CaseSource.DISABLED_LIST,
}


def category_of(kind: ListKind, words: str | None) -> CaseCategory | None:
    """The case category a list's row gives: 残联's any disability; 民政's by its 类别 (None: not a group)."""
    if kind is ListKind.DISABLED:
        return CaseCategory.DISABLED
    value = WELFARE_CATEGORIES.get((words or "").strip())
    return CaseCategory(value) if value else None


def _words(person: DeptPerson) -> str:
    """What the list says of the child: 事实无人抚养儿童, 肢体二级 (the import keeps the grade as 残疾等级)."""
    grade = str((person.detail or {}).get("残疾等级") or "")
    return f"{person.category or ''}{grade}"[:100]


@dataclass(frozen=True)
class Placed:
    """A listed person and where the county finds them: a registry record, or a person on the register."""

    person: DeptPerson
    category: CaseCategory
    student_id: int | None
    resident: DeptPerson | None
    township_id: int | None


def place(
    session: Session, *, county_id: int, kind: ListKind, listed: DeptList, register: DeptList | None
) -> list[Placed]:
    """Each person of a group list with a category, placed by registry record or register (see the module)."""
    persons = [
        (p, c)
        for p in session.scalars(
            select(DeptPerson).where(DeptPerson.list_id == listed.id).order_by(DeptPerson.row_number)
        )
        if (c := category_of(kind, p.category)) is not None
    ]
    window = school_age_reference()[1]
    numbers = [p.id_number for p, _ in persons if p.id_number]
    by_number: dict[str, int] = {}
    residents: dict[str, tuple[DeptPerson, int]] = {}
    for part in chunked(numbers):
        by_number.update(
            session.execute(
                select(Student.id_number, Student.id).where(
                    col(Student.id_number).in_(part), col(Student.id).in_(county_children(county_id, window))
                )
            ).all()
        )
        if register is not None:
            for resident, township in session.execute(
                select(DeptPerson, Village.township_id)
                .join(Village, DeptPerson.village_id == Village.id)
                .where(
                    DeptPerson.list_id == register.id,
                    col(DeptPerson.id_number).in_(part),
                    col(DeptPerson.birth_date).between(*window),
                )
            ):
                residents[resident.id_number or ""] = (resident, township)
    confirmed = matching.confirmed_pairs(session, county_id=county_id)
    counted = _counted(session, county_id, window, set(confirmed.values()))
    placed = []
    for person, category in persons:
        chosen = confirmed.get(person.person_key)
        student = by_number.get(person.id_number or "") or (chosen if chosen in counted else None)
        resident, township = residents.get(person.id_number or "", (None, None))
        placed.append(Placed(person, category, student, resident if student is None else None, township))
    return placed


def _counted(session: Session, county_id: int, window: tuple[date, date], students: set[int]) -> set[int]:
    """Those of these records the ledger counts (see in_effect.county_children)."""
    children = county_children(county_id, window)
    return {
        sid
        for part in chunked(students)
        for sid in session.scalars(children.where(col(Student.id).in_(part)))
    }


def _closed_since(category: CaseCategory, source: CaseSource, since: date):  # noqa: ANN202 - EXISTS on Child
    """A case of this category from this list closed since the list's version came in: not opened again until a
    newer version names the child."""
    return exists(
        select(Case.id).where(
            Case.child_id == Child.id,
            Case.category == category.value,
            Case.source == source.value,
            Case.status == CaseStatus.CLOSED.value,
            col(Case.closed_on) >= since,
        )
    )


def apply_groups(
    session: Session, *, actor: Actor, county_id: int, lists: dict[ListKind, DeptList]
) -> dict[str, int]:
    """Replace the county's groups from the 民政 and 残联 lists in effect and open their cases; the caller holds
    the audit lock and commits. Returns the children grouped, cases opened and persons placed nowhere."""
    counts = {"grouped": 0, "opened": 0, "unplaced": 0}
    county_children = (
        select(Child.id)
        .join(Township, Child.township_id == Township.id)
        .where(Township.county_id == county_id)
    )
    register = lists.get(ListKind.RESIDENTS)
    for kind, source in GROUP_LISTS.items():
        session.execute(
            delete(ChildGroup).where(
                ChildGroup.source == kind.value, col(ChildGroup.child_id).in_(county_children)
            )
        )
        listed = lists.get(kind)
        if listed is None:
            continue
        since = listed.imported_at.date()
        opened: Counter[CaseCategory] = Counter()
        placed = place(session, county_id=county_id, kind=kind, listed=listed, register=register)
        groups: dict[tuple[int, str], dict] = {}
        by_category: dict[CaseCategory, set[int]] = {}
        for item in placed:
            if item.student_id is not None:
                by_category.setdefault(item.category, set()).add(item.student_id)
        for category, students in by_category.items():
            for part in chunked(sorted(students)):
                ids = select(Student.id).where(
                    col(Student.id).in_(part),
                    ~exists(
                        select(Child.id).where(
                            Child.student_id == Student.id, _closed_since(category, source, since)
                        )
                    ),
                )
                opened[category] += open_for_students(
                    session, actor, category, ids, source, f"{kind.label}:{category.label}"
                )
        child_of: dict[int | None, int] = (
            dict(
                session.execute(
                    select(Child.student_id, Child.id).where(
                        col(Child.student_id).in_([i.student_id for i in placed if i.student_id is not None])
                    )
                ).all()
            )
            if by_category
            else {}
        )
        for item in placed:
            child_id = child_of.get(item.student_id) if item.student_id is not None else None
            if child_id is None and item.resident is not None and item.township_id is not None:
                child_id = _resident_child(session, actor, item, source, since, opened)
            if child_id is None:
                counts["unplaced"] += 1
                continue
            groups.setdefault(
                (child_id, item.category.value),
                {
                    "child_id": child_id,
                    "category": item.category.value,
                    "source": kind.value,
                    "list_id": listed.id,
                    "detail": _words(item.person),
                },
            )
        if groups:
            session.execute(insert(ChildGroup), list(groups.values()))
        counts["grouped"] += len(groups)
        counts["opened"] += sum(opened.values())
        audit_opened(session, actor, source, opened)
    return counts


def _resident_child(
    session: Session,
    actor: Actor,
    item: Placed,
    source: CaseSource,
    since: date,
    opened: Counter[CaseCategory],
) -> int:
    """The Child of a listed person found on the register only, with their case (opened once)."""
    resident = item.resident
    assert resident is not None and item.township_id is not None
    person = PersonFacts(
        name=resident.name,
        township_id=item.township_id,
        birth_date=resident.birth_date,
        sex=resident.sex,
        id_number=resident.id_number,
        village_id=resident.village_id,
        address=resident.address,
        guardian_name=resident.guardian_name,
        guardian_phone=resident.guardian_phone,
    )
    child = child_for_person(session, person, reference=school_age_reference()[0])
    assert child.id is not None
    closed = session.scalar(
        select(literal(True)).where(and_(Child.id == child.id, _closed_since(item.category, source, since)))
    )
    if not closed:
        _, now_opened = open_child_case(
            session,
            actor,
            child,
            item.category,
            source,
            f"{source.label}:{item.category.label}",
            disability_type=item.person.category,
        )
        opened[item.category] += int(now_opened)
    return child.id


def unplaced(
    session: Session, *, county_id: int, lists: dict[ListKind, DeptList]
) -> list[tuple[ListKind, DeptPerson]]:
    """The persons of the 民政 and 残联 lists in effect the county cannot place (未能定位): no registry record,
    not on the register."""
    register = lists.get(ListKind.RESIDENTS)
    found = []
    for kind in GROUP_LISTS:
        if kind in lists:
            found += [
                (kind, p.person)
                for p in place(session, county_id=county_id, kind=kind, listed=lists[kind], register=register)
                if p.student_id is None and p.resident is None
            ]
    return found
