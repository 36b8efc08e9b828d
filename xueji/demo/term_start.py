"""The demo county's autumn term so far: intake records still incomplete in some schools, the term's reports
(a few children on leave, a few lost), and the 人籍一致 checks done in September and November. The demo city's
small counties get the same term (xueji.demo.city), each for its own schools."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, or_, select, update
from sqlmodel import Session, col

from xueji.demo import names
from xueji.models import FamilyMember, RegistryCheck, SchoolClass, SchoolYear, Student, Term, TermReport
from xueji.rules.registry_check import PresentPerson, RegistryPerson, reconcile
from xueji.rules.terms import TermDates, default_terms
from xueji.rules.vocab import StudentStatus
from xueji.services.registry.checks import stored_finding
from xueji.sql import class_in_grade

if TYPE_CHECKING:
    from xueji.demo.build import DemoContext

DEMO_REGISTRAR_SCHOOL = "2143016965"  # 古港镇完全小学
LEAVE_REASONS = ("病假(住院治疗)", "随父母外出探亲,已请假", "家中有事,家长已请假")


def load_intake_gaps(session: Session, ctx: DemoContext) -> None:
    """In about a third of the schools (always the demo registrar's), some of this year's grade-1 and grade-7
    records still lack a family phone number or a member marked as guardian (the deadline has passed)."""
    rng = ctx.rng
    intake = select(SchoolClass.id).where(
        or_(class_in_grade(1, ctx.school_year), class_in_grade(7, ctx.school_year))
    )
    by_school: dict[int, list[int]] = defaultdict(list)
    for sid, school_id in session.execute(
        select(Student.id, Student.school_id).where(col(Student.class_id).in_(intake)).order_by(Student.id)
    ):
        by_school[school_id].append(sid)
    no_phone: list[int] = []
    no_guardian: list[int] = []
    for school_id in sorted(by_school):
        if rng.random() >= 0.35 and school_id != ctx.school_ids[DEMO_REGISTRAR_SCHOOL]:
            continue
        for sid in by_school[school_id]:
            if rng.random() < 0.08:
                (no_phone if rng.random() < 0.6 else no_guardian).append(sid)
    session.execute(update(FamilyMember).where(col(FamilyMember.student_id).in_(no_phone)).values(phone=None))
    session.execute(
        update(FamilyMember).where(col(FamilyMember.student_id).in_(no_guardian)).values(is_guardian=False)
    )


def _term(ctx: DemoContext) -> TermDates:
    return next(t for t in default_terms(ctx.school_year) if t.start <= ctx.spec.today)


def _check_day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def load_term_start(session: Session, ctx: DemoContext) -> None:
    """Reports for the term: nearly every child reported in the first days, about 0.6% on leave, about 0.4%
    never came (lost students). Then 人籍一致 checks per class: most schools did one in September, about
    half a second in November; a few classes found a child on site who is not on their registry."""
    rng = ctx.rng
    term = _term(ctx)
    term_id = session.scalar(
        select(Term.id)
        .join(SchoolYear, Term.school_year_id == SchoolYear.id)
        .where(SchoolYear.start_year == term.school_year_start, Term.seq == term.seq)
    )
    students = session.execute(
        select(Student.id, Student.school_id, Student.class_id, Student.name, Student.id_number)
        .where(
            Student.status == StudentStatus.ENROLLED.value,
            col(Student.school_id).in_(ctx.school_ids.values()),  # this county's (a demo city has three)
        )
        .order_by(Student.id)
    ).all()
    reports, absent = [], set()
    for sid, *_ in students:
        roll = rng.random()
        if roll < 0.004:
            absent.add(sid)
            continue
        reports.append(
            {
                "term_id": term_id,
                "student_id": sid,
                "reported_on": term.start + timedelta(days=rng.randrange(3)),
                "leave_reason": rng.choice(LEAVE_REASONS) if roll < 0.01 else None,
            }
        )
    session.execute(insert(TermReport), reports)

    classes: dict[tuple[int, int], list[RegistryPerson]] = defaultdict(list)
    for sid, school_id, class_id, name, id_number in students:
        classes[(school_id, class_id)].append(RegistryPerson(sid, name, id_number))
    rounds = {school_id: rng.choices((0, 1, 2), weights=(1, 3, 6))[0] for school_id, _ in classes}
    windows = (
        (term.start + timedelta(days=10), term.start + timedelta(days=25)),
        (date(ctx.school_year, 11, 9), ctx.spec.today),
    )
    checks = []
    for (school_id, class_id), registry in classes.items():
        for start, end in windows[: rounds[school_id]]:
            present = [PresentPerson(p.name, p.id_number) for p in registry if p.student_id not in absent]
            if rng.random() < 0.03:
                present.append(PresentPerson(names.person_name(rng, male=rng.random() < 0.5)))
            findings = reconcile(registry, present)
            kinds = [f.kind.value for f in findings]
            checks.append(
                {
                    "term_id": term_id,
                    "school_id": school_id,
                    "class_id": class_id,
                    "checked_on": _check_day(rng, start, end),
                    "method": "tick" if rng.random() < 0.7 else "upload",
                    "on_registry": len(registry),
                    "present": len(present),
                    "missing": kinds.count("missing"),
                    "extra": kinds.count("extra"),
                    "mismatched": kinds.count("mismatch"),
                    "findings": [stored_finding(f) for f in findings],
                }
            )
    if checks:
        session.execute(insert(RegistryCheck), checks)
