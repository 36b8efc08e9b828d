"""基础数据导入 on an empty migrated database (SQLite and PostgreSQL): the county from the set-up workbook, each
kind of bad row refused with its reason and nothing written, idempotence, a newer file renaming, adding and moving
(nothing deleted), one county per deployment, the dry run, the audit entries, and the command line."""

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select
from sqlmodel import SQLModel

from xueji import cli
from xueji.auth import Actor, PermissionDenied
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.excel.limits import ImportKind, TemplateError
from xueji.excel.setup_template import INSTRUCTIONS, blank_template, filled_workbook
from xueji.excel.simple_table import read_tables
from xueji.models import AppUser, AuditLog, County, School, SchoolYear, Term, Township, Village
from xueji.rules.setup_rows import (
    COUNTY_SHEET,
    SCHOOL_SHEET,
    SHEETS,
    TERM_SHEET,
    TOWNSHIP_SHEET,
    VILLAGE_SHEET,
)
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.registry import file_import
from xueji.services.setup import workbook_import
from xueji.services.setup.workbook_import import CHANGED, NEW, UNCHANGED, SetupImportBlocked
from xueji.services.system import accounts, holidays

COUNTY = [("430181000000", "浏阳市")]
TOWNSHIPS = [("430181108000", "古港镇"), ("430181106000", "沙市镇")]
VILLAGES = [("430181108201", "梅田村"), ("430181108202", "沔江村"), ("430181106201", "龙泉村")]
SCHOOLS = [
    ("2143016965", "古港镇完全小学", "小学", "430181108000"),
    ("2143016966", "古港镇中学", "初级中学", "430181108000"),
]
TERMS = [
    ("2026-2027", "第一学期", "2026-09-01", "2027-01-20"),
    ("2026-2027", "第二学期", "2027-02-22", "2027-07-09"),
]
FULL = {COUNTY_SHEET: COUNTY, TOWNSHIP_SHEET: TOWNSHIPS, VILLAGE_SHEET: VILLAGES, SCHOOL_SHEET: SCHOOLS,
        TERM_SHEET: TERMS}  # fmt: skip
TABLES: tuple[type[SQLModel], ...] = (County, Township, Village, School, SchoolYear, Term, AuditLog)


def workbook(**sheets: list) -> bytes:
    return filled_workbook(sheets or FULL)


def first_row(sheet: str) -> int:
    """The row of a filled workbook's first data row: under the sheet's instructions and its header."""
    return len(INSTRUCTIONS[sheet]) + 2


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}


@pytest.fixture
def admin(engine: Engine) -> Actor:
    """The first administrator, as `xueji init` creates it on an empty database (no county yet)."""
    with session_scope(engine) as session:
        accounts.create_first_admin(session)
        return accounts.actor_by_username(session, "admin")


def check(engine: Engine, actor: Actor, data: bytes) -> workbook_import.SetupCheck:
    with session_scope(engine) as session:
        return workbook_import.check_workbook(session, actor=actor, data=data, file_name="设置.xlsx")


def commit(engine: Engine, actor: Actor, data: bytes) -> workbook_import.SetupResult:
    with session_scope(engine) as session:
        return workbook_import.commit_workbook(session, actor=actor, data=data, file_name="设置.xlsx")


def test_a_full_workbook_sets_up_the_county_and_gives_the_first_accounts_their_county(engine, admin):
    before = counts(engine)
    planned = check(engine, admin, workbook())
    assert planned.problems == []
    assert {s: planned.counts(s)[NEW] for s in SHEETS} == {
        COUNTY_SHEET: 1, TOWNSHIP_SHEET: 2, VILLAGE_SHEET: 3, SCHOOL_SHEET: 2, TERM_SHEET: 2
    }  # fmt: skip
    assert counts(engine) == before  # the check (dry run) wrote nothing

    result = commit(engine, admin, workbook())
    assert result.accounts_given_county == 2  # the administrator and the command line's operator
    after = counts(engine)
    assert (after["County"], after["Township"], after["Village"], after["School"]) == (1, 2, 3, 2)
    assert (after["SchoolYear"], after["Term"]) == (1, 2)
    with session_scope(engine) as session:
        county_id = session.scalar(select(County.id))
        assert session.scalar(select(AppUser.county_id).where(AppUser.username == "admin")) == county_id
        school = session.scalar(select(School).where(School.code == "2143016966"))
        assert school.kind == "junior" and school.name == "古港镇中学"
        township = session.get(Township, school.township_id)
        assert township.code == "430181108000"
        village = session.scalar(select(Village).where(Village.code == "430181106201"))
        assert session.get(Township, village.township_id).name == "沙市镇"
        created = session.execute(
            select(AuditLog.entity_type, AuditLog.after)
            .where(AuditLog.action == "create", AuditLog.outcome == "success", AuditLog.entity_type != "user")
            .order_by(AuditLog.id)
        ).all()
        # the new rows of a sheet in one entry (how many, which codes), each term in its own
        assert [k for k, _ in created] == ["county", "township", "village", "school", "term", "term"]
        villages = dict(created)["village"]
        assert villages["count"] == 3 and villages["codes"] == [code for code, _ in VILLAGES]
        summary = session.scalar(
            select(AuditLog).where(AuditLog.action == "import", AuditLog.entity_type == "setup")
        )
        assert summary.after["sheets"][VILLAGE_SHEET] == {NEW: 3, CHANGED: 0, UNCHANGED: 0}
        given = session.scalar(
            select(func.count()).where(AuditLog.entity_type == "user", AuditLog.action == "update")
        )
        assert given == 2


