"""The auditor's view of the audit log: filter, page, export, verify (chain and anchors), anchor the head."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from xueji.audit import ChainCheck, chain_label, seal_all, seal_legacy_chain, sealer, verify_chain
from xueji.audit import anchor as audit_anchor
from xueji.audit.anchor import Anchor, AnchorFileError
from xueji.audit.context import CHANNEL_LABELS
from xueji.auth import Action, Actor
from xueji.clock import china_time, county_zone, now, zone_name
from xueji.config import get_settings
from xueji.db import unit_of_work
from xueji.models import AuditLog, County, School, Township
from xueji.rules.cases import CloseReason
from xueji.rules.comparisons import Outcome, Standing, VerifyOutcome
from xueji.rules.dept_lists import ListKind
from xueji.rules.ladder import CountyMeasure, Step
from xueji.rules.notices import NoticeKind
from xueji.rules.notify import Platform
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.common.access import require
from xueji.services.common.exports import export_table

COLUMNS = [
    "时间",  # headed with the county's clock: 时间(北京时间)
    "账号",
    "角色",
    "范围",
    "渠道",
    "客户端地址",
    "操作",
    "结果",
    "对象类型",
    "对象编号",
    "说明",
    "修改前",
    "修改后",
    "封存",  # 已封存 (its chain and place), 待封存, or 升级前 (the old global chain)
]
CHANNELS = {"": "全部", **CHANNEL_LABELS}


@dataclass(frozen=True)
class AuditFilter:
    start: date | None = None
    end: date | None = None
    username: str = ""
    action: str = ""
    outcome: str = ""
    channel: str = ""  # web, cli or "" for both
    address: str = ""  # a client address, exactly

    def describe(self) -> str:
        parts = [
            f"{self.start or '…'} 至 {self.end or '…'}",
            *(f"{label}={value}" for label, value in (
                ("账号", self.username.strip()), ("操作", self.action), ("结果", self.outcome),
                ("渠道", CHANNEL_LABELS.get(self.channel, "")), ("地址", self.address.strip()),
            ) if value),
        ]  # fmt: skip
        return "筛选:" + ",".join(parts)


# The codes the log stores, in the words the page shows (a code not listed here is shown as it is).
ACTIONS = {
    "": "全部",
    "login": "登录",
    "logout": "退出",
    "lockout": "锁定",
    "create": "新增",
    "update": "修改",
    "password_change": "修改密码",
    "password_reset": "重置密码",
    "reveal": "查看完整信息",
    "export": "导出",
    "import": "导入",
    "denied": "被拒绝的操作",
    "grant_request": "账号申请",
    "grant_approve": "批准账号申请",
    "grant_reject": "驳回账号申请",
    "grant_cancel": "撤回账号申请",
    "submit": "提交",
    "approve": "审批",
    "assign": "指定包保人",
    "auto_open": "自动建档",
    "close": "个案销号",
    "reopen": "重新开启个案",
    "correct": "更正学籍",
    "duplicate_check": "学籍查重",
    "merge": "合并学籍",
    "archive": "归档",
    "transfer_lookup": "转学查询",
    "registry_check": "人籍一致核对",
    "term_report": "开学报到",
    "reconcile": "三比对",
    "calendar": "节假日安排",
    "rollover": "学年升级",
    "rollover_undo": "撤销学年升级",
    "backup": "备份",
    "restore": "恢复",
    "audit_seal": "启用密钥签名",
    "division_merge": "撤并(乡镇、村、学校)",
    "division_close": "关闭(乡镇、村、学校)",
    "compare": "四查三比对",
    "sync": "核实任务更新",
    "verify": "登记核实结果",
    "assess": "登记评估结论",
    "match.confirm": "确认为同一人",
    "match.reject": "判定不是同一人",
    "match.undo": "撤销同一人判定",
    "ladder.hand_up": "劝返复学:提请乡镇",
    "ladder.escalate": "劝返复学:逾期升级",
    "ladder.serve": "劝返复学:限期通知送达",
    "ladder.measure": "劝返复学:县级措施",
    "ladder.return": "劝返复学:登记复学",
    "ladder.follow_up": "劝返复学:返校跟踪",
    "ladder.skip": "劝返复学:跳过步骤",
    "ladder.closure_request": "劝返复学:申请销号",
    "ladder.closure_decide": "劝返复学:销号审批",
    "ladder.advance": "劝返复学:每日推进",
    "ladder.carry": "劝返复学:并入辍学个案",
    "ladder.dropped_again": "劝返复学:复学后再次辍学",
    "ladder.link_student": "劝返复学:关联学籍",
    "delete": "删除",
    "notify.send": "群机器人发送",
    "notify.dry_run": "群机器人提醒预览(未发送)",
    "report.submit": "报送月报",
    "report.correct": "更正月报",
    "notice.issue": "生成通知书、个案档案",
}
OUTCOMES = {
    "": "全部",
    "success": "成功",
    "failure": "失败",
    "denied": "拒绝",
    "locked": "已锁定",
    "refused": "未通过",
    "not_found": "未找到",
}
ENTITIES = {
    "monthly_report": "四个一月报",
    "user": "账号",
    "role_grant": "账号申请",
    "student": "学籍",
    "school": "学校",
    "school_class": "班级",
    "case": "个案",
    "home_visit": "家访",
    "household": "住户",
    "sweep": "排查",
    "sweep_village": "排查村(社区)",
    "status_change": "学籍异动",
    "registry_check": "人籍一致核对",
    "rollover": "学年升级",
    "calendar_day": "节假日",
    "home_plan": "送教计划",
    "home_assessment": "送教评估",
    "home_teaching_visit": "送教记录",
    "teacher_assignment": "教师任课",
    "upload": "上传文件",
    "audit_log": "审计日志",
    "database": "数据库",
    "township": "乡镇",
    "village": "村(社区)",
    "county": "县区",
    "term": "学期",
    "setup": "上线设置导入",
    "dept_list": "部门名单",
    "match_candidate": "疑似同一人",
    "match_decision": "同一人判定",
    "school_age_child": "适龄儿童台账",
    "verification_task": "核实任务",
    "robot_hook": "群机器人",
    "notice": "通知书、个案档案",
}
ROLES = {r.value: r.label for r in Role}


# The keys of an upload's or import's before/after, in words (the stored entry keeps its keys: it is signed).
KEYS = {
    "import": "导入",
    "file_name": "文件名",
    "bytes": "字节数",
    "sheets": "工作表",
    "new": "新增",
    "changed": "更改",
    "unchanged": "未变",
    # 四查三比对: a list's import, a comparison's counts, a task or a decision
    "kind": "名单",
    "version": "版本",
    "list_date": "名单日期",
    "rows": "人数",
    "changes": "与上一版相比",
    "left": "移出",
    "comparison": "比对结果",
    "children": "适龄儿童",
    "to_verify": "待核实",
    "group_grouped": "特殊群体",
    "group_opened": "特殊群体建档",
    "group_unplaced": "未能定位",
    "task_opened_verify": "新核实任务",
    "task_opened_assessment": "新评估任务",
    "task_closed": "关闭的任务",
    "task_updated": "更新的任务",
    "opened_verify": "新核实任务",
    "opened_assessment": "新评估任务",
    "closed": "关闭的任务",
    "updated": "更新的任务",
    "listed": "名单",
    "registry": "学籍",
    "score": "相似度",
    "reason": "依据",
    "month": "月份",
    "outcome": "结果",
    "outcome_detail": "核实情况",
    "standing": "现状",
    "status": "状态",
    "closed_reason": "关闭原因",
    "due_on": "核实期限",
    "opened_on": "下达日期",
    **{o.value: o.label for o in Outcome},
    # 劝返复学: a move on the ladder, the nightly pass's counts
    "step": "步骤",
    "return_attempts": "劝返次数",
    "served_on": "送达日期",
    "comply_by": "限期",
    "measure": "措施",
    "on": "日期",
    "returned_on": "复学日期",
    "status_change_id": "学籍异动编号",
    "seq": "第几次",
    "found_in_school": "跟踪时在校",
    "close_reason": "销号原因",
    "approve": "批准",
    "started": "新开始",
    "to_township": "升级至乡镇",
    "to_county": "升级至县教育局",
    # 群机器人: a robot kept or a sending (counts only, never the message)
    "scope": "群",
    "platform": "平台",
    "webhook": "Webhook",
    "secret": "加签密钥",
    "enabled": "启用",
    "message": "消息",
    "items": "待办事项",
    "overdue": "已逾期(件数)",
    "due": "待办(件数)",
    "note": "留意(件数)",
    "attempts": "尝试次数",
    "result": "发送结果",
    "robots": "机器人",
    "messages": "消息",
    "refused": "拒绝发送",
    # 通知书和个案档案: a document generated
    "notice": "文书",
    "number": "文号",
    "notice_id": "文书编号",
    "sha256": "SHA-256",
}
# The codes of 四查三比对 stored as values, in words, by the key they are under (the same code means other things
# under other keys: "disabled" is a case's category and the 残联 list's kind).
VALUES = {
    "kind": {k.value: k.short for k in ListKind},
    "list": {k.value: k.short for k in ListKind},
    "outcome": {o.value: o.label for o in VerifyOutcome},
    "standing": {s.value: s.label for s in Standing},
    "step": {s.value: s.label for s in Step},
    "measure": {m.value: m.label for m in CountyMeasure},
    "close_reason": {r.value: r.label for r in CloseReason},
    "platform": {p.value: p.label for p in Platform},
    "message": {"digest": "待办提醒", "test": "测试消息"},
    "notice": {k.value: k.label for k in NoticeKind},
}


def _readable(value: object, key: str = "") -> object:
    """A before/after as the auditor reads it: known keys and codes in words, an empty value as —, not null."""
    if isinstance(value, dict):
        return {KEYS.get(k, k): _readable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    if isinstance(value, str):
        return VALUES.get(key, {}).get(value, value)
    return "—" if value is None else value


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return json.dumps(_readable(value), ensure_ascii=False) if isinstance(value, dict | list) else str(value)


SCOPE = re.compile(r"\b(county|township|school):(\d+|None)\b")
MODELS = {ScopeKind.COUNTY: County, ScopeKind.TOWNSHIP: Township, ScopeKind.SCHOOL: School}


def time_column() -> str:
    """The time column's heading, naming the clock its times are on: 时间(北京时间)."""
    return f"时间({zone_name()})"


