"""How long user text may be. The one statement of each bound is the column's length in xueji.models
(`Field(max_length=...)`); forms, import rows and services read it here, so that all of them refuse the same
over-long text with the same Chinese reason before the database has to."""

from __future__ import annotations

from functools import cache

# The Chinese name of each column people type into, for a refusal that names the field. Columns the app fills
# itself (codes, states, hashes) are named by table and column: only a bug could make one too long.
LABELS: dict[str, str] = {
    "app_user.username": "账号",
    "app_user.display_name": "姓名",
    "calendar_day.name": "节假日名称",
    "school_class.head_teacher_name": "班主任姓名",
    "student.name": "姓名",
    "student.native_place": "籍贯",
    "student.nationality": "国籍/地区",
    "student.id_number": "身份证件号",
    "student.current_address": "现住址",
    "student.mailing_address": "通信地址",
    "student.home_address": "家庭地址",
    "student.archived_reason": "归档原因",
    "family_member.name": "家庭成员姓名",
    "family_member.relation": "家庭成员关系",
    "family_member.phone": "家庭成员电话",
    "family_member.workplace": "家庭成员工作单位",
    "status_change.destination": "转往",
    "status_change.reason": "异动原因",
    "status_change.override_reason": "特殊情况说明",
    "status_change.decision_reason": "审批意见",
    "status_change.source_county": "转出县区",
    "status_change.source_school": "原学校",
    "status_change.placement_reason": "编班说明",
    "rollover.early_reason": "提前升级原因",
    "term_report.leave_reason": "请假原因",
    "child.name": "儿童姓名",
    "child.id_number": "身份证号",
    "child.address": "住址",
    "child.guardian_name": "监护人",
    "child.guardian_phone": "监护人电话",
    "child_case.risk_reason": "风险依据",
    "child_case.government_name": "村(社区)干部姓名",
    "child_case.government_phone": "村(社区)干部电话",
    "child_case.close_evidence": "销号依据",
    "child_case.receiving_school": "接收学校",
    "ladder_step.reason": "原因",
    "ladder_step.served_to": "送达对象",
    "ladder_step.detail": "情况说明",
    "case_event.detail": "个案记录说明",
    "home_visit.visitors": "家访人",
    "home_visit.met_with": "见到的人",
    "home_visit.child_situation": "孩子情况",
    "home_visit.family_situation": "家庭情况",
    "home_visit.next_step": "下一步",
    "sweep_village.contact_name": "村干部姓名",
    "sweep_village.contact_phone": "村干部电话",
    "sweep_village.return_reason": "退回原因",
    "household.group_name": "组",
    "household.head_name": "户主姓名",
    "household.address": "地址",
    "household.phone": "联系电话",
    "household.note": "户备注",
    "sweep_child.name": "儿童姓名",
    "sweep_child.place": "就读学校/去向",
    "sweep_child.note": "儿童备注",
    "home_assessment.members": "评估人员",
    "home_assessment.ability": "接受教育能力",
    "home_plan.methods": "教学方法与措施",
    "home_plan.goals": "目标",
    "home_teaching_visit.teachers": "送教教师",
    "home_teaching_visit.content": "送教内容",
    "home_teaching_visit.response": "孩子反应",
    "home_teaching_visit.progress": "目标进展",
}

# Columns holding a JSON object of user text (goal area → text): bounded on the JSON text as stored (the
# default serializer escapes every Chinese character as \\uXXXX, so six characters each), at the size six
# areas of 500 characters outside the Basic Multilingual Plane would take. Migration 0013 states the same.
JSON_LIMITS: dict[str, int] = {"home_plan.goals": 40_000, "home_teaching_visit.progress": 40_000}


@cache
def max_length(field: str) -> int:
    """The most characters a column takes, e.g. max_length("student.name") == 50."""
    if field in JSON_LIMITS:
        return JSON_LIMITS[field]
    # imported late: xueji.config imports rules, and the models reach the config through the clock
    from xueji.models import SQLModel

    table, column = field.split(".")
    length = getattr(SQLModel.metadata.tables[table].c[column].type, "length", None)
    if not length:
        raise KeyError(f"{field} 不是有长度上限的文字字段")
    return int(length)


def form_limit(field: str, value: str | None = "") -> int:
    """max_chars for a form input showing `value`: the column's bound, or the value's length when a value saved
    before the bound was enforced is longer (Streamlit refuses a default longer than max_chars; the rules then
    ask for it to be shortened)."""
    return max(max_length(field), len(value or ""))


def label_of(field: str) -> str:
    """The field's name as users know it."""
    return LABELS.get(field, field)


def too_long(text: str | None, limit: int) -> str | None:
    """Why text is too long for a field of `limit` characters (None when it fits), e.g. 不超过 50 字(现有 51 字)."""
    if text is None or len(text) <= limit:
        return None
    return f"不超过 {limit} 字(现有 {len(text)} 字)"


def length_problem(text: str | None, field: str) -> str | None:
    """Why text is too long for this column (None when it fits)."""
    return too_long(text, max_length(field))


def length_problems(fields: dict[str, tuple[str, str | None]]) -> list[tuple[str, str]]:
    """(label, reason) for each over-long text, given label → (column, text)."""
    found = []
    for label, (field, text) in fields.items():
        reason = length_problem(text, field)
        if reason:
            found.append((label, reason))
    return found
