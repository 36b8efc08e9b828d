"""AppTest of 适龄儿童核实: the township's open tasks overdue first, 失学/辍学 recorded only once confirmed (and its
case opened), the county read-only; the coordinator's assessments on 送教看板."""

from datetime import timedelta

from sqlalchemy import func, select

from tests.app.conftest import sign_in
from tests.integration.test_verification_tasks import (
    TODAY,
    _child,
    _list,
    _place,
    _sync,
    _task,
    clear_ledger,
)
from xueji.db import session_scope
from xueji.models import Case, VerificationTask
from xueji.rules.comparisons import TaskKind, VerifyOutcome
from xueji.rules.home_teaching import Conclusion
from xueji.services.system.accounts import actor_by_username

PAGE = "pages/comparisons/tasks.py"


def _seed(engine) -> tuple[str, str, str]:
    clear_ledger(engine)
    with session_scope(engine) as session:
        list_id = _list(session, _place(session)[0])
        keys = (_child(session, 1, list_id=list_id), _child(session, 2, list_id=list_id))
        disabled = _child(session, 3, outcome=None, standing="unknown", groups="disabled", sources="disabled")
        session.commit()
        county = actor_by_username(session, "demo_county")
    _sync(engine, county)
    with session_scope(engine) as session:
        _task(session, keys[1]).due_on = TODAY - timedelta(days=3)
        session.commit()
    return (*keys, disabled)


def _tasks_table(at):
    return next(d.value for d in at.dataframe if "姓名" in d.value.columns)


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_township_records_an_out_of_school_child_only_once_confirmed(demo_sqlite):
    first, late, _ = _seed(demo_sqlite)
    before = _cases(demo_sqlite)
    at = sign_in("demo_township")
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "适龄儿童核实"
    assert [m.value for m in at.metric][:2] == ["2", "1"]
    assert "1 名儿童已超过核实期限" in at.error[0].value
    table = _tasks_table(at)
    assert table["姓名"].iloc[0] == _name(demo_sqlite, late)  # the overdue child first
    at.radio(key="verify_outcome").set_value(VerifyOutcome.OUT_OF_SCHOOL).run()
    child = at.selectbox(key="verify_task").value.id
    at.text_input(key=f"verify_situation_{child}").input("在家帮忙务农,从未入学")
    _button(at, "保存核实结果").click().run()
    assert not at.exception
    assert any(e.value == "请先勾选确认" for e in at.error)
    assert _cases(demo_sqlite) == before  # not confirmed: nothing written
    assert (
        at.text_input(key=f"verify_situation_{child}").value == "在家帮忙务农,从未入学"
    )  # kept when refused
    at.checkbox(key=f"verify_confirm_{child}").check()
    _button(at, "保存核实结果").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("已登记") and "疑似辍学个案" in at.success[0].value
    assert _cases(demo_sqlite) == before + 1
    assert [m.value for m in at.metric][:3] == ["1", "0", "1"]
    after = at.selectbox(
        key="verify_task"
    ).value.id  # the next child: nothing typed, nothing confirmed for them
    assert after != child
    assert at.text_input(key=f"verify_situation_{after}").value == ""
    assert not at.checkbox(key=f"verify_confirm_{after}").value


def test_the_county_sees_every_task_masked_and_cannot_record(demo_sqlite):
    first, _, _ = _seed(demo_sqlite)
    at = sign_in("demo_county")
    at.switch_page(PAGE).run()
    assert not at.exception
    assert not [s for s in at.subheader if s.value == "登记核实结果"]
    assert all("*" in v for v in _tasks_table(at)["身份证号"])
    assert "县教育局只读" in at.caption[0].value


def test_the_coordinator_assesses_a_disabled_child_on_the_board(demo_sqlite):
    _, _, disabled = _seed(demo_sqlite)
    at = sign_in("demo_coordinator")
    at.switch_page("pages/home_teaching/board.py").run()
    assert not at.exception
    assert any(e.label.startswith("待评估(残联名单):1 人") for e in at.expander)
    at.radio(key="assess_conclusion").set_value(Conclusion.HOME_TEACHING)
    at.text_input(key="assess_detail").input("县特殊教育专家委员会:重度肢体残疾")
    _button(at, "保存评估结论").click().run()
    assert not at.exception
    assert "已建立送教上门个案" in at.success[0].value
    with session_scope(demo_sqlite) as session:
        task = _task(session, disabled, TaskKind.ASSESSMENT)
        assert task.status == "done" and session.get(Case, task.case_id).category == "home_teaching"


def _name(engine, key: str) -> str:
    with session_scope(engine) as session:
        return session.scalar(select(VerificationTask.name).where(VerificationTask.person_key == key))


def _cases(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Case).where(Case.source == "residents"))
