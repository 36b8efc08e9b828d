"""Class codes (班号): 4-digit entry year + 1-digit stage + 2-digit class number, e.g. 2025101."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xueji.rules.vocab import Stage, grade_label


class ClassCodeError(ValueError):
    """The text is not a valid 7-digit class code."""


@dataclass(frozen=True)
class ClassCode:
    entry_year: int
    stage: Stage
    number: int

    @property
    def code(self) -> str:
        return f"{self.entry_year:04d}{self.stage.value}{self.number:02d}"

    @property
    def name(self) -> str:
        """The class name as the national template builds it, e.g. 小学2025级(01)班."""
        return f"{self.stage.label}{self.entry_year}级({self.number:02d})班"

    def grade(self, school_year_start: int) -> int:
        """The grade (1–12) this class is in during the school year starting in that year."""
        return grade_in_school_year(self.entry_year, self.stage, school_year_start)

    def is_current(self, school_year_start: int) -> bool:
        """Tell whether the class is still within its stage in that school year."""
        years_in = school_year_start - self.entry_year
        return 0 <= years_in < self.stage.years

    def grade_label(self, school_year_start: int) -> str:
        return grade_label(self.grade(school_year_start))


def grade_in_school_year(entry_year: int, stage: Stage, school_year_start: int) -> int:
    """Return the grade of a cohort that entered the stage in entry_year."""
    return school_year_start - entry_year + stage.first_grade


def cohort_in_grade(grade: int, school_year_start: int) -> tuple[int, Stage]:
    """The entry year and stage of the classes in a grade (1–9) in that school year: the reverse of grade()."""
    stage = Stage.PRIMARY if grade < Stage.JUNIOR.first_grade else Stage.JUNIOR
    return school_year_start - grade + stage.first_grade, stage


_STAGE_DIGITS = frozenset(s.value for s in Stage)


@lru_cache(maxsize=4096)
def parse_class_code(text: str) -> ClassCode:
    """Parse a 7-digit class code, or raise ClassCodeError with a Chinese reason."""
    code = text.strip()
    if len(code) != 7 or not code.isascii() or not code.isdigit():
        raise ClassCodeError(f"班号应为7位数字,实际为“{text}”")
    entry_year, stage_digit, number = int(code[:4]), int(code[4]), int(code[5:])
    if not 1900 <= entry_year <= 2200:
        raise ClassCodeError(f"班号前4位应为入学年份,实际为 {code[:4]}")
    if stage_digit not in _STAGE_DIGITS:
        raise ClassCodeError(f"班号第5位应为学段编号(1小学、2初中、3高中),实际为 {stage_digit}")
    if number == 0:
        raise ClassCodeError("班号后2位班级编号不能为00")
    return ClassCode(entry_year=entry_year, stage=Stage(stage_digit), number=number)
