"""拉网式排查 (household sweep): how a village's sweep moves from planned to reviewed, what a household and a
child record need, the age window, coverage and lateness, and the reconciliation of what the sweep found with
the registry (三比对). Pure: no database, `today` passed in."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from xueji.rules.cases import age_on
from xueji.rules.registry_record import DISABILITY_TYPES, phone_problem, resident_id_problem
from xueji.rules.school_age import DEFAULT_AGES, birth_window
from xueji.rules.text_limits import length_problems
from xueji.rules.vocab import Sex, StudentStatus

MAX_SCHOOL_AGE_CHILDREN = 20


class VillageStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {
            "planned": "未开始",
            "in_progress": "排查中",
            "submitted": "已提交待审核",
            "reviewed": "已审核",
            "returned": "已退回重排",
        }[self.value]

    @property
    def open_for_entry(self) -> bool:
        """Households may still be recorded (before submission, or after a return)."""
        return self in (VillageStatus.PLANNED, VillageStatus.IN_PROGRESS, VillageStatus.RETURNED)


SWEEP_MOVES: dict[VillageStatus, frozenset[VillageStatus]] = {
    VillageStatus.PLANNED: frozenset({VillageStatus.IN_PROGRESS}),
    VillageStatus.IN_PROGRESS: frozenset({VillageStatus.SUBMITTED}),
    VillageStatus.SUBMITTED: frozenset({VillageStatus.REVIEWED, VillageStatus.RETURNED}),
    VillageStatus.RETURNED: frozenset({VillageStatus.IN_PROGRESS, VillageStatus.SUBMITTED}),
    VillageStatus.REVIEWED: frozenset(),
}


def move_problem(
    current: VillageStatus, target: VillageStatus, *, households: int, reason: str = ""
) -> str | None:
    """Why a village's sweep cannot move from `current` to `target` (None when it can)."""
    if target not in SWEEP_MOVES[current]:
        if target is VillageStatus.REVIEWED:
            return f"该村排查{current.label},只有已提交的村才能审核通过"
        if target is VillageStatus.RETURNED:
            return f"该村排查{current.label},只有已提交的村才能退回"
        if target is VillageStatus.SUBMITTED and current is VillageStatus.PLANNED:
            return "该村还没有登记任何户,不能提交"
        return f"该村排查{current.label},不能改为{target.label}"
    if target is VillageStatus.SUBMITTED and households == 0:
        return "该村还没有登记任何户,不能提交"
    if target is VillageStatus.RETURNED and not reason.strip():
        return "退回须写明原因(如哪些组未排查、哪些户信息不全)"
    return None


class FoundStatus(StrEnum):
    """Where the sweep found a school-age child."""

    LOCAL_SCHOOL = "local_school"
    ELSEWHERE = "elsewhere"
    NOT_ENROLLED = "not_enrolled"
    DROPPED_OUT = "dropped_out"
    DISABLED_HOME = "disabled_home"
    DECEASED = "deceased"
    MOVED_AWAY = "moved_away"

    @property
    def label(self) -> str:
        return {
            "local_school": "在本地学校就读",
            "elsewhere": "在外地就读",
            "not_enrolled": "未入学",
            "dropped_out": "辍学",
            "disabled_home": "残疾在家",
            "deceased": "已死亡",
            "moved_away": "户在人不在",
        }[self.value]

    @property
    def out_of_school(self) -> bool:
        """Found at home and not in any school (the disabled at home are candidates for home teaching)."""
        return self in (FoundStatus.NOT_ENROLLED, FoundStatus.DROPPED_OUT)

    @property
    def place_hint(self) -> str:
        """What the 就读学校/去向 field must hold for this status ("" when nothing)."""
        return {
            "local_school": "就读的本县学校",
            "elsewhere": "就读地(省/县/学校)",
            "moved_away": "去向(迁往何处)",
        }.get(self.value, "")


@dataclass(frozen=True)
class HouseholdFacts:
    """A household as entered, before it is saved."""

    head_name: str
    group_name: str = ""  # 组 (村民小组)
    address: str = ""
    phone: str = ""
    school_age_count: int | None = None  # how many children aged 6–15 the family says it has
    note: str = ""
    visited_on: date | None = None


