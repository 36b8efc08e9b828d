"""A county lives through the school year 2026–2027 (issue 23), on SQLite and PostgreSQL, from an empty database,
through the services, with the clock (XUEJI_TODAY) moved forward step by step.

The county (tests.factories.small_county): primaries P1 古港镇完全小学 and P2 古港镇梅田小学, junior school J 沙市镇中学.
Terms (学期设置): 2025–26 01-09-2025…16-01-2026 and 02-03-2026…10-07-2026; 2026–27 01-09-2026…15-01-2027 (a January
stub of 15 of 31 days, under half: not a month of home teaching) and 22-02-2027…09-07-2027.

Loaded by each school's registry import on 2025-10-15 (school year 2025–26), one class per grade:
  P1 grade 6 (2020101): g1 g2 g3 g4 r  — r transfers out of the county in March 2026 (6年级: with a reason)
  P1 grade 4 (2022101): h1 h2 (disabled: home teaching) d (drops out, comes back) x (to P2, late) p1 p2
  P2 grade 6 (2020101): m1 m2 m3       — m3 drops out at J in November
  P2 grade 4 (2022101): y (to P1, in the window) q1 q2 q3 q4
  J  grade 7 (2025201): s1 (休学 from 2025-10-20, 续休 in 2026) s2 (leave → 休学 → expired → 复学) j1 j2
  J  grade 8 (2024201): k1 k2 k3       — graduate at the 2027 rollover

巩固率 worked by hand (rules.retention: (start − out − died − dropped) ÷ (start − out − died); transfers in are not
in the start; a suspended child is retained and shown apart; a child brought back is retained).

School year 2025–26 (counted to 2026-08-31); the promotion on 2026-09-01 must not change it:
  P1 grade 6: start 5 (g1–g4, r), out 1 (r, 2026-03-09), in school 4          → 4 ÷ 4 = 1
  P2 grade 6: start 3, in school 3                                            → 3 ÷ 3 = 1

School year 2026–27 (the intake dated the year's first day is in the start):
  J grade 7 (2026201): start 8 — g1–g4 and m1–m3 promoted (升学, effective 2026-09-01), r back (转回, 2026-09-01);
      in 1 (o, 外县转入 on 2026-09-07); dropped 1 (m3, 2026-11-02, not back); in school 8   → 7 ÷ 8 = 87.50 %
  J grade 8 (2025201): start 4 (s1 suspended since 2025 counts: 学籍保留); suspended 1 (s1, extended to
      2027-07-09); s2 suspended 2026-09-07 and resumed 2027-01-05; in school 4              → 4 ÷ 4 = 1
  J grade 9 (2024201): start 3, in school 3 (graduated by the 2027 rollover, still grade 9 in 2026–27) → 3 ÷ 3
  P1 grade 5 (2022101): start 6 (h1 h2 d x p1 p2); in 1 (y, 2026-09-07); out 1 (x, 2026-10-19); d dropped out
      on 2026-11-02 and came back on 2027-03-08: returned 1, not dropped; in school 6      → 5 ÷ 5 = 1
  P2 grade 5 (2022101): start 5 (y q1–q4); in 1 (x); out 1 (y); in school 5              → 4 ÷ 4 = 1
  County (a move between P1 and P2 is neither in nor out of the county):
      grade 5: start 11, returned 1, in school 11 → 11 ÷ 11;  grade 7: as J;  grade 8: as J;  grade 9: as J
      total: start 26, in 1, out 0, died 0, dropped 1, returned 1, suspended 1, in school 26 → 25 ÷ 26 = 96.15 %
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import Engine, select

from tests.factories import SMALL_COUNTY, small_county
from xueji.auth import Actor, PermissionDenied
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.demo.registry_file import template_rows, template_workbook
from xueji.models import AuditLog, SchoolClass, StatusChange, Student, Term
from xueji.rules.accountability import Item, LedgerMonth
from xueji.rules.home_teaching import ComplianceState, GoalArea, HomeVisitFacts, PlanFacts
from xueji.rules.id_number import build_id_number
from xueji.rules.retention import GradeFlow, total
from xueji.rules.status_changes import ChangeKind, Document
from xueji.rules.suspensions import LeaveLevel, SuspensionState
from xueji.rules.terms import TermDates
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.dashboards import accountability as ledger
from xueji.services.dashboards.retention import RetentionScope, grade_flows
from xueji.services.home_teaching import board as home_board
from xueji.services.home_teaching import records
from xueji.services.registry import suspensions
from xueji.services.registry.file_import import check_file, import_file, plan_import, schools_for_import
from xueji.services.registry.rollover import RolloverError, preview_rollover, run_rollover
from xueji.services.registry.status_changes import (
    ChangeRequest,
    StatusChangeError,
    decide_change,
    submit_change,
)
from xueji.services.registry.term_reports import Leave, record_reports
from xueji.services.registry.transfer_lookup import find_transfer_candidate
from xueji.services.setup.terms import add_school_year
from xueji.services.system import accounts

P1, P2, J = "2143016965", "2143016967", "2143017001"
PROOFS = frozenset({Document.HOUSEHOLD_PROOF, Document.REGISTRY_FORM})
MEDICAL = frozenset({Document.MEDICAL_CERTIFICATE})
TERMS = (
    (date(2025, 9, 1), date(2026, 1, 16), date(2026, 3, 2), date(2026, 7, 10)),
    (date(2026, 9, 1), date(2027, 1, 15), date(2027, 2, 22), date(2027, 7, 9)),
)
# (name, school, class code, grade in 2025–26, disabled)
PUPILS = [
    *((n, P1, "2020101", 6, False) for n in ("g1", "g2", "g3", "g4", "r")),
    *((n, P1, "2022101", 4, n in ("h1", "h2")) for n in ("h1", "h2", "d", "x", "p1", "p2")),
    *((n, P2, "2020101", 6, False) for n in ("m1", "m2", "m3")),
    *((n, P2, "2022101", 4, False) for n in ("y", "q1", "q2", "q3", "q4")),
    *((n, J, "2025201", 7, False) for n in ("s1", "s2", "j1", "j2")),
    *((n, J, "2024201", 8, False) for n in ("k1", "k2", "k3")),
]
# the children's names on the registry, one each
NAMES = dict(
    zip(
        [p[0] for p in PUPILS] + ["o"],
        "王一鸣 李二娟 张三丰 刘思思 陈五洲 杨六顺 赵七巧 黄八方 周久安 吴十全 徐冬梅 孙小雨 胡明月 朱青山 "
        "高云飞 林晓东 何春燕 郭子涵 马丽华 罗志强 梁宇航 宋佳怡 郑浩然 谢雨桐 韩博文 唐欣怡 冯家豪".split(),
        strict=True,
    )
)


class Year:
    """The county, its accounts and the clock: each step of the year sets today and acts through a service."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.engine, self.monkeypatch = engine, monkeypatch
        self.rows: dict[str, dict[str, str]] = {}
        self.on("2025-08-20")
        with session_scope(engine) as session:
            self.ids = small_county(session)
            system = accounts.system_actor(session)
            self.actors: dict[str, Actor] = {}
            for username, role, kind, code in (
                ("admin", Role.ADMIN, ScopeKind.COUNTY, SMALL_COUNTY),
                ("county", Role.COUNTY_OFFICER, ScopeKind.COUNTY, SMALL_COUNTY),
                ("coordinator", Role.COORDINATOR, ScopeKind.COUNTY, SMALL_COUNTY),
                ("reg_p1", Role.REGISTRAR, ScopeKind.SCHOOL, P1),
                ("reg_p2", Role.REGISTRAR, ScopeKind.SCHOOL, P2),
                ("reg_j", Role.REGISTRAR, ScopeKind.SCHOOL, J),
                ("teacher_p1", Role.TEACHER, ScopeKind.SCHOOL, P1),
            ):
                user, _ = accounts.create_user(
                    session, actor=system, username=username, display_name=username, role=role,
                    scope_kind=kind, scope_code=code,
                )  # fmt: skip
                self.actors[username] = accounts.actor_of(user)
            for first_start, first_end, second_start, second_end in TERMS:
                year = first_start.year
                add_school_year(
                    session,
                    actor=self.actors["admin"],
                    first=TermDates(year, 1, first_start, first_end),
                    second=TermDates(year, 2, second_start, second_end),
                )

    def on(self, day: str) -> None:
        self.monkeypatch.setenv("XUEJI_TODAY", day)
        get_settings.cache_clear()

    def __getitem__(self, username: str) -> Actor:
        return self.actors[username]

    def school(self, code: str) -> int:
        return self.ids[code]

    def student(self, key: str) -> int:
        with session_scope(self.engine) as session:
            return int(
                session.scalar(select(Student.id).where(Student.id_number == self.rows[key]["id_number"]))
            )

    def klass(self, school: str, code: str) -> int:
        with session_scope(self.engine) as session:
            return int(
                session.scalar(
                    select(SchoolClass.id).where(
                        SchoolClass.school_id == self.ids[school], SchoolClass.code == code
                    )
                )
            )

    def ask(self, who: str, key: str, kind: ChangeKind, effective: str, reason: str, **extra: object) -> int:
        with session_scope(self.engine) as session:
            request = ChangeRequest(self.student(key), kind, date.fromisoformat(effective), reason, **extra)
            return int(submit_change(session, actor=self[who], request=request).id)

    def decide(self, who: str, change_id: int, *, approve: bool = True) -> StatusChange:
        with session_scope(self.engine) as session:
            return decide_change(session, actor=self[who], change_id=change_id, approve=approve)

    def lookup(self, who: str, key: str) -> int:
        with session_scope(self.engine) as session:
            found = find_transfer_candidate(session, actor=self[who], id_number=self.rows[key]["id_number"])
            return found.lookup_id

    def flows(self, school_year: int, school: str | None = None) -> list[GradeFlow]:
        with session_scope(self.engine) as session:
            scope = RetentionScope(school_id=self.ids[school]) if school else None
            return grade_flows(session, actor=self["county"], school_year=school_year, scope=scope)

    def ledger_rows(self, month: LedgerMonth, item: Item, school: str) -> list[tuple[str, str, str]]:
        with session_scope(self.engine) as session:
            period = ledger.month_period(session, month)
            rows = ledger.ledger_rows(
                session, actor=self["county"], period=period, school_id=self.ids[school], item=item
            )
            return [(r.subject, r.what, r.note) for r in rows]

    def ledger(self, month: LedgerMonth, item: Item) -> dict[int, int]:
        with session_scope(self.engine) as session:
            period = ledger.month_period(session, month)
            rows = ledger.school_ledgers(session, actor=self["county"], period=period)
            return {r.school_id: r.counts[item] for r in rows if r.counts[item]}


