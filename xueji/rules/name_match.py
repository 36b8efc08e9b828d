"""Whether a child on a department's list may be a registry record's child although their ID numbers are not the
same: names compared by pinyin (homophones: 刘志/刘智) and by characters (one wrong, the surname kept: 刘志/刘忠),
ID numbers one digit apart or with two adjacent digits swapped. A candidate is never a match: someone confirms it
(only an identical ID number matches without a person, and that join is the comparison's, not this module's).

On ID numbers: the GB 11643 check digit catches one wrong digit and one swap of adjacent digits, and both imports
(the registry's and the departments' lists) refuse a number that fails it. So two numbers one digit or one swap
apart that BOTH pass their check are seldom a typing error (a form re-keyed by a system that computes the check
digit) and far more often two children born the same day in the same county: that adds little (ID_POINTS_VALID).
The full weight (ID_POINTS) is left for a number that fails its check, which can only be a registry record keyed
before the registry checked numbers."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from xueji.rules.id_number import check_digit
from xueji.rules.pinyin import name_readings

# The separators a minority name is written with (阿依古丽·买买提), and the look-alikes typed for the middle dot.
SEPARATORS = "·•‧・･.．-— "

# Evidence points (out of 100); the score is their sum, capped below 1 (a candidate is never certain).
NAME_POINTS = {"same": 50, "homophone": 40, "one_char": 30}
BIRTH_POINTS = 30
ID_POINTS = 25  # one side's number fails its check digit: a typing error is likely
ID_POINTS_VALID = 10  # both numbers pass their check: more often two children than one typing error
VILLAGE_POINTS = 10
SEX_PENALTY = 30
THRESHOLD = 50  # below this a pair is not put to anyone
CAP = 99


class NameRelation(StrEnum):
    SAME = "same"  # the same characters (separators and spaces aside)
    HOMOPHONE = "homophone"  # other characters, the same pinyin: 刘志 / 刘智
    ONE_CHAR = "one_char"  # one character different, added or left out, the surname kept: 刘志 / 刘忠
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"same": "相同", "homophone": "同音", "one_char": "相差一字", "other": "不同"}[self.value]


class IdRelation(StrEnum):
    SAME = "same"
    ONE_DIGIT = "one_digit"  # one of the first 17 characters different (the check digit may follow it)
    SWAPPED = "swapped"  # two adjacent characters of the first 17 swapped
    MISSING = "missing"  # one side has no ID number (a temporary registry record)
    OTHER = "other"  # two different numbers: two different people (一人一号)

    @property
    def close(self) -> bool:
        return self in (IdRelation.ONE_DIGIT, IdRelation.SWAPPED)


@dataclass(frozen=True)
class Facts:
    """One side of a pair, in plain values: a listed child or a registry record."""

    name: str
    birth_date: date | None = None
    sex: str | None = None
    id_number: str | None = None
    village_id: int | None = None


@lru_cache(maxsize=65536)
def clean_name(name: str) -> str:
    """The name's characters only: full-width forms folded, separators and spaces left out."""
    text = unicodedata.normalize("NFKC", name or "")
    return "".join(c for c in text if c not in SEPARATORS and not c.isspace())


def edit_distance(a: str, b: str, *, transpositions: bool = False) -> int:
    """Levenshtein distance (insert, delete, substitute), or with transpositions of adjacent characters as one
    edit (optimal string alignment, the Damerau distance for one typing error)."""
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if transpositions and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=65536)
def _readings(name: str) -> tuple[tuple[str, ...], ...]:
    return tuple(name_readings(name))


def homophones(a: str, b: str) -> str | None:
    """The shared pinyin of two names read alike character by character (any reading of each character, the
    surname read as a surname), e.g. 刘志 / 刘智 → "liu zhi"; None when they are not read alike."""
    left, right = _readings(a), _readings(b)
    if not left or len(left) != len(right):
        return None
    shared = []
    for x, y in zip(left, right, strict=True):
        common = [r for r in x if r in y]
        if not common:
            return None
        shared.append(common[0])
    return " ".join(shared)


def name_relation(a: str, b: str) -> NameRelation:
    """How two names compare: the same, read alike, one character apart, or different."""
    x, y = clean_name(a), clean_name(b)
    if not x or not y:
        return NameRelation.OTHER
    if x == y:
        return NameRelation.SAME
    if homophones(x, y):
        return NameRelation.HOMOPHONE
    # one character apart, in names of two characters or more on both sides (王 / 王明 is not a typing error),
    # the surname the same (王伟 / 张伟 are two children, not a typing error)
    if min(len(x), len(y)) >= 2 and x[0] == y[0] and abs(len(x) - len(y)) <= 1 and edit_distance(x, y) == 1:
        return NameRelation.ONE_CHAR
    return NameRelation.OTHER


