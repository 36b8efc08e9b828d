"""Who is acting and what their role may do: password hashing, the acting user, the permission table."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from xueji.rules.vocab import Role, ScopeKind

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password."""
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    # An unknown account is checked against this hash, with the same parameters as real ones, so that a
    # refusal costs the same time whether or not the account exists.
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Tell whether the password matches the stored hash; a missing or broken hash costs one argon2 check too
    and is False."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether a hash was made with other argon2 parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


class Action(StrEnum):
    """Everything a service can be asked to do; the permission table below says who may."""

    OVERVIEW_READ = "overview.read"
    STUDENT_READ = "student.read"
    STUDENT_REVEAL = "student.reveal"
    STUDENT_EXPORT = "student.export"
    STUDENT_IMPORT = "student.import"
    STUDENT_EDIT = "student.edit"
    STATUS_CHANGE_READ = "status_change.read"
    STATUS_CHANGE_SUBMIT = "status_change.submit"
    STATUS_CHANGE_APPROVE = "status_change.approve"
    ASSIGNMENT_MANAGE = "assignment.manage"
    USER_MANAGE = "user.manage"
    GRANT_APPROVE = "grant.approve"
    CALENDAR_MANAGE = "calendar.manage"
    ROLLOVER_RUN = "rollover.run"
    ATTENDANCE_RECORD = "attendance.record"
    CASE_READ = "case.read"
    CASE_MANAGE = "case.manage"
    VISIT_LOG = "visit.log"
    SWEEP_READ = "sweep.read"
    SWEEP_PLAN = "sweep.plan"
    SWEEP_RECORD = "sweep.record"
    SWEEP_REVIEW = "sweep.review"
    HOME_TEACHING_READ = "home_teaching.read"
    HOME_TEACHING_MANAGE = "home_teaching.manage"
    HOME_TEACHING_VISIT = "home_teaching.visit"
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"
    SETUP_READ = "setup.read"
    SETUP_MANAGE = "setup.manage"
    LISTS_IMPORT = "lists.import"
    COMPARE_READ = "compare.read"
    MATCH_REVIEW = "match.review"
    VERIFY_RECORD = "verify.record"
    LADDER_ORDER = "ladder.order"
    LADDER_COUNTY = "ladder.county"
    CLOSURE_APPROVE = "closure.approve"
    NOTICE_ISSUE = "notice.issue"
    REPORT_READ = "report.read"
    REPORT_SUBMIT = "report.submit"
    REPORT_REVIEW = "report.review"
    ROBOT_MANAGE = "robot.manage"
    SUPERVISE_READ = "supervise.read"

    @property
    def label(self) -> str:
        return {
            "overview.read": "查看概况",
            "student.read": "查看学生",
            "student.reveal": "查看完整身份证号/电话",
            "student.export": "导出学生名册",
            "student.import": "导入学籍",
            "student.edit": "更正、归档、合并学籍",
            "status_change.read": "查看学籍异动",
            "status_change.submit": "提交学籍异动申请",
            "status_change.approve": "审批学籍异动",
            "assignment.manage": "分配教师包保学生",
            "user.manage": "管理账号",
            "grant.approve": "审批账号申请(新账号、角色变更、重置密码)",
            "calendar.manage": "维护节假日安排",
            "rollover.run": "学年升级",
            "attendance.record": "登记开学报到和人籍一致核查",
            "case.read": "查看个案和台账",
            "case.manage": "建档、销号、指定包保人",
            "visit.log": "登记家访和劝返",
            "sweep.read": "查看排查进度和比对结果",
            "sweep.plan": "制定排查计划(分村、组队、联系人)",
            "sweep.record": "入户登记排查结果",
            "sweep.review": "审核村排查、运行比对",
            "home_teaching.read": "查看送教上门",
            "home_teaching.manage": "评估、制定送教方案(一人一案)",
            "home_teaching.visit": "登记送教上门记录",
            "audit.read": "查看审计日志",
            "audit.export": "导出审计日志",
            "setup.read": "查看上线设置清单",
            "setup.manage": "维护县区、乡镇、村、学校和学期(上线设置)",
            "lists.import": "导入部门名单(户籍、民政、残联、乡村振兴)并运行比对",
            "compare.read": "查看四查三比对结果和适龄儿童台账",
            "match.review": "审核疑似同一人(名单与学籍)",
            "verify.record": "登记适龄儿童核实结果",
            "ladder.order": "送达限期入学/复学通知书(乡镇)",
            "ladder.county": "登记县级行政措施或司法支持",
            "closure.approve": "审批个案销号",
            "notice.issue": "生成通知书和个案档案(文号)",
            "report.read": "查看学校月报",
            "report.submit": "提交和更正本校月报",
            "report.review": "查看各校月报报送情况和季度汇总",
            "robot.manage": "设置企业微信/钉钉群机器人",
            "supervise.read": "查看所辖各县区的对比和督导(市、省)",
        }[self.value]


