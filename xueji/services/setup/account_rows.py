"""The rows of an account workbook (账号导入), checked against the file and the database: every problem of every
row, with the sheet, row, column, value and reason, and what the rows would create. The account rules are those
of services.system.accounts (new_account_values: the account's name, that it is free, the role's scope, open);
on top of them: roles an administrator may ask for, scope codes by their shape, 11-digit mobiles, no name twice,
no name with a request waiting; and for 任教班级, an account of the file at the class's school, a class the
school teaches, one head teacher a class. Pure reading: nothing is written here."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.auth import Actor
from xueji.clock import today
from xueji.excel.account_template import ACCOUNT_SHEET, CLASS_SHEET, NO, ROLE_CHOICES, YES
from xueji.excel.row_problems import RowProblem
from xueji.excel.simple_table import TableRow
from xueji.models import AppUser, GrantClass, RoleGrant, School, SchoolClass, TeacherAssignment
from xueji.rules.class_code import ClassCode, ClassCodeError, parse_class_code
from xueji.rules.division import DivisionCodeError, DivisionLevel, parse_division_code
from xueji.rules.registry_record import phone_problem
from xueji.rules.text_limits import length_problem
from xueji.rules.vocab import Role, SchoolKind, ScopeKind
from xueji.services.common.calendar import school_year_on
from xueji.services.system.accounts import (
    AccountError,
    new_account_values,
    on_command_line,
    scope_names,
)
from xueji.services.system.role_grants import scope_holds
from xueji.sql import chunked

ROLE_NAMES = {r.label: r for r in ROLE_CHOICES} | {"班主任": Role.TEACHER, "教师": Role.TEACHER}
SCOPE_KINDS = {DivisionLevel.COUNTY: ScopeKind.COUNTY, DivisionLevel.TOWNSHIP: ScopeKind.TOWNSHIP}


@dataclass(frozen=True)
class NewAccount:
    """A checked row of the 账号 sheet: the new account's columns (accounts.new_account_values) and its scope."""

    row: int
    values: dict[str, object]
    phone: str | None
    scope_name: str

    @property
    def username(self) -> str:
        return str(self.values["username"])

    @property
    def role(self) -> Role:
        return Role(str(self.values["role"]))


@dataclass(frozen=True)
class NewTeaching:
    """A checked row of the 任教班级 sheet."""

    row: int
    username: str
    user_id: int | None  # an existing teacher account (command line only); None: an account of the file
    school_id: int
    school_name: str
    class_code: str
    head_teacher: bool
    class_exists: bool


@dataclass
class AccountSheet:
    """The workbook as checked: what would be created, and every problem (sheet → row problems)."""

    file_name: str
    digest: str
    rows: dict[str, list[TableRow]]
    command_line_roles: bool = False  # administrator and auditor accounts too (the demo, on the command line)
    accounts: list[NewAccount] = field(default_factory=list)
    teaching: list[NewTeaching] = field(default_factory=list)
    problems: dict[str, list[RowProblem]] = field(default_factory=dict)

    @property
    def bad_rows(self) -> int:
        return sum(len({p.row for p in found}) for found in self.problems.values())

    def problem(self, sheet: str, row: int, column: str, value: str, reason: str) -> None:
        self.problems.setdefault(sheet, []).append(RowProblem(row, column, value, reason))

    @property
    def new_classes(self) -> list[tuple[str, str]]:
        """(school name, class code) of the classes that would be created."""
        return sorted({(t.school_name, t.class_code) for t in self.teaching if not t.class_exists})


def _code_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _scope_kind(code: str) -> ScopeKind:
    """What a 管辖范围代码 names: a school (10 digits), a county or a township (12 digits)."""
    if len(code) == 10 and code.isascii() and code.isdigit():
        return ScopeKind.SCHOOL
    try:
        level = parse_division_code(code).level
    except DivisionCodeError:
        raise ValueError("应为10位学校标识码,或县区、乡镇的12位行政区划代码") from None
    if level not in SCOPE_KINDS:
        raise ValueError("12位代码须是县区或乡镇的行政区划代码(村、社区不能作为管辖范围)")
    return SCOPE_KINDS[level]


