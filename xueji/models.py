"""The tables of xueji, as SQLModel classes. Every change here needs an Alembic migration."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from xueji.clock import now
from xueji.rules.class_code import ClassCode, parse_class_code
from xueji.rules.vocab import StudentStatus

# Naming convention so that constraint names are the same on SQLite and PostgreSQL (Alembic batch mode
# needs named constraints to alter SQLite tables).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _timestamp() -> datetime:
    return Field(default_factory=now, sa_column=Column(DateTime(timezone=True), nullable=False, default=now))


class Province(SQLModel, table=True):
    """省(自治区、直辖市): the top of a province's deployment; its 12-digit code ends in ten zeros."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)
    name: str = Field(max_length=50)


class City(SQLModel, table=True):
    """市(州): supervises its counties; its 12-digit code ends in eight zeros."""

    id: int | None = Field(default=None, primary_key=True)
    province_id: int | None = Field(default=None, foreign_key="province.id", index=True)
    code: str = Field(max_length=12, unique=True)
    name: str = Field(max_length=50)


class County(SQLModel, table=True):
    """A county (县/县级市): the unit that runs 控辍保学; a deployment holds one, or a city's or province's."""

    id: int | None = Field(default=None, primary_key=True)
    city_id: int | None = Field(default=None, foreign_key="city.id", index=True)  # None: a lone county
    code: str = Field(max_length=12, unique=True)
    name: str = Field(max_length=50)


class Township(SQLModel, table=True):
    """乡镇/街道. Never deleted: a township closed or merged into another keeps its row (closed_on, merged_into_id)."""

    id: int | None = Field(default=None, primary_key=True)
    county_id: int = Field(foreign_key="county.id", index=True)
    code: str = Field(max_length=12, unique=True)
    name: str = Field(max_length=50)
    closed_on: date | None = None  # None: in use (services.setup.divisions)
    merged_into_id: int | None = Field(default=None, foreign_key="township.id")


class Village(SQLModel, table=True):
    """村/社区: the unit a household sweep goes through."""

    id: int | None = Field(default=None, primary_key=True)
    township_id: int = Field(foreign_key="township.id", index=True)
    code: str = Field(max_length=12, unique=True)
    name: str = Field(max_length=50)
    closed_on: date | None = None  # None: in use; a merged village's code is retired into merged_into_id's
    merged_into_id: int | None = Field(default=None, foreign_key="village.id")


class School(SQLModel, table=True):
    """学校, identified by its 10-digit school code (学校标识码)."""

    id: int | None = Field(default=None, primary_key=True)
    township_id: int = Field(foreign_key="township.id", index=True)
    code: str = Field(max_length=10, unique=True)
    name: str = Field(max_length=80)
    kind: str = Field(max_length=20)  # rules.vocab.SchoolKind
    closed_on: date | None = None  # None: in use; closed schools are left out of every picker for new records
    merged_into_id: int | None = Field(default=None, foreign_key="school.id")  # who took its records


class SchoolClass(SQLModel, table=True):
    """班级. Its name, stage, entry year and grade are all derived from the 7-digit class code."""

    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("school_id", "code", name="uq_school_class_school_id_code"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    code: str = Field(max_length=7)
    head_teacher_name: str | None = Field(default=None, max_length=50)
    head_teacher_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)

    @property
    def parsed(self) -> ClassCode:
        return parse_class_code(self.code)

    @property
    def name(self) -> str:
        return self.parsed.name


