"""Settings read once from the environment, with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xueji.excel.limits import UploadPolicy
from xueji.rules.home_teaching_policy import HomeTeachingPolicy, parse_every, parse_share, parse_skip_months
from xueji.rules.ladder import DayKind, LadderPolicy, parse_follow_ups
from xueji.rules.registration import RegistrationDeadlines, parse_month_day
from xueji.rules.status_changes import Document
from xueji.rules.suspensions import SuspensionPolicy
from xueji.rules.transfers import WindowPolicy, parse_proofs
from xueji.rules.visits import VisitPolicy, parse_visit_days
from xueji.rules.vocab import Role

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
NOTIFY_PER_MINUTE_MAX = 20  # WeCom's and DingTalk's group robots take at most 20 messages a minute


class SettingsError(ValueError):
    """A setting in the environment has a value the app refuses to run with."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    today: date | None
    time_zone: (
        str  # XUEJI_TIME_ZONE: the county's clock, an IANA zone (Asia/Shanghai); times on screen read in it
    )
    class_size_limit: int
    class_size_spread: int  # classes of one grade differing by more than this are flagged as unbalanced
    status_change_working_days: int
    transfer_lookup_minutes: int  # a transfer in must be submitted this soon after the ID-number lookup
    transfer_proofs: frozenset[Document]  # the documents every transfer in must carry (rules.transfers)
    transfer_window: WindowPolicy  # the term's first and last days for transfers; 插班生 class limit
    school_year_start_month: int
    registration_deadlines: RegistrationDeadlines  # grade 1 and grade 7 intakes complete by (month, day)
    lost_student_days: int  # days after term start after which a child not reported is a lost student (流生)
    registry_checks_per_term: int  # 人籍一致 checks each class needs per term
    suspensions: SuspensionPolicy  # 续休 window, leave that becomes a suspension (rules.suspensions)
    visit_policy: VisitPolicy  # how often each category of open case must be visited
    sweep_age_date: tuple[int, int]  # (month, day) of the school year's start year on which sweep ages count
    sweep_days: int  # days after term start by which each village's sweep is due
    school_age: tuple[int, int]  # XUEJI_SCHOOL_AGE: youngest and oldest full years of compulsory-school age
    verify_days: (
        int  # XUEJI_VERIFY_DAYS: days a township has to verify a child of age with no registry record
    )
    ladder: (
        LadderPolicy  # 劝返复学: attempts, each step's days, follow-ups, who approves 销号 (XUEJI_LADDER_*)
    )
    report_due_day: (
        int  # XUEJI_REPORT_DUE_DAY: a school's 月报 for a month is due by this day of the next month
    )
    summary_minutes: (
        int  # XUEJI_SUMMARY_MINUTES: how often the county figures of the city/province pages refresh
    )
    notice_templates: Path | None  # XUEJI_NOTICE_TEMPLATES: the county's own .docx templates, if any
    notice_number: str  # XUEJI_NOTICE_NUMBER: the 文号's pattern ({township} {year} {seq})
    notify_per_minute: int  # XUEJI_NOTIFY_PER_MINUTE: messages a minute to one robot (the robots' 20 at most)
    notify_retries: int  # XUEJI_NOTIFY_RETRIES: attempts after the first before a sending is reported failed
    app_url: str  # XUEJI_APP_URL: the address users open, for the links in the digests ("" = none)
    # XUEJI_NOTIFY_ALLOW_HOSTS: hosts a robot webhook may name besides WeCom's and DingTalk's (a relay inside the
    # network, a test's receiver); http is allowed only to these
    notify_allow_hosts: tuple[str, ...]
    home_teaching: HomeTeachingPolicy  # 送教上门: visits and class hours a term, how often, stubs, months off
    class_hour_minutes: tuple[int, int]  # the length of a class hour (课时) in primary and in junior school
    uploads: UploadPolicy  # what an uploaded workbook may be (XUEJI_IMPORT_*)
    sqlite_busy_timeout_ms: int
    sqlite_synchronous: str  # FULL (the default): a committed write survives a power cut; NORMAL relaxes it
    read_database_url: str | None  # a streaming-replication standby for the read-heavy pages, if any
    read_wait_ms: int  # how long a page waits for the standby to replay the user's own last write
    audit_seal_seconds: int  # XUEJI_AUDIT_SEAL_SECONDS: a PostgreSQL server's sealer's interval (0: none)
    audit_seal_max_age: int  # XUEJI_AUDIT_SEAL_MAX_AGE: seconds an entry may wait unsealed (verify)
    audit_key_file: Path  # where the audit chain's key lives (XUEJI_AUDIT_KEY_FILE), outside the database
    audit_anchor_file: Path  # the append-only file of the audit log's anchors (XUEJI_AUDIT_ANCHOR_FILE)
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...]  # peers whose X-Forwarded-For is believed
    audit_key: str | None = field(repr=False)  # XUEJI_AUDIT_KEY: the key itself, in hex (never printed)
    max_failed_logins: int
    lockout_minutes: int
    idle_timeout_minutes: int
    session_limit_hours: int
    cookie_secure: str  # auto (HTTPS or this machine), always, never: the sign-in cookie's Secure flag
    one_time_password_hours: int  # a one-time password (new account, reset) signs in only this long
    admin_password: str | None


