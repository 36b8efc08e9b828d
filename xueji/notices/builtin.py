"""The built-in templates, written in code so that their wording can be reviewed here: 限期入学/复学通知书 (with its
送达回证), 劝返复学告知书 (with the family's receipt) and the case file's cover. scripts/make_notice_templates.py
writes them to xueji/notices/templates/; `xueji notice templates -o DIR` hands a county copies to edit."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import datetime

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from xueji.notices.fonts import BODY, CENTER, HEADING, JUSTIFY, RIGHT, TABLE, TITLE, add_text, set_font
from xueji.rules.notices import NoticeKind

BODY_SIZE = 16  # 三号
TITLE_SIZE = 22  # 二号
INDENT = "\u3000\u3000"  # two full-width spaces: a 公文 paragraph's first-line indent that survives any template edit


def new_document() -> DocumentObject:
    """An empty A4 document with 公文 margins and CJK fonts on the styles every paragraph and table inherit."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = document.styles["Normal"]
    set_font(normal, BODY, BODY_SIZE)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)
    set_font(document.styles["Table Grid"], TABLE, 12)
    return document


def title(document: DocumentObject, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = CENTER
    paragraph.paragraph_format.space_after = Pt(12)
    add_text(paragraph, text, TITLE, TITLE_SIZE, bold=True)


def line(document: DocumentObject, text: str, *, align: int | None = JUSTIFY, font: str = BODY) -> None:
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align  # type: ignore[assignment]
    add_text(paragraph, text, font, BODY_SIZE)


def signature(document: DocumentObject) -> None:
    document.add_paragraph()
    line(document, "{{签发单位}}", align=RIGHT)
    line(document, "{{发文日期}}", align=RIGHT)


def receipt(document: DocumentObject, heading: str, rows: list[tuple[str, str]]) -> None:
    """A slip below a cut line, filled in by hand when the document is handed over."""
    document.add_paragraph()
    line(document, "-" * 30 + " 沿此线剪开 " + "-" * 30, align=CENTER, font=TABLE)
    line(document, heading, align=CENTER, font=HEADING)
    table = document.add_table(rows=0, cols=2)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Mm(40), Mm(110)
        for cell, text in zip(cells, (label, value), strict=True):
            add_text(cell.paragraphs[0], text, TABLE, 14)


def order() -> DocumentObject:
    """限期入学/复学通知书: the township's written order to the guardian, and its 送达回证."""
    document = new_document()
    title(document, "限期{{入学复学}}通知书")
    line(document, "{{文号}}", align=CENTER)
    document.add_paragraph()
    line(document, "{{监护人}}:", align=None)
    line(
        document,
        INDENT + "经核查,你的子女(被监护人){{儿童姓名}}(性别:{{性别}},出生日期:{{出生日期}},身份证号:"
        "{{身份证号}},住址:{{住址}})为义务教育阶段适龄儿童少年,目前未按规定{{入学复学}}。学校和家庭劝返后,"
        "至今仍未到校。",
    )
    line(
        document,
        INDENT
        + "根据《中华人民共和国义务教育法》第五条、第十一条、第五十八条和《中华人民共和国未成年人保护法》"
        "第十六条的规定,适龄儿童、少年的父母或者其他法定监护人应当依法保证其按时入学接受并完成义务教育。"
        "现责令你自接到本通知之日起{{期限天数}}日内,送{{儿童姓名}}到{{学校}}{{入学复学}}。",
    )
    line(
        document,
        INDENT + "逾期仍不送子女(被监护人){{入学复学}}的,将依照《中华人民共和国义务教育法》第五十八条的规定,"
        "给予批评教育,责令限期改正;情节严重的,依法采取行政措施或者提请人民法院支持。",
    )
    line(document, INDENT + "特此通知。")
    signature(document)
    receipt(
        document,
        "送达回证",
        [
            ("文书", "限期{{入学复学}}通知书 {{文号}}"),
            ("受送达人", "{{监护人}}(儿童:{{儿童姓名}})"),
            ("送达地点", "{{住址}}"),
            ("送达日期", "        年    月    日"),
            ("受送达人签收", ""),
            ("送达人签名", ""),
            ("备注", ""),
        ],
    )
    return document


def persuasion() -> DocumentObject:
    """劝返复学告知书: the school's (or the township's) notice to the family, and the family's receipt."""
    document = new_document()
    title(document, "劝返复学告知书")
    line(document, "{{文号}}", align=CENTER)
    document.add_paragraph()
    line(document, "{{监护人}}家长:", align=None)
    line(
        document,
        INDENT + "您的子女{{儿童姓名}}({{学校}}{{年级}},身份证号:{{身份证号}})目前没有到校上学。接受义务教育"
        "是适龄儿童少年的权利,送子女按时入学并完成义务教育是父母或者其他法定监护人的法定义务(《中华人民共和国"
        "义务教育法》第五条、第十一条)。",
    )
    line(
        document,
        INDENT + "请您尽快送孩子到校{{入学复学}}。学校将为孩子返校提供帮助:补习功课、心理疏导、困难资助和"
        "送教上门等。有困难请与学校或乡镇联系。",
    )
    line(
        document,
        INDENT + "孩子仍不返校的,乡镇人民政府将依法向您下达限期{{入学复学}}通知书。",
    )
    line(document, INDENT + "特此告知。")
    signature(document)
    receipt(
        document,
        "家长回执",
        [
            ("文书", "劝返复学告知书 {{文号}}"),
            ("儿童", "{{儿童姓名}}"),
            ("家长签收", ""),
            ("签收日期", "        年    月    日"),
            ("家长意见", ""),
        ],
    )
    return document


def case_file() -> DocumentObject:
    """The case file's cover; xueji.notices.case_file appends the tables (the child, the family, every step)."""
    document = new_document()
    title(document, "控辍保学个案档案")
    line(document, "{{县}}{{乡镇}} · {{学校}}", align=CENTER)
    line(document, "儿童:{{儿童姓名}}", align=CENTER)
    line(document, "生成单位:{{签发单位}}    生成日期:{{发文日期}}", align=CENTER)
    return document


BUILDERS: dict[NoticeKind, Callable[[], DocumentObject]] = {
    NoticeKind.ORDER: order,
    NoticeKind.PERSUASION: persuasion,
    NoticeKind.CASE_FILE: case_file,
}


def template_bytes(kind: NoticeKind) -> bytes:
    """The built-in template of this kind, as a .docx file."""
    buffer = io.BytesIO()
    document = BUILDERS[kind]()
    document.core_properties.title = kind.label
    document.core_properties.author = "xueji"
    document.core_properties.created = document.core_properties.modified = FIXED
    document.save(buffer)
    return _stable(buffer.getvalue())


FIXED = datetime(2026, 1, 1)


def _stable(data: bytes) -> bytes:
    """The same bytes on every build (python-docx stamps each zip member with the time of writing)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, source.read(info.filename))
    return out.getvalue()
