"""`xueji notify` against a local receiver playing WeCom and DingTalk (started here, on 127.0.0.1): the bodies, the
signature checked with the secret, the pace (a fake clock: nothing sleeps), retries then a report, the audit, the
lease (two runs at once: one sends; a run that loses it stops; its times the database's clock), the nightly pass
failing without stopping the digests, one robot per address in a group, --only kept to the scope, and no message of the demo county carrying a name, an ID number or a phone."""

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.notify_receiver import SECRET, FakeClock, Receiver
from xueji.auth import Actor, PermissionDenied
from xueji.cli import main
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, Child, JobLease, RobotHook, School, Student, Township
from xueji.rules.notify import NotifyError, Platform, leaks
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.notify import delivery, digest, hooks, lease, sender
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
        return delivery.http_post(url, data, timeout)

    pacer = delivery.Pacer(20)
    one = delivery.Target(1, 1, None, Platform.WECOM, receiver.wecom("one"), None)
    for _ in range(25):
        assert delivery.deliver(one, "t", "家访 3 人", pacer=pacer, clock=clock, retries=0, post=post).ok
    times = [t for _, t in at]
    assert times.count(0.0) == 20 and all(60.0 <= t < 120.0 for t in times[20:])
    assert max(sum(1 for t in times if s <= t < s + 60) for s in times) == 20
    # the limit is the robot's (WeCom and DingTalk document it per robot): another group's robot goes at once
    other = delivery.Target(2, 2, None, Platform.WECOM, receiver.wecom("other"), None)
    delivery.deliver(other, "t", "家访 3 人", pacer=pacer, clock=clock, retries=0, post=post)
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
        return delivery.http_post(url, data, timeout)

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
        held = session.get(JobLease, lease.LEASE)
        assert held.holder == "host-a:1"
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


def test_a_run_that_loses_its_lease_stops_sending_and_says_so(demo_engine, receiver):
    a, b = _busy(demo_engine, ScopeKind.SCHOOL)[:2]
    _robots(
        demo_engine,
        [
            (a.key, Platform.WECOM, receiver.wecom("first"), None),
            (b.key, Platform.WECOM, receiver.wecom("second"), None),
        ],
    )

    def post_then_lose_the_lease(
        url, data, timeout
    ):  # the run stalls past its lease; another sender takes it
        with session_scope(demo_engine) as session:
            found = session.get(JobLease, lease.LEASE)
            found.holder, found.until = "host-b:1:later", datetime.now(UTC) + timedelta(hours=1)
            session.commit()
        return delivery.http_post(url, data, timeout)

    report = _run(demo_engine, post=post_then_lose_the_lease, holder="host-a:1:first")
    assert [g["robot"] for g in receiver.got] == ["first"]
    assert report.sent == 1 and report.lost_to.startswith("host-b:1:later") and report.exit_code == 1
    with session_scope(demo_engine) as session:  # the other holder's lease is left alone
        assert session.get(JobLease, lease.LEASE).holder == "host-b:1:later"


def test_each_run_has_its_own_name_on_the_lease_even_with_the_same_host_and_pid():
    one, other = lease.holder_name(), lease.holder_name()
    assert one != other and one.rsplit(":", 1)[0] == other.rsplit(":", 1)[0]


@pytest.mark.parametrize("days", [30, -30])
def test_the_lease_is_timed_by_the_databases_clock_not_the_apps(engine, monkeypatch, days):
    """XUEJI_TODAY (or a machine's wrong clock) moves the app's time by days; the lease still holds 10 minutes."""
    real = datetime.now(UTC)
    monkeypatch.setenv("XUEJI_TODAY", (real + timedelta(days=days)).date().isoformat())
    get_settings.cache_clear()
    with session_scope(engine) as session:
        session.add(JobLease(name=lease.LEASE, holder="elsewhere", until=real + timedelta(minutes=10)))
        session.commit()
        held = lease.take_lease(session, holder="here")
        assert held is not None and held.startswith("elsewhere")
        found = session.get(JobLease, lease.LEASE)
        found.until = real - timedelta(minutes=1)
        session.commit()
        assert lease.take_lease(session, holder="here") is None  # expired by the database's clock: taken
        assert session.get(JobLease, lease.LEASE, populate_existing=True).holder == "here"
    get_settings.cache_clear()


def test_a_failing_nightly_pass_is_reported_and_the_digests_still_go(demo_engine, receiver, actors):
    school = _busy(demo_engine, ScopeKind.SCHOOL)[0]
    _robots(demo_engine, [(school.key, Platform.WECOM, receiver.wecom("after-pass"), None)])
    said: list[str] = []
    with session_scope(demo_engine) as session:  # the administrator may send, but not run the ladder's pass
        report = sender.run(session, actor=actors["demo_admin"], clock=FakeClock(), say=said.append)
    assert report.advance_error.startswith("劝返复学每日推进失败") and report.sent == 1
    assert report.exit_code == 1 and len(receiver.got) == 1


def test_the_same_webhook_twice_in_one_group_is_refused_and_audited(demo_engine):
    first, second = [p for p in _places(demo_engine) if p.kind is ScopeKind.SCHOOL][:2]
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7e1c-4bc4-97a0-0ec2sifa5aaa"
    with session_scope(demo_engine) as session:
        actor = accounts.system_actor(session)
        hooks.add_hook(session, actor=actor, place=first, platform=Platform.WECOM, webhook=url)
        with pytest.raises(NotifyError, match="已有这个机器人"):
            hooks.add_hook(session, actor=actor, place=first, platform=Platform.WECOM, webhook=f" {url} ")
        hooks.add_hook(
            session, actor=actor, place=second, platform=Platform.WECOM, webhook=url
        )  # another group
        hooks.add_hook(session, actor=actor, place=first, platform=Platform.WECOM, webhook=url[:-4] + "bbbb")
        refused = session.scalars(
            select(AuditLog).where(AuditLog.entity_type == "robot_hook", AuditLog.outcome == "refused")
        ).all()
        assert len(refused) == 1 and len(hooks.hooks(session, actor=actor)) == 3


def test_only_a_group_in_the_actors_scope_can_be_previewed_or_sent(demo_engine):
    with session_scope(demo_engine) as session:
        mine, other = session.scalars(select(Township.id).order_by(Township.code)).all()[:2]
        foreign = session.scalar(select(School.code).where(School.township_id == other).order_by(School.code))
        actor = Actor(None, "admin_of_one_township", Role.ADMIN, ScopeKind.TOWNSHIP, mine)
        for dry_run in (True, False):
            with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
                sender.run(
                    session, actor=actor, dry_run=dry_run, only=f"school:{foreign}", say=lambda s: None
                )


def test_a_childs_name_that_is_part_of_the_schools_name_does_not_stop_its_digest(demo_engine):
    school = _busy(demo_engine, ScopeKind.SCHOOL)[0]
    with session_scope(demo_engine) as session:
        student = session.scalar(select(Student).where(Student.school_id == school.id).order_by(Student.id))
        student.name = school.name[:2]
        session.commit()
        built = digest.build(session, school, on=get_settings().today)
    assert built.text is not None and f"【xueji 待办】{school.name}" in built.text
