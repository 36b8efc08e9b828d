"""`xueji demo --city`: 湖南省 › 长沙市 with the demo county and two small counties, their officers, and the city's
and the province's; the default demo stays one county (test_demo)."""

from sqlalchemy import func, select

from tests.conftest import SMALL_DEMO
from xueji.db import session_scope
from xueji.demo.accounts import DEMO_PASSWORD
from xueji.demo.city import add_city
from xueji.models import City, County, Province, School, Student, Township
from xueji.rules.vocab import ScopeKind
from xueji.services.common.supervision import supervised_counties
from xueji.services.system import accounts


def test_the_demo_city_holds_three_counties_and_their_supervisors(demo_engine):
    engine = demo_engine  # the demo county as `xueji demo` builds it (load_demo_city loads it, then add_city)
    with session_scope(engine) as session:
        built = add_city(session, SMALL_DEMO)
        built["浏阳市"] = type(built["宁乡市"])(
            students=session.scalar(select(func.count()).select_from(Student))
        )
    assert list(built) == ["宁乡市", "长沙县", "浏阳市"]
    assert all(s.students > 0 for s in built.values())
    assert built["宁乡市"].schools == built["长沙县"].schools == 4
    with session_scope(engine) as session:
        assert session.execute(select(Province.code, Province.name)).all() == [("430000000000", "湖南省")]
        assert session.execute(select(City.code, City.name)).all() == [("430100000000", "长沙市")]
        per_county = dict(
            session.execute(
                select(County.name, func.count(Student.id))
                .join(Township, Township.county_id == County.id)
                .join(School, School.township_id == Township.id)
                .join(Student, Student.school_id == School.id)
                .where(County.city_id.is_not(None))
                .group_by(County.name)
            ).all()
        )
        assert (
            sum(per_county.values()) == built["浏阳市"].students
        )  # every student of the demo is in the city
        assert {k: v for k, v in per_county.items() if k != "浏阳市"} == {
            name: s.students for name, s in built.items() if name != "浏阳市"
        }
        for username, kind in (("demo_city", ScopeKind.CITY), ("demo_province", ScopeKind.PROVINCE)):
            actor = accounts.authenticate(session, username=username, password=DEMO_PASSWORD).actor
            assert actor.scope_kind is kind
            assert [c.name for c in supervised_counties(session, actor=actor)] == [
                "长沙县",
                "浏阳市",
                "宁乡市",
            ]
        officer = accounts.authenticate(
            session, username="demo_county_ningxiang", password=DEMO_PASSWORD
        ).actor
        assert officer.scope_kind is ScopeKind.COUNTY
        assert officer.scope_id == session.scalar(select(County.id).where(County.code == "430182000000"))