def _int(
    env: dict[str, str], name: str, default: int, *, minimum: int = 1, maximum: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"环境变量 {name} 应为整数,实际为 {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"环境变量 {name} 不能小于 {minimum},实际为 {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"环境变量 {name} 不能大于 {maximum},实际为 {value}")
    return value


def _date(env: dict[str, str], name: str) -> date | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise SettingsError(f"环境变量 {name} 应为 YYYY-MM-DD 日期,实际为 {raw!r}") from exc


def _time_zone(env: dict[str, str]) -> str:
    raw = (env.get("XUEJI_TIME_ZONE") or "Asia/Shanghai").strip()
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(
            f"环境变量 XUEJI_TIME_ZONE 应为时区数据库中的时区名(如 Asia/Shanghai、Asia/Urumqi),实际为 {raw!r}"
        ) from exc
    return raw


def _month_day(env: dict[str, str], name: str, default: tuple[int, int]) -> tuple[int, int]:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return parse_month_day(raw)
    except ValueError as exc:
        raise SettingsError(f"环境变量 {name} 应为 MM-DD 日期(如 09-30),实际为 {raw!r}") from exc


def _visit_policy(env: dict[str, str]) -> VisitPolicy:
    try:
        days = parse_visit_days(env.get("XUEJI_VISIT_DAYS", ""))
    except ValueError as exc:
        raise SettingsError(f"环境变量 XUEJI_VISIT_DAYS 有误:{exc}") from exc
    return VisitPolicy(days=days, warn_days=_int(env, "XUEJI_VISIT_WARN_DAYS", 7, minimum=0))


def _sweep_age_date(env: dict[str, str]) -> tuple[int, int]:
    month_day = _month_day(env, "XUEJI_SWEEP_AGE_DATE", (8, 31))
    if month_day == (2, 29):
        raise SettingsError("环境变量 XUEJI_SWEEP_AGE_DATE 不能是 02-29(不是每年都有)")
    return month_day


def _school_age(env: dict[str, str]) -> tuple[int, int]:
    raw = env.get("XUEJI_SCHOOL_AGE") or "6-15"
    try:
        low, high = (int(part) for part in raw.replace("–", "-").split("-"))
    except ValueError as exc:
        raise SettingsError(f"环境变量 XUEJI_SCHOOL_AGE 应为“最小-最大”周岁(如 6-15),实际为 {raw!r}") from exc
    if not 3 <= low <= high <= 18:
        raise SettingsError(f"环境变量 XUEJI_SCHOOL_AGE 应在 3 到 18 周岁之间且最小不大于最大,实际为 {raw!r}")
    return low, high


_T = TypeVar("_T")


def _parsed(env: dict[str, str], name: str, parse: Callable[[str], _T], default: str) -> _T:
    try:
        return parse(env.get(name) or default)
    except ValueError as exc:
        raise SettingsError(f"环境变量 {name} 有误:{exc}") from exc


def _home_teaching(env: dict[str, str]) -> HomeTeachingPolicy:
    """Source 002: at least 5 visits a term, at least 1 every month, each at least 2 class hours; class hours a
    term are not counted unless set (e.g. 108 for 216 a year); a stub month counts from half its days."""
    return HomeTeachingPolicy(
        visits_per_term=_int(env, "XUEJI_HOME_TEACHING_VISITS", 5),
        min_class_hours=_int(env, "XUEJI_HOME_TEACHING_MIN_HOURS", 2),
        skip_months=_parsed(env, "XUEJI_HOME_TEACHING_SKIP_MONTHS", parse_skip_months, ""),
        every_weeks=_parsed(env, "XUEJI_HOME_TEACHING_EVERY", parse_every, "month"),
        hours_per_term=_int(env, "XUEJI_HOME_TEACHING_HOURS_PER_TERM", 0, minimum=0),
        partial_share=_parsed(env, "XUEJI_HOME_TEACHING_PARTIAL_MONTH", parse_share, "0.5"),
        most_per_week=_int(env, "XUEJI_HOME_TEACHING_MOST_PER_WEEK", 1),
    )


def _transfer_proofs(env: dict[str, str]) -> frozenset[Document]:
    try:
        return parse_proofs(env.get("XUEJI_TRANSFER_PROOFS", ""))
    except ValueError as exc:
        raise SettingsError(f"环境变量 XUEJI_TRANSFER_PROOFS 有误:{exc}") from exc


def _uploads(env: dict[str, str]) -> UploadPolicy:
    d = UploadPolicy()
    return UploadPolicy(
        max_file_mb=_int(env, "XUEJI_IMPORT_MAX_FILE_MB", d.max_file_mb),
        max_inflated_mb=_int(env, "XUEJI_IMPORT_MAX_INFLATED_MB", d.max_inflated_mb),
        max_columns=_int(env, "XUEJI_IMPORT_MAX_COLUMNS", d.max_columns),
        rows_registry=_int(env, "XUEJI_IMPORT_MAX_ROWS_REGISTRY", d.rows_registry),
        rows_records=_int(env, "XUEJI_IMPORT_MAX_ROWS_RECORDS", d.rows_records),
        rows_lists=_int(env, "XUEJI_IMPORT_MAX_ROWS_LISTS", d.rows_lists),
        max_sheets=_int(env, "XUEJI_IMPORT_MAX_SHEETS", d.max_sheets),
        max_shared_strings=_int(env, "XUEJI_IMPORT_MAX_SHARED_STRINGS", d.max_shared_strings),
        memory_mb=_int(env, "XUEJI_IMPORT_MEMORY_MB", d.memory_mb, minimum=64),
        seconds=_int(env, "XUEJI_IMPORT_SECONDS", d.seconds),
        parallel=_int(env, "XUEJI_IMPORT_PARALLEL", d.parallel),
    )


def _admin_password(env: dict[str, str]) -> str | None:
    """The first administrator's password, if given; a weak one is refused rather than shipped."""
    from xueji.rules.passwords import password_problems

    raw = env.get("XUEJI_ADMIN_PASSWORD") or None
    if raw is not None and (problems := password_problems(raw)):
        raise SettingsError("XUEJI_ADMIN_PASSWORD 不符合密码规则:" + ";".join(problems))
    return raw


SQLITE_SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")


def _sqlite_synchronous(env: dict[str, str]) -> str:
    raw = (env.get("XUEJI_SQLITE_SYNCHRONOUS") or "FULL").upper()
    if raw not in SQLITE_SYNCHRONOUS:
        raise SettingsError(f"XUEJI_SQLITE_SYNCHRONOUS 应为 {' / '.join(SQLITE_SYNCHRONOUS)},实际为 {raw!r}")
    return raw


def _read_database_url(env: dict[str, str], url: str) -> str | None:
    raw = env.get("XUEJI_READ_DATABASE_URL") or None
    if raw is not None and not (raw.startswith("postgresql") and url.startswith("postgresql")):
        raise SettingsError(
            "XUEJI_READ_DATABASE_URL 只用于 PostgreSQL 的只读备库,主库 XUEJI_DATABASE_URL 也须是 PostgreSQL"
        )
    return raw


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of the choices (the first is the default)."""
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} 应为 {'、'.join(choices)} 之一,实际为 {env.get(name)!r}")
    return value


def _trusted_proxies(env: dict[str, str]) -> tuple[IPv4Network | IPv6Network, ...]:
    raw = env.get("XUEJI_TRUSTED_PROXIES")
    items = (raw if raw is not None else "127.0.0.1, ::1").replace(",", " ").split()
    try:
        return tuple(ip_network(item, strict=False) for item in items)
    except ValueError as exc:
        raise SettingsError(f"XUEJI_TRUSTED_PROXIES 应为逗号分隔的 IP 地址或网段,实际为 {raw!r}") from exc


def _seal_max_age(env: dict[str, str], seal_seconds: int) -> int:
    """Seconds an audit entry may wait for the sealer: at least 10, and more than twice the sealer's interval."""
    age = _int(env, "XUEJI_AUDIT_SEAL_MAX_AGE", 300, minimum=10, maximum=7 * 24 * 3600)
    if age <= 2 * seal_seconds:
        raise SettingsError(
            f"XUEJI_AUDIT_SEAL_MAX_AGE({age} 秒)应大于 XUEJI_AUDIT_SEAL_SECONDS({seal_seconds} 秒)的两倍,"
            "否则封存器按时运行时校验也会失败"
        )
    return age


def _audit_key(env: dict[str, str]) -> str | None:
    raw = (env.get("XUEJI_AUDIT_KEY") or "").strip()
    if not raw:
        return None
    try:
        if len(bytes.fromhex(raw)) >= 32:
            return raw
    except ValueError:
        pass
    raise SettingsError(
        "XUEJI_AUDIT_KEY 应为至少 64 个十六进制字符(32 字节随机数,如 openssl rand -hex 32 的输出)"
    )


def _ladder(env: dict[str, str]) -> LadderPolicy:
    try:
        follow_ups = parse_follow_ups(env.get("XUEJI_LADDER_FOLLOW_UPS") or "7,30,term_end")
    except ValueError as exc:
        raise SettingsError(f"环境变量 XUEJI_LADDER_FOLLOW_UPS 有误:{exc}") from exc
    approvers = {"township": Role.TOWNSHIP_OFFICIAL, "county": Role.COUNTY_OFFICER}
    return LadderPolicy(
        attempts=_int(env, "XUEJI_LADDER_ATTEMPTS", 2),
        school_days=_int(env, "XUEJI_LADDER_SCHOOL_DAYS", 10),
        township_days=_int(env, "XUEJI_LADDER_TOWNSHIP_DAYS", 10),
        order_days=_int(env, "XUEJI_LADDER_ORDER_DAYS", 15),
        county_days=_int(env, "XUEJI_LADDER_COUNTY_DAYS", 20),
        day_kind=DayKind(_choice(env, "XUEJI_LADDER_DAYS", tuple(k.value for k in DayKind))),
        follow_ups=follow_ups,
        closure_approver=approvers[_choice(env, "XUEJI_CLOSURE_APPROVER", tuple(approvers))],
        closure_days=_int(env, "XUEJI_CLOSURE_DAYS", 5),
    )


def _report_due_day(env: dict[str, str]) -> int:
    day = _int(env, "XUEJI_REPORT_DUE_DAY", 5)
    if day > 28:
        raise SettingsError(f"环境变量 XUEJI_REPORT_DUE_DAY 应为 1–28,实际为 {day}")
    return day


def _notice_number(env: dict[str, str]) -> str:
    raw = env.get("XUEJI_NOTICE_NUMBER") or "{township}控辍〔{year}〕{seq}号"
    try:
        raw.format(township="古港镇", year=2026, seq=1)
    # {x}, {0}, {seq:q}, {township.a}, {year[0]}
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        raise SettingsError(
            f"环境变量 XUEJI_NOTICE_NUMBER 只能使用 {{township}}、{{year}}、{{seq}},实际为 {raw!r}"
        ) from exc
    return raw


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_DATA_DIR / 'xueji.db'}"


