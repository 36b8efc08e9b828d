"""拉网式排查 on SQLite and PostgreSQL: planning, recording within one's team or township, submission with
reconciliation into lists and suspected-dropout cases (the weak match too), review, coverage counted in SQL,
the village sheet's round trip (updated, never duplicated; all or nothing) and the command line."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import col

from xueji.auth import PermissionDenied
from xueji.cli import main as xueji_main
from xueji.db import session_scope
from xueji.models import (
    AuditLog,
    Case,
    Child,
    Household,
    LadderStep,
    Student,
    Sweep,
    SweepChild,
    SweepFinding,
    SweepVillage,
    Township,
    Village,
)
from xueji.rules.id_number import build_id_number
from xueji.rules.sweeps import ChildFacts, FoundStatus, HouseholdFacts, MatchKind, VillageStatus
from xueji.services.common.calendar import terms
from xueji.services.sweeps import fieldwork, progress, reconciliation, sheet_import

pytestmark = pytest.mark.usefixtures("fixed_today")
GUGANG = "430181108000"
SHASHI = "430181106000"
VISITED = date(2026, 11, 20)


def village_of(engine, township: str, status: VillageStatus) -> tuple[int, int, str]:
    """(sweep village id, village id, village code) of the township's first village in this status."""
    with session_scope(engine) as session:
        return tuple(
            session.execute(
                select(SweepVillage.id, Village.id, Village.code)
                .join(Village, SweepVillage.village_id == Village.id)
                .join(Township, Village.township_id == Township.id)
                .where(Township.code == township, SweepVillage.status == status.value)
                .order_by(Village.code)
                .limit(1)
            ).one()
        )


def household(head: str = "张大山", group: str = "一组", **kw) -> HouseholdFacts:
    return HouseholdFacts(**({"head_name": head, "group_name": group, "visited_on": VISITED} | kw))


def unregistered(name: str = "张小明", **kw) -> ChildFacts:
    return ChildFacts(
        **({"name": name, "status": FoundStatus.NOT_ENROLLED, "birth_date": date(2014, 5, 6)} | kw)
    )


def counts(engine, model) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_township_official_sees_only_their_townships_sweep(demo_engine, actors):
    official = actors["demo_township"]
    other, _, _ = village_of(demo_engine, SHASHI, VillageStatus.REVIEWED)
    with session_scope(demo_engine) as session:
        assert {r.township for r in fieldwork.sweeps(session, actor=official)} == {"古港镇"}
        other_sweep = session.scalar(select(SweepVillage.sweep_id).where(SweepVillage.id == other))
        assert progress.village_coverage(session, actor=official, sweep_id=other_sweep) == []
        assert reconciliation.findings(session, actor=official, sweep_id=other_sweep) == []
    for call in (
        lambda s: fieldwork.village_households(s, actor=official, sweep_village_id=other),
        lambda s: fieldwork.review_village(s, actor=official, sweep_village_id=other, approve=True),
        lambda s: progress.export_summary(s, actor=official, sweep_id=other_sweep),
    ):
        with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
            call(session)
    with session_scope(demo_engine) as session:
        denied = session.scalars(select(AuditLog).where(AuditLog.action == "denied")).all()
    assert len(denied) == 3
    with session_scope(demo_engine) as session:  # the county sees every township's
        assert len(fieldwork.sweeps(session, actor=actors["demo_county"])) == 4


def test_a_teacher_records_only_in_the_villages_of_their_team(demo_engine, actors):
    teacher = actors["demo_teacher"]
    mine, _, _ = village_of(demo_engine, GUGANG, VillageStatus.IN_PROGRESS)
    with session_scope(demo_engine) as session:
        team_villages = {
            v.sweep_village_id
            for r in fieldwork.sweeps(session, actor=teacher)
            for v in progress.village_coverage(session, actor=teacher, sweep_id=r.id)
        }
    assert mine in team_villages and len(team_villages) == 2
    with session_scope(demo_engine) as session:
        other = session.scalar(
            select(SweepVillage.id).where(col(SweepVillage.id).not_in(team_villages)).limit(1)
        )
    before = counts(demo_engine, Household)
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        fieldwork.record_household(
            session, actor=teacher, sweep_village_id=other, household=household(), children=[unregistered()]
        )
    assert counts(demo_engine, Household) == before


