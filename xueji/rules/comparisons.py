"""三比对's vocabulary: what comparing the household register (户籍) with the registry (学籍) finds for a child
(Outcome), and where each school-age child of the ledger stands now (Standing)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class Outcome(StrEnum):
    """户籍 vs 学籍, for one school-age child."""

    IN_SCHOOL = "in_school"  # on the register, enrolled (or suspended) at a school of their township
    SEPARATED = (
        "separated"  # 人户分离: on the register here, enrolled at a school of another township (informative)
    )
    NOT_ENROLLED = "not_enrolled"  # 适龄未入学/去向待核实: on the register, no registry record in the county
    PENDING_REVIEW = "pending_review"  # no exact match yet: a registry record may be them (review queue)
    LEFT_REGISTRY = "left_registry"  # a record no longer enrolled: transferred out, graduated, deceased
    DROPPED_OUT = "dropped_out"  # a record whose status is 辍学
    MIGRANT = "migrant"  # 随迁: in the registry, their ID number not on the register (informative)

    @property
    def label(self) -> str:
        return {
            "in_school": "在籍在校",
            "separated": "人户分离(在本县其他乡镇就读)",
            "not_enrolled": "适龄未入学/去向待核实",
            "pending_review": "疑似同一人待审核",
            "left_registry": "学籍已转出/毕业",
            "dropped_out": "学籍为辍学",
            "migrant": "随迁(户籍不在本县名单)",
        }[self.value]

    @property
    def needs_verifying(self) -> bool:
        return self is Outcome.NOT_ENROLLED


class Standing(StrEnum):
    """Where a school-age child of the ledger (适龄儿童台账) is now."""

    IN_SCHOOL = "in_school"
    SUSPENDED = "suspended"
    HOME_TEACHING = "home_teaching"
    SUSPECTED_DROPOUT = "suspected_dropout"
    DROPOUT = "dropout"
    TO_VERIFY = "to_verify"
    OTHER_COUNTY = "other_county"
    MOVED_AWAY = "moved_away"
    DECEASED = "deceased"
    LEFT = "left"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {
            "in_school": "在校",
            "suspended": "休学",
            "home_teaching": "送教上门",
            "suspected_dropout": "疑似辍学",
            "dropout": "辍学",
            "to_verify": "待核实",
            "other_county": "在外县就读",
            "moved_away": "已迁出",
            "deceased": "死亡",
            "left": "已转出/毕业",
            "unknown": "去向不明",
        }[self.value]


class TaskKind(StrEnum):
    VERIFY = "verify"  # a child of age with no registry record: the township finds out where they are
    ASSESSMENT = (
        "assessment"  # a disabled child of age neither in school nor taught at home: assess for 送教上门
    )

    @property
    def label(self) -> str:
        return {"verify": "适龄儿童核实", "assessment": "送教上门评估"}[self.value]


class TaskStatus(StrEnum):
    OPEN = "open"  # waiting for an outcome (or recorded 暂未找到: still open)
    DONE = "done"  # an outcome was recorded
    CLOSED = "closed"  # closed by a comparison: the child is now in the registry, or left the list

    @property
    def label(self) -> str:
        return {"open": "待核实", "done": "已核实", "closed": "已关闭"}[self.value]


class VerifyOutcome(StrEnum):
    """What the township found for a child to verify."""

    OTHER_COUNTY = "other_county"  # studying in another county: the school and the proof
    HOME_TEACHING = "home_teaching"  # taught at home (送教上门)
    MOVED_AWAY = "moved_away"  # the family moved away: where
    DECEASED = "deceased"
    NOT_FOUND = "not_found"  # not found yet: the task stays open
    OUT_OF_SCHOOL = "out_of_school"  # out of school: a suspected-dropout case opens

    @property
    def label(self) -> str:
        return {
            "other_county": "在外县就读",
            "home_teaching": "送教上门",
            "moved_away": "已迁出",
            "deceased": "死亡",
            "not_found": "暂未找到",
            "out_of_school": "失学/辍学",
        }[self.value]

    @property
    def standing(self) -> Standing:
        return {
            "other_county": Standing.OTHER_COUNTY,
            "home_teaching": Standing.HOME_TEACHING,
            "moved_away": Standing.MOVED_AWAY,
            "deceased": Standing.DECEASED,
            "not_found": Standing.UNKNOWN,
            "out_of_school": Standing.SUSPECTED_DROPOUT,
        }[self.value]


# ---- the comparison's decisions (pure; services.comparisons.compare mirrors them in SQL from these tables) ----

# A registry record's status → the outcome of a listed child matched to it (enrolled or suspended: in school
# here or 人户分离, by the township of the school against that of the household).
MATCHED_OUTCOME: dict[str, Outcome] = {
    "enrolled": Outcome.IN_SCHOOL,
    "suspended": Outcome.IN_SCHOOL,
    "dropped_out": Outcome.DROPPED_OUT,
    "transferred_out": Outcome.LEFT_REGISTRY,
    "graduated": Outcome.LEFT_REGISTRY,
    "deceased": Outcome.LEFT_REGISTRY,
}
# A registry record's status → where the child stands by the registry alone.
REGISTRY_STANDING: dict[str, Standing] = {
    "enrolled": Standing.IN_SCHOOL,
    "suspended": Standing.SUSPENDED,
    "dropped_out": Standing.DROPOUT,
    "transferred_out": Standing.LEFT,
    "graduated": Standing.LEFT,
    "deceased": Standing.DECEASED,
}
# The registry records the ledger holds of their own (besides the listed children matched to theirs).
LEDGER_STATUSES: tuple[str, ...] = ("enrolled", "suspended", "dropped_out")
# An open case of these categories says more than the registry: the strongest last (送教上门 over 辍学 over 疑似).
CASE_STANDING: tuple[tuple[str, Standing], ...] = (
    ("suspected_dropout", Standing.SUSPECTED_DROPOUT),
    ("dropout", Standing.DROPOUT),
    ("home_teaching", Standing.HOME_TEACHING),
)
# Where the household sweep found a child (rules.sweeps.FoundStatus) → standing, for a child known only by it.
SWEEP_STANDING: dict[str, Standing] = {
    "local_school": Standing.IN_SCHOOL,
    "elsewhere": Standing.OTHER_COUNTY,
    "not_enrolled": Standing.SUSPECTED_DROPOUT,
    "dropped_out": Standing.DROPOUT,
    "disabled_home": Standing.TO_VERIFY,  # at home, neither taught nor assessed: the assessment task says
    "deceased": Standing.DECEASED,
    "moved_away": Standing.MOVED_AWAY,
}
# The standings of a child out of school (三比对 (3): against the 脱贫户/监测户 list)
OUT_OF_SCHOOL: tuple[Standing, ...] = (Standing.SUSPECTED_DROPOUT, Standing.DROPOUT)
# The order of a ledger row's sources (its 来源 column)
SOURCES: tuple[str, ...] = ("residents", "registry", "sweep", "welfare", "disabled", "households")
SOURCE_LABELS: dict[str, str] = {
    "residents": "户籍",
    "registry": "学籍",
    "sweep": "排查",
    "welfare": "民政",
    "disabled": "残联",
    "households": "乡村振兴",
}


def listed_outcome(
    *, status: str | None, school_township: int | None, home_township: int | None, pending: bool = False
) -> Outcome:
    """户籍 vs 学籍 for a child on the register: matched to a record of this status at a school of that township
    (status None: no record), or with a candidate record awaiting review."""
    if status is None:
        return Outcome.PENDING_REVIEW if pending else Outcome.NOT_ENROLLED
    outcome = MATCHED_OUTCOME[status]
    if outcome is Outcome.IN_SCHOOL and school_township != home_township:
        return Outcome.SEPARATED
    return outcome


def standing_of(
    *,
    status: str | None,
    open_cases: frozenset[str] | set[str] = frozenset(),
    task_outcome: str | None = None,
    sweep_status: str | None = None,
) -> Standing:
    """Where a school-age child stands now: the registry record's status; without one, the township's finding
    (the latest task outcome), else what the sweep saw, else to be verified; an open 疑似辍学/辍学/送教上门 case
    overrides either (it is the later, closer look)."""
    if status is not None:
        standing = REGISTRY_STANDING[status]
    elif task_outcome is not None:
        standing = VerifyOutcome(task_outcome).standing
    elif sweep_status is not None:
        standing = SWEEP_STANDING[sweep_status]
    else:
        standing = Standing.TO_VERIFY
    for category, by_case in CASE_STANDING:
        if category in open_cases:
            standing = by_case
    return standing


def dedupe_key(
    *, id_number: str | None, name: str, birth_date: date | None, village_id: int | None
) -> tuple[str, ...]:
    """One ledger row per child: the same ID number is the same child; without one, the same name, birth date
    and village."""
    if id_number:
        return ("id", id_number.strip().upper())
    return ("name", name.strip(), birth_date.isoformat() if birth_date else "", str(village_id or ""))


def joined_sources(sources: set[str] | frozenset[str]) -> str:
    """A ledger row's sources, comma-joined in the ledger's order."""
    return ",".join(s for s in SOURCES if s in sources)


def sources_label(joined: str) -> str:
    """户籍、学籍、排查 … for a row's comma-joined sources."""
    return "、".join(SOURCE_LABELS.get(s, s) for s in joined.split(",") if s)
