"""The demo city (`xueji demo --city`): 湖南省 › 长沙市 with the demo county 浏阳市, built exactly as `xueji demo`
builds it, and two small counties (宁乡市, 长沙县: four schools and about 1,500 students each, from the same
generator), so that a city's and a province's officer have counties to supervise and compare.

The city and the two counties go in through the set-up import a city uses (its 市州 sheet: 浏阳市 joins 长沙市 there);
their county officers through the account import; the city's and the province's officers, which the account import
refuses (command-line roles), as `xueji user add` makes them. Their townships, villages and schools are
illustrative."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from xueji.db import refresh_statistics
from xueji.demo.accounts import DEMO_PASSWORD, import_accounts
from xueji.demo.build import DemoContext, DemoSpec, DemoSummary, load_demo, load_registry
from xueji.demo.geography import COUNTY, SchoolSpec, TownshipSpec
from xueji.demo.term_start import load_term_start
from xueji.excel.account_template import AccountLine
from xueji.excel.setup_template import filled_workbook
from xueji.models import AppUser, School, Student, Village
from xueji.rules.setup_rows import CITY_SHEET, COUNTY_SHEET, SCHOOL_SHEET, TOWNSHIP_SHEET, VILLAGE_SHEET
from xueji.rules.terms import school_year_start
from xueji.rules.vocab import Role, SchoolKind, ScopeKind
from xueji.services.setup import workbook_import
from xueji.services.system.accounts import add_account, new_account_values, system_actor

CITY = ("430100000000", "长沙市")
PROVINCE_CODE = "430000000000"


def _villages(township_code: str, names: str) -> tuple[tuple[str, str], ...]:
    prefix = township_code[:9]
    return tuple((f"{prefix}{200 + i:03d}", f"{name}村") for i, name in enumerate(names.split(), start=1))


@dataclass(frozen=True)
class SmallCounty:
    code: str
    name: str
    townships: tuple[TownshipSpec, ...]
    schools: tuple[SchoolSpec, ...]
    officer: tuple[str, str]  # (username, name) of its county officer


NINGXIANG = SmallCounty(
    "430182000000",
    "宁乡市",
    (
        TownshipSpec("430182105000", "花明楼镇", _villages("430182105000", "花明楼 炭子冲 刘家台 靳江")),
        TownshipSpec("430182106000", "灰汤镇", _villages("430182106000", "灰汤 东鹜山 金峰 紫龙")),
    ),
    (
        SchoolSpec("2143018201", "花明楼镇中心小学", "430182105000", SchoolKind.PRIMARY, 2, "430182105201"),
        SchoolSpec("2143018202", "花明楼镇中学", "430182105000", SchoolKind.JUNIOR, 2, "430182105202"),
        SchoolSpec("2143018203", "灰汤镇中心小学", "430182106000", SchoolKind.PRIMARY, 1, "430182106201"),
        SchoolSpec(
            "2143018204", "灰汤镇九年一贯制学校", "430182106000", SchoolKind.NINE_YEAR, 1, "430182106203"
        ),
    ),
    ("demo_county_ningxiang", "彭科长"),
)
CHANGSHA = SmallCounty(
    "430121000000",
    "长沙县",
    (
        TownshipSpec("430121103000", "黄兴镇", _villages("430121103000", "黄兴 蓝田 鹿芝岭 光明")),
        TownshipSpec("430121107000", "春华镇", _villages("430121107000", "春华 李公庙 龙王庙 九木")),
    ),
    (
        SchoolSpec("2143012101", "黄兴镇中心小学", "430121103000", SchoolKind.PRIMARY, 2, "430121103201"),
        SchoolSpec("2143012102", "黄兴镇中学", "430121103000", SchoolKind.JUNIOR, 2, "430121103202"),
        SchoolSpec("2143012103", "春华镇中心小学", "430121107000", SchoolKind.PRIMARY, 1, "430121107201"),
        SchoolSpec(
            "2143012104", "春华镇九年一贯制学校", "430121107000", SchoolKind.NINE_YEAR, 1, "430121107203"
        ),
    ),
    ("demo_county_changsha", "罗科长"),
)
SMALL_COUNTIES = (NINGXIANG, CHANGSHA)

# (username, name, role, scope kind, scope code): the supervising officers, made as on the command line.
SUPERVISORS = (
    ("demo_city", "唐督学", Role.CITY_OFFICER, ScopeKind.CITY, CITY[0]),
    ("demo_province", "谭处长", Role.PROVINCE_OFFICER, ScopeKind.PROVINCE, PROVINCE_CODE),
)


def city_workbook() -> bytes:
    """长沙市 and its three demo counties (浏阳市 joins its city), with the small counties' divisions and schools."""
    return filled_workbook(
        {
            CITY_SHEET: [CITY],
            COUNTY_SHEET: [COUNTY, *((c.code, c.name) for c in SMALL_COUNTIES)],
            TOWNSHIP_SHEET: [(t.code, t.name) for c in SMALL_COUNTIES for t in c.townships],
            VILLAGE_SHEET: [v for c in SMALL_COUNTIES for t in c.townships for v in t.villages],
            SCHOOL_SHEET: [
                (s.code, s.name, s.kind.label, s.township_code) for c in SMALL_COUNTIES for s in c.schools
            ],
        }
    )


