"""Open a template (the county's own if its folder holds one of that name, else the built-in), check it, and fill
its {{占位符}}. Word splits typed text into runs wherever it likes ({{儿童 in one run, 姓名}} in the next, after a
spell check or an edit), so a placeholder is found in a paragraph's whole text and replaced across the runs it
spans; the text around it keeps its runs and their formatting. Paragraphs in tables, text boxes, headers and
footers are filled too."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

from xueji.notices.xml_text import printable
from xueji.rules.notices import (
    NUMBER,
    PLACEHOLDERS,
    NoticeKind,
    placeholder_spans,
    placeholders_in,
    unknown_placeholders,
)

BUILT_IN = Path(__file__).parent / "templates"
MAX_TEMPLATE_BYTES = 5_000_000  # a letterhead with a logo fits; anything bigger is not a template
MAX_UNPACKED_BYTES = 50_000_000  # a zip bomb is refused before python-docx unpacks it
_P, _T = qn("w:p"), qn("w:t")
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


class NoticeTemplateError(ValueError):
    """The county's template cannot be used; the message says why, in Chinese."""


@dataclass(frozen=True)
class Template:
    kind: NoticeKind
    name: str  # as recorded on the notice: 内置 order.docx, or 本县 order.docx
    data: bytes


def template_for(kind: NoticeKind, folder: Path | None) -> Template:
    """The county's file of this name in the folder if there is one (read here, checked by open_template), else
    the built-in one. A folder that is set but missing (a share not mounted, a typing error) is refused rather
    than passed over: the county would otherwise issue on the built-in wording without knowing it."""
    if folder is not None:
        own = folder / kind.template
        try:
            if not folder.is_dir():
                raise NoticeTemplateError(
                    f"设置 XUEJI_NOTICE_TEMPLATES 指定的模板文件夹 {folder} 不存在或不是文件夹,暂不能生成文书:"
                    "请系统管理员改正设置(不用本县模板时不要设置此项)"
                )
            if own.is_file():
                size = own.stat().st_size
                if size > MAX_TEMPLATE_BYTES:
                    raise NoticeTemplateError(
                        f"本县模板 {kind.template} 太大({size // 1024} KB),不能超过 {MAX_TEMPLATE_BYTES // 1_000_000} MB"
                    )
                return Template(kind, f"本县 {kind.template}", own.read_bytes())
        except OSError as exc:
            raise NoticeTemplateError(f"读不到本县模板 {kind.template}:{exc.strerror or exc}") from exc
    return Template(kind, f"内置 {kind.template}", (BUILT_IN / kind.template).read_bytes())


def open_template(template: Template) -> DocumentObject:
    """The template as a document, after checking that it is a real .docx of bounded size whose placeholders
    are all known; otherwise NoticeTemplateError naming the problem."""
    where = template.name
    if len(template.data) > MAX_TEMPLATE_BYTES:
        raise NoticeTemplateError(f"模板 {where} 太大,不能超过 {MAX_TEMPLATE_BYTES // 1_000_000} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(template.data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
            if unpacked > MAX_UNPACKED_BYTES or "word/document.xml" not in archive.namelist():
                raise NoticeTemplateError(f"模板 {where} 不是 Word 文档(.docx)")
        document = Document(io.BytesIO(template.data))
    except NoticeTemplateError:
        raise
    except Exception as exc:  # any way a broken file fails to open: never a traceback
        raise NoticeTemplateError(
            f"模板 {where} 不是能打开的 Word 文档(.docx),请用 Word 另存为 .docx"
        ) from exc
    used = [name for _, text in _paragraphs(document) for name in placeholders_in(text)]
    unknown = unknown_placeholders(used)
    if unknown:
        names = "、".join("{{" + n + "}}" for n in unknown)
        raise NoticeTemplateError(
            f"模板 {where} 含有不认识的占位符 {names};可用的占位符:{'、'.join(PLACEHOLDERS)}"
        )
    if template.kind.numbered and NUMBER not in used:
        raise NoticeTemplateError(
            f"模板 {where} 缺少 {{{{{NUMBER}}}}}:{template.kind.label}要印文号,请在文号的位置写上 {{{{{NUMBER}}}}}"
        )
    return document


def fill(document: DocumentObject, values: dict[str, str]) -> None:
    """Replace every placeholder named in values in the document (body, tables, text boxes, headers, footers)
    with its value (without the characters XML cannot hold); a placeholder not named stays for a later fill."""
    values = {name: printable(value) for name, value in values.items()}
    for texts, whole in _paragraphs(document):
        if "{{" in whole:
            _replace(texts, values)


def to_bytes(document: DocumentObject) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _stories(document: DocumentObject) -> Iterator[etree._Element]:
    yield document.element.body
    for rel in document.part.rels.values():
        if not rel.is_external and rel.reltype in (RT.HEADER, RT.FOOTER):
            yield rel.target_part.element


def _paragraphs(document: DocumentObject) -> Iterator[tuple[list[etree._Element], str]]:
    """Each paragraph's own w:t elements (not those of a text box nested in it) and its whole text."""
    for story in _stories(document):
        groups: dict[etree._Element, list[etree._Element]] = {}
        for t in story.iter(_T):
            paragraph = next(t.iterancestors(_P), None)
            if paragraph is not None:
                groups.setdefault(paragraph, []).append(t)
        for texts in groups.values():
            yield texts, "".join(t.text or "" for t in texts)


def _replace(texts: list[etree._Element], values: dict[str, str]) -> None:
    """Replace the placeholders of one paragraph, whose text is spread over these w:t elements: the value goes
    where the placeholder starts, the rest of it is cut from the runs it spans. The last is replaced first, so
    the positions of the earlier ones still hold."""
    pieces = [t.text or "" for t in texts]
    for start, end, name in reversed(placeholder_spans("".join(pieces))):
        if name not in values:
            continue
        offset, first = 0, True
        for t, piece in zip(texts, pieces, strict=True):
            lo, hi = offset, offset + len(piece)
            offset = hi
            if hi <= start or lo >= end:
                continue
            before = piece[: max(0, start - lo)]
            after = piece[end - lo :] if end < hi else ""
            t.text = before + (values[name] if first else "") + after
            t.set(_XML_SPACE, "preserve")
            first = False
        pieces = [t.text or "" for t in texts]
