"""The set-up workbook of a city's or province's deployment: a 市州 sheet, several counties each inside its city,
townships inside any of them; every row checked, all or nothing, the same file twice changes nothing."""

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from xueji.db import session_scope
from xueji.excel.setup_template import blank_template, filled_workbook
from xueji.models import AuditLog, City, County, Province, School, Township
from xueji.rules.setup_rows import CITY_SHEET, COUNTY_SHEET, SCHOOL_SHEET, TOWNSHIP_SHEET
from xueji.services.setup import workbook_import
from xueji.services.setup.workbook_import import CHANGED, NEW, UNCHANGED, SetupImportBlocked
from xueji.services.system import accounts

CITY = {
    CITY_SHEET: [("430100000000", "长沙市")],
    COUNTY_SHEET: [("430181000000", "浏阳市"), ("430182000000", "宁乡市")],
    TOWNSHIP_SHEET: [("430181108000", "古港镇"), ("430182105000", "花明楼镇")],
    SCHOOL_SHEET: [
        ("2143016965", "古港镇完全小学", "小学", "430181108000"),
        ("2143018201", "花明楼镇中心小学", "小学", "430182105000"),
    ],
}


def _book(**sheets) -> bytes:
    return filled_workbook({**CITY, **sheets})


@pytest.fixture
def admin(engine):
    with session_scope(engine) as session:
        accounts.create_first_admin(session)
        return accounts.actor_by_username(session, "admin")


def _check(engine, actor, data):
    with session_scope(engine) as session:
        return workbook_import.check_workbook(session, actor=actor, data=data, file_name="市州.xlsx")


def _commit(engine, actor, data):
    with session_scope(engine) as session:
        return workbook_import.commit_workbook(session, actor=actor, data=data, file_name="市州.xlsx")


def _state(engine):
    with session_scope(engine) as session:
        return {
            "provinces": session.execute(select(Province.code, Province.name)).all(),
            "cities": session.execute(select(City.code, City.name)).all(),
            "counties": session.execute(
                select(County.code, County.name, City.code).join(City).order_by(County.code)
            ).all(),
            "townships": session.execute(
                select(Township.code, County.code).join(County).order_by(Township.code)
            ).all(),
            "schools": session.scalar(select(func.count()).select_from(School)),
        }


def test_a_city_with_two_counties_imports_and_the_same_file_again_changes_nothing(engine, admin):
    planned = _check(engine, admin, _book())
    assert planned.problems == []
    assert planned.sheets == [CITY_SHEET, COUNTY_SHEET, TOWNSHIP_SHEET, SCHOOL_SHEET]
    assert planned.counts(CITY_SHEET)[NEW] == 1 and planned.counts(COUNTY_SHEET)[NEW] == 2
    result = _commit(engine, admin, _book())
    assert result.accounts_given_county == 2  # the administrator and the operator: the first new county
    assert _state(engine) == {
        "provinces": [("430000000000", "湖南省")],
        "cities": [("430100000000", "长沙市")],
        "counties": [("430181000000", "浏阳市", "430100000000"), ("430182000000", "宁乡市", "430100000000")],
        "townships": [("430181108000", "430181000000"), ("430182105000", "430182000000")],
        "schools": 2,
    }
    before = _state(engine)
    with session_scope(engine) as session:
        entries = session.scalar(select(func.count()).select_from(AuditLog))
    again = _check(engine, admin, _book())
    assert again.problems == [] and again.changes == 0
    assert {i.status for i in again.items} == {UNCHANGED}
    _commit(engine, admin, _book())
    assert _state(engine) == before
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditLog)) == entries


def test_a_lone_county_joins_its_city_and_a_later_county_needs_no_city_row(engine, admin):
    lone = filled_workbook({COUNTY_SHEET: [("430181000000", "浏阳市")]})
    _commit(engine, admin, lone)
    planned = _check(
        engine, admin, filled_workbook({CITY_SHEET: CITY[CITY_SHEET], COUNTY_SHEET: CITY[COUNTY_SHEET]})
    )
    liuyang = next(i for i in planned.items if i.code == "430181000000")
    assert liuyang.status == CHANGED and liuyang.changes == ("所属市州:无 → 长沙市",)
    _commit(engine, admin, filled_workbook({CITY_SHEET: CITY[CITY_SHEET], COUNTY_SHEET: CITY[COUNTY_SHEET]}))
    # the database holds a city now: a later file adds a county of it without repeating the 市州 sheet
    _commit(engine, admin, filled_workbook({COUNTY_SHEET: [("430121000000", "长沙县")]}))
    assert [c[0] for c in _state(engine)["counties"]] == ["430121000000", "430181000000", "430182000000"]


def test_every_wrong_row_is_named_and_nothing_is_written(engine, admin):
    bad = _book(
        **{
            CITY_SHEET: [("430100000000", "长沙市"), ("430101000000", "芙蓉"), ("990100000000", "无省市")],
            COUNTY_SHEET: [("430181000000", "浏阳市"), ("430202000000", "株洲荷塘区")],
            TOWNSHIP_SHEET: [("430181108000", "古港镇"), ("430199100000", "外县镇")],
            SCHOOL_SHEET: CITY[SCHOOL_SHEET][:1],
        }
    )
    planned = _check(engine, admin, bad)
    found = {(p.sheet, p.value): p.reason for p in planned.problems}
    assert "应为市(州)级行政区划代码(第5–12位为0)" in found[CITY_SHEET, "430101000000"]
    assert "不是任何一个省级行政区的代码" in found[CITY_SHEET, "990100000000"]
    assert "所属市州 430200000000 不在“市州”表中" in found[COUNTY_SHEET, "430202000000"]
    assert "所属县区 430199000000 不在“县区”表中" in found[TOWNSHIP_SHEET, "430199100000"]
    assert len(planned.problems) == 4
    before = _state(engine)
    with pytest.raises(SetupImportBlocked):
        _commit(engine, admin, bad)
    assert _state(engine) == before and before["counties"] == []
    with session_scope(engine) as session:
        assert session.scalar(
            select(func.count()).where(AuditLog.action == "import", col(AuditLog.outcome) == "refused")
        )


def test_the_city_template_has_the_city_sheet_and_imports_nothing(engine, admin):
    planned = _check(engine, admin, blank_template(cities=True))
    assert planned.sheets[0] == CITY_SHEET and planned.items == [] and planned.problems == []
