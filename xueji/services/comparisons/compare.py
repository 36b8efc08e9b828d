"""三比对 for a county: the household register (户籍) against the registry (学籍), in SQL; the ledger of every
school-age child (适龄儿童台账) rebuilt from all the sources (register, registry, sweep, the departments' lists);
then the special groups (groups.apply_groups) and the verification tasks (tasks.sync_tasks). The decisions are
rules.comparisons'; the set-based statements here mirror them from the same tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlmodel import Session, col

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.db import unit_of_work
from xueji.locks import write_lock
from xueji.models import (
    Case,
    Child,
    ComparisonRun,
    DeptList,
    DeptPerson,
    MatchDecision,
    School,
    SchoolAgeChild,
    Student,
    Sweep,
    SweepChild,
    SweepVillage,
    Township,
    VerificationTask,
    Village,
)
from xueji.rules.cases import CaseStatus
from xueji.rules.comparisons import (
    CASE_STANDING,
    LEDGER_STATUSES,
    MATCHED_OUTCOME,
    REGISTRY_STANDING,
    Outcome,
    Standing,
    TaskKind,
    dedupe_key,
    joined_sources,
    listed_outcome,
    standing_of,
)
from xueji.rules.dept_lists import WELFARE_CATEGORIES, ListKind, person_key
from xueji.services.common import lock_keys
from xueji.services.common.access import require
from xueji.services.common.calendar import this_terms_sweeps
from xueji.services.comparisons import groups, matching, tasks, versions
from xueji.services.comparisons.in_effect import county_schools, lists_in_effect, school_age_reference
from xueji.sql import chunked

SAC = SchoolAgeChild
_SAC = SchoolAgeChild.__table__  # type: ignore[attr-defined]  # Core updates with bound parameters (executemany)
_OTHER_LISTS = (ListKind.WELFARE, ListKind.DISABLED, ListKind.HOUSEHOLDS)


@dataclass
class _Run:
    """One rebuild: the county, the birth window, the lists in effect, and which ledger rows it touches."""

    county_id: int
    window: tuple[date, date]
    lists: dict[ListKind, DeptList]
    rows: ColumnElement[bool]  # a WHERE on SchoolAgeChild: all the county's, or one person's
    persons: ColumnElement[bool]  # a WHERE on DeptPerson of the register
    students: ColumnElement[bool]  # a WHERE on Student

    def of_age(self, column: object) -> ColumnElement[bool]:
        return col(column).between(*self.window)


def _registry_standing() -> ColumnElement[str]:
    return case(
        *((Student.status == status, literal(s.value)) for status, s in REGISTRY_STANDING.items()),
        else_=literal(Standing.UNKNOWN.value),
    )


def _listed_outcome(home_township: ColumnElement[int]) -> ColumnElement[str]:
    """rules.comparisons.listed_outcome in SQL, for a register row outer-joined to Student and School."""
    others = [
        (Student.status == s, literal(o.value))
        for s, o in MATCHED_OUTCOME.items()
        if o is not Outcome.IN_SCHOOL
    ]
    in_school = case(
        (School.township_id == home_township, literal(Outcome.IN_SCHOOL.value)),
        else_=literal(Outcome.SEPARATED.value),
    )
    return case((col(Student.id).is_(None), literal(Outcome.NOT_ENROLLED.value)), *others, else_=in_school)


_COLUMNS = [
    "county_id",
    "township_id",
    "village_id",
    "person_key",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "student_id",
    "school_id",
    "sources",
    "standing",
    "outcome",
    "priority",
    "groups",
]


def _insert_register(session: Session, run: _Run, register: DeptList) -> None:
    """Every child of age on the register, matched by exact ID number to the county's registry (one join)."""
    matched = col(Student.id).is_not(None)
    rows = (
        select(  # type: ignore[misc]  # mypy gives up on the overloads of a 15-column select
            literal(run.county_id),
            Village.township_id,
            DeptPerson.village_id,
            DeptPerson.person_key,
            DeptPerson.name,
            DeptPerson.sex,
            DeptPerson.birth_date,
            DeptPerson.id_number,
            Student.id,
            Student.school_id,
            case((matched, literal("residents,registry")), else_=literal("residents")),
            case((matched, _registry_standing()), else_=literal(Standing.TO_VERIFY.value)),
            _listed_outcome(Village.township_id),
            null(),
            literal(""),
        )
        .select_from(DeptPerson)
        .outerjoin(Village, DeptPerson.village_id == Village.id)
        .outerjoin(
            Student,
            and_(
                Student.id_number == DeptPerson.id_number,
                col(Student.merged_into_id).is_(None),
                col(Student.school_id).in_(county_schools(run.county_id)),
            ),
        )
        .outerjoin(School, Student.school_id == School.id)
        .where(DeptPerson.list_id == register.id, run.of_age(DeptPerson.birth_date), run.persons)
    )
    session.execute(insert(SAC).from_select(_COLUMNS, rows))


