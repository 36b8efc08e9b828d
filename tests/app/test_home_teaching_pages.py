"""AppTest of the 送教上门 pages: the board for each role with its counts from the service, a visit logged on
the phone form turning a child green, a refused visit keeping what was typed, the child's file, and the
teacher's reminder on 家访."""

from datetime import date

import pytest
from sqlalchemy import select, text

from tests.app.conftest import sign_in
from xueji.db import session_scope
from xueji.models import AppUser
from xueji.rules.home_teaching import ComplianceState
from xueji.services.home_teaching import board, records
from xueji.services.system.accounts import actor_of
from xueji.ui.home_teaching import light_label


def _rows(engine, username: str) -> list[board.BoardRow]:
    with session_scope(engine) as session:
        actor = actor_of(session.scalars(select(AppUser).where(AppUser.username == username)).one())
        return board.board(session, actor=actor, term=records.current_term(session))


def _page(username: str, path: str):
    at = sign_in(username)
    at.switch_page(path).run()
    assert not at.exception
    return at


@pytest.mark.parametrize(
    "username", ["demo_coordinator", "demo_county", "demo_township", "demo_registrar", "demo_teacher"]
)
def test_the_board_shows_each_childs_light_with_the_services_counts(demo_sqlite, username):
    rows = _rows(demo_sqlite, username)
    at = _page(username, "pages/home_teaching/board.py")
    assert at.title[0].value == "送教看板"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["送教上门儿童"] == str(len(rows))
    for state in ComplianceState:
        label = light_label(state)
        assert metrics[label] == str(sum(r.compliance.state is state for r in rows))
    table = next(d.value for d in at.dataframe if "状态" in d.value.columns)  # after the tasks to assess
    assert list(table["姓名"]) == [r.name for r in rows]
    assert table["状态"].iloc[0] == "已落后"  # worst first: every role here sees a child behind


def test_a_coordinator_logs_a_visit_in_the_missed_month_and_the_child_turns_green(demo_sqlite):
    row = next(
        r
        for r in _rows(demo_sqlite, "demo_coordinator")
        if r.compliance.state is ComplianceState.BEHIND and len(r.compliance.missed) == 1
    )
    year, month = row.compliance.missed[0].first.year, row.compliance.missed[0].first.month
    at = _page("demo_coordinator", "pages/home_teaching/visit.py")
    at.selectbox(key="hv_child").set_value(row.child_id).run()
    assert "已落后" in at.markdown[0].value
    at.date_input(key="hv_date").set_value(date(year, month, 12))
    at.text_area[0].input("认识颜色,串珠练习")
    at.button(key="hv_save_0").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(f"已保存 {row.label} ")
    assert "现在:进度正常" in at.success[0].value or "现在:已达标" in at.success[0].value
    assert at.markdown[0].value.startswith("当前状态 :green[●]")
    with demo_sqlite.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT content, class_hours FROM home_teaching_visit WHERE plan_id = :p AND visit_date = :d"
            ),
            {"p": row.plan_id, "d": date(year, month, 12)},
        ).one()
    assert tuple(stored) == ("认识颜色,串珠练习", 2.0)


def test_a_visit_without_content_is_refused_and_nothing_is_saved(demo_sqlite):
    at = _page("demo_teacher", "pages/home_teaching/visit.py")
    with demo_sqlite.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM home_teaching_visit")).scalar_one()
    at.text_input[0].set_value("")  # no teachers either
    at.button(key="hv_save_0").click().run()
    assert not at.exception
    assert "请填写本次送教内容" in at.error[0].value and "请填写送教教师" in at.error[0].value
    with demo_sqlite.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM home_teaching_visit")).scalar_one() == before


def test_the_childs_file_shows_the_plan_and_the_log_and_takes_an_assessment(demo_sqlite):
    row = _rows(demo_sqlite, "demo_coordinator")[0]
    at = sign_in("demo_coordinator")
    at.session_state["home_child_id"] = row.child_id
    at.switch_page("pages/home_teaching/child.py").run()
    assert not at.exception
    assert any(h.value == "送教方案(一人一案)" for h in at.subheader)
    assert len(at.dataframe[0].value) == row.visits
    form = f"assessment_{row.child_id}"
    members = next(t for t in at.text_input if t.label.startswith("评估人员"))
    members.input("县特教中心张某、医生王某")
    next(t for t in at.text_area if t.label == "接受教育能力").input("可在家接受个别化教学")
    at.button(key=f"FormSubmitter:{form}-保存评估").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("评估已保存")
    with demo_sqlite.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM home_assessment WHERE child_id = :c AND members = '县特教中心张某、医生王某'"
                ),
                {"c": row.child_id},
            ).scalar_one()
            == 1
        )


def test_a_teacher_sees_the_children_due_this_month_on_their_home_page_below_the_visits(demo_sqlite):
    with session_scope(demo_sqlite) as session:
        actor = actor_of(session.scalars(select(AppUser).where(AppUser.username == "demo_teacher")).one())
        due = board.due_for_teacher(session, actor=actor, term=records.current_term(session))
    at = _page("demo_teacher", "pages/cases/visits.py")
    headings = [h.value for h in at.subheader]
    assert due and headings.index("我包保的孩子") < headings.index("本月应送教上门")
    lines = [m.value for m in at.markdown if "本月尚未送教" in m.value]
    assert [line.split("**")[1] for line in lines] == [r.label for r in due]
