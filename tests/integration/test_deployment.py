"""The demo kept apart, on SQLite and PostgreSQL: `xueji serve` refuses a database holding the demo unless told it is
a demo (and the demo flag never starts over a real county), `xueji demo` refuses the deployment's database, and the
two scripts point at different databases (checked through their --dry-run, which installs and changes nothing)."""

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT
from xueji.cli import main as xueji_main
from xueji.config import SettingsError, default_database_url
from xueji.db import make_engine, migrate, session_scope
from xueji.demo.build import DEMO_SETTING_KEY
from xueji.models import AppSetting, AppUser, County
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.system import accounts, deployment

DEFAULT_DB = Path(default_database_url().removeprefix("sqlite:///"))


def _refusal(engine, *, demo: bool) -> str | None:
    with session_scope(engine) as session:
        return deployment.serve_refusal(session, demo=demo)


def _real_county(engine) -> None:
    """What `xueji init` and the first set-up leave: an administrator and the county."""
    with session_scope(engine) as session:
        accounts.create_first_admin(session, password="Gugang#2027x")
        session.add(County(code="430181000000", name="测试县"))
        session.commit()


# --- the check, on both databases ---------------------------------------------------------------------------------


def test_a_blank_database_is_served_either_way(engine):
    assert _refusal(engine, demo=False) is None and _refusal(engine, demo=True) is None
    with session_scope(engine) as session:
        assert deployment.is_blank(session) and not deployment.holds_demo(session)


def test_the_demo_database_is_refused_unless_told_it_is_a_demo(demo_engine):
    refusal = _refusal(demo_engine, demo=False)
    assert refusal is not None and refusal.startswith("拒绝启动:这个数据库里是演示数据")
    assert "make serve" in refusal and "--demo" in refusal
    assert _refusal(demo_engine, demo=True) is None


def test_demo_accounts_alone_make_a_database_a_demo(engine):
    """Even without the demo's mark (a database put together by hand from a demo's rows)."""
    with session_scope(engine) as session:
        session.add(
            AppUser(
                username="demo_admin",
                display_name="王管理",
                role=Role.ADMIN.value,
                scope_kind=ScopeKind.COUNTY.value,
            )
        )
        session.commit()
        assert session.get(AppSetting, DEMO_SETTING_KEY) is None and deployment.holds_demo(session)
    assert _refusal(engine, demo=False) is not None


def test_the_demo_flag_never_starts_over_a_real_county(engine):
    _real_county(engine)
    assert _refusal(engine, demo=False) is None
    refusal = _refusal(engine, demo=True)
    assert refusal is not None and "不是演示库" in refusal


# --- xueji serve and xueji demo on the command line ---------------------------------------------------------------


def test_serve_refuses_the_demo_with_exit_code_2_and_accepts_it_with_the_flag(
    demo_engine, use_database, capsys, monkeypatch
):
    assert xueji_main(["serve", "--dry-run"]) == 2
    said = capsys.readouterr()
    assert "拒绝启动:这个数据库里是演示数据" in said.err and "将启动" not in said.out
    assert xueji_main(["serve", "--demo", "--dry-run"]) == 0
    said = capsys.readouterr().out
    assert "模式:演示(--demo)" in said and "streamlit run" in said and "未做任何修改" in said
    monkeypatch.setenv("XUEJI_DEMO", "1")
    assert xueji_main(["serve", "--dry-run"]) == 0


