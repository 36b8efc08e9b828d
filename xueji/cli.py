"""The `xueji` command: every batch job (init, demo, import, export, users, audit)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from xueji import __version__, backup
from xueji.audit import anchor as audit_anchor
from xueji.audit import context as audit_context
from xueji.audit import ensure_key, unsealed
from xueji.audit.anchor import AnchorFileError
from xueji.audit.key import AuditKeyError, key_file
from xueji.auth import Actor, PermissionDenied
from xueji.clock import today
from xueji.config import PROJECT_ROOT, SettingsError, get_settings
from xueji.db import current_revision, get_engine, head_revision, migrate, session_scope
from xueji.demo import DemoSpec, load_demo
from xueji.demo.build import DemoError
from xueji.excel import dept_templates
from xueji.excel.account_template import passwords_workbook
from xueji.excel.registry_template import TemplateError, blank_template, error_workbook
from xueji.excel.row_problems import RowProblem
from xueji.excel.setup_template import blank_template as setup_blank_template
from xueji.models import County, School, Student
from xueji.rules.dept_lists import ListKind
from xueji.rules.notify import NotifyError
from xueji.rules.registry_record import CheckedRow
from xueji.rules.status_changes import Document
from xueji.rules.sweeps import reconciled_text
from xueji.rules.vocab import Role, ScopeKind
from xueji.services.cases import handling, opening, visit_import
from xueji.services.comparisons import list_import
from xueji.services.home_teaching import records
from xueji.services.home_teaching import visit_import as home_visit_import
from xueji.services.registry import file_import, rollover, rosters, students
from xueji.services.setup import account_import, workbook_import
from xueji.services.sweeps import fieldwork, sheet_import
from xueji.services.system import accounts, audit_log, deployment


def _safe_url(url: str) -> str:
    """Hide the password of a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_init(args: argparse.Namespace) -> int:
    engine = get_engine()
    before = current_revision(engine)
    migrate(engine)
    after = current_revision(engine)
    where = _safe_url(get_settings().database_url)
    if before == after:
        print(f"数据库已是最新版本 ({after}):{where}")
    elif before is None:
        print(f"已创建数据库 (版本 {after}):{where}")
    else:
        print(f"已将数据库从版本 {before} 升级到 {after},原有数据保留:{where}")
    _audit_key_ready(engine)
    with session_scope(engine) as session:
        created = accounts.create_first_admin(session, password=get_settings().admin_password)
    if created:
        username, password = created
        shown = "(来自 XUEJI_ADMIN_PASSWORD)" if get_settings().admin_password else password
        print(f"已创建首个系统管理员账号:{username}  一次性密码:{shown}")
        print("此密码只显示这一次,首次登录后须修改。")
    _anchor(engine)
    return 0


def _audit_key_ready(engine: Engine) -> None:
    """For init and demo: the audit key (created when the log was never signed), and keyed chaining started on a
    log upgraded from before the key."""
    with session_scope(engine) as session:
        key, created = ensure_key(session)
        if created:
            print(
                f"已生成审计密钥:{key_file()}(权限 600,指纹 {key.key_id})。请立即把它另行备份到数据库备份以外的"
                "地方(如离线 U 盘或保险柜里的纸质副本);密钥丢失后审计日志将无法校验,系统也不会再新建密钥。"
            )
        if unsealed(session) and (sealed := audit_log.seal(session, actor=accounts.system_actor(session))):
            print(f"审计日志自第 {sealed.id} 条起以密钥签名;此前的记录仍按 SHA-256 校验。")


def _anchor(engine: Engine) -> None:
    with session_scope(engine) as session:
        anchor = audit_log.anchor_head(session, actor=accounts.system_actor(session))
    print(f"已在 {audit_anchor.anchor_file()} 记下审计日志锚点:{anchor.line()}")


def _acting(session: Session, args: argparse.Namespace) -> Actor:
    """The account a batch command acts as: --as USER, else the built-in system operator."""
    return (
        accounts.actor_by_username(session, args.as_user) if args.as_user else accounts.system_actor(session)
    )


def cmd_user_add(args: argparse.Namespace) -> int:
    with session_scope() as session:
        user, password = accounts.create_user(
            session,
            actor=_acting(session, args),
            username=args.username,
            display_name=args.name,
            role=Role(args.role),
            scope_kind=ScopeKind(args.scope_kind),
            scope_code=args.scope,
        )
    print(f"已创建账号 {user.username}({Role(user.role).label})。一次性密码:{password}(首次登录须修改)")
    print(_COMMAND_LINE_NOTE)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    with session_scope() as session:
        rows = accounts.list_users(session, actor=_acting(session, args))
    for u in rows:
        state = "启用" if u.is_active else "停用"
        print(
            f"{u.username:<20}{u.display_name:<8}{u.role:<10}{u.scope:<14}{state}{' 锁定中' if u.locked else ''}"
        )
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    with session_scope() as session:
        accounts.set_active(
            session,
            actor=_acting(session, args),
            user_id=accounts.user_id_of(session, args.username),
            active=False,
        )
    print(f"已停用账号 {args.username}")
    return 0


def cmd_user_enable(args: argparse.Namespace) -> int:
    with session_scope() as session:
        accounts.set_active(
            session,
            actor=_acting(session, args),
            user_id=accounts.user_id_of(session, args.username),
            active=True,
        )
    print(f"已启用账号 {args.username}")
    return 0


def cmd_user_reset(args: argparse.Namespace) -> int:
    with session_scope() as session:
        password = accounts.reset_password(
            session, actor=_acting(session, args), user_id=accounts.user_id_of(session, args.username)
        )
    print(f"{args.username} 的一次性密码:{password}(下次登录须修改)")
    print(_COMMAND_LINE_NOTE)
    return 0


def cmd_user_set_role(args: argparse.Namespace) -> int:
    with session_scope() as session:
        accounts.set_role_and_scope(
            session,
            actor=_acting(session, args),
            user_id=accounts.user_id_of(session, args.username),
            role=Role(args.role),
            scope_kind=ScopeKind(args.scope_kind),
            scope_code=args.scope,
        )
    print(f"已把账号 {args.username} 改为 {Role(args.role).label}")
    print(_COMMAND_LINE_NOTE)
    return 0


