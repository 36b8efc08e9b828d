"""Which pages a role sees: each page names the action it needs, checked against the permission table."""

from __future__ import annotations

from dataclasses import dataclass

from xueji.auth import Action, Actor
from xueji.rules.vocab import Role


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    action: Action
    section: str


PAGES = (
    PageSpec("pages/home.py", "概况", "🏠", Action.OVERVIEW_READ, "概况"),
    PageSpec("pages/students.py", "学生名册", "🧒", Action.STUDENT_READ, "学籍"),
    PageSpec("pages/assignments.py", "教师包保", "🤝", Action.ASSIGNMENT_MANAGE, "学籍"),
    PageSpec("pages/users.py", "账号管理", "👥", Action.USER_MANAGE, "系统"),
    PageSpec("pages/audit_log.py", "审计日志", "🔍", Action.AUDIT_READ, "系统"),
)


def pages_for(actor: Actor) -> list[PageSpec]:
    """The pages this actor may open, in menu order."""
    return [p for p in PAGES if actor.can(p.action) and actor.role is not Role.SYSTEM]


def title_for(page: PageSpec, actor: Actor) -> str:
    """A teacher's roster is their own students."""
    if page.path == "pages/students.py" and actor.role is Role.TEACHER:
        return "我的学生"
    return page.title
