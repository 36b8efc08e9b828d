"""A city's or province's officer supervising their counties: which counties they hold, and the drill-down into
one of them (an Actor narrowed to that county, `via` their own scope), checked every time it is used."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.auth import Action, Actor
from xueji.models import City, County
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.access import county_condition, deny, require

SUPERVISING_ROLES = frozenset({Role.CITY_OFFICER, Role.PROVINCE_OFFICER})
_ABOVE_COUNTY = frozenset({ScopeKind.CITY, ScopeKind.PROVINCE})


@dataclass(frozen=True)
class CountyRef:
    id: int
    code: str
    name: str
    city_name: str  # "" for a lone county (no city above it)


def is_supervisor(actor: Actor) -> bool:
    """Tell whether the actor is a city's or province's officer (narrowed to a county or not)."""
    return actor.role in SUPERVISING_ROLES and (actor.via is not None or actor.scope_kind in _ABOVE_COUNTY)


def supervised_counties(session: Session, *, actor: Actor) -> list[CountyRef]:
    """The counties in a city's or province's officer's own scope, by code; [] for everyone else."""
    home = actor.at_home()
    if not is_supervisor(home) or home.scope_id is None:
        return []
    rows = session.execute(
        select(County.id, County.code, County.name, City.name)
        .outerjoin(City, col(County.city_id) == City.id)
        .where(county_condition(home))
        .order_by(County.code)
    ).all()
    return [CountyRef(int(i), code, name, city or "") for i, code, name, city in rows]


def as_county(session: Session, *, actor: Actor, county_id: int) -> Actor:
    """The actor narrowed to one of their counties (scope COUNTY = county_id, via = their own scope); refused and
    audited unless the actor is a city's or province's officer and the county lies in their scope."""
    home = actor.at_home()
    require(session, home, Action.SUPERVISE_READ)
    if not is_supervisor(home) or home.scope_id is None:
        deny(
            session,
            home,
            Action.SUPERVISE_READ.value,
            "只有市、省教育行政部门的账号可以查看所辖县区",
            entity_type="county",
            entity_id=county_id,
        )
    found = session.scalar(select(County.id).where(County.id == county_id, county_condition(home)))
    if found is None:
        deny(
            session,
            home,
            Action.SUPERVISE_READ.value,
            "该县区不在您的管辖范围内",
            entity_type="county",
            entity_id=county_id,
        )
    return replace(
        home, scope_kind=ScopeKind.COUNTY, scope_id=int(found), via=(home.scope_kind, home.scope_id)
    )
