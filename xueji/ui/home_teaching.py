"""The choices the 送教上门 pages start with (which term), and a child's standing as a traffic light."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from xueji.auth import Actor
from xueji.config import get_settings
from xueji.db import session_scope
from xueji.rules.home_teaching import Compliance, ComplianceState
from xueji.services.home_teaching import board, records
from xueji.services.home_teaching.board import BoardRow
from xueji.services.home_teaching.records import TermRef

CHILD = "home_child_id"  # the child the 送教档案 and 送教登记 pages open on


def term_picker(*, key: str) -> TermRef | None:
    """Choose a term (the current one first); with none configured, say so and return None."""
    with session_scope() as session:
        choices = records.term_choices(session)
    if not choices:
        st.info("尚未配置学期:请管理员先维护校历。")
        return None
    by_id = {t.id: t for t in choices}
    return by_id[
        st.selectbox("学期", list(by_id), format_func=lambda i: by_id[i].name, key=key, placeholder="请选择")
    ]


def dot(state: ComplianceState) -> str:
    """The traffic light as coloured markdown (red behind, orange at risk, green on track or compliant)."""
    return f":{state.light}[●]"


def light_label(state: ComplianceState) -> str:
    """The light and the state, as a metric's label."""
    return f"{dot(state)} {state.label}"


def child_label(row: BoardRow) -> str:
    """A child in a choice list (plain text: no colours there; the standing is shown beside it)."""
    return f"{row.label or row.name} · {row.school}"


def styled(frame: pd.DataFrame) -> Any:
    """The board's table with its 状态 column in the light's colour and class hours without trailing zeros."""
    colours = {
        s.label: {"red": "#d62728", "orange": "#e67e00", "green": "#2ca02c"}[s.light] for s in ComplianceState
    }
    hours = pd.Index(
        [c for c in ("应送课时", "累计课时", "还需课时") if c in frame.columns]
    )  # 3.5, not 3.500000
    return frame.style.map(
        lambda v: f"color: {colours.get(v, 'inherit')}; font-weight: 600", subset=["状态"]
    ).format("{:g}", subset=hours)


def standing(compliance: Compliance) -> str:
    """One line of markdown: the light, the state and the numbers behind it (owed and done, in visits and, when
    the policy counts them, class hours), and whether the child can still comply this term."""
    c = compliance
    policy = get_settings().home_teaching
    hours = f" · 课时 {c.hours:g}/{c.owed.hours}" if policy.hours_per_term else f" · 累计 {c.hours:g} 课时"
    left = "" if c.ended else f" · 剩余 {c.months_left} 个{policy.period_name}"
    outlook = "" if c.ended or c.state is ComplianceState.COMPLIANT else f" · {c.outlook}"
    return f"{dot(c.state)} **{c.state.label}** · 计入 {c.counted}/{c.owed.visits} 次{hours}{left}{outlook}"


def policy_text() -> str:
    """The policy in force and what the lights mean, for the board's and the file's caption."""
    policy = get_settings().home_teaching
    red, amber, green = (
        dot(s) for s in (ComplianceState.BEHIND, ComplianceState.AT_RISK, ComplianceState.ON_TRACK)
    )
    return (
        f"送教上门规则:{policy.describe()}  \n"
        f"{red} 未达标:学期已结束仍有欠缺;{red} 已落后:已结束的{policy.period_word}没有送教,"
        f"或按每周最多 {policy.most_per_week} 次算,剩余周数已不够(本学期已无法达标);"
        f"{amber} 有风险:还需的次数多于剩余{policy.period_name}数(或课时跟不上);{green} 进度正常或已达标。"
    )


def home_teaching_due(actor: Actor) -> list[BoardRow]:
    """A teacher's home-teaching children with no counted visit yet this month (none before terms exist)."""
    with session_scope() as session:
        term = records.latest_term(session)
        return board.due_for_teacher(session, actor=actor, term=term) if term else []