def test_a_village_cannot_be_approved_before_it_is_submitted(demo_engine, actors):
    official = actors["demo_township"]
    village, _, _ = village_of(demo_engine, GUGANG, VillageStatus.IN_PROGRESS)
    with (
        session_scope(demo_engine) as session,
        pytest.raises(fieldwork.SweepError, match="只有已提交的村才能审核通过"),
    ):
        fieldwork.review_village(session, actor=official, sweep_village_id=village, approve=True)
    with session_scope(demo_engine) as session:
        assert session.get(SweepVillage, village).status == "in_progress"
        with pytest.raises(fieldwork.SweepError, match="退回须写明原因"):
            fieldwork.submit_village(session, actor=official, sweep_village_id=village)
            fieldwork.review_village(
                session, actor=official, sweep_village_id=village, approve=False, reason=" "
            )
    with session_scope(demo_engine) as session:
        assert session.get(SweepVillage, village).status == "submitted"


def test_a_submitted_village_is_reconciled_into_lists_and_cases(demo_engine, actors):
    official = actors["demo_township"]
    village, village_id, _ = village_of(demo_engine, GUGANG, VillageStatus.PLANNED)
    with session_scope(demo_engine) as session:  # a registry child of another village, found here, no ID
        living = session.execute(
            select(Student.id, Student.name, Student.birth_date, Student.home_village_id)
            .where(Student.status == "enrolled", Student.birth_date > date(2012, 1, 1))
            .where(col(Student.home_village_id).is_not(None))
            .order_by(Student.id)
            .limit(1)
        ).one()
        session.execute(
            Student.__table__.update().where(Student.id == living.id).values(home_village_id=village_id)  # type: ignore[attr-defined]
        )
        session.commit()
    number = build_id_number("430181", date(2013, 2, 3), 77, male=True)
    with session_scope(demo_engine) as session:
        fieldwork.record_household(
            session,
            actor=official,
            sweep_village_id=village,
            household=household(phone="13800138000"),
            children=[unregistered(), unregistered("张小刚", id_number=number, birth_date=None)],
        )
        fieldwork.record_household(
            session,
            actor=official,
            sweep_village_id=village,
            household=household("李四", "二组"),
            children=[ChildFacts(living.name, FoundStatus.DROPPED_OUT, birth_date=living.birth_date)],
        )
        assert session.get(SweepVillage, village).status == "in_progress"
        found = fieldwork.submit_village(session, actor=official, sweep_village_id=village)
    assert found == {
        "suspected_dropout": 3,
        "enrolled_absent": 1,
        "registry_mismatch": 0,
        "home_teaching_candidate": 0,
        "opened": 3,
    }
    with session_scope(demo_engine) as session:
        weak = session.scalars(
            select(SweepChild).where(SweepChild.name == living.name, SweepChild.sweep_village_id == village)
        ).one()
        assert (weak.match_kind, weak.student_id) == (MatchKind.WEAK.value, living.id)
        cases = session.execute(
            select(Child.name, Child.student_id, Child.guardian_name, Child.guardian_phone, Case.risk_level)
            .join(Case, Case.child_id == Child.id)
            .join(SweepChild, SweepChild.child_id == Child.id)
            .where(
                SweepChild.sweep_village_id == village,
                Case.category == "suspected_dropout",
                Case.source == "sweep",
            )
        ).all()
        assert sorted(cases, key=str) == sorted(
            [
                ("张小明", None, "张大山", "13800138000", "high"),
                ("张小刚", None, "张大山", "13800138000", "high"),
                (living.name, living.id, None, None, "high"),
            ],
            key=str,
        )
        reasons = session.scalars(
            select(SweepFinding.reason)
            .where(SweepFinding.sweep_child_id == weak.id)
            .order_by(SweepFinding.kind)
        ).all()
        assert all("弱匹配" in r for r in reasons) and len(reasons) == 2
        # each child found out of school starts on the return ladder: the school's step, open, with a deadline
        steps = session.execute(
            select(LadderStep.step, LadderStep.state)
            .join(Case, LadderStep.case_id == Case.id)
            .join(SweepChild, SweepChild.child_id == Case.child_id)
            .where(SweepChild.sweep_village_id == village, Case.source == "sweep")
        ).all()
        assert sorted(steps) == [("school", "open")] * 3
    with session_scope(
        demo_engine
    ) as session:  # reconciling again replaces the lists and opens nothing twice
        assert (
            reconciliation.run_reconciliation(session, actor=official, sweep_village_id=village)["opened"]
            == 0
        )
        assert session.scalar(select(func.count()).where(SweepFinding.sweep_village_id == village)) == 4
    with session_scope(demo_engine) as session:
        fieldwork.review_village(session, actor=official, sweep_village_id=village, approve=True)
        assert session.get(SweepVillage, village).status == "reviewed"
        actions = session.scalars(
            select(AuditLog.action).where(
                AuditLog.entity_type == "sweep_village", AuditLog.entity_id == str(village)
            )
        ).all()
    assert actions == ["submit", "reconcile", "approve"]


