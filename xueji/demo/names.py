"""Chinese names, phone numbers and workplaces drawn from a seeded random source."""

from __future__ import annotations

import random

# Common surnames in Hunan, weighted roughly by frequency.
SURNAMES = (
    "刘" * 9
    + "李" * 8
    + "陈" * 7
    + "张" * 6
    + "黄" * 5
    + "罗" * 5
    + "周" * 4
    + "王" * 4
    + "彭" * 3
    + "谭" * 3
    + "曾" * 3
    + "邓" * 3
    + "易" * 2
    + "汤" * 2
    + "胡" * 2
    + "唐" * 2
    + "杨" * 2
    + "吴" * 2
    + "寻"
    + "黎"
    + "鲁"
    + "宋"
    + "钟"
    + "戴"
    + "肖"
    + "蒋"
    + "袁"
    + "潘"
    + "贺"
    + "龙"
)
GIVEN_BOY = "浩宇轩子涵博文杰俊豪明睿泽阳晨一鑫诚鹏辉志强宏伟天佑思远乐凯航嘉铭瑞峰"
GIVEN_GIRL = "欣怡梓涵雨萱诗婷佳琪若曦思雨紫嫣可馨语桐梦瑶雅静慧敏婉清芷晴心妍悦彤丽娟"
GIVEN_ADULT_MALE = "建国志军海平永红伟明国强立新德华光辉文斌春生长江卫东红兵"
GIVEN_ADULT_FEMALE = "秀英桂兰小红丽华玉梅春花美玲凤英淑芬海燕金凤秋菊冬梅"

WORK_AWAY = (
    "广东省东莞市电子厂",
    "广东省深圳市建筑工地",
    "广东省广州市服装厂",
    "浙江省义乌市小商品市场",
    "浙江省温州市鞋厂",
    "上海市物流公司",
    "江苏省苏州市工厂",
    "福建省厦门市餐馆",
)
WORK_LOCAL = ("在家务农", "本镇个体经营", "浏阳市烟花厂", "本村种养殖", "浏阳市区务工", "本镇建筑队")


def person_name(rng: random.Random, *, male: bool, adult: bool = False, surname: str | None = None) -> str:
    """Return a plausible full name."""
    family = surname or rng.choice(SURNAMES)
    if adult:
        pool = GIVEN_ADULT_MALE if male else GIVEN_ADULT_FEMALE
        return (
            family
            + pool[rng.randrange(0, len(pool) - 1, 2)]
            + (pool[rng.randrange(1, len(pool), 2)] if rng.random() < 0.5 else "")
        )
    pool = GIVEN_BOY if male else GIVEN_GIRL
    if rng.random() < 0.15:
        return family + rng.choice(pool)
    return family + rng.choice(pool) + rng.choice(pool)


def mobile_phone(rng: random.Random) -> str:
    """Return an 11-digit mainland mobile number."""
    return rng.choice(("13", "15", "17", "18", "19")) + "".join(str(rng.randrange(10)) for _ in range(9))
