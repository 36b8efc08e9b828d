"""DataFrame → plotly Figure. No Streamlit here."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from xueji.rules.vocab import GRADE_LABELS

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"


# plotly's tool bar: zoom, pan, select and autoscale are of no use to a teacher or an official, and on a phone the
# eight buttons lay over the chart's title; the picture download stays (every table beside a chart has its export)
_TOOLS_OFF = ["zoom", "pan", "select", "lasso", "zoomin", "zoomout", "autoscale", "resetscale"]


def _style(fig: go.Figure) -> go.Figure:
    fig.update_layout(
        font_family=FONT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=340,
        modebar={"remove": _TOOLS_OFF},
    )
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


SWEEP_COLOURS = {
    "已逾期": "#d62728",
    "已退回重排": "#ff7f0e",
    "未开始": "#9e9e9e",
    "排查中": "#1f77b4",
    "已提交待审核": "#98df8a",
    "已审核": "#2ca02c",
}


def sweep_coverage(df: pd.DataFrame) -> go.Figure:
    """Each village's coverage (households visited ÷ the village's count, %) as a horizontal bar, the villages
    that need work at the top (services.sweeps.progress.chart_frame gives them in that order); a village not
    started (or with no count) still gets a row, its bar at 0 labelled 未开始 (or the households visited)."""
    fig = px.bar(
        df,
        y="村",
        x="覆盖率(%)",
        color="状态",
        orientation="h",
        text="标注",
        hover_data={"已走访户": True, "户数": True, "标注": False},
        color_discrete_map=SWEEP_COLOURS,
        category_orders={"村": list(df["村"]), "状态": list(SWEEP_COLOURS)},
        title="各村入户排查覆盖率(需要处理的村在上)",
    )
    fig.update_traces(textposition="outside", cliponaxis=False)
    top = max(100.0, float(df["覆盖率(%)"].max() or 0))
    fig.update_xaxes(range=[0, top * 1.3], title="覆盖率(%)= 已走访户 ÷ 村户数")
    fig.update_yaxes(title=None)
    fig = _style(fig)
    fig.update_layout(  # the legend above the bars: a phone's width is for the bars
        height=max(280, 130 + 28 * len(df)),
        legend={"title": {"text": ""}, "orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        margin={"l": 10, "r": 10, "t": 90, "b": 10},
    )
    return fig


HOME_TEACHING_COLOURS = {
    "未达标": "#8c1c13",
    "已落后": "#d62728",
    "有风险": "#ff7f0e",
    "进度正常": "#98df8a",
    "已达标": "#2ca02c",
}


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


def retention_by_grade(df: pd.DataFrame) -> go.Figure:
    """Each grade's start split into what became of it (stacked): retained, transferred out, died, dropped out
    and not back; the rate above each bar. From services.dashboards.retention.flows_frame (its 合计 row left out)."""
    grades = df[df["年级"] != "合计"].copy()
    grades["巩固(含休学、劝返)"] = grades["年初在籍"] - grades["转出"] - grades["死亡"] - grades["辍学未返"]
    parts = ["巩固(含休学、劝返)", "转出", "死亡", "辍学未返"]
    long = grades.melt(id_vars="年级", value_vars=parts, var_name="去向", value_name="人数")
    fig = px.bar(
        long,
        x="年级",
        y="人数",
        color="去向",
        category_orders={"年级": list(GRADE_LABELS.values()), "去向": parts},
        color_discrete_sequence=["#2ca02c", "#7f7f7f", "#9467bd", "#d62728"],
        title="各年级年初在籍学生的去向与巩固率",
    )
    fig.add_scatter(
        x=grades["年级"],
        y=grades["年初在籍"],
        mode="text",
        text=[f"{v:.2f}%" if pd.notna(v) else "—" for v in grades["巩固率(%)"]],
        textposition="top center",
        name="巩固率",
        showlegend=False,
    )
    return _style(fig)


def retention_by_township(df: pd.DataFrame) -> go.Figure:
    """Each township's retention rate this year (services.dashboards.retention.townships_frame)."""
    fig = px.bar(df, x="乡镇", y="巩固率(%)", text="巩固率(%)", title="各乡镇巩固率(%)")
    fig.update_yaxes(range=[min(90, float(df["巩固率(%)"].min() or 90) - 1), 100.5])
    return _style(fig)


def cohort_curves(df: pd.DataFrame) -> go.Figure:
    """Each entry cohort's retention since the first year the data covers, grade by grade."""
    fig = px.line(
        df,
        x="年级",
        y="累计巩固率(%)",
        color="入学年份(一年级)",
        markers=True,
        category_orders={"年级": list(GRADE_LABELS.values())},
        title="各届学生逐年累计巩固率(%)",
    )
    return _style(fig)


def monthly(df: pd.DataFrame, *, title: str) -> go.Figure:
    """Counts by month (one line per column after 月份)."""
    long = df.melt(id_vars="月份", var_name="类别", value_name="人次")
    fig = px.line(long, x="月份", y="人次", color="类别", markers=True, title=title)
    return _style(fig)


def open_cases_by_township(df: pd.DataFrame) -> go.Figure:
    """Open cases per township, stacked by category (services.dashboards.figures.open_cases_by_township)."""
    long = df.drop(columns="合计").melt(id_vars="乡镇", var_name="类别", value_name="在办个案")
    fig = px.bar(
        long[long["在办个案"] > 0], x="乡镇", y="在办个案", color="类别", title="各乡镇在办个案(按类别)"
    )
    return _style(fig)


def sweep_by_township(df: pd.DataFrame) -> go.Figure:
    """This term's sweep per township: villages done against late."""
    long = df.melt(
        id_vars="乡镇", value_vars=["已提交或已审核", "已逾期未提交"], var_name="状态", value_name="村数"
    )
    fig = px.bar(
        long,
        x="乡镇",
        y="村数",
        color="状态",
        barmode="group",
        color_discrete_map={"已提交或已审核": "#2ca02c", "已逾期未提交": "#d62728"},
        title="本学期拉网式排查进度(按乡镇)",
    )
    return _style(fig)


def retention_by_county(df: pd.DataFrame) -> go.Figure:
    """Each county's retention rate this year (services.overview.summaries.figures_frame, the 合计 row left out)."""
    shown = df[df["巩固率(%)"].notna()]
    fig = px.bar(shown, x="县区", y="巩固率(%)", text="巩固率(%)", title="各县区巩固率(%)")
    low = float(shown["巩固率(%)"].min()) if len(shown) else 90.0
    fig.update_yaxes(range=[min(90.0, low - 1), 100.5])
    return _style(fig)


def open_work_by_county(df: pd.DataFrame) -> go.Figure:
    """Each county's open cases and overdue work side by side (services.overview.summaries.figures_frame)."""
    series = ["在办个案", "劝返逾期", "家访逾期"]
    long = df.melt(id_vars="县区", value_vars=series, var_name="类别", value_name="数量")
    fig = px.bar(
        long,
        x="县区",
        y="数量",
        color="类别",
        barmode="group",
        color_discrete_map={"在办个案": "#1f77b4", "劝返逾期": "#d62728", "家访逾期": "#ff7f0e"},
        title="各县区在办个案与逾期",
    )
    return _style(fig)