_READ_STUDENTS = {
    Action.OVERVIEW_READ,
    Action.STUDENT_READ,
    Action.STUDENT_EXPORT,
    Action.CASE_READ,
    Action.SWEEP_READ,
    Action.HOME_TEACHING_READ,
}

_SUPERVISE = {
    Action.SUPERVISE_READ,
    Action.OVERVIEW_READ,
    Action.CASE_READ,
    Action.SWEEP_READ,
    Action.HOME_TEACHING_READ,
    Action.STATUS_CHANGE_READ,
    Action.COMPARE_READ,
    Action.REPORT_READ,
    Action.REPORT_REVIEW,
}

# The one permission table (role × action). Scope is checked separately, in services.common.access.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(
        {
            Action.USER_MANAGE,
            Action.CALENDAR_MANAGE,
            Action.SETUP_READ,
            Action.SETUP_MANAGE,
            Action.ROBOT_MANAGE,
        }
    ),
    Role.AUDITOR: frozenset({Action.AUDIT_READ, Action.AUDIT_EXPORT}),
    Role.COUNTY_OFFICER: frozenset(
        _READ_STUDENTS
        | {
            Action.STUDENT_REVEAL,
            Action.STATUS_CHANGE_READ,
            Action.STATUS_CHANGE_APPROVE,
            Action.ROLLOVER_RUN,
            Action.GRANT_APPROVE,
            Action.SETUP_READ,
            Action.LISTS_IMPORT,
            Action.COMPARE_READ,
            Action.MATCH_REVIEW,
            Action.LADDER_COUNTY,
            Action.CLOSURE_APPROVE,  # where XUEJI_CLOSURE_APPROVER is county (services check)
            Action.NOTICE_ISSUE,  # the case file (个案档案); the orders are the township's
            Action.REPORT_READ,
            Action.REPORT_REVIEW,
        }
    ),
    Role.TOWNSHIP_OFFICIAL: frozenset(
        _READ_STUDENTS
        | {
            Action.STUDENT_REVEAL,
            Action.STATUS_CHANGE_READ,
            Action.CASE_MANAGE,
            Action.VISIT_LOG,
            Action.SWEEP_PLAN,
            Action.SWEEP_RECORD,
            Action.SWEEP_REVIEW,
            Action.COMPARE_READ,
            Action.MATCH_REVIEW,
            Action.VERIFY_RECORD,
            Action.LADDER_ORDER,
            Action.CLOSURE_APPROVE,  # where XUEJI_CLOSURE_APPROVER is township (services check)
            Action.NOTICE_ISSUE,
            Action.REPORT_READ,
            Action.REPORT_REVIEW,
        }
    ),
    Role.REGISTRAR: frozenset(
        _READ_STUDENTS
        | {
            Action.ASSIGNMENT_MANAGE,
            Action.STUDENT_IMPORT,
            Action.STUDENT_EDIT,
            Action.ATTENDANCE_RECORD,
            Action.CASE_MANAGE,
            Action.VISIT_LOG,
            Action.STATUS_CHANGE_READ,
            Action.STATUS_CHANGE_SUBMIT,
            Action.STATUS_CHANGE_APPROVE,  # only as the sending school of a transfer (services check)
            Action.GRANT_APPROVE,  # only teacher accounts of their own school (services.system.role_grants)
            Action.NOTICE_ISSUE,  # 劝返复学告知书 and the case file of their own school's cases
            Action.REPORT_READ,
            Action.REPORT_SUBMIT,
        }
    ),
    Role.TEACHER: frozenset(
        {
            Action.STUDENT_READ,
            Action.STUDENT_EXPORT,
            Action.CASE_READ,
            Action.VISIT_LOG,
            Action.SWEEP_READ,
            Action.SWEEP_RECORD,
            Action.HOME_TEACHING_READ,
            Action.HOME_TEACHING_VISIT,
        }
    ),
    Role.COORDINATOR: frozenset(
        _READ_STUDENTS | {Action.STUDENT_REVEAL, Action.HOME_TEACHING_MANAGE, Action.HOME_TEACHING_VISIT}
    ),
    # 市、省: read and supervise their counties (a county's pages once they pick one), never write
    Role.CITY_OFFICER: frozenset(_SUPERVISE),
    Role.PROVINCE_OFFICER: frozenset(_SUPERVISE),
    Role.SYSTEM: frozenset(Action),
}

