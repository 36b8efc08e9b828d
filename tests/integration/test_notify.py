"""`xueji notify` against a local receiver playing WeCom and DingTalk (started here, on 127.0.0.1): the bodies, the
signature checked with the secret, the pace (a fake clock: nothing sleeps), retries then a report, the audit, the
lease (two runs at once: one sends), and no message of the demo county carrying a name, an ID number or a phone."""

import json
import threading
from collections import defaultdict
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.notify_receiver import SECRET, FakeClock, Receiver
from xueji.auth import PermissionDenied
from xueji.cli import main
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, Child, JobLease, RobotHook, School, Student
from xueji.rules.notify import NotifyError, Platform, leaks
from xueji.rules.vocab import ScopeKind
from xueji.services.notify import digest, hooks, sender
from xueji.services.system import accounts

pytestmark = pytest.mark.usefixtures("fixed_today")


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("XUEJI_NOTIFY_ALLOW_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    found = Receiver()
    yield found
    found.server.shutdown()
    get_settings.cache_clear()


def _robots(engine, robots: list[tuple[str, Platform, str, str | None]]) -> dict[str, int]:
    """Add robots as the system operator: (place key, platform, webhook, secret) → robot ids by place key."""
    with session_scope(engine) as session:
        actor = accounts.system_actor(session)
        by_key = {p.key: p for p in hooks.places(session, actor=actor)}
        ids = {}
        for key, platform, url, secret in robots:
            hook = hooks.add_hook(
                session, actor=actor, place=by_key[key], platform=platform, webhook=url, secret=secret
            )
            ids[key] = hook.id
        return ids


def _places(engine) -> list[digest.Place]:
    with session_scope(engine) as session:
        return hooks.places(session, actor=accounts.system_actor(session))


def _busy(engine, kind: ScopeKind) -> list[digest.Place]:
    """The places of a kind with work waiting (a message to send)."""
    with session_scope(engine) as session:
        found = hooks.places(session, actor=accounts.system_actor(session))
        return [p for p in found if p.kind is kind and digest.build(session, p, on=get_settings().today).text]


def _run(engine, clock=None, **kw) -> sender.RunReport:
    with session_scope(engine) as session:
        return sender.run(
            session,
            actor=accounts.system_actor(session),
            clock=clock or FakeClock(),
            say=lambda s: None,
            **kw,
        )


def _sendings(engine) -> list[AuditLog]:
    with session_scope(engine) as session:
        return list(
            session.scalars(select(AuditLog).where(AuditLog.action == "notify.send").order_by(AuditLog.id))
        )


def test_each_group_gets_its_digest_in_its_platforms_format_and_dingtalk_signed(demo_engine, receiver):
    town = _busy(demo_engine, ScopeKind.TOWNSHIP)[0]
    school = _busy(demo_engine, ScopeKind.SCHOOL)[0]
    ids = _robots(
        demo_engine,
        [
            (school.key, Platform.WECOM, receiver.wecom("k-school"), None),
            (town.key, Platform.DINGTALK, receiver.dingtalk("t-town"), SECRET),
        ],
    )
    report = _run(demo_engine)
    assert (report.sent, report.failed, report.exit_code) == (2, 0, 0)
    by_robot = {g["robot"]: g for g in receiver.got}
    wecom = by_robot["k-school"]["body"]
    assert wecom["msgtype"] == "markdown" and set(wecom["markdown"]) == {"content"}
    assert wecom["markdown"]["content"].startswith(f"**【xueji 待办】{school.name} 2026-11-23**")
    ding = by_robot["t-town"]
    assert ding["signed"] is True
    assert ding["body"]["markdown"]["title"] == f"【xueji 待办】{town.name} 2026-11-23"
    assert "· 已逾期" in ding["body"]["markdown"]["text"]
    entries = _sendings(demo_engine)
    assert [(e.entity_id, e.outcome) for e in entries] == [
        (str(ids[school.key]), "success"),
        (str(ids[town.key]), "success"),
    ]
    assert entries[0].after["scope"] == school.key and entries[0].after["overdue"] > 0
    assert "content" not in json.dumps(entries[0].after) and "【" not in json.dumps(
        entries[0].after, ensure_ascii=False
    )
    with session_scope(demo_engine) as session:
        assert {h.last_result for h in session.scalars(select(RobotHook))} == {"成功"}


def test_a_server_error_is_retried_and_a_robot_that_keeps_failing_is_reported_while_the_others_are_sent(
    demo_engine, receiver
):
    a, b, c = _busy(demo_engine, ScopeKind.SCHOOL)[:3]
    ids = _robots(
        demo_engine,
        [
            (a.key, Platform.WECOM, receiver.wecom("flaky"), None),
            (b.key, Platform.WECOM, receiver.wecom("dead"), None),
            (c.key, Platform.WECOM, receiver.wecom("busy"), None),
        ],
    )
    receiver.script["flaky"] = [(500, b""), (500, b"")]
    receiver.script["dead"] = [(502, b"")] * 10
    receiver.script["busy"] = [(200, b'{"errcode":45009,"errmsg":"api freq out of limit"}')]
    clock = FakeClock()
    report = _run(demo_engine, clock)
    results = {o.hook_id: o.result for o in report.outcomes}
    assert results == {ids[a.key]: "sent", ids[b.key]: "failed", ids[c.key]: "sent"}
    assert report.exit_code == 1
    tries = defaultdict(int)
    for g in receiver.got:
        tries[g["robot"]] += 1
    assert dict(tries) == {"flaky": 3, "dead": 1 + get_settings().notify_retries, "busy": 2}
    assert 60.0 in clock.slept  # the rate limit waits for the robots' next minute
    entries = {e.entity_id: e for e in _sendings(demo_engine)}
    assert entries[str(ids[a.key])].outcome == "success" and entries[str(ids[a.key])].after["attempts"] == 3
    assert (
        entries[str(ids[b.key])].outcome == "failure"
        and "HTTP 502" in entries[str(ids[b.key])].after["result"]
    )
    with session_scope(demo_engine) as session:
        dead = session.get(RobotHook, ids[b.key])
        assert dead.last_result == "企业微信服务器错误(HTTP 502)" and dead.last_sent_at is not None


def test_twenty_five_messages_to_one_robot_keep_to_twenty_a_minute_and_another_robot_need_not_wait(receiver):
    clock = FakeClock()
    at: list[tuple[str, float]] = []

    def post(url, data, timeout):
        at.append((url, clock.time()))
        return sender.http_post(url, data, timeout)

    pacer = sender.Pacer(20)
    one = sender.Target(1, 1, None, Platform.WECOM, receiver.wecom("one"), None)
    for _ in range(25):
        assert sender.deliver(one, "t", "家访 3 人", pacer=pacer, clock=clock, retries=0, post=post).ok
    times = [t for _, t in at]
    assert times.count(0.0) == 20 and all(60.0 <= t < 120.0 for t in times[20:])
    assert max(sum(1 for t in times if s <= t < s + 60) for s in times) == 20
    # the limit is the robot's (WeCom and DingTalk document it per robot): another group's robot goes at once
    other = sender.Target(2, 2, None, Platform.WECOM, receiver.wecom("other"), None)
    sender.deliver(other, "t", "家访 3 人", pacer=pacer, clock=clock, retries=0, post=post)
    assert at[-1][1] == at[-2][1] and len(receiver.got) == 26


def test_no_message_of_the_demo_county_carries_a_childs_name_an_id_number_or_a_phone(demo_engine):
    with session_scope(demo_engine) as session:
        names = set(session.scalars(select(Child.name))) | set(session.scalars(select(Student.name)))
        numbers = set(session.scalars(select(Student.id_number))) | set(
            session.scalars(select(Child.id_number))
        )
        places = hooks.places(session, actor=accounts.system_actor(session))
        texts = [digest.build(session, p, on=get_settings().today).text for p in places]
    sent = [t for t in texts if t]
    assert len(sent) >= len(places) - 1  # the demo county has work waiting nearly everywhere
    for text in sent:
        assert leaks(text) == []
        assert not [n for n in names if n and len(n) >= 2 and n in text]
        assert not [n for n in numbers if n and n in text]


def test_two_runs_at_once_send_once(demo_engine, receiver):
    school = _busy(demo_engine, ScopeKind.SCHOOL)[0]
    _robots(demo_engine, [(school.key, Platform.WECOM, receiver.wecom("lease"), None)])
    sending, release = threading.Event(), threading.Event()
    first: list[sender.RunReport] = []

    def slow_post(url, data, timeout):
        sending.set()
        release.wait(10)
        return sender.http_post(url, data, timeout)

    def run_first():
        first.append(_run(demo_engine, post=slow_post, holder="host-a:1"))

    thread = threading.Thread(target=run_first)
    thread.start()
    assert sending.wait(20)
    second = _run(demo_engine, holder="host-b:2")
    release.set()
    thread.join(20)
    assert second.held_by is not None and second.held_by.startswith("host-a:1") and second.outcomes == ()
    assert first[0].sent == 1 and len(receiver.got) == 1
    with session_scope(demo_engine) as session:
        lease = session.get(JobLease, sender.LEASE)
        assert lease.holder == "host-a:1"
    assert _run(demo_engine, holder="host-b:2").sent == 1  # released at the end: the next run sends


def test_a_dry_run_prints_each_message_sends_nothing_and_the_cli_reports_a_failure_with_exit_code_1(
    demo_engine, database_url, receiver, monkeypatch, capsys
):
    monkeypatch.setenv("XUEJI_DATABASE_URL", database_url)
    monkeypatch.setenv("XUEJI_NOTIFY_RETRIES", "0")
    get_settings.cache_clear()
    school = _busy(demo_engine, ScopeKind.SCHOOL)[0]
    _robots(demo_engine, [(school.key, Platform.WECOM, receiver.wecom("cli"), None)])
    assert main(["notify", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"【xueji 待办】{school.name}" in out and "预览完毕,未发送" in out
    assert receiver.got == [] and _sendings(demo_engine) == []
    other = _busy(demo_engine, ScopeKind.SCHOOL)[1]  # a school with no robot yet: what its group would get
    with session_scope(demo_engine) as session:
        code = session.get(School, other.id).code
    assert main(["notify", "--dry-run", "--only", f"school:{code}"]) == 0
    assert f"{other.name}(未设置机器人)\n**【xueji 待办】{other.name}" in capsys.readouterr().out
    receiver.script["cli"] = [(500, b"")]
    assert main(["notify", "--only", "school:0000000000"]) == 1
    assert "找不到" in capsys.readouterr().err
    assert main(["notify"]) == 1
    assert "发送失败" in capsys.readouterr().err
    assert [e.outcome for e in _sendings(demo_engine)] == ["failure"]


def test_only_the_administrator_keeps_robots_and_a_foreign_webhook_is_refused_and_audited(
    demo_engine, actors
):
    school = next(p for p in _places(demo_engine) if p.kind is ScopeKind.SCHOOL)
    with session_scope(demo_engine) as session:
        with pytest.raises(PermissionDenied):
            hooks.hooks(session, actor=actors["demo_registrar"])
        admin = actors["demo_admin"]
        with pytest.raises(NotifyError, match="不是企业微信"):
            hooks.add_hook(
                session,
                actor=admin,
                place=school,
                platform=Platform.WECOM,
                webhook="https://evil.example.com/x?key=1",
            )
        refused = session.scalars(
            select(AuditLog).where(AuditLog.entity_type == "robot_hook", AuditLog.outcome == "refused")
        ).all()
        assert len(refused) == 1 and "evil" not in json.dumps(refused[0].after)
        hook = hooks.add_hook(
            session,
            actor=admin,
            place=school,
            platform=Platform.DINGTALK,
            webhook="https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123",
            secret=SECRET,
        )
        (row,) = hooks.hooks(session, actor=admin)
        assert row.webhook.endswith("access_token=0123…0123") and SECRET[6:] not in row.secret
        hooks.set_enabled(session, actor=admin, hook_id=hook.id, enabled=False)
        assert _run(demo_engine).outcomes == ()  # a disabled robot is not sent to
        hooks.delete_hook(session, actor=admin, hook_id=hook.id)
        assert hooks.hooks(session, actor=admin) == []