def registry_row(
    n: int, key: str, school: str, class_code: str, grade: int, disabled: bool
) -> dict[str, str]:
    """A valid template row for a child in that grade in 2025–26, with a birth date (and ID number) of its own."""
    row = next(template_rows([(school, "primary")], 1, school_year=2025, seed=23 + n))
    born = date(2025 - grade - 6, 10, 1) + timedelta(days=3 * n)
    return row | {
        "school_code": school,
        "name": NAMES[key],
        "sex": "男",
        "birth_date": f"{born:%Y%m%d}",
        "id_number": build_id_number("430102", born, 0, male=True),
        "class_code": class_code,
        "entry_month": f"{class_code[:4]}09",
        "left_behind": "否",
        "disability_type": "肢体残疾" if disabled else "无残疾",
    }


def load_the_registry(year: Year) -> None:
    """2025-10-15: each school loads its registry by the national template (go-live: plain new records)."""
    year.on("2025-10-15")
    for n, (key, school, code, grade, disabled) in enumerate(PUPILS):
        year.rows[key] = registry_row(n, key, school, code, grade, disabled)
    for school, registrar in ((P1, "reg_p1"), (P2, "reg_p2"), (J, "reg_j")):
        rows = [r for r in year.rows.values() if r["school_code"] == school]
        with session_scope(year.engine) as session:
            result = import_file(
                session, actor=year[registrar], data=template_workbook(rows), school_code=school
            )
        assert (result.created, result.plan.arrivals) == (len(rows), [])


