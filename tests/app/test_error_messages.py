"""Errors in the app: refusals are Chinese messages with user text shown as text; anything unexpected is a Chinese
message with a reference number (and, under AppTest only, the exception itself, so that no test passes over a
crash). The browser's view, without tracebacks, is tested in tests/e2e/test_error_details.py."""

import tomllib

from sqlalchemy import text

from tests.app.conftest import sign_in
from tests.conftest import ROOT


def test_the_config_keeps_tracebacks_and_the_table_download_out_of_the_browser():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["disableDataExport"] is True
    assert config["server"]["address"] == "127.0.0.1"


def test_an_unexpected_error_on_a_page_is_shown_in_chinese_with_a_reference_number(demo_sqlite):
    with demo_sqlite.begin() as conn:
        conn.execute(
            text(
                "UPDATE school_class SET code = 'XXXXXXX' WHERE id = (SELECT min(k.id) FROM school_class k "
                "JOIN school c ON c.id = k.school_id WHERE c.code = '2143016965')"
            )
        )
    at = sign_in("demo_registrar")
    at.switch_page("pages/registry/students.py").run()
    assert at.error and at.error[0].value.startswith("系统出错,本次操作没有完成")
    assert "错误编号" in at.error[0].value
    assert at.exception  # AppTest still sees the crash itself