def household_problems(household: HouseholdFacts, *, today: date, earliest: date) -> list[tuple[str, str]]:
    """Everything wrong with a household record, as (field, reason); `earliest` is the term's first day."""
    problems: list[tuple[str, str]] = []
    head = household.head_name.strip()
    if not head:
        problems.append(("户主姓名", "必填"))
    elif " " in head:
        problems.append(("户主姓名", "不能含空格"))
    if household.phone.strip():
        _, problem = phone_problem(household.phone)
        if problem:
            problems.append(("联系电话", problem))
    count = household.school_age_count
    if count is not None and not 0 <= count <= MAX_SCHOOL_AGE_CHILDREN:
        problems.append(("适龄儿童数", f"应在 0 到 {MAX_SCHOOL_AGE_CHILDREN} 之间"))
    if household.visited_on is None:
        problems.append(("走访日期", "必填"))
    elif household.visited_on > today:
        problems.append(("走访日期", "不能晚于今天"))
    elif household.visited_on < earliest:
        problems.append(("走访日期", f"不能早于本学期开学 {earliest:%Y-%m-%d}"))
    problems += length_problems(
        {
            "户主姓名": ("household.head_name", head),
            "组": ("household.group_name", household.group_name.strip()),
            "地址": ("household.address", household.address.strip()),
            "备注": ("household.note", household.note.strip()),
        }
    )
    return problems


@dataclass(frozen=True)
class ChildFacts:
    """A school-age child as the sweep found them, before it is saved."""

    name: str
    status: FoundStatus
    birth_date: date | None = None
    id_number: str = ""
    sex: str | None = None
    school_id: int | None = None  # for LOCAL_SCHOOL: the county school the child attends
    place: str = ""  # for ELSEWHERE: where they study; for MOVED_AWAY: where they went
    disability_type: str = ""
    note: str = ""


def sweep_age_range(reference: date, ages: tuple[int, int] = DEFAULT_AGES) -> tuple[date, date]:
    """The birth dates of the children a sweep records: of school age (by default 6 to 15 full years) on the
    reference date."""
    return birth_window(reference, ages)


def reference_date(start_year: int, month_day: tuple[int, int]) -> date:
    """The day ages are counted on for a school year's sweeps (by default 31 August of its start year)."""
    return date(start_year, *month_day)


def child_problems(
    child: ChildFacts, *, reference: date, ages: tuple[int, int] = DEFAULT_AGES
) -> list[tuple[str, str]]:
    """Everything wrong with a child record, as (field, reason). The ID number, when given, must be valid and
    agree with the birth date and sex; the child must be 6–15 on the reference date."""
    problems: list[tuple[str, str]] = []
    name = child.name.strip()
    if not name:
        problems.append(("儿童姓名", "必填"))
    elif " " in name:
        problems.append(("儿童姓名", "不能含空格"))
    if child.id_number:
        number, problem = resident_id_problem(child.id_number)
        if problem:
            problems.append(("身份证号", problem))
        else:
            if child.birth_date is not None and number[6:14] != f"{child.birth_date:%Y%m%d}":
                problems.append(("出生日期", f"与身份证号中的出生日期 {number[6:14]} 不一致"))
            id_sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
            if child.sex is not None and child.sex != id_sex.value:
                problems.append(("性别", f"与身份证号不一致(身份证号为{id_sex.value}性)"))
    if child.birth_date is None:
        problems.append(("出生日期", "必填(有身份证号时可不填)"))
    elif not ages[0] <= age_on(child.birth_date, reference) <= ages[1]:
        age = age_on(child.birth_date, reference)
        problems.append(
            ("出生日期", f"按 {reference:%Y-%m-%d} 计为 {age} 周岁,不在 {ages[0]}–{ages[1]} 周岁的排查范围内")
        )
    if child.sex is not None and child.sex not in (Sex.MALE.value, Sex.FEMALE.value):
        problems.append(("性别", "应为男或女"))
    if child.status is FoundStatus.LOCAL_SCHOOL and child.school_id is None:
        problems.append(("就读学校/去向", "在本地学校就读须选择(填写)本县学校"))
    if child.status in (FoundStatus.ELSEWHERE, FoundStatus.MOVED_AWAY) and not child.place.strip():
        problems.append(("就读学校/去向", f"{child.status.label}须填写{child.status.place_hint}"))
    if child.status is FoundStatus.DISABLED_HOME and child.disability_type not in DISABILITY_TYPES:
        problems.append(("残疾类型", f"残疾在家须填写残疾类型:{'、'.join(DISABILITY_TYPES)}"))
    problems += length_problems(
        {
            "儿童姓名": ("sweep_child.name", name),
            "就读学校/去向": ("sweep_child.place", child.place.strip()),
            "儿童备注": ("sweep_child.note", child.note.strip()),
        }
    )
    return problems


