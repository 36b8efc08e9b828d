"""The lease that lets one sender run at a time (several replicas' timers send once): taken at the start of a run,
renewed after each group, released at the end. Its times are the database's clock, the same for every replica,
whatever each machine's clock says (or XUEJI_TODAY moves the app's)."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from xueji.clock import china_time
from xueji.db import unit_of_work
from xueji.models import JobLease

LEASE = "notify"
LEASE_MINUTES = 15


def holder_name() -> str:
    """This run's name on the lease: the machine, the process and a random part (two containers may share a
    hostname and pid 1)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def database_now(session: Session) -> datetime:
    """The database's clock, in UTC (the statement's time on PostgreSQL, not its transaction's start)."""
    dialect = session.get_bind().dialect.name
    clock = func.statement_timestamp if dialect == "postgresql" else func.current_timestamp
    at = session.scalar(select(clock(type_=DateTime(timezone=True))))
    if at is None:
        raise RuntimeError("the database returned no time")
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@unit_of_work
def take_lease(session: Session, *, holder: str, minutes: int = LEASE_MINUTES) -> str | None:
    """Take (or renew) the lease; None when this holder has it now, else who holds it and until when."""
    at = database_now(session)
    until = at + timedelta(minutes=minutes)
    taken = session.execute(
        update(JobLease)
        .where(JobLease.name == LEASE, or_(JobLease.until <= at, JobLease.holder == holder))
        .values(holder=holder, until=until)
    ).rowcount  # type: ignore[attr-defined]
    if not taken and session.get(JobLease, LEASE) is None:
        try:
            with session.begin_nested():
                session.add(JobLease(name=LEASE, holder=holder, until=until))
            taken = 1
        except IntegrityError:  # another sender inserted it first
            pass
    lease = None if taken else session.get(JobLease, LEASE, populate_existing=True)
    session.commit()
    if lease is None:
        return None
    return f"{lease.holder}(至 {china_time(lease.until)})"


@unit_of_work
def release_lease(session: Session, *, holder: str) -> None:
    session.execute(
        update(JobLease)
        .where(JobLease.name == LEASE, JobLease.holder == holder)
        .values(until=database_now(session))
    )
    session.commit()
