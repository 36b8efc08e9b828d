"""The keys writers lock (xueji.locks.write_lock): what each invariant is guarded by, named in one place.

    student:<id>            a registry student: one open status change, their status, class and Child row,
                            their cases and visits (a child with a record is locked as the student)
    child:<id>              a followed child with no registry record: their cases and visits
    class:<id>              a class: its size (大班额), its term reports and registry checks
    id_number:<number>      查重 of an ID number given to a record
    notice:<township>:<year>  the township's 文号 sequence of the year
    report:<school>:<month>   a school's monthly report versions
    county:<id>             a county's set-up (divisions, schools), its school-year rollover
    county:<id>:<what>      one county-wide pass: compare (lists, 疑似同一人 decisions, verification tasks),
                            lost_cases (the suspected-dropout cases of 流生)
    sweep:<township>:<term>, sweep_village:<id>, home_plan:<id>, robots:<place>, robot_hook:<id>
    calendar                the holiday table and the terms (they move every open deadline)

SQLite: write_lock takes the database's write lock whatever the keys; sqlite_first takes it before a caller reads
the ids of its keys.

A case, its ladder steps and notices are the person's: the nightly escalation (ladder_flow.advance) locks the
person of every step it moves, as a user's ladder action does.

Order, so that two writers never wait on each other in a circle: a transaction takes a person's key before
anything else (class, id_number, notice, county keys), and no writer takes a person's key after a county-wide
key. write_lock sorts the keys of one call; keys taken in separate calls are taken in the order of the calls.

PostgreSQL runs READ COMMITTED: what a writer reads before its lock may be stale. Read the key's ids with plain
column selects (never load an ORM object before the lock: the session would hand back the stale copy later),
then lock, then read what the check depends on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import select
from sqlmodel import Session

from xueji.auth import Actor
from xueji.locks import GLOBAL, write_lock
from xueji.models import Case, Child, School, Township
from xueji.rules.vocab import ScopeKind
from xueji.services.common.access import actor_county_id

CALENDAR = "calendar"
S = TypeVar("S")


def sqlite_first(session: Session) -> None:
    """On SQLite, the database write lock before any read (a read first would pin a snapshot the write could not
    follow); on PostgreSQL nothing: the caller reads the ids its keys name, then locks them. Every helper here
    that reads calls it, so a caller may read a key's ids right away."""
    if session.get_bind().dialect.name == "sqlite":
        write_lock(session)


def person(session: Session, *, child_id: int | None = None, student_id: int | None = None) -> str:
    """The key of one person: their registry record's when they have one, else the followed child's."""
    sqlite_first(session)
    if student_id is None and child_id is not None:
        student_id = session.scalar(select(Child.student_id).where(Child.id == child_id))
    if student_id is not None:
        return f"student:{student_id}"
    return f"child:{child_id}"


def person_of_case(session: Session, case_id: int) -> str:
    """The key of the person a case is about (every change to a case locks its person)."""
    sqlite_first(session)
    row = session.execute(
        select(Child.id, Child.student_id).join(Case, Case.child_id == Child.id).where(Case.id == case_id)
    ).first()
    if row is None:
        return f"case:{case_id}"  # no such case: the caller refuses it under a lock of its own
    return f"student:{row.student_id}" if row.student_id is not None else f"child:{row.id}"


def actor_county(session: Session, actor: Actor) -> int | None:
    """The county an account works in, a school's included (None above a county or for the system)."""
    sqlite_first(session)
    county = actor_county_id(session, actor)
    if county is None and actor.scope_kind is ScopeKind.SCHOOL and actor.scope_id is not None:
        county = session.scalar(
            select(Township.county_id)
            .join(School, School.township_id == Township.id)
            .where(School.id == actor.scope_id)
        )
    return county


def county(session: Session, actor: Actor, what: str = "") -> str:
    """The key of the actor's county (or of one county-wide pass of it); GLOBAL when the actor has none."""
    found = actor_county(session, actor)
    if found is None:
        return GLOBAL
    return f"county:{found}:{what}" if what else f"county:{found}"


def check_under_lock(session: Session, check: Callable[[], S], keys: Callable[[S], Iterable[str]]) -> S:
    """Run an import's check under the write locks of what it names. On SQLite the database write lock is taken
    first and one check is enough; on PostgreSQL the check runs once to learn its keys, they are locked, and it
    runs again, since what it read the first time may have changed before the locks were held. The caller reads
    its file first, before any lock, and the check takes the rows: no writer waits for the reading process."""
    if session.get_bind().dialect.name == "sqlite":
        sqlite_first(session)
        return check()
    first = check()
    found = list(keys(first))
    if not found:  # nothing it would write: nothing to lock
        return first
    write_lock(session, *found)
    return check()
