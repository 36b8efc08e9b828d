"""De-identification for display and export: ID numbers as 6 + 4, phone numbers as 3 + 4."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str | None:
    """Show the first 6 and last 4 characters, e.g. 110105********002X."""
    if not value:
        return value
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """Show the first 3 and last 4 digits, e.g. 138****5678."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_identifiers(value: object) -> object:
    """A copy of audit data with every id_number and phone masked, however deeply nested (family members)."""
    if isinstance(value, dict):
        masks = {"id_number": mask_id_number, "phone": mask_phone}
        return {k: masks[k](v) if k in masks else mask_identifiers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_identifiers(v) for v in value]
    return value
