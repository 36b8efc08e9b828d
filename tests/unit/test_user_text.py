"""ui.text.md: user text reaches markdown as text. Every markdown, HTML and Streamlit construct is escaped; what
the reader sees (the escapes taken away) is what was typed. The rendering itself is checked in Chromium
(tests/e2e/test_markdown_text.py)."""

import re
import string

import pytest

from xueji.ui.text import md

HOSTILE = [
    "![x](http://127.0.0.1:8000/pixel.png)",
    "[点我](http://127.0.0.1:8000/)",
    '<img src="http://127.0.0.1:8000/a.png">',
    "<script>alert(1)</script>",
    "http://127.0.0.1:8000/ www.example.cn a@example.cn",
    ":red[红字] :material/home: $x^2$",
    "# 标题\n- 列表\n> 引用\n1. 编号\n---\n| a | b |",
    "**粗** _斜_ ~~删~~ `代码` \\[转义\\]",
    "[链接][ref]\n\n[ref]: http://127.0.0.1:8000/",
    "&lt;img&gt; &#x3C;b&#x3E;",
]


def _text_node(escaped: str) -> str:
    """The text a CommonMark parser makes of the escaped text: a backslash before punctuation disappears, a hard
    break ("  " + newline) is a line break."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped.replace("  \n", "\n"))


def _seen(escaped: str) -> str:
    """What the reader sees: the text without the invisible word joiners."""
    return _text_node(escaped).replace("\u2060", "")


@pytest.mark.parametrize("text", HOSTILE)
def test_what_the_reader_sees_is_what_was_typed(text):
    assert _seen(md(text)) == text


INLINE = set("\\`*_~[]!<&$|")  # open markup anywhere in a line
LINE_START = re.compile(r"^[ \t]*([#>+=*-]|\d+[.)](?:[ \t]|$))")  # open a block at the start of a line


def _bare(escaped: str) -> list[str]:
    """The marks that would open markup because no backslash escapes them."""
    bare = []
    for line in escaped.split("  \n"):
        if LINE_START.match(line):
            bare.append(line.strip()[:3])
        i = 0
        while i < len(line):
            if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in string.punctuation:
                i += 2
                continue
            if line[i] in INLINE:
                bare.append(line[i])
            i += 1
    return bare


@pytest.mark.parametrize("text", HOSTILE)
def test_nothing_that_opens_markup_is_left_bare(text):
    assert _bare(md(text)) == []
    # the cases are hostile: unescaped, they would be markup or a link
    assert _bare(text.replace("\n", "  \n")) or re.search(r"https?://|www\.|@[-\w]", text)


@pytest.mark.parametrize("text", HOSTILE)
def test_a_bare_address_in_the_text_is_not_there_for_gfm_to_turn_into_a_link(text):
    # remark-gfm links http://…, www.… and a@b.cn found in the parsed text, escaped or not
    assert not re.search(r"https?://|www\.|@[-\w]", _text_node(md(text)), re.IGNORECASE)


def test_the_marks_that_open_markup_are_escaped_and_prose_punctuation_is_left_alone():
    assert md("\\`*_~[]!<&$|") == "".join("\\" + c for c in "\\`*_~[]!<&$|")
    prose = "孩子情况:请填写(有身份证号时可不填), 2026-12-02; 1.5 课时 a/b ? 'x' \"y\" 50% =+^{}"
    assert md(prose) == prose
    assert md("- 甲\n+ 乙\n  # 丙\n> 丁\n12. 戊\n3) 己\n===") == (
        "\\- 甲  \n\\+ 乙  \n  \\# 丙  \n\\> 丁  \n12\\. 戊  \n3\\) 己  \n\\==="
    )
    assert md("张三 Zhang San 12") == "张三 Zhang San 12"
    assert md("王（小）明·李，好。") == "王（小）明·李，好。"  # full-width marks are not markdown


def test_a_line_break_in_a_note_stays_a_line_break():
    assert md("第一行\n第二行\r\n第三行") == "第一行  \n第二行  \n第三行"


def test_none_is_empty_and_other_values_are_their_text():
    assert md(None) == ""
    assert md(12.5) == "12.5" and md("2026-12-02") == "2026-12-02"
    assert md(ValueError("a_b")) == "a\\_b"


@pytest.mark.parametrize("text", [":red[红字]", ":material/home:", ":smile:", "见:Tom"])
def test_no_colon_is_left_directly_before_a_letter_for_a_directive_or_shortcode_to_open(text):
    # Streamlit renders :red[…] (bracket escaped or not), :material/…: and :smile: after a colon and a letter
    assert not re.search(r":[A-Za-z]", _text_node(md(text)))
    assert _seen(md(text)) == text