def test_importing_the_same_file_again_changes_nothing(engine, admin):
    commit(engine, admin, workbook())
    before = counts(engine)
    again = check(engine, admin, workbook())
    assert again.problems == [] and again.changes == 0
    assert {i.status for i in again.items} == {UNCHANGED} and len(again.items) == 10
    result = commit(engine, admin, workbook())
    assert result.check.changes == 0
    assert counts(engine) == before  # not even an audit entry: nothing happened


def test_a_newer_file_renames_adds_and_moves_and_deletes_nothing(engine, admin):
    commit(engine, admin, workbook())
    newer = workbook(
        **{
            TOWNSHIP_SHEET: [("430181108000", "古港镇人民政府"), ("430181106000", "沙市镇")],
            VILLAGE_SHEET: [("430181108201", "梅田村"), ("430181108203", "新建村")],  # 沔江村 left out
            SCHOOL_SHEET: [("2143016966", "沙市镇九年一贯制学校", "九年一贯制学校", "430181106000")],
            TERM_SHEET: [("2026-2027", "第二学期", "2027-03-01", "2027-07-09")],
        }
    )
    planned = check(engine, admin, newer)
    assert planned.problems == []
    by_code = {i.code: i for i in planned.items}
    assert by_code["430181108000"].status == CHANGED
    assert by_code["430181108000"].changes == ("名称:古港镇 → 古港镇人民政府",)
    assert by_code["430181108203"].status == NEW and by_code["430181108201"].status == UNCHANGED
    moved = by_code["2143016966"]
    assert moved.status == CHANGED
    assert moved.changes == (
        "名称:古港镇中学 → 沙市镇九年一贯制学校",
        "办学类型:初级中学 → 九年一贯制学校",
        "所在乡镇(迁移):古港镇人民政府 → 沙市镇",
    )
    assert by_code["2026-2"].changes == ("日期:2027-02-22 至 2027-07-09 → 2027-03-01 至 2027-07-09",)
    before = counts(engine)
    commit(engine, admin, newer)
    after = counts(engine)
    assert after["Village"] == before["Village"] + 1 and after["School"] == before["School"]
    with session_scope(engine) as session:
        assert session.scalar(select(Village.name).where(Village.code == "430181108202")) == "沔江村"  # kept
        school = session.scalar(select(School).where(School.code == "2143016966"))
        assert session.get(Township, school.township_id).code == "430181106000" and school.kind == "nine_year"
        assert session.scalar(select(Term.start_date).where(Term.seq == 2)) == date(2027, 3, 1)
        change = session.scalar(
            select(AuditLog).where(
                AuditLog.action == "update",
                AuditLog.entity_type == "school",
                AuditLog.entity_id == str(school.id),
            )
        )
        assert change.before["kind"] == "junior" and change.after["kind"] == "nine_year"
        assert "第" in change.detail and "迁移" in change.detail