class Student(SQLModel, table=True):
    """学生 and their registry record (学籍), with the fields of the national import template."""

    __table_args__ = (
        Index("ix_student_school_id_status", "school_id", "status"),
        Index("ix_student_school_id_class_id_name", "school_id", "class_id", "name"),
        # 四查三比对's candidate search looks listed children up by birth date and by name (services.comparisons.matching)
        Index("ix_student_birth_date", "birth_date"),
        Index("ix_student_name", "name"),
        # partial: almost every record has no merged_into_id, and a full index would tempt SQLite's planner
        # into scanning it for "IS NULL" in every list query
        Index(
            "ix_student_merged_into_id",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    registry_number: str | None = Field(default=None, max_length=20, unique=True)
    school_id: int = Field(foreign_key="school.id")
    class_id: int | None = Field(default=None, foreign_key="school_class.id", index=True)
    name: str = Field(max_length=50)
    name_initials: str = Field(default="", max_length=20)  # rules.pinyin.name_initials(name), for search
    sex: str = Field(max_length=1)  # rules.vocab.Sex
    birth_date: date
    birthplace_code: str | None = Field(default=None, max_length=12)
    native_place: str | None = Field(default=None, max_length=50)
    ethnicity: str = Field(default="汉族", max_length=20)
    nationality: str = Field(default="中国", max_length=30)
    id_type: str = Field(default="居民身份证", max_length=20)
    # None for a child without an ID number yet: held on a temporary record until one is entered.
    id_number: str | None = Field(default=None, max_length=18, unique=True)
    household_code: str | None = Field(default=None, max_length=12)
    entry_month: str = Field(max_length=6)  # YYYYMM, as in the template
    current_address: str | None = Field(default=None, max_length=200)
    mailing_address: str | None = Field(default=None, max_length=200)
    home_address: str | None = Field(default=None, max_length=200)
    home_village_id: int | None = Field(default=None, foreign_key="village.id", index=True)
    status: str = Field(default=StudentStatus.ENROLLED.value, max_length=20)
    needs_aid: bool = False
    left_behind: bool = False
    migrant: bool = False
    disabled: bool = False
    disability_type: str | None = Field(default=None, max_length=20)
    orphan: bool = False
    only_child: bool = False
    # Never deleted: a record of a child who left is archived with the reason; a duplicate is merged into
    # the record kept, and both histories stay (the duplicate's requests and cases point at it still).
    archived_reason: str | None = Field(default=None, max_length=200)
    archived_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    merged_into_id: int | None = Field(default=None, foreign_key="student.id")
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()

    @property
    def is_temporary(self) -> bool:
        """A child without an ID number is on a temporary record."""
        return not self.id_number


class FamilyMember(SQLModel, table=True):
    """家庭成员: the template carries two per student; more are allowed."""

    __tablename__ = "family_member"

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    seq: int = 1
    name: str = Field(max_length=50)
    relation: str = Field(max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    household_code: str | None = Field(default=None, max_length=12)
    workplace: str | None = Field(default=None, max_length=100)
    works_away: bool = False
    is_guardian: bool = False


class SchoolYear(SQLModel, table=True):
    """学年, named by the calendar year it starts in."""

    __tablename__ = "school_year"

    id: int | None = Field(default=None, primary_key=True)
    start_year: int = Field(unique=True)
    start_date: date
    end_date: date


class Term(SQLModel, table=True):
    """学期: two per school year, with dates the administrator may change."""

    __table_args__ = (UniqueConstraint("school_year_id", "seq", name="uq_term_school_year_id_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    school_year_id: int = Field(foreign_key="school_year.id")
    seq: int
    start_date: date
    end_date: date


class AppUser(SQLModel, table=True):
    """An account: personal, one role, one scope (the province, a city, the county, a township or a school)."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50, unique=True)
    display_name: str = Field(max_length=50)
    role: str = Field(max_length=30)  # rules.vocab.Role
    scope_kind: str = Field(max_length=20)  # rules.vocab.ScopeKind
    province_id: int | None = Field(default=None, foreign_key="province.id")
    city_id: int | None = Field(default=None, foreign_key="city.id")
    county_id: int | None = Field(default=None, foreign_key="county.id")
    township_id: int | None = Field(default=None, foreign_key="township.id")
    school_id: int | None = Field(default=None, foreign_key="school.id")
    password_hash: str | None = Field(default=None, max_length=200)
    must_change_password: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    is_active: bool = True
    created_at: datetime = _timestamp()
    password_changed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_login_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    phone: str | None = Field(default=None, max_length=20)  # 手机号, shown masked (rules.masking.mask_phone)


class WebSession(SQLModel, table=True):
    """A signed-in browser: the server side of the HttpOnly cookie (which holds a random token; only its SHA-256
    is kept here). Every replica reads it, so a reload, a reconnection or a new tab stays signed in; signing out
    or a timeout sets ended_at, which ends it in every tab at once."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = _timestamp()
    last_seen_at: datetime = _timestamp()  # the last full run of the app (activity), kept to the minute
    ended_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    end_reason: str | None = Field(default=None, max_length=100)
    client_addr: str | None = Field(default=None, max_length=45)


class FormDraft(SQLModel, table=True):
    """A half-filled form (家访, 送教, 入户登记) kept per user, offered back after a reload; removed once saved."""

    __tablename__ = "form_draft"
    __table_args__ = (UniqueConstraint("user_id", "form"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    form: str = Field(max_length=40)
    payload: str = Field(max_length=20000)  # JSON of the form's values
    updated_at: datetime = _timestamp()


class RoleGrant(SQLModel, table=True):
    """A new account, a role or scope, or a password reset the administrator requested and a second person
    approves or rejects (separation of duties: services.system.role_grants). Kept after the decision."""

    __tablename__ = "role_grant"
    __table_args__ = (
        # one open request per account name, whatever the race
        Index(
            "uq_role_grant_pending_username",
            "username",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_role_grant_status_requested_at", "status", "requested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # services.system.role_grants.GrantKind
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)  # None: a new account
    username: str = Field(max_length=50)
    display_name: str = Field(max_length=50)
    role: str = Field(
        max_length=30
    )  # the role requested (a reset: the account's role, which picks the approver)
    scope_kind: str = Field(max_length=20)
    county_id: int | None = Field(default=None, foreign_key="county.id")
    township_id: int | None = Field(default=None, foreign_key="township.id")
    school_id: int | None = Field(default=None, foreign_key="school.id")
    status: str = Field(default="pending", max_length=20)  # services.system.role_grants.GrantStatus
    requested_by: int = Field(foreign_key="app_user.id")
    requested_at: datetime = _timestamp()
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    note: str | None = Field(default=None, max_length=200)  # why it was rejected
    # the requests of one 账号导入 file share a batch (services.system.grant_batches); None: one by one
    batch: str | None = Field(default=None, max_length=32, index=True)
    phone: str | None = Field(default=None, max_length=20)  # the new account's 手机号


class GrantClass(SQLModel, table=True):
    """A class the teacher of a batch request will teach (账号导入's 任教班级), assigned when it is approved."""

    __tablename__ = "role_grant_class"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="role_grant.id", index=True)
    school_id: int = Field(foreign_key="school.id")
    class_code: str = Field(max_length=7)
    head_teacher: bool = False  # 班主任 (SchoolClass.head_teacher_id); otherwise a TeacherAssignment


class TeacherAssignment(SQLModel, table=True):
    """教师包学生: a teacher answers for a whole class or for one student."""

    __tablename__ = "teacher_assignment"
    __table_args__ = (
        # exactly one target; duplicates are refused by services.registry.assignments (NULLs defeat a unique key)
        CheckConstraint("(class_id IS NULL) <> (student_id IS NULL)", name="one_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    class_id: int | None = Field(default=None, foreign_key="school_class.id", index=True)
    student_id: int | None = Field(default=None, foreign_key="student.id", index=True)
    created_at: datetime = _timestamp()


class AuditLog(SQLModel, table=True):
    """审计日志: append-only (triggers refuse every UPDATE but sealing, and every DELETE). A writer inserts an
    entry with its keyed HMAC (mac) and no hash; the sealer (xueji.audit.sealer) then chains it into its county's
    chain (seq, prev_hash, hash). Entries from before migration 0021 have no mac: the old global chain."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _timestamp()
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    username: str = Field(max_length=50)
    role: str = Field(max_length=30)
    scope: str = Field(max_length=60)
    action: str = Field(max_length=40)
    entity_type: str | None = Field(default=None, max_length=40)
    entity_id: str | None = Field(default=None, max_length=40)
    outcome: str = Field(max_length=20)
    before: dict | None = Field(default=None, sa_column=Column(JSON))
    after: dict | None = Field(default=None, sa_column=Column(JSON))
    detail: str | None = Field(default=None, max_length=500)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)  # None until sealed
    key_id: str | None = Field(default=None, max_length=16)  # None: an entry of the unkeyed SHA-256 chain
    channel: str | None = Field(default=None, max_length=10)  # web (browser) or cli (command line)
    client_addr: str | None = Field(default=None, max_length=45)  # the browser's address (or ssh client's)
    # the chain it is sealed into: its county's id, or 0 (no county: the operator, a city's or province's officer)
    chain: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    mac: str | None = Field(default=None, max_length=64)  # the writer's HMAC of the content; None before 0021
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # place in its chain
    sealed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))

    __table_args__ = (
        UniqueConstraint("chain", "seq", name="uq_audit_log_chain_seq"),
        Index(  # the sealer's queue
            "ix_audit_log_unsealed",
            "id",
            sqlite_where=text("hash IS NULL"),
            postgresql_where=text("hash IS NULL"),
        ),
    )


class AuditChain(SQLModel, table=True):
    """Each audit chain's head (chain 0: the deployment's own; else a county's), written by the sealer only."""

    __tablename__ = "audit_chain"

    chain: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)


class AppSetting(SQLModel, table=True):
    """Settings the administrator changes in the app (key → text), e.g. whether this is a demo database."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=2000)


class CalendarDay(SQLModel, table=True):
    """节假日安排: the administrator's override of one day (a holiday, or an adjusted working weekend day)."""

    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    is_workday: bool
    name: str = Field(default="", max_length=30)


class StatusChange(SQLModel, table=True):
    """学籍异动: a request to change a student's status, submitted, then approved or rejected by the deadline."""

    __tablename__ = "status_change"
    __table_args__ = (Index("ix_status_change_state_due_date", "state", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    kind: str = Field(max_length=20)  # rules.status_changes.ChangeKind
    state: str = Field(default="submitted", max_length=20)  # rules.status_changes.ChangeState
    school_id: int = Field(foreign_key="school.id", index=True)  # the student's school when submitted
    to_school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    to_class_id: int | None = Field(default=None, foreign_key="school_class.id")
    destination: str | None = Field(default=None, max_length=100)  # where a child transferring out goes
    effective_date: date
    reason: str = Field(max_length=500)
    documents: str = Field(default="", max_length=200)  # documents noted, comma-separated keys
    override_reason: str | None = Field(default=None, max_length=200)  # a transfer in grade 6 or 9
    source_county: str | None = Field(default=None, max_length=50)  # 外县转入 / 升学: the county it came from
    source_school: str | None = Field(default=None, max_length=100)  # ... and the school (outside the system)
    placement_reason: str | None = Field(
        default=None, max_length=200
    )  # a lower grade (a repeat), proof pending
    outside_window: bool = False  # a transfer after the term's transfer window: decided by the county
    suspension_until: date | None = None
    submitted_by: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_at: datetime = _timestamp()
    due_date: date
    due_guessed: bool = False  # the deadline crossed a year with no holiday data
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    decision_reason: str | None = Field(default=None, max_length=500)


class RecordMove(SQLModel, table=True):
    """One record a merge moved (学校撤并, 村/社区撤并, 乡镇撤并): what moved, from where to where, on which day,
    by whom and why. The moved record holds only where it is now; this row keeps where it was, so the record
    page can say "2027-08-31 因某校撤并,学籍由该校转入某校" and reports for an earlier day count it where it was.
    Exactly one subject: a student, a class, a case, a school or a village (services.setup)."""

    __tablename__ = "record_move"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN student_id IS NULL THEN 0 ELSE 1 END + CASE WHEN class_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN case_id IS NULL THEN 0 ELSE 1 END + CASE WHEN school_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN village_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # services.setup.moves.MoveKind
    student_id: int | None = Field(default=None, foreign_key="student.id", index=True)
    class_id: int | None = Field(default=None, foreign_key="school_class.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="child_case.id", index=True)
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)  # a school moved
    village_id: int | None = Field(default=None, foreign_key="village.id")  # a village moved
    from_school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    to_school_id: int | None = Field(default=None, foreign_key="school.id")
    from_class_id: int | None = Field(default=None, foreign_key="school_class.id")
    to_class_id: int | None = Field(default=None, foreign_key="school_class.id")
    from_village_id: int | None = Field(default=None, foreign_key="village.id")
    to_village_id: int | None = Field(default=None, foreign_key="village.id")
    from_township_id: int | None = Field(default=None, foreign_key="township.id")
    to_township_id: int | None = Field(default=None, foreign_key="township.id")
    moved_on: date
    by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    reason: str = Field(max_length=200)
    recorded_at: datetime = _timestamp()


class Rollover(SQLModel, table=True):
    """学年升级: the start of a school year for the schools in the runner's scope. Grades follow from class
    codes and the year; what the rollover changes is the graduation of the last grades, kept here so that
    it can be undone."""

    id: int | None = Field(default=None, primary_key=True)
    school_year: int  # the school year that starts (its start year)
    county_id: int | None = Field(default=None, foreign_key="county.id")
    graduated: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # student ids
    school_year_created: bool = False  # the run added the school year and its terms
    early_reason: str | None = Field(default=None, max_length=200)  # run before the year's last term ended
    run_by: int | None = Field(default=None, foreign_key="app_user.id")
    run_at: datetime = _timestamp()
    undone_by: int | None = Field(default=None, foreign_key="app_user.id")
    undone_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class TermReport(SQLModel, table=True):
    """开学报到: a student reported at school for a term, or is away on recorded leave (请假, with the reason).
    A child with neither a week after term start, and no transfer or suspension under way, is a lost student."""

    __tablename__ = "term_report"
    __table_args__ = (UniqueConstraint("term_id", "student_id"),)

    id: int | None = Field(default=None, primary_key=True)
    term_id: int = Field(foreign_key="term.id")
    student_id: int = Field(foreign_key="student.id", index=True)
    reported_on: date
    leave_reason: str | None = Field(default=None, max_length=200)
    leave_from: date | None = None  # 请假 with dates: over 3 months (or 10 weeks of a term) becomes 休学
    leave_until: date | None = None
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = _timestamp()


class RegistryCheck(SQLModel, table=True):
    """人籍一致核查: one class's registry compared, on a day, with the children actually present; the counts and
    the findings (ID numbers masked) are kept as the record that the check was done."""

    __tablename__ = "registry_check"
    __table_args__ = (Index("ix_registry_check_term_id_school_id", "term_id", "school_id"),)

    id: int | None = Field(default=None, primary_key=True)
    term_id: int = Field(foreign_key="term.id")
    school_id: int = Field(foreign_key="school.id")
    class_id: int = Field(foreign_key="school_class.id", index=True)
    checked_on: date
    method: str = Field(max_length=10)  # upload (点名册上传) / tick (逐人勾选)
    on_registry: int
    present: int
    missing: int
    extra: int
    mismatched: int
    findings: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = _timestamp()


class Child(SQLModel, table=True):
    """A school-age child followed by a case, enrolled or not. A child found out of school may have no
    registry record: what is known is kept here, and the record is linked when it exists (then the
    registry's name, ID number and school are the ones shown)."""

    id: int | None = Field(default=None, primary_key=True)
    student_id: int | None = Field(default=None, foreign_key="student.id", unique=True)
    name: str = Field(max_length=50)
    sex: str | None = Field(default=None, max_length=1)
    birth_date: date | None = None
    id_number: str | None = Field(default=None, max_length=18, index=True)
    township_id: int = Field(foreign_key="township.id", index=True)
    village_id: int | None = Field(default=None, foreign_key="village.id")
    school_id: int | None = Field(
        default=None, foreign_key="school.id", index=True
    )  # unregistered: who follows
    address: str | None = Field(default=None, max_length=200)
    guardian_name: str | None = Field(default=None, max_length=50)
    guardian_phone: str | None = Field(default=None, max_length=20)
    created_at: datetime = _timestamp()


class Case(SQLModel, table=True):
    """个案: one category of concern for one child, with its risk, its two responsible people (双线包保) and its
    status, until it is closed (销号) with a reason. Never two open cases of one category for one child."""

    __tablename__ = "child_case"
    __table_args__ = (
        Index(
            "uq_child_case_open_category",
            "child_id",
            "category",
            unique=True,
            sqlite_where=text("status <> 'closed'"),
            postgresql_where=text("status <> 'closed'"),
        ),
        Index("ix_child_case_category_status", "category", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    category: str = Field(max_length=30)  # rules.cases.CaseCategory
    disability_type: str | None = Field(default=None, max_length=20)
    risk_level: str = Field(max_length=10)  # rules.cases.RiskLevel
    risk_reason: str = Field(default="", max_length=200)
    status: str = Field(default="open", max_length=20)  # rules.cases.CaseStatus
    source: str = Field(max_length=20)  # rules.cases.CaseSource
    opened_on: date
    opened_by: int | None = Field(default=None, foreign_key="app_user.id")
    education_user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    government_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    government_name: str | None = Field(default=None, max_length=50)  # a village cadre without an account
    government_phone: str | None = Field(default=None, max_length=20)
    closed_on: date | None = None
    close_reason: str | None = Field(default=None, max_length=30)  # rules.cases.CloseReason
    close_evidence: str | None = Field(default=None, max_length=300)
    receiving_school: str | None = Field(default=None, max_length=100)
    closed_by: int | None = Field(default=None, foreign_key="app_user.id")


class CaseEvent(SQLModel, table=True):
    """What happened to a case (opened, status, risk, responsibility, closed, reopened), for its timeline."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="child_case.id", index=True)
    at: datetime = _timestamp()
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    kind: str = Field(max_length=20)
    detail: str = Field(max_length=500)


class HomeVisit(SQLModel, table=True):
    """家访 or 劝返: one contact with a child's family, with what was found and what comes next."""

    __tablename__ = "home_visit"
    # with the kind (PostgreSQL): a county's visits by month and kind are counted from the index (migration 0022)
    __table_args__ = (
        Index("ix_home_visit_child_id_visit_date", "child_id", "visit_date", postgresql_include=["kind"]),
    )

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id")
    visit_date: date
    kind: str = Field(max_length=20)  # rules.visits.VisitKind
    method: str = Field(max_length=20)  # rules.visits.VisitMethod
    visitors: str = Field(max_length=500)
    met_with: str = Field(default="", max_length=500)
    child_situation: str = Field(max_length=500)
    family_situation: str = Field(default="", max_length=500)
    risk_after: str = Field(max_length=10)  # rules.cases.RiskLevel
    next_step: str = Field(default="", max_length=500)
    next_visit_on: date | None = None
    outcome: str | None = Field(
        default=None, max_length=20
    )  # rules.visits.ReturnOutcome, for a return attempt
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    recorded_at: datetime = _timestamp()


class Sweep(SQLModel, table=True):
    """拉网式排查: one township's household sweep in one term, split into villages. Ages are counted on the
    reference date; villages not submitted by the due date are late."""

    __table_args__ = (UniqueConstraint("term_id", "township_id"),)

    id: int | None = Field(default=None, primary_key=True)
    term_id: int = Field(foreign_key="term.id")
    township_id: int = Field(foreign_key="township.id", index=True)
    reference_date: date
    due_date: date
    planned_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _timestamp()


class SweepVillage(SQLModel, table=True):
    """One village of a sweep: its team, its government-line contact, its household count, and where its
    sweep stands (rules.sweeps.VillageStatus)."""

    __tablename__ = "sweep_village"
    __table_args__ = (UniqueConstraint("sweep_id", "village_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sweep_id: int = Field(foreign_key="sweep.id", index=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    status: str = Field(default="planned", max_length=20)  # rules.sweeps.VillageStatus
    household_count: int | None = None  # households in the village (户籍户数), the coverage denominator
    contact_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    contact_name: str | None = Field(default=None, max_length=50)  # a village cadre without an account
    contact_phone: str | None = Field(default=None, max_length=20)
    return_reason: str | None = Field(default=None, max_length=500)
    submitted_by: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reviewed_by: int | None = Field(default=None, foreign_key="app_user.id")
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reconciled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class SweepTeamMember(SQLModel, table=True):
    """A teacher account on a village's sweep team."""

    __tablename__ = "sweep_team_member"
    __table_args__ = (UniqueConstraint("sweep_village_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sweep_village_id: int = Field(foreign_key="sweep_village.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)


class Household(SQLModel, table=True):
    """户: a household visited by a village's sweep, known by its group (组) and head (户主)."""

    __table_args__ = (UniqueConstraint("sweep_village_id", "group_name", "head_name"),)

    id: int | None = Field(default=None, primary_key=True)
    sweep_village_id: int = Field(foreign_key="sweep_village.id", index=True)
    group_name: str = Field(default="", max_length=200)
    head_name: str = Field(max_length=50)
    address: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    school_age_count: int | None = None
    note: str | None = Field(default=None, max_length=200)
    visited_on: date
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    recorded_at: datetime = _timestamp()


class SweepChild(SQLModel, table=True):
    """A child aged 6–15 found by the sweep in a household, where they were found (rules.sweeps.FoundStatus),
    and what reconciliation matched them to: a registry record and, for a case, a Child."""

    __tablename__ = "sweep_child"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    sweep_village_id: int = Field(foreign_key="sweep_village.id", index=True)
    name: str = Field(max_length=50)
    sex: str | None = Field(default=None, max_length=1)
    birth_date: date
    id_number: str | None = Field(default=None, max_length=18, index=True)
    status: str = Field(max_length=20)  # rules.sweeps.FoundStatus
    school_id: int | None = Field(default=None, foreign_key="school.id")
    place: str | None = Field(default=None, max_length=200)
    disability_type: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=200)
    match_kind: str | None = Field(default=None, max_length=10)  # rules.sweeps.MatchKind, after reconciling
    student_id: int | None = Field(default=None, foreign_key="student.id")
    child_id: int | None = Field(default=None, foreign_key="child.id")
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = _timestamp()


class SweepFinding(SQLModel, table=True):
    """One line of a reconciliation list (rules.sweeps.Finding) for a sweep child, with its reason and the
    school concerned (the registry's, else the one the child was found at), replaced on every reconciliation."""

    __tablename__ = "sweep_finding"
    __table_args__ = (Index("ix_sweep_finding_village_kind", "sweep_village_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    sweep_child_id: int = Field(foreign_key="sweep_child.id", index=True)
    sweep_village_id: int = Field(foreign_key="sweep_village.id")
    kind: str = Field(max_length=30)
    reason: str = Field(max_length=300)
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)


class HomeAssessment(SQLModel, table=True):
    """评估: a child's assessment for schooling by the committee — disability type and degree, ability to receive
    education, and the conclusion (rules.home_teaching.Conclusion), with the next review."""

    __tablename__ = "home_assessment"

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    assessed_on: date
    members: str = Field(max_length=300)  # who assessed (the committee), names separated by 、
    disability_type: str = Field(max_length=20)
    degree: str = Field(max_length=10)  # rules.home_teaching.Degree
    ability: str = Field(max_length=500)
    conclusion: str = Field(max_length=20)  # rules.home_teaching.Conclusion
    next_review_on: date | None = None
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = _timestamp()


class HomePlan(SQLModel, table=True):
    """一人一案: one child's home-teaching plan for one term — goals by area, methods, planned visit dates, the
    school that teaches (and holds the record), the day home teaching started; its teachers in home_plan_teacher."""

    __tablename__ = "home_plan"
    __table_args__ = (UniqueConstraint("child_id", "term_id"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    term_id: int = Field(foreign_key="term.id", index=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    started_on: date
    goals: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # area → goal
    methods: str = Field(default="", max_length=1000)
    planned_dates: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ISO dates
    copied_from_id: int | None = Field(default=None, foreign_key="home_plan.id")
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class HomePlanTeacher(SQLModel, table=True):
    """A teacher account assigned to a home-teaching plan."""

    __tablename__ = "home_plan_teacher"
    __table_args__ = (UniqueConstraint("plan_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="home_plan.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)


class HomeTeachingVisit(SQLModel, table=True):
    """送教上门 one visit: day, teachers, class hours (课时), what was taught, the child's response, progress by
    goal area, whether the guardian signed, the next visit."""

    __tablename__ = "home_teaching_visit"
    __table_args__ = (Index("ix_home_teaching_visit_child_day", "child_id", "visit_date"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="home_plan.id", index=True)
    child_id: int = Field(foreign_key="child.id")
    visit_date: date
    teachers: str = Field(max_length=200)
    class_hours: float
    content: str = Field(max_length=1000)
    response: str = Field(default="", max_length=500)
    progress: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # area → progress
    guardian_signed: bool = False
    next_visit_on: date | None = None
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    recorded_at: datetime = _timestamp()


# ---- 四查三比对: other departments' lists, matching, the comparison and its verification tasks ----------------


class DeptList(SQLModel, table=True):
    """One version of a department's list (rules.dept_lists.ListKind) for a county, dated as the department dated
    it. The latest version of a kind is the one in effect; earlier versions are kept for their differences."""

    __tablename__ = "dept_list"
    __table_args__ = (UniqueConstraint("county_id", "kind", "version", name="uq_dept_list_county_id"),)

    id: int | None = Field(default=None, primary_key=True)
    county_id: int = Field(foreign_key="county.id", index=True)
    kind: str = Field(max_length=20)  # rules.dept_lists.ListKind
    version: int
    list_date: date  # the date the department's list is as of
    file_name: str = Field(default="", max_length=200)
    row_count: int = 0
    imported_by: int | None = Field(default=None, foreign_key="app_user.id")
    imported_at: datetime = _timestamp()


class DeptPerson(SQLModel, table=True):
    """One person on one version of a list. person_key (rules.dept_lists.person_key) follows them across
    versions. category: 民政's 类别, 残联's 残疾类别, 乡村振兴's 户类型; detail: the list's other columns."""

    __tablename__ = "dept_person"
    __table_args__ = (
        Index("ix_dept_person_list_id_person_key", "list_id", "person_key"),
        Index("ix_dept_person_id_number", "id_number"),
        Index("ix_dept_person_birth_date", "birth_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="dept_list.id")
    row_number: int
    person_key: str = Field(max_length=80)
    name: str = Field(max_length=50)
    sex: str | None = Field(default=None, max_length=1)
    birth_date: date | None = None
    id_number: str | None = Field(default=None, max_length=18)
    village_id: int | None = Field(default=None, foreign_key="village.id", index=True)
    address: str | None = Field(default=None, max_length=200)
    guardian_name: str | None = Field(default=None, max_length=50)
    guardian_phone: str | None = Field(default=None, max_length=20)
    category: str | None = Field(default=None, max_length=30)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MatchCandidate(SQLModel, table=True):
    """A registry record that may be the same child as a person on a list (name and birth date alike, or an ID
    number one digit off): never a match until someone confirms it (match_decision)."""

    __tablename__ = "match_candidate"
    __table_args__ = (UniqueConstraint("person_id", "student_id", name="uq_match_candidate_person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="dept_person.id", index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    score: float
    reason: str = Field(max_length=200)


class MatchDecision(SQLModel, table=True):
    """A person's candidate confirmed (the same child) or rejected, remembered by person_key so that the next
    version of the list does not ask again."""

    __tablename__ = "match_decision"
    __table_args__ = (
        UniqueConstraint("county_id", "person_key", "student_id", name="uq_match_decision_county_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    county_id: int = Field(foreign_key="county.id")
    person_key: str = Field(max_length=80, index=True)
    student_id: int = Field(foreign_key="student.id", index=True)
    confirmed: bool
    note: str = Field(default="", max_length=200)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime = _timestamp()


class ComparisonRun(SQLModel, table=True):
    """One run of a county's comparison: when, by whom, on which list versions, with what counts."""

    __tablename__ = "comparison_run"

    id: int | None = Field(default=None, primary_key=True)
    county_id: int = Field(foreign_key="county.id", index=True)
    reference_date: date  # ages counted on this day
    lists: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # kind → list id
    counts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ran_by: int | None = Field(default=None, foreign_key="app_user.id")
    ran_at: datetime = _timestamp()


class SchoolAgeChild(SQLModel, table=True):
    """适龄儿童台账: one row per school-age child known from any source (户籍, 学籍, 排查, the departments' lists),
    with where they are now (standing) and the comparison's outcome; rebuilt by every comparison run."""

    __tablename__ = "school_age_child"
    __table_args__ = (
        Index("ix_school_age_child_place", "county_id", "township_id", "village_id"),
        Index("ix_school_age_child_outcome", "county_id", "outcome"),
        Index("ix_school_age_child_id_number", "county_id", "id_number"),
        Index("ix_school_age_child_person_key", "county_id", "person_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    county_id: int = Field(foreign_key="county.id")
    township_id: int | None = Field(default=None, foreign_key="township.id")
    village_id: int | None = Field(default=None, foreign_key="village.id")
    person_key: str = Field(max_length=80)
    name: str = Field(max_length=50)
    sex: str | None = Field(default=None, max_length=1)
    birth_date: date | None = None
    id_number: str | None = Field(default=None, max_length=18)
    student_id: int | None = Field(default=None, foreign_key="student.id", index=True)
    school_id: int | None = Field(default=None, foreign_key="school.id")
    sources: str = Field(default="", max_length=100)  # comma-joined: residents, registry, sweep, welfare, …
    standing: str = Field(max_length=30)  # rules.comparisons: where the child is now
    outcome: str | None = Field(default=None, max_length=30)  # rules.comparisons: 户籍 vs 学籍
    priority: str | None = Field(default=None, max_length=20)  # 乡村振兴's household type, when on that list
    groups: str = Field(default="", max_length=100)  # special groups from 民政/残联, comma-joined


class VerificationTask(SQLModel, table=True):
    """A child to verify: of age with their household here and no registry record (kind verify, for the
    township), or disabled, of age, neither in school nor taught at home (kind assessment, for 送教上门). The
    official records what was found (outcome); out of school opens a suspected-dropout case."""

    __tablename__ = "verification_task"
    __table_args__ = (
        Index(
            "uq_verification_task_open",
            "county_id",
            "kind",
            "person_key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_verification_task_place", "township_id", "village_id", "status"),
        Index("ix_verification_task_person", "county_id", "person_key", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    county_id: int = Field(foreign_key="county.id")
    kind: str = Field(max_length=20)  # rules.verification.TaskKind
    person_key: str = Field(max_length=80)
    person_id: int | None = Field(default=None, foreign_key="dept_person.id")  # the latest list row
    source: str = Field(max_length=20)  # rules.dept_lists.ListKind the child came from
    name: str = Field(max_length=50)
    sex: str | None = Field(default=None, max_length=1)
    birth_date: date | None = None
    id_number: str | None = Field(default=None, max_length=18)
    township_id: int = Field(foreign_key="township.id")
    village_id: int | None = Field(default=None, foreign_key="village.id")
    address: str | None = Field(default=None, max_length=200)
    guardian_name: str | None = Field(default=None, max_length=50)
    guardian_phone: str | None = Field(default=None, max_length=20)
    opened_on: date
    due_on: date
    status: str = Field(default="open", max_length=20)  # rules.verification.TaskStatus
    outcome: str | None = Field(default=None, max_length=30)  # rules.verification.Outcome
    outcome_detail: str | None = Field(default=None, max_length=300)  # the school and proof, where they went
    closed_reason: str | None = Field(default=None, max_length=100)  # closed by a comparison: why
    child_id: int | None = Field(default=None, foreign_key="child.id")
    case_id: int | None = Field(default=None, foreign_key="child_case.id")
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class ChildGroup(SQLModel, table=True):
    """A special group a child belongs to by a department's list (孤儿, 困境儿童, 残疾): the category, the list it
    came from and what the list said; replaced with each new version of that list."""

    __tablename__ = "child_group"
    __table_args__ = (UniqueConstraint("child_id", "category", "source", name="uq_child_group_child_id"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    category: str = Field(max_length=30)  # rules.cases.CaseCategory
    source: str = Field(max_length=20)  # rules.dept_lists.ListKind
    list_id: int = Field(foreign_key="dept_list.id")
    detail: str = Field(default="", max_length=100)  # the list's own words: 事实无人抚养儿童, 肢体二级


class LadderStep(SQLModel, table=True):
    """劝返复学: one step of an out-of-school case's return ladder (rules.ladder.Step) with its owner's deadline:
    the school and family (至少 N 次劝返), the township's written order (served on, to whom, the time limit given),
    the county's measures (administrative, or a referral to the court / judicial support), the return (linked to
    the registry's status change), each follow-up after it, and the 销号 request with its decision. A step ends
    done, skipped (with the reason) or escalated (its deadline passed: the next owner's step opens). One open
    step per case at a time."""

    __tablename__ = "ladder_step"
    __table_args__ = (
        Index(
            "uq_ladder_step_open",
            "case_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
        Index("ix_ladder_step_state_due_on", "state", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="child_case.id", index=True)
    step: str = Field(max_length=20)  # rules.ladder.Step
    seq: int = (
        1  # the follow-up's number (1st, 2nd, …); for the other steps, the round (a child who left again)
    )
    opened_on: date
    due_on: date
    state: str = Field(default="open", max_length=20)  # rules.ladder.StepState
    ended_on: date | None = None
    ended_by: int | None = Field(default=None, foreign_key="app_user.id")
    reason: str | None = Field(default=None, max_length=300)  # why skipped, escalated or a 销号 rejected
    served_on: date | None = None  # the township's order: the day it was served
    served_to: str | None = Field(default=None, max_length=50)  # to whom (the guardian, and the relation)
    comply_by: date | None = None  # the time limit the order gave
    measure: str | None = Field(default=None, max_length=20)  # the county: rules.ladder.CountyMeasure
    detail: str | None = Field(default=None, max_length=500)  # what was done or found
    in_school: bool | None = None  # a follow-up: the child was found in school
    status_change_id: int | None = Field(
        default=None, foreign_key="status_change.id"
    )  # the return: 复学 / 劝返复学
    close_reason: str | None = Field(default=None, max_length=30)  # a 销号 request: rules.cases.CloseReason
    requested_by: int | None = Field(default=None, foreign_key="app_user.id")  # a 销号 request: who asked


class Notice(SQLModel, table=True):
    """A document generated for a case (rules.notices.NoticeKind): 限期入学/复学通知书, 劝返复学告知书 or the 个案档案,
    with its 文号 (the township's sequence for the year; a case file has none), the template it came from, the
    file exactly as generated, who generated it and when."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("township_id", "year", "seq", name="uq_notice_township_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="child_case.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="ladder_step.id")
    kind: str = Field(max_length=20)  # rules.notices.NoticeKind
    township_id: int = Field(foreign_key="township.id")
    year: int
    seq: int | None = None
    number: str | None = Field(default=None, max_length=60)  # the 文号 as printed
    issued_on: date
    issued_by: int | None = Field(default=None, foreign_key="app_user.id")
    template: str = Field(max_length=200)  # the template file's name (built-in or the county's own)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    issued_at: datetime = _timestamp()


class MonthlyReport(SQLModel, table=True):
    """四个一 月报: one school's report for one month as submitted, a frozen copy of its figures; a correction is a
    new version with its reason, never an edit."""

    __tablename__ = "monthly_report"
    __table_args__ = (UniqueConstraint("school_id", "month", "version", name="uq_monthly_report_school_id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id")
    month: str = Field(max_length=7)  # YYYY-MM
    version: int = 1
    figures: dict = Field(sa_column=Column(JSON, nullable=False))  # rules.monthly_report: figure key → value
    note: str = Field(default="", max_length=300)  # the school's remarks
    correction_reason: str | None = Field(default=None, max_length=300)  # version 2 and later: why
    submitted_by: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_at: datetime = _timestamp()


class RobotHook(SQLModel, table=True):
    """A group robot (企业微信 or 钉钉) that receives one school's or one township's digest of waiting work; the
    webhook address and DingTalk's signing secret are kept here and never shown whole."""

    __tablename__ = "robot_hook"
    __table_args__ = (
        CheckConstraint("(school_id IS NULL) <> (township_id IS NULL)", name="one_scope"),
        Index("ix_robot_hook_school_id_township_id", "school_id", "township_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int | None = Field(default=None, foreign_key="school.id")
    township_id: int | None = Field(default=None, foreign_key="township.id")
    platform: str = Field(max_length=20)  # rules.notify.Platform: wecom, dingtalk
    webhook: str = Field(max_length=500)
    secret: str | None = Field(default=None, max_length=200)  # DingTalk 加签 secret (SEC…)
    enabled: bool = True
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _timestamp()
    last_sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_result: str | None = Field(default=None, max_length=200)  # 成功, or the failure in words


class JobLease(SQLModel, table=True):
    """Who runs a scheduled job (xueji notify) now, until when: one sender even with several replicas."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=100)
    until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CountyFigure(SQLModel, table=True):
    """One figure of one county for the city's and province's pages (services.overview.summaries): refreshed on
    a schedule from the county's own rows, so that a city or province page reads a few rows per county."""

    __tablename__ = "county_figure"

    county_id: int = Field(foreign_key="county.id", primary_key=True)
    figure: str = Field(max_length=40, primary_key=True)  # services.overview.summaries' figure names
    part: str = Field(default="", max_length=40, primary_key=True)  # a breakdown (grade, kind), "" for none
    value: int = 0
    refreshed_at: datetime = _timestamp()
