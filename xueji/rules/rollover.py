"""When a school year may be rolled over: after the last term of the year before has ended, by the county's term
calendar. Earlier (a November click by mistake, or a county that closes its year early) needs a written reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from xueji.rules.terms import TermDates


@dataclass(frozen=True)
class RolloverTiming:
    school_year: int  # the school year that starts
    last_term: TermDates  # the last term of the school year that ends
    configured: bool  # the term is in the county's term table (False: the default calendar stands in)

    @property
    def opens_on(self) -> date:
        return self.last_term.end + timedelta(days=1)

    def early(self, today: date) -> bool:
        return today < self.opens_on

    @property
    def explanation(self) -> str:
        return f"{self.last_term.name} {self.last_term.end:%Y-%m-%d} 结束后才能升级"


def last_term(terms: list[TermDates]) -> TermDates | None:
    """The term that ends a school year: the one that ends last."""
    return max(terms, key=lambda t: t.end) if terms else None


def early_problem(timing: RolloverTiming, today: date, reason: str | None) -> str | None:
    """Why the rollover may not run now (None when it may): early and without a reason."""
    if not timing.early(today) or (reason or "").strip():
        return None
    return f"{timing.explanation}(自 {timing.opens_on:%Y-%m-%d} 起);提前升级须填写原因"