def _settle_unmatched(session: Session, actor: Actor, run: _Run, register: DeptList) -> None:
    """The register's children with no exact match: a confirmed decision gives their record (and the record's ID
    number, so that the other lists and the sweep, which carry the true number, attach to this one row);
    otherwise a candidate record awaits review (pending); otherwise they stay not enrolled."""
    unmatched = session.execute(
        select(SAC.id, SAC.person_key, DeptPerson.id, Village.township_id)
        .join(DeptPerson, and_(DeptPerson.list_id == register.id, DeptPerson.person_key == SAC.person_key))
        .outerjoin(Village, DeptPerson.village_id == Village.id)
        .where(SAC.county_id == run.county_id, SAC.outcome == Outcome.NOT_ENROLLED.value, run.rows)
    ).all()
    if not unmatched:
        return
    confirmed = matching.confirmed_pairs(session, county_id=run.county_id)
    chosen = {key: confirmed[key] for _, key, _, _ in unmatched if key in confirmed}
    facts = {
        sid: (status, school, township, number)
        for part in chunked(set(chosen.values()))
        for sid, status, school, township, number in session.execute(
            select(Student.id, Student.status, Student.school_id, School.township_id, Student.id_number)
            .join(School, Student.school_id == School.id)
            .where(col(Student.id).in_(part), col(Student.merged_into_id).is_(None))
        )
    }
    settled = []
    for row_id, key, _, home in unmatched:
        sid = chosen.get(key)
        if sid in facts:
            status, school, township, number = facts[sid]
            settled.append(
                {
                    "row": row_id,
                    "student_id": sid,
                    "id_number": number,
                    "school_id": school,
                    "sources": "residents,registry",
                    "standing": standing_of(status=status).value,
                    "outcome": listed_outcome(
                        status=status, school_township=township, home_township=home
                    ).value,
                }
            )
    if settled:
        session.execute(
            update(_SAC)
            .where(_SAC.c.id == bindparam("row"))
            .values(
                student_id=bindparam("student_id"),
                id_number=func.coalesce(bindparam("id_number", type_=String), _SAC.c.id_number),
                school_id=bindparam("school_id"),
                sources=bindparam("sources"),
                standing=bindparam("standing"),
                outcome=bindparam("outcome"),
            ),
            settled,
        )
    done = {s["row"] for s in settled}
    rest = [(row_id, person) for row_id, _, person, _ in unmatched if row_id not in done]
    pending = matching.refresh_candidates(
        session, county_id=run.county_id, list_id=int(register.id or 0), person_ids=[p for _, p in rest]
    )
    rows = [r for r, p in rest if p in pending]
    for part in chunked(rows):
        session.execute(update(SAC).where(col(SAC.id).in_(part)).values(outcome=Outcome.PENDING_REVIEW.value))


