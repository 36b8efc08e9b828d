"""Which address an audit entry records: the peer, or behind a trusted proxy what that proxy forwarded."""

from datetime import UTC, datetime
from ipaddress import ip_network

import pytest

from xueji.audit import context as audit_context
from xueji.audit.anchor import Anchor, AnchorFileError, parse
from xueji.audit.context import Origin, client_address, command_line_origin

LOCAL = (ip_network("127.0.0.1/32"), ip_network("::1/128"))
PROXIES = (*LOCAL, ip_network("10.0.0.0/24"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.5", [], LOCAL, "203.0.113.5"),  # straight from the browser
        ("203.0.113.5", ["6.6.6.6"], LOCAL, "203.0.113.5"),  # an untrusted peer's header is ignored
        ("127.0.0.1", ["198.51.100.7"], LOCAL, "198.51.100.7"),  # nginx on this machine
        ("::1", ["198.51.100.7"], LOCAL, "198.51.100.7"),
        ("::ffff:127.0.0.1", ["198.51.100.7"], LOCAL, "198.51.100.7"),
        ("127.0.0.1", [], LOCAL, "127.0.0.1"),  # a local connection with no header
        # the client wrote its own header; nginx appended the real address: only the right end is believed
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7"], LOCAL, "198.51.100.7"),
        ("127.0.0.1", ["6.6.6.6", "198.51.100.7"], LOCAL, "198.51.100.7"),  # the header twice
        # two trusted proxies in a row (nginx → 10.0.0.3 → app)
        ("10.0.0.3", ["6.6.6.6, 198.51.100.7, 127.0.0.1"], PROXIES, "198.51.100.7"),
        ("127.0.0.1", ["garbage"], LOCAL, "127.0.0.1"),  # nothing we can vouch for beyond the proxy
        ("127.0.0.1", ["[2001:db8::5]:443"], LOCAL, "2001:db8::5"),
        ("127.0.0.1", ["198.51.100.7:51234"], LOCAL, "198.51.100.7"),
        ("127.0.0.1", ["198.51.100.7"], (), "127.0.0.1"),  # no trusted proxies at all
        (None, ["198.51.100.7"], LOCAL, None),  # no connection (AppTest)
    ],
)
def test_client_address(peer, forwarded, trusted, expected):
    assert client_address(peer, forwarded, trusted) == expected


def test_the_origin_is_set_for_a_block_and_restored_after():
    assert audit_context.current() == audit_context.UNKNOWN
    with audit_context.use(Origin("cli", "198.51.100.9")):
        assert audit_context.current() == Origin("cli", "198.51.100.9")
    assert audit_context.current() == audit_context.UNKNOWN


def test_the_command_line_records_the_ssh_client(monkeypatch):
    monkeypatch.setenv("SSH_CONNECTION", "198.51.100.9 50122 10.0.0.5 22")
    assert command_line_origin() == Origin("cli", "198.51.100.9")
    monkeypatch.delenv("SSH_CONNECTION")
    monkeypatch.delenv("SSH_CLIENT", raising=False)
    assert command_line_origin() == Origin("cli", None)


def test_an_anchor_line_reads_back_as_written():
    anchor = Anchor(datetime(2026, 11, 26, 2, 0, tzinfo=UTC), 120, 131, "ab" * 32, "cd" * 8, 3)
    line = anchor.line()
    assert line == (
        "xueji-audit-anchor v1 at=2026-11-26T10:00:00+08:00 count=120 last_id=131 "
        f"head={'ab' * 32} key={'cd' * 8}"
    )
    assert parse(line, 3) == anchor
    assert parse(Anchor(anchor.at, 0, 0, None, None).line(), 1).head is None
    with pytest.raises(AnchorFileError, match="第 4 行"):
        parse(line.replace("count=120", "count=abc"), 4)


def test_the_audit_settings_refuse_what_they_cannot_use():
    from xueji.config import SettingsError, settings_from_env

    settings = settings_from_env({})
    assert settings.trusted_proxies == LOCAL and settings.audit_key is None
    assert (
        settings.audit_key_file.name == "audit.key" and settings.audit_anchor_file.name == "audit-anchors.log"
    )
    assert "5e5e" not in repr(settings_from_env({"XUEJI_AUDIT_KEY": "5e" * 32}))  # the key is never printed
    assert settings_from_env({"XUEJI_TRUSTED_PROXIES": ""}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="XUEJI_TRUSTED_PROXIES"):
        settings_from_env({"XUEJI_TRUSTED_PROXIES": "nginx"})
    with pytest.raises(SettingsError, match="XUEJI_AUDIT_KEY"):
        settings_from_env({"XUEJI_AUDIT_KEY": "tooshort"})
