"""The controlled vocabularies of the domain: stored English values, Chinese labels."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Stage(IntEnum):
    """学段, numbered as in the class code's fifth digit."""

    PRIMARY = 1
    JUNIOR = 2
    SENIOR = 3

    @property
    def label(self) -> str:
        return {1: "小学", 2: "初中", 3: "高中"}[self.value]

    @property
    def years(self) -> int:
        return 6 if self is Stage.PRIMARY else 3

    @property
    def first_grade(self) -> int:
        """The grade number (1–12) of this stage's first year."""
        return {1: 1, 2: 7, 3: 10}[self.value]


class SchoolKind(StrEnum):
    """What a school is (the national 办学类型 of the schools that teach compulsory stages), and which
    compulsory stages it teaches: a 完全中学's senior stage is outside compulsory education."""

    PRIMARY = "primary"
    TEACHING_POINT = "teaching_point"
    JUNIOR = "junior"
    VOCATIONAL_JUNIOR = "vocational_junior"
    NINE_YEAR = "nine_year"
    COMPLETE_SECONDARY = "complete_secondary"
    TWELVE_YEAR = "twelve_year"
    SPECIAL = "special"

    @property
    def label(self) -> str:
        return {
            "primary": "小学",
            "teaching_point": "小学教学点",
            "junior": "初级中学",
            "vocational_junior": "职业初中",
            "nine_year": "九年一贯制学校",
            "complete_secondary": "完全中学",
            "twelve_year": "十二年一贯制学校",
            "special": "特殊教育学校",
        }[self.value]

    @property
    def stages(self) -> tuple[Stage, ...]:
        both = (Stage.PRIMARY, Stage.JUNIOR)
        return {
            "primary": (Stage.PRIMARY,),
            "teaching_point": (Stage.PRIMARY,),
            "junior": (Stage.JUNIOR,),
            "vocational_junior": (Stage.JUNIOR,),
            "nine_year": both,
            "complete_secondary": (Stage.JUNIOR,),
            "twelve_year": both,
            "special": both,
        }[self.value]


class StudentStatus(StrEnum):
    """Where a registry record stands (学籍状态)."""

    ENROLLED = "enrolled"
    SUSPENDED = "suspended"
    TRANSFERRED_OUT = "transferred_out"
    DROPPED_OUT = "dropped_out"
    GRADUATED = "graduated"
    DECEASED = "deceased"

    @property
    def label(self) -> str:
        return {
            "enrolled": "在读",
            "suspended": "休学",
            "transferred_out": "转出",
            "dropped_out": "辍学",
            "graduated": "毕业",
            "deceased": "死亡",
        }[self.value]


class Sex(StrEnum):
    MALE = "男"
    FEMALE = "女"


class Role(StrEnum):
    """One role per account (see DOMAIN.md, who uses it)."""

    ADMIN = "admin"
    AUDITOR = "auditor"
    COUNTY_OFFICER = "county_officer"
    TOWNSHIP_OFFICIAL = "township_official"
    REGISTRAR = "registrar"
    TEACHER = "teacher"
    COORDINATOR = "coordinator"
    CITY_OFFICER = "city_officer"  # 市(州)教育局: supervises its counties, reads only
    PROVINCE_OFFICER = "province_officer"  # 省教育厅: supervises every county of the province, reads only
    SYSTEM = "system"  # the built-in operator batch commands act as when no account is named

    @property
    def label(self) -> str:
        return {
            "system": "系统操作员",
            "admin": "系统管理员",
            "auditor": "审计员",
            "county_officer": "县教育局",
            "township_official": "乡镇干部",
            "registrar": "学籍管理员",
            "teacher": "班主任/教师",
            "coordinator": "送教上门协调员",
            "city_officer": "市教育局",
            "province_officer": "省教育厅",
        }[self.value]


class ScopeKind(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    SCHOOL = "school"

    @property
    def label(self) -> str:
        return {"province": "省", "city": "市(州)", "county": "县区", "township": "乡镇", "school": "学校"}[
            self.value
        ]


GRADE_LABELS = {
    1: "一年级",
    2: "二年级",
    3: "三年级",
    4: "四年级",
    5: "五年级",
    6: "六年级",
    7: "七年级",
    8: "八年级",
    9: "九年级",
}


def grade_label(grade: int) -> str:
    """Return the Chinese name of a compulsory-education grade, e.g. 7 → 七年级."""
    return GRADE_LABELS.get(grade, f"{grade}年级")