def cmd_user_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"错误:找不到文件 {path}", file=sys.stderr)
        return 1
    data = path.read_bytes()
    with session_scope() as session:
        actor = _acting(session, args)
        sheet = account_import.check_accounts(session, actor=actor, data=data, file_name=path.name)
        counts = ",".join(f"{k} {v}" for k, v in account_import.counts_of(sheet).items())
        print(f"检查结果:{counts}")
        for role, scope, n in account_import.plan_frame(sheet).itertuples(index=False):
            print(f"  {role} · {scope}:{n} 个")
        if sheet.problems:
            problems = [
                RowProblem(p.row, f"{name}·{p.column}", p.value, p.reason)
                for name, found in sheet.problems.items()
                for p in found
            ]
            return _refused(problems, account_import.error_workbook(sheet), args, "账号")
        if args.dry_run:
            print("仅检查(--dry-run),未写入。")
            return 0
        out = Path(args.passwords_out or f"一次性密码_{datetime.now():%Y%m%d-%H%M%S}.xlsx")
        try:  # readable by its owner only, and never over an existing file
            fd = os.open(out, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError as error:
            why = "已存在,不覆盖" if isinstance(error, FileExistsError) else f"无法创建({error.strerror})"
            print(f"错误:{out} {why}。请换一个文件名(--passwords-out)。未创建任何账号。", file=sys.stderr)
            return 1
        try:
            created = account_import.create_accounts(
                session, actor=actor, sheet=sheet, issued_to=str(out.resolve())
            )
        except BaseException:
            os.close(fd)
            out.unlink()
            raise
        with os.fdopen(fd, "wb") as file:
            file.write(passwords_workbook(created.passwords))
    print(
        f"已创建 {len(created.passwords)} 个账号,新建班级 {created.classes_created} 个,"
        f"班主任 {created.head_teachers} 人次,任教 {created.assignments} 条。"
    )
    print(
        f"一次性密码已写入 {out}(只有本人可读,权限 600),不在屏幕上显示,系统中也不保存:"
        "请逐一当面交给本人(首次登录须修改),交完后删除该文件。"
    )
    print(_COMMAND_LINE_NOTE)
    return 0


_COMMAND_LINE_NOTE = (
    "此操作在服务器命令行上直接生效,不经审批,已记入审计日志(渠道:命令行)。"
    "页面上的管理员只能提交申请,由第二人批准;审计员、系统管理员账号只能在这里创建和重置。"
)


def cmd_export_students(args: argparse.Namespace) -> int:
    with session_scope() as session:
        data = students.export_roster(
            session,
            actor=_acting(session, args),
            search=args.search,
            unmasked=args.unmasked,
            reason=args.reason or "",
        )
    Path(args.file).write_bytes(data)
    print(f"已导出学生名册到 {args.file}({'未脱敏' if args.unmasked else '已脱敏'}),已记入审计日志。")
    return 0


def cmd_report_ledger(args: argparse.Namespace) -> int:
    from xueji.rules.accountability import LedgerMonth
    from xueji.services.dashboards import accountability as ledger

    try:
        month = LedgerMonth.parse(args.month)
    except ValueError as exc:
        print(f"错误:{exc}", file=sys.stderr)
        return 1
    with session_scope() as session:
        school_id = None
        if args.school:
            school = session.scalar(select(School).where(School.code == args.school))
            if school is None:
                print(f"错误:没有学校标识码为 {args.school} 的学校", file=sys.stderr)
                return 1
            school_id = school.id
        try:
            period = ledger.month_period(session, month)
        except ledger.LedgerError as exc:
            print(f"错误:{exc}", file=sys.stderr)
            return 1
        title = f"月度台账 {month.label}"
        data = ledger.export_ledger(
            session, actor=_acting(session, args), period=period, title=title, school_id=school_id
        )
    Path(args.output).write_bytes(data)
    print(f"已导出{title}到 {args.output},已记入审计日志。")
    return 0


def cmd_report_monthly(args: argparse.Namespace) -> int:
    from xueji.rules.monthly_report import parse_month
    from xueji.services.reports import submission, workbook

    try:
        month = parse_month(args.month)
    except ValueError as exc:
        print(f"错误:{exc}", file=sys.stderr)
        return 1
    with session_scope() as session:
        school = session.scalar(select(School).where(School.code == args.school))
        if school is None:
            print(f"错误:没有学校标识码为 {args.school} 的学校", file=sys.stderr)
            return 1
        actor = _acting(session, args)
        school_id = int(school.id or 0)
        if args.submit:
            try:
                report = submission.submit(session, actor=actor, school_id=school_id, month=month, note="")
            except submission.ReportError as exc:
                print(f"错误:{exc}", file=sys.stderr)
                return 1
            print(f"已报送{school.name}{month.label}月报(第 {report.version} 版),已记入审计日志。")
        data = workbook.monthly_xlsx(session, actor=actor, school_id=school_id, month=month)
    Path(args.output).write_bytes(data)
    print(f"已导出{school.name}{month.label}月报到 {args.output},已记入审计日志。")
    return 0


def cmd_report_quarterly(args: argparse.Namespace) -> int:
    from xueji.rules.monthly_report import Quarter
    from xueji.services.reports import quarterly

    try:
        quarter = Quarter.parse(args.quarter)
    except ValueError as exc:
        print(f"错误:{exc}", file=sys.stderr)
        return 1
    suffix = Path(args.output).suffix.lower()
    if suffix not in (".xlsx", ".docx"):
        print("错误:输出文件须以 .xlsx(数据表)或 .docx(文字报告)结尾", file=sys.stderr)
        return 1
    export = quarterly.export_docx if suffix == ".docx" else quarterly.export_xlsx
    with session_scope() as session:
        data = export(session, actor=_acting(session, args), quarter=quarter)
    Path(args.output).write_bytes(data)
    print(f"已导出{quarter.label}季报到 {args.output}(以各校已报送的最新版本为准),已记入审计日志。")
    return 0


def _print_problems(rows: Sequence[CheckedRow], limit: int = 20, total: int | None = None) -> None:
    """The first rows' problems; `total`: how many rows have errors (the list may hold only the first ones)."""
    for row in rows[:limit]:
        for problem in row.errors:
            print(f"  第{row.row}行 [{problem.column}] “{problem.value}”:{problem.reason}", file=sys.stderr)
    total = len(rows) if total is None else total
    if total > limit:
        kept = f"(错误报告含前 {len(rows):,} 行)" if total > len(rows) else ""
        print(f"  ……另有 {total - limit} 行有错误,见错误报告{kept}", file=sys.stderr)


def cmd_import_students(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.suffix.lower() != ".xlsx":
        print("错误:只接受 .xlsx 文件", file=sys.stderr)
        return 1
    data = path.read_bytes()
    result = None
    with session_scope() as session:
        actor = _acting(session, args)
        if args.dry_run:
            sheet = file_import.check_file(session, actor=actor, data=data, file_name=path.name)
            schools = file_import.schools_for_import(session, actor=actor, school_code=args.school)
            plan = file_import.plan_import(
                session, actor=actor, sheet=sheet, schools=schools, only_school=bool(args.school)
            )
        else:
            try:
                result = file_import.import_file(
                    session,
                    actor=actor,
                    data=data,
                    school_code=args.school,
                    only_valid=args.commit_valid,
                    file_name=path.name,
                    on_write=lambda: print("正在写入……", file=sys.stderr, flush=True),
                    proofs=[Document(key) for key in args.proof or ()],
                )
                plan = result.plan
            except file_import.ImportBlocked as blocked:
                if blocked.plan is None:
                    raise
                plan = blocked.plan
                print(
                    f"未导入任何数据:有 {plan.totals['有错误']} 行有错误。改好后重新导入,或加 --commit-valid 只导入无误的行。",
                    file=sys.stderr,
                )
    for notice in plan.notices:
        print(f"提示:{notice}")
    counts = ",".join(f"{k} {v}" for k, v in plan.counts.items())
    print(f"检查结果:{counts}" + (f";临时学籍 {plan.temporary}" if plan.temporary else ""))
    if plan.arrival_count:
        print(f"学籍迁入与外县来源 {plan.arrival_count} 人:{plan.sources_text}。")
        for arrival in plan.arrivals:  # the first KEEP of them
            print(f"  第{arrival.row.row}行 {arrival.row.cell('name')}:{arrival.sentence}")
        if plan.arrival_count > len(plan.arrivals):
            print(f"  ……另有 {plan.arrival_count - len(plan.arrivals)} 人")
    if result is not None:
        print(f"已导入:{result.summary}。已记入审计日志。")
    elif args.dry_run:
        print("仅检查(--dry-run),未写入。")
    if plan.rejected:
        _print_problems(plan.rejected, total=plan.totals["有错误"])
        if args.report:
            Path(args.report).write_bytes(error_workbook(plan.rejected))
            print(f"错误报告已写入 {args.report}", file=sys.stderr)
        return 1
    return 0


def _refused(problems: list, report: bytes | None, args: argparse.Namespace, what: str) -> int:
    """Print a sheet's first problems (row, column, value, reason), write the error workbook if asked; 1."""
    for problem in problems[:20]:
        print(f"  第{problem.row}行 [{problem.column}] “{problem.value}”:{problem.reason}", file=sys.stderr)
    if args.report and report is not None:
        Path(args.report).write_bytes(report)
        print(f"错误报告已写入 {args.report}", file=sys.stderr)
    print(f"未导入任何{what}。", file=sys.stderr)
    return 1


def _import_table(
    args: argparse.Namespace,
    *,
    check: Callable[..., Any],
    commit: Callable[..., int],
    error_workbook: Callable[[Any], bytes],
    what: str,
) -> int:
    """A simple-table import (家访, 送教): check every row, refuse with the problems, or write all rows."""
    data = Path(args.file).read_bytes()
    with session_scope() as session:
        actor = _acting(session, args)
        sheet = check(session, actor=actor, data=data, file_name=Path(args.file).name)
        print(f"检查结果:可导入 {len(sheet.good)} 条,有错误 {len(sheet.bad_rows)} 行")
        if sheet.problems:
            return _refused(sheet.problems, error_workbook(sheet), args, f"{what}记录")
        if args.dry_run:
            print("仅检查(--dry-run),未写入。")
            return 0
        count = commit(session, actor=actor, data=data, file_name=Path(args.file).name)
    print(f"已导入 {count} 条{what}记录,已记入审计日志。")
    return 0


def cmd_import_visits(args: argparse.Namespace) -> int:
    return _import_table(
        args,
        check=visit_import.check_visits,
        commit=visit_import.commit_visits,
        error_workbook=visit_import.error_workbook,
        what="家访",
    )


def cmd_import_home_visits(args: argparse.Namespace) -> int:
    return _import_table(
        args,
        check=home_visit_import.check_home_visits,
        commit=home_visit_import.commit_home_visits,
        error_workbook=home_visit_import.error_workbook,
        what="送教",
    )


def cmd_import_sweep(args: argparse.Namespace) -> int:
    data = Path(args.file).read_bytes()
    with session_scope() as session:
        actor = _acting(session, args)
        village = fieldwork.find_sweep_village(session, village_code=args.village, term=args.term or "")
        sheet = sheet_import.check_sweep(
            session, actor=actor, sweep_village_id=village, data=data, file_name=Path(args.file).name
        )
        print(
            f"检查结果:可导入 {len(sheet.good)} 户({sheet.children} 名适龄儿童),有错误 {len(sheet.bad_rows)} 行,"
            f"未走访(未填走访日期)跳过 {len(sheet.skipped)} 行"
        )
        if sheet.problems:
            return _refused(sheet.problems, sheet_import.error_workbook(sheet), args, "户")
        if args.dry_run:
            print("仅检查(--dry-run),未写入。")
            return 0
        counts = sheet_import.commit_sweep(
            session, actor=actor, sweep_village_id=village, data=data, file_name=Path(args.file).name
        )
        print(
            f"已导入:新增 {counts.households_added} 户、更新 {counts.households_updated} 户,"
            f"适龄儿童 {counts.children} 名(新增 {counts.children_added} 名),已记入审计日志。"
        )
        if args.submit:
            found = fieldwork.submit_village(session, actor=actor, sweep_village_id=village)
            print(f"已提交本村排查并完成三比对:{reconciled_text(found)}")
    return 0


def cmd_import_list(args: argparse.Namespace) -> int:
    """A department's list: every row checked, all written as the list's next version or none."""
    kind, path = ListKind(args.list_kind), Path(args.file)
    data = path.read_bytes()
    with session_scope() as session:
        actor = _acting(session, args)
        sheet = list_import.check_list(session, actor=actor, kind=kind, data=data, file_name=path.name)
        print(f"检查结果:{kind.label}可导入 {len(sheet.people)} 人,有错误 {len(sheet.bad_rows)} 行")
        if sheet.problems:
            return _refused(sheet.problems, list_import.error_workbook(sheet), args, "人")
        on = args.list_date or today()
        refusal = list_import.date_problem(on, sheet.current)
        if refusal:
            print(f"错误:{refusal}", file=sys.stderr)
            return 1
        replaces = (
            f",取代第{sheet.current.version}版({sheet.current.list_date:%Y-%m-%d})" if sheet.current else ""
        )
        if args.dry_run:
            print(f"仅检查(--dry-run),未写入。导入后将为名单日期 {on:%Y-%m-%d} 的新版本{replaces}。")
            return 0
        version = list_import.commit_list(
            session, actor=actor, kind=kind, data=data, file_name=path.name, list_date=on
        )
    print(
        f"已导入{kind.label}第{version.version}版(名单日期 {on:%Y-%m-%d}){version.row_count} 人{replaces},"
        "已重新运行三比对,已记入审计日志。"
    )
    return 0


def cmd_export_list_template(args: argparse.Namespace) -> int:
    kind = ListKind(args.kind)
    Path(args.output).write_bytes(dept_templates.blank_template(kind))
    print(f"已写出{kind.label}空白模板 {args.output}(黄色表头为必填列,含下拉列表和填写说明)")
    return 0


def _list_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"名单日期应写成 YYYY-MM-DD,如 2026-11-20,而不是“{text}”") from None


def cmd_sweep_sheet(args: argparse.Namespace) -> int:
    with session_scope() as session:
        actor = _acting(session, args)
        village = fieldwork.find_sweep_village(session, village_code=args.village, term=args.term or "")
        name, data = sheet_import.village_sheet(
            session, actor=actor, sweep_village_id=village, reason=args.reason or ""
        )
    out = Path(args.out or name)
    out.write_bytes(data)
    print(f"已写出 {out}(含完整身份证号,请妥善保管,已记入审计日志)")
    return 0


def cmd_setup_template(args: argparse.Namespace) -> int:
    Path(args.file).write_bytes(setup_blank_template(cities=args.city))
    print(f"已写出上线设置导入模板 {args.file}(县区、乡镇、村社区、学校、学期,每表有填写说明和一行示例)")
    return 0


def cmd_setup_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    data = path.read_bytes()
    with session_scope() as session:
        actor = _acting(session, args)
        checked = workbook_import.check_workbook(session, actor=actor, data=data, file_name=path.name)
        for sheet in checked.sheets:
            print(
                f"{sheet}:"
                + ",".join(
                    f"{workbook_import.STATUS_LABELS[s]} {n}" for s, n in checked.counts(sheet).items()
                )
            )
            for item in checked.items:
                if item.sheet == sheet and item.status != workbook_import.UNCHANGED:
                    label = workbook_import.STATUS_LABELS[item.status]
                    print(
                        f"  第{item.row}行 {label} {item.code} {item.name} {';'.join(item.changes)}".rstrip()
                    )
        if checked.problems:
            for problem in checked.problems[:30]:
                print(f"  {problem}", file=sys.stderr)
            if len(checked.problems) > 30:
                print(f"  ……另有 {len(checked.problems) - 30} 处错误,见错误报告", file=sys.stderr)
            if args.report:
                Path(args.report).write_bytes(workbook_import.error_workbook(checked))
                print(f"错误报告已写入 {args.report}", file=sys.stderr)
            print("有错误的行:未导入任何数据。改好后重新导入。", file=sys.stderr)
            return 1
        if args.dry_run or not checked.changes:
            print("仅检查(--dry-run),未写入。" if args.dry_run else "文件与系统中的数据一致,无需写入。")
            return 0
        session.rollback()  # the commit checks again under the write lock
        result = workbook_import.commit_workbook(session, actor=actor, data=data, file_name=path.name)
    print(f"已导入:{result.summary}。已记入审计日志。")
    return 0


def cmd_open_lost(args: argparse.Namespace) -> int:
    with session_scope() as session:
        count = opening.open_lost_cases(session, actor=_acting(session, args))
    print(f"已为 {count} 名流生建立疑似辍学个案。" if count else "没有需要新建个案的流生。")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from xueji.rules.comparisons import Outcome
    from xueji.services.comparisons import compare

    with session_scope() as session:
        counts = compare.run_comparison(session, actor=_acting(session, args))
    print(f"三比对完成:适龄儿童 {counts.get('children', 0)} 人,待核实 {counts.get('to_verify', 0)} 人。")
    for outcome in Outcome:
        print(f"  {outcome.label}:{counts.get(outcome.value, 0)}")
    return 0


def cmd_summaries_refresh(args: argparse.Namespace) -> int:
    from xueji.services.overview import summaries

    with session_scope() as session:
        report = summaries.refresh_all(session, codes=[args.county] if args.county else None)
    if args.county and not report.seconds and not report.failed:
        print(f"没有代码为 {args.county} 的县区。", file=sys.stderr)
        return 1
    for code, seconds in report.seconds.items():
        print(f"{code}: 已汇总,用时 {seconds:.1f} 秒")
    for code, error in report.failed.items():
        print(f"{code}: 汇总失败:{error}", file=sys.stderr)
    print(f"共 {len(report.seconds)} 个县区,用时 {report.total:.1f} 秒。")
    return 1 if report.failed else 0


def cmd_ladder_advance(args: argparse.Namespace) -> int:
    from xueji.services.cases import ladder

    with session_scope() as session:
        counts = ladder.advance(session, actor=_acting(session, args))
    print(
        f"劝返复学已推进:新开始 {counts['started']} 件,升级至乡镇 {counts['to_township']} 件,"
        f"升级至县教育局 {counts['to_county']} 件。已记入审计日志。"
    )
    return 0


def cmd_export_roster(args: argparse.Namespace) -> int:
    with session_scope() as session:
        data = rosters.export_roster(
            session,
            actor=_acting(session, args),
            school_code=args.school,
            kind=rosters.RosterKind(args.kind),
            class_code=args.class_code,
            unmasked=args.unmasked,
            reason=args.reason or "",
        )
    Path(args.output).write_bytes(data)
    print(f"已导出{args.kind}到 {args.output}({'未脱敏' if args.unmasked else '已脱敏'}),已记入审计日志。")
    return 0


def cmd_export_template(args: argparse.Namespace) -> int:
    Path(args.file).write_bytes(blank_template())
    print(f"已写出空白学籍导入模板 {args.file}(含一行示例和填写说明)")
    return 0


def cmd_rollover(args: argparse.Namespace) -> int:
    with session_scope() as session:
        actor = _acting(session, args)
        if args.undo:
            latest = next((r for r in rollover.rollovers(session, actor=actor) if r.undone_at is None), None)
            if latest is None or latest.school_year != args.year:
                print(f"没有可撤销的{args.year}学年升级(只能撤销最近一次)", file=sys.stderr)
                return 1
            restored = rollover.undo_rollover(session, actor=actor, rollover_id=latest.id or 0)
            print(f"已撤销{args.year}学年升级:{restored} 名学生恢复在读,已记入审计日志。")
            return 0
        preview = rollover.preview_rollover(session, actor=actor, school_year=args.year)
        timing = rollover.rollover_timing(session, actor=actor, school_year=args.year)
        for school, primary, junior in preview.by_school:
            print(f"  {school}:小学毕业 {primary} 人,初中毕业 {junior} 人")
        if timing.early(today()):
            print(f"注意:{timing.explanation};提前升级须加 --reason 说明原因")
        if args.dry_run:
            print(f"(预览){args.year}学年升级将有 {preview.total} 名学生毕业;未做任何修改。")
            return 0
        done = rollover.run_rollover(session, actor=actor, school_year=args.year, reason=args.reason)
        print(f"已完成{args.year}学年升级:{len(done.graduated)} 名学生毕业,已记入审计日志。")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    with session_scope() as session:
        try:
            chain = audit_log.county_chain(session, args.county) if args.county else None
        except LookupError as exc:
            print(f"错误:{exc}", file=sys.stderr)
            return 1
        check = audit_log.check_chain(session, actor=_acting(session, args), chain=chain)
    print("\n".join(audit_log.report(check)), file=sys.stdout if check.ok else sys.stderr)
    return 0 if check.ok else 1


def cmd_audit_seal(args: argparse.Namespace) -> int:
    from xueji.audit import seal_all

    with session_scope() as session:
        sealed = seal_all(session, batch=args.batch)
        queue = audit_log.seal_queue(session, actor=_acting(session, args))
    waiting = f";仍有 {queue.pending} 条待封存(另一个封存进程正在处理)" if queue.pending else ""
    print(f"已封存 {sealed} 条审计记录{waiting}。")
    return 0


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    with session_scope() as session:
        anchor = audit_log.anchor_head(session, actor=_acting(session, args))
    print(anchor.line())
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    from xueji.services.notify import sender

    with session_scope() as session:
        result = sender.run(session, actor=_acting(session, args), dry_run=args.dry_run, only=args.only)
    if result.held_by is None:
        done = "预览完毕,未发送" if args.dry_run else f"已发送 {result.sent} 个群"
        print(f"{done};共 {len(result.outcomes)} 个机器人。")
    for failed in (o for o in result.outcomes if o.result in {"failed", "refused"}):
        print(
            f"发送失败:{failed.place}({failed.platform.label}机器人 {failed.hook_id}):{failed.message}",
            file=sys.stderr,
        )
    if result.advance_error:
        print(result.advance_error, file=sys.stderr)
    if result.lost_to:
        print(f"发送租约中途被 {result.lost_to} 取得,本次未发完", file=sys.stderr)
    return result.exit_code


def cmd_backup(args: argparse.Namespace) -> int:
    engine = get_engine()
    with session_scope(engine) as session:
        actor = _acting(session, args)
    size = backup.backup(engine, Path(args.file), actor=actor)
    print(f"已备份 {_safe_url(get_settings().database_url)} 到 {args.file}({size / 1e6:.1f} MB)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    url = args.into or get_settings().database_url
    restored = backup.restore(url, Path(args.file))
    print(f"已从 {args.file} 恢复 {restored.tables} 张表到 {_safe_url(url)}")
    if not restored.chain.ok:
        print(f"审计日志哈希链异常:记录 {restored.chain.bad_id}:{restored.chain.reason}", file=sys.stderr)
        return 1
    print(f"审计日志哈希链完整:已校验 {restored.chain.checked} 条记录(以密钥 {restored.chain.key_id} 签名)。")
    print("切换到恢复出的库后请运行 xueji audit verify 核对锚点:备份之后才锚定的记录不在备份里,会报告缺失。")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if refusal := deployment.default_database_refusal(
        get_settings().database_url, into_default=args.into_default
    ):
        print(f"错误:{refusal}", file=sys.stderr)
        return 1
    engine = get_engine()
    migrate(engine)
    with session_scope(engine) as session:
        blank = deployment.is_blank(session)
    if not blank:
        if args.if_empty:
            print("数据库中已有数据,跳过演示数据。")
            return 0
        print(f"错误:{deployment.NOT_BLANK}", file=sys.stderr)
        return 1
    spec = DemoSpec(seed=args.seed, scale=args.scale)
    _audit_key_ready(engine)
    with session_scope(engine) as session:
        try:
            if args.city:
                from xueji.demo.city import load_demo_city

                built = load_demo_city(session, spec)
            else:
                built = {"": load_demo(session, spec)}
        except DemoError as exc:
            print(f"错误:{exc}", file=sys.stderr)
            return 1
    if args.city:
        print("已载入演示市州:湖南省 › 长沙市,3 个县区。")
    for name, summary in built.items():
        print(
            f"已载入演示县区{name}:{summary.townships} 个乡镇,{summary.villages} 个村/社区,{summary.schools} 所学校,"
            f"{summary.classes} 个班级,{summary.students} 名学生,{summary.family_members} 名家庭成员。"
        )
    _anchor(engine)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    engine = get_engine()
    print(f"数据库:{_safe_url(get_settings().database_url)}")
    current, head = current_revision(engine), head_revision(engine)
    print(f"结构版本:{current or '未初始化'}(最新 {head})")
    if current is None:
        print("请先运行 xueji init。")
        return 1
    with session_scope(engine) as session:
        for label, model in (("县区", County), ("学校", School), ("学生", Student)):
            print(f"{label}:{session.scalar(select(func.count()).select_from(model))}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    demo = deployment.wants_demo(args.demo, os.environ)
    target = deployment.serve_target(os.environ)
    extra = args.streamlit_args[1:] if args.streamlit_args[:1] == ["--"] else args.streamlit_args
    command = deployment.streamlit_command(target, extra)
    url = settings.database_url
    if not deployment.database_file_missing(url):  # looking at a database must not create its file
        try:
            with session_scope() as session:
                refusal = deployment.serve_refusal(session, demo=demo)
        except SQLAlchemyError as exc:
            print(
                f"无法连接数据库 {_safe_url(url)}:{type(exc).__name__}。请检查 XUEJI_DATABASE_URL。",
                file=sys.stderr,
            )
            return 2
        if refusal:
            print(f"数据库:{_safe_url(url)}\n{refusal}", file=sys.stderr)
            return 2
    key = "环境变量 XUEJI_AUDIT_KEY" if settings.audit_key else str(settings.audit_key_file)
    print(f"数据库:{_safe_url(url)}")
    print(f"审计密钥:{key};锚点文件:{settings.audit_anchor_file}")
    print("模式:演示(--demo)" if demo else "模式:正式(不载入演示数据)")
    if settings.today is not None and not demo:
        print(f"注意:XUEJI_TODAY 把日期固定为 {settings.today},正式系统不应设置它。", file=sys.stderr)
    if args.dry_run:
        print("将运行:xueji init(创建或升级数据库结构;空库时创建首个系统管理员并打印一次性密码)")
        print(f"将启动:{shlex.join(command)}(工作目录 {PROJECT_ROOT})")
        print("仅显示(--dry-run),未做任何修改。")
        return 0
    if code := cmd_init(args):
        return code
    print(
        f"xueji 已启动:监听 {target.address}:{target.port};本机浏览器打开 http://127.0.0.1:{target.port}  (Ctrl+C 停止)"
    )
    sys.stdout.flush()
    # .streamlit/config.toml (loopback, no error details, no CSV download) is read from the working directory
    os.chdir(PROJECT_ROOT)
    os.execv(command[0], command)  # noqa: S606 - the server replaces this process, as `exec` in scripts/serve.sh
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xueji",
        description="学籍 · 控辍保学个案管理 (xueji: dropout-prevention case tracker).\n"
        "数据库由环境变量 XUEJI_DATABASE_URL 指定,默认为 data/xueji.db。",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"xueji {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令 command")

    p = sub.add_parser("init", help="创建或升级数据库结构,保留原有数据 (create or upgrade the database)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="载入演示县区数据 (load the demo county into an empty database)")
    p.add_argument("--seed", type=int, default=2026, help="随机种子,相同种子生成相同数据 (default 2026)")
    p.add_argument("--scale", type=float, default=1.0, help="规模系数,1.0 约 8000 名学生 (default 1.0)")
    p.add_argument("--if-empty", action="store_true", help="数据库已有数据时跳过 (skip if data exists)")
    p.add_argument(
        "--city",
        action="store_true",
        help="载入演示市州:湖南省 › 长沙市,含浏阳市(同默认演示县区)和两个小县区,以及市、省教育局账号 "
        "(load a demo city of three counties)",
    )
    p.add_argument(
        "--into-default",
        action="store_true",
        help="允许载入正式部署的默认库 data/xueji.db(通常不需要:make run 用 data/demo/xueji.db)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "serve",
        help="正式部署:拒绝演示库,创建或升级数据库(空库时创建首个系统管理员),启动网页 (deploy and start the app)",
        description="在 XUEJI_ADDRESS(默认 127.0.0.1):XUEJI_PORT(默认 8501)上启动 xueji,数据库为 XUEJI_DATABASE_URL"
        "(默认 data/xueji.db)。不载入演示数据;数据库里是演示数据时拒绝启动(退出码 2),除非加 --demo。"
        "其余 Streamlit 选项写在 -- 之后。",
    )
    p.add_argument("--demo", action="store_true", help="这是演示服务器:允许演示库(也可设 XUEJI_DEMO=1)")
    p.add_argument("--dry-run", action="store_true", help="只检查并显示将使用的数据库和启动命令,不做任何修改")
    p.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="-- 之后的参数原样交给 streamlit run")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("info", help="显示数据库位置、版本和数据量 (show database, revision and counts)")
    p.set_defaults(func=cmd_info)

    user = sub.add_parser("user", help="账号管理 (accounts)").add_subparsers(
        dest="user_command", metavar="子命令"
    )
    p = user.add_parser("add", help="新建账号,打印一次性密码 (create an account)")
    p.add_argument("username", help="账号")
    p.add_argument("--name", required=True, help="姓名")
    p.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role if r is not Role.SYSTEM],
        help="角色: " + ", ".join(f"{r.value}={r.label}" for r in Role if r is not Role.SYSTEM),
    )
    p.add_argument("--scope-kind", required=True, choices=[k.value for k in ScopeKind], help="范围类型")
    p.add_argument(
        "--scope",
        required=True,
        help="范围代码:省/市州/县区/乡镇为12位区划代码(如省 430000000000、市州 430100000000),学校为10位标识码",
    )
    p.set_defaults(func=cmd_user_add)
    p = user.add_parser("list", help="列出账号 (list accounts)")
    p.set_defaults(func=cmd_user_list)
    p = user.add_parser("disable", help="停用账号 (disable an account)")
    p.add_argument("username")
    p.set_defaults(func=cmd_user_disable)
    p = user.add_parser("reset-password", help="重置密码,打印一次性密码 (reset a password)")
    p.add_argument("username")
    p.set_defaults(func=cmd_user_reset)
    p = user.add_parser("enable", help="启用已停用的账号 (enable an account)")
    p.add_argument("username")
    p.set_defaults(func=cmd_user_enable)
    p = user.add_parser("set-role", help="更改账号的角色和管辖范围 (change an account's role and scope)")
    p.add_argument("username")
    p.add_argument(
        "--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM], help="新角色"
    )
    p.add_argument("--scope-kind", required=True, choices=[k.value for k in ScopeKind], help="范围类型")
    p.add_argument("--scope", required=True, help="范围代码:县区/乡镇为12位区划代码,学校为10位标识码")
    p.set_defaults(func=cmd_user_set_role)
    p = user.add_parser(
        "import",
        help="从账号导入模板批量创建账号和任教班级,一次性密码写入仅本人可读的文件 (create accounts from a workbook)",
    )
    p.add_argument("file", help="账号导入模板 .xlsx(工作表“账号”和“任教班级”)")
    p.add_argument("--dry-run", action="store_true", help="只检查,不写入")
    p.add_argument(
        "--passwords-out", help="一次性密码写入的 xlsx(权限 600,不覆盖已有文件);缺省为当前目录下的新文件"
    )
    p.add_argument("--report", help="有错误行时,把错误行和原因写入此 xlsx")
    p.set_defaults(func=cmd_user_import)

    export = sub.add_parser("export", help="导出 (export)").add_subparsers(
        dest="export_command", metavar="子命令"
    )
    p = export.add_parser("students", help="导出学生名册 xlsx,默认脱敏 (export the roster)")
    p.add_argument("file", help="输出文件,如 名册.xlsx")
    p.add_argument("--search", default="", help="按姓名、身份证号尾号或班号筛选")
    p.add_argument(
        "--unmasked", action="store_true", help="导出完整身份证号和电话(须有权限,并用 --reason 写明事由)"
    )
    p.add_argument("--reason", help="导出完整身份证号和电话的事由,记入审计日志")
    p.set_defaults(func=cmd_export_students)
    p = export.add_parser(
        "roster", help="导出新生/在校生/毕业生名册 xlsx,每班一个工作表 (export a school roster)"
    )
    p.add_argument("--school", required=True, help="10位学校标识码")
    p.add_argument("--kind", required=True, choices=[k.value for k in rosters.RosterKind], help="名册类型")
    p.add_argument("--class", dest="class_code", help="只导出该班(7位班号)")
    p.add_argument("-o", "--output", required=True, help="输出文件,如 在校生名册.xlsx")
    p.add_argument(
        "--unmasked", action="store_true", help="导出完整身份证号和电话(须有权限,并用 --reason 写明事由)"
    )
    p.add_argument("--reason", help="导出完整身份证号和电话的事由,记入审计日志")
    p.set_defaults(func=cmd_export_roster)
    p = export.add_parser("template", help="写出空白学籍导入模板 (write the blank import template)")
    p.add_argument("file", help="输出文件,如 学籍导入模板.xlsx")
    p.set_defaults(func=cmd_export_template)
    p = export.add_parser(
        "list-template",
        help="写出部门名单(户籍、民政、残联、乡村振兴)的空白导入模板 (a list's blank template)",
    )
    p.add_argument("kind", choices=[k.value for k in ListKind], help="名单:residents 户籍,welfare 民政,"
                   "disabled 残联,households 乡村振兴")  # fmt: skip
    p.add_argument("-o", "--output", required=True, help="输出文件,如 户籍名单模板.xlsx")
    p.set_defaults(func=cmd_export_list_template)

    imports = sub.add_parser("import", help="导入 (import)").add_subparsers(
        dest="import_command", metavar="子命令"
    )
    p = imports.add_parser(
        "students",
        help="导入学籍(全国学籍导入模板 xlsx);有错误行时不写入并返回非零 (import the registry template)",
    )
    p.add_argument("file", help="学籍导入模板 .xlsx")
    p.add_argument("--school", help="10位学校标识码;缺省时每行按其学校标识码导入管辖范围内的学校")
    p.add_argument("--report", help="有错误行时,把错误行和原因写入此 xlsx")
    p.add_argument("--commit-valid", action="store_true", help="有错误行时仍导入无误的行(仍返回非零)")
    p.add_argument("--dry-run", action="store_true", help="只检查,不写入")
    p.add_argument(
        "--proof",
        action="append",
        choices=[d.value for d in (Document.HOUSEHOLD_PROOF, Document.REGISTRY_FORM)],
        help="外县转入已核验的材料(可重复):household_proof 户籍或房产证明,registry_form 转出学校学籍登记表;"
        "缺少的材料照常导入,计入当月台账",
    )
    p.set_defaults(func=cmd_import_students)

    p = imports.add_parser(
        "visits", help="导入纸质家访记录(家访导入模板 xlsx);有错误行时不写入并返回非零 (import home visits)"
    )
    p.add_argument("file", help="家访导入模板 .xlsx")
    p.add_argument("--report", help="有错误行时,把错误行和原因写入此 xlsx")
    p.add_argument("--dry-run", action="store_true", help="只检查,不写入")
    p.set_defaults(func=cmd_import_visits)

    p = imports.add_parser(
        "home-visits",
        help="导入纸质送教上门记录(送教导入模板 xlsx);有错误行时不写入并返回非零 (import home-teaching visits)",
    )
    p.add_argument("file", help="送教导入模板 .xlsx")
    p.add_argument("--report", help="有错误行时,把错误行和原因写入此 xlsx")
    p.add_argument("--dry-run", action="store_true", help="只检查,不写入")
    p.set_defaults(func=cmd_import_home_visits)

    p = imports.add_parser(
        "sweep",
        help="导入村拉网式排查登记表 xlsx;已有的户和孩子更新,不重复;有错误行时不写入并返回非零 (import a sweep sheet)",
    )
    p.add_argument("file", help="排查登记表 .xlsx(可先用 xueji sweep sheet 下载预填表)")
    p.add_argument("--village", required=True, help="村/社区 12 位行政区划代码")
    p.add_argument("--term", help="学期,如 2026-1(学年开始年份-学期序号);缺省为今天所在学期")
    p.add_argument("--report", help="有错误行时,把错误行和原因写入此 xlsx")
    p.add_argument("--dry-run", action="store_true", help="只检查,不写入")
    p.add_argument("--submit", action="store_true", help="导入后提交本村排查并运行三比对")
    p.set_defaults(func=cmd_import_sweep)

    for kind in ListKind:
        p = imports.add_parser(
            kind.value,
            help=f"导入{kind.label}(由{kind.department}提供)为新版本并重新运行三比对;"
            "有错误行时不写入并返回非零 (import a department's list)",
        )
        p.add_argument(
            "file", help=f"{kind.label} .xlsx(可先用 xueji export list-template {kind.value} 写出模板)"
        )
        p.add_argument(
            "--list-date", type=_list_date, help="名单日期(部门出具名单的日期)YYYY-MM-DD;缺省为今天"
        )
        p.add_argument("--report", help="有错误行时,把错误行和原因写入此 xlsx")
        p.add_argument("--dry-run", action="store_true", help="只检查,不写入")
        p.set_defaults(func=cmd_import_list, list_kind=kind.value)

    p = sub.add_parser(
        "compare",
        help="运行四查三比对:户籍名单与学籍比对,重建适龄儿童台账和核实任务,打印各结果人数 (run the comparison)",
    )
    p.set_defaults(func=cmd_compare)

    ladder_commands = sub.add_parser("ladder", help="劝返复学 (the return ladder)").add_subparsers(
        dest="ladder_command", metavar="子命令"
    )
    p = ladder_commands.add_parser(
        "advance",
        help="每日推进:为尚无步骤的疑似辍学、辍学个案开始学校劝返,把逾期的步骤升级到下一级;可重复运行 "
        "(open first steps, escalate overdue steps; idempotent)",
    )
    p.set_defaults(func=cmd_ladder_advance)

    summary_commands = sub.add_parser(
        "summaries", help="各县区对比的汇总数 (the county figures of the city and province pages)"
    ).add_subparsers(dest="summaries_command", metavar="子命令")
    p = summary_commands.add_parser(
        "refresh",
        help="重新汇总各县区的数字(定时任务每 XUEJI_SUMMARY_MINUTES 分钟运行一次) (refresh the county figures)",
    )
    p.add_argument("--county", help="只汇总一个县区(县区代码)")
    p.set_defaults(func=cmd_summaries_refresh)

    sweep_commands = sub.add_parser("sweep", help="拉网式排查 (household sweep)").add_subparsers(
        dest="sweep_command", metavar="子命令"
    )
    p = sweep_commands.add_parser(
        "sheet", help="下载村排查登记表(预填已知的户和孩子,带下拉列表) (village sheet)"
    )
    p.add_argument("--village", required=True, help="村/社区 12 位行政区划代码")
    p.add_argument("--term", help="学期,如 2026-1;缺省为今天所在学期")
    p.add_argument("--out", help="写出的文件名;缺省为“村名排查登记表.xlsx”")
    p.add_argument("--reason", required=True, help="下载事由(表中含完整身份证号),记入审计日志")
    p.set_defaults(func=cmd_sweep_sheet)

    case_commands = sub.add_parser("cases", help="个案 (cases)").add_subparsers(
        dest="cases_command", metavar="子命令"
    )
    p = case_commands.add_parser(
        "open-lost",
        help="为开学一周后仍未报到的流生建立疑似辍学个案(可每日定时运行) (open cases for lost students)",
    )
    p.set_defaults(func=cmd_open_lost)

    setup_commands = sub.add_parser(
        "setup", help="上线设置:县区、乡镇、村社区、学校、学期 (set up the county)"
    ).add_subparsers(dest="setup_command", metavar="子命令")
    p = setup_commands.add_parser(
        "template", help="写出空白上线设置导入模板 (write the blank set-up workbook)"
    )
    p.add_argument("file", help="输出文件,如 上线设置模板.xlsx")
    p.add_argument(
        "--city", action="store_true", help="市、省一级部署的模板,含“市州”表 (with the 市州 sheet)"
    )
    p.set_defaults(func=cmd_setup_template)
    p = setup_commands.add_parser(
        "import",
        help="导入上线设置工作簿:逐行检查,全部无误才写入,再次导入不重复、不删除;有错误时返回非零 (import it)",
    )
    p.add_argument("file", help="上线设置工作簿 .xlsx")
    p.add_argument("--dry-run", action="store_true", help="只检查并列出将新增、修改的内容,不写入")
    p.add_argument("--errors-out", dest="report", help="有错误时,把各表有错误的行和原因写入此 xlsx")
    p.set_defaults(func=cmd_setup_import)

    p = sub.add_parser("rollover", help="学年升级:六年级、九年级毕业,建立新学年 (start a school year)")
    p.add_argument("--year", type=int, required=True, help="升入的学年的开始年份,如 2027")
    p.add_argument("--dry-run", action="store_true", help="只预览,不修改")
    p.add_argument("--undo", action="store_true", help="撤销该学年的升级(须为最近一次)")
    p.add_argument("--reason", help="上一学年最后一个学期结束前提前升级的原因(此时必填,记入审计日志)")
    p.set_defaults(func=cmd_rollover)

    audit = sub.add_parser("audit", help="审计日志 (audit log)").add_subparsers(
        dest="audit_command", metavar="子命令"
    )
    p = audit.add_parser("verify", help="校验审计日志的签名链和全部锚点 (verify the chain and the anchors)")
    p.add_argument("--county", help="只校验该县区的链(12位行政区划代码):各县区的链相互独立")
    p.set_defaults(func=cmd_audit_verify)
    p = audit.add_parser(
        "seal", help="封存待封存的审计记录,直到队列为空 (seal the queued entries into their chains)"
    )
    p.add_argument("--batch", type=int, default=2000, help="每个事务封存的条数(默认 2000)")
    p.set_defaults(func=cmd_audit_seal)
    p = audit.add_parser(
        "anchor", help="校验后把日志末条的哈希、条数和时间追加到锚点文件并打印 (anchor the log's head)"
    )
    p.set_defaults(func=cmd_audit_anchor)

    report = sub.add_parser("report", help="报表 (reports)").add_subparsers(
        dest="report_command", metavar="子命令"
    )
    p = report.add_parser("ledger", help="导出某月的月度台账 xlsx:各校汇总、明细和口径 (the monthly ledger)")
    p.add_argument("--month", required=True, help="月份 YYYY-MM,如 2026-10")
    p.add_argument("--school", help="只导出该校(10位学校标识码)")
    p.add_argument("-o", "--output", required=True, help="输出文件,如 台账_2026-10.xlsx")
    p.set_defaults(func=cmd_report_ledger)
    p = report.add_parser(
        "monthly", help="导出(并可报送)某校某月的四个一月报 xlsx (a school's monthly report)"
    )
    p.add_argument("--school", required=True, help="学校标识码(10位)")
    p.add_argument("--month", required=True, help="月份 YYYY-MM,如 2026-10")
    p.add_argument("-o", "--output", required=True, help="输出文件,如 月报_2026-10.xlsx")
    p.add_argument("--submit", action="store_true", help="同时报送(须以本校学籍管理员账号 --as 执行)")
    p.set_defaults(func=cmd_report_monthly)
    p = report.add_parser(
        "quarterly", help="导出县级季报:.xlsx 数据表或 .docx 文字报告 (the county's quarterly pack)"
    )
    p.add_argument("--quarter", required=True, help="季度 YYYY-Qn,如 2026-Q4")
    p.add_argument("-o", "--output", required=True, help="输出文件,以 .xlsx 或 .docx 结尾")
    p.set_defaults(func=cmd_report_quarterly)

    p = sub.add_parser(
        "notify",
        help="给各学校、乡镇的企业微信/钉钉群发送待办提醒(只有件数) (send each group robot its digest)",
    )
    p.add_argument("--dry-run", action="store_true", help="只打印每个群将收到的消息,不发送")
    p.add_argument("--only", help="只处理一个群:school:学校标识码 或 township:乡镇代码")
    p.set_defaults(func=cmd_notify)

    p = sub.add_parser("backup", help="在线备份整个数据库到文件(可在应用运行时执行) (back up the database)")
    p.add_argument("file", help="备份文件;SQLite 为数据库副本,PostgreSQL 为 pg_dump 自定义格式")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="把备份恢复到一个空数据库 (restore a backup into an empty database)")
    p.add_argument("file", help="xueji backup 写出的备份文件")
    p.add_argument("--into", help="目标数据库 URL(须为空库);缺省为 XUEJI_DATABASE_URL")
    p.set_defaults(func=cmd_restore)

    for action in sub.choices.values():
        _add_as(action)
    return parser


