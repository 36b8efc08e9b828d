"""The demo county: realistic, valid, deterministic."""

from collections import Counter

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from tests.conftest import built_once
from xueji.db import session_scope
from xueji.demo import DemoSpec, load_demo
from xueji.demo.build import DemoError
from xueji.models import FamilyMember, School, SchoolClass, Student, Township, Village
from xueji.rules.class_code import parse_class_code


def _fingerprint(session):
    return session.execute(
        select(Student.id_number, Student.name, Student.class_id, Student.status).order_by(Student.id)
    ).all()


@pytest.fixture
def full_demo(engine, database_url):
    """The full demo county, built once per database kind and copied for each test (they only read)."""

    def build(engine):
        with session_scope(engine) as session:
            return load_demo(session, DemoSpec())

    return engine, built_once("full_demo", engine, database_url, build)


def test_full_demo_is_a_realistic_county(full_demo):
    engine, summary = full_demo
    with session_scope(engine) as session:
        gugang = session.scalar(select(Township).where(Township.code == "430181108000"))
        assert gugang.name == "古港镇"
        codes = set(session.scalars(select(Village.code).where(Village.township_id == gugang.id)))
        assert {"430181108001", "430181108226", "430181108215"} <= codes
        assert session.scalar(select(School.name).where(School.code == "2143016965")) == "古港镇完全小学"
        assert 10 <= summary.schools <= 15
        assert 7000 <= summary.students <= 9000
        sizes = Counter(session.scalars(select(Student.class_id)))
        assert min(sizes.values()) >= 30 and max(sizes.values()) <= 55
        assert session.scalar(select(func.count()).select_from(Student)) == summary.students
        assert session.scalar(select(func.count()).select_from(FamilyMember)) == summary.family_members


def test_demo_id_numbers_are_valid_and_agree_with_birth_date_and_sex(full_demo):
    engine, _ = full_demo
    with session_scope(engine) as session:
        rows = session.execute(select(Student.id_number, Student.birth_date, Student.sex)).all()
    with_id = [r for r in rows if r.id_number]
    assert len(with_id) > 0.99 * len(rows)
    assert len({r.id_number for r in with_id}) == len(with_id)
    for number, birth, sex in with_id:
        assert ric.is_valid(number), number
        assert ric.get_birth_date(number) == birth
        assert (int(number[16]) % 2 == 1) == (sex == "男")


def test_demo_flags_come_in_realistic_proportions(full_demo):
    engine, summary = full_demo
    with session_scope(engine) as session:
        share = {
            flag: session.scalar(select(func.count()).where(getattr(Student, flag))) / summary.students
            for flag in ("left_behind", "migrant", "disabled", "needs_aid")
        }
        away = session.scalar(select(func.count()).where(FamilyMember.works_away))
    assert 0.15 < share["left_behind"] < 0.30
    assert 0.03 < share["migrant"] < 0.10
    assert 0.005 < share["disabled"] < 0.03
    assert 0.05 < share["needs_aid"] < 0.25
    assert away > share["left_behind"] * summary.students


def test_ages_fit_the_grades(demo_engine):
    with session_scope(demo_engine) as session:
        rows = session.execute(select(SchoolClass.code, Student.birth_date).join(SchoolClass)).all()
    for code, birth in rows:
        grade = parse_class_code(code).grade(2026)
        age_at_sept = 2026 - birth.year - ((9, 1) < (birth.month, birth.day))
        assert grade + 4 <= age_at_sept <= grade + 6, (code, birth)


def test_the_same_seed_gives_the_same_county(demo_engine, tmp_path):
    from tests.conftest import SMALL_DEMO
    from xueji.db import make_engine, migrate

    other = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    migrate(other)
    with session_scope(other) as session:
        load_demo(session, SMALL_DEMO)
        again = _fingerprint(session)
    with session_scope(demo_engine) as session:
        assert _fingerprint(session) == again


def test_demo_refuses_a_database_that_has_data(demo_engine):
    with session_scope(demo_engine) as session, pytest.raises(DemoError, match="已有"):
        load_demo(session, DemoSpec())
