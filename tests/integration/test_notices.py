"""Notices on both databases: each kind issued and read back with python-docx, the 文号 sequence per township and
year, the refusals (audited), and a county's own templates."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session

from xueji.auth import Actor, PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, Case, CaseEvent, Child, LadderStep, Notice, School, Student, Township
from xueji.notices.builtin import new_document
from xueji.notices.fonts import add_text
from xueji.rules.cases import CaseStatus
from xueji.rules.notices import NoticeKind
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases.notices import (
    NoticeError,
    _draft,
    _keep,
    case_notices,
    issuable,
    issue_notice,
    notice_file,
)
from xueji.services.common.access import child_condition

pytestmark = pytest.mark.usefixtures("fixed_today")
OUT = ("suspected_dropout", "dropout")


def _text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def _case(session: Session, actor: Actor, *, registered: bool = True) -> int:
    """An open out-of-school case of a child in the actor's township (or at the actor's school)."""
    query = (
        select(Case.id)
        .join(Child, Case.child_id == Child.id)
        .where(Case.category.in_(OUT), Case.status != CaseStatus.CLOSED.value)  # type: ignore[attr-defined]
        .order_by(Case.id)
    )
    if actor.scope_kind is ScopeKind.SCHOOL:
        query = query.where(Child.school_id == actor.scope_id)
    else:
        query = query.where(Child.township_id == actor.scope_id)
    query = query.where(Child.student_id.is_not(None) if registered else Child.student_id.is_(None))  # type: ignore[union-attr]
    found = session.scalar(query)
    assert found is not None, "the demo county has such a case"
    return found


def _at_township_step(session: Session, case_id: int) -> int:
    """Put the case's ladder at the township's step (whatever step it stood at ends)."""
    session.execute(
        update(LadderStep)
        .where(LadderStep.case_id == case_id, LadderStep.state == "open")
        .values(state="done")
    )
    step = LadderStep(
        case_id=case_id, step="township", opened_on=date(2026, 11, 20), due_on=date(2026, 12, 4)
    )
    session.add(step)
    session.commit()
    return int(step.id or 0)


def _last_seq(session: Session, township_id: int | None, year: int = 2026) -> int:
    """The township's last 文号 of the year so far (the demo issued some)."""
    found = session.scalar(
        select(func.max(Notice.seq)).where(Notice.township_id == township_id, Notice.year == year)
    )
    return found or 0


def _notices(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Notice)) or 0


def _outcomes(session: Session, outcome: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.outcome == outcome)) or 0


def test_the_township_orders_the_guardian_and_the_notice_reads_back(
    demo_engine: Engine, actors: dict[str, Actor]
) -> None:
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        case_id = _case(session, township)
        step_id = _at_township_step(session, case_id)
        assert NoticeKind.ORDER in issuable(session, actor=township, case_id=case_id)
        base = _last_seq(session, township.scope_id)
        notice = issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)
        child = session.scalar(select(Child).join(Case).where(Case.id == case_id))
        student = session.get(Student, child.student_id)
        name = session.scalar(select(Township.name).where(Township.id == township.scope_id))
        assert notice.number == f"{name}控辍〔2026〕{base + 1}号" and notice.seq == base + 1
        assert notice.year == 2026
        assert notice.step_id == step_id and notice.template == "内置 order.docx"
        text = _text(notice.content)
        assert student.name in text and notice.number in text
        assert "限期复学通知书" in text and "自接到本通知之日起15日内," in text
        assert "2026年12月8日" not in text  # the limit runs from service (the ladder's comply_by): no date
        assert student.id_number in text  # the township's order carries the full number
        assert "{{" not in text
        events = session.scalars(
            select(CaseEvent.detail).where(CaseEvent.case_id == case_id, CaseEvent.kind == "notice")
        )
        assert f"生成限期复学通知书 {notice.number}" in list(events)
        entry = session.scalar(
            select(AuditLog).where(AuditLog.action == "notice.issue").order_by(AuditLog.id.desc()).limit(1)
        )
        assert entry.entity_id == str(case_id) and entry.after["number"] == notice.number

        name_out, data = notice_file(session, actor=township, notice_id=int(notice.id or 0))
        assert name_out == f"限期复学通知书_{notice.number}.docx" and data == notice.content
        exported = session.scalar(
            select(AuditLog).where(AuditLog.action == "reveal", AuditLog.entity_type == "notice")
        )  # the order carries the full ID number: its download is a reveal
        assert (
            exported is not None and notice.number in exported.detail and "含完整身份证号" in exported.detail
        )
        row = case_notices(session, actor=actors["demo_county"], case_id=case_id)[0]  # the newest first
        assert (row.title, row.number, row.issued_by) == ("限期复学通知书", notice.number, "刘专干")