def _scope_words(session: Session, frame: pd.DataFrame) -> Callable[[str], str]:
    """A function writing every account scope in a text (county:1, township:3 in 范围 and in the before/after of
    an account) as its place: 县区 浏阳市, 乡镇 沙市镇."""
    wanted: dict[ScopeKind, set[int]] = {kind: set() for kind in ScopeKind}
    for value in frame.to_numpy().ravel():
        for kind, number in SCOPE.findall(value if isinstance(value, str) else ""):
            if number != "None":
                wanted[ScopeKind(kind)].add(int(number))
    names = {
        (kind, row.id): row.name
        for kind, ids in wanted.items() if ids
        for row in session.scalars(select(MODELS[kind]).where(MODELS[kind].id.in_(ids)))  # type: ignore[attr-defined]
    }  # fmt: skip

    def words(m: re.Match[str]) -> str:
        kind = ScopeKind(m.group(1))
        name = names.get((kind, int(m.group(2)))) if m.group(2) != "None" else None
        return (
            f"{kind.label} {name}"
            if name
            else f"{kind.label}(未指定)"
            if m.group(2) == "None"
            else m.group(0)
        )

    return lambda value: SCOPE.sub(words, value)


def _in_words(session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    """Entries as the auditor reads them, on screen and in the export: codes in words, scopes as places, the
    time column naming its clock, nothing shown as None."""
    frame = frame.copy()
    for column, words in (("角色", ROLES), ("操作", ACTIONS), ("结果", OUTCOMES), ("对象类型", ENTITIES)):
        frame[column] = frame[column].map(lambda code, words=words: words.get(code, code) if code else "")
    frame = frame.map(_text)
    scopes = _scope_words(session, frame)
    for column in ("范围", "说明", "修改前", "修改后"):
        frame[column] = frame[column].map(scopes)
    return frame.rename(columns={"时间": time_column()})


def _query(f: AuditFilter) -> Select:
    query = select(AuditLog)
    if f.start:
        query = query.where(
            AuditLog.at >= datetime.combine(f.start, datetime.min.time(), county_zone()).astimezone(UTC)
        )
    if f.end:
        end = datetime.combine(f.end + timedelta(days=1), datetime.min.time(), county_zone()).astimezone(UTC)
        query = query.where(AuditLog.at < end)
    if f.username.strip():
        query = query.where(AuditLog.username == f.username.strip())
    if f.action:
        query = query.where(AuditLog.action == f.action)
    if f.outcome:
        query = query.where(AuditLog.outcome == f.outcome)
    if f.channel:
        query = query.where(AuditLog.channel == f.channel)
    if f.address.strip():
        query = query.where(AuditLog.client_addr == f.address.strip())
    return query


def _frame(entries: list[AuditLog]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                china_time(e.at, seconds=True),
                e.username,
                e.role,
                e.scope,
                CHANNEL_LABELS.get(e.channel or "", "未记录"),
                e.client_addr or "",
                e.action,
                e.outcome,
                e.entity_type,
                e.entity_id,
                e.detail,
                e.before,
                e.after,
                _sealing(e),
            )
            for e in entries
        ],
        columns=COLUMNS,
    )


