"""Benchmark: a large county set up from its workbooks, against the bare inserts of the same rows.

    python benchmarks/setup_import.py [--townships 30] [--villages 600] [--schools 400] [--accounts 6000]
                                      [--postgres URL] [--repeat 3]

In the same run, on a fresh empty database each time (SQLite, and PostgreSQL when a URL is given):
(a) the set-up workbook (县区, 乡镇, 村社区, 学校, 学期) imported by services.setup.workbook_import.commit_workbook,
    its file read in the reading process, every row checked against the file and the database, audited;
(b) the account workbook (账号 with a registrar and teachers per school and a 乡镇干部 per township; 任教班级 with a
    head teacher per class, the classes created) imported as `xueji user import` does (check_accounts +
    create_accounts: one-time passwords, audit entries);
against (c) the bare inserts of the same rows: one executemany per table on the driver's cursor, with the
accounts' one-time passwords hashed the same way (services.system.batch_passwords: a stored account row needs
its hash, so the hashing is on both sides and printed apart). Prints each ratio (target ≤ 3× for the whole
set-up); fastest of --repeat. Exits non-zero when the target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XUEJI_AUDIT_KEY", "be" * 32)
os.environ.setdefault("XUEJI_TODAY", "2026-11-23")

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from xueji.db import make_engine, migrate  # noqa: E402
from xueji.excel.account_template import AccountLine, ClassLine  # noqa: E402
from xueji.excel.account_template import filled_workbook as account_workbook  # noqa: E402
from xueji.excel.setup_template import filled_workbook as setup_workbook  # noqa: E402
from xueji.models import (  # noqa: E402
    AppUser,
    County,
    School,
    SchoolClass,
    SchoolYear,
    Term,
    Township,
    Village,
)
from xueji.rules.setup_rows import (  # noqa: E402
    COUNTY_SHEET,
    SCHOOL_SHEET,
    TERM_SHEET,
    TOWNSHIP_SHEET,
    VILLAGE_SHEET,
)
from xueji.rules.term_calendar import TERM_NAMES  # noqa: E402
from xueji.rules.terms import default_terms, school_year_bounds  # noqa: E402
from xueji.rules.vocab import Role, SchoolKind, ScopeKind  # noqa: E402
from xueji.services.setup import account_import, workbook_import  # noqa: E402
from xueji.services.system import batch_passwords  # noqa: E402
from xueji.services.system.accounts import system_actor  # noqa: E402

COUNTY = ("439901000000", "示范县")
TARGET = 3.0


class County_:
    """The rows of a made-up large county, the same for the import and the bare inserts."""

    def __init__(self, townships: int, villages: int, schools: int, accounts: int) -> None:
        self.townships = [(f"439901{100 + t:03d}000", f"第{t + 1}镇") for t in range(townships)]
        self.villages = [
            (f"{self.townships[v % townships][0][:9]}{200 + v // townships:03d}", f"第{v + 1}村")
            for v in range(villages)
        ]
        kinds = (SchoolKind.PRIMARY, SchoolKind.PRIMARY, SchoolKind.JUNIOR, SchoolKind.NINE_YEAR)
        self.schools = [
            (f"21{43000000 + s:08d}", f"第{s + 1}学校", kinds[s % 4], self.townships[s % townships][0])
            for s in range(schools)
        ]
        self.terms = [t for year in (2025, 2026) for t in default_terms(year)]
        self.accounts: list[AccountLine] = [
            AccountLine(f"tw{t:03d}", f"乡镇干部{t}", Role.TOWNSHIP_OFFICIAL, code)
            for t, (code, _) in enumerate(self.townships)
        ]
        self.classes: list[ClassLine] = []
        per_school, extra = divmod(accounts - townships, schools)
        for s, (code, _, kind, _) in enumerate(self.schools):
            self.accounts.append(AccountLine(f"r{s:04d}", f"学籍员{s}", Role.REGISTRAR, code))
            stage = kind.stages[-1]
            for t in range(per_school - 1 + (s < extra)):
                username = f"t{s:04d}{t:02d}"
                self.accounts.append(AccountLine(username, f"教师{s}-{t}", Role.TEACHER, code))
                entry_year = 2026 - t % stage.years
                self.classes.append(
                    ClassLine(username, code, f"{entry_year}{stage.value}{t // stage.years + 1:02d}", True)
                )

    def setup_bytes(self) -> bytes:
        return setup_workbook(
            {
                COUNTY_SHEET: [COUNTY],
                TOWNSHIP_SHEET: self.townships,
                VILLAGE_SHEET: self.villages,
                SCHOOL_SHEET: [(c, n, k.label, t) for c, n, k, t in self.schools],
                TERM_SHEET: [
                    (f"{t.school_year_start}-{t.school_year_start + 1}", TERM_NAMES[t.seq], t.start, t.end)
                    for t in self.terms
                ],
            }
        )

    def account_bytes(self) -> bytes:
        return account_workbook(self.accounts, self.classes)


def fresh(url: str, tmp: Path, n: int) -> str:
    """An empty migrated database: a new SQLite file, or a new PostgreSQL database on the server of url."""
    if url.startswith("sqlite"):
        target = f"sqlite:///{tmp / f'county{n}.db'}"
    else:
        name = f"xueji_bench_setup_{os.getpid()}_{n}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        target = make_url(url).set(database=name).render_as_string(hide_password=False)
    migrate(make_engine(target))
    return target


def imported(url: str, county: County_, setup: bytes, accounts: bytes) -> tuple[float, float]:
    engine = make_engine(url)
    with Session(engine) as session:
        actor = system_actor(session)
        started = time.perf_counter()
        workbook_import.commit_workbook(session, actor=actor, data=setup, file_name="基础数据.xlsx")
        middle = time.perf_counter()
        sheet = account_import.check_accounts(
            session, actor=actor, data=accounts, file_name="账号.xlsx", command_line_roles=True
        )
        assert not sheet.problems, sheet.problems
        account_import.create_accounts(session, actor=actor, sheet=sheet)
        ended = time.perf_counter()
        made = session.scalar(select(AppUser.id).order_by(AppUser.id.desc()).limit(1))  # type: ignore[union-attr]
        assert made and made >= len(county.accounts)
    engine.dispose()
    return middle - started, ended - middle


def bare(url: str, county: County_) -> tuple[float, float, float]:
    """(divisions, schools and terms; accounts and classes without hashing; hashing) of the bare inserts."""
    engine = make_engine(url)
    with engine.begin() as conn:
        started = time.perf_counter()
        county_id = conn.execute(
            insert(County).returning(County.id), [{"code": COUNTY[0], "name": COUNTY[1]}]
        ).scalar_one()
        conn.execute(
            insert(Township), [{"county_id": county_id, "code": c, "name": n} for c, n in county.townships]
        )
        townships = dict(conn.execute(select(Township.code, Township.id)).all())
        conn.execute(
            insert(Village),
            [{"township_id": townships[c[:9] + "000"], "code": c, "name": n} for c, n in county.villages],
        )
        conn.execute(
            insert(School),
            [
                {"township_id": townships[t], "code": c, "name": n, "kind": k.value}
                for c, n, k, t in county.schools
            ],
        )
        for year in (2025, 2026):
            first, last = school_year_bounds(year)
            year_id = conn.execute(
                insert(SchoolYear).returning(SchoolYear.id),
                [{"start_year": year, "start_date": first, "end_date": last}],
            ).scalar_one()
            conn.execute(
                insert(Term),
                [
                    {"school_year_id": year_id, "seq": t.seq, "start_date": t.start, "end_date": t.end}
                    for t in default_terms(year)
                ],
            )
        divisions = time.perf_counter() - started
        started = time.perf_counter()
        hashes = [issued.password_hash for issued in batch_passwords.one_time_passwords(len(county.accounts))]
        hashing = time.perf_counter() - started
        started = time.perf_counter()
        schools = dict(conn.execute(select(School.code, School.id)).all())
        scope = {ScopeKind.SCHOOL: schools, ScopeKind.TOWNSHIP: townships}
        rows = []
        for line, password_hash in zip(county.accounts, hashes, strict=True):
            kind = ScopeKind.TOWNSHIP if line.role is Role.TOWNSHIP_OFFICIAL else ScopeKind.SCHOOL
            rows.append(
                {
                    "username": line.username,
                    "display_name": line.name,
                    "role": Role(line.role).value,
                    "scope_kind": kind.value,
                    "county_id": None,
                    "township_id": None,
                    "school_id": None,
                    f"{kind.value}_id": scope[kind][line.scope_code],
                    "password_hash": password_hash,
                    "must_change_password": True,
                }
            )
        conn.execute(insert(AppUser), rows)
        users = dict(conn.execute(select(AppUser.username, AppUser.id)).all())
        conn.execute(
            insert(SchoolClass),
            [
                {"school_id": schools[c.school_code], "code": c.class_code, "head_teacher_id": users[c.username],
                 "head_teacher_name": c.username}
                for c in county.classes
            ],
        )  # fmt: skip
        accounts = time.perf_counter() - started
    engine.dispose()
    return divisions, accounts, hashing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--townships", type=int, default=30)
    parser.add_argument("--villages", type=int, default=600)
    parser.add_argument("--schools", type=int, default=400)
    parser.add_argument("--accounts", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("XUEJI_TEST_PG_URL"))
    args = parser.parse_args()
    county = County_(args.townships, args.villages, args.schools, args.accounts)
    setup, accounts = county.setup_bytes(), county.account_bytes()
    print(
        f"县区:{len(county.townships)} 个乡镇,{len(county.villages)} 个村,{len(county.schools)} 所学校,"
        f"{len(county.accounts):,} 个账号,{len(county.classes):,} 个任教班级;"
        f"工作簿 {len(setup) / 1024:.0f} KB + {len(accounts) / 1024:.0f} KB"
    )
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", "sqlite://")] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
        for name, url in targets:
            runs = 0
            best_import = best_bare = (float("inf"),) * 3
            for _ in range(args.repeat):
                runs += 1
                a = imported(fresh(url, Path(tmp), runs), county, setup, accounts)
                runs += 1
                b = bare(fresh(url, Path(tmp), runs), county)
                best_import = min(best_import, (sum(a), *a))
                best_bare = min(best_bare, (sum(b), *b[:2], b[2]), key=lambda r: r[0])
            _, setup_s, accounts_s = best_import
            _, divisions_b, accounts_b, hashing_b = best_bare
            whole = (setup_s + accounts_s) / (divisions_b + accounts_b + hashing_b)
            print(f"{name}:")
            print(f"  {'part':<26} {'import':>9} {'bare':>9} {'ratio':>6}")
            print(
                f"  {'基础数据(县乡村校、学期)':<20} {setup_s:>8.2f}s {divisions_b:>8.2f}s {setup_s / divisions_b:>6.1f}"
            )
            print(
                f"  {'账号与任教班级(含密码散列)':<18} {accounts_s:>8.2f}s {accounts_b + hashing_b:>8.2f}s "
                f"{accounts_s / (accounts_b + hashing_b):>6.2f}   (其中散列 {hashing_b:.2f}s)"
            )
            print(
                f"  {'整个上线设置':<22} {setup_s + accounts_s:>8.2f}s {divisions_b + accounts_b + hashing_b:>8.2f}s {whole:>6.2f}"
            )
            ok &= whole <= TARGET
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
