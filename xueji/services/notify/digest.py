"""One group's digest: the waiting work of one school (as its registrar sees it at home, with its teachers' overdue
家访) or one township (as its official sees it), counts only, with the page where each is done."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.auth import Actor
from xueji.config import get_settings
from xueji.models import Child, School, Student, Township
from xueji.rules.notify import DigestLine, digest_text, digest_title, guard
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.access import child_condition, school_condition
from xueji.services.dashboards import work_items as w
from xueji.services.dashboards.my_work import my_work
from xueji.services.dashboards.work_items import Urgency, WorkItem

NOTIFY_USERNAME = "notify"


@dataclass(frozen=True)
class Place:
    """A robot's group: one school or one township."""

    kind: ScopeKind
    id: int
    name: str

    @property
    def kind_label(self) -> str:
        return "学校" if self.kind is ScopeKind.SCHOOL else "乡镇"

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True)
class Digest:
    place: Place
    title: str
    text: str | None  # None: nothing waiting, no message
    counts: dict[str, int] = field(default_factory=dict)  # items and their total per urgency, for the audit


def place_actor(place: Place) -> Actor:
    """Who the group's work belongs to: the school's registrar, or the township's official (no account)."""
    role = Role.REGISTRAR if place.kind is ScopeKind.SCHOOL else Role.TOWNSHIP_OFFICIAL
    return Actor(user_id=None, username=NOTIFY_USERNAME, role=role, scope_kind=place.kind, scope_id=place.id)


def place_of(session: Session, *, school_id: int | None, township_id: int | None) -> Place:
    if school_id is not None:
        school = session.get(School, school_id)
        return Place(ScopeKind.SCHOOL, school_id, school.name if school else f"学校 {school_id}")
    township = session.get(Township, township_id)
    return Place(ScopeKind.TOWNSHIP, township_id or 0, township.name if township else f"乡镇 {township_id}")


def page_link(page: str, app_url: str) -> str:
    """The address of a page as the router serves it (its url_path, else its file's name), under the app's."""
    from xueji.ui.navigation import PAGES  # the page registry (plain data, no Streamlit)

    path = next((spec.url_path for spec in PAGES if spec.path == page and spec.url_path), None)
    return f"{app_url}/{path or PurePosixPath(page).stem}" if app_url else ""


def work_of(session: Session, place: Place) -> list[WorkItem]:
    """The group's to-do list: 我的待办 of its actor, and for a school its teachers' overdue 家访 (a count)."""
    actor = place_actor(place)
    items = list(my_work(session, actor=actor).items)
    if place.kind is ScopeKind.SCHOOL:
        known = {i.what for i in items}
        items += [i for i in w.visit_follow_up_items(session, actor) if i.what not in known]
    return items


def lines(items: list[WorkItem], app_url: str) -> list[DigestLine]:
    """Each item as a digest line: its words, count and oldest deadline; its detail is never sent (it may name
    children)."""
    return [
        DigestLine(
            urgency=i.urgency.label,
            what=i.what,
            count=i.count,
            unit=i.unit,
            due=None if i.counted_from else i.due,
            link=page_link(i.page, app_url),
            overdue=i.urgency is Urgency.OVERDUE,
        )
        for i in items
    ]


def names_in(session: Session, place: Place) -> set[str]:
    """The names of the children and students of the group's scope: none may appear in its message."""
    actor = place_actor(place)
    children = session.scalars(select(Child.name).where(child_condition(actor)))
    students = session.scalars(
        select(Student.name).where(
            col(Student.school_id).in_(select(School.id).where(school_condition(actor)))
        )
    )
    return {*children, *students}


def build(session: Session, place: Place, *, on: date) -> Digest:
    """The group's digest on a day, checked by the guard (NotifyError if it would carry a name, ID number or
    phone; the group's own name aside, which a child's name may be part of)."""
    items = work_of(session, place)
    text = digest_text(place.name, on, lines(items, get_settings().app_url))
    counts = {"items": sum(1 for i in items if i.count)}
    for urgency in Urgency:
        counts[urgency.value] = sum(i.count for i in items if i.urgency is urgency)
    if text is not None:
        guard(text, names_in(session, place), place=place.name)
    return Digest(place, digest_title(place.name, on), text, counts)
