"""The choices every sweep page starts with: which township's sweep (newest term first), which village."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from xueji.auth import Actor
from xueji.db import session_scope
from xueji.services.sweeps import fieldwork, progress
from xueji.services.sweeps.fieldwork import SweepRow
from xueji.services.sweeps.progress import VillageCoverage
from xueji.ui.display import day


def sweep_picker(actor: Actor, *, key: str) -> SweepRow | None:
    """Choose among the sweeps the actor may see; with none, say what to do and return None."""
    with session_scope() as session:
        rows = fieldwork.sweeps(session, actor=actor)
    if not rows:
        st.info("还没有您可查看的排查计划:由乡镇干部在“排查计划”中为本学期制定(教师须被安排进某村的排查组)。")
        return None
    by_id = {r.id: r for r in rows}
    chosen = st.selectbox(
        "排查",
        list(by_id),
        format_func=lambda i: f"{by_id[i].term} · {by_id[i].township}(截止 {day(by_id[i].due_date)})",
        key=key,
        placeholder="请选择",
    )
    return by_id[chosen]


def village_picker(
    actor: Actor, sweep: SweepRow, *, key: str, keep: Callable[[VillageCoverage], bool] = lambda v: True
) -> VillageCoverage | None:
    """Choose among the sweep's villages the actor may see (those `keep` accepts); None when there are none."""
    with session_scope() as session:
        villages = [v for v in progress.village_coverage(session, actor=actor, sweep_id=sweep.id) if keep(v)]
    if not villages:
        st.info("没有符合条件的村")
        return None
    by_id = {v.sweep_village_id: v for v in villages}
    chosen = st.selectbox(
        "村/社区",
        list(by_id),
        format_func=lambda i: (
            f"{by_id[i].name} · {by_id[i].status.label}{' · 已逾期' if by_id[i].late else ''}"
        ),
        key=key,
        placeholder="请选择",
    )
    return by_id[chosen]