def test_serve_dry_run_on_a_new_database_changes_nothing(tmp_path, monkeypatch, capsys):
    path = tmp_path / "new" / "xueji.db"
    monkeypatch.setenv("XUEJI_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("XUEJI_ADDRESS", "10.0.0.5")
    monkeypatch.setenv("XUEJI_PORT", "8601")
    from xueji.config import get_settings

    get_settings.cache_clear()
    assert xueji_main(["serve", "--dry-run", "--", "--server.headless", "true"]) == 0
    said = capsys.readouterr().out
    assert f"数据库:sqlite:///{path}" in said and "模式:正式(不载入演示数据)" in said
    assert "--server.address 10.0.0.5 --server.port 8601 --server.headless true" in said
    assert not path.exists() and not path.parent.exists()


def test_a_bad_port_is_a_setting_error():
    with pytest.raises(SettingsError, match="XUEJI_PORT"):
        deployment.serve_target({"XUEJI_PORT": "85o1"})
    assert deployment.serve_target({}) == deployment.ServeTarget("127.0.0.1", 8501)


def test_demo_refuses_a_database_that_init_has_made_a_deployment(engine, use_database, capsys):
    with session_scope(engine) as session:
        accounts.create_first_admin(session, password="Gugang#2027x")
    assert xueji_main(["demo", "--scale", "0.3"]) == 1
    assert "演示数据只能载入全新的空数据库" in capsys.readouterr().err
    assert xueji_main(["demo", "--if-empty"]) == 0
    assert "跳过演示数据" in capsys.readouterr().out
    with session_scope(engine) as session:
        assert not deployment.holds_demo(session)
        assert session.scalar(select(func.count()).select_from(County)) == 0


@pytest.mark.parametrize(
    "url",
    [
        default_database_url(),
        "sqlite:///data/xueji.db",  # relative to the project root, where the scripts run
        f"sqlite:///{ROOT}/data/../data/xueji.db",
    ],
)
def test_demo_refuses_the_default_deployment_database(url, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("XUEJI_DATABASE_URL", url)
    from xueji.config import get_settings

    get_settings.cache_clear()
    existed = DEFAULT_DB.exists()
    assert xueji_main(["demo", "--if-empty"]) == 1
    said = capsys.readouterr().err
    assert "是正式部署的默认数据库,演示数据不载入这里" in said and "--into-default" in said
    assert DEFAULT_DB.exists() == existed  # the refusal comes before anything opens the file
    assert deployment.default_database_refusal(url, into_default=True) is None
    assert deployment.default_database_refusal("sqlite:///data/demo/xueji.db", into_default=False) is None


# --- the two scripts ------------------------------------------------------------------------------------------------


def _script(name: str, *args: str, **env: str) -> tuple[int, dict[str, str], str]:
    """Run scripts/NAME --dry-run; its exit code, the "key:value" lines it printed, and all it printed."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_DEMO")}
    environment.update(env)
    done = subprocess.run(
        [str(ROOT / "scripts" / name), "--dry-run", *args],
        cwd="/",
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = dict(re.findall(r"^(数据库|审计密钥|模式|将启动):(.*)$", done.stdout, re.MULTILINE))
    return done.returncode, lines, done.stdout + done.stderr


def _marked_demo(path: Path) -> str:
    """A database carrying the demo's mark (what `xueji demo` leaves), without building a whole demo county."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        session.add(AppSetting(key=DEMO_SETTING_KEY, value="seed=7"))
        session.commit()
    return url


def test_run_and_serve_point_at_different_databases(tmp_path):
    deployed = f"sqlite:///{tmp_path / 'county.db'}"
    common = {"XUEJI_DATABASE_URL": deployed, "XUEJI_PORT": "8765"}
    code, serve, _ = _script("serve.sh", **common)
    assert code == 0
    assert serve["数据库"] == deployed and serve["模式"] == "正式(不载入演示数据)"
    assert serve["审计密钥"].startswith("环境变量 XUEJI_AUDIT_KEY")  # the deployment's own key, as set
    code, run, said = _script("run.sh", "--server.headless", "true", **common)
    assert code == 0
    demo = ROOT / "data" / "demo"
    assert run["数据库"] == f"sqlite:///{demo / 'xueji.db'}" != serve["数据库"]
    assert run["模式"] == "演示(--demo)" and "xueji demo --if-empty" in said
    assert run["审计密钥"] == f"{demo / 'audit.key'};锚点文件:{demo / 'audit-anchors.log'}"
    assert run["将启动"].startswith(f"{ROOT}/.venv/bin/python -m streamlit run {ROOT}/xueji_server.py")
    assert "--server.port 8765 --server.headless true" in run["将启动"]


def test_run_uses_the_demo_database_the_user_names(tmp_path):
    demo = _marked_demo(tmp_path / "my-demo.db")
    code, run, _ = _script("run.sh", XUEJI_DEMO_DATABASE_URL=demo)
    assert code == 0 and run["数据库"] == demo


def test_serve_sh_refuses_a_demo_database_and_run_sh_a_real_one(tmp_path):
    demo = _marked_demo(tmp_path / "demo.db")
    code, _, said = _script("serve.sh", XUEJI_DATABASE_URL=demo)
    assert code == 2 and "拒绝启动:这个数据库里是演示数据" in said and "将启动" not in said
    real = f"sqlite:///{tmp_path / 'county.db'}"
    migrate(make_engine(real))
    _real_county(make_engine(real))
    code, _, said = _script("run.sh", XUEJI_DEMO_DATABASE_URL=real)
    assert code == 2 and "不是演示库" in said


# --- xueji serve for real: init, the first administrator, the app --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_creates_the_first_administrator_and_starts_the_app(tmp_path):
    path = tmp_path / "county.db"
    port = _free_port()
    env = {**os.environ, "XUEJI_DATABASE_URL": f"sqlite:///{path}", "XUEJI_PORT": str(port)}
    env.pop("XUEJI_DEMO", None)
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "xueji"), "serve"],
            cwd="/",
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"xueji serve did not answer: {log.read_text()}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    said = log.read_text()
    password = re.search(r"已创建首个系统管理员账号:admin  一次性密码:(\S+)", said)
    assert password is not None, said
    assert f"xueji 已启动:监听 127.0.0.1:{port}" in said
    with session_scope(make_engine(f"sqlite:///{path}")) as session:
        signed = accounts.authenticate(session, username="admin", password=password.group(1))
        assert signed.must_change_password and not deployment.holds_demo(session)
