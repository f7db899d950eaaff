"""Certificate locations: the prefecture-level regions of GB/T 2260.

The list is read from the administrative-division table that ships with python-stdnum
(``stdnum/cn/loc.dat``), keeping the divisions in use today. A region is identified by the
first four digits of its division code (``4403`` 广东省深圳市); the four municipalities are one
region each (``1100`` 北京市).

Each region has an English name for English conversations (``Shantou, Guangdong``): the
province's, and the city's in pinyin (``pypinyin``) unless it has a name of its own in English
(``Harbin``, ``Lhasa``) or pinyin reads it wrong (a character with two readings). An English
user may type that name (``Shantou``, ``shantou city``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from core.errors import UnknownRegion

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
_ENTRY = re.compile(r'^\s+(\d{4}) county="(?:\[(\d*)-(\d*)\])?(.+)"$')
_DIVISION = re.compile(r'^\s+(\d{4}) county="(.+)"$')
_ENDED = re.compile(r"^\[\d*-\d+\]")  # a name used until a year: the code is no longer in use
_PROVINCE = re.compile(r'^(\d{2}) province="(.+)"$')
_SKIP_SUFFIXES = ("市辖区", "县", "行政区划", "地区")

PROVINCES_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang",
}  # fmt: skip
# Cities known by another English name, or that pinyin reads wrong (长 chang, 朝 chao, 漯 luo).
_CITIES_EN = {
    "长治": "Changzhi", "朝阳": "Chaoyang", "漯河": "Luohe", "昌都": "Qamdo", "哈尔滨": "Harbin",
    "乌鲁木齐": "Urumqi", "拉萨": "Lhasa", "呼和浩特": "Hohhot", "日喀则": "Shigatse",
    "鄂尔多斯": "Ordos", "西安": "Xi'an", "吉安": "Ji'an", "六安": "Lu'an", "泰安": "Tai'an",
    "雅安": "Ya'an", "延安": "Yan'an", "广安": "Guang'an", "兴安": "Xing'an",
}  # fmt: skip
# Peoples named in the names of autonomous prefectures, left out of their short English name.
_PEOPLES = re.compile(
    "(蒙古|柯尔克孜|哈萨克|彝|苗|侗|傣|景颇|藏|回|朝鲜|土家|白|哈尼|壮|傈僳|布依|羌|纳西|布朗)族?"
)


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    province: str
    city: str

    @property
    def name(self) -> str:
        return self.city if self.province == self.city else self.province + self.city

    @property
    def city_en(self) -> str:
        return _city_en(self.city, self.code[:2])

    @property
    def name_en(self) -> str:
        """``Shantou, Guangdong``; a municipality: ``Beijing``."""
        province = PROVINCES_EN.get(self.code[:2], "")
        return self.city_en if self.code[:2] in MUNICIPALITIES else f"{self.city_en}, {province}"

    def name_in(self, english: bool) -> str:
        return self.name_en if english else self.name


def _pinyin(chinese: str) -> str:
    if known := _CITIES_EN.get(chinese):
        return known
    # Imported at the first English name: pypinyin loads its dictionaries as it is imported,
    # a quarter of a second of every process's start otherwise (``python -X importtime``).
    from pypinyin import lazy_pinyin  # noqa: PLC0415

    return "".join(lazy_pinyin(chinese)).capitalize()


def _city_en(city: str, province_code: str) -> str:
    if province_code in MUNICIPALITIES:
        return PROVINCES_EN[province_code]
    if city.endswith("行政单位"):  # the county-level cities a province governs directly
        return "county-level cities"
    if city.endswith("自治州"):
        return _pinyin(_PEOPLES.sub("", city.removesuffix("自治州"))) + " Prefecture"
    if city.endswith("盟"):
        return _pinyin(city.removesuffix("盟")) + " League"
    return _pinyin(city.removesuffix("市").removesuffix("林区"))


def _plain_latin(text: str) -> str:
    """``Shantou City`` → ``shantou``: lower case, letters only, a trailing "city" dropped."""
    letters = "".join(char for char in text.lower() if char.isascii() and char.isalpha())
    return letters.removesuffix("city").removesuffix("shi") or letters


def _table() -> list[str]:
    return resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8").splitlines()


@cache
def current_divisions() -> frozenset[str]:
    """Every six-digit division code in use today (county level and above)."""
    codes: set[str] = set()
    province_code = ""
    for line in _table():
        if match := _PROVINCE.match(line):
            province_code = match.group(1)
            continue
        match = _DIVISION.match(line)
        if match and province_code and not _ENDED.match(match.group(2).split(",")[-1]):
            codes.add(province_code + match.group(1))
    return frozenset(codes)


@cache
def all_regions() -> dict[str, Region]:
    regions: dict[str, Region] = {}
    province_code = province = ""
    for line in _table():
        if match := _PROVINCE.match(line):
            province_code, province = match.group(1), match.group(2)
            if province_code in MUNICIPALITIES:
                regions[province_code + "00"] = Region(province_code + "00", province, province)
            continue
        match = _ENTRY.match(line)
        if not match or province_code in MUNICIPALITIES:
            continue
        code, _, ended, name = match.groups()
        if ended or not code.endswith("00") or code == "0000" or name.endswith(_SKIP_SUFFIXES):
            continue
        full = province_code + code[:2]
        regions[full] = Region(full, province, name)
    return regions


def region_code_of_division(division: str) -> str | None:
    """``440304`` → ``4403`` when that region exists today."""
    if len(division) < 4 or not division[:4].isascii() or not division[:4].isdigit():
        return None
    code = division[:2] + "00" if division[:2] in MUNICIPALITIES else division[:4]
    return code if code in all_regions() else None


def get_region(code: str) -> Region:
    try:
        return all_regions()[code]
    except KeyError as exc:
        raise UnknownRegion(query=code) from exc


def find_regions(query: str, limit: int = 8) -> list[Region]:
    """Regions matching what a user typed: a division code, or part of a name (``深圳``)."""
    text = "".join(unicodedata.normalize("NFKC", query).split())
    if not text:
        return []
    if text.isdigit():  # a region's code (4403) or a division's (440304) that exists today
        if len(text) == 4 and text in all_regions():
            return [all_regions()[text]]
        code = region_code_of_division(text) if text in current_divisions() else None
        return [all_regions()[code]] if code else []
    if text.isascii():
        return _find_english(query, limit)
    stem = text.removesuffix("市")
    exact = [r for r in all_regions().values() if r.city.removesuffix("市") == stem]
    if exact:
        return exact[:limit]
    return [r for r in all_regions().values() if stem in r.name][:limit]


def _find_english(query: str, limit: int) -> list[Region]:
    """Regions by an English name: ``Shantou``, ``shantou city``, ``Fuzhou, Fujian``."""
    city, _, province = query.partition(",")
    wanted, in_province = _plain_latin(city), _plain_latin(province)
    if not wanted:
        return []
    found = [
        region
        for region in all_regions().values()
        if _plain_latin(region.city_en.removesuffix(" Prefecture").removesuffix(" League"))
        == wanted
        and (not in_province or _plain_latin(PROVINCES_EN.get(region.code[:2], "")) == in_province)
    ]
    return found[:limit]
