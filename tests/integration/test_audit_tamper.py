"""The audit log cannot be quietly rewritten, on SQLite and PostgreSQL.

The app's own connection cannot change or remove an entry (triggers: the one update allowed is sealing an
unsealed entry). Someone who owns the database can switch the triggers off; then what they do must still show
in `xueji audit verify`: an entry edited and its signature and every later hash of its chain recomputed (with
SHA-256, or with a key of their own) breaks the HMAC chain, since the key is not in the database; a chain cut
short with its head moved back, or a log wiped, no longer reaches its anchors (the anchor file outside the
database); even the real key, stolen, cannot rewrite an anchored entry unseen. Each case prints what verify
said (pytest -s), for the issue's note.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.exc import DBAPIError

from xueji.audit import TAIL_KEY, digest, entry_mac, seal_all, seal_hash, verify_chain
from xueji.audit import anchor as audit_anchor
from xueji.audit.key import AuditKey, _key, load_key
from xueji.cli import main as xueji_main
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditChain, AuditLog
from xueji.services.system import holidays
from xueji.services.system.accounts import actor_by_username

pytestmark = pytest.mark.usefixtures("use_database")
COLUMNS = [c.name for c in AuditLog.__table__.columns]


def verify(capsys) -> tuple[int, str]:  # noqa: ANN001
    """`xueji audit verify`: its exit code and everything it said."""
    code = xueji_main(["audit", "verify"])
    said = capsys.readouterr()
    return code, (said.out + said.err).strip()


def note(capsys, case: str, said: str) -> None:  # noqa: ANN001
    """Show what verify said for a tamper case, outside the capture (the issue's note lists them)."""
    with capsys.disabled():
        print(f"\n[{case}] {said}")


def write_entries(engine: Engine, n: int = 3) -> None:
    """n ordinary audited writes (the administrator's holiday table)."""
    with session_scope(engine) as session:
        admin = actor_by_username(session, "demo_admin")
        for i in range(n):
            holidays.save_days(
                session, actor=admin, rows=[{"day": f"2026-12-{20 + i}", "kind": "放假"}], source="t"
            )
        seal_all(session)  # PostgreSQL: as the server's sealer would (SQLite seals inline)


def anchor(capsys) -> str:  # noqa: ANN001
    assert xueji_main(["audit", "anchor"]) == 0
    return capsys.readouterr().out.strip()


@contextmanager
def owner(engine: Engine) -> Iterator[Connection]:
    """A connection of whoever owns the database, the append-only triggers out of the way: on SQLite anyone who
    can write the file can drop them; on PostgreSQL the table's owner can disable them."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for trigger in ("audit_log_seal_only", "audit_log_no_delete", "audit_chain_no_delete",
                            "audit_chain_forward_only"):  # fmt: skip
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
            conn.exec_driver_sql("ALTER TABLE audit_chain DISABLE TRIGGER USER")
        yield conn


def _rows(conn: Connection, from_id: int = 0) -> list[dict]:
    table = AuditLog.__table__
    return [
        dict(r._mapping)
        for r in conn.execute(select(table).where(table.c.id >= from_id).order_by(table.c.id))
    ]


def _chain_rows(conn: Connection, chain: int, from_seq: int = 1) -> list[dict]:
    table = AuditLog.__table__
    query = select(table).where(table.c.chain == chain, table.c.seq >= from_seq).order_by(table.c.seq)
    return [dict(r._mapping) for r in conn.execute(query)]


def _sha256_of_keyed_content(values: dict) -> str:
    """What someone without the key can compute: SHA-256 over the same canonical content."""
    content = {k: values[k] for k in COLUMNS if k not in ("id", "hash", "at", "mac", "seq", "sealed_at")}
    content["at"] = values["at"].replace(tzinfo=None).isoformat(timespec="microseconds")
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _sha256_seal(values: dict) -> str:
    link = [values["chain"], values["seq"], values["prev_hash"], values["mac"]]
    return hashlib.sha256(json.dumps(link).encode()).hexdigest()


def set_head(conn: Connection, chain: int, seq: int, hashed: str | None) -> None:
    """Move a chain's head (audit_chain), as whoever rewrote or cut the chain would."""
    table = AuditChain.__table__
    if seq == 0:
        conn.execute(table.delete().where(table.c.chain == chain))
    else:
        conn.execute(update(table).where(table.c.chain == chain).values(seq=seq, hash=hashed))


def rewrite_from(conn: Connection, entry_id: int, resign, reseal, *, change: dict | None = None) -> None:  # noqa: ANN001
    """Edit one sealed entry: its signature recomputed with resign(values), then its seal hash and every later
    one of its chain with reseal(values), relinking the chain and moving its head: the attack the old SHA-256
    chain could not see."""
    table = AuditLog.__table__
    target = conn.execute(select(table).where(table.c.id == entry_id)).one()._mapping
    previous = target["prev_hash"]
    for values in _chain_rows(conn, target["chain"], target["seq"]):
        if values["id"] == entry_id:
            values.update(change or {"detail": "改过的说明"})
            values.update(resign(values))
        values["prev_hash"] = previous
        values["hash"] = reseal(values)
        conn.execute(update(table).where(table.c.id == values["id"]).values(values))
        previous = values["hash"]
    set_head(conn, target["chain"], values["seq"], previous)


def as_old_chain(conn: Connection, entry_id: int) -> None:
    """Pass the entry and every later one off as entries of the old, unkeyed SHA-256 global chain (mac, key and
    place dropped, hashes recomputed), relinking it and moving the tail pointer and the chains' heads back."""
    table = AuditLog.__table__
    previous = conn.scalar(
        select(table.c.hash)
        .where(table.c.id < entry_id, table.c.mac.is_(None))
        .order_by(table.c.id.desc())
        .limit(1)
    )
    for values in _rows(conn, entry_id):
        values.update(key_id=None, mac=None, seq=None, sealed_at=None, chain=0, prev_hash=previous)
        values["hash"] = previous = digest(values, None)
        conn.execute(update(table).where(table.c.id == values["id"]).values(values))
    conn.execute(text("UPDATE app_setting SET value = :v WHERE key = :k"), {"v": previous, "k": TAIL_KEY})
    for chain, seq in conn.execute(
        text("SELECT chain, max(seq) FROM audit_log WHERE seq IS NOT NULL GROUP BY chain")
    ):
        hashed = conn.scalar(select(table.c.hash).where(table.c.chain == chain, table.c.seq == seq))
        set_head(conn, chain, seq, hashed)
    kept = {c for (c,) in conn.execute(text("SELECT DISTINCT chain FROM audit_log WHERE seq IS NOT NULL"))}
    for (chain,) in conn.execute(text("SELECT chain FROM audit_chain")).all():
        if chain not in kept:
            set_head(conn, chain, 0, None)


def middle_id(engine: Engine) -> int:
    """An entry in the middle of the demo administrator's county chain."""
    with engine.connect() as conn:
        ids = list(
            conn.scalars(text("SELECT id FROM audit_log WHERE chain = 1 AND seq IS NOT NULL ORDER BY seq"))
        )
    return ids[len(ids) // 2]


# --- the app's connection cannot change the log ---------------------------------------------------------------


def test_the_apps_connection_cannot_update_or_delete_an_entry(demo_engine):
    write_entries(demo_engine, 1)
    statements = [
        "UPDATE audit_log SET detail = '改过' WHERE id = (SELECT min(id) FROM audit_log)",
        "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
        "DELETE FROM audit_log",
        # sealing again: a sealed entry's place, link or hash
        "UPDATE audit_log SET hash = prev_hash WHERE id = (SELECT max(id) FROM audit_log)",
        "UPDATE audit_log SET seq = seq + 1000 WHERE id = (SELECT max(id) FROM audit_log)",
    ]
    if demo_engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    with demo_engine.connect() as conn:
        before = _rows(conn)
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), demo_engine.begin() as conn:
            conn.execute(text(statement))
    with session_scope(demo_engine) as session, pytest.raises(DBAPIError, match="append-only"):
        session.execute(
            update(AuditLog).values(outcome="success")
        )  # through the ORM session, as a service would
    with demo_engine.connect() as conn:
        assert _rows(conn) == before
    for statement in ("DELETE FROM audit_chain", "UPDATE audit_chain SET seq = seq - 1, hash = hash"):
        with pytest.raises(DBAPIError, match="only moves forward"), demo_engine.begin() as conn:
            conn.execute(text(statement))
    with session_scope(demo_engine) as session:
        assert verify_chain(session).ok


def test_an_unsealed_entry_can_be_sealed_and_nothing_else(demo_engine, monkeypatch):
    """The trigger lets the sealer set seq, prev_hash, hash and sealed_at of an entry without a hash, and refuses
    a change of any other column (every column of the table at head, so one added later is tried too)."""
    from xueji.audit import sealer

    monkeypatch.setattr(sealer, "INLINE_ON_SQLITE", False)  # SQLite's writers then leave their entry queued
    with session_scope(demo_engine) as session:
        holidays.save_days(
            session, actor=actor_by_username(session, "demo_admin"), rows=[{"day": "2026-12-31", "kind": "放假"}],
            source="t",
        )  # fmt: skip
    with demo_engine.connect() as conn:
        entry = conn.execute(text("SELECT id, chain, mac FROM audit_log WHERE hash IS NULL")).one()
    sealing = {"seq", "prev_hash", "hash", "sealed_at"}
    samples = {"id": 10**9, "at": datetime(2020, 1, 1, tzinfo=UTC), "user_id": None, "chain": 9999,
               "before": {"x": 1}, "after": {"x": 1}}  # fmt: skip
    for column in [c for c in COLUMNS if c not in sealing]:
        value = samples.get(column, "x")
        with pytest.raises(DBAPIError, match="append-only"), demo_engine.begin() as conn:
            conn.execute(
                update(AuditLog.__table__)
                .where(AuditLog.__table__.c.id == entry.id)
                .values({column: value, "hash": "0" * 64, "seq": 10**6})
            )
    with (
        pytest.raises(DBAPIError, match="append-only"),
        demo_engine.begin() as conn,
    ):  # no hash: not a sealing
        conn.execute(update(AuditLog.__table__).where(AuditLog.__table__.c.id == entry.id).values(seq=10**6))
    with session_scope(demo_engine) as session:
        assert seal_all(session) == 1
        check = verify_chain(session)
    assert check.ok and check.pending == 0


def test_nothing_in_the_app_updates_or_deletes_audit_rows():
    """The app never writes audit_log but by INSERT: no update(AuditLog), delete(AuditLog) or SQL doing so."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    sealer = root / "xueji" / "audit" / "sealer.py"  # the one update: sealing (the trigger refuses any other)
    assert sealer.read_text(encoding="utf-8").count("_TABLE.update()") == 1
    for path in [*root.glob("xueji/**/*.py"), *root.glob("pages/**/*.py"), root / "streamlit_app.py"]:
        if "migrations" in path.parts or path == sealer:
            continue
        source = path.read_text(encoding="utf-8")
        for needle in ("update(AuditLog", "delete(AuditLog", "UPDATE audit_log", "DELETE FROM audit_log",
                       "TRUNCATE audit_log"):  # fmt: skip
            if needle.lower() in source.lower():
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


# --- edited, then every later hash recomputed -------------------------------------------------------------------


def test_an_edit_with_every_later_hash_recomputed_with_sha256_is_detected(demo_engine, capsys):
    write_entries(demo_engine)
    target = middle_id(demo_engine)
    with owner(demo_engine) as conn:
        rewrite_from(conn, target, lambda v: {"mac": _sha256_of_keyed_content(v)}, _sha256_seal)
    code, said = verify(capsys)
    note(capsys, "改一条,其后全部按 SHA-256 重算", said)
    assert code == 1 and f"第 {target} 条" in said and "内容与签名不符" in said


def test_an_edit_rewritten_as_the_old_unkeyed_chain_is_detected(demo_engine, capsys):
    """The attacker passes the rewritten entries off as entries of the old, unkeyed SHA-256 chain."""
    write_entries(demo_engine)
    target = middle_id(demo_engine)
    with owner(demo_engine) as conn:
        as_old_chain(conn, target)
    code, said = verify(capsys)
    note(capsys, "改一条,其后全部改写成无密钥的旧 SHA-256 链", said)
    assert code == 1 and f"第 {target} 条" in said and "排在已签名的记录之后" in said


def test_the_whole_log_rewritten_as_the_old_unkeyed_chain_is_detected(demo_engine, capsys):
    write_entries(demo_engine)
    with demo_engine.connect() as conn:
        first = conn.scalar(text("SELECT min(id) FROM audit_log"))
    with owner(demo_engine) as conn:
        as_old_chain(conn, first)
    code, said = verify(capsys)
    note(capsys, "整个日志改写成无密钥的旧 SHA-256 链(无锚点)", said)
    assert code == 1 and "没有一条以密钥签名" in said


def test_an_edit_recomputed_with_a_key_of_ones_own_is_detected(demo_engine, capsys):
    write_entries(demo_engine)
    target = middle_id(demo_engine)
    forged = _key(secrets.token_hex(32), "attacker")
    with owner(demo_engine) as conn:  # under the real key's fingerprint
        rewrite_from(conn, target, lambda v: {"mac": entry_mac(v, forged)}, lambda v: _seal(v, forged))
    code, said = verify(capsys)
    note(capsys, "改一条,其后全部用自己的密钥重算(冒用原密钥指纹)", said)
    assert code == 1 and f"第 {target} 条" in said and "内容与签名不符" in said
    with owner(demo_engine) as conn:  # under its own fingerprint
        rewrite_from(
            conn,
            target,
            lambda v: {"key_id": forged.key_id, "mac": entry_mac({**v, "key_id": forged.key_id}, forged)},
            lambda v: _seal(v, forged),
        )
    code, said = verify(capsys)
    note(capsys, "改一条,其后全部用自己的密钥重算(用自己的指纹)", said)
    assert code == 1 and f"第 {target} 条" in said and "另一把密钥" in said


def test_even_the_stolen_key_cannot_rewrite_an_anchored_entry_unseen(demo_engine, capsys):
    write_entries(demo_engine)
    anchor(capsys)
    key = load_key()
    target = middle_id(demo_engine)
    with owner(demo_engine) as conn:
        rewrite_from(conn, target, lambda v: {"mac": entry_mac(v, key)}, lambda v: _seal(v, key))
    with session_scope(demo_engine) as session:
        assert verify_chain(session).ok  # the chain alone: the key's holder can rewrite it
    code, said = verify(capsys)
    note(capsys, "持有真密钥者改一条并重算其后全部(有锚点)", said)
    assert code == 1 and "锚点" in said and "哈希已变" in said


# --- cut short, wiped ---------------------------------------------------------------------------------------------


def truncate(conn: Connection, chain: int, keep_up_to: int) -> None:
    """Remove every entry of the chain after seq keep_up_to and move its head back to it."""
    conn.execute(text("DELETE FROM audit_log WHERE chain = :c AND seq > :k"), {"c": chain, "k": keep_up_to})
    head = conn.scalar(
        text("SELECT hash FROM audit_log WHERE chain = :c AND seq = :k"), {"c": chain, "k": keep_up_to}
    )
    set_head(conn, chain, keep_up_to, head)


def _seal(values: dict, key: AuditKey) -> str:
    return seal_hash(key, values["chain"], values["seq"], values["prev_hash"], values["mac"])


def anchored_seq(line: str, chain: int = 1) -> int:
    return next(h.seq for h in audit_anchor.parse(line, 1).heads if h.chain == chain)


def test_a_chain_cut_short_with_its_head_moved_is_detected_by_the_anchors(demo_engine, capsys):
    write_entries(demo_engine)
    line = anchor(capsys)
    write_entries(demo_engine, 2)  # after the anchor
    seq = anchored_seq(line)
    with owner(demo_engine) as conn:
        truncate(conn, 1, seq - 2)
    with session_scope(demo_engine) as session:
        assert verify_chain(session).ok  # the chain alone cannot tell: that was the hole
    code, said = verify(capsys)
    note(capsys, "截掉县区链末尾 4 条并把链头移回(有锚点)", said)
    assert code == 1 and f"县区 1 的链第 {seq} 条记录已不存在" in said


def test_a_cut_after_the_last_anchor_is_what_the_anchors_cannot_see(demo_engine, capsys):
    """The limit, stated: entries written since the last anchor can be cut without a trace (hence a frequent
    cron job); verify says how many entries were not anchored yet."""
    write_entries(demo_engine)
    anchor(capsys)
    write_entries(demo_engine, 2)
    code, said = verify(capsys)
    assert code == 0 and "其后 2 条尚未锚定" in said
    anchored = next(h.seq for h in audit_anchor.read_anchors()[-1].heads if h.chain == 1)
    with owner(demo_engine) as conn:
        truncate(conn, 1, anchored)
    code, said = verify(capsys)
    note(capsys, "截掉最近一次锚点之后的 2 条", said)
    assert code == 0 and "其后 0 条尚未锚定" in said


def test_a_wiped_log_is_detected_by_the_anchors(demo_engine, capsys):
    write_entries(demo_engine)
    anchor(capsys)
    with owner(demo_engine) as conn:
        conn.execute(text("DELETE FROM audit_log"))
        conn.execute(text("DELETE FROM audit_chain"))
        conn.execute(text("UPDATE app_setting SET value = '' WHERE key = :k"), {"k": TAIL_KEY})
    with session_scope(demo_engine) as session:
        assert verify_chain(session).ok  # an empty chain is a valid chain
    code, said = verify(capsys)
    note(capsys, "清空整个日志并清空链头和链尾指针(有锚点)", said)
    assert code == 1 and "已不存在" in said and "现在只到第 0 条" in said


def test_a_log_without_anchors_is_reported_as_unprotected_against_a_cut(demo_engine, capsys):
    code, said = verify(capsys)
    assert code == 0 and "还没有锚点" in said


def test_an_anchor_file_that_was_tampered_with_fails_verify(demo_engine, capsys, audit_anchor_file):
    anchor(capsys)
    audit_anchor_file.write_text(audit_anchor_file.read_text().replace("count=", "count=9"), encoding="utf-8")
    code, said = verify(capsys)
    note(capsys, "锚点文件被改动", said)
    assert code == 1


# --- the key ------------------------------------------------------------------------------------------------------


def use_key(monkeypatch, hex_key: str | None, key_file=None) -> None:  # noqa: ANN001
    if hex_key is None:
        monkeypatch.delenv("XUEJI_AUDIT_KEY", raising=False)
    else:
        monkeypatch.setenv("XUEJI_AUDIT_KEY", hex_key)
    if key_file is not None:
        monkeypatch.setenv("XUEJI_AUDIT_KEY_FILE", str(key_file))
    get_settings.cache_clear()


def test_a_wrong_key_fails_verify_and_refuses_writes(demo_engine, capsys, monkeypatch, tmp_path):
    right = load_key().key_id
    use_key(monkeypatch, secrets.token_hex(32))
    code, said = verify(capsys)
    note(capsys, "配置了另一把密钥", said)
    assert code == 1 and "另一把密钥" in said and right in said
    with session_scope(demo_engine) as session, pytest.raises(Exception, match="不是签名此日志的密钥"):
        holidays.save_days(
            session, actor=actor_by_username(session, "demo_admin"), rows=[{"day": "2026-12-31", "kind": "放假"}],
            source="t",
        )  # fmt: skip
    assert xueji_main(["backup", str(tmp_path / "x.backup")]) == 2  # refused before any write
    assert "不是签名此日志的密钥" in capsys.readouterr().err


def test_without_a_key_nothing_is_written_and_verify_says_why(demo_engine, capsys, monkeypatch, tmp_path):
    use_key(monkeypatch, None, tmp_path / "no.key")
    with demo_engine.connect() as conn:
        before = len(_rows(conn))
    assert xueji_main(["backup", str(tmp_path / "x.backup")]) == 2
    assert "未找到审计密钥" in capsys.readouterr().err
    with demo_engine.connect() as conn:
        assert len(_rows(conn)) == before
    code, said = verify(capsys)
    assert code == 1 and "未找到审计密钥" in said
    # init never makes a new key for a log signed with another one
    assert xueji_main(["init"]) == 2
    assert "不会新建密钥" in capsys.readouterr().err and not (tmp_path / "no.key").exists()


def test_a_key_file_readable_by_others_is_refused(demo_engine, capsys, monkeypatch, tmp_path):
    path = tmp_path / "audit.key"
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o644)
    use_key(monkeypatch, None, path)
    code, said = verify(capsys)
    assert code == 1 and "chmod 600" in said


# --- a fresh install and the untouched demo ---------------------------------------------------------------------


def test_init_creates_the_key_file_owner_only_and_the_untouched_demo_verifies(capsys, monkeypatch, tmp_path):
    key_file = tmp_path / "data" / "audit.key"
    use_key(monkeypatch, None, key_file)
    assert xueji_main(["demo", "--scale", "0.3"]) == 0
    said = capsys.readouterr().out
    assert f"已生成审计密钥:{key_file}" in said and "另行备份" in said
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(bytes.fromhex(key_file.read_text().strip())) == 32
    assert xueji_main(["init"]) == 0
    assert "已生成审计密钥" not in capsys.readouterr().out  # made once, never replaced
    code, said = verify(capsys)
    note(capsys, "未改动的演示库", said)
    assert code == 0 and "审计日志完整" in said and "已核对 2 个锚点" in said
    line = anchor(capsys)
    assert line.startswith("xueji-audit-anchor v2 at=") and audit_anchor.read_anchors()[-1].line() == line


def test_hmac_is_the_keyed_sha256_of_the_entry(demo_engine):
    """The stored signature and seal hash are HMAC-SHA-256 under the configured key (not a plain hash of the key
    and content)."""
    with session_scope(demo_engine) as session:
        seal_all(session)
        entry = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    key: AuditKey = load_key()
    values = {c: getattr(entry, c) for c in COLUMNS}
    assert entry.key_id == key.key_id
    recomputed = entry_mac(values, key)
    assert hmac.compare_digest(recomputed, entry.mac) and _sha256_of_keyed_content(values) != entry.mac
    assert hmac.compare_digest(_seal(values, key), entry.hash) and _sha256_seal(values) != entry.hash


# --- a database from before the key -----------------------------------------------------------------------------


def test_an_upgraded_log_keeps_its_sha256_entries_verifiable_and_covered_by_the_key(use_database, capsys):
    """Entries written before 0011 (plain SHA-256) stay as they are and verify as such; `xueji init` seals them
    with the first keyed entry, so rewriting them afterwards (even recomputing their SHA-256 chain) is caught."""
    from xueji.db import current_revision, make_engine, migrate

    old = engine = make_engine(use_database)  # a new database, schema as of 0010
    migrate(old, "0010")
    assert current_revision(old) == "0010"
    table = AuditLog.__table__
    old_columns = [
        c
        for c in COLUMNS
        if c not in ("id", "key_id", "channel", "client_addr", "chain", "mac", "seq", "sealed_at")
    ]
    previous = None
    with old.begin() as conn:
        for i in range(5):
            values = dict.fromkeys(COLUMNS)
            values.update(
                at=datetime(2026, 9, 1, 8, i, tzinfo=UTC), username="system", role="system", scope="county",
                action="create", outcome="success", detail=f"升级前的记录 {i}", prev_hash=previous,
            )  # fmt: skip
            values["hash"] = previous = digest(values, None)
            conn.execute(table.insert().values({c: values[c] for c in old_columns}))
        conn.execute(text("UPDATE app_setting SET value = :v WHERE key = :k"), {"v": previous, "k": TAIL_KEY})
    assert xueji_main(["init"]) == 0
    said = capsys.readouterr().out
    assert "已将数据库从版本 0010 升级到" in said and "审计日志自第 6 条起以密钥签名" in said
    code, said = verify(capsys)
    note(capsys, "升级后的日志(5 条旧 SHA-256 记录 + 密钥签名)", said)
    assert code == 0 and "其中前 5 条是升级前的无密钥 SHA-256 链" in said
    with session_scope(engine) as session:
        seal = session.get(AuditLog, 6)
        assert (seal.action, seal.key_id, seal.prev_hash) == ("audit_seal", load_key().key_id, previous)
    with owner(engine) as conn:  # rewrite an old entry and recompute the old chain up to the seal
        table = AuditLog.__table__
        prev = conn.scalar(select(table.c.hash).where(table.c.id == 1))
        for values in _rows(conn, 2):
            if values["key_id"] is not None:
                break
            values["detail"] = "改过" if values["id"] == 2 else values["detail"]
            values["prev_hash"] = prev
            values["hash"] = prev = digest(values, None)
            conn.execute(update(table).where(table.c.id == values["id"]).values(values))
        # and the old chain's tail pointer moved to the recomputed end: only the seal's link can tell
        conn.execute(text("UPDATE app_setting SET value = :v WHERE key = :k"), {"v": prev, "k": TAIL_KEY})
    code, said = verify(capsys)
    note(capsys, "升级后改一条旧记录并重算旧链(链尾指针也移动)", said)
    assert code == 1 and "第 5 条记录" in said and "哈希已变" in said  # the anchor `xueji init` wrote
    with session_scope(engine) as session:  # and without the anchors, the seal's link alone
        check = verify_chain(session)
    assert not check.ok and check.bad_id == 6 and "链接不符" in check.reason
