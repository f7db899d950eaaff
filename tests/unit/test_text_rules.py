"""Phone numbers, regions, masking, keywords and the catalogs."""

from __future__ import annotations

import string

import pytest

from core.accounts import Language
from core.errors import InvalidPhone
from core.masking import mask_code, mask_id_number, mask_phone
from core.offices import Office
from core.phone import normalise_phone
from core.regions import all_regions, find_regions, get_region, region_code_of_division
from dialogs.catalog import CATALOGS
from dialogs.keywords import Keyword, match_keyword


@pytest.mark.parametrize(
    "typed",
    [
        "138 0013 8000",
        "13800138000",
        "+86 138-0013-8000",
        "+8613800138000",
        "１３８００１３８０００",
    ],
)
def test_national_and_international_mobile_numbers_become_e164(typed: str) -> None:
    assert normalise_phone(typed) == "+8613800138000"


def test_foreign_mobile_numbers_are_accepted_with_their_country_code() -> None:
    assert normalise_phone("+44 7911 123456") == "+447911123456"


@pytest.mark.parametrize("typed", ["", "12345", "010 6552 9988", "hello", "1" * 50])
def test_landlines_and_garbage_are_not_mobile_numbers(typed: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(typed)


def test_regions_are_found_by_code_or_name() -> None:
    assert [r.code for r in find_regions("深圳")] == ["4403"]
    assert [r.code for r in find_regions("汕头市")] == ["4405"]
    assert [r.code for r in find_regions("440304")] == ["4403"]
    assert [r.name for r in find_regions("上海")] == ["上海市"]
    assert region_code_of_division("110105") == "1100"
    assert find_regions("Atlantis") == []
    assert len(find_regions("广东")) > 1


def test_personal_data_is_masked() -> None:
    assert mask_id_number("440304199001011233") == "4403**********1233"
    assert mask_phone("+8613800138000") == "+86138****8000"
    assert mask_code("91440300MA5F0A0B1X") == "91************0B1X"


@pytest.mark.parametrize(
    ("typed", "keyword"),
    [
        ("MENU", Keyword.MENU),
        ("menu", Keyword.MENU),
        ("菜单", Keyword.MENU),
        ("/start", Keyword.MENU),
        ("/menu@platebot", Keyword.MENU),
        ("ＭＥＮＵ", Keyword.MENU),
        ("Back", Keyword.BACK),
        ("返回", Keyword.BACK),
        ("cAnCeL", Keyword.CANCEL),
        ("取消", Keyword.CANCEL),
        ("help", Keyword.HELP),
        ("帮助", Keyword.HELP),
        ("？", Keyword.HELP),
        ("EN", Keyword.ENGLISH),
        ("中文", Keyword.CHINESE),
        ("/lang", Keyword.LANGUAGE),
        ("Cancel.", Keyword.CANCEL),  # punctuation around a keyword is left out
        ("取消。", Keyword.CANCEL),
        ("Back!", Keyword.BACK),
        ("English.", Keyword.ENGLISH),
    ],
)
def test_keywords_work_in_both_languages_and_any_case(typed: str, keyword: Keyword) -> None:
    assert match_keyword(typed) is keyword


def test_ordinary_answers_are_not_keywords() -> None:
    for text in ("张三", "menus", "1", "help me please", ""):
        assert match_keyword(text) is None


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    zh, en = (CATALOGS[lang] for lang in CATALOGS)
    assert zh.keys() == en.keys()
    for key in zh:
        assert zh[key].strip() and en[key].strip(), key
        if "/" in key:  # a channel's wording may leave out what it has no room for
            base = key.partition("/")[2]
            for catalog in (zh, en):
                assert _placeholders(catalog[key]) <= _placeholders(catalog[base]), key
        else:
            assert _placeholders(zh[key]) == _placeholders(en[key]), key


def test_regions_have_english_names_an_english_user_may_type() -> None:
    shantou = get_region("4405")
    assert shantou.name_en == "Shantou, Guangdong" and get_region("1100").name_en == "Beijing"
    assert get_region("4111").city_en == "Luohe"  # 漯 read right, not as pinyin's first guess
    assert [r.code for r in find_regions("Shantou")] == ["4405"]
    assert [r.code for r in find_regions("shantou city")] == ["4405"]
    assert [r.code for r in find_regions("Fuzhou")] == ["3501", "3610"]  # 福州 and 抚州
    assert [r.code for r in find_regions("Fuzhou, Jiangxi")] == ["3610"]
    assert all(name.isascii() for name in (r.name_en for r in all_regions().values()))


def test_offices_are_named_in_english_as_staff_name_them_or_after_their_region() -> None:
    office = Office(province="粤", letter="D", name="汕头市车辆管理所", region_code="4405")
    assert office.name_in(Language.ZH) == "汕头市车辆管理所"
    assert office.name_in(Language.EN) == "Shantou Vehicle Management Office"
    assert office.code_in(Language.EN) == "Yue D" and office.code_in(Language.ZH) == "粤D"
    office.name_en, office.address_en = "Shantou VMO", "1 Taishan Road"
    assert office.name_in(Language.EN) == "Shantou VMO"
    assert office.address_in(Language.EN) == "1 Taishan Road"