def test_each_kind_of_bad_row_is_refused_with_its_reason_and_nothing_is_written(engine, admin):
    bad = workbook(
        **{
            COUNTY_SHEET: COUNTY,
            TOWNSHIP_SHEET: [*TOWNSHIPS, ("430181108201", "梅田村"), ("430181106000", "沙市")],
            VILLAGE_SHEET: [("430181109201", "某村"), ("430181108201", "梅田村"), ("430181108202", "梅田村")],
            SCHOOL_SHEET: [
                ("214301696", "短码小学", "小学", "430181108000"),
                ("2143016967", "一中", "高级中学", "430181108000"),
                ("2143016968", "外乡小学", "小学", "430181109000"),
                ("2143016969", "", "小学", "430181108000"),
            ],
            TERM_SHEET: [
                ("2025-2026", "第二学期", "2026-02-17", "2026-07-10"),
                ("2026-2028", "第一学期", "2026-09-01", "2027-01-20"),
            ],
        }
    )
    planned = check(engine, admin, bad)
    found = {(p.sheet, p.row, p.column): p.reason for p in planned.problems}
    first = {sheet: first_row(sheet) for sheet in SHEETS}
    expected = {
        (TOWNSHIP_SHEET, first[TOWNSHIP_SHEET] + 2, "行政区划代码"): "应为乡镇级行政区划代码",
        (TOWNSHIP_SHEET, first[TOWNSHIP_SHEET] + 3, "行政区划代码"): f"与第{first[TOWNSHIP_SHEET] + 1}行重复",
        (VILLAGE_SHEET, first[VILLAGE_SHEET], "行政区划代码"): "所属乡镇 430181109000 不在“乡镇”表中",
        (VILLAGE_SHEET, first[VILLAGE_SHEET] + 2, "名称"): "同一乡镇内与第",
        (SCHOOL_SHEET, first[SCHOOL_SHEET], "学校标识码"): "学校标识码应为10位数字",
        (SCHOOL_SHEET, first[SCHOOL_SHEET] + 1, "办学类型"): "高级中学不实施义务教育",
        (SCHOOL_SHEET, first[SCHOOL_SHEET] + 2, "所在乡镇行政区划代码"): "不在“乡镇”表中",
        (SCHOOL_SHEET, first[SCHOOL_SHEET] + 3, "学校名称"): "必填",
        (
            TERM_SHEET,
            first[TERM_SHEET],
            "开学日期",
        ): "开学日期 2026-02-17 是春节假期,请改为节后第一个上课日(2026-02-24)",
        (TERM_SHEET, first[TERM_SHEET] + 1, "学年"): "学年应为相连的两年",
    }
    for key, reason in expected.items():
        assert key in found and reason in found[key], (key, found)

    before = counts(engine)
    with pytest.raises(SetupImportBlocked, match="未导入任何数据"):
        commit(engine, admin, bad)
    after = counts(engine)
    assert {k: v for k, v in after.items() if k != "AuditLog"} == {
        k: v for k, v in before.items() if k != "AuditLog"
    }
    assert after["County"] == 0  # all or nothing: the good county row was not written either
    with session_scope(engine) as session:
        refused = session.scalar(
            select(AuditLog).where(AuditLog.action == "import", AuditLog.outcome == "refused")
        )
        assert refused is not None and ImportKind.SETUP.label in refused.detail

    errors = load_workbook(BytesIO(workbook_import.error_workbook(planned)))
    assert errors.sheetnames == [TOWNSHIP_SHEET, VILLAGE_SHEET, SCHOOL_SHEET, TERM_SHEET]
    school_rows = list(errors[SCHOOL_SHEET].values)
    assert school_rows[0] == ("学校标识码", "学校名称", "办学类型", "所在乡镇行政区划代码", "错误原因")
    assert len(school_rows) == 5 and "高级中学不实施义务教育" in school_rows[2][4]


def test_a_second_county_is_refused(engine, admin):
    commit(engine, admin, workbook())
    planned = check(engine, admin, workbook(**{COUNTY_SHEET: [("430102000000", "芙蓉区")]}))
    (problem,) = planned.problems
    assert problem.sheet == COUNTY_SHEET and "本系统已设置县区 浏阳市(430181000000)" in problem.reason
    with pytest.raises(SetupImportBlocked):
        commit(engine, admin, workbook(**{COUNTY_SHEET: [("430102000000", "芙蓉区")]}))
    with session_scope(engine) as session:
        assert session.scalars(select(County.code)).all() == ["430181000000"]


def test_a_later_file_may_hold_only_some_sheets(engine, admin):
    commit(engine, admin, workbook(**{k: v for k, v in FULL.items() if k != TERM_SHEET}))
    assert counts(engine)["Term"] == 0
    later = check(engine, admin, workbook(**{TERM_SHEET: TERMS}))
    assert later.sheets == [TERM_SHEET] and later.counts(TERM_SHEET)[NEW] == 2
    commit(engine, admin, workbook(**{TERM_SHEET: TERMS}))
    assert counts(engine)["Term"] == 2


def test_the_blank_template_imports_nothing_its_example_rows_are_skipped(engine, admin):
    planned = check(engine, admin, blank_template())
    assert planned.sheets == list(SHEETS)
    assert planned.problems == [] and planned.items == []


