"""Pinyin initials of a child's name (张小明 → zxm), so a teacher can find a child by typing zxm."""

from __future__ import annotations

from functools import cache, lru_cache
from importlib.resources import files

# Surnames read differently from the character's first dictionary reading (曾 is céng first, zēng as a name): the
# reading as a surname first, then any other a surname may take (尉 is yù in 尉迟, wèi alone).
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "曾": ("zeng",),
    "单": ("shan",),
    "解": ("xie",),
    "仇": ("qiu",),
    "朴": ("piao",),
    "区": ("ou",),
    "查": ("zha",),
    "乐": ("yue", "le"),
    "盖": ("ge",),
    "缪": ("miao",),
    "覃": ("qin",),
    "尉": ("yu", "wei"),
    "种": ("chong",),
    "翟": ("zhai",),
    "召": ("shao",),
    "折": ("she",),
    "秘": ("bi",),
    "隗": ("wei",),
    "员": ("yun",),
    "繁": ("po",),
    "薄": ("bo",),
    "宿": ("su",),
    "说": ("yue",),
    "冼": ("xian",),
}
# Two-character surnames, read as surnames (单于 is chán yú, 万俟 mò qí, 长孙 zhǎng sūn).
COMPOUND_SURNAMES: dict[str, tuple[str, str]] = {
    "欧阳": ("ou", "yang"),
    "司马": ("si", "ma"),
    "上官": ("shang", "guan"),
    "诸葛": ("zhu", "ge"),
    "东方": ("dong", "fang"),
    "皇甫": ("huang", "fu"),
    "尉迟": ("yu", "chi"),
    "公孙": ("gong", "sun"),
    "慕容": ("mu", "rong"),
    "长孙": ("zhang", "sun"),
    "宇文": ("yu", "wen"),
    "司徒": ("si", "tu"),
    "司空": ("si", "kong"),
    "夏侯": ("xia", "hou"),
    "令狐": ("ling", "hu"),
    "端木": ("duan", "mu"),
    "单于": ("chan", "yu"),
    "万俟": ("mo", "qi"),
    "澹台": ("tan", "tai"),
    "轩辕": ("xuan", "yuan"),
    "钟离": ("zhong", "li"),
    "独孤": ("du", "gu"),
    "南宫": ("nan", "gong"),
    "西门": ("xi", "men"),
    "呼延": ("hu", "yan"),
    "赫连": ("he", "lian"),
    "闻人": ("wen", "ren"),
}
_SURNAME_INITIALS = {char: readings[0][0] for char, readings in SURNAME_READINGS.items()}
_TONE_MARKS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")


INITIALS_FILE = "pinyin_initials.txt"


@cache
def _pinyin_dict() -> dict[int, str]:
    """pypinyin's dictionary of every character's readings: about 56 MB once loaded, so only loaded for what
    needs the readings themselves (name matching), not for initials."""
    from pypinyin.pinyin_dict import pinyin_dict

    return pinyin_dict


def initials_table_text() -> str:
    """The first letter of each character's first reading, from pypinyin: runs of consecutive code points,
    one a line, "start in hex:letters". Shipped as pinyin_initials.txt (tests/unit/test_pinyin.py checks it
    against the installed pypinyin)."""
    letters = {
        cp: readings[0].translate(_TONE_MARKS)[0] for cp, readings in _pinyin_dict().items() if readings
    }
    lines, start, run = [], -2, ""
    for cp in sorted(letters):
        if cp != start + len(run):
            if run:
                lines.append(f"{start:x}:{run}")
            start, run = cp, ""
        run += letters[cp]
    if run:
        lines.append(f"{start:x}:{run}")
    return "\n".join(lines) + "\n"


@cache
def _initials() -> dict[int, str]:
    """Code point → the initial letter of its first reading (about 3 MB, against pypinyin's 56 MB)."""
    table: dict[int, str] = {}
    for line in files("xueji.rules").joinpath(INITIALS_FILE).read_text(encoding="ascii").splitlines():
        start, _, run = line.partition(":")
        first = int(start, 16)
        table.update(zip(range(first, first + len(run)), run, strict=True))
    return table


@lru_cache(maxsize=8192)
def _initial(char: str) -> str:
    if char.isascii():
        return char.lower() if char.isalnum() else ""
    # "": a separator such as · in a minority name, or a character with no reading
    return _initials().get(ord(char), "")


@lru_cache(maxsize=8192)
def char_readings(char: str) -> tuple[str, ...]:
    """Every reading of a character without tones (ü as v), the dictionary's first reading first; a Latin
    letter or digit reads as itself, a separator (the · of a minority name) as nothing."""
    if char.isascii():
        return (char.lower(),) if char.isalnum() else ()
    readings = _pinyin_dict().get(ord(char))
    if not readings:
        return ()
    return tuple(dict.fromkeys(r.translate(_TONE_MARKS) for r in readings.split(",")))


def name_readings(name: str) -> list[tuple[str, ...]]:
    """The readings of each character of a name that has one, the surname (one or two characters) read as a
    surname; separators and spaces are left out."""
    text = "".join(name.split())
    surname: list[tuple[str, ...]] = []
    if text[:2] in COMPOUND_SURNAMES:
        surname = [(reading,) for reading in COMPOUND_SURNAMES[text[:2]]]
        text = text[2:]
    elif text[:1] in SURNAME_READINGS:
        surname = [SURNAME_READINGS[text[0]]]
        text = text[1:]
    return surname + [r for r in map(char_readings, text) if r]


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