def settings_from_env(env: dict[str, str]) -> Settings:
    """Build settings from an environment mapping, refusing unsafe values."""
    url = env.get("XUEJI_DATABASE_URL") or default_database_url()
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise SettingsError(f"XUEJI_DATABASE_URL 只支持 sqlite 或 postgresql,实际为 {url!r}")
    month = _int(env, "XUEJI_SCHOOL_YEAR_START_MONTH", 9)
    if month > 12:
        raise SettingsError(f"XUEJI_SCHOOL_YEAR_START_MONTH 应为 1–12,实际为 {month}")
    return Settings(
        database_url=url,
        today=_date(env, "XUEJI_TODAY"),
        time_zone=_time_zone(env),
        class_size_limit=_int(env, "XUEJI_CLASS_SIZE_LIMIT", 55),
        class_size_spread=_int(env, "XUEJI_CLASS_SIZE_SPREAD", 10),
        status_change_working_days=_int(env, "XUEJI_STATUS_CHANGE_WORKING_DAYS", 7),
        transfer_lookup_minutes=_int(env, "XUEJI_TRANSFER_LOOKUP_MINUTES", 30),
        transfer_proofs=_transfer_proofs(env),
        transfer_window=WindowPolicy(
            start_days=_int(env, "XUEJI_TRANSFER_WINDOW_DAYS", 14),
            end_days=_int(env, "XUEJI_TRANSFER_WINDOW_END_DAYS", 14, minimum=0),
            midyear_class_limit=_int(env, "XUEJI_MIDYEAR_CLASS_LIMIT", 55),
        ),
        school_year_start_month=month,
        registration_deadlines=RegistrationDeadlines(
            grade1=_month_day(env, "XUEJI_GRADE1_REGISTRATION_DEADLINE", (9, 30)),
            grade7=_month_day(env, "XUEJI_GRADE7_REGISTRATION_DEADLINE", (10, 31)),
        ),
        lost_student_days=_int(env, "XUEJI_LOST_STUDENT_DAYS", 7),
        registry_checks_per_term=_int(env, "XUEJI_REGISTRY_CHECKS_PER_TERM", 2),
        suspensions=SuspensionPolicy(
            extension_days=_int(env, "XUEJI_SUSPENSION_EXTENSION_DAYS", 15),
            leave_max_months=_int(env, "XUEJI_LEAVE_MAX_MONTHS", 3),
            leave_max_term_weeks=_int(env, "XUEJI_LEAVE_MAX_TERM_WEEKS", 10),
        ),
        visit_policy=_visit_policy(env),
        sweep_age_date=_sweep_age_date(env),
        sweep_days=_int(env, "XUEJI_SWEEP_DAYS", 30),
        school_age=_school_age(env),
        verify_days=_int(env, "XUEJI_VERIFY_DAYS", 30),
        ladder=_ladder(env),
        report_due_day=_report_due_day(env),
        summary_minutes=_int(env, "XUEJI_SUMMARY_MINUTES", 10, maximum=24 * 60),
        notice_templates=Path(env["XUEJI_NOTICE_TEMPLATES"]) if env.get("XUEJI_NOTICE_TEMPLATES") else None,
        notice_number=_notice_number(env),
        notify_per_minute=_int(env, "XUEJI_NOTIFY_PER_MINUTE", 20, maximum=NOTIFY_PER_MINUTE_MAX),
        notify_retries=_int(env, "XUEJI_NOTIFY_RETRIES", 3, minimum=0),
        app_url=(env.get("XUEJI_APP_URL") or "").strip().rstrip("/"),
        notify_allow_hosts=tuple(
            h.strip().lower() for h in (env.get("XUEJI_NOTIFY_ALLOW_HOSTS") or "").split(",") if h.strip()
        ),
        home_teaching=_home_teaching(env),
        class_hour_minutes=(
            _int(env, "XUEJI_CLASS_HOUR_MINUTES_PRIMARY", 40),
            _int(env, "XUEJI_CLASS_HOUR_MINUTES_JUNIOR", 45),
        ),
        uploads=_uploads(env),
        sqlite_busy_timeout_ms=_int(env, "XUEJI_SQLITE_BUSY_TIMEOUT_MS", 5000),
        sqlite_synchronous=_sqlite_synchronous(env),
        read_database_url=_read_database_url(env, url),
        read_wait_ms=_int(env, "XUEJI_READ_WAIT_MS", 2000, minimum=0),
        audit_seal_seconds=(seal_seconds := _int(env, "XUEJI_AUDIT_SEAL_SECONDS", 1, minimum=0, maximum=300)),
        audit_seal_max_age=_seal_max_age(env, seal_seconds),
        audit_key_file=Path(env.get("XUEJI_AUDIT_KEY_FILE") or DEFAULT_DATA_DIR / "audit.key"),
        audit_anchor_file=Path(env.get("XUEJI_AUDIT_ANCHOR_FILE") or DEFAULT_DATA_DIR / "audit-anchors.log"),
        trusted_proxies=_trusted_proxies(env),
        audit_key=_audit_key(env),
        max_failed_logins=_int(env, "XUEJI_MAX_FAILED_LOGINS", 5),
        lockout_minutes=_int(env, "XUEJI_LOCKOUT_MINUTES", 10),
        idle_timeout_minutes=_int(env, "XUEJI_IDLE_TIMEOUT_MINUTES", 30),
        session_limit_hours=_int(env, "XUEJI_SESSION_LIMIT_HOURS", 12),
        cookie_secure=_choice(env, "XUEJI_COOKIE_SECURE", ("auto", "always", "never")),
        one_time_password_hours=_int(env, "XUEJI_ONE_TIME_PASSWORD_HOURS", 72),
        admin_password=_admin_password(env),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process, read from the environment on first use."""
    return settings_from_env(dict(os.environ))
