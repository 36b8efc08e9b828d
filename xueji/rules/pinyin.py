"""Pinyin initials of a child's name (张小明 → zxm), so a teacher can find a child by typing zxm."""

from __future__ import annotations

from functools import lru_cache

from pypinyin.pinyin_dict import pinyin_dict

# Surnames read differently from the character's first dictionary reading (曾 is céng first, zēng as a name).
_SURNAME_INITIALS = {
    "曾": "z",
    "单": "s",
    "解": "x",
    "仇": "q",
    "朴": "p",
    "区": "o",
    "查": "z",
    "乐": "y",
    "盖": "g",
    "缪": "m",
    "覃": "q",
    "尉": "y",
    "种": "c",
    "翟": "z",
    "召": "s",
    "折": "s",
    "秘": "b",
    "隗": "w",
    "员": "y",
    "繁": "p",
    "薄": "b",
    "宿": "s",
    "说": "y",
    "冼": "x",
}
_TONE_MARKS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")


@lru_cache(maxsize=8192)
def _initial(char: str) -> str:
    if char.isascii():
        return char.lower() if char.isalnum() else ""
    readings = pinyin_dict.get(ord(char))
    if not readings:
        return ""  # a separator such as · in a minority name, or a character with no reading
    return readings[0].translate(_TONE_MARKS)[0]


def name_initials(name: str) -> str:
    """The first letter of each character's pinyin, lower case; the surname read as a surname."""
    text = name.strip()
    if not text:
        return ""
    first = _SURNAME_INITIALS.get(text[0]) or _initial(text[0])
    return (first + "".join(map(_initial, text[1:])))[:20]


def looks_like_initials(text: str) -> bool:
    """Tell whether a search text is pinyin initials (Latin letters only), not a name or a number."""
    return text.isascii() and text.isalpha()