def test_the_same_child_cannot_be_recorded_in_two_villages_of_one_sweep(demo_engine, actors):
    official = actors["demo_township"]
    first, _, _ = village_of(demo_engine, GUGANG, VillageStatus.PLANNED)
    with session_scope(demo_engine) as session:
        number = session.scalar(
            select(SweepChild.id_number)
            .join(SweepVillage, SweepChild.sweep_village_id == SweepVillage.id)
            .where(SweepVillage.id != first, col(SweepChild.id_number).is_not(None))
            .join(Sweep, SweepVillage.sweep_id == Sweep.id)
            .join(Township, Sweep.township_id == Township.id)
            .where(Township.code == GUGANG)
            .limit(1)
        )
        with pytest.raises(fieldwork.SweepError, match="已在本次排查的"):
            fieldwork.record_household(
                session,
                actor=official,
                sweep_village_id=first,
                household=household(),
                children=[ChildFacts("某某", FoundStatus.NOT_ENROLLED, id_number=number)],
            )


def test_coverage_counts_households_children_and_lists_per_village(demo_engine, actors):
    official = actors["demo_township"]
    with session_scope(demo_engine) as session:
        sweep = fieldwork.sweeps(session, actor=official)[0]
        rows = progress.village_coverage(session, actor=official, sweep_id=sweep.id)
        members = progress.member_coverage(session, actor=official, sweep_id=sweep.id)
        for row in rows:
            visited = session.scalar(
                select(func.count()).where(Household.sweep_village_id == row.sweep_village_id)
            )
            children = session.scalars(
                select(SweepChild.status).where(SweepChild.sweep_village_id == row.sweep_village_id)
            ).all()
            assert row.visited == visited
            assert row.children == len(children)
            assert row.by_status == {FoundStatus(s): children.count(s) for s in set(children)}
            assert row.rate == (visited / row.household_count if row.household_count else None)
            assert row.late is (
                row.status in (VillageStatus.PLANNED, VillageStatus.IN_PROGRESS, VillageStatus.RETURNED)
            )
        assert sum(m.households for m in members) == sum(r.visited for r in rows)
        assert sum(m.children for m in members) == sum(r.children for r in rows)
        lists = sum(sum(r.by_finding.values()) for r in rows)
        assert lists == len(reconciliation.findings(session, actor=official, sweep_id=sweep.id))
        data = progress.export_summary(session, actor=official, sweep_id=sweep.id)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[:2] == ["村排查汇总", "排查人员"]
    assert book["村排查汇总"].max_row == len(rows) + 1
    numbers = [c.value for c in book["名在人不在"]["G"][1:]] + [
        c.value for c in book["就读与学籍不符"]["G"][1:]
    ]
    assert numbers and all("*" in n for n in numbers if n)  # ID numbers masked in the export
    with session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).where(AuditLog.action == "export")) == 1