def id_relation(a: str | None, b: str | None) -> IdRelation:
    """How two ID numbers compare. Only the first 17 characters are compared for a typing error: the 18th is a
    check digit, recomputed (or wrong) along with it."""
    if not a or not b:
        return IdRelation.MISSING
    x, y = a.strip().upper(), b.strip().upper()
    if x == y:
        return IdRelation.SAME
    if len(x) != 18 or len(y) != 18:
        return IdRelation.OTHER
    # of equal length, one edit (the Damerau distance 1) is one position changed or two adjacent ones swapped
    differ = [i for i in range(17) if x[i] != y[i]]
    if len(differ) <= 1:
        return IdRelation.ONE_DIGIT  # one digit, or only the check digit
    i, j = differ[0], differ[-1]
    if len(differ) == 2 and j == i + 1 and x[i] == y[j] and x[j] == y[i]:
        return IdRelation.SWAPPED
    return IdRelation.OTHER


def passes_check(number: str | None) -> bool:
    """Whether an 18-character ID number's last character is the check digit of its first 17."""
    text = (number or "").strip().upper()
    return len(text) == 18 and text[:17].isdigit() and check_digit(text[:17]) == text[17]


def id_difference(a: str | None, b: str | None) -> str:
    """Where two close ID numbers differ, in words that tell no digit: 身份证号第15位不同."""
    relation = id_relation(a, b)
    if not relation.close or a is None or b is None:
        return ""
    x, y = a.upper(), b.upper()
    differ = [i + 1 for i in range(17) if x[i] != y[i]] or [18]
    # the 18th character is the check digit: computed from the first 17, it differs along with them
    check = ",第18位校验码随之不同" if differ != [18] and x[17] != y[17] else ""
    if relation is IdRelation.SWAPPED:
        return f"身份证号第{differ[0]}、{differ[1]}位颠倒{check}"
    return f"身份证号第{differ[0]}位不同{check}"


def _name_words(relation: NameRelation, listed: str, registered: str) -> str:
    if relation is NameRelation.SAME:
        return "姓名相同" if listed == registered else "姓名相同(写法不同)"
    if relation is NameRelation.HOMOPHONE:
        return f"姓名同音({homophones(clean_name(listed), clean_name(registered))})"
    return f"姓名相差一字({listed}/{registered})"


def candidate(listed: Facts, registered: Facts) -> tuple[float, str] | None:
    """Whether a registry record may be the listed child, with a score in (0, 1) and the reason in Chinese.

    A candidate needs names alike (the same, read alike, or one character apart) and either the same birth
    date or ID numbers one digit or one swap apart (which weighs little when both pass their check digit: see
    the module). Two different ID numbers are two people (一人一号): no
    candidate. The same village adds to the score; a different sex takes from it, so that with a different sex
    only an identical name and birth date remain a candidate. Identical ID numbers are a match, not a
    candidate: None."""
    ids = id_relation(listed.id_number, registered.id_number)
    if ids in (IdRelation.SAME, IdRelation.OTHER):
        return None
    names = name_relation(listed.name, registered.name)
    if names is NameRelation.OTHER:
        return None
    same_birth = listed.birth_date is not None and listed.birth_date == registered.birth_date
    if not same_birth and not ids.close:
        return None
    points = NAME_POINTS[names.value]
    words = [_name_words(names, listed.name.strip(), registered.name.strip())]
    if ids.close:
        both_valid = passes_check(listed.id_number) and passes_check(registered.id_number)
        points += ID_POINTS_VALID if both_valid else ID_POINTS
        words.insert(0, "身份证号相差一位" if ids is IdRelation.ONE_DIGIT else "身份证号相邻两位颠倒")
    if same_birth:
        points += BIRTH_POINTS
        words.append("出生日期相同")
    if listed.village_id is not None and listed.village_id == registered.village_id:
        points += VILLAGE_POINTS
        words.append("同村")
    if listed.sex and registered.sex and listed.sex != registered.sex:
        points -= SEX_PENALTY
        words.append("但性别不同")
    if points < THRESHOLD:
        return None
    return min(points, CAP) / 100, ",".join(words)


def differences(listed: Facts, registered: Facts) -> list[str]:
    """What differs between the two sides, each in words for the reviewer: 姓名:刘志 / 刘智(同音)."""
    found = []
    names = name_relation(listed.name, registered.name)
    if listed.name.strip() != registered.name.strip():
        how = {
            NameRelation.SAME: "写法不同",
            NameRelation.HOMOPHONE: f"同音 {homophones(clean_name(listed.name), clean_name(registered.name))}",
            NameRelation.ONE_CHAR: "相差一字",
            NameRelation.OTHER: "不同",
        }[names]
        found.append(f"姓名:{listed.name.strip()} / {registered.name.strip()}({how})")
    if listed.birth_date and registered.birth_date and listed.birth_date != registered.birth_date:
        found.append(f"出生日期:{listed.birth_date.isoformat()} / {registered.birth_date.isoformat()}")
    if listed.sex and registered.sex and listed.sex != registered.sex:
        found.append(f"性别:{listed.sex} / {registered.sex}")
    ids = id_relation(listed.id_number, registered.id_number)
    if ids.close:
        found.append(id_difference(listed.id_number, registered.id_number))
    elif ids is IdRelation.MISSING:
        found.append("身份证号:学籍记录没有身份证号(临时学籍)" if listed.id_number else "身份证号:名单没有")
    return found
