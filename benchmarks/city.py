# ruff: noqa: S608 - the SQL is built from the models' table and column names and numbers, never from input
"""A city of several counties made from one in SQL: every row of the county (townships, villages, schools, classes,
students, children, cases, visits, status changes, sweeps, home teaching, reports …) copied with INSERT … SELECT,
ids offset per copy and the unique codes rewritten (division codes get the copy's county digits, school codes its
own digits 3–4, ID and registry numbers a letter in place of the first digit), so that ten 300,000-student
counties take minutes, not the hours of generating them. Accounts, the audit log and the calendar are not copied:
the copies' rows keep pointing at the first county's accounts. Used by benchmarks/dashboard.py --city and by
tests/integration/test_county_summaries.py."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, select, text
from sqlmodel import SQLModel

import xueji.models  # noqa: F401 - every table in the metadata
from xueji.models import AppUser, City, County, Province
from xueji.rules.vocab import Role, ScopeKind

NOT_COPIED = frozenset(
    {
        "county",
        "county_figure",
        "app_user",
        "audit_log",
        "role_grant",
        "role_grant_class",
        "robot_hook",
        "form_draft",
        "web_session",
    }
)
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"  # the copy's first character of an ID number (never a digit: no clash)


def county_tables() -> list[Table]:
    """The tables holding a county's rows (reached from county by foreign keys), parents first."""
    held = {"county"}
    tables = SQLModel.metadata.sorted_tables
    changed = True
    while changed:
        changed = False
        for t in tables:
            if t.name in held or t.name in NOT_COPIED:
                continue
            if any(fk.column.table.name in held for fk in t.foreign_keys):
                held.add(t.name)
                changed = True
    return [t for t in tables if t.name in held and t.name != "county"]


@dataclass(frozen=True)
class Copy:
    number: int  # 1, 2, …: the copy's place (ids offset by number × the source's largest id)
    county_id: int
    county_code: str  # 12 digits
    school_digits: str  # 2 digits, the school codes' digits 3–4


def _expression(table: Table, column, copy: Copy, offsets: dict[str, int], source_county: int) -> str:  # noqa: ANN001
    name = f'"{column.name}"'
    code6 = copy.county_code[:6]
    if column.primary_key and column.name == "id":
        return f"{name} + {copy.number * offsets[table.name]}"
    targets = {fk.column.table.name for fk in column.foreign_keys}
    if "county" in targets:
        return f"CASE WHEN {name} = {source_county} THEN {copy.county_id} ELSE {name} END"
    copied = targets & offsets.keys()
    if copied:
        return f"{name} + {copy.number * offsets[copied.pop()]}"
    if (table.name, column.name) in {("township", "code"), ("village", "code")}:
        return f"'{code6}' || substr({name}, 7)"
    if (table.name, column.name) == ("school", "code"):
        return f"substr({name}, 1, 2) || '{copy.school_digits}' || substr({name}, 5)"
    if (table.name, column.name) == ("student", "id_number"):
        return f"'{LETTERS[copy.number - 1]}' || substr({name}, 2)"
    if (table.name, column.name) == ("student", "registry_number"):
        return f"substr({name}, 1, 1) || '{LETTERS[copy.number - 1]}' || substr({name}, 3)"
    return name


def _check_codes(conn: Connection, county_code: str, offsets: dict[str, int]) -> str:
    """The source's codes must follow the county's (division codes) and share digits 1–4 (school codes), so the
    rewritten codes cannot meet another copy's; return the school codes' digits 3–4."""
    prefix = county_code[:6]
    for table in ("township", "village"):
        stray = conn.scalar(
            text(f"SELECT count(*) FROM {table} WHERE id <= {offsets[table]} AND substr(code, 1, 6) <> :p"),
            {"p": prefix},
        )
        if stray:
            raise ValueError(f"{table}: {stray} codes outside county {county_code}")
    heads = (
        conn.execute(text(f"SELECT DISTINCT substr(code, 1, 4) FROM school WHERE id <= {offsets['school']}"))
        .scalars()
        .all()
    )
    if len(heads) != 1:
        raise ValueError(f"school codes do not share digits 1-4: {heads}")
    return heads[0][2:4]