def _insert_registry(session: Session, run: _Run, register: bool) -> None:
    """The county's registry children of age the register did not bring (随迁 when there is a register), in the
    township of their home village when the county knows it, else of their school."""
    townships = select(Township.id).where(Township.county_id == run.county_id)
    key = case(
        (col(Student.id_number).is_not(None), func.upper(Student.id_number)),
        else_=Student.name + literal("|") + cast(Student.birth_date, String),
    )
    if register:
        outcome: ColumnElement = case(
            (Student.status == "dropped_out", literal(Outcome.DROPPED_OUT.value)),
            else_=literal(Outcome.MIGRANT.value),
        )
    else:
        outcome = null()
    rows = (
        select(
            literal(run.county_id),
            func.coalesce(Village.township_id, School.township_id),
            Student.home_village_id,
            key,
            Student.name,
            Student.sex,
            Student.birth_date,
            Student.id_number,
            Student.id,
            Student.school_id,
            literal("registry"),
            _registry_standing(),
            outcome,
            null(),
            literal(""),
        )
        .join(School, Student.school_id == School.id)
        .outerjoin(
            Village, and_(Student.home_village_id == Village.id, col(Village.township_id).in_(townships))
        )
        .where(
            col(School.township_id).in_(townships),
            col(Student.merged_into_id).is_(None),
            col(Student.status).in_(LEDGER_STATUSES),
            run.of_age(Student.birth_date),
            run.students,
            ~exists(select(SAC.id).where(SAC.county_id == run.county_id, SAC.student_id == Student.id)),
        )
    )
    session.execute(insert(SAC).from_select(_COLUMNS, rows))


def _sweep_children(county_id: int):  # noqa: ANN202 - a select
    """This term's sweep children of the county: (child, village id, township id)."""
    return (
        select(SweepChild, SweepVillage.village_id, Sweep.township_id)
        .join(SweepVillage, SweepChild.sweep_village_id == SweepVillage.id)
        .join(Sweep, SweepVillage.sweep_id == Sweep.id)
        .join(Township, Sweep.township_id == Township.id)
        .where(Township.county_id == county_id, this_terms_sweeps())
    )


def _same_sweep_child(county_id: int) -> ColumnElement[bool]:
    """A ledger row that is one of this term's sweep children: by record, ID number, or (no ID) name, birth date
    and village. IN (subquery) throughout: the database builds each set once."""
    swept = (
        select(SweepChild.id)
        .join(SweepVillage, SweepChild.sweep_village_id == SweepVillage.id)
        .join(Sweep, SweepVillage.sweep_id == Sweep.id)
        .join(Township, Sweep.township_id == Township.id)
        .where(Township.county_id == county_id, this_terms_sweeps())
    )
    return or_(
        col(SAC.student_id).in_(
            swept.with_only_columns(SweepChild.student_id).where(col(SweepChild.student_id).is_not(None))
        ),
        col(SAC.id_number).in_(
            swept.with_only_columns(SweepChild.id_number).where(col(SweepChild.id_number).is_not(None))
        ),
        tuple_(SAC.name, SAC.birth_date, SAC.village_id).in_(
            swept.with_only_columns(SweepChild.name, SweepChild.birth_date, SweepVillage.village_id).where(
                col(SweepChild.id_number).is_(None)
            )
        ),
    )


def _add_source(session: Session, run: _Run, source: str, condition: ColumnElement[bool]) -> None:
    session.execute(
        update(SAC)
        .where(SAC.county_id == run.county_id, run.rows, condition)
        .values(sources=SAC.sources + literal("," + source))
        .execution_options(synchronize_session=False)
    )


def _listed_numbers(list_id: int):  # noqa: ANN202 - a select of ID numbers
    return select(DeptPerson.id_number).where(
        DeptPerson.list_id == list_id, col(DeptPerson.id_number).is_not(None)
    )


def _mark_sources(session: Session, run: _Run) -> None:
    """Add sweep and the departments' lists to the sources of the rows already in the ledger."""
    _add_source(session, run, "sweep", _same_sweep_child(run.county_id))
    for kind in _OTHER_LISTS:
        if kind in run.lists:
            numbers = _listed_numbers(int(run.lists[kind].id or 0))
            _add_source(session, run, kind.value, col(SAC.id_number).in_(numbers))