def _sealing(entry: AuditLog) -> str:
    """Where an entry stands in the chains, in words."""
    if entry.mac is None:
        return "升级前的全局链"
    if entry.hash is None:
        return "待封存"
    return f"已封存({'全局链' if entry.chain == 0 else '本县区链'}第 {entry.seq} 条)"


def list_entries(
    session: Session, *, actor: Actor, filter: AuditFilter, limit: int = 100, offset: int = 0
) -> tuple[pd.DataFrame, int]:
    """One page of entries, newest first, and the total that match."""
    require(session, actor, Action.AUDIT_READ)
    query = _query(filter)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = list(session.scalars(query.order_by(col(AuditLog.id).desc()).limit(limit).offset(offset)))
    return _in_words(session, _frame(entries)), int(total)


def export_entries(session: Session, *, actor: Actor, filter: AuditFilter) -> bytes:
    """Every matching entry as xlsx; the export itself is audited, with the filter."""
    require(session, actor, Action.AUDIT_EXPORT)
    entries = list(session.scalars(_query(filter).order_by(AuditLog.id)))
    return export_table(
        session,
        actor=actor,
        action=Action.AUDIT_EXPORT,
        frame=_in_words(session, _frame(entries)),
        sheet="审计日志",
        detail=filter.describe(),
        entity_type="audit_log",
    )


