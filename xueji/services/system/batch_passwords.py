"""One-time passwords for many accounts at once (账号导入 on the command line, a batch approved in the app).

Every account gets its own random one-time password (accounts.one_time_password: about 60 bits from a secure
generator), which needs a hash of its own. With the sign-in parameters (argon2id, 64 MiB, 3 passes, 4 lanes)
one hash costs about 90 ms of wall time and 145 ms of processor time here, its lanes already using both cores, so
6,000 accounts would take 9 minutes, and a thread pool cannot shorten that much (80 ms a hash with 2 threads).
These passwords are hashed instead at OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane): 18 ms a hash, two
at a time in a pool of threads (argon2-cffi releases the GIL), 9 ms a hash, under a minute for 6,000, while the
database work of the accounts already hashed goes on. That is safe for them and only for them: a random 60-bit
secret cannot be guessed at any hashing cost, and it lives at most until its first use: the first sign-in stores
it again with the full parameters (accounts.authenticate, needs_rehash) and the forced change replaces it. A
password chosen by a person (the demo's shared one) is hashed once, with the full parameters."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher

from xueji.auth import hash_password
from xueji.clock import now
from xueji.config import get_settings
from xueji.services.system.accounts import one_time_password

_ONE_TIME = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@dataclass(frozen=True)
class Issued:
    """A password to give an account, with its hash."""

    password: str
    password_hash: str


def one_time_passwords(count: int) -> Iterator[Issued]:
    """count random one-time passwords with their hashes, in order, hashed in a pool of threads (one per
    processor) while the caller stores the ones already hashed (the database's round trips then overlap the
    hashing instead of following it)."""
    passwords = [one_time_password() for _ in range(count)]
    pool = ThreadPoolExecutor(max_workers=max(1, min(count, os.cpu_count() or 1)))
    try:
        for password, hashed in zip(passwords, pool.map(_ONE_TIME.hash, passwords), strict=True):
            yield Issued(password, hashed)
    finally:
        pool.shutdown(cancel_futures=True)  # the caller failed half way: hash no more


def shared_password(password: str, count: int) -> list[Issued]:
    """The same password for count accounts, hashed once with the sign-in parameters."""
    issued = Issued(password, _shared_hash(password))
    return [issued] * count


@lru_cache(maxsize=1)
def _shared_hash(password: str) -> str:
    """One hash of the shared password per process: only the demo shares one (public on purpose, shown on its
    login page), and builds its accounts in several imports, each of which would spend 0.1 s hashing it again."""
    return hash_password(password)


def valid_until() -> datetime:
    """When one-time passwords issued now stop working (XUEJI_ONE_TIME_PASSWORD_HOURS)."""
    return now() + timedelta(hours=get_settings().one_time_password_hours)
