"""账号导入: a county's accounts, and the classes its teachers teach, from one workbook (sheets 账号 and 任教班级).

The workbook is read in the reading process, every row checked against the file and the database
(services.setup.account_rows), and the preview counts the accounts per role and scope and the classes to create.
Nothing is written unless every row is right, checked again under the write lock. The server's
command line creates the accounts at once (create_accounts, `xueji user import`); in the app the administrator
files them as one batch of requests that a second person approves (services.system.grant_batches)."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session

from xueji.audit import record
from xueji.auth import Action, Actor
from xueji.db import unit_of_work
from xueji.excel import account_template
from xueji.excel.account_template import ACCOUNT_SHEET, CLASS_SHEET, PasswordLine
from xueji.excel.fill_in import is_example
from xueji.excel.limits import ImportKind, TemplateError
from xueji.excel.simple_table import read_tables
from xueji.locks import write_lock
from xueji.models import AppUser
from xueji.rules.class_code import parse_class_code
from xueji.rules.masking import mask_phone
from xueji.services.common.access import deny, require
from xueji.services.common.uploads import record_refusal, refusals_audited
from xueji.services.setup.account_rows import AccountSheet, check_rows
from xueji.services.setup.teaching_classes import Teaching, assign_teaching
from xueji.services.system import batch_passwords
from xueji.services.system.accounts import (
    COMMAND_LINE,
    AccountError,
    add_account,
    on_command_line,
)


class AccountImportBlocked(AccountError):
    """Rows have problems: nothing was written."""


def check_accounts(
    session: Session, *, actor: Actor, data: bytes, file_name: str = "", command_line_roles: bool = False
) -> AccountSheet:
    """Read the workbook (in the reading process) and check every row (check_rows); a file refused before its
    rows is audited."""
    require(session, actor, Action.USER_MANAGE)
    with refusals_audited(session, actor=actor, kind=ImportKind.ACCOUNTS, data=data, file_name=file_name):
        tables = read_tables(data, account_template.SPECS, kind=ImportKind.ACCOUNTS)
        if tables[ACCOUNT_SHEET] is None:
            raise TemplateError(f"文件中没有名为“{ACCOUNT_SHEET}”的工作表:请使用账号导入模板")
        rows = {
            name: [r for r in (tables[name] or []) if not is_example(r.cells.get("username", ""))]
            for name in (ACCOUNT_SHEET, CLASS_SHEET)
        }
        if not rows[ACCOUNT_SHEET] and not rows[CLASS_SHEET]:
            raise TemplateError("文件中没有要导入的账号(示例行不导入)")
    digest = hashlib.sha256(data).hexdigest()
    return check_rows(
        session,
        actor=actor,
        rows=rows,
        file_name=file_name,
        digest=digest,
        command_line_roles=command_line_roles,
    )


def recheck(session: Session, actor: Actor, sheet: AccountSheet, *, what: str) -> AccountSheet:
    """Check the sheet's rows again under the write lock (the database may have changed since the preview);
    refuse, audited, when a row has a problem now."""
    write_lock(session, "accounts")  # every account writer's: usernames are unique across the deployment
    again = check_rows(
        session,
        actor=actor,
        rows=sheet.rows,
        file_name=sheet.file_name,
        digest=sheet.digest,
        command_line_roles=sheet.command_line_roles,
    )
    if again.problems or not (again.accounts or again.teaching):
        message = (
            f"有 {again.bad_rows} 行有错误,未{what}任何账号。请改好后重新导入。"
            if again.problems
            else "文件中没有要导入的账号"
        )
        record_refusal(
            session,
            actor=actor,
            kind=ImportKind.ACCOUNTS,
            file_name=sheet.file_name,
            reason=message,
            digest=sheet.digest or "0" * 64,
        )
        raise AccountImportBlocked(message)
    return again


@dataclass(frozen=True)
class Created:
    """What create_accounts did: the accounts with their passwords (to write to the owner-only file)."""

    passwords: list[PasswordLine]
    classes_created: int
    head_teachers: int
    assignments: int


@unit_of_work
def create_accounts(
    session: Session,
    *,
    actor: Actor,
    sheet: AccountSheet,
    password: str | None = None,
    must_change: bool = True,
    issued_to: str = "",
) -> Created:
    """Create every account of a checked workbook, and its classes, at once, on the server's command line only.

    Each account gets its own random one-time password, to be changed at first sign-in, unless `password` is
    given: then all of them share it, hashed once (the demo; it is not held to the password rules, the demo's
    being public on purpose), and must_change=False lets them sign in without changing it. `issued_to` says in
    the audit log where the passwords went (the file's name); the passwords themselves are never logged."""
    require(session, actor, Action.USER_MANAGE)
    if not on_command_line(actor):
        deny(
            session,
            actor,
            "user.import",
            "账号导入在页面上提交为批量申请,经第二人批准后生效;只有服务器命令行可以直接创建",
            entity_type="user",
        )
    checked = recheck(session, actor, sheet, what="创建")
    issued = (
        batch_passwords.shared_password(password, len(checked.accounts))
        if password
        else batch_passwords.one_time_passwords(len(checked.accounts))
    )
    until = batch_passwords.valid_until()
    lines, ids = [], {}
    for account, given in zip(checked.accounts, issued, strict=True):
        user = AppUser(**account.values, phone=account.phone)
        add_account(
            session,
            actor,
            user,
            detail=f"账号导入 {sheet.file_name} 第{account.row}行({COMMAND_LINE})",
            password=given.password,
            password_hash=given.password_hash,
            must_change=must_change,
        )
        ids[account.username] = int(user.id or 0)
        lines.append(
            PasswordLine(
                account.username,
                user.display_name,
                account.role.label,
                account.scope_name,
                given.password,
                until,
            )
        )
    assigned = assign_teaching(
        session,
        actor,
        [
            Teaching(t.user_id or ids[t.username], t.school_id, t.class_code, t.head_teacher)
            for t in checked.teaching
        ],
        detail=f"账号导入 {sheet.file_name}",
    )
    how = (
        f"{len(lines)} 个账号使用调用方指定的统一密码" + ("" if must_change else ",不要求首次登录修改")
        if password
        else f"一次性密码已发放 {len(lines)} 个" + (f",写入文件 {issued_to}" if issued_to else "")
    )
    record(
        session,
        actor=actor,
        action="import",
        entity_type="upload",
        entity_id=sheet.digest[:40] or None,
        after={
            "import": ImportKind.ACCOUNTS.label,
            "file_name": sheet.file_name[:200],
            "sha256": sheet.digest,
        },
        detail=f"账号导入 {sheet.file_name}:新建账号 {len(lines)} 个,新建班级 {assigned.classes_created} 个,"
        f"班主任 {assigned.head_teachers} 人次,任教 {assigned.assignments} 条;{how}"[:500],
    )
    session.commit()
    return Created(lines, assigned.classes_created, assigned.head_teachers, assigned.assignments)


# ---- what the preview shows ---------------------------------------------------------------------------------


def plan_frame(sheet: AccountSheet) -> pd.DataFrame:
    """How many accounts per role and scope the file creates."""
    counts = Counter((a.role.label, a.scope_name) for a in sheet.accounts)
    return pd.DataFrame(
        [(role, scope, n) for (role, scope), n in sorted(counts.items())],
        columns=["角色", "管辖范围", "账号数"],
    )


def preview_frame(sheet: AccountSheet) -> pd.DataFrame:
    """The accounts the file creates, phones masked."""
    return pd.DataFrame(
        [
            (
                a.row,
                a.username,
                a.values["display_name"],
                a.role.label,
                a.scope_name,
                mask_phone(a.phone) or "",
            )
            for a in sheet.accounts
        ],
        columns=["行号", "账号", "姓名", "角色", "管辖范围", "手机号"],
    )


def teaching_frame(sheet: AccountSheet) -> pd.DataFrame:
    """The classes the file assigns, and whether each is created."""
    return pd.DataFrame(
        [
            (
                t.row,
                t.username,
                t.school_name,
                parse_class_code(t.class_code).name,
                "班主任" if t.head_teacher else "任教",
                "已有" if t.class_exists else "新建",
            )
            for t in sheet.teaching
        ],
        columns=["行号", "账号", "学校", "班级", "任教", "班级状态"],
    )


def problems_frame(sheet: AccountSheet) -> pd.DataFrame:
    """Every problem, with the sheet it is on."""
    return pd.DataFrame(
        [
            (name, p.row, p.column, p.value, p.reason)
            for name in (ACCOUNT_SHEET, CLASS_SHEET)
            for p in sorted(sheet.problems.get(name, []), key=lambda p: p.row)
        ],
        columns=["工作表", "行号", "列", "填写内容", "原因"],
    )


def error_workbook(sheet: AccountSheet) -> bytes:
    """The rows with problems as they were, per sheet, with the reasons: fix them and import again."""
    return account_template.error_workbook(sheet.rows, sheet.problems)


def counts_of(sheet: AccountSheet) -> dict[str, int]:
    """The preview's figures."""
    return {
        "新建账号": len(sheet.accounts),
        "任教班级": len(sheet.teaching),
        "新建班级": len(sheet.new_classes),
        "有错误的行": sheet.bad_rows,
    }
