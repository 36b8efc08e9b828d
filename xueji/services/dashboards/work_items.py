"""The lines of 我的待办, one function per kind of work: each asks the service that counts that work for its own
page (aggregates in SQL, or the short lists those pages show) and says how many, since when, and where it is
done. services.dashboards.my_work picks the functions each role needs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlmodel import Session

from xueji.auth import Action, Actor
from xueji.clock import china_day, now, today
from xueji.config import get_settings
from xueji.models import AuditLog, Case, Child, RoleGrant, Sweep, SweepVillage
from xueji.rules.accountability import LedgerMonth
from xueji.rules.cases import CaseCategory, CaseStatus
from xueji.rules.home_teaching import ComplianceState, due_this_month
from xueji.rules.ladder import Step, owned_steps
from xueji.rules.registration import RegistrationState
from xueji.rules.suspensions import LeaveLevel, SuspensionState
from xueji.rules.sweeps import VillageStatus
from xueji.rules.terms import TermDates
from xueji.rules.visits import VisitState
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases import ladder, ledgers, visits
from xueji.services.common.access import child_condition, require, sweep_village_condition
from xueji.services.common.calendar import this_terms_sweeps
from xueji.services.comparisons import matching
from xueji.services.comparisons import tasks as verify_tasks
from xueji.services.dashboards import accountability
from xueji.services.home_teaching import board, records
from xueji.services.registry import checks, registration, status_changes, suspensions, term_reports
from xueji.services.reports import missing
from xueji.services.setup import checklist
from xueji.services.system import role_grants
from xueji.sql import visit_base, visit_deadline_passed

# the pages where the work is done (registered in xueji/ui/navigation.py)
REGISTRATION = "pages/registry/registration.py"
CHECKS = "pages/registry/registry_checks.py"
TERM_REPORTS = "pages/registry/term_reports.py"
SUSPENSIONS = "pages/registry/suspensions.py"
STATUS_CHANGES = "pages/registry/status_changes.py"
APPROVALS = "pages/system/approvals.py"
LEDGER = "pages/dashboards/accountability.py"
CASE_LEDGERS = "pages/cases/ledgers.py"
SUPERVISION = "pages/cases/supervision.py"
VISITS = "pages/cases/visits.py"
LADDER = "pages/cases/ladder.py"
SWEEP_PROGRESS = "pages/sweeps/progress.py"
SWEEP_REVIEW = "pages/sweeps/review.py"
SWEEP_ENTRY = "pages/sweeps/entry.py"
HT_BOARD = "pages/home_teaching/board.py"
VERIFY_TASKS = "pages/comparisons/tasks.py"
MATCH_REVIEW = "pages/comparisons/match_review.py"
HT_VISIT = "pages/home_teaching/visit.py"
HT_CHILD = "pages/home_teaching/child.py"
CHECKLIST = "pages/setup/checklist.py"
COUNTIES = "pages/overview/counties.py"
USERS = "pages/system/users.py"
AUDIT_LOG = "pages/system/audit_log.py"


class Urgency(StrEnum):
    OVERDUE = "overdue"  # a deadline has passed
    DUE = "due"  # to do, its deadline ahead (or none)
    NOTE = "note"  # to know about: waiting for someone else, or already in the ledger

    @property
    def label(self) -> str:
        return {"overdue": "已逾期", "due": "待办", "note": "留意"}[self.value]


@dataclass(frozen=True)
class WorkItem:
    """One line of the list: what, how many, the oldest deadline among them, and the page where it is done."""

    what: str
    count: int
    unit: str
    urgency: Urgency
    page: str
    due: date | None = None
    detail: str = ""
    counted_from: bool = False  # the date is when the count began (流生 from the end of the first week)


def _oldest(days: Iterable[date | None]) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


# ---- 学籍 (registrar; the county and township counted across their schools) --------------------------------


def registration_items(session: Session, actor: Actor) -> list[WorkItem]:
    """新生注册: intakes past their deadline with records still incomplete (or none imported), then those due."""
    return registration_lines(registration.intake_progress(session, actor=actor), actor)


def registration_lines(rows: list[registration.IntakeProgress], actor: Actor) -> list[WorkItem]:
    items = []
    for state, urgency, what in (
        (RegistrationState.LATE, Urgency.OVERDUE, "新生注册逾期未完成"),
        (RegistrationState.OPEN, Urgency.DUE, "新生注册待补全"),
    ):
        found = [r for r in rows if r.state is state]
        if not found:
            continue
        missing = sum(r.students - r.complete for r in found)
        empty = [f"{r.school}{r.intake}" for r in found if not r.students]
        detail = "尚未导入:" + "、".join(empty[:3]) + (" 等" if len(empty) > 3 else "") if empty else ""
        schools = len({r.school for r in found})
        if actor.scope_kind is not ScopeKind.SCHOOL:
            detail = f"{schools} 所学校" + (f";{detail}" if detail else "")
        items.append(
            WorkItem(what, missing, "人", urgency, REGISTRATION, _oldest(r.deadline for r in found), detail)
        )
    return items


def check_items(session: Session, actor: Actor) -> list[WorkItem]:
    """人籍一致: classes not yet checked the required times this term (due by the term's end)."""
    try:
        term, rows = checks.check_progress(session, actor=actor)
    except term_reports.TermReportError:
        return []
    return check_lines(term, rows)


def check_lines(term: TermDates, rows: list[checks.CheckProgress]) -> list[WorkItem]:
    classes = sum(r.classes for r in rows)
    done = sum(r.classes_done for r in rows)
    if not classes or done == classes:
        return []
    needed = get_settings().registry_checks_per_term
    urgency = Urgency.OVERDUE if term.end < today() else Urgency.DUE
    detail = f"{done}/{classes} 个班已核查满 {needed} 次"
    if key := sum(r.key_grades_open for r in rows):
        detail += f";其中六、八、九年级 {key} 个班未完成"
    return [WorkItem("人籍一致核查未完成", classes - done, "个班", urgency, CHECKS, term.end, detail)]


def term_report_items(session: Session, actor: Actor) -> list[WorkItem]:
    """开学报到: before the first week is over, students not reported yet; after it, the lost students (流生)."""
    try:
        term = term_reports.current_term(session)
    except term_reports.TermReportError:
        return []
    if not term.contains(today()):
        return []
    return report_lines(term, term_reports.report_progress(session, actor=actor))


def report_lines(term: TermDates, rows: list[term_reports.ReportProgress]) -> list[WorkItem]:
    since = term_reports.lost_since(term)
    if today() < since:
        waiting = sum(max(r.not_reported, 0) for r in rows)
        if not waiting:
            return []
        return [WorkItem("开学报到未登记", waiting, "人", Urgency.DUE, TERM_REPORTS, since)]
    lost = sum(r.lost for r in rows)
    if not lost:
        return []
    schools = sum(1 for r in rows if r.lost)
    detail = "开学满一周仍未报到,按疑似辍学跟进" + (f";{schools} 所学校" if schools > 1 else "")
    return [
        WorkItem(
            "流生(开学未报到)", lost, "人", Urgency.OVERDUE, TERM_REPORTS, since, detail, counted_from=True
        )
    ]


def suspension_items(session: Session, actor: Actor) -> list[WorkItem]:
    """休学 ended and not handled, ending soon, and 请假 over (or near) the limit that makes it a suspension."""
    rows = [r for r in suspensions.expiring_suspensions(session, actor=actor) if r.pending is None]
    expired = [r for r in rows if r.state is SuspensionState.EXPIRED]
    ending = [r for r in rows if r.state is not SuspensionState.EXPIRED]
    items = []
    if expired:
        items.append(
            WorkItem(
                "休学已期满未办理",
                len(expired),
                "人",
                Urgency.OVERDUE,
                SUSPENSIONS,
                _oldest(r.until for r in expired),
                "申请复学,仍不能复学的申请续休",
            )
        )
    if ending:
        items.append(
            WorkItem(
                "休学即将期满",
                len(ending),
                "人",
                Urgency.DUE,
                SUSPENSIONS,
                _oldest(r.until for r in ending),
                "到期复学,或在期满前半个月内申请续休",
            )
        )
    long_leave = [
        r for r in suspensions.leaves(session, actor=actor) if r.level in (LeaveLevel.OVER, LeaveLevel.SOON)
    ]
    if long_leave:
        over = any(r.level is LeaveLevel.OVER for r in long_leave)
        items.append(
            WorkItem(
                "请假超过上限,应办理休学",
                len(long_leave),
                "人",
                Urgency.OVERDUE if over else Urgency.DUE,
                SUSPENSIONS,
                _oldest(r.over_on for r in long_leave),
            )
        )
    return items


def status_change_items(session: Session, actor: Actor) -> list[WorkItem]:
    """学籍异动: the open requests this user decides (overdue first), and those their school is waiting on."""
    rows = status_changes.list_changes(session, actor=actor, open_only=True)
    mine = [r for r in rows if r.can_decide]
    items = []
    late = [r for r in mine if r.days_left is not None and r.days_left < 0]
    if late:
        items.append(
            WorkItem(
                "学籍异动超期未审批",
                len(late),
                "件",
                Urgency.OVERDUE,
                STATUS_CHANGES,
                _oldest(r.due_date for r in late),
                "须在提交后 7 个工作日内审批",
            )
        )
    if waiting := [r for r in mine if r.id not in {x.id for x in late}]:
        kinds = "、".join(dict.fromkeys(r.kind for r in waiting))
        items.append(
            WorkItem(
                "学籍异动待您审批",
                len(waiting),
                "件",
                Urgency.DUE,
                STATUS_CHANGES,
                _oldest(r.due_date for r in waiting),
                kinds,
            )
        )
    if actor.scope_kind is ScopeKind.SCHOOL and (theirs := [r for r in rows if not r.can_decide]):
        late_theirs = sum(1 for r in theirs if r.days_left is not None and r.days_left < 0)
        deciders = "、".join(dict.fromkeys(r.decider for r in theirs))
        items.append(
            WorkItem(
                "已提交、等待审批的学籍异动",
                len(theirs),
                "件",
                Urgency.NOTE,
                STATUS_CHANGES,
                _oldest(r.due_date for r in theirs),
                f"由{deciders}审批" + (f";其中 {late_theirs} 件已超期" if late_theirs else ""),
            )
        )
    return items


def account_approval_items(session: Session, actor: Actor) -> list[WorkItem]:
    """账号审批: the pending requests this approver may decide, batches' included (as the sidebar counts them)."""
    if not actor.can(Action.GRANT_APPROVE):
        return []
    pending = session.scalars(
        select(RoleGrant).where(RoleGrant.status == role_grants.GrantStatus.PENDING.value)
    )
    mine = role_grants.decidable_by(session, actor, list(pending))
    if not mine:
        return []
    oldest = min(g.requested_at for g in mine)
    return [WorkItem("账号申请待您审批", len(mine), "条", Urgency.DUE, APPROVALS, china_day(oldest))]


def ledger_items(session: Session, actor: Actor) -> list[WorkItem]:
    """月度台账: what this month's ledger already holds for the schools in scope (counted items only)."""
    try:
        period = accountability.month_period(session, LedgerMonth.of(today()))
    except accountability.LedgerError:
        return []
    schools = accountability.school_ledgers(session, actor=actor, period=period)
    total = sum(s.total for s in schools)
    if not total:
        return []
    with_items = sum(1 for s in schools if s.total)
    detail = "记入学年度目标考核" + (f";{with_items} 所学校" if len(schools) > 1 else "")
    return [WorkItem("本月台账已记入事项", total, "项", Urgency.NOTE, LEDGER, None, detail)]


# ---- 控辍保学 -------------------------------------------------------------------------------------------------


def oldest_overdue_visit(session: Session, actor: Actor) -> date | None:
    """The earliest visit deadline already passed among the open cases in scope (rules.visits.visit_due in SQL:
    per category the earliest base day, plus the category's interval)."""
    policy = get_settings().visit_policy
    open_cases = (Case.status != CaseStatus.CLOSED.value, child_condition(actor))
    last = visits._last_visits(select(Case.child_id).join(Child).where(*open_cases)).subquery()
    base = visit_base(func.coalesce(last.c.last, Case.opened_on), Case.opened_on)
    rows = session.execute(
        select(Case.category, func.min(base))
        .join(Child, Case.child_id == Child.id)
        .outerjoin(last, last.c.child_id == Child.id)
        .where(*open_cases, visit_deadline_passed(base, Case.category, policy, today()))
        .group_by(Case.category)
    )
    return _oldest(
        _as_date(first) + timedelta(days=policy.interval(CaseCategory(category)))
        for category, first in rows
        if first is not None
    )


def _as_date(value: date | datetime | str) -> date:
    """SQLite hands back the CASE's date as text."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def visit_follow_up_items(session: Session, actor: Actor) -> list[WorkItem]:
    """Children in scope overdue for a 家访 (the 包保督办 counts), with the oldest deadline passed."""
    return follow_up_lines(session, actor, visits.overdue_by_teacher(session, actor=actor))


def follow_up_lines(session: Session, actor: Actor, loads: list[visits.TeacherLoad]) -> list[WorkItem]:
    overdue = sum(r.overdue for r in loads)
    if not overdue:
        return []
    teachers = sum(1 for r in loads if r.overdue)
    return [
        WorkItem(
            "家访逾期的儿童",
            overdue,
            "人",
            Urgency.OVERDUE,
            SUPERVISION,
            oldest_overdue_visit(session, actor),
            f"涉及 {teachers} 位包保教师(或未指定包保人)",
        )
    ]


def case_items(session: Session, actor: Actor, *, line: str) -> list[WorkItem]:
    """Open cases of children out of school, and cases lacking a responsible person on the user's line."""
    items = []
    counts = ledgers.open_counts(session, actor=actor)
    out = counts.get(CaseCategory.SUSPECTED_DROPOUT, 0) + counts.get(CaseCategory.DROPOUT, 0)
    if out:
        detail = f"疑似辍学 {counts.get(CaseCategory.SUSPECTED_DROPOUT, 0)}、辍学 {counts.get(CaseCategory.DROPOUT, 0)}"
        items.append(WorkItem("在办的疑似辍学、辍学个案", out, "件", Urgency.DUE, CASE_LEDGERS, None, detail))
    gaps = ledgers.responsibility_gaps(session, actor=actor)
    missing = sum(g.no_government if line == "government" else g.no_education for g in gaps)
    if missing:
        what = "缺政府线包保人的个案" if line == "government" else "缺教育线包保人的个案"
        items.append(WorkItem(what, missing, "件", Urgency.DUE, CASE_LEDGERS, None, "在个案详情中指定包保人"))
    return items


def teacher_visit_items(session: Session, actor: Actor) -> list[WorkItem]:
    """A teacher's own 家访: overdue and due within the warning days (the 家访 page's list)."""
    policy = get_settings().visit_policy
    due = visits.due_visits(session, actor=actor)
    states = [(r, r.state(today(), policy.warn_days)) for r in due]
    items = []
    for state, urgency, what in (
        (VisitState.OVERDUE, Urgency.OVERDUE, "家访已逾期"),
        (VisitState.DUE, Urgency.DUE, f"{policy.warn_days} 天内应家访"),
    ):
        found = [r for r, s in states if s is state]
        if found:
            names = "、".join(r.name for r in found[:3]) + (" 等" if len(found) > 3 else "")
            items.append(
                WorkItem(what, len(found), "人", urgency, VISITS, _oldest(r.due for r in found), names)
            )
    return items


# ---- 劝返复学 (the return ladder) ------------------------------------------------------------------------------

# Per step: (what is waiting while the deadline is ahead, what is overdue, what the line advises)
LADDER_LINES: dict[Step, tuple[str, str, str]] = {
    Step.SCHOOL: ("学校劝返进行中", "学校劝返已逾期", "劝返满规定次数后提请乡镇"),
    Step.TOWNSHIP: ("限期通知待送达", "限期通知逾期未送达", "生成限期入学/复学通知书并登记送达"),
    Step.COUNTY: ("县级措施待登记", "县级措施已逾期", "登记行政措施或提请司法支持"),
    Step.FOLLOW_UP: ("返校跟踪待登记", "返校跟踪已逾期", "核实儿童是否仍在校"),
    Step.CLOSURE: ("销号待审批", "销号审批已逾期", "核对销号依据后同意或退回"),
    Step.READY: ("可申请销号", "可申请销号", "返校跟踪已完成:提交销号申请"),  # never overdue
}
NO_LADDER = ladder.LadderCount(0, 0, None, None)


def ladder_items(
    session: Session,
    actor: Actor,
    *,
    steps: Iterable[Step],
    counts: dict[Step, ladder.LadderCount] | None = None,
) -> list[WorkItem]:
    """The ladder's steps of these kinds open in scope: overdue, then waiting (counted in SQL, one query)."""
    counts = ladder.ladder_counts(session, actor=actor) if counts is None else counts
    items = []
    for step in steps:
        found = counts.get(step, NO_LADDER)
        waiting, late, advice = LADDER_LINES[step]
        if found.overdue:
            items.append(
                WorkItem(late, found.overdue, "件", Urgency.OVERDUE, LADDER, found.earliest_due, advice)
            )
        if found.open > found.overdue:
            items.append(
                WorkItem(
                    waiting,
                    found.open - found.overdue,
                    "件",
                    Urgency.DUE,
                    LADDER,
                    found.earliest_waiting,
                    advice,
                )
            )
    return items


def my_ladder_items(session: Session, actor: Actor) -> list[WorkItem]:
    """The steps this actor's role answers for (rules.ladder.owned_steps): the school's 劝返 and 返校跟踪 for the
    teacher and registrar, the written orders for the township, the measures for the county, and the 销号 to
    decide for whoever XUEJI_CLOSURE_APPROVER names; for the township also the schools' steps past their deadline
    (to know about: the nightly pass hands them to the township)."""
    counts = ladder.ladder_counts(session, actor=actor)
    items = ladder_items(session, actor, steps=owned_steps(actor.role, get_settings().ladder), counts=counts)
    school = counts.get(Step.SCHOOL, NO_LADDER)
    if school.overdue and actor.role is Role.TOWNSHIP_OFFICIAL:
        items.append(
            WorkItem(
                "学校劝返逾期(将升级到乡镇)",
                school.overdue,
                "件",
                Urgency.NOTE,
                LADDER,
                school.earliest_due,
                "学校步骤超过期限,每晚自动升级为乡镇书面限期通知",
            )
        )
    return items


# ---- 四个一 月报 (helper C's service; none until it exists) ----------------------------------------------------


def report_items(session: Session, actor: Actor) -> list[WorkItem]:
    """Monthly reports due or missing (services.reports.missing), for the registrar, the township and the county."""
    return list(missing.report_work_items(session, actor))


# ---- 拉网式排查 ---------------------------------------------------------------------------------------------


def _this_terms_villages(actor: Actor):  # noqa: ANN202 - a WHERE clause
    return (
        sweep_village_condition(actor),
        this_terms_sweeps(),
    )


def sweep_items(session: Session, actor: Actor, *, page: str = SWEEP_PROGRESS) -> list[WorkItem]:
    """This term's villages not submitted: past the due date (overdue), or still to do; and, for whoever reviews,
    villages submitted and waiting for review."""
    rows = [
        (status, _as_date(due), int(n))
        for status, due, n in session.execute(
            select(SweepVillage.status, Sweep.due_date, func.count())
            .join(Sweep, SweepVillage.sweep_id == Sweep.id)
            .where(*_this_terms_villages(actor))
            .group_by(SweepVillage.status, Sweep.due_date)
        )
    ]
    done = (VillageStatus.SUBMITTED.value, VillageStatus.REVIEWED.value)
    items = []
    for late, urgency, what in (
        (True, Urgency.OVERDUE, "排查逾期未提交的村"),
        (False, Urgency.DUE, "排查未提交的村"),
    ):
        found = [(s, due, n) for s, due, n in rows if (due < today()) is late and s not in done]
        if found:
            per_state = Counter[str]()
            for s, _, n in found:
                per_state[VillageStatus(s).label] += n
            states = "、".join(f"{label} {n}" for label, n in per_state.most_common())
            items.append(
                WorkItem(
                    what, per_state.total(), "个村", urgency, page, _oldest(d for _, d, _ in found), states
                )
            )
    if actor.can(Action.SWEEP_REVIEW):
        waiting = sum(n for s, _, n in rows if s == VillageStatus.SUBMITTED.value)
        if waiting:
            items.append(WorkItem("已提交待审核的村", waiting, "个村", Urgency.DUE, SWEEP_REVIEW))
    return items


# ---- 适龄儿童核实 (四查三比对) ------------------------------------------------------------------------------------


def verification_items(session: Session, actor: Actor) -> list[WorkItem]:
    """The township's children of age to verify (户籍 with no registry record), how many overdue, the earliest due."""
    if not actor.can(Action.VERIFY_RECORD):
        return []
    found = verify_tasks.backlog(session, actor=actor)
    if not found.open:
        return []
    urgency = Urgency.OVERDUE if found.overdue else Urgency.DUE
    detail = f"逾期 {found.overdue} 人" if found.overdue else "户籍在本地、查无学籍:逐一核实去向"
    return [WorkItem("适龄儿童待核实", found.open, "人", urgency, VERIFY_TASKS, found.oldest_due, detail)]


def verification_overdue_items(session: Session, actor: Actor) -> list[WorkItem]:
    """The county's verification tasks past their due day (each township's in the table below)."""
    if not actor.can(Action.COMPARE_READ):
        return []
    found = verify_tasks.backlog(session, actor=actor)
    if not found.overdue:
        return []
    townships = len(verify_tasks.overdue_by_township(session, actor=actor))
    return [
        WorkItem(
            "核实逾期",
            found.overdue,
            "人",
            Urgency.OVERDUE,
            VERIFY_TASKS,
            found.oldest_due,
            f"{townships} 个乡镇;适龄儿童核实超过期限未登记结果",
        )
    ]


def match_review_items(session: Session, actor: Actor) -> list[WorkItem]:
    """疑似同一人: pairs (listed child, registry record) waiting for the county's or the township's decision."""
    count = matching.pending_count(session, actor=actor)
    if not count:
        return []
    detail = "名单儿童与学籍记录姓名同音/相近或身份证号差一位:核对后判定是否同一人"
    return [WorkItem("疑似同一人待审核", count, "对", Urgency.DUE, MATCH_REVIEW, None, detail)]


def assessment_task_items(session: Session, actor: Actor) -> list[WorkItem]:
    """The coordinator's 送教上门 assessments asked for by the 残联 list (and by 送教上门 verifications)."""
    if not verify_tasks.reads_tasks(actor, verify_tasks.TaskKind.ASSESSMENT):
        return []
    found = verify_tasks.backlog(session, actor=actor, kind=verify_tasks.TaskKind.ASSESSMENT)
    if not found.open:
        return []
    urgency = Urgency.OVERDUE if found.overdue else Urgency.DUE
    detail = f"逾期 {found.overdue} 人" if found.overdue else "残疾、适龄,不在校也未送教:组织评估"
    return [WorkItem("待评估(残联名单)", found.open, "人", urgency, HT_BOARD, found.oldest_due, detail)]


# ---- 送教上门 -----------------------------------------------------------------------------------------------


def home_teaching_items(session: Session, actor: Actor) -> list[WorkItem]:
    """The coordinator's board: children red (behind, not compliant) and amber (at risk), those with no visit
    yet in this month, and children who may need home teaching with no plan this term."""
    term = records.latest_term(session)
    if term is None:
        return []
    rows = board.board(session, actor=actor, term=term)
    items = []
    red = [r for r in rows if r.compliance.state in (ComplianceState.BEHIND, ComplianceState.NOT_COMPLIANT)]
    amber = [r for r in rows if r.compliance.state is ComplianceState.AT_RISK]
    if red:
        items.append(WorkItem("送教已落后或未达标", len(red), "人", Urgency.OVERDUE, HT_BOARD))
    if amber:
        items.append(WorkItem("送教有风险", len(amber), "人", Urgency.DUE, HT_BOARD))
    month = [r for r in rows if due_this_month(r.compliance, today())]
    if month:
        items.append(
            WorkItem(
                "本月尚未送教",
                len(month),
                "人",
                Urgency.DUE,
                HT_BOARD,
                LedgerMonth.of(today()).last,
                "、".join(r.name for r in month[:3]) + (" 等" if len(month) > 3 else ""),
            )
        )
    unplanned = [c for c in records.candidates(session, actor=actor, term=term.id) if not c.has_plan]
    if unplanned:
        items.append(
            WorkItem("需评估、制定送教方案", len(unplanned), "人", Urgency.DUE, HT_CHILD, None, term.name)
        )
    return items


def teacher_home_teaching_items(session: Session, actor: Actor) -> list[WorkItem]:
    """A home-teaching teacher's children with no counted visit yet this month."""
    term = records.latest_term(session)
    rows = board.due_for_teacher(session, actor=actor, term=term) if term else []
    if not rows:
        return []
    names = "、".join(r.name for r in rows[:3]) + (" 等" if len(rows) > 3 else "")
    return [
        WorkItem(
            "本月应送教上门", len(rows), "人", Urgency.DUE, HT_VISIT, LedgerMonth.of(today()).last, names
        )
    ]


# ---- the administrator and the auditor ---------------------------------------------------------------------


def setup_items(session: Session, actor: Actor) -> list[WorkItem]:
    """上线清单: lines missing (the county cannot start) and lines to look at."""
    lines = checklist.checklist(session, actor=actor).lines
    items = []
    for state, urgency, what in (
        (checklist.LineState.MISSING, Urgency.OVERDUE, "上线清单未完成"),
        (checklist.LineState.WARNING, Urgency.DUE, "上线清单待查看"),
    ):
        found = [line for line in lines if line.state is state]
        if found:
            items.append(
                WorkItem(what, len(found), "项", urgency, CHECKLIST, None, "、".join(x.label for x in found))
            )
    return items


def filed_request_items(session: Session, actor: Actor) -> list[WorkItem]:
    """The administrator's account requests waiting for a second person."""
    require(session, actor, Action.USER_MANAGE)
    count, oldest = session.execute(
        select(func.count(), func.min(RoleGrant.requested_at)).where(
            RoleGrant.status == role_grants.GrantStatus.PENDING.value
        )
    ).one()
    if not count:
        return []
    return [
        WorkItem(
            "账号申请等待审批",
            int(count),
            "条",
            Urgency.NOTE,
            USERS,
            china_day(oldest) if oldest else None,
            "由县教育局或学籍管理员审批后生效",
        )
    ]


ANCHOR_HOURS = 2  # the anchor is written every hour (README: /etc/cron.d/xueji-audit); two missed is news
WEEK = 7


def audit_items(session: Session, actor: Actor) -> list[WorkItem]:
    """The auditor's: anchors gone stale (or none), refused and failed operations of the last week."""
    from xueji.audit.anchor import AnchorFileError, read_anchors  # noqa: PLC0415 - the auditor's only

    require(session, actor, Action.AUDIT_READ)
    items = []
    entries = int(session.scalar(select(func.count()).select_from(AuditLog)) or 0)
    try:
        anchors = read_anchors()
    except AnchorFileError as error:
        anchors = []
        items.append(WorkItem("锚点文件无法读取", 1, "处", Urgency.OVERDUE, AUDIT_LOG, None, str(error)))
    last = anchors[-1] if anchors else None
    if last is None:
        items.append(
            WorkItem(
                "审计日志还没有锚点",
                entries,
                "条未锚定",
                Urgency.OVERDUE,
                AUDIT_LOG,
                None,
                "请运维在服务器上运行 xueji audit anchor,并设定每小时一次的定时任务",
            )
        )
    elif (now() - last.at).total_seconds() > ANCHOR_HOURS * 3600 and entries > last.count:
        items.append(
            WorkItem(
                "锚点超过 2 小时未更新",
                entries - last.count,
                "条未锚定",
                Urgency.OVERDUE,
                AUDIT_LOG,
                last.at.date(),
                "检查每小时记锚点的定时任务",
            )
        )
    since = now() - timedelta(days=WEEK)
    for condition, what in (
        (AuditLog.outcome == "denied", "近 7 天被拒绝的越权操作"),
        (AuditLog.action == "lockout", "近 7 天账号锁定"),
    ):
        n = int(
            session.scalar(select(func.count()).select_from(AuditLog).where(condition, AuditLog.at >= since))
            or 0
        )
        if n:
            items.append(
                WorkItem(what, n, "次", Urgency.NOTE, AUDIT_LOG, None, "在审计日志中按“结果”筛选查看")
            )
    return items
