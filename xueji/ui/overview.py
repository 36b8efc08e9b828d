"""Cached reads of the county overview for the home page."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from xueji.clock import today
from xueji.db import get_engine, session_scope
from xueji.rules.terms import school_year_name
from xueji.rules.vocab import SchoolKind
from xueji.services import overview
from xueji.services.calendar import school_year_on


@dataclass(frozen=True)
class OverviewData:
    school_year: str
    totals: overview.CountyTotals
    townships: pd.DataFrame
    schools: pd.DataFrame
    grades: pd.DataFrame


@st.cache_data(ttl=60, max_entries=32, show_spinner="正在统计…")
def county_overview(database_url: str, day_iso: str) -> OverviewData:
    """Return the overview tables; keyed by database and day so no stale or foreign data is served."""
    with session_scope(get_engine()) as session:
        year = school_year_on(session, today())
        totals = overview.county_totals(session)
        townships = pd.DataFrame(
            [(r.name, r.code, r.schools, r.enrolled) for r in overview.by_township(session)],
            columns=["乡镇", "行政区划代码", "学校数", "在读学生"],
        )
        schools = pd.DataFrame(
            [
                (r.township, r.name, r.code, SchoolKind(r.kind).label, r.classes, r.enrolled)
                for r in overview.by_school(session)
            ],
            columns=["乡镇", "学校", "学校标识码", "类型", "班级数", "在读学生"],
        )
        grades = pd.DataFrame(
            [(r.label, r.classes, r.enrolled) for r in overview.by_grade(session, year)],
            columns=["年级", "班级数", "在读学生"],
        )
    return OverviewData(school_year_name(year), totals, townships, schools, grades)
