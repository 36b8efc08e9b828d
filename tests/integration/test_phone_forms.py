"""The phone forms' safeguards on SQLite and PostgreSQL: a visit dated in the future refused (家访, 送教, 入户登记)
and audited as a refusal; the same 家访 twice on one day asked about before it is saved; drafts kept per user."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.integration.test_home_teaching import behind_row, visit
from tests.integration.test_sweeps import GUGANG, household, unregistered, village_of
from tests.integration.test_visits import facts
from xueji.db import session_scope
from xueji.models import AuditLog, FormDraft, HomeTeachingVisit, HomeVisit, Household
from xueji.rules.sweeps import VillageStatus
from xueji.rules.visits import VisitMethod
from xueji.services.cases import visits
from xueji.services.home_teaching import records
from xueji.services.sweeps import fieldwork
from xueji.services.system import drafts

pytestmark = pytest.mark.usefixtures("fixed_today")
TODAY = date(2026, 11, 23)
TOMORROW = TODAY + timedelta(days=1)


def count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def refusals(engine, entity_type: str) -> list[AuditLog]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(AuditLog).where(AuditLog.entity_type == entity_type, AuditLog.outcome == "refused")
            )
        )


def first_due_child(engine, actor) -> int:
    with session_scope(engine) as session:
        return visits.due_visits(session, actor=actor)[0].child_id


def test_a_visit_dated_tomorrow_is_refused_with_a_message_and_audited_on_every_form(demo_engine, actors):
    teacher = actors["demo_teacher"]
    child = first_due_child(demo_engine, teacher)
    before = count(demo_engine, HomeVisit)
    with (
        session_scope(demo_engine) as session,
        pytest.raises(visits.VisitError, match="家访日期:不能晚于今天"),
    ):
        visits.log_visit(session, actor=teacher, facts=facts(visit_date=TOMORROW), child_id=child)
    assert count(demo_engine, HomeVisit) == before
    [entry] = refusals(demo_engine, "home_visit")
    assert "不能晚于今天" in entry.detail and entry.user_id == teacher.user_id

    coordinator = actors["demo_coordinator"]
    row = behind_row(demo_engine, coordinator)
    logged = count(demo_engine, HomeTeachingVisit)
    with (
        session_scope(demo_engine) as session,
        pytest.raises(records.HomeTeachingError, match="不能晚于今天"),
    ):
        records.log_home_visit(session, actor=coordinator, plan_id=row.plan_id, facts=visit(TOMORROW))
    assert count(demo_engine, HomeTeachingVisit) == logged
    assert "送教日期:不能晚于今天" in refusals(demo_engine, "home_teaching_visit")[0].detail

    village, _, _ = village_of(demo_engine, GUGANG, VillageStatus.IN_PROGRESS)
    households = count(demo_engine, Household)
    with session_scope(demo_engine) as session, pytest.raises(fieldwork.SweepError, match="走访日期"):
        fieldwork.record_household(
            session,
            actor=teacher,
            sweep_village_id=village,
            household=household(visited_on=TOMORROW),
            children=[unregistered()],
        )
    assert count(demo_engine, Household) == households
    assert "走访日期" in refusals(demo_engine, "household")[0].detail


def test_the_same_visit_twice_on_one_day_is_asked_about_and_saved_only_when_meant(demo_engine, actors):
    teacher = actors["demo_teacher"]
    child = first_due_child(demo_engine, teacher)
    phone = facts(visit_date=TODAY, method=VisitMethod.PHONE)
    with session_scope(demo_engine) as session:
        visits.log_visit(session, actor=teacher, facts=phone, child_id=child, known=0)
    before = count(demo_engine, HomeVisit)
    with session_scope(demo_engine) as session, pytest.raises(visits.SameDayVisit) as asked:  # a double tap
        visits.log_visit(session, actor=teacher, facts=phone, child_id=child, known=0)
    assert asked.value.question.startswith("今天已为") and "电话),仍要再记一次吗?" in asked.value.question
    assert asked.value.known == 1 and count(demo_engine, HomeVisit) == before
    with session_scope(demo_engine) as session:  # 仍然保存
        visits.log_visit(session, actor=teacher, facts=phone, child_id=child, known=asked.value.known)
    assert count(demo_engine, HomeVisit) == before + 1
    with session_scope(demo_engine) as session, pytest.raises(visits.SameDayVisit):  # 仍然保存 tapped twice
        visits.log_visit(session, actor=teacher, facts=phone, child_id=child, known=asked.value.known)
    with session_scope(demo_engine) as session:  # another day is another visit
        visits.log_visit(
            session, actor=teacher, facts=facts(visit_date=TODAY - timedelta(days=1)), child_id=child, known=0
        )
    with session_scope(demo_engine) as session:  # an import or a script is not asked
        visits.log_visit(session, actor=teacher, facts=phone, child_id=child)
    assert count(demo_engine, HomeVisit) == before + 3


def test_a_draft_is_kept_per_user_and_form_and_removed_when_discarded(demo_engine, actors):
    teacher, other = actors["demo_teacher"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        assert drafts.save_draft(session, actor=teacher, form="visit", values={"v_met": "祖母"})
        assert drafts.save_draft(session, actor=teacher, form="visit", values={"v_met": "祖父"})  # replaced
        assert drafts.save_draft(session, actor=teacher, form="household", values={"head": "杨大海"})
    with session_scope(demo_engine) as session:
        kept = drafts.load_draft(session, actor=teacher, form="visit")
        assert kept is not None and kept.values == {"v_met": "祖父"}
        assert drafts.load_draft(session, actor=other, form="visit") is None  # never another user's
        assert drafts.load_draft(session, actor=teacher, form="home_visit") is None
        assert not drafts.save_draft(session, actor=teacher, form="visit", values={"v_child": "长" * 20_001})
        assert drafts.load_draft(session, actor=teacher, form="visit").values == {"v_met": "祖父"}
        drafts.discard_draft(session, actor=teacher, form="visit")
    with session_scope(demo_engine) as session:
        assert drafts.load_draft(session, actor=teacher, form="visit") is None
        assert drafts.load_draft(session, actor=teacher, form="household") is not None
        assert session.scalar(select(func.count()).select_from(FormDraft)) == 1


def test_a_draft_left_two_weeks_is_never_offered_again_and_is_removed_at_the_next_save(demo_engine, actors):
    teacher, other = actors["demo_teacher"], actors["demo_registrar"]
    with session_scope(demo_engine) as session:
        assert drafts.save_draft(session, actor=teacher, form="visit", values={"v_met": "祖母"})
    with session_scope(demo_engine) as session:
        draft = session.scalars(select(FormDraft)).one()
        draft.updated_at -= timedelta(days=drafts.KEEP_DAYS, hours=1)
        session.commit()
    with session_scope(demo_engine) as session:
        assert drafts.load_draft(session, actor=teacher, form="visit") is None
        assert drafts.save_draft(session, actor=other, form="visit", values={"v_met": "父亲"})
    with session_scope(demo_engine) as session:
        assert session.scalars(select(FormDraft.user_id)).all() == [other.user_id]  # the stale one is gone
