"""Cached reads of the overview for the home page, keyed by database, day and the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from xueji.auth import Actor
from xueji.clock import today
from xueji.config import get_settings
from xueji.rules.terms import school_year_name
from xueji.rules.vocab import SchoolKind
from xueji.services.common.calendar import school_year_on
from xueji.services.overview import counts
from xueji.standby import read_scope


@dataclass(frozen=True)
class OverviewData:
    school_year: str
    totals: counts.CountyTotals
    townships: pd.DataFrame
    schools: pd.DataFrame
    grades: pd.DataFrame


@st.cache_data(ttl=60, max_entries=64, show_spinner="正在统计…")
def _overview(database_url: str, day_iso: str, scope_key: str, _actor: Actor) -> OverviewData:
    """The cache key names the scope, so one user's figures are never served to another scope."""
    with read_scope() as session:  # cached for a minute: the standby's lag is well inside that
        year = school_year_on(session, today())
        totals = counts.county_totals(session, actor=_actor)
        townships = pd.DataFrame(
            [(r.name, r.code, r.schools, r.enrolled) for r in counts.by_township(session, actor=_actor)],
            columns=["乡镇", "行政区划代码", "学校数", "在读学生"],
        )
        schools = pd.DataFrame(
            [
                (r.township, r.name, r.code, SchoolKind(r.kind).label, r.classes, r.enrolled)
                for r in counts.by_school(session, actor=_actor)
            ],
            columns=["乡镇", "学校", "学校标识码", "类型", "班级数", "在读学生"],
        )
        grades = pd.DataFrame(
            [
                (r.label, r.classes, r.enrolled)
                for r in counts.by_grade(session, actor=_actor, school_year_start=year)
            ],
            columns=["年级", "班级数", "在读学生"],
        )
    return OverviewData(school_year_name(year), totals, townships, schools, grades)


def scoped_overview(actor: Actor) -> OverviewData:
    """Return the overview of the actor's scope."""
    key = f"{actor.role.value}|{actor.scope_label}"
    return _overview(get_settings().database_url, today().isoformat(), key, actor)
