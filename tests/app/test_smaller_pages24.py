"""AppTest of issue 24's smaller things on their pages: 排查进度's chart (every village a bar, the ones needing
work on top, 未开始), 比对结果's search and export as searched, 排查计划 showing only the contact fields of the
kind chosen, 学籍异动's export, 送教看板 telling who can no longer comply, 巩固率 saying what 现在籍 counts."""

import json

from sqlalchemy import text

from tests.app.conftest import sign_in
from xueji.config import get_settings
from xueji.rules.retention import IN_SCHOOL_NOTE


def _last_export(engine) -> tuple[str, str]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT username, detail FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 1")
        ).one()


def _page(username: str, page: str):
    at = sign_in(username)
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_the_sweep_chart_has_a_bar_for_every_village_needing_work_on_top(demo_sqlite):
    at = _page("demo_township", "pages/sweeps/progress.py")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = [trace for trace in spec["data"] if trace["type"] == "bar"]
    labels = [t for trace in bars for t in trace["text"]]
    villages = [v for trace in bars for v in trace["y"]]
    assert "未开始" in labels and not any("nan" in str(t).lower() for t in labels)
    top_down = spec["layout"]["yaxis"]["categoryarray"][::-1]  # a horizontal bar's axis runs bottom up
    assert sorted(top_down) == sorted(villages)  # every village has its row
    status = {v: trace["name"] for trace in bars for v in trace["y"]}
    assert status[top_down[0]] == "已逾期" and status[top_down[-1]] == "已审核"  # approved last
    ranks = ["已逾期", "已退回重排", "未开始", "排查中", "已提交待审核", "已审核"]
    assert [ranks.index(status[v]) for v in top_down] == sorted(ranks.index(status[v]) for v in top_down)


def test_the_lists_are_searched_and_exported_as_searched(demo_sqlite):
    at = _page("demo_township", "pages/sweeps/findings.py")
    every = at.dataframe[0].value
    assert "名单" not in every.columns and len(every)
    village = every["村"].iloc[0]
    at.text_input(key="findings_search").input(village).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert set(shown["村"]) == {village} and len(shown) <= len(every)
    assert f"共 **{len(shown)}** 人(搜索“{village}”)" in [m.value for m in at.markdown]
    next(b for b in at.button if b.label.startswith("导出")).click().run()
    assert not at.exception and at.get("download_button")
    username, detail = _last_export(demo_sqlite)
    assert (username, detail.endswith(f"搜索“{village}”"), f" {len(shown)} 行" in detail) == (
        "demo_township",
        True,
        True,
    )
    at.text_input(key="findings_search").input("不存在的名字").run()
    assert not at.dataframe and any("没有符合搜索的人" in c.value for c in at.caption)


def test_the_plan_shows_only_the_fields_of_the_contact_chosen(demo_sqlite):
    at = _page("demo_township", "pages/sweeps/plan.py")
    kind = next(r for r in at.radio if r.label == "政府线联系人")
    kind.set_value("乡镇干部账号").run()
    assert not at.exception
    assert [s.label for s in at.selectbox if s.label == "乡镇干部"] == ["乡镇干部"]
    assert not [t for t in at.text_input if t.label.startswith("村干部")]
    next(r for r in at.radio if r.label == "政府线联系人").set_value("村干部(无账号)").run()
    assert not at.exception
    assert not [s for s in at.selectbox if s.label == "乡镇干部"]
    assert [t.label for t in at.text_input if t.label.startswith("村干部")] == ["村干部姓名", "村干部电话"]


def test_the_status_change_list_is_exported(demo_sqlite):
    at = _page("demo_county", "pages/registry/status_changes.py")
    at.button(key="export_status_changes_build").click().run()
    assert not at.exception and at.get("download_button")
    assert _last_export(demo_sqlite) == ("demo_county", f"学籍异动 {len(at.dataframe[0].value)} 行")


def test_the_board_tells_who_can_no_longer_comply_in_weeks_and_visits(demo_sqlite, monkeypatch):
    monkeypatch.setenv("XUEJI_HOME_TEACHING_VISITS", "12")  # 12 a term: more than the 9 weeks left
    get_settings.cache_clear()
    at = _page("demo_coordinator", "pages/home_teaching/board.py")
    told = [w.value for w in at.warning if "本学期已无法达标(" in w.value]
    assert told and "剩余 9 周,还需" in told[0]
    frame = next(d.value for d in at.dataframe if "能否达标" in d.value.columns)  # after the tasks to assess
    assert any(v.startswith("本学期已无法达标:剩余 9 周,还需") for v in frame["能否达标"])


def test_retention_says_what_in_school_counts(demo_sqlite):
    at = _page("demo_county", "pages/dashboards/retention.py")
    assert any(IN_SCHOOL_NOTE in c.value for c in at.caption)
    columns = json.loads(at.dataframe[0].proto.columns)  # the column's header says it too (a tooltip)
    assert columns["现在籍"]["help"] == IN_SCHOOL_NOTE
