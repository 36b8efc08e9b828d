"""民族: the 56 ethnic groups with their GB 3304 codes, and normalisation of what people type."""

from __future__ import annotations

# GB/T 3304 order: the code is the position, 01 汉族 … 56 基诺族; 97 and 98 are the two extra entries.
ETHNICITIES: tuple[str, ...] = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族",
    "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族",
    "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族",
    "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
)  # fmt: skip
OTHER = {"97": "其他", "98": "外国血统中国籍人士"}

_BY_TEXT: dict[str, str] = {}
for _number, _name in enumerate(ETHNICITIES, start=1):
    _BY_TEXT[_name] = _name
    _BY_TEXT[_name.removesuffix("族")] = _name
    _BY_TEXT[f"{_number:02d}"] = _name
    _BY_TEXT[str(_number)] = _name
for _code, _other in OTHER.items():
    _BY_TEXT[_code] = _BY_TEXT[_other] = _other


def normalise_ethnicity(text: str) -> str | None:
    """Return the standard name (汉 → 汉族, 01 → 汉族), or None when the text names no ethnic group."""
    return _BY_TEXT.get(text.strip())