def _insert_others(session: Session, run: _Run) -> int:
    """The children of age known only to the sweep or to the departments' lists: one row each (deduplicated
    by ID number, else name, birth date and village), with all their sources."""
    numbers = select(SAC.id_number).where(SAC.county_id == run.county_id, col(SAC.id_number).is_not(None))
    found: dict[tuple[str, ...], dict] = {}
    sweep_rows = session.execute(
        _sweep_children(run.county_id)
        .where(run.of_age(SweepChild.birth_date), ~_sweep_known(run.county_id))
        .order_by(SweepChild.id)
    )
    for child, village, township in sweep_rows:
        key = dedupe_key(
            id_number=child.id_number, name=child.name, birth_date=child.birth_date, village_id=village
        )
        row = found.setdefault(
            key,
            _row(
                run.county_id,
                township,
                village,
                child.name,
                child.sex,
                child.birth_date,
                child.id_number,
                standing_of(status=None, sweep_status=child.status),
            ),
        )
        row["_sources"].add("sweep")
    for kind in _OTHER_LISTS:
        if kind not in run.lists:
            continue
        persons = session.execute(
            select(DeptPerson, Village.township_id)
            .outerjoin(Village, DeptPerson.village_id == Village.id)
            .where(
                DeptPerson.list_id == run.lists[kind].id,
                run.of_age(DeptPerson.birth_date),
                ~func.coalesce(DeptPerson.id_number, "").in_(numbers),
            )
            .order_by(DeptPerson.row_number)
        )
        for person, township in persons:
            key = dedupe_key(
                id_number=person.id_number,
                name=person.name,
                birth_date=person.birth_date,
                village_id=person.village_id,
            )
            row = found.setdefault(
                key,
                _row(
                    run.county_id,
                    township,
                    person.village_id,
                    person.name,
                    person.sex,
                    person.birth_date,
                    person.id_number,
                    Standing.UNKNOWN,
                ),
            )
            row["_sources"].add(kind.value)
    rows = [
        {**{k: v for k, v in r.items() if k != "_sources"}, "sources": joined_sources(r["_sources"])}
        for r in found.values()
    ]
    if rows:
        session.execute(insert(SAC), rows)
    return len(rows)


def _sweep_known(county_id: int) -> ColumnElement[bool]:
    """A sweep child already in the ledger (the mirror of _same_sweep_child; NULLs never match)."""
    ledger = select(SAC.id).where(SAC.county_id == county_id)
    return or_(
        func.coalesce(SweepChild.student_id, -1).in_(
            ledger.with_only_columns(SAC.student_id).where(col(SAC.student_id).is_not(None))
        ),
        func.coalesce(SweepChild.id_number, "").in_(
            ledger.with_only_columns(SAC.id_number).where(col(SAC.id_number).is_not(None))
        ),
        and_(
            col(SweepChild.id_number).is_(None),
            tuple_(SweepChild.name, SweepChild.birth_date, SweepVillage.village_id).in_(
                ledger.with_only_columns(SAC.name, SAC.birth_date, SAC.village_id).where(
                    col(SAC.village_id).is_not(None), col(SAC.birth_date).is_not(None)
                )
            ),
        ),
    )


def _row(
    county_id: int,
    township: int | None,
    village: int | None,
    name: str,
    sex: str | None,
    born: date | None,
    number: str | None,
    standing: Standing,
) -> dict:
    return {
        "county_id": county_id,
        "township_id": township,
        "village_id": village,
        "person_key": person_key(id_number=number, name=name, birth_date=born),
        "name": name,
        "sex": sex,
        "birth_date": born,
        "id_number": number,
        "student_id": None,
        "school_id": None,
        "standing": standing.value,
        "outcome": None,
        "priority": None,
        "groups": "",
        "_sources": set(),
    }


def _set_priority_and_groups(session: Session, run: _Run) -> None:
    """priority: the household type on the 乡村振兴 list; groups: the categories the 民政 and 残联 lists give."""
    households = run.lists.get(ListKind.HOUSEHOLDS)
    if households is not None:
        household_type = (
            select(func.max(DeptPerson.category))
            .where(DeptPerson.list_id == households.id, DeptPerson.id_number == SAC.id_number)
            .scalar_subquery()
        )
        session.execute(
            update(SAC)
            .where(
                SAC.county_id == run.county_id,
                run.rows,
                col(SAC.id_number).in_(_listed_numbers(int(households.id or 0))),
            )
            .values(priority=household_type)
            .execution_options(synchronize_session=False)
        )
    named: dict[str, set[str]] = {}
    for kind in (ListKind.WELFARE, ListKind.DISABLED):
        if kind not in run.lists:
            continue
        for number, category in session.execute(
            select(DeptPerson.id_number, DeptPerson.category).where(
                DeptPerson.list_id == run.lists[kind].id, col(DeptPerson.id_number).is_not(None)
            )
        ):
            group = (
                "disabled" if kind is ListKind.DISABLED else WELFARE_CATEGORIES.get((category or "").strip())
            )
            if group:
                named.setdefault(number, set()).add(group)
    _by_row(session, run, SAC.id_number, {n: ",".join(sorted(g)) for n, g in named.items()}, "groups")


