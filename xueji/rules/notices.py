"""通知书和个案档案: the documents generated for a case, which of them carry a 文号, who may issue which, the
placeholders a county's own template may use, and how the 文号, the dates and the file names are written. Pure:
no database, no files.

The placeholders (written {{name}} in a template; xueji.notices fills them):

| 占位符       | 填入                                                                          |
|--------------|-------------------------------------------------------------------------------|
| 文号         | the township's 文号 for the year (限期通知书, 告知书); empty on the case file    |
| 乡镇         | the child's township                                                          |
| 县           | the county                                                                    |
| 学校         | the child's school (the registry's, or the school following an unregistered child) |
| 儿童姓名     | the child's name                                                              |
| 性别         | 男 / 女                                                                       |
| 出生日期     | 2014年3月5日                                                                  |
| 身份证号     | full on the township's order and the case file of a township / school account; masked on the 告知书 |
| 监护人       | the guardian                                                                  |
| 住址         | the home address                                                              |
| 年级         | the class (小学2020级(01)班), empty for a child without a registry record       |
| 入学复学     | 入学 for a child who never had a registry record, else 复学                    |
| 期限天数     | XUEJI_LADDER_ORDER_DAYS (the time limit the order gives, calendar days)       |
| 期限日期     | 自接到本通知之日起15日内: the limit runs from service, unknown when printed, so no date |
| 发文日期     | 2026年11月26日                                                                |
| 签发单位     | 古港镇人民政府 for a township account; the school's name for a registrar; 县教育局 for the county |
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from xueji.rules.vocab import Role


class NoticeKind(StrEnum):
    ORDER = "order"  # 限期入学/复学通知书: the township's written order to the guardian (ladder step 2)
    PERSUASION = "persuasion"  # 劝返复学告知书: the school's and township's notice to the family (step 1)
    CASE_FILE = "case_file"  # 个案档案: the child, the family, every attempt, every step

    @property
    def label(self) -> str:
        return {"order": "限期入学/复学通知书", "persuasion": "劝返复学告知书", "case_file": "个案档案"}[
            self.value
        ]

    @property
    def numbered(self) -> bool:
        """Carries a 文号 from the township's sequence."""
        return self is not NoticeKind.CASE_FILE

    @property
    def template(self) -> str:
        """The template's file name, built-in or in the county's folder (XUEJI_NOTICE_TEMPLATES)."""
        return f"{self.value}.docx"

    def heading(self, *, enrolled_before: bool) -> str:
        """The document's title: 限期入学通知书 for a child never registered, 限期复学通知书 for one who left."""
        if self is NoticeKind.ORDER:
            return f"限期{admission_word(enrolled_before=enrolled_before)}通知书"
        return self.label


# Who may issue each kind (the role; the service checks the scope and the case).
ISSUERS: dict[NoticeKind, frozenset[Role]] = {
    NoticeKind.ORDER: frozenset({Role.TOWNSHIP_OFFICIAL}),
    NoticeKind.PERSUASION: frozenset({Role.REGISTRAR, Role.TOWNSHIP_OFFICIAL}),
    NoticeKind.CASE_FILE: frozenset({Role.REGISTRAR, Role.TOWNSHIP_OFFICIAL, Role.COUNTY_OFFICER}),
}


def may_issue(kind: NoticeKind, role: Role) -> bool:
    """Tell whether an account of this role may issue this kind of document at all."""
    return role in ISSUERS[kind] or role is Role.SYSTEM


def admission_word(*, enrolled_before: bool) -> str:
    """入学 for a child of age who never had a registry record (适龄未入学), 复学 for a child who left school."""
    return "复学" if enrolled_before else "入学"


def shows_full_id(kind: NoticeKind, *, sees_fieldwork: bool) -> bool:
    """Whether the document prints the full ID number: the township's order to the guardian and the case file
    do, for the roles that check numbers at the door (services.common.access.sees_fieldwork_identifiers); the
    告知书, left with the family, never does."""
    return sees_fieldwork and kind is not NoticeKind.PERSUASION


PLACEHOLDERS: dict[str, str] = {
    "文号": "文号(告知书、限期通知书;个案档案为空)",
    "乡镇": "儿童所在乡镇",
    "县": "县(区)",
    "学校": "儿童的学校(无学籍儿童为跟进学校)",
    "儿童姓名": "儿童姓名",
    "性别": "男/女",
    "出生日期": "出生日期,如 2014年3月5日",
    "身份证号": "身份证号(告知书脱敏)",
    "监护人": "监护人姓名",
    "住址": "家庭住址",
    "年级": "班级,如 小学2020级(01)班",
    "入学复学": "“入学”(从未有学籍)或“复学”",
    "期限天数": "限期天数(XUEJI_LADDER_ORDER_DAYS)",
    "期限日期": "限期的写法“自接到本通知之日起15日内”(限期从送达之日起算,不印具体日期)",
    "发文日期": "发文日期,如 2026年11月26日",
    "签发单位": "签发单位,如 古港镇人民政府",
}

NUMBER = "文号"  # the placeholder a numbered kind's template must hold: a number taken must be printed


def time_limit(days: int) -> str:
    """The order's time limit as printed: it runs from the day the order is served (the ladder's comply_by is
    the served date plus the days), unknown when the order is generated, so no date is computed."""
    return f"自接到本通知之日起{days}日内"


def template_words(recorded: str) -> str:
    """The template a notice was generated from, as the case file names it: 内置模板 or 本县模板 (the notice
    records 内置 order.docx or 本县 order.docx)."""
    return "本县模板" if recorded.startswith("本县") else "内置模板"


_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def placeholders_in(text: str) -> list[str]:
    """The placeholder names written in a text ({{儿童姓名}} → 儿童姓名), in order."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def placeholder_spans(text: str) -> list[tuple[int, int, str]]:
    """Where each placeholder stands in a text: (start, end, name)."""
    return [(m.start(), m.end(), m.group(1)) for m in _PLACEHOLDER.finditer(text)]


def unknown_placeholders(names: Iterable[str]) -> list[str]:
    """The names a template uses that are not placeholders, each once, in order of appearance."""
    return list(dict.fromkeys(n for n in names if n not in PLACEHOLDERS))


def notice_number(pattern: str, *, township: str, year: int, seq: int) -> str:
    """The 文号 as printed, from XUEJI_NOTICE_NUMBER: 古港镇控辍〔2026〕3号 with the default pattern."""
    return pattern.format(township=township, year=year, seq=seq)


def chinese_date(day: date | None) -> str:
    """2026年11月26日 (no leading zeros, as official documents write it); "" for no date."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def issuing_unit(role: Role, *, township: str, school: str, county: str) -> str:
    """Who signs the document: the township's government, the school, or the county's education bureau."""
    if role is Role.REGISTRAR:
        return school
    if role is Role.COUNTY_OFFICER or role is Role.SYSTEM:
        return f"{county}教育局" if county else "县教育局"
    if township.endswith("街道"):
        return f"{township}办事处"
    return f"{township}人民政府"


_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def file_name(title: str, *, number: str | None, child: str, issued_on: date) -> str:
    """限期复学通知书_古港镇控辍〔2026〕3号.docx; a case file: 个案档案_张三_20261123.docx."""
    tail = number or f"{child}_{issued_on:%Y%m%d}"
    return _UNSAFE.sub("_", f"{title}_{tail}") + ".docx"