def _small_county(session: Session, spec: DemoSpec, county: SmallCounty, used: set[str]) -> DemoSummary:
    """One small county's registry and its autumn term so far, from the demo's generator with its own seed."""
    rng = random.Random(f"{spec.seed}-{county.code}")
    ctx = DemoContext(
        spec=DemoSpec(
            seed=spec.seed, scale=spec.scale, today=spec.today, school_years_back=spec.school_years_back
        ),
        rng=rng,
        school_year=school_year_start(spec.today),
        used_id_numbers=used,
        county=(county.code, county.name),
        townships=county.townships,
        schools=county.schools,
    )
    codes = [s.code for s in county.schools]
    ctx.school_ids.update(
        {
            c: int(i)
            for c, i in session.execute(select(School.code, School.id).where(col(School.code).in_(codes)))
        }
    )
    ctx.village_ids.update(
        {
            c: int(i)
            for c, i in session.execute(
                select(Village.code, Village.id).where(
                    col(Village.code).in_([v for t in county.townships for v, _ in t.villages])
                )
            )
        }
    )
    load_registry(session, ctx)
    load_term_start(session, ctx)  # its reports and checks, so that 流生 and 人籍一致 compare with 浏阳市
    ctx.summary.townships = len(county.townships)
    ctx.summary.villages = sum(len(t.villages) for t in county.townships)
    return ctx.summary


def add_supervisors(session: Session) -> None:
    """demo_city (长沙市教育局) and demo_province (湖南省教育厅), with the demo password, as on the command line."""
    actor = system_actor(session)
    for username, name, role, kind, code in SUPERVISORS:
        values = new_account_values(
            session, username=username, display_name=name, role=role, scope_kind=kind, scope_code=code
        )
        add_account(
            session,
            actor,
            AppUser(**values),
            detail="演示市州账号",
            password=DEMO_PASSWORD,
            must_change=False,
        )


def load_demo_city(session: Session, spec: DemoSpec | None = None) -> dict[str, DemoSummary]:
    """Load the demo city into an empty database: the demo county as `load_demo` builds it, then 长沙市 with two
    small counties and the accounts that supervise them. Returns each county's summary by name."""
    spec = spec or DemoSpec()
    return {COUNTY[1]: load_demo(session, spec), **add_city(session, spec)}


def add_city(session: Session, spec: DemoSpec) -> dict[str, DemoSummary]:
    """Put the loaded demo county into 长沙市 and add the two small counties and the supervising accounts."""
    workbook_import.commit_workbook(
        session, actor=system_actor(session), data=city_workbook(), file_name="演示市州基础数据.xlsx"
    )
    used = set(session.scalars(select(Student.id_number).where(col(Student.id_number).is_not(None))))
    summaries = {county.name: _small_county(session, spec, county, used) for county in SMALL_COUNTIES}
    import_accounts(
        session,
        [AccountLine(c.officer[0], c.officer[1], Role.COUNTY_OFFICER, c.code) for c in SMALL_COUNTIES],
        [],
        file_name="演示市州账号.xlsx",
    )
    add_supervisors(session)
    session.commit()
    refresh_statistics(session)
    _refresh_summaries(session)
    return summaries


def _refresh_summaries(session: Session) -> None:
    """The city's and province's pages read the county figures (services.overview.summaries): fill them now."""
    try:
        from xueji.services.overview.summaries import refresh_all
    except ImportError:  # pragma: no cover - a checkout without the summaries
        return
    report = refresh_all(session)
    if report.failed:
        raise RuntimeError(f"演示市州的各县区汇总失败:{report.failed}")


def city_accounts(session: Session) -> list[tuple[str, str, str]]:
    """(username, name, role label) of the demo city's own accounts this database holds, for the sign-in page."""
    lines = [(u, n, Role.COUNTY_OFFICER.label) for c in SMALL_COUNTIES for u, n in (c.officer,)]
    lines += [(u, n, r.label) for u, n, r, _, _ in SUPERVISORS]
    held = set(
        session.scalars(select(AppUser.username).where(col(AppUser.username).in_([u for u, _, _ in lines])))
    )
    return [line for line in lines if line[0] in held]
