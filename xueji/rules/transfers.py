"""转学 controls (issue 23): the proofs a transfer in must carry. Pure: the documents in, what is missing out."""

from __future__ import annotations

from collections.abc import Collection

from xueji.rules.status_changes import ChangeKind, Document

TRANSFER_IN_KINDS = (ChangeKind.TRANSFER_IN, ChangeKind.TRANSFER_IN_OUTSIDE)
# 转入: proof the child may enrol here (household or property in the catchment) and the sending school's sealed
# registry form (sources 002, 000)
DEFAULT_PROOFS = frozenset({Document.HOUSEHOLD_PROOF, Document.REGISTRY_FORM})


def parse_proofs(text: str) -> frozenset[Document]:
    """The proofs a transfer in needs, from a comma-separated list of document keys (empty: the default)."""
    keys = [k.strip() for k in text.replace(",", ",").split(",") if k.strip()]
    if not keys:
        return DEFAULT_PROOFS
    known = {d.value: d for d in Document}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"未知的材料 {'、'.join(unknown)}(可选:{'、'.join(known)})")
    return frozenset(known[k] for k in keys)


def missing_proofs(
    kind: ChangeKind, documents: Collection[Document], required: frozenset[Document]
) -> list[Document]:
    """The required proofs a request of this kind lacks, in a fixed order (none for kinds that need none)."""
    if kind not in TRANSFER_IN_KINDS:
        return []
    return sorted(required - set(documents), key=lambda d: list(Document).index(d))
