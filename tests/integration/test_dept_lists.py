"""部门名单导入 on SQLite and PostgreSQL: each kind imported as a version (rows, village, category, detail, audit),
a list with problems refused with nothing written and the right error workbook, versions numbered, the
difference between two versions, the list date's rules, the township official refused, a crafted file refused,
and the command line (--dry-run writes nothing; a refused file exits non-zero)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.hostile_workbooks import HOSTILE
from xueji.auth import PermissionDenied
from xueji.cli import main as xueji_main
from xueji.db import session_scope
from xueji.excel.limits import UnsafeWorkbook
from xueji.excel.tables import table_to_xlsx
from xueji.models import AuditLog, DeptList, DeptPerson, Township, Village
from xueji.rules.dept_lists import ListKind
from xueji.rules.id_number import build_id_number
from xueji.services.comparisons import list_import, versions

pytestmark = pytest.mark.usefixtures("fixed_today")
COUNTY = "demo_county"


def ids(n: int, *, start: int = 300) -> list[str]:
    return [
        build_id_number("430181", date(2016, 1 + i % 12, 1 + i % 28), start + i, male=i % 2 == 0)
        for i in range(n)
    ]


def workbook(kind: ListKind, rows: list[dict[str, str]]) -> bytes:
    """A list as a department sends it: the template's headers, one row per person."""
    return table_to_xlsx(pd.DataFrame(rows, columns=list(kind.columns)), sheet=kind.short)


def villages(engine) -> list[tuple[int, str]]:
    with session_scope(engine) as session:
        return list(
            session.execute(
                select(Village.id, Village.code)
                .join(Township, Village.township_id == Township.id)
                .where(Village.closed_on.is_(None))  # type: ignore[union-attr]
                .order_by(Village.code)
                .limit(2)
            ).all()
        )


def residents(engine, numbers: list[str], *, moved: str | None = None) -> list[dict[str, str]]:
    (_, first), (_, second) = villages(engine)
    return [
        {
            "姓名": f"户籍{chr(0x4E00 + i)}",
            "性别": "男" if int(n[16]) % 2 else "女",
            "出生日期": f"{n[6:10]}-{n[10:12]}-{n[12:14]}",
            "身份证号": n,
            "户籍地址": "一组",
            "户籍地行政区划代码": second if n == moved else first,
            "监护人姓名": "家长",
            "监护人电话": "13800001111",
        }
        for i, n in enumerate(numbers)
    ]


def count(engine, model, *where) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def commit(engine, actor, kind: ListKind, data: bytes, **kw) -> DeptList:
    with session_scope(engine) as session:
        return list_import.commit_list(
            session, actor=actor, kind=kind, data=data, file_name="名单.xlsx", **kw
        )


def test_each_kind_is_imported_as_the_next_version_of_the_county(demo_engine, actors):
    officer = actors[COUNTY]
    numbers = ids(4)
    (village_id, _), _ = villages(demo_engine)
    files = {
        ListKind.RESIDENTS: residents(demo_engine, numbers[:2]),
        ListKind.WELFARE: [{"姓名": "民政甲", "身份证号": numbers[0], "类别": "事实无人抚养", "认定日期": "2024-03-01"}],
        ListKind.DISABLED: [{"姓名": "残联乙", "身份证号": numbers[1], "残疾类别": "肢体残疾", "残疾等级": "2级"}],
        ListKind.HOUSEHOLDS: [
            {"户主姓名": "刘大山", "户主身份证号": "", "成员姓名": "刘丙", "成员身份证号": numbers[2], "户类型": "脱贫户"},
            {"户主姓名": "刘大山", "户主身份证号": "", "成员姓名": "刘丁", "成员身份证号": numbers[3], "户类型": "脱贫户"},
        ],
    }  # fmt: skip
    for kind, rows in files.items():
        before = count(demo_engine, DeptList, DeptList.kind == kind.value)
        saved = commit(demo_engine, officer, kind, workbook(kind, rows), list_date=date(2026, 11, 23))
        assert (saved.version, saved.row_count, saved.list_date) == (
            before + 1,
            len(rows),
            date(2026, 11, 23),
        )
        with session_scope(demo_engine) as session:
            people = session.scalars(
                select(DeptPerson).where(DeptPerson.list_id == saved.id).order_by(DeptPerson.row_number)
            ).all()
            entry = session.scalar(
                select(AuditLog).where(
                    AuditLog.entity_type == "dept_list", AuditLog.entity_id == str(saved.id)
                )
            )
        assert [p.person_key for p in people] == [r.get("身份证号") or r["成员身份证号"] for r in rows]
        assert entry.after["kind"] == kind.value and entry.after["rows"] == len(rows)
        assert entry.after["version"] == saved.version and "comparison" in entry.after
        first = people[0]
        if kind is ListKind.RESIDENTS:
            assert (first.village_id, first.guardian_phone, first.sex) == (village_id, "13800001111", "男")
        if kind is ListKind.WELFARE:
            assert (first.category, first.detail) == ("事实无人抚养儿童", {"认定日期": "2024-03-01"})
            assert (first.birth_date, first.sex) == (date(2016, 1, 1), "男")  # from the ID
        if kind is ListKind.DISABLED:
            assert (first.category, first.detail) == ("肢体", {"残疾等级": "二级"})
        if kind is ListKind.HOUSEHOLDS:
            assert first.category == "脱贫户" and first.detail == {"户主姓名": "刘大山"}


