"""SQLite writers of one process wait in line (xueji.writer_queue): first come, first served, woken as the writer
before them ends, and the place is given back however a session ends."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from xueji.db import make_engine, session_scope, unit_of_work
from xueji.locks import write_lock
from xueji.writer_queue import _PLACE, WriterQueue, _queues


def test_waiters_are_served_in_the_order_they_came():
    queue = WriterQueue(timeout_s=5)
    assert queue.acquire()
    served: list[int] = []
    threads = []
    for n in range(8):
        thread = threading.Thread(target=lambda n=n: (queue.acquire(), served.append(n), queue.release()))
        thread.start()
        threads.append(thread)
        time.sleep(0.02)  # each one waiting before the next comes
    queue.release()
    for thread in threads:
        thread.join(5)
    assert served == list(range(8))


def test_a_waiter_past_the_timeout_goes_on_without_a_place_and_the_line_still_works():
    queue = WriterQueue(timeout_s=0.05)
    assert queue.acquire()
    assert not queue.acquire()  # gave up: the caller meets SQLite's own lock instead
    queue.release()
    assert queue.acquire()  # the line is free again, not held by the one that gave up
    queue.release()


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE app_setting (key TEXT PRIMARY KEY, value TEXT)"))
        connection.execute(text("INSERT INTO app_setting VALUES ('write_lock', '0')"))
    yield engine
    engine.dispose()


def _held(engine) -> bool:
    return _queues[engine.dialect]._held


@unit_of_work
def _write(session, *, fail: bool = False) -> None:
    write_lock(session, "x")
    if fail:
        raise ValueError("失败")
    session.commit()


@pytest.mark.parametrize("ending", ["commit", "error", "close", "rollback"])
def test_the_place_is_given_back_however_the_session_ends(engine, ending):
    with session_scope(engine) as session:
        if ending == "commit":
            _write(session)
        elif ending == "error":
            with pytest.raises(ValueError):
                _write(session, fail=True)
        else:
            write_lock(session, "x")
            assert _held(engine)
            assert session.connection().info.get(_PLACE)
            if ending == "rollback":
                session.rollback()
    assert not _held(engine)


def test_a_second_writer_waits_for_the_first_to_commit_then_goes_at_once(engine):
    """The second writer sleeps in line instead of polling SQLite; it is woken as the first commits."""
    started, finished = threading.Event(), {}

    def second() -> None:
        started.set()
        with session_scope(engine) as session:
            _write(session)
        finished["at"] = time.perf_counter()

    with session_scope(engine) as first:
        write_lock(first, "x")
        thread = threading.Thread(target=second)
        thread.start()
        started.wait(5)
        time.sleep(0.3)
        assert "at" not in finished
        assert len(_queues[engine.dialect]._waiting) == 1  # waiting in line, not polling SQLite
        committed = time.perf_counter()
        first.commit()
    thread.join(5)
    assert finished["at"] - committed < 0.1  # woken at once, not after the busy handler's next sleep
    assert not _held(engine)
