"""通知书和个案档案: the documents generated for a case, which of them carry a 文号, and the placeholders a county's
own template may use. Pure: no database, no files.

CONTRACT (issue 26; helper B completes it)."""

from __future__ import annotations

from enum import StrEnum


class NoticeKind(StrEnum):
    ORDER = "order"  # 限期入学/复学通知书: the township's written order to the guardian (ladder step 2)
    PERSUASION = "persuasion"  # 劝返复学告知书: the school's and township's notice to the family (step 1)
    CASE_FILE = "case_file"  # 个案档案: the child, the family, every attempt, every step

    @property
    def label(self) -> str:
        return {"order": "限期入学/复学通知书", "persuasion": "劝返复学告知书", "case_file": "个案档案"}[
            self.value
        ]

    @property
    def numbered(self) -> bool:
        """Carries a 文号 from the township's sequence."""
        return self is not NoticeKind.CASE_FILE
