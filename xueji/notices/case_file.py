"""个案档案: the case file's tables, appended to its cover (the template case_file.docx, filled like the others).
Plain rows in, paragraphs and tables out: the service reads the rows; nothing here touches the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from docx.document import Document as DocumentObject
from docx.shared import Pt

from xueji.notices.fonts import HEADING, TABLE, add_text

Rows = Sequence[Sequence[str]]


@dataclass(frozen=True)
class Section:
    heading: str
    columns: tuple[str, ...]
    rows: Rows
    empty: str = "无"  # what stands in place of a table with no rows


@dataclass(frozen=True)
class CaseFile:
    facts: Sequence[tuple[str, str]]  # the child: label, value
    sections: Sequence[Section] = field(default_factory=tuple)


NUMERALS = "一二三四五六七八九十"


def append_case_file(document: DocumentObject, case_file: CaseFile) -> None:
    """Append the child's facts (a two-column table) and each section (a heading and a table) to the document."""
    _heading(document, f"{NUMERALS[0]}、儿童基本情况")
    _table(document, ("项目", "内容"), [list(f) for f in case_file.facts])
    for number, section in enumerate(case_file.sections, start=1):
        _heading(document, f"{NUMERALS[number % len(NUMERALS)]}、{section.heading}")
        if section.rows:
            _table(document, section.columns, section.rows)
        else:
            add_text(document.add_paragraph(), section.empty, TABLE, 12)


def _heading(document: DocumentObject, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(12)
    add_text(paragraph, text, HEADING, 14)


def _table(document: DocumentObject, columns: Sequence[str], rows: Rows) -> None:
    table = document.add_table(rows=1, cols=len(columns))
    table.style = document.styles["Table Grid"] if "Table Grid" in _style_names(document) else None
    for cell, text in zip(table.rows[0].cells, columns, strict=True):
        add_text(cell.paragraphs[0], text, HEADING, 10.5)
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            add_text(cell.paragraphs[0], text, TABLE, 10.5)
    for paragraph in (p for r in table.rows for c in r.cells for p in c.paragraphs):
        paragraph.paragraph_format.line_spacing = 1.0


def _style_names(document: DocumentObject) -> set[str]:
    return {s.name for s in document.styles if s.name}