def county_chain(session: Session, code: str) -> int:
    """The chain of a county, by its 12-digit code."""
    found = session.scalar(select(County.id).where(County.code == code.strip()))
    if found is None:
        raise LookupError(f"没有代码为 {code} 的县区")
    return int(found)


@dataclass(frozen=True)
class SealQueue:
    pending: int  # entries not sealed yet
    oldest_seconds: float | None  # how long the oldest has waited
    max_age: int  # XUEJI_AUDIT_SEAL_MAX_AGE


def seal_queue(session: Session, *, actor: Actor) -> SealQueue:
    """The entries waiting for the sealer, for the audit page."""
    require(session, actor, Action.AUDIT_READ)
    count, oldest = sealer.queue(session)
    waited = None
    if oldest is not None:
        waited = (now() - (oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC))).total_seconds()
    return SealQueue(count, waited, get_settings().audit_seal_max_age)


def check_chain(session: Session, *, actor: Actor, chain: int | None = None) -> ChainCheck:
    """Verify the whole log (or one county's chain): every entry's signature, place and link, the entries
    waiting to be sealed, then every anchor in the anchor file."""
    require(session, actor, Action.AUDIT_READ)
    try:
        anchors = audit_anchor.read_anchors()
    except AnchorFileError as exc:
        return ChainCheck(False, 0, None, str(exc))
    check = verify_chain(session, anchors=anchors, chain=chain)
    if check.ok and not anchors:
        warning = (
            f"锚点文件 {audit_anchor.anchor_file()} 中还没有锚点:日志末尾被截断或整个日志被清空将无法发现。"
            "请定时运行 xueji audit anchor。"
        )
        return replace(check, warnings=(*check.warnings, warning))
    return check


