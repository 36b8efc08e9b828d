"""区划与学校 as the administrator sees it: three tabs with their tables and counts, the merge preview stating
exactly what will move (the same counts as the service), the merge done after the confirmation, and the requests
to move the closed school's accounts filed from the result."""

from sqlalchemy import select

from tests.app.conftest import sign_in
from xueji.db import session_scope
from xueji.models import School
from xueji.services.setup import division_tables, school_merge
from xueji.services.system.accounts import actor_by_username


def _choose(at, key, label):
    box = at.selectbox(key=key)
    box.select_index(box.options.index(label)).run()
    assert not at.exception


def test_the_admin_sees_three_tabs_and_the_merge_preview_counts_then_merges(demo_sqlite):
    with session_scope(demo_sqlite) as session:
        admin = actor_by_username(session, "demo_admin")
        schools = {c.name: c for c in division_tables.choices(session, actor=admin)["schools"]}
        meitian, central = schools["古港镇梅田小学"], schools["古港镇完全小学"]
        expected = school_merge.preview_school_change(
            session, actor=admin, school_id=meitian.id, into_id=central.id
        ).summary

    at = sign_in("demo_admin")
    at.switch_page("pages/setup/divisions.py").run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["乡镇", "村社区", "学校"]
    townships, villages, school_table = (frame.value for frame in at.dataframe[:3])
    assert "古港镇" in set(townships["名称"]) and len(villages) > 40
    row = school_table.set_index("学校名称").loc["古港镇梅田小学"]
    assert row["状态"] == "在用" and row["在籍学生"] > 0 and row["班级"] > 0

    _choose(at, "school_subject", meitian.label)
    _choose(at, "school_target", central.label)
    assert "移动" in expected and expected in [w.value for w in at.warning]

    at.text_input(key="school_reason").input("浏教发〔2026〕12号")
    boxes = [c for c in at.checkbox if c.label.startswith("确认:将学校")]
    boxes[0].check()
    next(b for b in at.button if b.label == "撤并").click().run()
    assert not at.exception
    assert any(s.value.startswith("已完成:学校“古港镇梅田小学”撤并到“古港镇完全小学”") for s in at.success)
    with session_scope(demo_sqlite) as session:
        closed = session.scalar(select(School).where(School.name == "古港镇梅田小学"))
        assert closed.merged_into_id == central.id
    # the page is drawn again with the merge: the table says so, and the school is no longer offered
    school_table = next(f.value for f in at.dataframe if "学校名称" in f.value.columns)
    assert (
        school_table.set_index("学校名称").loc["古港镇梅田小学"]["状态"].startswith("已撤并到古港镇完全小学")
    )
    assert meitian.label not in at.selectbox(key="school_subject").options
    assert at.selectbox(key="school_subject").value is None  # no preview of another change beside the result

    next(b for b in at.button if b.label == "为这些账号申请改到接收单位").click().run()
    assert not at.exception
    assert any("改到“古港镇完全小学”的申请,待审批" in s.value for s in at.success)