def test_a_file_without_any_set_up_sheet_is_refused_and_audited(engine, admin):
    with pytest.raises(TemplateError, match="文件中没有 县区、乡镇、村社区、学校、学期 中的任何一个工作表"):
        check(engine, admin, holidays.template())
    with session_scope(engine) as session:
        refused = session.scalars(select(AuditLog.detail).where(AuditLog.outcome == "refused")).all()
    assert len(refused) == 1 and "上线设置导入被拒绝" in refused[0]


def test_a_closed_school_is_not_reopened_by_an_import(engine, admin):
    commit(engine, admin, workbook())
    with session_scope(engine) as session:
        # closed and merged as the 区划与学校 page does (services.setup.school_merge), set here directly
        taker = session.scalar(select(School.id).where(School.code == "2143016965"))
        closed = session.scalar(select(School).where(School.code == "2143016966"))
        closed.closed_on, closed.merged_into_id = date(2027, 8, 31), taker
        session.commit()
    planned = check(engine, admin, workbook())
    (problem,) = planned.problems
    assert (problem.sheet, problem.column, problem.value) == (SCHOOL_SHEET, "学校标识码", "2143016966")
    assert problem.reason == "该学校已于 2027-08-31 撤并到古港镇完全小学,如需恢复请在“区划与学校”页办理"


def test_only_the_administrator_may_import_and_a_denial_is_audited(engine, admin):
    commit(engine, admin, workbook())
    with session_scope(engine) as session:
        officer, _ = accounts.create_user(
            session,
            actor=accounts.system_actor(session),
            username="county1",
            display_name="县局",
            role=Role.COUNTY_OFFICER,
            scope_kind=ScopeKind.COUNTY,
            scope_code="430181000000",
        )
        actor = accounts.actor_of(officer)
    with pytest.raises(PermissionDenied):
        check(engine, actor, workbook())
    with session_scope(engine) as session:
        assert (
            session.scalar(
                select(func.count()).where(AuditLog.outcome == "denied", AuditLog.user_id == actor.user_id)
            )
            == 1
        )


def test_the_command_line_writes_the_template_and_imports(use_database, engine, tmp_path: Path, capsys):
    template = tmp_path / "模板.xlsx"
    assert cli.main(["setup", "template", str(template)]) == 0
    sheets = read_tables(template.read_bytes(), workbook_import.SPECS, kind=ImportKind.SETUP)
    assert set(sheets) == set(SHEETS) and all(rows and len(rows) == 1 for rows in sheets.values())  # examples

    good = tmp_path / "设置.xlsx"
    good.write_bytes(workbook())
    assert cli.main(["setup", "import", str(good), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "县区:新增 1" in out and "村社区:新增 3" in out and "仅检查(--dry-run),未写入" in out
    assert counts(engine)["County"] == 0
    assert cli.main(["setup", "import", str(good)]) == 0
    assert "已导入" in capsys.readouterr().out
    assert counts(engine)["Village"] == 3

    bad = tmp_path / "有错.xlsx"
    bad.write_bytes(workbook(**{SCHOOL_SHEET: [("214301696", "短码小学", "小学", "430181108000")]}))
    errors = tmp_path / "错误报告.xlsx"
    assert cli.main(["setup", "import", str(bad), "--errors-out", str(errors)]) == 1
    err = capsys.readouterr().err
    assert f"[学校] 第{first_row(SCHOOL_SHEET)}行 [学校标识码] “214301696”" in err and errors.exists()


def test_a_new_kind_must_teach_the_stages_of_the_schools_classes(engine, admin, fixed_today):
    commit(engine, admin, workbook())
    with session_scope(engine) as session:
        data = template_workbook(
            list(template_rows([("2143016965", "primary")], 3, school_year=2026, seed=5))
        )
        file_import.import_file(
            session,
            actor=accounts.system_actor(session),
            data=data,
            school_code="2143016965",
            file_name="学籍.xlsx",
        )
    junior = [("2143016965", "古港镇完全小学", "初级中学", "430181108000")]
    planned = check(engine, admin, workbook(**{SCHOOL_SHEET: junior}))
    (problem,) = planned.problems
    assert (problem.sheet, problem.column, problem.value) == (SCHOOL_SHEET, "办学类型", "初级中学")
    assert problem.reason.startswith("新的办学类型是初级中学,不教班级 ")
    nine_year = [("2143016965", "古港镇完全小学", "九年一贯制学校", "430181108000")]
    assert check(engine, admin, workbook(**{SCHOOL_SHEET: nine_year})).problems == []