def test_a_list_with_problems_is_refused_whole_with_its_error_workbook(demo_engine, actors):
    officer = actors[COUNTY]
    rows = residents(demo_engine, ids(3))
    rows[1]["身份证号"] = rows[1]["身份证号"][:17] + ("1" if rows[1]["身份证号"][17] != "1" else "2")
    rows[2]["户籍地行政区划代码"] = "430181108000"
    data = workbook(ListKind.RESIDENTS, rows)
    lists, people = count(demo_engine, DeptList), count(demo_engine, DeptPerson)
    with session_scope(demo_engine) as session:
        sheet = list_import.check_list(
            session, actor=officer, kind=ListKind.RESIDENTS, data=data, file_name="x.xlsx"
        )
    assert sheet.bad_rows == {3, 4} and not sheet.people
    errors = load_workbook(io.BytesIO(list_import.error_workbook(sheet))).active
    table = list(errors.values)
    assert table[0][-1] == "错误原因" and len(table) == 3
    assert table[1][3] == rows[1]["身份证号"] and "校验位" in table[1][-1]
    assert "乡镇" in table[2][-1]
    with pytest.raises(list_import.ListImportBlocked, match="2 行有错误"):
        commit(demo_engine, officer, ListKind.RESIDENTS, data)
    assert (count(demo_engine, DeptList), count(demo_engine, DeptPerson)) == (lists, people)
    assert (
        count(demo_engine, AuditLog, AuditLog.outcome == "refused", AuditLog.detail.contains("2 行有错误"))
        == 1
    )


def test_versions_and_what_changed_between_them(demo_engine, actors):
    officer = actors[COUNTY]
    numbers = ids(5, start=400)
    first = commit(
        demo_engine,
        officer,
        ListKind.RESIDENTS,
        workbook(ListKind.RESIDENTS, residents(demo_engine, numbers[:4])),
    )
    second_rows = residents(demo_engine, [*numbers[1:4], numbers[4]], moved=numbers[2])
    second = commit(demo_engine, officer, ListKind.RESIDENTS, workbook(ListKind.RESIDENTS, second_rows))
    again = commit(demo_engine, officer, ListKind.RESIDENTS, workbook(ListKind.RESIDENTS, second_rows))
    assert (second.version, again.version) == (first.version + 1, first.version + 2)
    with session_scope(demo_engine) as session:
        assert versions.change_counts(session, second) == versions.ChangeCounts(new=1, left=1, changed=1)
        assert versions.change_counts(session, again) == versions.ChangeCounts(
            0, 0, 0
        )  # the same list re-sent
        rows = versions.list_versions(session, actor=officer, kind=ListKind.RESIDENTS)
        assert [r.version for r in rows[:3]] == [again.version, second.version, first.version]
        diff = versions.difference(session, actor=officer, list_id=second.id)
        assert diff.previous == first.version
        assert list(diff.new["姓名"]) == [second_rows[3]["姓名"]]
        assert list(diff.left["身份证号"]) == [numbers[0][:6] + "********" + numbers[0][-4:]]  # masked
        assert "村(社区)" in diff.changed["变化"].iloc[0]
        data = versions.export_difference(session, actor=officer, list_id=second.id)
        # the page reads each part a page at a time in SQL: the same rows as the whole difference
        pages = {
            part: versions.difference_page(session, actor=officer, list_id=second.id, part=part, limit=1)
            for part in versions.PARTS
        }
        assert [len(p) for p in pages.values()] == [1, 1, 1]
        assert pages["changed"].equals(diff.changed) and pages["left"].equals(diff.left)
        assert versions.difference_page(
            session, actor=officer, list_id=second.id, part="new", offset=1, limit=1
        ).empty
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["新增", "移出", "信息变化"]
    assert numbers[4] not in str(list(book["新增"].values)) and "*" in str(list(book["新增"].values))
    assert (
        count(demo_engine, AuditLog, AuditLog.action == "export", AuditLog.detail.contains("变化名单")) == 1
    )


