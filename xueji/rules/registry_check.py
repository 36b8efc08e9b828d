"""人籍一致: one class's registry compared with the children actually present. Pure: the registry and the
attendance list in, the findings out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class RegistryPerson:
    student_id: int
    name: str
    id_number: str | None


@dataclass(frozen=True)
class PresentPerson:
    """A child counted present: from a row of the uploaded list (row number) or a ticked box."""

    name: str
    id_number: str | None = None
    row: int | None = None


class FindingKind(StrEnum):
    MISSING = "missing"  # on the registry, not present (名在人不在)
    EXTRA = "extra"  # present, not on the registry (人在籍不在)
    MISMATCH = "mismatch"  # the same child, with details that differ

    @property
    def label(self) -> str:
        return {"missing": "在册未到", "extra": "在班不在册", "mismatch": "信息不一致"}[self.value]


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    name: str
    id_number: str | None
    detail: str
    student_id: int | None = None  # the registry record concerned, if any
    row: int | None = None  # the attendance list's row, if any
    listed_id: str | None = None  # the ID number on the attendance list, where it differs from the registry's


def reconcile(registry: Sequence[RegistryPerson], present: Sequence[PresentPerson]) -> list[Finding]:
    """Match the present children to the registry by ID number, then by name; report what does not match.

    - same ID number, different name → mismatch (the name differs);
    - an ID number not on the registry, but an unmatched registry child of that name → mismatch (the ID differs);
    - no ID number on the list: matched by name alone;
    - whoever is left on the list is extra; whoever is left on the registry is missing."""
    by_id = {p.id_number: p for p in registry if p.id_number}
    unmatched = {p.student_id: p for p in registry}
    findings: list[Finding] = []

    def by_name(name: str) -> RegistryPerson | None:
        return next((p for p in unmatched.values() if p.name == name), None)

    for person in present:
        match = by_id.get(person.id_number) if person.id_number else None
        if match is not None and match.student_id not in unmatched:
            match = None  # listed twice: the second row is extra
        if match is not None:
            if match.name != person.name:
                findings.append(
                    Finding(
                        FindingKind.MISMATCH,
                        match.name,
                        match.id_number,
                        f"姓名不一致:学籍为“{match.name}”,点名册为“{person.name}”",
                        match.student_id,
                        person.row,
                    )
                )
        else:
            match = by_name(person.name)
            if match is None:
                findings.append(
                    Finding(
                        FindingKind.EXTRA, person.name, person.id_number, "不在本班学籍名册中", row=person.row
                    )
                )
                continue
            if person.id_number and person.id_number != match.id_number:
                findings.append(
                    Finding(
                        FindingKind.MISMATCH,
                        match.name,
                        match.id_number,
                        "身份证号不一致" if match.id_number else "学籍无身份证号(临时学籍),点名册有",
                        match.student_id,
                        person.row,
                        listed_id=person.id_number,
                    )
                )
        del unmatched[match.student_id]
    findings += [
        Finding(FindingKind.MISSING, p.name, p.id_number, "在学籍名册中,本次未到", p.student_id)
        for p in unmatched.values()
    ]
    return findings
