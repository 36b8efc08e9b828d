"""Importing the national registry template through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from collections import Counter

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from tests.factories import DEMO_SCHOOL
from xueji.audit import verify_chain
from xueji.auth import Actor, PermissionDenied
from xueji.cli import main as xueji_main
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.excel.registry_template import TemplateError, blank_template, error_workbook, read_registry
from xueji.models import AuditLog, FamilyMember, School, SchoolClass, Student
from xueji.rules.registry_record import COLUMNS
from xueji.services.registry.file_import import (
    ImportBlocked,
    check_file,
    commit_import,
    import_file,
    plan_import,
    schools_for_import,
)

OTHER_SCHOOL = "2143016967"  # 古港镇梅田小学: same township, outside the registrar's scope


pytestmark = pytest.mark.usefixtures("fixed_today")


def rows(n: int, *, seed: int = 1, school: str = DEMO_SCHOOL) -> list[dict[str, str]]:
    return list(template_rows([(school, "primary")], n, school_year=2026, seed=seed))


def plan_of(engine: Engine, actor: Actor, data: bytes, school: str | None = DEMO_SCHOOL):
    with session_scope(engine) as session:
        sheet = check_file(session, actor=actor, data=data)
        schools = schools_for_import(session, actor=actor, school_code=school)
        return plan_import(session, actor=actor, sheet=sheet, schools=schools, only_school=bool(school))


def run_import(engine: Engine, actor: Actor, data: bytes, **options):
    with session_scope(engine) as session:
        return import_file(
            session, actor=actor, data=data, school_code=options.pop("school", DEMO_SCHOOL), **options
        )


def count(engine: Engine, model) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_other_school_constant_names_a_real_demo_school(demo_engine):
    with session_scope(demo_engine) as session:
        assert session.scalar(select(School.name).where(School.code == OTHER_SCHOOL))


# One workbook per failure kind: the bad row is data row 3 (spreadsheet row 4), and the reason is exact.
FAILURES = [
    ("id_short", {"id_number": "4301022019090100"}, "身份证件号", "身份证号应为18位,实际为16位"),
    ("id_letter", {"id_number": "43010220190901001A"}, "身份证件号", "身份证号含有不允许的字符“A”"),
    ("name_space", {"name": "张 三"}, "姓名", "姓名中间不能有空格"),
    ("name_digit", {"name": "张三3"}, "姓名", "姓名不能含数字"),
    (
        "division_11",
        {"household_code": "43018110820"},
        "户口所在地行政区划",
        "行政区划代码应为12位数字,实际为11位",
    ),
    ("class_6", {"class_code": "202510"}, "班号", "班号应为7位数字,实际为“202510”"),
    ("formula_text", {"home_address": "=1+2"}, "家庭地址", "内容以“=”开头,可能是公式,请删去该符号"),
    ("yes_no", {"orphan": "不是"}, "是否孤儿", "只能填“是”或“否”"),
    ("ethnicity", {"ethnicity": "火星"}, "民族", "民族应为56个民族之一并以“族”结尾,如 汉族"),
    ("entry_future", {"entry_month": "202612"}, "入学年月", "入学年月晚于本月"),
    (
        "school_other",
        {"school_code": OTHER_SCHOOL},
        "学校标识码",
        "与本次导入的学校不一致(应为 2143016965 古港镇完全小学)",
    ),
    ("junior_class", {"class_code": "2026201"}, "班号", "古港镇完全小学是小学,没有初中班级"),
]


@pytest.mark.parametrize(("kind", "change", "column", "reason"), FAILURES, ids=[f[0] for f in FAILURES])
def test_each_kind_of_bad_row_is_reported_with_its_row_column_and_reason(
    demo_engine, actors, kind, change, column, reason
):
    data = rows(5)
    data[2] = data[2] | change
    plan = plan_of(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert [r.row for r in plan.rejected] == [4]
    (problem,) = plan.rejected[0].errors
    assert (problem.column, problem.value, problem.reason) == (column, next(iter(change.values())), reason)
    assert plan.counts == {"新增": 4, "更新": 0, "无变化": 0, "有错误": 1}


def test_a_birth_date_that_disagrees_with_the_id_number_is_caught(demo_engine, actors):
    data = rows(3)
    in_id = data[1]["id_number"][6:14]
    data[1]["birth_date"] = "20190101" if in_id != "20190101" else "20190102"
    plan = plan_of(demo_engine, actors["demo_registrar"], template_workbook(data))
    (problem,) = plan.rejected[0].errors
    assert (plan.rejected[0].row, problem.column) == (3, "身份证件号")
    assert problem.reason == f"身份证号中的出生日期 {in_id} 与出生日期 {data[1]['birth_date']} 不一致"


def test_a_lowercase_x_and_full_width_digits_are_normalised_on_import(demo_engine, actors):
    data = rows(40)
    row = next(r for r in data if r["id_number"].endswith("X"))
    stored = row["id_number"]
    row["id_number"] = "".join(chr(ord(c) + 0xFEE0) for c in stored[:6]) + stored[6:-1] + "x"
    result = run_import(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert result.created == 40
    with session_scope(demo_engine) as session:
        assert session.scalar(select(Student.name).where(Student.id_number == stored)) == row["name"]


def test_the_same_child_twice_in_a_file_rejects_both_rows_naming_the_other(demo_engine, actors):
    data = rows(4)
    data.append(dict(data[0]))
    plan = plan_of(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert [(r.row, r.errors[0].column, r.errors[0].reason) for r in plan.rejected] == [
        (2, "身份证件号", "与第6行的身份证件号重复(同一学生出现多次)"),
        (6, "身份证件号", "与第2行的身份证件号重复(同一学生出现多次)"),
    ]


def test_a_child_already_registered_at_another_school_is_refused_by_the_duplicate_check(demo_engine, actors):
    with session_scope(demo_engine) as session:
        other_id, other_school = session.execute(
            select(Student.id_number, School.name)
            .join(School, Student.school_id == School.id)
            .where(School.code != DEMO_SCHOOL, Student.id_number.is_not(None))
            .limit(1)
        ).one()
    data = rows(2)
    row = data[1]
    born = other_id[6:14]
    row.update(id_number=other_id, birth_date=born, sex="男" if int(other_id[16]) % 2 else "女")
    plan = plan_of(demo_engine, actors["demo_registrar"], template_workbook(data))
    reasons = [(r.row, p.column, p.reason) for r in plan.rejected for p in r.errors]
    assert reasons == [(3, "身份证件号", f"查重:该学生已在{other_school}有学籍;应办理转学,不能重复建籍")]


def test_a_class_that_would_pass_55_is_refused_naming_the_class_and_its_size(demo_engine, actors):
    data = rows(56)
    for row in data:
        row.update(class_code="2026188", entry_month="202609")
    plan = plan_of(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert len(plan.rejected) == 56
    assert plan.rejected[0].errors[0].reason == "小学2026级(88)班导入后将有56人,超过每班55人的上限(大班额)"
    assert plan.new_classes == {}


def test_a_new_class_is_listed_in_the_preview_and_created_on_commit(demo_engine, actors):
    data = rows(10)
    plan = plan_of(demo_engine, actors["demo_registrar"], template_workbook(data))
    ((school_id, code), size), *_ = plan.new_classes.items()
    assert (code, size) == ("2026110", 10)
    before_classes = count(demo_engine, SchoolClass)
    result = run_import(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert result.created == 10 and list(result.plan.new_classes) == [(school_id, "2026110")]
    assert count(demo_engine, SchoolClass) == before_classes + 1


def test_by_default_one_bad_row_blocks_the_whole_file_and_nothing_is_written(demo_engine, actors):
    data = rows(20)
    data[7]["name"] = "王 五"
    students, members, audit = (count(demo_engine, m) for m in (Student, FamilyMember, AuditLog))
    with pytest.raises(ImportBlocked, match="有 1 行有错误,未导入任何数据") as blocked:
        run_import(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert [r.row for r in blocked.value.plan.rejected] == [9]
    assert (count(demo_engine, Student), count(demo_engine, FamilyMember), count(demo_engine, AuditLog)) == (
        students,
        members,
        audit + 1,  # only the refusal itself is recorded
    )
    with session_scope(demo_engine) as session:
        refusal = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
        assert (refusal.action, refusal.outcome, refusal.entity_type) == ("import", "refused", "upload")
        assert "有 1 行有错误" in refusal.detail


def test_commit_valid_rows_writes_the_others_and_their_family_members(demo_engine, actors):
    data = rows(20)
    data[7]["name"] = "王 五"
    students, members = count(demo_engine, Student), count(demo_engine, FamilyMember)
    result = run_import(demo_engine, actors["demo_registrar"], template_workbook(data), only_valid=True)
    assert (result.created, len(result.plan.rejected)) == (19, 1)
    assert count(demo_engine, Student) == students + 19
    assert count(demo_engine, FamilyMember) == members + 38
    with session_scope(demo_engine) as session:
        student = session.scalar(select(Student).where(Student.id_number == data[0]["id_number"]))
        assert student.registry_number == "G" + data[0]["id_number"]
        assert student.status == "enrolled" and student.name == data[0]["name"]
        assert session.scalar(select(School.code).where(School.id == student.school_id)) == DEMO_SCHOOL
        assert verify_chain(session).ok


def test_reimporting_an_updated_template_updates_by_id_number_and_audits_each_change(demo_engine, actors):
    data = rows(6)
    registrar = actors["demo_registrar"]
    run_import(demo_engine, registrar, template_workbook(data))
    data[1]["current_address"] = "浏阳市古港镇新址"
    old_phone = data[4]["m1_phone"]
    data[4]["m1_phone"] = "13800000000"
    result = run_import(demo_engine, registrar, template_workbook(data))
    assert (result.created, len(result.plan.updates), len(result.plan.unchanged)) == (0, 2, 4)
    with session_scope(demo_engine) as session:
        student = session.scalar(select(Student).where(Student.id_number == data[1]["id_number"]))
        assert student.current_address == "浏阳市古港镇新址"
        phone = session.scalar(
            select(FamilyMember.phone)
            .join(Student, FamilyMember.student_id == Student.id)
            .where(Student.id_number == data[4]["id_number"], FamilyMember.seq == 1)
        )
        assert phone == "13800000000"
        updates = session.scalars(  # the demo's own set-up (the county given to accounts) has updates too
            select(AuditLog)
            .where(AuditLog.action == "update", AuditLog.entity_type == "student")
            .order_by(AuditLog.id)
        ).all()
        assert [e.entity_id for e in updates] == [str(student.id), updates[1].entity_id]
        assert updates[0].before == {"current_address": "浏阳市古港镇梅田村"}
        assert updates[0].after == {"current_address": "浏阳市古港镇新址"}
        assert updates[1].after["family"][0]["phone"] == "138****0000"  # masked in the log
        assert (
            updates[1].before["family"][0]["phone"] == f"{old_phone[:3]}****{old_phone[-4:]}"
        )  # and the old one
        assert verify_chain(session).ok


def test_a_temporary_record_is_kept_without_id_and_gets_its_id_on_a_later_import(demo_engine, actors):
    data = rows(3)
    id_number = data[2]["id_number"]
    data[2]["id_number"] = ""
    first = run_import(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert first.plan.temporary == 1
    data[2]["id_number"] = id_number
    second = run_import(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert (second.created, len(second.plan.updates)) == (0, 1)
    with session_scope(demo_engine) as session:
        student = session.scalar(select(Student).where(Student.id_number == id_number))
        assert student.registry_number == "G" + id_number


def test_headers_are_matched_by_name_and_unknown_columns_are_ignored_with_a_notice(demo_engine, actors):
    data = rows(3)
    headers = [c.header for c in COLUMNS]
    reordered = list(reversed(headers))
    wb = Workbook()
    ws = wb.active
    ws.append(["学生信息导入(古港镇完全小学)"])  # a title line above the header row
    ws.append([*reordered, "备注"])
    keys = {c.header: c.key for c in COLUMNS}
    for row in data:
        ws.append([row.get(keys[h], "") for h in reordered] + ["随便写点"])
    buffer = io.BytesIO()
    wb.save(buffer)
    plan = plan_of(demo_engine, actors["demo_registrar"], buffer.getvalue())
    assert plan.counts["新增"] == 3 and not plan.rejected
    assert plan.notices == ["以下列不属于导入模板,已忽略:备注"]


def test_a_missing_required_column_is_reported_before_any_row_is_read():
    data = rows(2)
    headers = [c.header for c in COLUMNS if c.header not in ("班号", "民族")]
    with pytest.raises(TemplateError, match="第1行表头缺少必需的列:民族、班号"):
        read_registry(template_workbook(data, headers=headers))


def test_the_blank_template_reads_back_with_its_example_row_valid(demo_engine, actors):
    plan = plan_of(demo_engine, actors["demo_registrar"], blank_template())
    assert plan.counts == {"新增": 1, "更新": 0, "无变化": 0, "有错误": 0}
    workbook = load_workbook(io.BytesIO(blank_template()))
    assert workbook.sheetnames == ["学生信息", "填写说明"]


def test_the_error_workbook_holds_each_rejected_row_as_read_with_its_reasons(demo_engine, actors):
    data = rows(4)
    data[1]["name"] = "李 四"
    data[1]["home_address"] = "=cmd|' /C calc'!A0"
    plan = plan_of(demo_engine, actors["demo_registrar"], template_workbook(data))
    sheet = load_workbook(io.BytesIO(error_workbook(plan.rejected))).active
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["原行号"] == 3 and values["姓名"] == "李 四"
    assert values["错误原因"] == "姓名:姓名中间不能有空格\n家庭地址:内容以“=”开头,可能是公式,请删去该符号"
    cell = sheet[2][header.index("家庭地址")]
    assert cell.data_type == "s" and cell.value.startswith("=")  # kept as text, never a formula


def test_a_registrar_cannot_import_into_another_school_and_a_teacher_cannot_import(demo_engine, actors):
    data = template_workbook(rows(2))
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        run_import(demo_engine, actors["demo_registrar"], data, school=OTHER_SCHOOL)
    with pytest.raises(PermissionDenied, match="无权导入学籍"):
        run_import(demo_engine, actors["demo_teacher"], data)


def test_a_county_import_without_a_school_puts_each_row_in_its_own_school(demo_engine, actors):
    with session_scope(demo_engine) as session:
        schools = [(s.code, s.kind) for s in session.scalars(select(School).order_by(School.code))]
    data = list(template_rows(schools, 60, school_year=2026))
    result = run_import(demo_engine, _system(demo_engine), template_workbook(data), school=None)
    assert result.created == 60
    with session_scope(demo_engine) as session:
        placed = session.execute(
            select(School.code, func.count())
            .join(Student, Student.school_id == School.id)
            .where(Student.birthplace_code == "430102000000")
            .group_by(School.code)
        ).all()
    assert dict(placed) == Counter(r["school_code"] for r in data)


def _system(engine: Engine) -> Actor:
    from xueji.services.system.accounts import system_actor

    with Session(engine) as session:
        actor = system_actor(session)
        session.commit()
        return actor


def _zip_with(member: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(member, payload)
    return buffer.getvalue()


def test_hostile_files_are_refused_quickly_with_a_reason():
    with pytest.raises(TemplateError, match="只接受 .xlsx 文件"):
        read_registry(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)  # an old .xls
    with pytest.raises(TemplateError, match="文件过大"):
        read_registry(b"PK\x03\x04" + b"\0" * (20 * 1024 * 1024 + 1))
    inflated = (get_settings().uploads.max_inflated_mb + 1) * 1024 * 1024
    bomb = _zip_with("xl/worksheets/sheet1.xml", b"<a>" + b"0" * inflated + b"</a>")
    assert len(bomb) < 1024 * 1024  # the file is small; it only grows when inflated
    with pytest.raises(TemplateError, match="压缩炸弹"):
        read_registry(bomb)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "&lol%d;&lol%d;">' % (i, i - 1, i - 1) for i in range(1, 30))
        + b"]><worksheet>&lol29;</worksheet>"
    )
    with pytest.raises(TemplateError, match="XML 炸弹"):
        read_registry(_zip_with("xl/worksheets/sheet1.xml", laughs))


def test_formulas_are_read_as_their_text_and_never_evaluated(demo_engine, actors):
    data = rows(3)
    wb = Workbook()
    ws = wb.active
    ws.append([c.header for c in COLUMNS])
    for row in data:
        ws.append([row.get(c.key, "") for c in COLUMNS])
    ws.cell(row=3, column=[c.key for c in COLUMNS].index("native_place") + 1, value='=CONCAT("湖南","浏阳")')
    buffer = io.BytesIO()
    wb.save(buffer)
    plan = plan_of(demo_engine, actors["demo_registrar"], buffer.getvalue())
    assert plan.notices[0].startswith("文件中有公式")
    (rejected,) = plan.rejected
    assert (rejected.row, rejected.errors[0].column, rejected.errors[0].value) == (
        3,
        "籍贯",
        '=CONCAT("湖南","浏阳")',
    )


def test_a_commit_plans_again_so_a_row_taken_meanwhile_is_not_written_twice(demo_engine, actors):
    registrar = actors["demo_registrar"]
    data = rows(5)
    with session_scope(demo_engine) as session:
        sheet = check_file(session, actor=registrar, data=template_workbook(data))
        schools = schools_for_import(session, actor=registrar, school_code=DEMO_SCHOOL)
    run_import(demo_engine, registrar, template_workbook(data[:2]))  # someone imports two rows first
    with session_scope(demo_engine) as session:
        result = commit_import(session, actor=registrar, sheet=sheet, schools=schools, only_school=True)
    assert (result.created, len(result.plan.unchanged)) == (3, 2)


def test_the_import_command_refuses_a_file_with_errors_writes_the_report_and_can_commit_the_rest(
    demo_engine, use_database, tmp_path, capsys
):
    data = rows(6)
    data[3]["sex"] = "女" if data[3]["sex"] == "男" else "男"
    source, report = tmp_path / "学籍.xlsx", tmp_path / "错误.xlsx"
    source.write_bytes(template_workbook(data))
    before = count(demo_engine, Student)
    command = ["import", "students", str(source), "--school", DEMO_SCHOOL, "--report", str(report)]
    assert xueji_main([*command, "--as", "demo_registrar"]) == 1
    err = capsys.readouterr().err
    assert "第5行 [身份证件号]" in err and "未导入任何数据" in err
    assert count(demo_engine, Student) == before
    sheet = load_workbook(io.BytesIO(report.read_bytes())).active
    assert [c.value for c in sheet[2]][0] == 5
    assert xueji_main([*command, "--commit-valid", "--as", "demo_registrar"]) == 1
    assert "已导入:新增 5 人" in capsys.readouterr().out
    assert count(demo_engine, Student) == before + 5


def test_the_roster_command_writes_one_sheet_per_class(demo_engine, use_database, tmp_path):
    target = tmp_path / "在校生名册.xlsx"
    command = ["export", "roster", "--school", DEMO_SCHOOL, "--kind", "在校生名册", "-o", str(target)]
    assert xueji_main([*command, "--as", "demo_registrar"]) == 0
    with session_scope(demo_engine) as session:
        classes = session.scalar(
            select(func.count(func.distinct(Student.class_id)))
            .join(School, Student.school_id == School.id)
            .where(School.code == DEMO_SCHOOL, Student.status == "enrolled")
        )
    assert len(load_workbook(io.BytesIO(target.read_bytes())).sheetnames) == classes


# -- streaming (issue 27): chunks, bounded lists, the one-pass write and its undoing -----------------------


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 4 rows and lists of 5, so that a file of a few dozen rows crosses every boundary."""
    import xueji.excel.registry_template as registry_template
    import xueji.services.registry.import_plan as import_plan

    monkeypatch.setattr(registry_template, "CHUNK", 4)
    monkeypatch.setattr(import_plan, "KEEP", 5)