def ensure_city(conn: Connection, *, code: str = "430100000000", name: str = "长沙市") -> int:
    """The city (and its province) every county is put under; made once."""
    city = conn.scalar(select(City.id).where(City.code == code))
    if city is None:
        province = conn.scalar(select(Province.id).where(Province.code == code[:2] + "0" * 10))
        if province is None:
            province = conn.execute(
                Province.__table__.insert().values(code=code[:2] + "0" * 10, name="湖南省")  # type: ignore[attr-defined]
            ).inserted_primary_key[0]
        city = conn.execute(
            City.__table__.insert().values(code=code, name=name, province_id=province)  # type: ignore[attr-defined]
        ).inserted_primary_key[0]
    conn.execute(County.__table__.update().values(city_id=city))  # type: ignore[attr-defined]
    return int(city)


def ensure_officer(conn: Connection, city_id: int, username: str = "bench_city") -> None:
    """A city officer account (no password: benchmarks act as it directly)."""
    if conn.scalar(select(AppUser.id).where(AppUser.username == username)) is None:
        conn.execute(
            AppUser.__table__.insert().values(  # type: ignore[attr-defined]
                username=username,
                display_name="市教育局",
                role=Role.CITY_OFFICER.value,
                scope_kind=ScopeKind.CITY.value,
                city_id=city_id,
                must_change_password=False,
                is_active=True,
                failed_logins=0,
                created_at=func.now(),
            )
        )


def clone_counties(conn: Connection, total: int, *, log=print) -> list[int]:  # noqa: ANN001
    """Make the database's first county into `total` counties of one city (copies 2..total made as needed, so
    a run cut short resumes); return the county ids. The caller commits."""
    source_id, source_code, source_name = conn.execute(
        select(County.id, County.code, County.name).order_by(County.id).limit(1)
    ).one()
    city = ensure_city(conn)
    tables = county_tables()
    have = conn.execute(select(County.id).order_by(County.id)).scalars().all()
    offsets = _offsets(conn, tables, len(have))
    digits = _check_codes(conn, source_code, offsets) if len(have) < total else "00"
    for number in range(len(have), total):
        code = f"{source_code[:4]}{int(source_code[4:6]) + number:02d}{source_code[6:]}"
        county_id = conn.execute(
            County.__table__.insert().values(code=code, name=f"{source_name}{number + 1:02d}", city_id=city)  # type: ignore[attr-defined]
        ).inserted_primary_key[0]
        copy = Copy(number, int(county_id), code, f"{int(digits) + number:02d}")
        for table in tables:
            columns = ", ".join(f'"{c.name}"' for c in table.columns)
            values = ", ".join(_expression(table, c, copy, offsets, source_id) for c in table.columns)
            conn.execute(
                text(
                    f'INSERT INTO "{table.name}" ({columns}) SELECT {values} FROM "{table.name}" '
                    f"WHERE id <= {offsets[table.name]}"
                )
            )
        _reset_sequences(conn, tables)
        conn.commit()
        log(f"  county {number + 1}/{total} ({code}) copied")
    return list(conn.execute(select(County.id).order_by(County.id)).scalars())


def _offsets(conn: Connection, tables: list[Table], counties: int) -> dict[str, int]:
    """Each table's id offset per copy: the source county's largest id (with copies made already, the largest id
    divided by the number of counties, which is what it was)."""
    offsets = {}
    for table in tables:
        largest = int(conn.scalar(text(f'SELECT coalesce(max(id), 0) FROM "{table.name}"')) or 0)
        offsets[table.name] = max(1, -(-largest // counties))
    return offsets


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'(SELECT coalesce(max(id), 1) FROM "{table.name}"))'
            )
        )
