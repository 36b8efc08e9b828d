"""适龄儿童核实 (township official; county officer read-only): every child of age with their household here and
no registry record, by village, overdue first; the official records what was found; done ones below; export."""

import streamlit as st

from xueji.auth import Action
from xueji.clock import today
from xueji.config import get_settings
from xueji.rules.comparisons import TaskStatus, VerifyOutcome
from xueji.rules.vocab import ScopeKind
from xueji.services.comparisons import tasks
from xueji.services.comparisons.tasks import TaskFilter
from xueji.ui.display import day, is_empty
from xueji.ui.session import reading, require_actor
from xueji.ui.tables import show_table
from xueji.ui.verification import saved_notice, styled, verify_form
from xueji.ui.widgets import export_button, page_offset, pager

PAGE_SIZE = 50
OPEN_COLUMNS = [
    "村",
    "姓名",
    "逾期天数",
    "核实期限",
    "性别",
    "出生日期",
    "身份证号",
    "户籍地址",
    "监护人",
    "监护人电话",
]
OPEN_COLUMNS += ["核实结果", "核实情况", "乡镇"]
DONE_COLUMNS = ["村", "姓名", "核实结果", "核实情况", "出生日期", "身份证号", "监护人", "乡镇", "下达日期"]
CLOSED_COLUMNS = ["村", "姓名", "关闭原因", "出生日期", "身份证号", "乡镇", "下达日期"]
SHOWN = {TaskStatus.OPEN: OPEN_COLUMNS, TaskStatus.DONE: DONE_COLUMNS, TaskStatus.CLOSED: CLOSED_COLUMNS}
# left out when no row of the page has them (no child overdue, none 暂未找到 yet): a column of — only widens the
# table, which on a phone pushes the village and the due date out of view
WHEN_FILLED = ("逾期天数", "核实结果", "核实情况")
MEANING = "  \n".join(
    f"**{o.label}**:"
    + {
        VerifyOutcome.OTHER_COUNTY: "在外县学校就读,写明学校和证明材料(学籍证明、在校证明等)",
        VerifyOutcome.HOME_TEACHING: "因残疾在家接受送教上门;尚无送教上门个案的交协调员评估",
        VerifyOutcome.MOVED_AWAY: "全家已迁出,写明迁往何处",
        VerifyOutcome.DECEASED: "已死亡",
        VerifyOutcome.NOT_FOUND: "暂未找到,写明已采取的查找办法;任务保持待核实,继续查找",
        VerifyOutcome.OUT_OF_SCHOOL: "适龄未入学或辍学在家,写明情况;保存后建立疑似辍学个案",
    }[o]
    for o in VerifyOutcome
)


def filled(value: object) -> bool:
    return not is_empty(value) and value != 0


actor = require_actor(Action.COMPARE_READ)
recorder = actor.can(Action.VERIFY_RECORD)
st.title("适龄儿童核实")
st.caption(
    "户籍在本地、义务教育适龄而在本县查无学籍的儿童(三比对“适龄未入学/去向待核实”),由所在乡镇逐一入户核实去向,"
    f"须在任务下达后 {get_settings().verify_days} 天内登记结果。"
    + ("" if recorder else "县教育局只读,由各乡镇登记。")
)
saved_notice()
with reading() as session:
    backlog = tasks.backlog(session, actor=actor)
    counts = tasks.task_counts(session, actor=actor)
left, middle, right = st.columns(3)
left.metric("待核实", backlog.open)
middle.metric("其中逾期", backlog.overdue)
right.metric("已核实", int(counts["已核实"].sum()) if not counts.empty else 0)
if backlog.overdue:
    st.error(f"{backlog.overdue} 名儿童已超过核实期限(最早 {day(backlog.oldest_due)} 到期),请优先核实。")
with st.expander("各乡镇、村的核实情况"):
    show_table(counts, hide_index=True, width="stretch", empty="还没有核实任务。")

status = (
    st.segmented_control(
        "状态",
        list(TaskStatus),
        format_func=lambda s: s.label,
        default=TaskStatus.OPEN,
        key="verify_status",
    )
    or TaskStatus.OPEN
)
search = st.text_input("搜索", key="verify_search", placeholder="姓名、村或身份证号后 4 位")
late_only = status is TaskStatus.OPEN and st.checkbox("只看已逾期", key="verify_late")
given = TaskFilter(status=status, search=search, overdue_only=late_only)
offset = page_offset("verify_page", page_size=PAGE_SIZE, reset_when=given)
with reading() as session:
    page = tasks.task_list(session, actor=actor, given=given, limit=PAGE_SIZE, offset=offset)
st.caption(f"{status.label}:共 {page.total} 人" + ("(已逾期的在前)" if status is TaskStatus.OPEN else ""))
columns = SHOWN[status]
if actor.scope_kind is ScopeKind.COUNTY:  # the county reads across townships: the township before the village
    columns = ["乡镇", *(c for c in columns if c != "乡镇")]
frame = tasks.tasks_frame(page.rows)[columns]
frame = frame.drop(columns=[c for c in WHEN_FILLED if c in frame and not frame[c].map(filled).any()])
show_table(
    styled(frame),
    hide_index=True,
    width="stretch",
    empty="暂无记录。",
    column_config={"姓名": st.column_config.TextColumn(pinned=True)},
)
if page.total > PAGE_SIZE:
    pager(page.total, key="verify_page", page_size=PAGE_SIZE)

export_button(
    f"导出{status.label}名单 (xlsx)",
    key=f"export_verify_{status.value}_{' '.join(search.split())}",
    file_name=f"适龄儿童核实_{status.label}_{today():%Y%m%d}.xlsx",
    build=lambda session: tasks.export_tasks(session, actor=actor, given=given),
)

if recorder and status is TaskStatus.OPEN and page.rows:
    st.divider()
    with st.expander("每种核实结果的含义"):
        st.markdown(MEANING)
    verify_form(actor, page.rows)