def test_the_number_runs_per_township_and_restarts_each_year(
    demo_engine: Engine, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        first, second = session.scalars(
            select(Case.id)
            .join(Child, Case.child_id == Child.id)
            .where(Case.category.in_(OUT), Child.township_id == township.scope_id)  # type: ignore[attr-defined]
            .where(Case.status != CaseStatus.CLOSED.value)
            .order_by(Case.id)
            .limit(2)
        )
        other_case, other_township = session.execute(
            select(Case.id, Child.township_id)
            .join(Child, Case.child_id == Child.id)
            .where(Case.category.in_(OUT), Child.township_id != township.scope_id)  # type: ignore[attr-defined]
            .where(Case.status != CaseStatus.CLOSED.value)
            .order_by(Case.id)
        ).first()
        for case_id in (first, second, other_case):
            _at_township_step(session, case_id)
        base, other_base = _last_seq(session, township.scope_id), _last_seq(session, other_township)
        elsewhere = Actor(None, "tw_other", Role.TOWNSHIP_OFFICIAL, ScopeKind.TOWNSHIP, other_township)
        seqs = [
            issue_notice(session, actor=township, case_id=first, kind=NoticeKind.ORDER).seq,
            issue_notice(session, actor=township, case_id=second, kind=NoticeKind.PERSUASION).seq,
            issue_notice(session, actor=elsewhere, case_id=other_case, kind=NoticeKind.ORDER).seq,
            issue_notice(session, actor=township, case_id=first, kind=NoticeKind.CASE_FILE).seq,
        ]
        assert seqs == [base + 1, base + 2, other_base + 1, None]
    monkeypatch.setenv("XUEJI_TODAY", "2027-01-04")
    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        notice = issue_notice(session, actor=township, case_id=second, kind=NoticeKind.ORDER)
        assert (notice.year, notice.seq) == (2027, 1) and "〔2027〕1号" in (notice.number or "")


def test_refusals_are_audited(demo_engine: Engine, actors: dict[str, Actor]) -> None:
    township, registrar = actors["demo_township"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        case_id = _case(session, township)
        session.execute(update(LadderStep).where(LadderStep.case_id == case_id).values(state="done"))
        session.commit()
        denied, refused = _outcomes(session, "denied"), _outcomes(session, "refused")
        issued = _notices(session)
        with pytest.raises(NoticeError, match="乡镇书面限期通知"):  # not at the township's step
            issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)
        with pytest.raises(PermissionDenied):  # the teacher issues nothing
            issue_notice(session, actor=actors["demo_teacher"], case_id=case_id, kind=NoticeKind.CASE_FILE)
        with pytest.raises(PermissionDenied, match="不能生成限期"):  # the school does not order
            issue_notice(session, actor=registrar, case_id=_case(session, registrar), kind=NoticeKind.ORDER)
        with pytest.raises(PermissionDenied, match="不能生成劝返"):
            issue_notice(session, actor=actors["demo_county"], case_id=case_id, kind=NoticeKind.PERSUASION)
        outside = session.scalar(
            select(Case.id)
            .join(Child, Case.child_id == Child.id)
            .join(School, Child.school_id == School.id)
            .where(Child.township_id != township.scope_id, School.township_id != township.scope_id)
        )
        with pytest.raises(PermissionDenied, match="不在您的管辖范围"):
            issue_notice(session, actor=township, case_id=outside, kind=NoticeKind.CASE_FILE)
        assert _outcomes(session, "denied") == denied + 4
        assert _outcomes(session, "refused") == refused + 1
        assert _notices(session) == issued


def test_the_registrars_notice_masks_and_the_case_file_holds_everything(
    demo_engine: Engine, actors: dict[str, Actor]
) -> None:
    registrar, county = actors["demo_registrar"], actors["demo_county"]
    with session_scope(demo_engine) as session:
        case_id = _case(session, registrar)
        _at_township_step(session, case_id)
        student = session.scalar(select(Student).join(Child).join(Case).where(Case.id == case_id))
        school = session.get(School, registrar.scope_id)
        notice = issue_notice(session, actor=registrar, case_id=case_id, kind=NoticeKind.PERSUASION)
        text = _text(notice.content)
        assert "劝返复学告知书" in text and student.name in text and school.name in text
        assert student.id_number not in text and student.id_number[-4:] in text
        assert issuable(session, actor=registrar, case_id=case_id) == [
            NoticeKind.PERSUASION,
            NoticeKind.CASE_FILE,
        ]

        dossier = issue_notice(session, actor=county, case_id=case_id, kind=NoticeKind.CASE_FILE)
        assert dossier.number is None and dossier.seq is None
        text = _text(dossier.content)
        for words in (
            "控辍保学个案档案",
            "儿童基本情况",
            "家庭成员",
            "劝返复学步骤",
            "乡镇书面限期通知",
            "劝返复学告知书",
        ):
            assert words in text
        assert notice.number in text and student.id_number not in text  # the county's copy masks
        assert "内置模板" in text and "persuasion.docx" not in text  # the template in words
        name, _ = notice_file(session, actor=county, notice_id=int(dossier.id or 0))
        assert name == f"个案档案_{student.name}_20261123.docx"


def _own_template(folder, body: list[str]) -> None:
    """A county's order.docx whose placeholder is split across runs, as Word leaves it after an edit."""
    document = new_document()
    paragraph = document.add_paragraph()
    for piece in body:
        add_text(paragraph, piece)
    document.sections[0].header.paragraphs[0].text = "本县教育局抬头 {{县}} {{文号}}"
    document.save(folder / "order.docx")


def test_a_county_template_replaces_the_built_in_and_an_unknown_placeholder_is_refused(
    demo_engine: Engine, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("XUEJI_NOTICE_TEMPLATES", str(tmp_path))
    get_settings.cache_clear()
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        case_id = _case(session, township)
        _at_township_step(session, case_id)
        _own_template(tmp_path, ["致 {{班主", "任}}:{{儿童姓名}}"])
        refused, issued = _outcomes(session, "refused"), _notices(session)
        with pytest.raises(NoticeError, match=r"\{\{班主任\}\}"):
            issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)
        (tmp_path / "order.docx").write_bytes(b"PK\x03\x04 not really a zip")
        with pytest.raises(NoticeError, match="不是"):
            issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)
        assert _outcomes(session, "refused") == refused + 2
        assert _notices(session) == issued

        _own_template(tmp_path, ["致 {{监", "护人}}:请送 {{儿童", "姓名}} 于", "{{期限日期}}", "到校。"])
        notice = issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)
        assert notice.template == "本县 order.docx"
        document = Document(io.BytesIO(notice.content))
        name = session.scalar(select(Student.name).join(Child).join(Case).where(Case.id == case_id))
        assert f"请送 {name} 于自接到本通知之日起15日内到校。" in document.paragraphs[-1].text
        header = document.sections[0].header.paragraphs[0].text
        assert "{{" not in header and header.endswith(notice.number or "?")
        with pytest.raises(NoticeError, match="已生成限期通知书"):
            issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)