def _role(text: str, *, command_line_roles: bool) -> Role:
    role = ROLE_NAMES.get(text.strip())
    if role is not None:
        return role
    if text.strip() in (Role.ADMIN.label, Role.AUDITOR.label):
        if command_line_roles:
            return Role.ADMIN if text.strip() == Role.ADMIN.label else Role.AUDITOR
        raise ValueError(f"{text.strip()}账号不能导入:只能由运维在服务器命令行上逐个创建(xueji user add)")
    above = {
        Role.CITY_OFFICER.label: ("city_officer", "city", "市州"),
        Role.PROVINCE_OFFICER.label: ("province_officer", "province", "省"),
    }
    if text.strip() in above:
        wanted, kind, what = above[text.strip()]
        raise ValueError(
            f"{text.strip()}账号不能导入:管辖多个县区的账号只能由运维在服务器命令行上逐个创建"
            f"(xueji user add 账号 --name 姓名 --role {wanted} --scope-kind {kind} --scope {what}的12位区划代码)"
        )
    raise ValueError("角色应为" + "、".join(r.label for r in ROLE_CHOICES))


def _column_of(message: str) -> str:
    """Which column a refusal of accounts.new_account_values is about."""
    if message.startswith("账号"):
        return "账号"
    return "姓名" if "姓名" in message else "管辖范围代码"


def _mobile(text: str) -> str | None:
    number, problem = phone_problem(text)
    if problem or not number or len(number) != 11 or not number.startswith("1"):
        raise ValueError("应为11位手机号(可不填)")
    return number


def _pending_usernames(session: Session, names: set[str]) -> set[str]:
    found: set[str] = set()
    for part in chunked(sorted(names)):
        query = select(RoleGrant.username).where(
            RoleGrant.status == "pending", col(RoleGrant.username).in_(part)
        )
        found |= set(session.scalars(query))
    return found


@dataclass
class _Known:
    """What the 账号 rows are checked against, read once per file."""

    pending: set[str]  # usernames with a request waiting
    names: dict[tuple[str, int | None], str]  # scope names
    within: dict[tuple[ScopeKind, int], bool] = field(default_factory=dict)  # the actor's scope holds it
    seen: dict[str, tuple[int, NewAccount | None]] = field(
        default_factory=dict
    )  # the file's usernames so far


def _cell_problems(
    cells: dict[str, str], known: _Known, *, command_line_roles: bool
) -> tuple[Role | None, ScopeKind | None, str | None, list[tuple[str, str, str]]]:
    """What a 账号 row's cells say (role, scope kind, phone) and what is wrong with them, before the database."""
    username, name = cells.get("username", "").strip(), cells.get("name", "").strip()
    code = _code_text(cells.get("scope_code", ""))
    found: list[tuple[str, str, str]] = []
    if username in known.seen:
        found.append(("账号", username, f"与第{known.seen[username][0]}行的账号重复"))
    elif username in known.pending:
        found.append(("账号", username, "该账号已有一条待批准的申请,请等它处理完或撤回后再导入"))
    for column, value, target in (
        ("账号", username, "app_user.username"),
        ("姓名", name, "app_user.display_name"),
    ):
        if reason := length_problem(value, target):
            found.append((column, value, f"{column}{reason}"))
    role = kind = phone = None
    try:
        role = _role(cells.get("role", ""), command_line_roles=command_line_roles)
    except ValueError as error:
        found.append(("角色", cells.get("role", ""), str(error)))
    try:
        kind = _scope_kind(code)
    except ValueError as error:
        found.append(("管辖范围代码", code, str(error)))
    if cells.get("phone", "").strip():
        try:
            phone = _mobile(cells["phone"])
        except ValueError as error:
            found.append(("手机号", cells["phone"], str(error)))
    return role, kind, phone, found


def _new_account(
    session: Session,
    actor: Actor,
    row: TableRow,
    role: Role,
    kind: ScopeKind,
    phone: str | None,
    known: _Known,
) -> tuple[NewAccount | None, list[tuple[str, str, str]]]:
    """The account a row asks for, by the account rules (accounts.new_account_values) and the actor's scope."""
    username, code = row.cells.get("username", "").strip(), _code_text(row.cells.get("scope_code", ""))
    try:
        values = new_account_values(
            session,
            username=username,
            display_name=row.cells.get("name", ""),
            role=role,
            scope_kind=kind,
            scope_code=code,
        )
    except AccountError as error:
        column = _column_of(str(error))
        return None, [(column, code if column == "管辖范围代码" else username, str(error))]
    scope = (kind, int(str(values[f"{kind.value}_id"])))
    if not on_command_line(actor):  # the command line acts for the whole deployment, as `xueji user add` does
        if scope not in known.within:
            known.within[scope] = scope_holds(session, (actor.scope_kind, actor.scope_id), scope)
        if not known.within[scope]:
            return None, [("管辖范围代码", code, "不在您的管辖范围内")]
    return NewAccount(row.number, values, phone, known.names.get((kind.value, scope[1]), code)), []


