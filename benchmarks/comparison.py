"""Benchmark: 三比对 of a county — a household register of 60,000 children against a 300,000-student registry and a
matching sweep — the whole run_comparison_in against the bare joins it needs.

    python benchmarks/comparison.py [--students 300000] [--register 60000] [--db PATH] [--postgres URL] [--repeat 3]

Builds (or reuses) a county made with bulk inserts (20 townships, 400 villages, 200 schools; the register: most
children matching a record by ID number, some with no record, a few with a mistyped number; this term's sweep of
a third of the register), then measures in the same run (a) the bare SQL: the register × registry join on the
ID number and the scan of the registry's children of age, as plain SELECTs with rows fetched, and (b) the whole
run_comparison_in (the ledger rebuilt from every source, the candidates searched, the groups and the tasks),
each repeat rolled back so that all start from the same state; and (a') the same joins written into plain tables
(the comparison materialises its ledger, a SELECT does not). Prints seconds, b / a and b / a'; the targets are
b / a ≤ 1.5 and b under 30 s on SQLite. ID numbers are realistic (region, birth date, a sequence per birth date,
a valid check digit); a mistyped number is one digit changed or two swapped, the check digit recomputed. Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XUEJI_TODAY", "2026-11-23")
os.environ.setdefault("XUEJI_AUDIT_KEY", "be" * 32)

from harness import fastest  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from xueji.db import make_engine, migrate  # noqa: E402
from xueji.locks import write_lock  # noqa: E402
from xueji.models import (  # noqa: E402
    County,
    DeptList,
    DeptPerson,
    Household,
    School,
    SchoolYear,
    Student,
    Sweep,
    SweepChild,
    SweepVillage,
    Term,
    Township,
    Village,
)
from xueji.rules.id_number import build_id_number, check_digit  # noqa: E402
from xueji.services.comparisons import groups, matching, tasks  # noqa: E402
from xueji.services.comparisons.compare import run_comparison_in  # noqa: E402
from xueji.services.comparisons.in_effect import school_age_reference  # noqa: E402
from xueji.services.system.accounts import system_actor  # noqa: E402

TOWNSHIPS, VILLAGES, SCHOOLS = 20, 20, 10  # townships; villages and schools per township
CHUNK = 10_000


REGION = "430181"


class Numbers:
    """Realistic ID numbers: the county's region, the birth date, a sequence of its own per birth date (unique)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.next: dict[date, int] = {}

    def issue(self, born: date, male: bool) -> str:
        sequence = self.next.get(born, 0)
        self.next[born] = sequence + 1
        number = build_id_number(REGION, born, sequence, male=male)
        self.used.add(number)
        return number

    def typo(self, number: str, rng: random.Random) -> str:
        """The realistic typing error: one of the sequence digits changed, or two adjacent ones swapped, the
        check digit recomputed (a form re-keyed by a system that computes it); never another child's number."""
        while True:
            digits = list(number[:17])
            i = rng.randrange(14, 17)
            if rng.random() < 0.5 and i < 16 and digits[i] != digits[i + 1]:
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
            else:
                digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
            first17 = "".join(digits)
            typed = first17 + check_digit(first17)
            if typed not in self.used:
                return typed


def _bulk(session: Session, model: type, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])


