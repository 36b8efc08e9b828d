"""User text is text: what a user typed (names, notes, reasons, addresses, account names) reaches every element that
renders markdown (st.markdown, st.caption, st.write of a string, st.info/warning/success/error, headers, tabs,
expander, widget labels and help) only through md(), so an image, a link, HTML, a heading or a colour directive
in it shows as the characters typed and makes the browser fetch nothing. Selectbox and multiselect options,
st.dataframe cells and st.text are plain text already and take the text as it is."""

from __future__ import annotations

import re

# The characters that open markdown anywhere in a line: escapes, code, emphasis and strikethrough, links and
# images ([ ] !), HTML (<), entities (&), math ($), tables (|). With [ escaped, Streamlit's directives
# (:red[…]) cannot open either. Prose punctuation (, ; : / ( ) . - + ? " ') stays as it is.
_INLINE = re.compile(r"([\\`*_~\[\]!<&$|])")
# What opens a block at the start of a line: headings, quotes, list items, setext underlines, numbered items
# (a number only when a space or the line's end follows: 12.5 is prose).
_LINE_START = re.compile(r"^([ \t]*)([#>+=-])|^([ \t]*\d{1,9})([.)])(?=[ \t]|$)", re.MULTILINE)
_NEWLINE = re.compile(r"\r\n?|\n")
# GFM also turns bare addresses (http://…, www.…, a@b.cn) into links after parsing, escapes or not: an
# invisible word joiner (U+2060) inside each "://", "www." and "@" leaves nothing for it to find.
_AUTOLINK = re.compile(r"(:)(//)|(www)(\.)|(@)()", re.IGNORECASE)
_JOINER = "\u2060"
# A colon directly before a letter opens a directive (:red[…], :material/…:) or an emoji shortcode (:smile:),
# which Streamlit renders even with the bracket escaped: the joiner after such a colon leaves it prose.
_DIRECTIVE = re.compile(r":(?=[A-Za-z])")


def _line_start(match: re.Match[str]) -> str:
    indent, mark = (match[1], match[2]) if match[2] else (match[3], match[4])
    return f"{indent}\\{mark}"


def md(value: object) -> str:
    """Escape user text for markdown; a line break stays a line break. None is the empty string."""
    if value is None:
        return ""
    text = _NEWLINE.sub("\n", str(value))
    text = _AUTOLINK.sub(lambda m: _JOINER.join(g for g in m.groups() if g is not None), text)
    text = _DIRECTIVE.sub(":" + _JOINER, text)
    text = _LINE_START.sub(_line_start, _INLINE.sub(r"\\\1", text))
    return text.replace("\n", "  \n")
