"""The name matcher on a county: a register of N children drawn from the county's registry, with planted typos
(homophone names, one wrong character, one wrong ID digit, two swapped digits: every number valid, its check digit
recomputed, as both imports refuse one that fails it) and look-alikes (the same name and
birthday, another child); prints the candidates' precision and recall against the planted truth, and the time of
refresh_candidates against the bare blocking query it sends (a ratio).

    .venv/bin/python benchmarks/matching.py [--children 20000] [--copies 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session, col

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import build, fastest  # noqa: E402
from xueji.db import make_engine  # noqa: E402
from xueji.models import County, DeptList, DeptPerson, MatchCandidate, School, Student, Township  # noqa: E402
from xueji.rules.dept_lists import ListKind, person_key  # noqa: E402
from xueji.rules.id_number import check_digit  # noqa: E402
from xueji.rules.pinyin import char_readings  # noqa: E402
from xueji.services.comparisons import matching  # noqa: E402

KINDS = ("homophone", "one_char", "one_digit", "swapped", "lookalike_numbered", "lookalike_temporary")


def _homophone_of(chars: set[str]) -> dict[str, list[str]]:
    by_reading: dict[str, list[str]] = {}
    for c in sorted(chars):
        if readings := char_readings(c):
            by_reading.setdefault(readings[0], []).append(c)
    return {c: [o for o in by_reading[char_readings(c)[0]] if o != c] for c in chars if char_readings(c)}


def _valid(first17: str) -> str:
    return first17 + check_digit(first17)


def _new_id(rng: random.Random, born: date) -> str:
    """Another child's number: valid, as both imports require."""
    return _valid(f"43018{rng.randint(1, 9)}{born:%Y%m%d}{rng.randint(500, 999)}")


def _retyped(rng: random.Random, number: str, swap: bool, taken: set[str]) -> str:
    """The realistic typing error: a digit of the sequence changed, or two adjacent ones swapped, the check digit
    recomputed (a form re-keyed by a system that computes it); never another record's number."""
    while True:
        digits = list(number[:17])
        j = rng.randrange(14, 16 if swap else 17)
        if swap and digits[j] != digits[j + 1]:
            digits[j], digits[j + 1] = digits[j + 1], digits[j]
        else:
            digits[j] = str((int(digits[j]) + rng.randint(1, 9)) % 10)
        typed = _valid("".join(digits))
        if typed not in taken:
            return typed


def plant(session: Session, n: int, seed: int) -> tuple[int, list[int], set[tuple[int, int]]]:
    """Insert a register of n children; return the list id, the persons to match, and the true (person, record)."""
    rng = random.Random(seed)
    county = session.scalars(select(County.id)).first()
    schools = select(School.id).join(Township).where(Township.county_id == county)
    records = session.execute(
        select(
            Student.id,
            Student.name,
            Student.sex,
            Student.birth_date,
            Student.id_number,
            Student.home_village_id,
        )
        .where(col(Student.school_id).in_(schools), col(Student.id_number).is_not(None))
        .order_by(Student.id)
    ).all()
    chosen = rng.sample(records, min(n, len(records)))
    taken = {r.id_number for r in records}
    sounds = _homophone_of({c for r in chosen for c in r.name})
    chars = sorted({c for r in chosen for c in r.name})
    listed = DeptList(county_id=county, kind=ListKind.RESIDENTS.value, version=1, list_date=date(2026, 9, 1))
    session.add(listed)
    session.flush()
    rows, truth_of, temporary = [], {}, []
    planted = len(chosen) // 20  # 5 % of the register per kind of typo
    for i, r in enumerate(chosen):
        kind = KINDS[i // planted] if i < planted * len(KINDS) else "exact"
        name, number = r.name, r.id_number
        if kind == "homophone":
            spots = [j for j, c in enumerate(name) if j and sounds.get(c)]
            if spots:
                j = rng.choice(spots)
                name = name[:j] + rng.choice(sounds[name[j]]) + name[j + 1 :]
            temporary.append(r.id)
            number = _new_id(rng, r.birth_date)
        elif kind == "one_char":
            j = rng.randrange(1, len(name))
            name = name[:j] + rng.choice([c for c in chars if c != name[j]]) + name[j + 1 :]
            temporary.append(r.id)
            number = _new_id(rng, r.birth_date)
        elif kind in ("one_digit", "swapped"):
            number = _retyped(rng, number, kind == "swapped", taken)
        elif kind.startswith("lookalike"):
            number = _new_id(rng, r.birth_date)  # another child of the same name and birthday
            if kind == "lookalike_temporary":
                temporary.append(r.id)
        key = person_key(id_number=number, name=name, birth_date=r.birth_date)
        rows.append(
            {"list_id": listed.id, "row_number": i + 2, "person_key": key, "name": name, "sex": r.sex,
             "birth_date": r.birth_date, "id_number": number, "village_id": r.home_village_id, "detail": {}}
        )  # fmt: skip
        if kind in ("homophone", "one_char", "one_digit", "swapped"):
            truth_of[key] = r.id
    for part in range(0, len(temporary), 5000):
        session.execute(
            update(Student).where(col(Student.id).in_(temporary[part : part + 5000])).values(id_number=None)
        )
    session.execute(insert(DeptPerson), rows)
    persons = session.execute(
        select(DeptPerson.id, DeptPerson.person_key).where(DeptPerson.list_id == listed.id)
    )
    ids, truth = [], set()
    by_key = dict(persons.all())
    matched = set(
        session.scalars(
            select(DeptPerson.id)
            .join(Student, Student.id_number == DeptPerson.id_number)
            .where(DeptPerson.list_id == listed.id)
        )
    )
    for pid, key in by_key.items():
        if pid not in matched:
            ids.append(pid)
        if key in truth_of:
            truth.add((pid, truth_of[key]))
    session.commit()
    return int(listed.id or 0), ids, truth


def report(name: str, url: str, n: int, repeat: int) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        session.execute(delete(MatchCandidate))
        session.execute(delete(DeptPerson))
        session.execute(delete(DeptList))
        session.commit()
        students = session.scalar(select(func.count()).select_from(Student))
        list_id, ids, truth = plant(session, n, seed=25)
        county = session.scalars(select(County.id)).first() or 0

        def service() -> None:
            matching.refresh_candidates(session, county_id=county, list_id=list_id, person_ids=ids)

        def bare() -> None:
            session.execute(matching.blocking_query(county, list_id, ids)).all()

        service()
        found = set(session.execute(select(MatchCandidate.person_id, MatchCandidate.student_id)).all())
        a, b = fastest(repeat, bare), fastest(repeat, service)
        session.rollback()
    hit = len(found & truth)
    print(
        f"{name}: {students:,} registry records, a register of {n:,}, {len(ids):,} without an exact ID match"
    )
    print(f"  candidates {len(found):,}, planted true pairs {len(truth):,}, found {hit:,}")
    print(f"  precision {hit / max(1, len(found)):.3f}  recall {hit / max(1, len(truth)):.3f}")
    print(f"  blocking query {a * 1000:.0f} ms, refresh_candidates {b * 1000:.0f} ms, ratio {b / a:.2f}")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--copies", type=int, default=3, help="each demo school this many times")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="SQLite file to build once and reuse")
    parser.add_argument("--postgres", default=os.environ.get("XUEJI_TEST_PG_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{args.db or Path(tmp) / 'county.db'}"
        build(url, args.copies)
        report("SQLite", url, args.children, args.repeat)
        if args.postgres:
            build(args.postgres, args.copies)
            report("PostgreSQL", args.postgres, args.children, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
