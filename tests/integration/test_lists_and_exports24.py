"""Issue 24's smaller things, on SQLite and PostgreSQL: 排查进度's chart gives every village a bar, the villages
that need work first (late, returned, not started … reviewed last), 未开始 for a village not started; 比对结果
searched by name, village, household or an ID number's tail (never more of it than the screen shows) and
exported as searched, masked and audited; 学籍异动's list exported as shown, audited; 送教看板 tells a child
who can no longer comply this term in weeks and visits."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.factories import DEMO_SCHOOL
from tests.integration.test_status_changes import TODAY, student_in, submit_dropout
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog
from xueji.rules.status_changes import ChangeKind
from xueji.rules.sweeps import VillageStatus
from xueji.services.home_teaching import board, records
from xueji.services.registry import change_export, status_changes
from xueji.services.sweeps import fieldwork, progress, reconciliation

pytestmark = pytest.mark.usefixtures("fixed_today")
ORDER = [
    VillageStatus.RETURNED,
    VillageStatus.PLANNED,
    VillageStatus.IN_PROGRESS,
    VillageStatus.SUBMITTED,
    VillageStatus.REVIEWED,
]


def _sweep(engine, actor):
    with session_scope(engine) as session:
        sweep = fieldwork.sweeps(session, actor=actor)[0]
        return sweep, progress.village_coverage(session, actor=actor, sweep_id=sweep.id)


def _exports(engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(AuditLog.detail).where(AuditLog.action == "export")))


def test_every_village_has_a_bar_and_the_villages_needing_work_come_first(demo_engine, actors):
    _, villages = _sweep(demo_engine, actors["demo_township"])
    frame = progress.chart_frame(villages)
    assert len(frame) == len(villages)  # a village not started has its row too
    assert not frame.isna().any().any()  # no NaN label, no missing bar
    by_name = {v.name: v for v in villages}
    keys = [(not by_name[n].late, ORDER.index(by_name[n].status), by_name[n].rate or 0) for n in frame["村"]]
    assert keys == sorted(keys)  # late first, then by status, the least covered first
    assert frame["状态"].iloc[-1] == "已审核"  # approved villages last
    planned = frame[[by_name[n].status is VillageStatus.PLANNED for n in frame["村"]]]
    assert len(planned) and set(planned["标注"]) == {"未开始"} and set(planned["覆盖率(%)"]) == {0}
    counted = frame[[by_name[n].rate is not None for n in frame["村"]]]
    assert all(label.endswith("%") for label in counted["标注"])
    assert set(frame["状态"]) <= {s.label for s in VillageStatus} | {"已逾期"}


def test_the_lists_are_searched_by_name_village_household_and_an_id_tail(demo_engine, actors):
    official, county = actors["demo_township"], actors["demo_county"]
    sweep, _ = _sweep(demo_engine, official)
    with session_scope(demo_engine) as session:
        every = reconciliation.findings(session, actor=official, sweep_id=sweep.id)
        numbered = next(r for r in every if r.id_number)
        first = every[0]

        def found(actor, text: str) -> list:
            return reconciliation.findings(session, actor=actor, sweep_id=sweep.id, search=text)

        assert {r.name for r in found(official, first.name)} >= {first.name}
        assert all(first.name in r.name for r in found(official, first.name))
        assert {r.village for r in found(official, first.village)} == {first.village}
        head = first.household.split("组", 1)[1].removesuffix("户")
        assert first in found(official, head)
        tail = numbered.id_number[-4:]
        assert numbered in found(official, tail) and all(
            r.id_number.endswith(tail) for r in found(official, tail)
        )
        assert numbered in found(official, numbered.id_number[-8:])  # a full view: any tail
        assert found(county, numbered.id_number[-8:]) == []  # masked for the county: 4 characters at most
        assert len(found(county, tail)) == len(found(official, tail))
        assert found(official, f"{first.village} {first.name}") == [
            r for r in every if r.village == first.village and first.name in r.name
        ]
        assert found(official, "100%_") == [] and len(found(official, "  ")) == len(every)
        data = reconciliation.export_findings(
            session, actor=official, sweep_id=sweep.id, kind=first.kind, search=first.village
        )
    sheet = load_workbook(io.BytesIO(data)).active
    lines = list(sheet.iter_rows(min_row=2, values_only=True))
    assert lines and {line[1] for line in lines} == {first.village}  # the export is the searched list
    assert all("*" in line[6] for line in lines if line[6])  # ID numbers masked
    assert _exports(demo_engine) == [
        f"{first.kind.label} {len(lines)} 行;排查 {sweep.id};搜索“{first.village}”"
    ]


def test_the_status_change_list_is_exported_as_shown_and_audited(demo_engine, actors):
    registrar = actors["demo_registrar"]
    child = student_in(demo_engine, DEMO_SCHOOL, grade=3)
    submit_dropout(demo_engine, registrar, child.id, "外出打工")
    with session_scope(demo_engine) as session:
        rows = status_changes.list_changes(session, actor=registrar)
        shown = change_export.changes_frame(rows)
        data = change_export.export_changes(session, actor=registrar)
    assert len(shown) == len(rows) >= 2
    book = load_workbook(io.BytesIO(data))
    sheet = book["学籍异动"]
    assert [c.value for c in sheet[1]] == change_export.COLUMNS
    lines = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [line[0] for line in lines] == list(shown["编号"])
    open_line = next(line for line in lines if line[1] == child.name)
    assert (open_line[3], open_line[4], open_line[7]) == (ChangeKind.DROPOUT.label, "待审批", "7")
    assert (open_line[6].date(), open_line[10].date()) == (date(2026, 12, 2), TODAY)  # 7 working days
    assert all(line[7] == "—" for line in lines if line[4] != "待审批")  # decided: no days left
    assert not shown.isna().any().any()
    assert _exports(demo_engine) == [f"学籍异动 {len(rows)} 行"]


def test_a_child_who_can_no_longer_comply_is_told_weeks_and_visits_on_the_board(
    demo_engine, actors, monkeypatch
):
    coordinator = actors["demo_coordinator"]
    monkeypatch.setenv("XUEJI_HOME_TEACHING_VISITS", "12")  # a province asking 12 a term: 9 weeks left
    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        term = records.latest_term(session)
        rows = board.board(session, actor=coordinator, term=term)
    assert rows
    frame = board.board_frame(rows).set_index("姓名")
    for r in rows:
        c = r.compliance
        assert c.weeks_left == 9  # 23 November to 20 January (59 days)
        if c.missed:
            assert c.hopeless and c.out_of_reach.startswith("本学期已无法达标:已结束的月份补不上")
        elif c.needed > 9:
            assert frame.loc[r.name, "能否达标"] == f"本学期已无法达标:剩余 9 周,还需 {c.needed} 次"
        else:
            assert not c.hopeless and frame.loc[r.name, "能否达标"] in ("仍可达标", "已达标")
    assert any(r.compliance.out_of_reach.startswith("本学期已无法达标:剩余 9 周") for r in rows)