def test_duplicates_across_chunks_are_found_and_the_lists_are_bounded_with_full_counts(
    demo_engine, actors, small_chunks
):
    data = rows(30)
    for key in ("id_number", "birth_date", "sex"):  # the same child in rows 4 and 22: chunks 1 and 6
        data[20][key] = data[2][key]
    for n in (5, 9, 13, 17, 25, 27):
        data[n]["name"] = "王 五"
    plan = plan_of(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert plan.counts == {"新增": 22, "更新": 0, "无变化": 0, "有错误": 8}
    assert [r.row for r in plan.rejected] == [4, 7, 11, 15, 19]  # the first five, in row order
    assert not plan.complete and len(plan.new) == 5
    assert plan.reason_counts() == [
        ("姓名", "姓名中间不能有空格", 6),
        ("身份证件号", "与第22行的身份证件号重复(同一学生出现多次)", 1),
        ("身份证件号", "与第4行的身份证件号重复(同一学生出现多次)", 1),
    ]
    assert sum(new for _, _, new, *_ in plan.class_counts()) == 22


def test_a_chunked_commit_writes_every_row_and_audits_the_ids_as_one_list(demo_engine, actors, small_chunks):
    import hashlib

    data = rows(23)
    result = run_import(demo_engine, actors["demo_registrar"], template_workbook(data), file_name="块.xlsx")
    assert result.created == 23
    with session_scope(demo_engine) as session:
        entry = session.scalar(
            select(AuditLog).where(AuditLog.action == "import").order_by(AuditLog.id.desc())
        )
        ids = sorted(
            session.scalars(select(Student.id).where(Student.id_number.in_([r["id_number"] for r in data])))
        )
        assert entry.after["created_ids"] == [ids[0], ids[-1]]
        assert (
            entry.after["created_ids_sha256"] == hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
        )
        assert verify_chain(session).ok


def test_a_bad_row_in_a_later_chunk_undoes_what_the_pass_wrote(demo_engine, actors, small_chunks):
    data = rows(20)
    data[17]["name"] = "王 五"  # the fifth chunk: four chunks were written before it
    students, members, classes = (count(demo_engine, m) for m in (Student, FamilyMember, SchoolClass))
    with pytest.raises(ImportBlocked, match="有 1 行有错误,未导入任何数据"):
        run_import(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert (
        count(demo_engine, Student),
        count(demo_engine, FamilyMember),
        count(demo_engine, SchoolClass),
    ) == (
        students,
        members,
        classes,
    )


def test_a_class_found_too_large_at_the_end_is_refused_whole_and_the_rest_commits(
    demo_engine, actors, small_chunks
):
    data = rows(61)
    for row in data[:56]:
        row.update(class_code="2026188", entry_month="202609")
    students, classes = count(demo_engine, Student), count(demo_engine, SchoolClass)
    with pytest.raises(ImportBlocked, match="有 56 行有错误"):
        run_import(demo_engine, actors["demo_registrar"], template_workbook(data))
    assert (count(demo_engine, Student), count(demo_engine, SchoolClass)) == (students, classes)
    result = run_import(demo_engine, actors["demo_registrar"], template_workbook(data), only_valid=True)
    assert result.created == 5 and result.plan.counts["有错误"] == 56
    assert count(demo_engine, Student) == students + 5
    with session_scope(demo_engine) as session:  # the class of the refused rows was not created
        assert session.scalar(select(SchoolClass.id).where(SchoolClass.code == "2026188")) is None
