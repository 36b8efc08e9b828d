from datetime import date

import pytest

from xueji.config import SettingsError, settings_from_env


def test_defaults_are_a_sqlite_file_in_data_and_the_legal_numbers():
    s = settings_from_env({})
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("data/xueji.db")
    assert s.class_size_limit == 55
    assert s.status_change_working_days == 7
    assert s.today is None
    assert (s.sweep_age_date, s.sweep_days) == ((8, 31), 30)
    assert (s.home_teaching.visits_per_term, s.home_teaching.min_class_hours) == (5, 2)
    assert s.home_teaching.skip_months == frozenset()
    assert s.class_hour_minutes == (40, 45)


def test_values_come_from_the_environment():
    s = settings_from_env(
        {
            "XUEJI_DATABASE_URL": "postgresql://u@h/db",
            "XUEJI_TODAY": "2026-09-01",
            "XUEJI_CLASS_SIZE_LIMIT": "45",
            "XUEJI_SWEEP_AGE_DATE": "09-01",
            "XUEJI_HOME_TEACHING_SKIP_MONTHS": "2",
        }
    )
    assert s.sweep_age_date == (9, 1)
    assert s.home_teaching.skip_months == frozenset({2})
    assert s.database_url == "postgresql://u@h/db"
    assert s.today == date(2026, 9, 1)
    assert s.class_size_limit == 45


@pytest.mark.parametrize(
    "env",
    [
        {"XUEJI_DATABASE_URL": "mysql://x"},
        {"XUEJI_TODAY": "23/11/2026"},
        {"XUEJI_CLASS_SIZE_LIMIT": "many"},
        {"XUEJI_CLASS_SIZE_LIMIT": "0"},
        {"XUEJI_SCHOOL_YEAR_START_MONTH": "13"},
        {"XUEJI_SWEEP_AGE_DATE": "31-08"},
        {"XUEJI_HOME_TEACHING_SKIP_MONTHS": "2月"},
        {"XUEJI_HOME_TEACHING_VISITS": "0"},
    ],
)
def test_unsafe_or_malformed_values_are_refused_in_chinese(env):
    with pytest.raises(SettingsError, match="应为|只支持|不能小于"):
        settings_from_env(env)
