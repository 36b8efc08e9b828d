"""The demo's accounts, made through the account import a county uses (excel.account_template and
services.setup.account_import on the command line's behalf), all sharing the public demo password."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from xueji.excel.account_template import AccountLine, ClassLine, filled_workbook
from xueji.services.setup import account_import
from xueji.services.system.accounts import system_actor

DEMO_PASSWORD = "Xueji#2026"  # noqa: S105 - shown on the login page only while the database is a demo database


class DemoAccountsError(RuntimeError):
    """The demo's own account workbook did not pass the import's checks (a bug in the demo)."""


def import_accounts(
    session: Session, accounts: Sequence[AccountLine], classes: Sequence[ClassLine], *, file_name: str
) -> None:
    """Create these accounts and their classes as `xueji user import` would, with the demo password and no
    change asked at first sign-in."""
    actor = system_actor(session)
    data = filled_workbook(accounts, classes)
    sheet = account_import.check_accounts(
        session, actor=actor, data=data, file_name=file_name, command_line_roles=True
    )
    if sheet.problems:
        raise DemoAccountsError(f"演示账号未通过检查:{sheet.problems}")
    account_import.create_accounts(
        session, actor=actor, sheet=sheet, password=DEMO_PASSWORD, must_change=False
    )
