"""The demo county's townships, villages and schools.

浏阳市古港镇 and its communities and villages carry the real codes listed in the registry guide (seed 001);
the other townships and every school but 古港镇完全小学 (2143016965) are illustrative.
"""

from __future__ import annotations

from dataclasses import dataclass

from xueji.rules.vocab import SchoolKind

COUNTY = ("430181000000", "浏阳市")

GUGANG = (
    ("430181108001", "桃园社区"),
    ("430181108002", "古港社区"),
    ("430181108003", "高塘社区"),
    ("430181108004", "桐坑社区"),
    ("430181108005", "古城社区"),
    ("430181108006", "沙洲社区"),
    ("430181108201", "梅田村"),
    ("430181108202", "黄埠村"),
    ("430181108203", "范市村"),
    ("430181108204", "膏浒村"),
    ("430181108208", "高台村"),
    ("430181108209", "联溪村"),
    ("430181108210", "仙洲村"),
    ("430181108211", "石门冲村"),
    ("430181108212", "牛岭村"),
    ("430181108213", "佳塘村"),
    ("430181108214", "车湾村"),
    ("430181108215", "沔江村"),
    ("430181108216", "虎山村"),
    ("430181108217", "赤塘村"),
    ("430181108218", "燕窝村"),
    ("430181108219", "合益村"),
    ("430181108220", "小港垅村"),
    ("430181108221", "中坪村"),
    ("430181108222", "三坪村"),
    ("430181108223", "大西洞村"),
    ("430181108224", "宝盖洞村"),
    ("430181108225", "双冲村"),
    ("430181108226", "白果村"),
)


@dataclass(frozen=True)
class TownshipSpec:
    code: str
    name: str
    villages: tuple[tuple[str, str], ...]


def _villages(township_code: str, names: str) -> tuple[tuple[str, str], ...]:
    prefix = township_code[:9]
    return tuple((f"{prefix}{200 + i:03d}", f"{name}村") for i, name in enumerate(names.split(), start=1))


TOWNSHIPS = (
    TownshipSpec("430181108000", "古港镇", GUGANG),
    TownshipSpec(
        "430181106000", "沙市镇", _villages("430181106000", "秧田 赤马 东门 石湾 莲花 湘口 龙泉 杨林 长丰")
    ),
    TownshipSpec("430181104000", "永和镇", _villages("430181104000", "永和 大溪 石柱峰 新开 沙坪 芦洞 清江")),
    TownshipSpec("430181103000", "高坪镇", _villages("430181103000", "高坪 石湾 槐树 桃树 田心 横山")),
)


@dataclass(frozen=True)
class SchoolSpec:
    code: str
    name: str
    township_code: str
    kind: SchoolKind
    classes_per_grade: int
    village_code: str  # where the school stands; its pupils mostly live nearby


SCHOOLS = (
    SchoolSpec("2143016965", "古港镇完全小学", "430181108000", SchoolKind.PRIMARY, 5, "430181108002"),
    SchoolSpec("2143016966", "古港镇中学", "430181108000", SchoolKind.JUNIOR, 7, "430181108001"),
    SchoolSpec("2143016967", "古港镇梅田小学", "430181108000", SchoolKind.PRIMARY, 1, "430181108201"),
    SchoolSpec("2143016968", "古港镇沔江小学", "430181108000", SchoolKind.PRIMARY, 1, "430181108215"),
    SchoolSpec("2143016969", "古港镇宝盖洞小学", "430181108000", SchoolKind.PRIMARY, 1, "430181108224"),
    SchoolSpec("2143016971", "沙市镇中心小学", "430181106000", SchoolKind.PRIMARY, 4, "430181106201"),
    SchoolSpec("2143016972", "沙市镇中学", "430181106000", SchoolKind.JUNIOR, 6, "430181106203"),
    SchoolSpec("2143016973", "沙市镇龙泉小学", "430181106000", SchoolKind.PRIMARY, 1, "430181106207"),
    SchoolSpec("2143016981", "永和镇九年一贯制学校", "430181104000", SchoolKind.NINE_YEAR, 3, "430181104201"),
    SchoolSpec("2143016982", "永和镇大溪小学", "430181104000", SchoolKind.PRIMARY, 1, "430181104202"),
    SchoolSpec("2143016991", "高坪镇中心小学", "430181103000", SchoolKind.PRIMARY, 3, "430181103201"),
    SchoolSpec("2143016992", "高坪镇中学", "430181103000", SchoolKind.JUNIOR, 4, "430181103201"),
)