def entry_problems(
    household: HouseholdFacts,
    children: Sequence[ChildFacts],
    *,
    reference: date,
    today: date,
    earliest: date,
    ages: tuple[int, int] = DEFAULT_AGES,
) -> list[tuple[int | None, str, str]]:
    """Everything wrong with one household and its children, as (child index or None for the household,
    field, reason): the form numbers the children, the sheet puts each problem on the child's row."""
    problems: list[tuple[int | None, str, str]] = [
        (None, f, r) for f, r in household_problems(household, today=today, earliest=earliest)
    ]
    seen: set[object] = set()
    for i, child in enumerate(children):
        problems += [(i, f, r) for f, r in child_problems(child, reference=reference, ages=ages)]
        key = child.id_number or (child.name, child.birth_date)
        if key in seen:
            problems.append((i, "儿童姓名", "同一户中重复登记了这个孩子"))
        seen.add(key)
    return problems


def group_of(address: str | None) -> str:
    """The village group (组) named in an address such as 古港社区12组, or ""."""
    found = _GROUP.search(address or "")
    return found.group(1) if found else ""


_GROUP = re.compile(r"(\d+组)")


def filled_child(child: ChildFacts) -> ChildFacts:
    """The record with what the ID number tells filled in (birth date and sex) and its text normalised."""
    number = child.id_number.strip().upper()
    birth, sex = child.birth_date, child.sex
    if number and resident_id_problem(number)[1] is None:
        birth = birth or date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        sex = sex or (Sex.MALE.value if int(number[16]) % 2 else Sex.FEMALE.value)
    return ChildFacts(
        name=child.name.strip(),
        status=child.status,
        birth_date=birth,
        id_number=number,
        sex=sex,
        school_id=child.school_id if child.status is FoundStatus.LOCAL_SCHOOL else None,
        place=child.place.strip() if child.status in (FoundStatus.ELSEWHERE, FoundStatus.MOVED_AWAY) else "",
        disability_type=child.disability_type if child.status is FoundStatus.DISABLED_HOME else "",
        note=child.note.strip(),
    )


# ---- coverage --------------------------------------------------------------------------------------------


def coverage_rate(visited: int, expected: int | None) -> float | None:
    """Households visited as a share of the village's household count (None while the count is unknown)."""
    if not expected:
        return None
    return visited / expected


def is_late(status: VillageStatus, due: date, today: date) -> bool:
    """A village is late when its due date has passed and it has not been submitted."""
    return today > due and status in (
        VillageStatus.PLANNED,
        VillageStatus.IN_PROGRESS,
        VillageStatus.RETURNED,
    )


# What needs work first: returned for redoing, not started, under way, waiting for review, done.
_WORK_ORDER = {
    VillageStatus.RETURNED: 0,
    VillageStatus.PLANNED: 1,
    VillageStatus.IN_PROGRESS: 2,
    VillageStatus.SUBMITTED: 3,
    VillageStatus.REVIEWED: 4,
}


def work_order(status: VillageStatus, late: bool, rate: float | None) -> tuple[int, int, float]:
    """A sort key putting the villages that need work first: late ones, then by status (returned, not
    started, under way, submitted, reviewed last), the least covered first within a status (unknown
    coverage counted as none)."""
    return (0 if late else 1, _WORK_ORDER[status], rate or 0.0)


def coverage_label(status: VillageStatus, visited: int, rate: float | None) -> str:
    """What a village's bar says: 未开始 before the first household, the coverage in percent, or the
    households visited while the village's household count is unknown."""
    if status is VillageStatus.PLANNED and not visited:
        return "未开始"
    if rate is None:
        return f"已走访 {visited} 户(户数未填)"
    return f"{rate * 100:.0f}%"


# ---- reconciliation (三比对) -------------------------------------------------------------------------------


class MatchKind(StrEnum):
    ID = "id"
    WEAK = "weak"
    NONE = "none"

    @property
    def label(self) -> str:
        return {"id": "身份证号一致", "weak": "姓名+出生日期+村一致(弱匹配,待核实)", "none": "无学籍"}[
            self.value
        ]