def build(url: str, students: int, register: int) -> None:
    """Migrate; make the county unless the database already holds students."""
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        if session.scalar(select(Student.id).limit(1)) is not None:
            return
        started = time.perf_counter()
        rng = random.Random(25)
        county = County(code="430181000000", name="测试县")
        session.add(county)
        session.flush()
        townships = [
            {"county_id": county.id, "code": f"430181{t:03d}000", "name": f"乡镇{t}"}
            for t in range(1, TOWNSHIPS + 1)
        ]
        _bulk(session, Township, townships)
        tids = list(session.scalars(select(Township.id).order_by(Township.id)))
        _bulk(
            session,
            Village,
            [
                {"township_id": t, "code": f"430181{i + 1:03d}{v:03d}", "name": f"村{i}-{v}"}
                for i, t in enumerate(tids)
                for v in range(1, VILLAGES + 1)
            ],
        )
        _bulk(
            session,
            School,
            [
                {"township_id": t, "code": f"21{i:04d}{s:04d}", "name": f"学校{i}-{s}", "kind": "nine_year"}
                for i, t in enumerate(tids)
                for s in range(SCHOOLS)
            ],
        )
        village_of = {
            t: list(session.scalars(select(Village.id).where(Village.township_id == t))) for t in tids
        }
        schools = session.execute(select(School.id, School.township_id)).all()
        first, last = date(2009, 1, 1), date(2021, 6, 30)  # some too young, some too old
        span = (last - first).days
        rows = []
        numbers = Numbers()
        for n in range(students):
            school, township = schools[n % len(schools)]
            born = first + timedelta(days=rng.randrange(span))
            rows.append(
                {
                    "school_id": school,
                    "name": f"学生{n}",
                    "sex": "男" if n % 2 else "女",
                    "birth_date": born,
                    "id_number": numbers.issue(born, male=bool(n % 2)),
                    "entry_month": "202009",
                    "home_village_id": rng.choice(village_of[township]),
                    "status": "enrolled" if n % 50 else "suspended",
                }
            )
        _bulk(session, Student, rows)
        year = SchoolYear(start_year=2026, start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
        session.add(year)
        session.flush()
        term = Term(school_year_id=year.id, seq=1, start_date=date(2026, 9, 1), end_date=date(2027, 1, 20))
        session.add(term)
        session.flush()
        listed = DeptList(
            county_id=county.id, kind="residents", version=1, list_date=date(2026, 11, 1), row_count=register
        )
        session.add(listed)
        session.flush()
        persons = []
        for i, row in enumerate(rng.sample(rows, register)):
            number, name = row["id_number"], row["name"]
            if i % 20 == 0:  # no registry record
                number, name = numbers.issue(row["birth_date"], male=row["sex"] == "男"), f"未入学{i}"
            elif i % 97 == 0:  # a mistyped number: a candidate, never a match
                number = numbers.typo(number, rng)
            village = row["home_village_id"] if i % 10 else rng.choice(village_of[rng.choice(tids)])
            persons.append(
                {
                    "list_id": listed.id,
                    "row_number": i + 2,
                    "person_key": number,
                    "name": name,
                    "sex": row["sex"],
                    "birth_date": row["birth_date"],
                    "id_number": number,
                    "village_id": village,
                    "detail": {},
                }
            )
        _bulk(session, DeptPerson, persons)
        sweeps = {}
        for t in tids:
            sweep = Sweep(
                term_id=term.id, township_id=t, reference_date=date(2026, 8, 31), due_date=date(2026, 10, 31)
            )
            session.add(sweep)
            session.flush()
            sweeps[t] = sweep.id
        _bulk(
            session,
            SweepVillage,
            [
                {"sweep_id": sweeps[t], "village_id": v, "status": "submitted"}
                for t in tids
                for v in village_of[t]
            ],
        )
        sweep_villages = dict(session.execute(select(SweepVillage.village_id, SweepVillage.id)).all())
        _bulk(
            session,
            Household,
            [
                {
                    "sweep_village_id": sv,
                    "head_name": "户主",
                    "visited_on": date(2026, 10, 1),
                    "recorded_at": date(2026, 10, 1),
                }
                for sv in sweep_villages.values()
            ],
        )
        household_of = dict(session.execute(select(Household.sweep_village_id, Household.id)).all())
        swept = []
        for p in persons[::3]:
            sv = sweep_villages[p["village_id"]]
            swept.append(
                {
                    "household_id": household_of[sv],
                    "sweep_village_id": sv,
                    "name": p["name"],
                    "sex": p["sex"],
                    "birth_date": p["birth_date"],
                    "id_number": p["id_number"],
                    "status": "local_school",
                    "recorded_at": date(2026, 10, 1),
                }
            )
        _bulk(session, SweepChild, swept)
        session.commit()
        print(
            f"  built {students:,} students, a register of {register:,}, {len(swept):,} swept, in {time.perf_counter() - started:.0f} s"
        )
    engine.dispose()


def bare_joins(session: Session, list_id: int) -> int:
    """The joins the comparison needs, as plain SELECTs with rows fetched: register × registry, registry scan."""
    _, (earliest, latest) = school_age_reference()
    joined = session.execute(
        text(
            "SELECT p.id, p.village_id, s.id, s.status, s.school_id FROM dept_person p "
            "LEFT JOIN student s ON s.id_number = p.id_number AND s.merged_into_id IS NULL "
            "WHERE p.list_id = :list AND p.birth_date BETWEEN :earliest AND :latest"
        ),
        {"list": list_id, "earliest": earliest, "latest": latest},
    ).fetchall()
    scanned = session.execute(
        text(
            "SELECT s.id, s.school_id, s.home_village_id, s.name, s.sex, s.birth_date, s.id_number, s.status "
            "FROM student s WHERE s.merged_into_id IS NULL AND s.status IN ('enrolled', 'suspended', 'dropped_out') "
            "AND s.birth_date BETWEEN :earliest AND :latest"
        ),
        {"earliest": earliest, "latest": latest},
    ).fetchall()
    return len(joined) + len(scanned)


def bare_joins_written(session: Session, list_id: int) -> None:
    """The same bare joins written into plain unindexed tables (CREATE TABLE … AS SELECT), then dropped: what
    materialising their rows costs, as the comparison materialises its ledger."""
    _, (earliest, latest) = school_age_reference()
    window = {"earliest": earliest, "latest": latest}
    session.execute(
        text(
            "CREATE TABLE bench_joined AS SELECT p.id AS person, p.village_id, p.person_key, p.name, p.sex, "
            "p.birth_date, p.id_number, s.id AS student, s.status, s.school_id FROM dept_person p "
            "LEFT JOIN student s ON s.id_number = p.id_number AND s.merged_into_id IS NULL "
            "WHERE p.list_id = :list AND p.birth_date BETWEEN :earliest AND :latest"
        ),
        {"list": list_id} | window,
    )
    session.execute(
        text(
            "CREATE TABLE bench_scanned AS SELECT s.id, s.school_id, s.home_village_id, s.name, s.sex, "
            "s.birth_date, s.id_number, s.status FROM student s WHERE s.merged_into_id IS NULL "
            "AND s.status IN ('enrolled', 'suspended', 'dropped_out') AND s.birth_date BETWEEN :earliest AND :latest"
        ),
        window,
    )
    session.execute(text("DROP TABLE bench_joined"))
    session.execute(text("DROP TABLE bench_scanned"))
    session.commit()


class Parts:
    """Time spent in the parts the comparison calls (the matcher's candidate search, the groups, the tasks)."""

    def __init__(self, skip_candidates: bool) -> None:
        self.spent: dict[str, float] = {}
        for module, name in (
            (matching, "refresh_candidates"),
            (groups, "apply_groups"),
            (tasks, "sync_tasks"),
        ):
            setattr(module, name, self._timed(name, getattr(module, name), skip_candidates))

    def _timed(self, name: str, function, skip: bool):  # noqa: ANN001, ANN202
        def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            started = time.perf_counter()
            try:
                return set() if skip and name == "refresh_candidates" else function(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - started

        return run


def report(name: str, url: str, repeat: int, parts: Parts) -> bool:
    engine = make_engine(url)
    with Session(engine) as session:
        actor = system_actor(session)
        county = session.scalar(select(County.id))
        list_id = session.scalar(select(DeptList.id))
        bare_rows = bare_joins(session, list_id)
        session.rollback()

        def whole() -> dict[str, int]:
            write_lock(session, f"county:{county}:compare")  # as run_comparison does
            counts = run_comparison_in(session, actor=actor, county_id=county)
            session.rollback()
            return counts

        counts = whole()  # warm
        a = fastest(repeat, lambda: (bare_joins(session, list_id), session.rollback()))
        written = fastest(repeat, lambda: bare_joins_written(session, list_id))
        parts.spent.clear()
        b = fastest(repeat, whole)
        inside = {k: v / repeat for k, v in parts.spent.items()}
        students = session.scalar(select(func.count()).select_from(Student))
    engine.dispose()
    ok = b / a <= 1.5 and (b < 30 or not name.startswith("SQLite"))
    print(f"{name}: {students:,} students, ledger of {counts['children']:,} children")
    print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"  bare joins ({bare_rows:,} rows), selected and fetched {a:7.2f} s")
    print(f"  the same joins written into plain tables  {written:7.2f} s")
    own = b - sum(inside.values())
    print(
        "  of the run: " + ", ".join(f"{k} {v:.2f} s" for k, v in inside.items()) + f"; the rest {own:.2f} s"
    )
    print(f"  the comparison without those parts: ratio {own / a:.2f}")
    print(
        f"  run_comparison_in    {b:7.2f} s   ratio {b / a:.2f} to the selects   {'met' if ok else 'MISSED'} "
        "(≤ 1.5×, < 30 s on SQLite)"
    )
    print(f"  run_comparison_in against the joins written into tables: ratio {b / written:.2f}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300_000)
    parser.add_argument("--register", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="SQLite file to build once and reuse")
    parser.add_argument("--postgres", help="also on this PostgreSQL database (built once, reused)")
    parser.add_argument(
        "--skip-candidates",
        action="store_true",
        help="leave out the matcher's candidate search (timed apart)",
    )
    args = parser.parse_args()
    parts = Parts(args.skip_candidates)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{args.db or Path(tmp) / 'comparison.db'}"
        build(url, args.students, args.register)
        ok &= report("SQLite", url, args.repeat, parts)
        if args.postgres:
            build(args.postgres, args.students, args.register)
            ok &= report("PostgreSQL", args.postgres, args.repeat, parts)
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