def intake_rows(year: Year) -> list[dict[str, str]]:
    """J's grade 7 in September 2026: the graduates of P1 and P2 and r (back) by their rows of 2025–26, and o from
    another county (转出县区, 原学校), who joins year.rows."""
    intake = [
        year.rows[k] | {"school_code": J, "class_code": "2026201", "entry_month": "202609"}
        for k in ("g1", "g2", "g3", "g4", "m1", "m2", "m3", "r")
    ]
    born = date(2013, 12, 12)
    year.rows["o"] = intake[0] | {
        "name": NAMES["o"],
        "birth_date": f"{born:%Y%m%d}",
        "id_number": build_id_number("360321", born, 1, male=True),
        "source_county": "江西省萍乡市上栗县",
        "source_school": "上栗县桐木镇中学",
    }
    return [*intake, year.rows["o"]]


def test_a_county_lives_through_the_school_year_2026_2027(engine, monkeypatch):
    year = Year(engine, monkeypatch)
    load_the_registry(year)

    # ---- 2025–26: a suspension for a year (s1), a grade-6 child leaves the county (r), the rollover in July ----
    year.on("2025-10-20")
    s1 = year.ask("reg_j", "s1", ChangeKind.SUSPENSION, "2025-10-20", "住院治疗", documents=MEDICAL,
                  suspension_until=date(2026, 10, 19))  # fmt: skip
    year.decide("county", s1)
    # the spring term's 8th day: in the window; still, grade 6 takes no transfer without a reason
    year.on("2026-03-09")
    with pytest.raises(StatusChangeError, match="6年级原则上不办理转学"):
        year.ask(
            "reg_p1", "r", ChangeKind.TRANSFER_OUT, "2026-03-09", "随父母迁往外省", destination="广东省东莞市"
        )
    out = year.ask("reg_p1", "r", ChangeKind.TRANSFER_OUT, "2026-03-09", "随父母迁往外省",
                   destination="广东省东莞市", override_reason="父母工作调动,全家迁往外省")  # fmt: skip
    year.decide("county", out)

    year.on("2026-07-08")  # before the last term ends: asked for a reason, audited
    with session_scope(engine) as session, pytest.raises(RolloverError, match="2026-07-10 结束后才能升级"):
        run_rollover(session, actor=year["county"], school_year=2026)
    year.on("2026-07-13")
    with session_scope(engine) as session:
        assert preview_rollover(session, actor=year["county"], school_year=2026).by_school == [
            ("古港镇完全小学", 4, 0),  # g1–g4 (r left in March)
            ("古港镇梅田小学", 3, 0),
        ]
        assert len(run_rollover(session, actor=year["county"], school_year=2026).graduated) == 7

    # ---- September 2026 at J: the national template import takes its grade 7 ----------------------------------
    year.on("2026-09-06")
    last_year = {school: year.flows(2025, school) for school in (P1, P2)}
    assert last_year[P1] == [GradeFlow(4, 6, 0, 0, 0, 0, 0, 0, 6), GradeFlow(6, 5, 0, 1, 0, 0, 0, 0, 4)]
    assert last_year[P2] == [GradeFlow(4, 5, 0, 0, 0, 0, 0, 0, 5), GradeFlow(6, 3, 0, 0, 0, 0, 0, 0, 3)]
    year.on("2026-09-07")  # the autumn term's 7th day: inside the transfer window (14 days)
    intake = intake_rows(year)
    data = template_workbook(intake)
    with session_scope(engine) as session:
        sheet = check_file(session, actor=year["reg_j"], data=data)
        schools = schools_for_import(session, actor=year["reg_j"], school_code=J)
        plan = plan_import(session, actor=year["reg_j"], sheet=sheet, schools=schools, only_school=True)
    said = {row["name"]: "" for row in intake}
    said.update({a.row.values["name"]: a.sentence for a in plan.arrivals})
    assert said == {
        **{NAMES[k]: "从古港镇完全小学毕业,升入本校" for k in ("g1", "g2", "g3", "g4")},
        **{NAMES[k]: "从古港镇梅田小学毕业,升入本校" for k in ("m1", "m2", "m3")},
        NAMES["r"]: "曾从古港镇完全小学转出外县,现转回本县,入读本校",
        NAMES["o"]: "从江西省萍乡市上栗县桐木镇中学转入(外县转入),新建学籍",
    }
    assert {k: v for k, v in plan.sources.items() if v} == {
        "本县小学升入": 7,
        "外县转入": 1,
        "返回": 1,
        "其中转回": 1,
    }
    assert (len(plan.moved), plan.rejected) == (8, [])
    with session_scope(engine) as session:  # the outside child's sending-school form is still to come
        result = import_file(
            session, actor=year["reg_j"], data=data, school_code=J, proofs=[Document.HOUSEHOLD_PROOF]
        )
    assert result.created == 1
    assert year.flows(2025, P1) == last_year[P1] and year.flows(2025, P2) == last_year[P2]
    with session_scope(engine) as session:
        moved = session.get(Student, year.student("g1"))
        assert (moved.school_id, moved.registry_number) == (
            year.school(J),
            f"G{year.rows['g1']['id_number']}",
        )
        outside = session.scalar(select(StatusChange).where(StatusChange.student_id == year.student("o")))
        assert (outside.kind, outside.source_county, outside.effective_date, outside.documents) == (
            "transfer_in_outside", "江西省萍乡市上栗县", date(2026, 9, 7), "household_proof",
        )  # fmt: skip

    # ---- transfers: y from P2 to P1 in the window (the sending school decides) ---------------------------------
    p1_grade5, p2_grade5, j_grade8 = (
        year.klass(P1, "2022101"),
        year.klass(P2, "2022101"),
        year.klass(J, "2025201"),
    )
    with pytest.raises(StatusChangeError, match="转出学校学籍登记表"):  # a proof missing and no word on it
        year.ask("reg_p1", "y", ChangeKind.TRANSFER_IN, "2026-09-07", "随父母搬家",
                 documents=frozenset({Document.HOUSEHOLD_PROOF}), to_class_id=p1_grade5,
                 lookup_id=year.lookup("reg_p1", "y"))  # fmt: skip
    t_in = year.ask("reg_p1", "y", ChangeKind.TRANSFER_IN, "2026-09-07", "随父母搬家", documents=PROOFS,
                    to_class_id=p1_grade5, lookup_id=year.lookup("reg_p1", "y"))  # fmt: skip
    assert year.decide("reg_p2", t_in).state == "approved"

    # ---- leave with dates (s2), recorded at the term's start --------------------------------------------------
    with session_scope(engine) as session:
        record_reports(session, actor=year["reg_j"], class_id=j_grade8,
                       reported=[year.student("j1"), year.student("j2")],
                       leave={year.student("s2"): Leave("肺炎住院治疗", date(2026, 9, 7), date(2026, 12, 31))})  # fmt: skip
    with pytest.raises(StatusChangeError, match="续休申请须在 2026-10-04 至 2026-10-19 之间提交"):
        year.ask("reg_j", "s1", ChangeKind.EXTENSION, "2026-10-20", "仍需治疗", documents=MEDICAL,
                 suspension_until=date(2027, 7, 9))  # fmt: skip

    # ---- 续休 in the half month before the end (s1) --------------------------------------------------------------
    year.on("2026-10-12")
    with session_scope(engine) as session:
        (row,) = suspensions.expiring_suspensions(session, actor=year["reg_j"])
        assert (row.student, row.until, row.state, row.can_extend) == (
            NAMES["s1"], date(2026, 10, 19), SuspensionState.EXTENSION_OPEN, True,
        )  # fmt: skip
    extension = year.ask("reg_j", "s1", ChangeKind.EXTENSION, "2026-10-20", "仍需治疗", documents=MEDICAL,
                         suspension_until=date(2027, 7, 9))  # fmt: skip
    year.decide("county", extension)

    # ---- x from P1 to P2 after the window: a reason, and the county decides (late) ---------------------------
    year.on("2026-10-19")  # the term's 49th day
    lookup = year.lookup("reg_p2", "x")
    with pytest.raises(StatusChangeError, match="已过本学期转学窗口"):
        year.ask("reg_p2", "x", ChangeKind.TRANSFER_IN, "2026-10-19", "随祖父母生活", documents=PROOFS,
                 to_class_id=p2_grade5, lookup_id=lookup)  # fmt: skip
    late = year.ask("reg_p2", "x", ChangeKind.TRANSFER_IN, "2026-10-19", "随祖父母生活", documents=PROOFS,
                    to_class_id=p2_grade5, lookup_id=lookup, override_reason="父母外出务工,随祖父母生活")  # fmt: skip
    with pytest.raises(PermissionDenied, match="窗口期外的转入申请由县教育局审批"):
        year.decide("reg_p1", late)
    year.on("2026-10-30")  # left undecided past its 7 working days: this month's ledger counts it for P1
    with session_scope(engine) as session:
        assert session.get(StatusChange, late).due_date == date(2026, 10, 28)
    overdue = (NAMES["x"], "转入申请", "审批期限 2026-10-28,截至 2026-10-30 仍未审批")
    assert year.ledger_rows(LedgerMonth(2026, 10), Item.OVERDUE_APPROVAL, P1) == [overdue]
    # nothing else in October was decided late
    assert year.ledger(LedgerMonth(2026, 10), Item.OVERDUE_APPROVAL) == {year.school(P1): 1}
    year.on("2026-11-02")
    year.decide("county", late)

    # ---- two dropouts: d (P1) will come back, m3 (J) will not ------------------------------------------------
    for who, key in (("reg_p1", "d"), ("reg_j", "m3")):
        year.decide("county", year.ask(who, key, ChangeKind.DROPOUT, "2026-11-02", "外出打工,多次劝返未果"))

    # ---- the leave goes over 10 weeks of the term (on 2026-11-16): turned into a suspension --------------------
    year.on("2026-11-20")
    with session_scope(engine) as session:
        (leave,) = suspensions.leaves(session, actor=year["reg_j"])
        assert (leave.level, leave.over_on, leave.why) == (
            LeaveLevel.OVER,
            date(2026, 11, 16),
            "一学期内请假超过10周",
        )
        (todo,) = suspensions.todos([], [leave])
    assert (todo.kind, todo.effective, todo.until) == (
        ChangeKind.SUSPENSION,
        date(2026, 9, 7),
        date(2026, 12, 31),
    )
    with session_scope(engine) as session:
        request = ChangeRequest(todo.student_id, todo.kind, todo.effective, todo.reason, MEDICAL,
                                suspension_until=todo.until)  # fmt: skip
        s2 = int(submit_change(session, actor=year["reg_j"], request=request).id)
    year.decide("county", s2)

    # ---- home teaching in the autumn term: h1 from the start, h2 from 14 December ---------------------------
    year.on("2026-12-31")
    with session_scope(engine) as session:
        term = int(session.scalar(select(Term.id).where(Term.start_date == date(2026, 9, 1))))
        children = {
            c.name: c.child_id for c in records.candidates(session, actor=year["coordinator"], term=term)
        }
        plans = {}
        for key, started in (("h1", date(2026, 9, 1)), ("h2", date(2026, 12, 14))):
            facts = PlanFacts(
                started, {GoalArea.MOTOR: "扶站与行走训练"}, "康复训练与认知", (year["teacher_p1"].user_id,)
            )
            plans[key] = records.save_plan(
                session, actor=year["coordinator"], child_id=children[NAMES[key]], term=term, facts=facts
            ).id
        visits = {
            "h1": ("2026-09-15", "2026-10-20", "2026-11-17", "2026-12-08", "2026-12-22"),
            "h2": ("2026-12-20",),
        }
        for key, days in visits.items():
            for day in days:
                facts = HomeVisitFacts(date.fromisoformat(day), "周老师", 2.0, "扶站训练")
                records.log_home_visit(session, actor=year["teacher_p1"], plan_id=plans[key], facts=facts)

    # ---- the suspension that came from leave ended on 31 December: expired, not handled, then 复学 -------------
    year.on("2027-01-05")
    # September's ledger: the import at J was confirmed with the household proof only, so both of its 外县转入
    # (o, new to the county, and r, back from one) lack the sending school's form; y came to P1 with both
    assert year.ledger(LedgerMonth(2026, 9), Item.MISSING_PROOF) == {year.school(J): 2}
    missing = year.ledger_rows(LedgerMonth(2026, 9), Item.MISSING_PROOF, J)
    assert sorted(name for name, _, _ in missing) == sorted([NAMES["o"], NAMES["r"]])
    with session_scope(engine) as session:
        (row,) = suspensions.expiring_suspensions(session, actor=year["reg_j"])
        assert (row.student, row.state) == (NAMES["s2"], SuspensionState.EXPIRED)
        assert suspensions.expired_unhandled_by_school(session, actor=year["county"]) == {year.school(J): 1}
    assert year.ledger(LedgerMonth(2027, 1), Item.EXPIRED_SUSPENSION) == {year.school(J): 1}
    back = year.ask("reg_j", "s2", ChangeKind.RESUMPTION, "2027-01-05", "病愈复学", to_class_id=j_grade8)
    year.decide("county", back)
    with session_scope(engine) as session:
        assert suspensions.expired_unhandled_by_school(session, actor=year["county"]) == {}

    def board(day: str) -> dict[str, home_board.BoardRow]:
        year.on(day)
        with session_scope(engine) as session:
            ref = records.term_of(session, term)
            return {r.name: r for r in home_board.board(session, actor=year["coordinator"], term=ref)}

    # h2 owes ⌈5 × 33 ÷ 137⌉ = 2 visits: 33 days taught (14 Dec–15 Jan) of the term's 137 (1 Sep–15 Jan)
    during = board("2027-01-10")
    assert (during[NAMES["h1"]].compliance.state, during[NAMES["h2"]].compliance.state) == (
        ComplianceState.COMPLIANT, ComplianceState.ON_TRACK,  # one visit still to come, in the January stub
    )  # fmt: skip
    after = board("2027-01-16")
    h1, h2 = after[NAMES["h1"]].compliance, after[NAMES["h2"]].compliance
    # 1–15 January (15 of 31 days, under half) is no month h1 can be behind in
    assert h1.state is ComplianceState.COMPLIANT
    assert [p.label for p in h1.months] == ["2026年9月", "2026年10月", "2026年11月", "2026年12月"]
    assert h2.state is ComplianceState.NOT_COMPLIANT  # 未达标 once the term is over, never 有风险
    assert (h2.owed.visits, h2.owed.taught_days, h2.owed.term_days, h2.needed) == (2, 33, 137, 1)
    frame = home_board.board_frame(list(after.values())).set_index("姓名")
    assert frame.loc[NAMES["h2"], "应送计算"] == "本学期 5 周送教:应送教 ⌈5 × 33 ÷ 137⌉ = 2 次"

    # ---- d comes back in the spring (劝返复学) ---------------------------------------------------------------
    year.on("2027-03-08")
    year.decide(
        "county", year.ask("reg_p1", "d", ChangeKind.RETURN, "2027-03-08", "劝返复学", to_class_id=p1_grade5)
    )

    # ---- 巩固率 for 2026–27, as worked in the module's docstring -------------------------------------------------
    def figures() -> None:
        assert year.flows(2026, J) == [
            GradeFlow(7, 8, 1, 0, 0, 1, 0, 0, 8),
            GradeFlow(8, 4, 0, 0, 0, 0, 0, 1, 4),
            GradeFlow(9, 3, 0, 0, 0, 0, 0, 0, 3),
        ]
        assert year.flows(2026, P1) == [GradeFlow(5, 6, 1, 1, 0, 0, 1, 0, 6)]
        assert year.flows(2026, P2) == [GradeFlow(5, 5, 1, 1, 0, 0, 0, 0, 5)]
        county = year.flows(2026)
        assert county == [
            GradeFlow(5, 11, 0, 0, 0, 0, 1, 0, 11),
            GradeFlow(7, 8, 1, 0, 0, 1, 0, 0, 8),
            GradeFlow(8, 4, 0, 0, 0, 0, 0, 1, 4),
            GradeFlow(9, 3, 0, 0, 0, 0, 0, 0, 3),
        ]
        assert [f.rate for f in county] == [1, Fraction(7, 8), 1, 1]
        whole = total(county)
        assert whole == GradeFlow(0, 26, 1, 0, 0, 1, 1, 1, 26)
        assert (whole.rate, whole.rate_text()) == (Fraction(25, 26), "96.15%")
        assert year.flows(2025, P1) == last_year[P1] and year.flows(2025, P2) == last_year[P2]

    # ---- the rollover at the end of the year: asked for a reason before the last term ends, runs after ----------
    year.on("2027-07-05")
    figures()
    with session_scope(engine) as session, pytest.raises(RolloverError) as refused:
        run_rollover(session, actor=year["county"], school_year=2027)
    assert str(refused.value) == (
        "2026-2027学年第二学期 2027-07-09 结束后才能升级(自 2027-07-10 起);提前升级须填写原因"
    )
    with session_scope(engine) as session:
        refusal = select(AuditLog.detail).where(AuditLog.action == "rollover", AuditLog.outcome == "refused")
        assert [d for d in session.scalars(refusal) if "提前升级须填写原因" in d] != []
    year.on("2027-07-12")
    with session_scope(engine) as session:
        done = run_rollover(session, actor=year["county"], school_year=2027)
        assert (len(done.graduated), done.early_reason, done.school_year_created) == (3, None, True)
    figures()  # the grade 9 graduated by the rollover still counts as 2026–27's grade 9