def _add_as(parser: argparse.ArgumentParser) -> None:
    """Every command takes --as USER; subcommands too."""
    parser.add_argument(
        "--as",
        dest="as_user",
        default=argparse.SUPPRESS,
        help="以该账号身份执行并记入审计日志;缺省为内置系统操作员 (act as USER)",
    )
    for action in parser._subparsers._group_actions if parser._subparsers else []:  # noqa: SLF001
        for child in getattr(action, "choices", {}).values():
            _add_as(child)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    args.as_user = getattr(args, "as_user", None)
    try:
        with audit_context.use(audit_context.command_line_origin()):
            return int(args.func(args))
    except (SettingsError, AuditKeyError) as exc:
        print(f"配置错误:{exc}", file=sys.stderr)
        return 2
    except (
        accounts.AccountError,
        PermissionDenied,
        TemplateError,
        file_import.ImportBlocked,
        rollover.RolloverError,
        visit_import.VisitImportBlocked,
        home_visit_import.HomeVisitImportBlocked,
        records.HomeTeachingError,
        handling.CaseError,
        fieldwork.SweepError,
        sheet_import.SweepImportBlocked,
        list_import.ListImportBlocked,
        workbook_import.SetupImportBlocked,
        backup.BackupError,
        AnchorFileError,
        audit_log.AnchorRefused,
        NotifyError,
    ) as exc:
        print(f"错误:{exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file named on the command line that is missing, a folder, or not readable
        if exc.filename is None:
            raise
        reason = {
            FileNotFoundError: "文件不存在",
            IsADirectoryError: "这是一个文件夹",
            PermissionError: "没有权限",
        }
        print(f"错误:无法读写文件 {exc.filename}:{reason.get(type(exc), exc.strerror)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
