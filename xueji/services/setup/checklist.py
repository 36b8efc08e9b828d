"""上线清单: what the county still lacks before it can start, line by line, each with its figure, what is missing
(the first few names) and the pages that fix it. Every figure is counted in SQL; only the first names are read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import Select, exists, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.models import (
    AppUser,
    County,
    RoleGrant,
    School,
    SchoolClass,
    SchoolYear,
    Student,
    Township,
    Village,
)
from xueji.rules.class_code import parse_class_code
from xueji.rules.terms import school_year_name
from xueji.rules.vocab import Role, StudentStatus
from xueji.services.common.access import require
from xueji.services.common.calendar import school_year_on, terms
from xueji.services.system import holidays
from xueji.services.system.deadlines import work_calendar
from xueji.services.system.role_grants import GrantStatus

AHEAD_DAYS = 60  # next school year's terms and next year's holidays are asked for this long before they begin
SHOWN = 5  # names shown of what is missing; the rest are counted ("等 N 所")

SETUP_IMPORT = "pages/setup/import_setup.py"
DIVISIONS = "pages/setup/divisions.py"
TERMS = "pages/setup/terms.py"
ACCOUNT_IMPORT = "pages/setup/import_accounts.py"
USERS = "pages/system/users.py"
APPROVALS = "pages/system/approvals.py"
HOLIDAYS = "pages/system/holidays.py"
REGISTRY_IMPORT = "pages/registry/import_students.py"
ASSIGNMENTS = "pages/registry/assignments.py"

ON_ROLL = (StudentStatus.ENROLLED.value, StudentStatus.SUSPENDED.value)


class LineState(StrEnum):
    DONE = "done"
    MISSING = "missing"  # the county cannot start without it
    WARNING = "warning"  # it can start, but something needs a look


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    figure: str
    state: LineState
    missing: str = ""  # what is missing, with the first few names
    pages: tuple[str, ...] = ()  # the pages that fix it, the first the user may open is linked
    how: str = ""  # who fixes it, or how, where no page of the reader does


@dataclass(frozen=True)
class Checklist:
    lines: tuple[Line, ...]

    @property
    def done(self) -> int:
        return sum(line.state is LineState.DONE for line in self.lines)

    @property
    def complete(self) -> bool:
        """Nothing missing (warnings do not hold the county back)."""
        return all(line.state is not LineState.MISSING for line in self.lines)

    @property
    def summary(self) -> str:
        return f"{self.done}/{len(self.lines)} 项已完成"

    def line(self, key: str) -> Line:
        return next(line for line in self.lines if line.key == key)


def _listed(names: Sequence[str], count: int, unit: str) -> str:
    """古港镇、官渡镇 等 12 个: the names read, and how many there are in all when there are more."""
    shown = "、".join(names)
    return f"{shown} 等 {count} {unit}" if count > len(names) else shown


def _lacking(session: Session, query: Select, order: ColumnElement) -> tuple[int, list[str]]:
    """How many rows the query finds, and the first few of its labels."""
    count = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    names = list(session.scalars(query.order_by(order).limit(SHOWN))) if count else []
    return count, names


def _count(session: Session, query: Select) -> int:
    return int(session.scalar(query) or 0)


OPEN_TOWNSHIP = col(Township.closed_on).is_(None)
OPEN_VILLAGE = col(Village.closed_on).is_(None)
OPEN_SCHOOL = col(School.closed_on).is_(None)


def _has_account(role: Role, scope: ColumnElement) -> ColumnElement:
    return exists(
        select(AppUser.id).where(AppUser.role == role.value, col(AppUser.is_active).is_(True), scope)
    )


def _county(session: Session) -> Line:
    counties = session.execute(select(County.name, County.code).order_by(County.id)).all()
    return Line(
        "county",
        "县区",
        "、".join(f"{name}({code})" for name, code in counties) or "尚未建立",
        LineState.DONE if counties else LineState.MISSING,
        "" if counties else "在“基础数据导入”的“县区”表中填写本县区的行政区划代码和名称",
        (SETUP_IMPORT,),
    )


def _townships(session: Session) -> tuple[Line, int]:
    count = _count(session, select(func.count()).select_from(Township).where(OPEN_TOWNSHIP))
    line = Line(
        "townships",
        "乡镇/街道",
        f"{count} 个",
        LineState.DONE if count else LineState.MISSING,
        "" if count else "尚无乡镇:在“基础数据导入”的“乡镇”表中填写",
        (SETUP_IMPORT, DIVISIONS),
    )
    return line, count


def _townships_without(session: Session, has: ColumnElement) -> tuple[int, list[str]]:
    return _lacking(session, select(Township.name).where(OPEN_TOWNSHIP, ~has), Township.code)


def _villages(session: Session, townships: int) -> Line:
    count = _count(session, select(func.count()).select_from(Village).where(OPEN_VILLAGE))
    lacking, names = _townships_without(
        session, exists(select(Village.id).where(Village.township_id == Township.id, OPEN_VILLAGE))
    )
    if not count:
        state, missing = LineState.MISSING, "尚无村/社区:在“基础数据导入”的“村社区”表中填写"
    elif lacking:
        state, missing = LineState.WARNING, f"没有村/社区的乡镇:{_listed(names, lacking, '个')}"
    else:
        state, missing = LineState.DONE, ""
    figure = f"{count} 个" + (f",{townships - lacking}/{townships} 个乡镇已有" if count else "")
    return Line("villages", "村/社区", figure, state, missing, (SETUP_IMPORT, DIVISIONS))


def _schools(session: Session, townships: int) -> tuple[Line, int]:
    count = _count(session, select(func.count()).select_from(School).where(OPEN_SCHOOL))
    lacking, names = _townships_without(
        session, exists(select(School.id).where(School.township_id == Township.id, OPEN_SCHOOL))
    )
    if not count:
        state, missing = LineState.MISSING, "尚无学校:在“基础数据导入”的“学校”表中填写"
    elif lacking:
        state, missing = LineState.WARNING, f"没有学校的乡镇:{_listed(names, lacking, '个')}"
    else:
        state, missing = LineState.DONE, ""
    figure = f"{count} 所" + (f",{townships - lacking}/{townships} 个乡镇已有" if count else "")
    return Line("schools", "学校", figure, state, missing, (SETUP_IMPORT, DIVISIONS)), count


def _term_name(start_year: int, seq: int) -> str:
    return f"{school_year_name(start_year)}第{'一' if seq == 1 else '二'}学期"


def _terms(session: Session, day: date) -> Line:
    year = school_year_on(session, day)
    configured = {(t.school_year_start, t.seq) for t in terms(session)}
    next_start = session.scalar(select(SchoolYear.start_date).where(SchoolYear.start_year == year + 1))
    if next_start is None:
        next_start = date(year + 1, get_settings().school_year_start_month, 1)
    wanted = [(year, 1), (year, 2)]
    if day + timedelta(days=AHEAD_DAYS) >= next_start:
        wanted += [(year + 1, 1), (year + 1, 2)]
    absent = [(y, s) for y, s in wanted if (y, s) not in configured]
    figure = f"{school_year_name(year)}:{sum((year, s) in configured for s in (1, 2))}/2 个学期已设置"
    if len(wanted) > 2:
        figure += f";{school_year_name(year + 1)}:{sum((year + 1, s) in configured for s in (1, 2))}/2"
    if any(y == year for y, _ in absent):
        state = LineState.MISSING
    else:
        state = LineState.WARNING if absent else LineState.DONE
    missing = ("尚未设置:" + "、".join(_term_name(y, s) for y, s in absent)) if absent else ""
    how = "开学日期决定流生、新生注册、送教月份和排查期限,请按县教育局的校历填写" if absent else ""
    return Line("terms", "学期(校历)", figure, state, missing, (TERMS, SETUP_IMPORT), how)


def _holidays(session: Session, day: date) -> Line:
    this_known = holidays.year_known(session, day.year)
    due = [y for y in holidays.missing_years(session, day, ahead_days=AHEAD_DAYS) if y != day.year]
    calendar = work_calendar(session)
    figure = ";".join(f"{y}年:{calendar.coverage(y).label}" for y in (day.year, day.year + 1))
    absent = ([] if this_known else [day.year]) + due
    state = LineState.MISSING if not this_known else (LineState.WARNING if due else LineState.DONE)
    missing = (
        "、".join(f"{y}年" for y in absent)
        + "的节假日安排未内置也未确认完整:录入全年的放假和调休后在“节假日安排”页点“确认完整”;"
        "在此之前学籍异动的审批期限暂按周一至周五计算"
        if absent
        else ""
    )
    return Line("holidays", "节假日安排", figure, state, missing, (HOLIDAYS,))


def _per_school(
    session: Session,
    key: str,
    label: str,
    has: ColumnElement,
    schools: int,
    lacking_what: str,
    pages: tuple[str, ...],
    how: str = "",
) -> Line:
    """A line counted per open school: how many have it, and the first of those that do not."""
    if not schools:
        return Line(key, label, "尚无学校", LineState.MISSING, "先建立学校", pages, how)
    lacking, names = _lacking(session, select(School.name).where(OPEN_SCHOOL, ~has), School.code)
    return Line(
        key,
        label,
        f"{schools - lacking}/{schools} 所学校已有",
        LineState.MISSING if lacking else LineState.DONE,
        f"{lacking_what}:{_listed(names, lacking, '所')}" if lacking else "",
        pages,
        how if lacking else "",
    )


def _township_officials(session: Session, townships: int) -> Line:
    lacking, names = _townships_without(
        session, _has_account(Role.TOWNSHIP_OFFICIAL, AppUser.township_id == Township.id)
    )
    pages = (ACCOUNT_IMPORT, USERS)
    if not townships:
        return Line("township_officials", "乡镇干部账号", "尚无乡镇", LineState.MISSING, "先建立乡镇", pages)
    return Line(
        "township_officials",
        "乡镇干部账号",
        f"{townships - lacking}/{townships} 个乡镇已有",
        LineState.MISSING if lacking else LineState.DONE,
        f"没有乡镇干部账号的乡镇:{_listed(names, lacking, '个')}" if lacking else "",
        pages,
    )


def _county_accounts(session: Session, role: Role, key: str, pages: tuple[str, ...], how: str) -> Line:
    count = _count(
        session,
        select(func.count())
        .select_from(AppUser)
        .where(AppUser.role == role.value, col(AppUser.is_active).is_(True)),
    )
    return Line(
        key,
        f"{role.label}账号",
        f"{count} 个",
        LineState.DONE if count else LineState.MISSING,
        "" if count else f"还没有{role.label}账号",
        pages,
        "" if count else how,
    )


def _head_teachers(session: Session) -> Line:
    taught = exists(
        select(Student.id).where(
            Student.class_id == SchoolClass.id, Student.status == StudentStatus.ENROLLED.value
        )
    )
    classes = _count(session, select(func.count()).select_from(SchoolClass).where(taught))
    query = (
        select(School.name, SchoolClass.code)
        .join(School, School.id == SchoolClass.school_id)
        .where(taught, col(SchoolClass.head_teacher_id).is_(None))
    )
    lacking = _count(session, select(func.count()).select_from(query.subquery()))
    first = (
        session.execute(query.order_by(School.code, SchoolClass.code).limit(SHOWN)).all() if lacking else []
    )
    how = "新账号:在“账号导入”的“任教班级”表中把班主任标为“是”;已有账号:学籍管理员在“教师包保”页“设为班主任”"
    if not classes:
        return Line(
            "head_teachers",
            "班主任",
            "尚无有在读学生的班级",
            LineState.MISSING,
            "先导入学籍",
            (ACCOUNT_IMPORT,),
            how,
        )
    names = [f"{school} {parse_class_code(code).name}" for school, code in first]
    return Line(
        "head_teachers",
        "班主任",
        f"{classes - lacking}/{classes} 个班已指定班主任账号",
        LineState.WARNING if lacking else LineState.DONE,
        f"没有班主任账号的班:{_listed(names, lacking, '个')}(其学生的个案缺少教育线责任人)"
        if lacking
        else "",
        (ACCOUNT_IMPORT, ASSIGNMENTS),
        how if lacking else "",
    )


def _requests(session: Session) -> Line:
    pending = _count(
        session,
        select(func.count()).select_from(RoleGrant).where(RoleGrant.status == GrantStatus.PENDING.value),
    )
    return Line(
        "requests",
        "待批准的账号申请",
        f"{pending} 条" if pending else "没有",
        LineState.WARNING if pending else LineState.DONE,
        f"{pending} 条账号申请尚未批准,账号在批准后才生效" if pending else "",
        (APPROVALS, USERS),
        "由县教育局(教师账号也可由本校学籍管理员)在“账号审批”页批准" if pending else "",
    )


def checklist(session: Session, *, actor: Actor, on: date | None = None) -> Checklist:
    """Every line of the set-up checklist as it stands on the day (today by default)."""
    require(session, actor, Action.SETUP_READ)
    day = on or today()
    townships_line, townships = _townships(session)
    schools_line, schools = _schools(session, townships)
    accounts = (ACCOUNT_IMPORT, USERS)
    registry = exists(
        select(Student.id).where(Student.school_id == School.id, col(Student.status).in_(ON_ROLL))
    )
    return Checklist(
        (
            _county(session),
            townships_line,
            _villages(session, townships),
            schools_line,
            _terms(session, day),
            _holidays(session, day),
            _county_accounts(
                session,
                Role.COUNTY_OFFICER,
                "county_officers",
                accounts,
                "第一个县教育局账号在服务器命令行创建(xueji user add 账号 --name 姓名 --role county_officer "
                "--scope-kind county --scope 县区代码,或 xueji user import 账号表):"
                "页面上申请的账号都要由县教育局批准。",
            ),
            _county_accounts(
                session,
                Role.AUDITOR,
                "auditors",
                (),
                "审计员账号只能在服务器命令行创建:xueji user add 账号 --name 姓名 --role auditor "
                "--scope-kind county --scope 县区代码",
            ),
            _per_school(
                session,
                "registrars",
                "学籍管理员账号",
                _has_account(Role.REGISTRAR, AppUser.school_id == School.id),
                schools,
                "没有学籍管理员账号的学校",
                pages=accounts,
            ),
            _per_school(
                session,
                "teachers",
                "教师账号",
                _has_account(Role.TEACHER, AppUser.school_id == School.id),
                schools,
                "没有教师账号的学校",
                pages=accounts,
            ),
            _township_officials(session, townships),
            _per_school(
                session,
                "registry",
                "学籍导入",
                registry,
                schools,
                "还没有学生的学校",
                pages=(REGISTRY_IMPORT,),
                how="由各校学籍管理员在“学籍导入”页导入全国学籍导入模板",
            ),
            _head_teachers(session),
            _requests(session),
        )
    )


def leads_here(session: Session, *, actor: Actor) -> bool:
    """Whether the checklist is this actor's first page: an administrator's until nothing is missing, a county
    officer's while the county has no school."""
    if not actor.can(Action.SETUP_READ):
        return False
    if actor.role is Role.COUNTY_OFFICER:
        return not _count(session, select(func.count()).select_from(School).where(OPEN_SCHOOL))
    return not checklist(session, actor=actor).complete