@dataclass(frozen=True)
class RegistryMatch:
    """The registry record a sweep child matched, as far as reconciliation needs it."""

    kind: MatchKind = MatchKind.NONE
    status: StudentStatus | None = None
    school_id: int | None = None
    transfer_pending: bool = False  # a transfer out has been submitted and not yet decided
    home_teaching: bool = False  # the child already has an open 送教上门 case


class Finding(StrEnum):
    SUSPECTED_DROPOUT = "suspected_dropout"
    ENROLLED_ABSENT = "enrolled_absent"
    REGISTRY_MISMATCH = "registry_mismatch"
    HOME_TEACHING_CANDIDATE = "home_teaching_candidate"

    @property
    def label(self) -> str:
        return {
            "suspected_dropout": "疑似辍学(已建档)",
            "enrolled_absent": "名在人不在",
            "registry_mismatch": "就读与学籍不符(待学籍管理员处理)",
            "home_teaching_candidate": "送教上门候选",
        }[self.value]


def reconcile(
    status: FoundStatus, match: RegistryMatch, *, school_id: int | None = None, place: str = ""
) -> list[tuple[Finding, str]]:
    """What one sweep child means against the registry: the lists they belong on, each with its reason.

    - not in school (未入学/辍学) → suspected dropout, unless the record already says dropped out or suspended;
      if the record says enrolled, also 名在人不在;
    - disabled at home → a home-teaching candidate unless already taught at home (and 名在人不在 if enrolled);
    - moved away or dead while the record says enrolled (or suspended, for the dead) → 名在人不在;
    - studying elsewhere while enrolled here with no transfer submitted, or at a local school with no record,
      another school's record, or a record that says dropped out, suspended or transferred out → the
      registrar's list.
    A weak match (name + birth date + village) says so in every reason."""
    enrolled = match.status is StudentStatus.ENROLLED
    found: list[tuple[Finding, str]] = []
    if status.out_of_school:
        if enrolled:
            found.append((Finding.ENROLLED_ABSENT, f"学籍在读,实际{status.label}在家"))
        if match.status not in (StudentStatus.DROPPED_OUT, StudentStatus.SUSPENDED):
            found.append((Finding.SUSPECTED_DROPOUT, f"排查发现{status.label},不在任何学校"))
    elif status is FoundStatus.DISABLED_HOME:
        if not match.home_teaching:
            if enrolled:
                found.append((Finding.ENROLLED_ABSENT, "学籍在读,实际残疾在家,未送教上门"))
            found.append((Finding.HOME_TEACHING_CANDIDATE, "残疾在家,未入学也未送教上门,需评估"))
    elif status is FoundStatus.MOVED_AWAY:
        if enrolled and not match.transfer_pending:
            found.append((Finding.ENROLLED_ABSENT, f"户在人不在,去向:{place or '不明'}"))
    elif status is FoundStatus.DECEASED:
        if match.status in (StudentStatus.ENROLLED, StudentStatus.SUSPENDED):
            found.append((Finding.ENROLLED_ABSENT, "已死亡,学籍尚未注销"))
    elif status is FoundStatus.ELSEWHERE:
        if enrolled and not match.transfer_pending:
            found.append((Finding.REGISTRY_MISMATCH, f"在外地就读({place or '地点不明'}),未办转学"))
    else:  # LOCAL_SCHOOL
        reason = _local_school_mismatch(match, school_id)
        if reason:
            found.append((Finding.REGISTRY_MISMATCH, reason))
    if match.kind is MatchKind.WEAK:
        found = [(f, f"{r}(弱匹配:姓名+出生日期+村一致,请核实身份)") for f, r in found]
    return found


def _local_school_mismatch(match: RegistryMatch, school_id: int | None) -> str:
    if match.kind is MatchKind.NONE:
        return "在本地学校就读,但查无学籍"
    if match.status in (StudentStatus.DROPPED_OUT, StudentStatus.SUSPENDED, StudentStatus.TRANSFERRED_OUT):
        return f"学籍状态为{match.status.label},实际在本地学校就读"
    if match.status is StudentStatus.ENROLLED and match.school_id != school_id and not match.transfer_pending:
        return "实际就读学校与学籍所在学校不一致"
    return ""


def reconciled_text(counts: Mapping[str, int]) -> str:
    """A reconciliation's counts as one line: each list, then the cases opened."""
    lists = ",".join(f"{f.label} {counts.get(f.value, 0)}" for f in Finding)
    return f"{lists};新建疑似辍学个案 {counts.get('opened', 0)} 个"
