"""DataFrame → plotly Figure. No Streamlit here."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from xueji.rules.vocab import GRADE_LABELS

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"


def _style(fig: go.Figure) -> go.Figure:
    fig.update_layout(font_family=FONT, margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=340)
    return fig


def students_by_grade(df: pd.DataFrame) -> go.Figure:
    """Bar chart of enrolled students per grade, grades in school order (一 … 九), not code-point order."""
    fig = px.bar(
        df,
        x="年级",
        y="在读学生",
        text="在读学生",
        title="各年级在读学生",
        category_orders={"年级": list(GRADE_LABELS.values())},
    )
    return _style(fig)


def students_by_township(df: pd.DataFrame) -> go.Figure:
    """Bar chart of enrolled students per township."""
    fig = px.bar(df, x="乡镇", y="在读学生", text="在读学生", title="各乡镇在读学生")
    return _style(fig)


def sweep_coverage(df: pd.DataFrame) -> go.Figure:
    """Households visited per village against the village's household count, coloured by the sweep's status;
    villages without a count show their visits only."""
    fig = px.bar(
        df,
        x="村",
        y="已走访户",
        color="状态",
        text="覆盖率",
        hover_data=["户数", "适龄儿童"],
        title="各村入户排查覆盖(柱上数字为覆盖率%)",
    )
    counted = df[df["户数"].notna()]
    fig.add_scatter(
        x=counted["村"],
        y=counted["户数"],
        mode="markers",
        name="应排查户数",
        marker={"symbol": "line-ew-open", "size": 18},
    )
    return _style(fig)


HOME_TEACHING_COLOURS = {"已落后": "#d62728", "有风险": "#ff7f0e", "进度正常": "#98df8a", "已达标": "#2ca02c"}


def home_teaching_by_school(df: pd.DataFrame) -> go.Figure:
    """送教上门 children per school, stacked by their standing (red behind, amber at risk, greens on track)."""
    long = df.melt(id_vars="学校", value_vars=list(HOME_TEACHING_COLOURS), var_name="状态", value_name="人数")
    fig = px.bar(
        long,
        x="学校",
        y="人数",
        color="状态",
        color_discrete_map=HOME_TEACHING_COLOURS,
        category_orders={"状态": list(HOME_TEACHING_COLOURS)},
        title="各校送教上门达标情况",
    )
    return _style(fig)
