"""The 31 province-level divisions of the mainland (GB/T 2260): the first two digits of a division code name the
province, so a city's province follows from its code without a sheet of its own."""

from __future__ import annotations

PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
}


def province_code(prefix: str) -> str:
    """The 12-digit code of the province these two digits name (43 → 430000000000)."""
    return prefix[:2] + "0" * 10


def province_name(code: str) -> str | None:
    """The province's name from any division code's first two digits, or None for no province of the table."""
    return PROVINCES.get(code[:2])
