"""群机器人提醒 (administrator): the WeCom / DingTalk group robots of schools and townships, a test message, the
last result of each, and a group's digest exactly as `xueji notify --dry-run` prints it."""

import streamlit as st

from xueji.auth import Action
from xueji.db import session_scope
from xueji.rules.notify import Platform
from xueji.services.notify import hooks, sender
from xueji.ui.confirm import empty_fields, remember_saved, show_saved
from xueji.ui.display import frame, timed
from xueji.ui.errors import shown_as_error
from xueji.ui.session import require_actor
from xueji.ui.tables import show_table
from xueji.ui.text import md
from xueji.ui.widgets import confirmed_submit

DONE = "robots_done"
ADDED = "robots_added"  # a robot was just added: the form is emptied for the next one


def done(message: str, *, added: bool = False) -> None:
    """Keep the confirmation for the next run (a toast and a note that stays in view on a phone) and rerun."""
    remember_saved(DONE, message)
    if added:
        st.session_state[ADDED] = True
    st.rerun()


def said(result: str, *, short: bool = False) -> str:
    """A robot's last result, with (unless short, as in the table) where to look when the network failed."""
    if short or not ("网络错误" in result or "网络超时" in result):
        return result
    return (
        f"{result}:请确认服务器能访问外网 qyapi.weixin.qq.com 或 oapi.dingtalk.com(HTTPS,443 端口);"
        "只能经代理出网时,在服务的环境中设置 HTTPS_PROXY"
    )


actor = require_actor(Action.ROBOT_MANAGE)
st.title("群机器人提醒")
st.caption(
    "给学校、乡镇的企业微信群或钉钉群设一个群机器人,每天由 `xueji notify` 把该校(乡镇)的待办发到群里:"
    "只有事项和件数、最早期限和办理页面的链接,从不含姓名、身份证号和电话;没有待办的群不发。"
)
show_saved(DONE)
if st.session_state.pop(ADDED, False):  # before the form is drawn: the next robot starts from an empty form
    empty_fields(("robots_webhook", "robots_secret"))
    st.session_state["robots_place"] = None
with session_scope() as session:
    places = hooks.places(session, actor=actor)
    rows = hooks.hooks(session, actor=actor)

search = st.text_input("搜索", key="robots_search", placeholder="学校或乡镇名称")
words = search.split()
shown = [r for r in rows if all(w in r.place.name for w in words)]
st.markdown(f"共 **{len(shown)}** 个机器人" + (f"(搜索“{md(' '.join(words))}”)" if words else ""))
table = hooks.hooks_frame(shown).rename(columns={"上次发送": timed("上次发送")})
if "上次结果" in table.columns:
    table["上次结果"] = [said(r, short=True) if isinstance(r, str) else r for r in table["上次结果"]]
show_table(frame(table), hide_index=True, width="stretch", empty="还没有群机器人:在下面添加。")

if shown:
    st.subheader("测试、停用、删除")
    chosen = st.selectbox(
        "机器人", shown, format_func=lambda r: r.label, key="robots_pick", placeholder="请选择机器人"
    )
    left, middle, _ = st.columns([1, 1, 3])
    if left.button("发送测试消息", key="robots_test", type="primary", disabled=not chosen.enabled):
        with shown_as_error(), session_scope() as session, st.spinner("正在发送……"):
            sent = sender.send_test(session, actor=actor, hook_id=chosen.id)
            if sent.ok:
                done(f"测试消息已发到“{chosen.place.name}”的{chosen.platform.label}群,请在群里查看。")
            else:
                words = said(sent.message)
                hint = "" if words != sent.message else "请核对 Webhook 地址和加签密钥。"
                st.error(f"测试消息发送失败:{md(words)}。{hint}")
    if middle.button("启用" if not chosen.enabled else "停用", key="robots_toggle"):
        with shown_as_error(), session_scope() as session:
            hooks.set_enabled(session, actor=actor, hook_id=chosen.id, enabled=not chosen.enabled)
            done(f"已{'启用' if not chosen.enabled else '停用'}“{chosen.place.name}”的机器人。")
    with st.form("robots_delete"):
        if confirmed_submit(
            "删除这个机器人", confirm=f"确认删除“{chosen.label}”", key=f"robots_del_{chosen.id}"
        ):
            with shown_as_error(), session_scope() as session:
                hooks.delete_hook(session, actor=actor, hook_id=chosen.id)
                done(f"已删除“{chosen.place.name}”的机器人(审计日志保留其记录)。")

st.subheader("添加机器人")
with st.form("robots_add"):  # kept on a refusal (a mistyped address is corrected, not pasted again)
    place = st.selectbox(
        "群(学校或乡镇)",
        places,
        index=None,
        placeholder="请选择",
        format_func=lambda p: f"{p.kind_label} · {p.name}",
        key="robots_place",
    )
    platform = st.radio(
        "平台", list(Platform), format_func=lambda p: p.label, horizontal=True, key="robots_platform"
    )
    webhook = st.text_input(
        "Webhook 地址",
        placeholder="企业微信:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…;"
        "钉钉:https://oapi.dingtalk.com/robot/send?access_token=…",
        key="robots_webhook",
    )
    secret = st.text_input(
        "钉钉加签密钥(SEC 开头;企业微信留空)",
        type="password",
        help="钉钉机器人“安全设置”选“加签”时复制的密钥;保存后只显示末 4 位。",
        key="robots_secret",
    )
    if st.form_submit_button("添加", type="primary"):
        if place is None:
            st.error("请选择学校或乡镇")
        else:
            with shown_as_error(), session_scope() as session:
                hooks.add_hook(
                    session, actor=actor, place=place, platform=platform, webhook=webhook, secret=secret
                )
                done(
                    f"已为“{place.name}”添加{platform.label}机器人。点“发送测试消息”确认群里能收到。",
                    added=True,
                )

st.subheader("预览某个群的待办提醒")
st.caption("与 `xueji notify --dry-run` 打印的一样(Markdown 原文);预览不发送。")
target = st.selectbox(
    "群",
    places,
    index=None,
    placeholder="请选择学校或乡镇",
    format_func=lambda p: f"{p.kind_label} · {p.name}",
    key="robots_preview",
)
if target is not None:
    with shown_as_error(), session_scope() as session:
        found = sender.preview(session, actor=actor, place=target)
        if found.text is None:
            st.info(f"“{target.name}”暂无待办:这个群今天不会收到消息。")
        else:
            st.code(found.text, language=None, wrap_lines=True)
