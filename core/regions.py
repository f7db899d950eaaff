"""Certificate locations: the prefecture-level regions of GB/T 2260.

The list is read from the administrative-division table that ships with python-stdnum
(``stdnum/cn/loc.dat``), keeping the divisions in use today. A region is identified by the
first four digits of its division code (``4403`` 广东省深圳市); the four municipalities are one
region each (``1100`` 北京市).
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


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    province: str
    city: str

    @property
    def name(self) -> str:
        return self.city if self.province == self.city else self.province + self.city


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
    stem = text.removesuffix("市")
    exact = [r for r in all_regions().values() if r.city.removesuffix("市") == stem]
    if exact:
        return exact[:limit]
    return [r for r in all_regions().values() if stem in r.name][:limit]
