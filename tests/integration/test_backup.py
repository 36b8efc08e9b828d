"""`xueji backup` and `xueji restore`: a backup of the demo county restored into a fresh database holds every
table row for row, its audit chain verifies, and it takes new writes; a non-empty target is refused."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from tests.factories import taught_student, visit_facts
from xueji import backup
from xueji.cli import main as xueji_main
from xueji.db import make_engine, session_scope
from xueji.models import AuditLog, HomeVisit
from xueji.services.cases import visits
from xueji.services.system.accounts import actor_of

pytestmark = pytest.mark.usefixtures("fixed_today")


def contents(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (and the schema revision), in primary-key order."""
    with engine.connect() as conn:
        tables = {
            table.name: conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            for table in SQLModel.metadata.sorted_tables
        }
        tables["alembic_version"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    return {name: [tuple(row) for row in rows] for name, rows in tables.items()}


def test_a_backup_restored_into_a_fresh_database_is_the_same_table_for_table(
    demo_engine, use_database, other_database_url, tmp_path, capsys
):
    path = tmp_path / "xueji.backup"
    assert xueji_main(["backup", str(path)]) == 0
    assert path.stat().st_mode & 0o777 == 0o600  # full ID numbers inside: the owner's eyes only
    before = contents(demo_engine)
    assert xueji_main(["restore", str(path), "--into", other_database_url]) == 0
    assert "审计日志哈希链完整" in capsys.readouterr().out
    restored_engine = make_engine(other_database_url)
    after = contents(restored_engine)
    assert set(after) == set(before) and len(before) > 30
    for name, rows in before.items():
        if name == "audit_log":
            assert after[name][:-1] == rows  # the restore appended its own entry
        elif name != "audit_chain":  # whose head moved with that entry
            assert after[name] == rows, name
    with session_scope(restored_engine) as session:
        last = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert (last.action, last.entity_type) == ("restore", "database")
        assert session.scalar(
            select(AuditLog.id).where(AuditLog.action == "backup", AuditLog.detail.contains(str(path)))
        )  # the backup's own entry is in the copy
        # New rows take fresh ids: the sequences came back too.
        teacher, student = taught_student(session)
        visit = visits.log_visit(session, actor=actor_of(teacher), facts=visit_facts(), student_id=student)
        assert visit.id > max(row[0] for row in before["home_visit"])


def test_restore_refuses_a_database_that_is_not_empty(demo_engine, use_database, tmp_path, capsys):
    path = tmp_path / "xueji.backup"
    assert xueji_main(["backup", str(path)]) == 0
    before = contents(demo_engine)
    assert xueji_main(["restore", str(path)]) == 1  # into XUEJI_DATABASE_URL, which holds the county
    assert "目标数据库不是空的" in capsys.readouterr().err
    assert contents(demo_engine) == before
    assert xueji_main(["backup", str(path)]) == 1  # and a backup never overwrites a file
    assert "已存在" in capsys.readouterr().err


def test_a_backup_taken_while_visits_are_being_saved_is_consistent(
    demo_engine, use_database, other_database_url, tmp_path
):
    """Online: a teacher keeps saving visits while the backup runs; the copy restores with an intact chain and
    holds every visit acknowledged before the backup began."""
    with session_scope(demo_engine) as session:
        teacher, student = taught_student(session)
    actor = actor_of(teacher)
    saved: list[int] = []
    stop = threading.Event()

    def keep_saving() -> None:
        while not stop.is_set():
            with session_scope(demo_engine) as session:
                saved.append(
                    visits.log_visit(session, actor=actor, facts=visit_facts(), student_id=student).id
                )

    writer = threading.Thread(target=keep_saving)
    writer.start()
    try:
        while len(saved) < 5:
            time.sleep(0.01)
        before_backup = list(saved)
        backup.backup(demo_engine, tmp_path / "online.backup", actor=actor)
        while len(saved) < len(before_backup) + 5:  # the writer was not held up for long
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    restored = backup.restore(other_database_url, tmp_path / "online.backup")
    assert restored.chain.ok
    with session_scope(make_engine(other_database_url)) as session:
        copied = set(session.scalars(select(HomeVisit.id).where(HomeVisit.id.in_(saved))))
    assert set(before_backup) <= copied <= set(saved)


def test_a_restored_log_is_still_append_only_and_signed(
    demo_engine, use_database, other_database_url, tmp_path
):
    """The append-only triggers come back with the restore (SQLite's copy, pg_restore's post-data section), and
    the restored log verifies under the deployment's key, the restore's own entry included."""
    path = tmp_path / "xueji.backup"
    assert xueji_main(["backup", str(path)]) == 0
    restored = backup.restore(other_database_url, path)
    assert restored.chain.ok and restored.chain.key_id
    restored_engine = make_engine(other_database_url)
    with pytest.raises(DBAPIError, match="append-only"), restored_engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = '改过'"))
    with pytest.raises(DBAPIError, match="append-only"), restored_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