def test_a_township_numbers_only_its_own_childrens_notices_the_school_still_tells_the_family(
    demo_engine: Engine, actors: dict[str, Actor]
) -> None:
    """A township official also sees the children of other townships at its schools: their 文号 is not theirs."""
    township, registrar = actors["demo_township"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        school = session.get(School, registrar.scope_id)
        assert school.township_id == township.scope_id, "the demo registrar's school is in the demo township"
        case_id = _case(session, registrar)
        other = session.scalar(
            select(Township.id).where(Township.id != township.scope_id).order_by(Township.id)
        )
        child_id = session.scalar(select(Case.child_id).where(Case.id == case_id))
        session.execute(update(Child).where(Child.id == child_id).values(township_id=other))
        session.commit()
        _at_township_step(session, case_id)
        assert issuable(session, actor=township, case_id=case_id) == [NoticeKind.CASE_FILE]
        denied = _outcomes(session, "denied")
        for kind in (NoticeKind.ORDER, NoticeKind.PERSUASION):
            with pytest.raises(PermissionDenied, match="由儿童所在乡镇生成"):
                issue_notice(session, actor=township, case_id=case_id, kind=kind)
        assert _outcomes(session, "denied") == denied + 2
        base = _last_seq(session, other)
        told = issue_notice(session, actor=registrar, case_id=case_id, kind=NoticeKind.PERSUASION)
        assert told.township_id == other and told.seq == base + 1  # the child's township's sequence
        elsewhere = Actor(None, "tw_other", Role.TOWNSHIP_OFFICIAL, ScopeKind.TOWNSHIP, other)
        assert NoticeKind.ORDER in issuable(session, actor=elsewhere, case_id=case_id)


def test_a_file_with_full_numbers_goes_only_to_who_may_see_them_and_is_audited_as_a_reveal(
    demo_engine: Engine, actors: dict[str, Actor]
) -> None:
    teacher, registrar, county = actors["demo_teacher"], actors["demo_registrar"], actors["demo_county"]
    with session_scope(demo_engine) as session:
        case_id = session.scalar(
            select(Case.id)
            .join(Child, Case.child_id == Child.id)
            .where(child_condition(teacher), child_condition(registrar), Child.student_id.is_not(None))  # type: ignore[union-attr]
            .order_by(Case.id)
        )
        assert case_id is not None, "the demo teacher follows a case of the registrar's school"
        number = session.scalar(select(Student.id_number).join(Child).join(Case).where(Case.id == case_id))
        full = issue_notice(session, actor=registrar, case_id=case_id, kind=NoticeKind.CASE_FILE)
        masked = issue_notice(session, actor=county, case_id=case_id, kind=NoticeKind.CASE_FILE)
        assert number in _text(full.content) and number not in _text(masked.content)

        rows = {r.id: r for r in case_notices(session, actor=teacher, case_id=case_id)}
        assert (rows[full.id].full_numbers, rows[full.id].downloadable) == (True, False)
        assert (rows[masked.id].full_numbers, rows[masked.id].downloadable) == (False, True)
        denied = _outcomes(session, "denied")
        with pytest.raises(PermissionDenied, match="印有完整身份证号"):
            notice_file(session, actor=teacher, notice_id=int(full.id or 0))
        assert _outcomes(session, "denied") == denied + 1
        _, data = notice_file(session, actor=teacher, notice_id=int(masked.id or 0))
        assert data == masked.content

        _, data = notice_file(session, actor=county, notice_id=int(full.id or 0))  # the county may reveal
        assert data == full.content
        entry = session.scalar(
            select(AuditLog).where(AuditLog.entity_type == "notice").order_by(AuditLog.id.desc()).limit(1)
        )
        assert (entry.action, entry.entity_id, entry.username) == ("reveal", str(full.id), "demo_county")
        assert "含完整身份证号" in entry.detail


def test_a_control_character_in_the_childs_record_is_left_out_of_the_document(
    demo_engine: Engine, actors: dict[str, Actor]
) -> None:
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        case_id = _case(session, township)
        _at_township_step(session, case_id)
        student_id = session.scalar(select(Child.student_id).join(Case).where(Case.id == case_id))
        session.execute(
            update(Student).where(Student.id == student_id).values(home_address="竹林\x0b村\x0c3组")
        )
        session.commit()
        order = issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)  # filled in
        dossier = issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.CASE_FILE)  # tables
        for notice in (order, dossier):
            assert "竹林村3组" in _text(notice.content)


