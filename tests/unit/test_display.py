"""How values read on screen (ui.display): a label for every code, — for every empty value, few decimals, the
year on a date outside this year, times on the county's clock (XUEJI_TIME_ZONE)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from xueji import clock
from xueji.config import SettingsError, get_settings, settings_from_env
from xueji.rules.sweeps import VillageStatus
from xueji.rules.vocab import Role, ScopeKind
from xueji.ui import display
from xueji.ui.display import DASH


@pytest.fixture(autouse=True)
def demo_day(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XUEJI_TODAY", "2026-11-23")
    monkeypatch.delenv("XUEJI_TIME_ZONE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def zone(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("XUEJI_TIME_ZONE", name)
    get_settings.cache_clear()


@pytest.mark.parametrize("empty", [None, float("nan"), pd.NaT, pd.NA, "", "  "])
def test_nothing_reads_as_a_dash(empty):
    assert display.is_empty(empty)
    assert display.text(empty) == DASH
    assert display.label(empty, Role) == DASH


def test_codes_read_as_their_labels():
    assert display.text(Role.COUNTY_OFFICER) == "县教育局"
    assert display.label("county_officer", Role) == "县教育局"  # a code a query returned as text
    assert display.label("in_progress", VillageStatus) == "排查中"
    assert display.label("success", {"success": "成功"}) == "成功"
    assert display.label("unheard_of", Role) == "unheard_of"  # a code nobody knows is shown, not dropped
    assert display.text(ScopeKind.TOWNSHIP) == "乡镇"
    assert (display.text(True), display.text(False)) == ("是", "否")


def test_numbers_have_few_decimals_and_no_trailing_zeros():
    assert display.number(3.5) == "3.5"
    assert display.number(Decimal("3.500000")) == "3.5"
    assert display.number(12.0) == "12"
    assert display.number(0.26) == "0.3"
    assert display.number(0.256, places=2) == "0.26"
    assert display.number(7.4, places=0) == "7"
    assert display.text(Decimal("2.000")) == "2"


def test_a_date_has_its_year_unless_it_is_in_this_year():
    assert display.day(date(2026, 3, 15)) == "03-15"
    assert display.day(date(2025, 3, 15)) == "2025-03-15"  # eight months overdue, not next March
    assert display.day(date(2027, 1, 4)) == "2027-01-04"
    assert display.day(date(2026, 3, 15), long=True) == "2026-03-15"
    assert display.day(None) == DASH


def test_times_are_on_the_county_clock(monkeypatch):
    stored = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)  # 01:30 the next morning in Beijing
    assert display.clock(stored) == "2026-11-23 01:30"
    assert display.clock(stored.replace(tzinfo=None)) == "2026-11-23 01:30"  # naive means UTC
    assert display.clock(None) == DASH
    assert display.timed("最近登录") == "最近登录(北京时间)"
    zone(monkeypatch, "Asia/Urumqi")
    assert display.clock(stored) == "2026-11-22 23:30"
    assert display.timed("最近登录") == "最近登录(Asia/Urumqi)"
    assert clock.today() == date(2026, 11, 23)  # deadlines still count in Beijing days


def test_an_unknown_time_zone_is_refused_in_chinese():
    assert settings_from_env({}).time_zone == "Asia/Shanghai"
    assert settings_from_env({"XUEJI_TIME_ZONE": "Asia/Urumqi"}).time_zone == "Asia/Urumqi"
    for wrong in ("Asia/Beijing", "UTC+8", "../../etc/passwd"):
        with pytest.raises(SettingsError, match="XUEJI_TIME_ZONE"):
            settings_from_env({"XUEJI_TIME_ZONE": wrong})


def test_a_frame_reads_as_the_screen_shows_it():
    stored = pd.to_datetime(["2026-11-22 17:30", None], utc=True)
    raw = pd.DataFrame(
        {
            "角色": ["county_officer", None],
            "状态": [VillageStatus.IN_PROGRESS, None],
            "课时": [3.5, None],
            "人数": [12.0, None],
            "合计": [Decimal("3.500000"), None],
            "截止": [date(2025, 3, 15), None],
            "登录": stored,
            "说明": ["", "有说明"],
            "在读": [True, False],
            "编号": [1, 2],
        }
    )
    # pandas keeps a StrEnum member as its bare code in a text column: a column of codes names its enum
    shown = display.frame(raw, labels={"角色": Role, "状态": VillageStatus})
    assert shown.iloc[0].tolist() == [
        "县教育局", "排查中", 3.5, 12, 3.5, "2025-03-15", "2026-11-23 01:30", DASH, True, 1,
    ]  # fmt: skip
    assert shown.iloc[1, :2].tolist() == [DASH, DASH]
    assert shown.iloc[1, 5:8].tolist() == [DASH, DASH, "有说明"]
    # numbers stay numbers (they sort as numbers); their empty cells are drawn as — by the table
    assert shown.iloc[1][["课时", "人数", "合计"]].isna().all()
    assert str(shown["人数"].dtype) == "float64" and str(shown["编号"].dtype) == "int64"
    assert display.frame(raw, places=0)["课时"].iloc[0] == 4  # round half to even: 3.5 → 4
    assert display.frame(raw.head(0)).empty


def test_a_frame_of_dates_stored_as_timestamps_reads_as_dates():
    days = pd.DataFrame({"出生日期": pd.to_datetime(["2015-03-04", "2026-09-01", None])})
    assert display.frame(days)["出生日期"].tolist() == [
        "2015-03-04",
        "2026-09-01",
        DASH,
    ]  # the column alike: one date of another year


def test_a_column_of_dates_shows_the_year_on_every_date_once_one_is_not_this_year():
    import pandas as pd

    from xueji.ui import display

    this_year = display.today().year
    mixed = pd.DataFrame({"开学日期": [date(this_year, 9, 1), date(this_year + 1, 2, 22)]})
    same = pd.DataFrame({"开学日期": [date(this_year, 9, 1), date(this_year, 11, 2)]})
    assert list(display.frame(mixed)["开学日期"]) == [f"{this_year}-09-01", f"{this_year + 1}-02-22"]
    assert list(display.frame(same)["开学日期"]) == ["09-01", "11-02"]