# Which scope each role's accounts must have.
ROLE_SCOPES: dict[Role, frozenset[ScopeKind]] = {
    Role.ADMIN: frozenset({ScopeKind.COUNTY}),
    Role.AUDITOR: frozenset({ScopeKind.COUNTY}),
    Role.COUNTY_OFFICER: frozenset({ScopeKind.COUNTY}),
    Role.TOWNSHIP_OFFICIAL: frozenset({ScopeKind.TOWNSHIP}),
    Role.REGISTRAR: frozenset({ScopeKind.SCHOOL}),
    Role.TEACHER: frozenset({ScopeKind.SCHOOL}),
    Role.COORDINATOR: frozenset({ScopeKind.COUNTY, ScopeKind.TOWNSHIP, ScopeKind.SCHOOL}),
    Role.CITY_OFFICER: frozenset({ScopeKind.CITY}),
    Role.PROVINCE_OFFICER: frozenset({ScopeKind.PROVINCE}),
    Role.SYSTEM: frozenset({ScopeKind.COUNTY}),
}


# Separation of duties: the administrator only requests an account, a role or a password reset for a role that
# reads children's data; a second person approves it, one of these roles with a scope that holds the request's
# scope (services.system.role_grants checks both). Roles missing here (administrator, auditor, the operator)
# are never requested: their accounts are created and reset only on the server's command line.
GRANT_APPROVERS: dict[Role, frozenset[Role]] = {
    Role.COUNTY_OFFICER: frozenset({Role.COUNTY_OFFICER}),
    Role.TOWNSHIP_OFFICIAL: frozenset({Role.COUNTY_OFFICER}),
    Role.COORDINATOR: frozenset({Role.COUNTY_OFFICER}),
    Role.REGISTRAR: frozenset({Role.COUNTY_OFFICER}),
    Role.TEACHER: frozenset({Role.REGISTRAR, Role.COUNTY_OFFICER}),
}
# City and province officers too: a county's administrator and officer cannot make an account above their county.
COMMAND_LINE_ROLES = frozenset({Role.ADMIN, Role.AUDITOR, Role.CITY_OFFICER, Role.PROVINCE_OFFICER})


class PermissionDenied(Exception):
    """The acting user may not do this; the message is shown to them in Chinese."""


@dataclass(frozen=True)
class Actor:
    """The acting user of a service call: an account's id, role and scope, nothing more."""

    user_id: int | None
    username: str
    role: Role
    scope_kind: ScopeKind
    scope_id: int | None
    # A city's or province's officer looking at one of their counties (services.common.supervision.as_county):
    # their own scope, while scope_kind/scope_id are the county's. None for everyone else.
    via: tuple[ScopeKind, int | None] | None = None

    @property
    def scope_label(self) -> str:
        here = f"{self.scope_kind.value}:{self.scope_id}"
        return f"{self.via[0].value}:{self.via[1]}>{here}" if self.via else here

    def at_home(self) -> Actor:
        """The actor in their own scope (a supervising officer's city or province), not the county they picked."""
        if self.via is None:
            return self
        return replace(self, scope_kind=self.via[0], scope_id=self.via[1], via=None)

    def can(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]


SYSTEM_USERNAME = "system"