def test_the_list_date_is_not_in_the_future_nor_older_than_the_list_in_effect(demo_engine, actors):
    officer = actors[COUNTY]
    data = workbook(ListKind.WELFARE, [{"姓名": "民政甲", "身份证号": ids(1)[0], "类别": "孤儿"}])
    with pytest.raises(list_import.ListImportBlocked, match="晚于今天"):
        commit(demo_engine, officer, ListKind.WELFARE, data, list_date=date(2026, 11, 24))
    saved = commit(demo_engine, officer, ListKind.WELFARE, data)
    assert saved.list_date == date(2026, 11, 23)  # today, when not given
    with pytest.raises(list_import.ListImportBlocked, match=f"早于现行的第{saved.version}版"):
        commit(demo_engine, officer, ListKind.WELFARE, data, list_date=date(2026, 11, 1))
    assert count(demo_engine, DeptList, DeptList.kind == "welfare") == saved.version


def test_only_a_county_officer_imports_and_a_crafted_file_is_refused(demo_engine, actors):
    data = workbook(ListKind.WELFARE, [{"姓名": "民政甲", "身份证号": ids(1)[0], "类别": "孤儿"}])
    lists = count(demo_engine, DeptList)
    for username in ("demo_township", "demo_registrar"):
        with pytest.raises(PermissionDenied):
            commit(demo_engine, actors[username], ListKind.WELFARE, data)
    assert count(demo_engine, DeptList) == lists
    assert (
        count(demo_engine, AuditLog, AuditLog.outcome == "denied", AuditLog.detail.startswith("lists.import"))
        == 2
    )
    with session_scope(demo_engine) as session, pytest.raises(UnsafeWorkbook):
        list_import.check_list(
            session,
            actor=actors[COUNTY],
            kind=ListKind.RESIDENTS,
            data=HOSTILE["A1 + XFD1048576"](),
            file_name="h.xlsx",
        )
    assert count(demo_engine, AuditLog, AuditLog.detail.contains("户籍名单导入被拒绝")) == 1


def test_the_command_line_checks_with_dry_run_and_refuses_a_bad_file(
    demo_engine, use_database, tmp_path, capsys
):
    path = tmp_path / "户籍.xlsx"
    rows = residents(demo_engine, ids(2, start=450))
    path.write_bytes(workbook(ListKind.RESIDENTS, rows))
    lists = count(demo_engine, DeptList)
    argv = ["import", "residents", str(path), "--list-date", "2026-11-23", "--as", COUNTY]
    assert xueji_main([*argv, "--dry-run"]) == 0
    assert "未写入" in capsys.readouterr().out and count(demo_engine, DeptList) == lists
    assert xueji_main(argv) == 0
    assert "2 人" in capsys.readouterr().out and count(demo_engine, DeptList) == lists + 1
    rows[0]["出生日期"] = "2016-13-01"
    path.write_bytes(workbook(ListKind.RESIDENTS, rows))
    report = tmp_path / "错误.xlsx"
    assert xueji_main([*argv, "--report", str(report)]) == 1
    assert "出生日期" in capsys.readouterr().err and report.exists()
    assert count(demo_engine, DeptList) == lists + 1
    template = tmp_path / "模板.xlsx"
    assert xueji_main(["export", "list-template", "households", "-o", str(template)]) == 0
    book = load_workbook(template)
    assert [c.value for c in book.active[1]] == list(ListKind.HOUSEHOLDS.columns)
    assert book.active.data_validations.dataValidation  # the 户类型 drop-down


def test_a_township_official_reads_neither_the_versions_nor_their_differences(demo_engine, actors):
    data = workbook(ListKind.WELFARE, [{"姓名": "民政乙", "身份证号": ids(1, start=470)[0], "类别": "孤儿"}])
    saved = commit(demo_engine, actors[COUNTY], ListKind.WELFARE, data)
    township = actors["demo_township"]
    denied = count(demo_engine, AuditLog, AuditLog.outcome == "denied")
    reads = (
        lambda session: versions.current_versions(session, actor=township),
        lambda session: versions.list_versions(session, actor=township),
        lambda session: versions.difference(session, actor=township, list_id=saved.id),
        lambda session: versions.difference_page(session, actor=township, list_id=saved.id, part="new"),
        lambda session: versions.export_difference(session, actor=township, list_id=saved.id),
    )
    for read in reads:
        with session_scope(demo_engine) as session, pytest.raises(PermissionDenied):
            read(session)
    assert count(demo_engine, AuditLog, AuditLog.outcome == "denied") == denied + len(reads)
    assert (
        count(demo_engine, AuditLog, AuditLog.action == "export", AuditLog.user_id == township.user_id) == 0
    )