def _by_row(session: Session, run: _Run, column: object, values: dict[str, str], target: str) -> None:
    """Set a column of the ledger rows whose `column` (ID number, person key) has a value here: the rows found by
    IN lists, then updated by id (the ledger has no index on these columns)."""
    if not values:
        return
    changes = [
        {"row": row_id, "value": values[key]}
        for part in chunked(values)
        for row_id, key in session.execute(
            select(SAC.id, column).where(SAC.county_id == run.county_id, run.rows, col(column).in_(part))
        )
    ]
    if changes:
        session.execute(
            update(_SAC).where(_SAC.c.id == bindparam("row")).values({target: bindparam("value")}), changes
        )


def _set_standing(session: Session, run: _Run) -> None:
    """The township's latest finding for a child with no record, then the open cases (the closer look)."""
    latest: dict[str, str] = {}
    for key, outcome in session.execute(
        select(VerificationTask.person_key, VerificationTask.outcome)
        .where(
            VerificationTask.county_id == run.county_id,
            VerificationTask.kind == TaskKind.VERIFY.value,
            col(VerificationTask.outcome).is_not(None),
        )
        .order_by(VerificationTask.recorded_at, VerificationTask.id)
    ):
        latest[key] = outcome
    standings = {k: standing_of(status=None, task_outcome=o).value for k, o in latest.items()}
    run_without_record = _Run(
        run.county_id,
        run.window,
        run.lists,
        and_(run.rows, col(SAC.student_id).is_(None)),
        run.persons,
        run.students,
    )
    _by_row(session, run_without_record, SAC.person_key, standings, "standing")
    # one pass over the ledger: each row takes the standing of the strongest of its open cases (the last listed)
    cases = []
    for category, standing in reversed(CASE_STANDING):
        open_case = (
            select(Child.student_id, Child.id_number)
            .join(Case, Case.child_id == Child.id)
            .where(Case.category == category, Case.status != CaseStatus.CLOSED.value)
        )
        has = or_(
            col(SAC.student_id).in_(
                open_case.with_only_columns(Child.student_id).where(col(Child.student_id).is_not(None))
            ),
            col(SAC.id_number).in_(
                open_case.with_only_columns(Child.id_number).where(col(Child.id_number).is_not(None))
            ),
        )
        cases.append((has, literal(standing.value)))
    any_case = (
        select(Child.student_id)
        .join(Case, Case.child_id == Child.id)
        .where(col(Case.category).in_([c for c, _ in CASE_STANDING]), Case.status != CaseStatus.CLOSED.value)
    )
    session.execute(
        update(SAC)
        .where(
            SAC.county_id == run.county_id,
            run.rows,
            or_(
                col(SAC.student_id).in_(any_case.where(col(Child.student_id).is_not(None))),
                col(SAC.id_number).in_(
                    any_case.with_only_columns(Child.id_number).where(col(Child.id_number).is_not(None))
                ),
            ),
        )
        .values(standing=case(*cases, else_=SAC.standing))
        .execution_options(synchronize_session=False)
    )


def _rebuild(session: Session, actor: Actor, run: _Run) -> None:
    register = run.lists.get(ListKind.RESIDENTS)
    if register is not None:
        _insert_register(session, run, register)
        _settle_unmatched(session, actor, run, register)
    _insert_registry(session, run, register is not None)
    _mark_sources(session, run)


def _search_group_lists(session: Session, run: _Run) -> None:
    """The children of age on the 民政 and 残联 lists whom no registry record of the county carries by ID number:
    their candidates go to the review queue, as the register's do (a confirmed decision places them)."""
    for kind in (ListKind.WELFARE, ListKind.DISABLED):
        listed = run.lists.get(kind)
        if listed is None:
            continue
        open_persons = list(
            session.scalars(
                select(DeptPerson.id).where(
                    DeptPerson.list_id == listed.id,
                    run.of_age(DeptPerson.birth_date),
                    ~exists(
                        select(Student.id).where(
                            Student.id_number == DeptPerson.id_number,
                            col(Student.merged_into_id).is_(None),
                            col(Student.school_id).in_(county_schools(run.county_id)),
                        )
                    ),
                )
            )
        )
        matching.refresh_candidates(
            session, county_id=run.county_id, list_id=int(listed.id or 0), person_ids=open_persons
        )