class AnchorRefused(Exception):
    """The log does not verify, so its head is not anchored; the message says why."""


def anchor_head(session: Session, *, actor: Actor) -> Anchor:
    """Seal what waits, verify the log, then append every chain's head (as verified) to the anchor file; a log
    that does not verify is not anchored."""
    require(session, actor, Action.AUDIT_READ)
    seal_all(session)
    check = check_chain(session, actor=actor)
    if not check.ok:
        raise AnchorRefused("审计日志校验未通过,未写入锚点:" + report(check)[0])
    last_id, head = check.global_end
    key_id = session.scalar(select(AuditLog.key_id).where(AuditLog.id == last_id)) if last_id else None
    anchor = audit_anchor.of_heads(
        check.global_chain, last_id, head, check.key_id if check.heads else key_id, check.heads
    )
    return audit_anchor.append(anchor)


@unit_of_work
def seal(session: Session, *, actor: Actor) -> AuditLog | None:
    """Start keyed chaining on a log that ends with unkeyed entries (after the upgrade); committed."""
    entry = seal_legacy_chain(session, actor=actor)
    session.commit()
    return entry


def report(check: ChainCheck) -> list[str]:
    """What verify found, in Chinese: the verdict first, then what was checked, then the warnings."""
    scope = "" if check.chain is None else f"({chain_label(check.chain)})"
    if not check.ok:
        where = f"第 {check.bad_id} 条记录" if check.bad_id else "链尾"
        return [f"审计日志校验未通过{scope}:{where}:{check.reason}(此前 {check.checked} 条正常)"]
    lines = [f"审计日志完整{scope}:已校验 {check.checked} 条记录。"]
    if check.pending:
        lines.append(
            f"其中 {check.pending} 条尚待封存(最早的已等待 {check.oldest_pending or 0:.0f} 秒,"
            f"上限 {get_settings().audit_seal_max_age} 秒),其签名已核对。"
        )
    if check.heads:
        lines.append(f"已封存的链 {len(check.heads)} 条(每个县区一条,另有不属于县区的全局链)。")
    if check.legacy:
        lines.append(f"其中前 {check.legacy} 条是升级前的无密钥 SHA-256 链,按 SHA-256 校验;其后以密钥签名。")
    if check.key_id:
        lines.append(f"签名密钥指纹:{check.key_id}。")
    if check.last_anchor:
        last = check.last_anchor
        where = (
            f"末条编号 {last.last_id},末条哈希 {(last.head or '-')[:16]}…"
            if last.heads is None
            else f"{len(last.heads)} 条链的链头"
        )
        lines.append(
            f"已核对 {check.anchors} 个锚点;最近一个:{last.at.astimezone(county_zone()):%Y-%m-%d %H:%M},"
            f"共 {last.count} 条,{where};其后 {check.unanchored or 0} 条尚未锚定。"
        )
    return lines + [f"注意:{w}" for w in check.warnings]