def _filled(data: bytes, edit) -> bytes:
    book = load_workbook(io.BytesIO(data))
    edit(book["排查登记"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_village_sheet_goes_out_pre_filled_and_comes_back_updated_never_duplicated(demo_engine, actors):
    teacher = actors["demo_teacher"]
    village, village_id, _ = village_of(demo_engine, GUGANG, VillageStatus.IN_PROGRESS)
    with session_scope(demo_engine) as session:
        name, data = sheet_import.village_sheet(
            session, actor=teacher, sweep_village_id=village, reason="入户排查核对身份"
        )
        recorded = session.scalar(select(func.count()).where(SweepChild.sweep_village_id == village))
        registry = session.scalars(
            select(Student.id_number).where(Student.home_village_id == village_id)
        ).all()
    sheet = load_workbook(io.BytesIO(data))["排查登记"]
    assert sheet["A2"].value == "组" and sheet["L2"].value == "状况"
    prefilled = [r for r in sheet.iter_rows(min_row=3, values_only=True) if any(r)]
    visited = [r for r in prefilled if r[5]]
    assert len([r for r in visited if r[7]]) == recorded  # this sweep's children, as recorded
    numbers = {r[8] for r in prefilled if r[8]}
    assert numbers & set(registry)  # the registry's children living there not yet recorded
    validations = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert any("L3" in ref for ref in validations)  # the statuses as a drop-down

    def fill(ws):
        last = ws.max_row
        for row in range(3, last + 1):  # every household not yet visited: visited, children at school
            if ws.cell(row, 2).value and not ws.cell(row, 6).value:
                ws.cell(row, 6).value = "2026-11-21"
                if ws.cell(row, 8).value:
                    ws.cell(row, 12).value = "在本地学校就读"
        ws.cell(last + 1, 1).value = "九组"
        ws.cell(last + 1, 2).value = "赵新"
        ws.cell(last + 1, 6).value = "2026-11-21"  # a household with no school-age child

    filled = _filled(data, fill)
    with session_scope(demo_engine) as session:
        first = sheet_import.commit_sweep(session, actor=teacher, sweep_village_id=village, data=filled)
    households, children = counts(demo_engine, Household), counts(demo_engine, SweepChild)
    with session_scope(demo_engine) as session:
        again = sheet_import.commit_sweep(session, actor=teacher, sweep_village_id=village, data=filled)
    assert first.households_added > 0 and first.children_added > 0
    assert (again.households_added, again.children_added) == (0, 0)
    assert again.households_updated == first.households_added + first.households_updated
    assert (counts(demo_engine, Household), counts(demo_engine, SweepChild)) == (households, children)
    assert name.endswith("排查登记表.xlsx")


def test_a_sheet_with_one_bad_row_writes_nothing_and_reports_row_column_value_reason(demo_engine, actors):
    teacher = actors["demo_teacher"]
    village, _, _ = village_of(demo_engine, GUGANG, VillageStatus.IN_PROGRESS)
    with session_scope(demo_engine) as session:
        _, data = sheet_import.village_sheet(
            session, actor=teacher, sweep_village_id=village, reason="入户排查核对身份"
        )

    def fill(ws):
        row = ws.max_row + 1
        for column, value in enumerate(
            ["八组", "钱多", "", "12345", "", "2026-11-21", "", "钱小", "", "", "2016-01-01", "在读"], 1
        ):
            ws.cell(row, column).value = value
        ws.cell(row + 1, 1).value = "八组"
        ws.cell(row + 1, 2).value = "孙好"
        ws.cell(row + 1, 6).value = "2026-11-21"

    bad = _filled(data, fill)
    before = counts(demo_engine, Household)
    with session_scope(demo_engine) as session:
        sheet = sheet_import.check_sweep(session, actor=teacher, sweep_village_id=village, data=bad)
        problems = {(p.column, p.value, p.reason) for p in sheet.problems}
        assert ("联系电话", "12345", "联系电话应为11位手机号或带区号的固定电话") in problems
        assert any(
            c == "状况" and v == "在读" and r.startswith("应为在本地学校就读、") for c, v, r in problems
        )
        assert len(sheet.bad_rows) == 1
        with pytest.raises(sheet_import.SweepImportBlocked):
            sheet_import.commit_sweep(session, actor=teacher, sweep_village_id=village, data=bad)
    assert counts(demo_engine, Household) == before  # the good household (孙好) was not written either
    report = load_workbook(io.BytesIO(sheet_import.error_workbook(sheet))).active
    assert report.cell(1, report.max_column).value == "错误原因"
    assert "[联系电话]" in report.cell(2, report.max_column).value


def test_a_second_plan_for_the_same_term_is_refused_and_the_next_term_can_be_planned(demo_engine, actors):
    official = actors["demo_township"]
    with session_scope(demo_engine) as session:
        autumn, spring = [t for t in terms(session) if t.school_year_start == 2026]
        with pytest.raises(fieldwork.SweepError, match="已经制定过了"):
            fieldwork.plan_sweep(session, actor=official, term=autumn)
        planned = fieldwork.plan_sweep(session, actor=official, term=spring)
        villages = session.scalar(select(func.count()).where(SweepVillage.sweep_id == planned.id))
        assert villages == session.scalar(
            select(func.count()).select_from(Village).join(Township).where(Township.code == GUGANG)
        )
        # due 30 days after the spring term's start (2027-02-22, the Monday a week after the Spring Festival)
        assert (planned.reference_date, planned.due_date) == (date(2026, 8, 31), date(2027, 3, 24))
    with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
        fieldwork.plan_sweep(session, actor=actors["demo_county"], term=spring)


def test_the_command_line_imports_a_village_sheet_and_submits_it(
    demo_engine, actors, use_database, tmp_path, capsys
):
    village, _, code = village_of(demo_engine, GUGANG, VillageStatus.RETURNED)
    team = sweeps_team_user(demo_engine, village)
    sheet = tmp_path / "sheet.xlsx"
    assert (
        xueji_main(
            ["sweep", "sheet", "--village", code, "--out", str(sheet), "--reason", "入户排查", "--as", team]
        )
        == 0
    )

    def fill(ws):
        row = ws.max_row + 1
        for column, value in enumerate(
            [
                "十组",
                "周全",
                "",
                "13900000000",
                "1",
                "2026-11-22",
                "",
                "周小全",
                "",
                "男",
                "2015-06-01",
                "未入学",
            ],
            1,
        ):
            ws.cell(row, column).value = value

    sheet.write_bytes(_filled(sheet.read_bytes(), fill))
    assert (
        xueji_main(
            ["import", "sweep", str(sheet), "--village", code, "--term", "2026-1", "--submit", "--as", team]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "已提交本村排查并完成三比对" in out and "新建疑似辍学个案" in out
    with session_scope(demo_engine) as session:
        assert session.get(SweepVillage, village).status == "submitted"
        assert session.scalar(select(func.count()).where(SweepChild.name == "周小全")) == 1
    assert xueji_main(["import", "sweep", str(sheet), "--village", code, "--as", team]) == 1
    assert "不能再登记" in capsys.readouterr().err


def sweeps_team_user(engine, sweep_village_id: int) -> str:
    from xueji.models import AppUser, SweepTeamMember

    with session_scope(engine) as session:
        return session.scalar(
            select(AppUser.username)
            .join(SweepTeamMember, SweepTeamMember.user_id == AppUser.id)
            .where(SweepTeamMember.sweep_village_id == sweep_village_id)
            .limit(1)
        )


def test_a_village_reconciled_in_short_in_lists_gets_the_same_lists(demo_engine, actors, monkeypatch):
    """A village's children go to the database in IN lists of at most xueji.sql.IN_LIST_SIZE (PostgreSQL takes
    65,535 parameters a statement): three at a time gives the same lists and matches as one list."""
    village, _, _ = village_of(demo_engine, GUGANG, VillageStatus.REVIEWED)

    def reconciled() -> tuple[list, list]:
        with session_scope(demo_engine) as session:
            reconciliation.run_reconciliation(
                session, actor=actors["demo_township"], sweep_village_id=village
            )
            lists = session.execute(
                select(SweepFinding.sweep_child_id, SweepFinding.kind, SweepFinding.reason)
                .where(SweepFinding.sweep_village_id == village)
                .order_by(SweepFinding.sweep_child_id, SweepFinding.kind)
            ).all()
            matched = session.execute(
                select(SweepChild.id, SweepChild.student_id, SweepChild.match_kind)
                .where(SweepChild.sweep_village_id == village)
                .order_by(SweepChild.id)
            ).all()
        return lists, matched

    whole = reconciled()
    monkeypatch.setattr("xueji.sql.IN_LIST_SIZE", 3)
    assert reconciled() == whole
    assert len(whole[1]) > 3 and sum(m[1] is not None for m in whole[1]) > 3  # more than one list was sent