def _counts(session: Session, county_id: int) -> dict[str, int]:
    """The ledger's children, each outcome, and those to verify: one pass."""
    counts = {o.value: 0 for o in Outcome} | {"children": 0, "to_verify": 0}
    verify = SAC.standing == Standing.TO_VERIFY.value
    for outcome, waiting, n in session.execute(
        select(SAC.outcome, verify, func.count())
        .where(SAC.county_id == county_id)
        .group_by(SAC.outcome, verify)
    ):
        counts["children"] += n
        counts["to_verify"] += n if waiting else 0
        if outcome is not None:
            counts[outcome] += n
    return counts


def run_comparison_in(session: Session, *, actor: Actor, county_id: int) -> dict[str, int]:
    """Compare the county's lists in effect with the registry and rebuild its ledger; the caller holds the
    transaction (and the audit lock) and commits. Returns counts by outcome."""
    reference, window = school_age_reference()
    lists = lists_in_effect(session, county_id)
    run = _Run(county_id, window, lists, true(), true(), true())
    session.execute(delete(SAC).where(SAC.county_id == county_id))
    _rebuild(session, actor, run)
    _search_group_lists(session, run)
    _insert_others(session, run)
    _set_priority_and_groups(session, run)
    _set_standing(session, run)
    counts = _counts(session, county_id)
    counts.update(
        {
            f"group_{k}": v
            for k, v in groups.apply_groups(session, actor=actor, county_id=county_id, lists=lists).items()
        }
    )
    counts.update(
        {f"task_{k}": v for k, v in tasks.sync_tasks(session, actor=actor, county_id=county_id).items()}
    )
    session.add(
        ComparisonRun(
            county_id=county_id,
            reference_date=reference,
            lists={k.value: d.id for k, d in lists.items()},
            counts=counts,
            ran_by=actor.user_id,
        )
    )
    session.flush()
    return counts


def refresh_person(
    session: Session,
    *,
    actor: Actor,
    county_id: int,
    person_key: str,
    student_ids: Iterable[int] = (),
) -> None:
    """Recompute one listed child's ledger rows and tasks after a match decision; the caller commits. The
    records of the person's decisions are recomputed with them, and `student_ids` too (the record of a decision
    just undone, which goes back into the ledger as a row of its own)."""
    _, window = school_age_reference()
    lists = lists_in_effect(session, county_id)
    students = set(student_ids) | set(
        session.scalars(
            select(MatchDecision.student_id).where(
                MatchDecision.county_id == county_id, MatchDecision.person_key == person_key
            )
        )
    )
    touched = or_(SAC.person_key == person_key, col(SAC.student_id).in_(students))
    numbers = {
        n for n in session.scalars(select(SAC.id_number).where(SAC.county_id == county_id, touched)) if n
    } | {n for n in session.scalars(select(Student.id_number).where(col(Student.id).in_(students))) if n}
    session.execute(delete(SAC).where(SAC.county_id == county_id, touched))
    rows = or_(touched, col(SAC.id_number).in_(numbers)) if numbers else touched
    run = _Run(
        county_id,
        window,
        lists,
        rows,
        DeptPerson.person_key == person_key,
        col(Student.id).in_(students),
    )
    _rebuild(session, actor, run)
    _set_priority_and_groups(session, run)
    _set_standing(session, run)
    tasks.sync_tasks(session, actor=actor, county_id=county_id)
    session.flush()


@unit_of_work
def run_comparison(session: Session, *, actor: Actor) -> dict[str, int]:
    """Run the county's comparison now (重新比对, `xueji compare`); audited with its counts."""
    require(session, actor, Action.LISTS_IMPORT)
    lock_keys.sqlite_first(session)
    county_id = versions.officer_county(session, actor)
    write_lock(session, f"county:{county_id}:compare")  # the county's comparison, its decisions and tasks
    counts = run_comparison_in(session, actor=actor, county_id=county_id)
    record(
        session,
        actor=actor,
        action="compare",
        entity_type="county",
        entity_id=county_id,
        after=counts,
        detail="运行四查三比对",
    )
    session.commit()
    return counts
