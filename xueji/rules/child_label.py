"""How a child is named wherever two could be confused (two 刘志 in one list): the name with the class and the
birth month, and the last 4 ID characters only for a viewer whose role may see ID numbers."""

from __future__ import annotations

from datetime import date

from xueji.rules.class_code import ClassCodeError, parse_class_code

ID_TAIL = 4  # characters of the ID number shown to those who may see it


def class_short(code: str | None, school_year_start: int) -> str:
    """The class as teachers say it, e.g. 七年级2班, from its 7-digit code in that school year; empty without a
    code (a child with no registry record) or with one that cannot be read."""
    if not code:
        return ""
    try:
        parsed = parse_class_code(code)
    except ClassCodeError:
        return ""
    return f"{parsed.grade_label(school_year_start)}{parsed.number}班"


def id_tail(id_number: str | None, *, visible: bool) -> str:
    """The ID number's last 4 characters as "…1234" for a viewer who may see ID numbers; empty otherwise."""
    if not visible or not id_number or len(id_number.strip()) < ID_TAIL or "*" in id_number[-ID_TAIL:]:
        return ""
    return "…" + id_number.strip()[-ID_TAIL:]


def child_label(
    name: str,
    *,
    class_name: str = "",
    born: date | None = None,
    id_number: str | None = None,
    show_id: bool = False,
) -> str:
    """刘志(七年级2班,2013年5月生,…1234): what is known, in that order; the bare name when nothing is."""
    details = [
        class_name.strip(),
        f"{born.year}年{born.month}月生" if born else "",
        id_tail(id_number, visible=show_id),
    ]
    shown = [d for d in details if d]
    return f"{name}({','.join(shown)})" if shown else name