def _check_accounts(
    session: Session, actor: Actor, sheet: AccountSheet
) -> dict[str, tuple[int, NewAccount | None]]:
    """Check the 账号 rows; return username → (row, the account or None when its row has problems)."""
    rows = sheet.rows[ACCOUNT_SHEET]
    usernames = {r.cells.get("username", "").strip() for r in rows} - {""}
    known = _Known(_pending_usernames(session, usernames), scope_names(session))
    for row in rows:
        role, kind, phone, found = _cell_problems(
            row.cells, known, command_line_roles=sheet.command_line_roles
        )
        account = None
        if role is not None and kind is not None and not found:
            account, found = _new_account(session, actor, row, role, kind, phone, known)
        for column, value, reason in found:
            sheet.problem(ACCOUNT_SHEET, row.number, column, value, reason)
        if account is not None:
            sheet.accounts.append(account)
        known.seen.setdefault(row.cells.get("username", "").strip(), (row.number, account))
    return known.seen


def _existing_accounts(session: Session, names: set[str]) -> dict[str, AppUser]:
    found: dict[str, AppUser] = {}
    for part in chunked(sorted(names)):
        found |= {
            u.username: u for u in session.scalars(select(AppUser).where(col(AppUser.username).in_(part)))
        }
    return found


@dataclass
class _Teaching:
    """What the 任教班级 rows are checked against, read once per file."""

    accounts: dict[str, tuple[int, NewAccount | None]]  # the 账号 sheet's, by username
    existing: dict[str, AppUser]  # accounts already in the database named on the sheet
    schools: dict[str, School]
    classes: dict[tuple[int, str], SchoolClass]
    pending_heads: set[tuple[int, str]]  # (school, class) whose head teacher a pending batch asks for
    taught: set[tuple[int, int]]  # (existing account, class) assigned already
    school_year: int
    seen: dict[tuple[str, int, str], int] = field(default_factory=dict)  # (account, school, class) → row
    heads: dict[tuple[int, str], int] = field(default_factory=dict)  # (school, class) → row naming its head


def _teaching_known(
    session: Session, rows: list[TableRow], accounts: dict[str, tuple[int, NewAccount | None]]
) -> _Teaching:
    schools = {s.code: s for s in session.scalars(select(School))}
    school_ids = [int(s.id or 0) for s in schools.values()]
    existing = _existing_accounts(
        session, {r.cells.get("username", "").strip() for r in rows} - set(accounts)
    )
    pending_heads = (
        select(GrantClass.school_id, GrantClass.class_code)
        .join(RoleGrant, GrantClass.grant_id == RoleGrant.id)
        .where(RoleGrant.status == "pending", GrantClass.head_teacher)
    )
    taught = select(TeacherAssignment.user_id, TeacherAssignment.class_id).where(
        col(TeacherAssignment.user_id).in_([u.id for u in existing.values()]),
        col(TeacherAssignment.class_id).is_not(None),
    )
    return _Teaching(
        accounts=accounts,
        existing=existing,
        schools=schools,
        classes={
            (c.school_id, c.code): c
            for c in session.scalars(select(SchoolClass).where(col(SchoolClass.school_id).in_(school_ids)))
        },
        pending_heads={(int(s), str(c)) for s, c in session.execute(pending_heads)},
        taught={(int(u), int(c)) for u, c in session.execute(taught)},
        school_year=school_year_on(session, today()),
    )


def _teacher(
    username: str, known: _Teaching, *, direct: bool
) -> tuple[int | None, int | None, bool, list[tuple[str, str, str]]]:
    """Who a 任教班级 row names: (existing account id, their school, whether the account's row is right, problems)."""
    if username in known.accounts:
        account = known.accounts[username][1]
        if account is None:  # its 账号 row has problems already
            return None, None, False, []
        if account.role is not Role.TEACHER:
            reason = f"该账号的角色是{account.role.label},只有班主任/教师账号填写任教班级"
            return None, None, True, [("账号", username, reason)]
        return None, int(str(account.values["school_id"])), True, []
    user = known.existing.get(username)
    if user is None:
        return None, None, True, [("账号", username, "该账号不在“账号”表中,也不是系统中已有的账号")]
    if not direct:
        return (
            None,
            None,
            True,
            [("账号", username, "已有账号的任教班级请由本校学籍管理员在“教师包保”页分配")],
        )
    if user.role != Role.TEACHER.value or not user.is_active:
        return None, None, True, [("账号", username, "该账号不是在用的班主任/教师账号")]
    return user.id, user.school_id, True, []


