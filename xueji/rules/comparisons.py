"""三比对's vocabulary: what comparing the household register (户籍) with the registry (学籍) finds for a child
(Outcome), and where each school-age child of the ledger stands now (Standing)."""

from __future__ import annotations

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