def test_a_numbered_template_without_a_number_and_a_missing_folder_are_refused(
    demo_engine: Engine, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        case_id = _case(session, township)
        _at_township_step(session, case_id)
        refused, issued = _outcomes(session, "refused"), _notices(session)
        monkeypatch.setenv("XUEJI_NOTICE_TEMPLATES", str(tmp_path / "absent"))
        get_settings.cache_clear()
        with pytest.raises(NoticeError, match="不存在"):
            issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.CASE_FILE)
        monkeypatch.setenv("XUEJI_NOTICE_TEMPLATES", str(tmp_path))
        get_settings.cache_clear()
        document = new_document()
        add_text(document.add_paragraph(), "{{监护人}}:请送{{儿童姓名}}到校。")
        document.save(tmp_path / "persuasion.docx")
        with pytest.raises(NoticeError, match=r"缺少 \{\{文号\}\}"):
            issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.PERSUASION)
        assert _outcomes(session, "refused") == refused + 2 and _notices(session) == issued
        document.save(tmp_path / "case_file.docx")  # the case file has no number: the same text will do
        assert (
            issue_notice(session, actor=township, case_id=case_id, kind=NoticeKind.CASE_FILE).number is None
        )


def test_the_case_is_checked_again_when_the_number_is_taken(
    demo_engine: Engine, actors: dict[str, Actor]
) -> None:
    """Two orders built at once for one step (the document is built before the lock): the second is refused
    when its number would be taken, and the first carries its number in the document."""
    township = actors["demo_township"]
    with session_scope(demo_engine) as session:
        case_id = _case(session, township)
        _at_township_step(session, case_id)
        first = _draft(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)
        second = _draft(session, actor=township, case_id=case_id, kind=NoticeKind.ORDER)
        assert "{{文号}}" in _text(first.data)  # filled last, under the lock
        session.commit()
        kept = _keep(session, actor=township, case_id=case_id, draft=first)
        assert kept.number and kept.number in _text(kept.content) and "{{" not in _text(kept.content)
        refused, issued = _outcomes(session, "refused"), _notices(session)
        with pytest.raises(NoticeError, match="已生成限期通知书"):
            _keep(session, actor=township, case_id=case_id, draft=second)
        assert _outcomes(session, "refused") == refused + 1 and _notices(session) == issued
