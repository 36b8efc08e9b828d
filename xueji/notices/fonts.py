"""CJK fonts on every run: Word picks the East Asian font from w:rFonts/@w:eastAsia, which python-docx's
font.name does not set, so a run given only font.name prints its Chinese in whatever Word falls back to."""

from __future__ import annotations

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.styles.style import CharacterStyle, ParagraphStyle
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from xueji.notices.xml_text import printable

BODY = "仿宋_GB2312"  # 公文 body text
TITLE = "方正小标宋简体"  # 公文 titles; Word substitutes a bold Song where it is not installed
HEADING = "黑体"
TABLE = "宋体"


def set_font(target: Run | ParagraphStyle | CharacterStyle, name: str, size: float | None = None) -> None:
    """Give a run (or a style) the font for both Latin and East Asian text, and a size in points."""
    target.font.name = name
    r_pr = target.element.get_or_add_rPr()
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size is not None:
        target.font.size = Pt(size)


def add_text(
    paragraph: Paragraph, text: str, font: str = BODY, size: float = 16, *, bold: bool = False
) -> Run:
    """Append a run with its CJK font set (the text without the characters XML cannot hold)."""
    run = paragraph.add_run(printable(text))
    set_font(run, font, size)
    if bold:
        run.bold = True
    return run


CENTER = WD_ALIGN_PARAGRAPH.CENTER
RIGHT = WD_ALIGN_PARAGRAPH.RIGHT
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY
