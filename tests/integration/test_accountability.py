"""月度台账与考核 on SQLite and PostgreSQL: each item counted in SQL for the right school and month, the year counting
each item once, the counts agreeing with the pure rule, every role seeing only its scope, the export audited.

The history (decided and submitted times in past months) is written as rows: the services stamp the real clock."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import Session

from tests.factories import small_county
from xueji.auth import Actor, PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.models import AuditLog, RegistryCheck, School, SchoolClass, SchoolYear, StatusChange, Student, Term
from xueji.rules.accountability import Item, LedgerMonth, overdue_in_month
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.dashboards import accountability as ledger

A, B, C = (
    "2143016965",
    "2143016967",
    "2143017001",
)  # 古港镇完全小学, 古港镇梅田小学 (古港镇); 沙市镇中学 (沙市镇)
OCT, NOV = LedgerMonth(2026, 10), LedgerMonth(2026, 11)


def at(day: str, hour: int = 2) -> datetime:
    """A stored time (UTC) of that day: 02:00 UTC is 10:00 in China."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch):
    def set_today(day: str) -> None:
        monkeypatch.setenv("XUEJI_TODAY", day)
        get_settings.cache_clear()

    set_today("2026-11-23")
    return set_today


class County:
    """A county of three schools, its 2026 school year, and helpers to add exactly the rows a test needs."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids = small_county(session)
        year = SchoolYear(start_year=2026, start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
        session.add(year)
        session.flush()
        self.terms = [
            Term(school_year_id=year.id, seq=1, start_date=date(2026, 9, 1), end_date=date(2027, 1, 20)),
            Term(school_year_id=year.id, seq=2, start_date=date(2027, 2, 22), end_date=date(2027, 7, 9)),
        ]
        session.add_all(self.terms)
        self.classes: dict[tuple[str, str], int] = {}
        self.n = 0

    def actor(self, role: Role, kind: ScopeKind, code: str) -> Actor:
        return Actor(
            user_id=None, username=f"{role.value}_{code}", role=role, scope_kind=kind, scope_id=self.ids[code]
        )

    def school_class(self, school: str, code: str) -> int:
        if (school, code) not in self.classes:
            row = SchoolClass(school_id=self.ids[school], code=code)
            self.session.add(row)
            self.session.flush()
            self.classes[school, code] = int(row.id or 0)
        return self.classes[school, code]

    def student(self, school: str, class_code: str, created: str, **values: object) -> int:
        self.n += 1
        row = Student(
            school_id=self.ids[school],
            class_id=self.school_class(school, class_code),
            name=f"学生{self.n:02d}",
            sex="男",
            birth_date=date(2019, 3, 1),
            entry_month="202609",
            created_at=at(created),
            **values,
        )
        self.session.add(row)
        self.session.flush()
        return int(row.id or 0)

    def change(self, school: str, kind: str, submitted: str, due: str, **values: object) -> int:
        student = values.pop("student_id", None) or self.student(school, "2024101", "2026-09-01")
        row = StatusChange(
            student_id=student,
            kind=kind,
            school_id=self.ids[school],
            effective_date=date.fromisoformat(submitted),
            reason="测试",
            submitted_at=at(submitted),
            due_date=date.fromisoformat(due),
            **values,
        )
        self.session.add(row)
        self.session.flush()
        return int(row.id or 0)


@pytest.fixture
def county(engine, today):
    with session_scope(engine) as session:
        yield County(session)


def counts(session: Session, actor: Actor, period, item: Item) -> dict[str, int]:
    """School name → count of the item, schools with none left out."""
    rows = ledger.school_ledgers(session, actor=actor, period=period)
    return {r.school: r.counts[item] for r in rows if r.counts[item]}


def overdue_history(c: County) -> dict[int, tuple[date, date | None]]:
    """Five requests around the October/November boundary: id → (due, decided day in China)."""
    made = {
        c.change(A, "dropout", "2026-10-08", "2026-10-19", state="approved", decided_at=at("2026-10-25")): (
            "2026-10-19",
            "2026-10-25",
        ),
        c.change(A, "suspension", "2026-10-20", "2026-10-29"): ("2026-10-29", None),  # still open
        c.change(A, "dropout", "2026-10-22", "2026-10-31", state="approved", decided_at=at("2026-11-02")): (
            "2026-10-31",
            "2026-11-02",
        ),
        c.change(B, "dropout", "2026-10-30", "2026-11-10", state="rejected", decided_at=at("2026-11-10")): (
            "2026-11-10",
            "2026-11-10",
        ),
        # 17:00 UTC on the due date is 01:00 the next day in China: late
        c.change(
            B, "dropout", "2026-10-26", "2026-11-05", state="approved", decided_at=at("2026-11-05", 17)
        ): (
            "2026-11-05",
            "2026-11-06",
        ),
        # approved with no decision time (older data): not counted as open
        c.change(C, "dropout", "2026-09-01", "2026-09-10", state="approved"): ("2026-09-10", None),
    }
    c.session.commit()
    return {
        cid: (date.fromisoformat(due), date.fromisoformat(day) if day else None)
        for cid, (due, day) in made.items()
    }


def test_overdue_approvals_count_in_the_month_of_the_late_decision_and_while_open(county):
    overdue_history(county)
    s, boss = county.session, county.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    assert counts(s, boss, ledger.month_period(s, OCT), Item.OVERDUE_APPROVAL) == {"古港镇完全小学": 2}
    assert counts(s, boss, ledger.month_period(s, NOV), Item.OVERDUE_APPROVAL) == {
        "古港镇完全小学": 2,
        "古港镇梅田小学": 1,
    }
    # the year counts the request left open over two month-ends once
    assert counts(s, boss, ledger.year_period(s, 2026), Item.OVERDUE_APPROVAL) == {
        "古港镇完全小学": 3,
        "古港镇梅田小学": 1,
    }
    rows = ledger.ledger_rows(s, actor=boss, period=ledger.month_period(s, NOV), item=Item.OVERDUE_APPROVAL)
    notes = sorted(r.note for r in rows)
    assert notes == [
        "审批期限 2026-10-29,截至 2026-11-23 仍未审批",
        "审批期限 2026-10-31,2026-11-02 才审批",
        "审批期限 2026-11-05,2026-11-06 才审批",
    ]
    assert {r.what for r in rows} == {"休学申请", "辍学申请"}


def test_the_sql_agrees_with_the_rule_request_by_request(county):
    history = overdue_history(county)
    s, boss = county.session, county.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    day = date(2026, 11, 23)
    for month in (LedgerMonth(2026, 9), OCT, NOV):
        period = ledger.month_period(s, month)
        from xueji.services.dashboards.ledger_items import ITEM_QUERIES

        found = set(s.scalars(select(ITEM_QUERIES[Item.OVERDUE_APPROVAL](boss, period).subquery().c.ref)))
        by_rule = {
            cid
            for cid, (due, decided) in history.items()
            if (decided is not None or cid != max(history))  # the approved row without a time is not open
            and overdue_in_month(due=due, decided_on=decided, month=month, today=day)
        }
        assert found == by_rule, month


def test_transfers_in_without_proofs_count_for_the_receiving_school(county):
    c = county
    c.change(A, "transfer_in", "2026-11-03", "2026-11-12", to_school_id=c.ids[C], documents="household_proof")
    c.change(A, "transfer_in", "2026-11-04", "2026-11-13", to_school_id=c.ids[C],
             documents="household_proof,registry_form")  # fmt: skip
    c.change(C, "transfer_in_outside", "2026-11-05", "2026-11-05", documents="")
    c.change(A, "transfer_out", "2026-11-05", "2026-11-16")  # needs no proof
    c.change(C, "transfer_in", "2026-10-30", "2026-11-10", to_school_id=c.ids[B])  # October
    c.session.commit()
    s, boss = c.session, c.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    period = ledger.month_period(s, NOV)
    assert counts(s, boss, period, Item.MISSING_PROOF) == {"沙市镇中学": 2}
    notes = sorted(r.note for r in ledger.ledger_rows(s, actor=boss, period=period, item=Item.MISSING_PROOF))
    assert notes == ["缺:户籍或房产证明、转出学校学籍登记表", "缺:转出学校学籍登记表"]
    assert counts(s, boss, ledger.month_period(s, OCT), Item.MISSING_PROOF) == {"古港镇梅田小学": 1}


def test_explained_transfers_are_listed_but_left_out_of_the_total(county):
    c = county
    both = {"documents": "household_proof,registry_form", "state": "approved", "decided_at": at("2026-11-08")}
    c.change(C, "transfer_in_outside", "2026-11-05", "2026-11-12", **both, outside_window=True,
             override_reason="家长工作调动")  # fmt: skip
    c.change(C, "transfer_in_outside", "2026-11-06", "2026-11-12", **both,
             placement_reason="留级:学业跟不上,家长申请")  # fmt: skip
    c.change(C, "transfer_in_outside", "2026-11-07", "2026-11-12", **both,
             placement_reason="证明待补:户籍证明下周补交")  # fmt: skip
    c.session.commit()
    s, boss = c.session, c.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    row = next(r for r in ledger.school_ledgers(s, actor=boss, period=ledger.month_period(s, NOV))
               if r.school == "沙市镇中学")  # fmt: skip
    assert (row.counts[Item.OUTSIDE_WINDOW], row.counts[Item.BELOW_GRADE], row.total) == (1, 1, 0)


def test_late_registrations_are_intake_records_added_after_the_deadline(county):
    c = county
    c.student(A, "2026101", "2026-09-10")  # the school's first record, in time
    c.student(A, "2026101", "2026-10-08")  # grade 1 after 30 September: late, October
    c.student(A, "2026101", "2026-11-02")  # late, November
    c.student(A, "2025101", "2026-11-02")  # grade 2: no intake
    moved = c.student(A, "2026101", "2026-11-10")  # came from another county after the year began
    c.change(A, "transfer_in_outside", "2026-11-10", "2026-11-10", student_id=moved, state="approved")
    c.student(B, "2026101", "2026-11-05")  # 梅田小学 went live in November: its load is no late registration
    c.student(B, "2026101", "2026-11-20")
    c.student(C, "2026201", "2026-09-01")
    graduate = c.student(A, "2020101", "2020-09-01", status="graduated")
    c.change(A, "promotion", "2026-11-03", "2026-11-03", student_id=graduate, state="approved",
             to_school_id=c.ids[C], to_class_id=c.school_class(C, "2026201"),
             decided_at=at("2026-11-03"))  # fmt: skip  # grade 7 after 31 October
    c.session.commit()
    s, boss = c.session, c.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    assert counts(s, boss, ledger.month_period(s, OCT), Item.LATE_REGISTRATION) == {"古港镇完全小学": 1}
    assert counts(s, boss, ledger.month_period(s, NOV), Item.LATE_REGISTRATION) == {
        "古港镇完全小学": 1,
        "沙市镇中学": 1,
    }
    rows = ledger.ledger_rows(s, actor=boss, period=ledger.month_period(s, NOV), item=Item.LATE_REGISTRATION)
    assert sorted((r.what, r.note) for r in rows) == [
        ("初中2026级(01)班", "注册截止 2026-10-31,2026-11-03 建籍或升入"),
        ("小学2026级(01)班", "注册截止 2026-09-30,2026-11-02 建籍或升入"),
    ]


def test_classes_short_of_checks_count_in_the_month_the_term_ended(county, today):
    c = county
    term = c.terms[0]
    c.session.flush()
    for school, code, days in ((A, "2026101", ["2026-10-10", "2026-12-10"]), (A, "2025101", ["2026-10-10"] * 2),
                               (B, "2026101", [])):  # fmt: skip
        class_id = c.school_class(school, code)
        for day in days:
            c.session.add(RegistryCheck(term_id=term.id, school_id=c.ids[school], class_id=class_id,
                                        checked_on=date.fromisoformat(day), method="tick", on_registry=1,
                                        present=1, missing=0, extra=0, mismatched=0))  # fmt: skip
    c.session.commit()
    s, boss = c.session, c.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    # while the term runs: "so far" only, nothing counted
    assert counts(s, boss, ledger.month_period(s, NOV), Item.CHECKS_SHORT) == {}
    running = {
        r.school: r.running_checks
        for r in ledger.school_ledgers(s, actor=boss, period=ledger.month_period(s, NOV))
    }
    assert (running["古港镇完全小学"], running["古港镇梅田小学"], running["沙市镇中学"]) == (1, 1, 0)
    today("2027-01-25")
    january = ledger.month_period(s, LedgerMonth(2027, 1))
    assert counts(s, boss, january, Item.CHECKS_SHORT) == {"古港镇完全小学": 1, "古港镇梅田小学": 1}
    notes = sorted(r.note for r in ledger.ledger_rows(s, actor=boss, period=january, item=Item.CHECKS_SHORT))
    assert notes == ["核查 0 次(不同日期),应至少 2 次", "核查 1 次(不同日期),应至少 2 次"]
    assert counts(s, boss, ledger.month_period(s, LedgerMonth(2026, 12)), Item.CHECKS_SHORT) == {}


def test_oversized_classes_come_from_the_current_registry_and_only_this_month(county, monkeypatch):
    monkeypatch.setenv("XUEJI_CLASS_SIZE_LIMIT", "2")
    get_settings.cache_clear()
    c = county
    for _ in range(3):
        c.student(A, "2026101", "2026-09-01")
    c.student(A, "2026102", "2026-09-01")
    c.student(A, "2026102", "2026-09-01", status="transferred_out")
    c.student(A, "2026102", "2026-09-01")
    c.session.commit()
    s, boss = c.session, c.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    assert counts(s, boss, ledger.month_period(s, NOV), Item.OVERSIZED_CLASS) == {"古港镇完全小学": 1}
    (row,) = ledger.ledger_rows(s, actor=boss, period=ledger.month_period(s, NOV), item=Item.OVERSIZED_CLASS)
    assert (row.subject, row.note) == ("小学2026级(01)班", "在读 3 人,上限 2 人(按当前名册)")
    assert counts(s, boss, ledger.month_period(s, OCT), Item.OVERSIZED_CLASS) == {}


def test_each_role_sees_its_own_schools_with_zeros_and_nothing_else(county):
    overdue_history(county)
    c, s = county, county.session
    period = ledger.month_period(s, NOV)
    boss = c.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    township = c.actor(Role.TOWNSHIP_OFFICIAL, ScopeKind.TOWNSHIP, "430181106000")
    registrar = c.actor(Role.REGISTRAR, ScopeKind.SCHOOL, B)
    assert [r.school for r in ledger.school_ledgers(s, actor=boss, period=period)] == [
        "沙市镇中学",
        "古港镇完全小学",
        "古港镇梅田小学",
    ]
    (only,) = ledger.school_ledgers(s, actor=township, period=period)
    assert (only.school, only.total, set(only.counts.values())) == ("沙市镇中学", 0, {0})
    (own,) = ledger.school_ledgers(s, actor=registrar, period=period)
    assert (own.school, own.counts[Item.OVERDUE_APPROVAL]) == ("古港镇梅田小学", 1)
    assert {r.school for r in ledger.ledger_rows(s, actor=registrar, period=period)} == {"古港镇梅田小学"}
    with pytest.raises(PermissionDenied, match="管辖范围"):
        ledger.ledger_rows(s, actor=registrar, period=period, school_id=c.ids[A])
    teacher = c.actor(Role.TEACHER, ScopeKind.SCHOOL, B)
    with pytest.raises(PermissionDenied):
        ledger.school_ledgers(s, actor=teacher, period=period)
    denials = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.outcome == "denied"))
    assert denials == 2


def test_a_month_not_yet_begun_has_no_ledger(county):
    with pytest.raises(ledger.LedgerError, match="尚未开始"):
        ledger.month_period(county.session, LedgerMonth(2026, 12))
    assert ledger.ledger_months(county.session)[:3] == [NOV, OCT, LedgerMonth(2026, 9)]


def test_the_export_holds_the_table_the_items_and_the_rules_and_is_audited(county):
    overdue_history(county)
    s = county.session
    boss = county.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    data = ledger.export_ledger(
        s, actor=boss, period=ledger.month_period(s, NOV), title="月度台账 2026年11月"
    )
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["汇总", "明细", "口径"]
    summary = list(book["汇总"].values)
    header = summary[0]
    school_a = next(r for r in summary if r[1] == "古港镇完全小学")
    assert school_a[header.index("异动审批超期")] == 2 and school_a[header.index("合计")] == 2
    school_c = next(r for r in summary if r[1] == "沙市镇中学")
    assert school_c[header.index("合计")] == 0  # zero, not blank
    assert len(list(book["明细"].values)) == 1 + 3
    entry = s.scalar(select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id.desc()))
    assert entry.detail.startswith("月度台账 2026年11月") and entry.entity_type == "ledger"
    assert s.scalar(select(func.count()).select_from(School)) == 3


def test_a_suspension_ended_and_not_handled_counts_from_the_month_it_ended(county):
    c = county
    child = c.student(A, "2024101", "2025-09-01", status="suspended")
    c.change(A, "suspension", "2025-11-01", "2025-11-10", student_id=child, state="approved",
             decided_at=at("2025-11-03"), suspension_until=date(2026, 11, 1))  # fmt: skip
    c.session.commit()
    s, boss = c.session, c.actor(Role.COUNTY_OFFICER, ScopeKind.COUNTY, "430181000000")
    assert counts(s, boss, ledger.month_period(s, OCT), Item.EXPIRED_SUSPENSION) == {}
    assert counts(s, boss, ledger.month_period(s, NOV), Item.EXPIRED_SUSPENSION) == {"古港镇完全小学": 1}
    assert counts(s, boss, ledger.year_period(s, 2026), Item.EXPIRED_SUSPENSION) == {"古港镇完全小学": 1}
    (row,) = ledger.ledger_rows(
        s, actor=boss, period=ledger.month_period(s, NOV), item=Item.EXPIRED_SUSPENSION
    )
    assert row.note == "休学于 2026-11-01 期满,未申请复学或续休"
