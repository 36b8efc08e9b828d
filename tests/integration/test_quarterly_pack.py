"""The county's quarterly pack on SQLite and PostgreSQL: built from the submitted reports' latest versions, its
totals equal to the dashboards' figures for the same month, the schools missing listed, the docx readable."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import DEMO_SCHOOL, new_registrar, visit_facts
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, Child, School
from xueji.rules.accountability import LedgerMonth
from xueji.rules.monthly_report import HEADINGS, Quarter
from xueji.services.cases.visits import log_visit
from xueji.services.dashboards import figures as dashboards
from xueji.services.overview import counts
from xueji.services.reports import quarterly, submission

NOVEMBER = LedgerMonth(2026, 11)
Q4 = Quarter(2026, 4)


@pytest.fixture
def november_submitted(demo_engine, actors, monkeypatch):
    """Every school submits November on 2 December (the demo submitted October for all but two)."""
    monkeypatch.setenv("XUEJI_TODAY", "2026-12-02")
    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        schools = session.execute(select(School.id, School.code).order_by(School.code)).all()
        for n, (sid, code) in enumerate(schools):
            registrar = (
                actors["demo_registrar"]
                if code == DEMO_SCHOOL
                else new_registrar(session, actors["demo_admin"], f"reg_{n}", code)
            )
            submission.submit(session, actor=registrar, school_id=sid, month=NOVEMBER)
    yield demo_engine
    get_settings.cache_clear()


def unfollowed_child_visited(engine, actors, day: date) -> None:
    """A child of 古港镇 whom no school follows (no registry record, no school named), visited on the day."""
    township = actors["demo_township"]
    with session_scope(engine) as session:
        child = Child(name="未随校测试", township_id=township.scope_id, school_id=None)
        session.add(child)
        session.commit()
        log_visit(session, actor=township, facts=visit_facts(visit_date=day), child_id=child.id)


def test_the_packs_november_totals_equal_the_dashboards_for_november(november_submitted, actors):
    county = actors["demo_county"]
    unfollowed_child_visited(november_submitted, actors, date(2026, 11, 20))
    with session_scope(november_submitted) as session:
        pack = quarterly.build(session, actor=county, quarter=Q4)
        frame = quarterly.sheets(pack)[NOVEMBER.label]
        month = dict(zip(*_sheet(frame), strict=True))
        enrolled = counts.county_totals(session, actor=county).enrolled
        changes = dashboards.dropouts_by_month(session, actor=county, school_year=2026)
        visits = dashboards.visits_by_month(session, actor=county, school_year=2026)
    row = lambda frame: frame[frame["月份"] == NOVEMBER.label].iloc[0]  # noqa: E731
    assert month[HEADINGS["enrolled"]] == enrolled > 0
    assert month[HEADINGS["dropouts"]] == row(changes)["辍学"]
    assert month[HEADINGS["returns"]] == row(changes)["劝返复学"]
    # 家访 and 劝返 of the month (1st to 30th) exactly: the schools' and the township rows of 未随校儿童
    assert month[HEADINGS["visits.visit"]] == row(visits)["家访"] > 0
    assert month[HEADINGS["visits.return_attempt"]] == row(visits)["劝返"]
    unfollowed = frame[frame["学校"] == quarterly.UNFOLLOWED]
    assert "古港镇" in set(unfollowed["乡镇"]) and unfollowed[HEADINGS["visits.visit"]].sum() >= 1
    # the quarter: October's two missing schools listed, November complete
    missing = [(m, s.school) for m, s in pack.missing]
    assert len(missing) == 2 and {m for m, _ in missing} == {"2026年10月"}
    assert pack.county_total()["enrolled"] == enrolled  # the quarter's end counts are November's


def test_month_end_counts_come_only_from_the_quarters_last_ended_month(demo_engine, actors, monkeypatch):
    """On 2 December nobody has submitted November: October's 在籍 is not the quarter's, and every school is
    listed as missing November."""
    monkeypatch.setenv("XUEJI_TODAY", "2026-12-02")
    get_settings.cache_clear()
    with session_scope(demo_engine) as session:
        pack = quarterly.build(session, actor=actors["demo_county"], quarter=Q4)
        frame = quarterly.sheets(pack)["季度合计(学校)"]
    get_settings.cache_clear()
    per_school = pack.school_totals()
    assert per_school  # the schools that submitted October
    assert all("enrolled" not in f and "suspected_open" not in f for f in per_school.values())
    assert pack.county_total()["enrolled"] == 0
    assert {s.school_id for m, s in pack.missing if m == NOVEMBER.label} == {
        s.school_id for s in pack.schools
    }
    schools = frame[frame["学校"] != quarterly.UNFOLLOWED]
    assert set(schools["备注"]) == {"2026年11月未报送,月末数未计入"}


def _sheet(frame):
    """The 合计 row of a month's sheet as (headings, values)."""
    total = frame[frame["乡镇"] == "合计"].iloc[0]
    return list(frame.columns), [int(v) if isinstance(v, int | float) else v for v in total]


def test_the_pack_is_exported_as_xlsx_and_docx_with_chinese_fonts_and_both_are_audited(
    november_submitted, actors
):
    county = actors["demo_county"]
    with session_scope(november_submitted) as session:
        data = quarterly.export_xlsx(session, actor=county, quarter=Q4)
        written = quarterly.export_docx(session, actor=county, quarter=Q4)
        exports = session.scalar(
            select(func.count()).where(AuditLog.action == "export", AuditLog.detail.like("2026年第四季度%"))
        )
        total = quarterly.build(session, actor=county, quarter=Q4).county_total()
    book = load_workbook(BytesIO(data), read_only=True)
    assert book.sheetnames == [
        "说明",
        "2026年10月",
        "2026年11月",
        "2026年12月",
        "季度合计(学校)",
        "季度合计(乡镇)",
        "未报送",
    ]
    notes = list(book["说明"].iter_rows(values_only=True))
    assert any(quarterly.BASIS in str(r[1]) for r in notes)
    document = Document(BytesIO(written))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "2026年第四季度控辍保学工作季报" in text and f"季末在籍学生 {total['enrolled']} 人" in text
    assert document.tables and document.tables[0].rows[0].cells[0].text == "学校"
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    assert exports == 2


def test_a_township_official_cannot_see_another_townships_schools_in_the_pack(demo_engine, actors):
    with session_scope(demo_engine) as session:
        pack = quarterly.build(session, actor=actors["demo_township"], quarter=Q4)
        with pytest.raises(Exception, match="无权"):
            quarterly.build(session, actor=actors["demo_registrar"], quarter=Q4)
    assert {s.township for s in pack.schools} == {"古港镇"}