def _class_problems(
    code: ClassCode, text: str, school: School | None, school_year: int
) -> list[tuple[str, str, str]]:
    """A class the school teaches, not graduated and not later than next year's intake."""
    years_in = school_year - code.entry_year
    if school is not None and code.stage not in (kind := SchoolKind(school.kind)).stages:
        return [("班号", text, f"{school.name}是{kind.label},没有{code.stage.label}班级")]
    if years_in >= code.stage.years:
        return [("班号", text, f"{code.name}已毕业({school_year}学年)")]
    if years_in < -1:
        return [("班号", text, f"入学年份 {code.entry_year} 晚于下一学年")]
    return []


def _place_problems(
    row: TableRow,
    username: str,
    user_id: int | None,
    school: School,
    code: ClassCode,
    head: bool,
    known: _Teaching,
) -> list[tuple[str, str, str]]:
    """The row against the file's other rows and the class as it stands: no repeat, one head teacher a class."""
    place = (int(school.id or 0), code.code)
    cls = known.classes.get(place)
    found = []
    if (username, *place) in known.seen:
        found.append(("班号", code.code, f"与第{known.seen[(username, *place)]}行重复"))
    known.seen.setdefault((username, *place), row.number)
    head_text = row.cells.get("head", "").strip()
    if head:
        if place in known.heads:
            found.append(
                ("是否班主任", head_text, f"该班在第{known.heads[place]}行已有班主任(每班只能有一名)")
            )
        elif cls is not None and cls.head_teacher_id not in (None, user_id):
            found.append(("是否班主任", head_text, f"该班已有班主任{cls.head_teacher_name or ''}"))
        elif place in known.pending_heads:
            found.append(("是否班主任", head_text, "该班的班主任已在一批待批准的账号申请中"))
        known.heads.setdefault(place, row.number)
    elif cls is not None and user_id is not None and (user_id, int(cls.id or 0)) in known.taught:
        found.append(("班号", code.code, "该教师已任教此班"))
    return found


def _check_teaching(
    session: Session, actor: Actor, sheet: AccountSheet, accounts: dict[str, tuple[int, NewAccount | None]]
) -> None:
    """Check the 任教班级 rows: an account of the file (or, on the command line, an existing teacher), at the
    class's school, a class the school teaches, one head teacher a class."""
    rows = sheet.rows[CLASS_SHEET]
    known = _teaching_known(session, rows, accounts)
    for row in rows:
        username = row.cells.get("username", "").strip()
        school_code, text = (
            _code_text(row.cells.get("school_code", "")),
            _code_text(row.cells.get("class_code", "")),
        )
        user_id, school_of_account, account_right, found = _teacher(
            username, known, direct=on_command_line(actor)
        )
        school = known.schools.get(school_code)
        if school is None:
            found.append(("学校标识码", school_code, "系统中没有该学校"))
        elif school_of_account is not None and school.id != school_of_account:
            found.append(("学校标识码", school_code, "不是该账号所在的学校"))
        head = {"": False, NO: False, YES: True}.get(row.cells.get("head", "").strip())
        if head is None:
            found.append(("是否班主任", row.cells.get("head", ""), "应为 是 或 否(空着为否)"))
        code = None
        try:
            code = parse_class_code(text)
        except ClassCodeError as error:
            found.append(("班号", text, str(error)))
        if code is not None:
            found += _class_problems(code, text, school, known.school_year)
            if school is not None:
                found += _place_problems(row, username, user_id, school, code, bool(head), known)
        for column, value, reason in found:
            sheet.problem(CLASS_SHEET, row.number, column, value, reason)
        if found or not account_right or school is None or head is None or code is None:
            continue
        place = (int(school.id or 0), code.code)
        sheet.teaching.append(
            NewTeaching(
                row.number, username, user_id, place[0], school.name, place[1], head, place in known.classes
            )
        )


def check_rows(
    session: Session,
    *,
    actor: Actor,
    rows: dict[str, list[TableRow]],
    file_name: str = "",
    digest: str = "",
    command_line_roles: bool = False,
) -> AccountSheet:
    """Check every row of both sheets against the file and the database; nothing is written. Administrator
    and auditor rows are refused, unless command_line_roles is asked for on the server's command line."""
    sheet = AccountSheet(file_name, digest, rows, command_line_roles and on_command_line(actor))
    accounts = _check_accounts(session, actor, sheet)
    _check_teaching(session, actor, sheet, accounts)
    return sheet
