"""巩固率 (retention): how many of the children enrolled in a grade at the start of a school year are still in
school, counting transfers out as not lost and transfers in as not gained (DOMAIN.md "Computations"). Pure: the
counts of one grade in; the rate and the formula as users check it by hand out. Also the status a student had on
a day, read back from the first approved status change after it, which the SQL of services.dashboards.retention mirrors."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from xueji.rules.status_changes import ChangeKind
from xueji.rules.vocab import StudentStatus

ACTIVE = (
    StudentStatus.ENROLLED,
    StudentStatus.SUSPENDED,
)  # on the registry: a suspended child keeps the record

FORMULA = "巩固率 = (年初在籍 − 转出 − 死亡 − 辍学未返) ÷ (年初在籍 − 转出 − 死亡)"
FORMULA_NOTE = (
    "年初在籍 = 学年第一天结束时在籍(在读或休学)的学生,含当天生效的升学(本县小学毕业生升入初中,"
    "上一学年仍算原小学六年级在读)和外县来的初一新生;转出、死亡不算流失;"
    "第一天之后的转入(本县他校转入、外县转入)计为“转入”,不计入年初和分子分母,外县转入从不计入年初;"
    "没有异动记录的新建学籍(上线导入、一年级新生)按在籍计入年初,年内从外县来的学生须按外县转入导入;"
    "休学保留学籍,算作巩固(单独列出);辍学后劝返复学的算作巩固。"
)
IN_SCHOOL_NOTE = (
    "现在籍 = 统计日(学年最后一天;学年进行中为今天)在籍的学生,在读和休学的都算,含年内转入和劝返复学的"
    "学生,所以不一定等于年初在籍减去转出、死亡和辍学未返;它不进入巩固率的计算。"
)
NINE_YEAR_FORMULA = "九年巩固率 = 该届九年级毕业人数 ÷ 该届一年级入学人数"


def status_before(kind: ChangeKind) -> StudentStatus:
    """The status a student had just before an approved change of this kind: the one status the change can
    start from, or 在读 when it may start from several (辍学 and 死亡 are mostly from 在读)."""
    allowed = kind.allowed_from
    if len(allowed) == 1:
        return next(iter(allowed))
    return StudentStatus.ENROLLED


@dataclass(frozen=True)
class GradeFlow:
    """One grade's school year, within a scope (county, township or school)."""

    grade: int
    start: int  # on the registry (在读 or 休学) in the scope at the end of the year's first day
    transferred_in: (
        int  # joined during the year (not by a return): transfers in from outside the scope, new records
    )
    transferred_out: int  # of `start`: left the scope by transfer
    died: int  # of `start`
    dropped_out: int  # of `start`: dropped out and not back by the day counted
    returned: (
        int  # brought back (劝返复学) during the year and on the registry now, whenever they dropped out
    )
    suspended: int  # of `start`: 休学 on the day counted (retained, shown apart)
    in_school: int  # on the registry in the scope on the day counted, transfers in included

    @property
    def denominator(self) -> int:
        return self.start - self.transferred_out - self.died

    @property
    def retained(self) -> int:
        return self.denominator - self.dropped_out

    @property
    def rate(self) -> Fraction | None:
        """The retention rate as an exact fraction (None with no one to count)."""
        if self.denominator <= 0:
            return None
        return Fraction(self.retained, self.denominator)

    def rate_text(self) -> str:
        return _percent(self.rate)

    def worked(self) -> str:
        """The formula with this grade's numbers, for a hand check."""
        return (
            f"({self.start} − {self.transferred_out} − {self.died} − {self.dropped_out}) ÷ "
            f"({self.start} − {self.transferred_out} − {self.died}) = {self.retained} ÷ {self.denominator}"
            f" = {self.rate_text()}"
        )


@dataclass(frozen=True)
class Movement:
    """How many students of a grade went from where they were on the year's first day to where they are on the
    day counted: what one GROUP BY over the registry and its status changes gives."""

    grade: int
    start_school: int | None  # the school on the first day, when on the registry then; else None
    end_school: int  # the school on the day counted
    end_status: StudentStatus
    returned: bool  # brought back (劝返复学) during the year
    count: int


def flows_for(movements: Iterable[Movement], schools: Collection[int]) -> list[GradeFlow]:
    """Each grade's flows for a scope (its schools): a move between two schools of the scope is neither in nor
    out; leaving the scope by transfer is out; joining it, other than by a return, is in."""
    sums: dict[int, list[int]] = {}
    for m in movements:
        at_start = m.start_school in schools
        at_end = m.end_school in schools and m.end_status in ACTIVE
        out = at_start and (
            m.end_status is StudentStatus.TRANSFERRED_OUT or (m.end_status in ACTIVE and not at_end)
        )
        flags = (
            at_start,
            at_end and not at_start and not m.returned,
            out,
            at_start and m.end_status is StudentStatus.DECEASED,
            at_start and m.end_status is StudentStatus.DROPPED_OUT,
            at_end and m.returned,
            at_start and at_end and m.end_status is StudentStatus.SUSPENDED,
            at_end,
        )
        if any(flags):
            row = sums.setdefault(m.grade, [0] * len(flags))
            for i, flag in enumerate(flags):
                row[i] += m.count if flag else 0
    return [GradeFlow(grade, *row) for grade, row in sorted(sums.items()) if 1 <= grade <= 9]


def total(flows: list[GradeFlow]) -> GradeFlow:
    """All grades together (grade 0)."""
    return GradeFlow(
        0,
        *(sum(getattr(f, name) for f in flows) for name in GradeFlow.__dataclass_fields__ if name != "grade"),
    )


def nine_year_rate(grade_one_start: int, graduates: int) -> Fraction | None:
    """Graduates of grade 9 over that cohort's grade-1 enrolment (None before the cohort has both)."""
    if grade_one_start <= 0:
        return None
    return Fraction(graduates, grade_one_start)


@dataclass(frozen=True)
class CohortPoint:
    """One entry cohort (the school year it was in grade 1) in one school year: that year's retention and the
    retention since the first year the data covers, the product of the years' rates (transfers stay neutral)."""

    cohort: int
    school_year: int
    grade: int
    year_rate: Fraction | None
    cumulative: Fraction | None


def _percent(rate: Fraction | None) -> str:
    return "—" if rate is None else f"{float(rate) * 100:.2f}%"


def percent(rate: Fraction | None) -> float | None:
    """A rate as the number a chart and its table show: a percentage to two decimals (None when undefined)."""
    return None if rate is None else round(float(rate) * 100, 2)


def cohort_points(by_year: Mapping[int, list[GradeFlow]]) -> list[CohortPoint]:
    """Each cohort's curve over the school years given (year → its grades' flows), cohort by cohort."""
    rates: dict[int, dict[int, tuple[int, Fraction | None]]] = {}
    for year, flows in by_year.items():
        for flow in flows:
            rates.setdefault(year - flow.grade + 1, {})[year] = (flow.grade, flow.rate)
    points = []
    for cohort in sorted(rates):
        cumulative: Fraction | None = Fraction(1)
        for year in sorted(rates[cohort]):
            grade, rate = rates[cohort][year]
            cumulative = None if cumulative is None or rate is None else cumulative * rate
            points.append(CohortPoint(cohort, year, grade, rate, cumulative))
    return points
