"""SMS segment counting: GSM-7 160/153, UCS-2 70/67 (SPEC §11)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms.segments import Encoding, encoding_of, segment_count


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("中" * 70, 1),
        ("中" * 71, 2),
        ("中" * 134, 2),
        ("中" * 135, 3),
    ],
)
def test_segments_follow_the_single_and_multipart_limits(text: str, segments: int) -> None:
    assert segment_count(text) == segments


def test_extension_characters_take_two_septets() -> None:
    assert segment_count("€" * 80) == 1
    assert segment_count("€" * 81) == 2
    assert segment_count("[]{}" * 20 + "a") == 2


def test_a_part_never_splits_an_escape_pair() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets, but the € cannot straddle two parts
    assert segment_count(text) == 3


def test_one_chinese_character_makes_the_whole_text_ucs2() -> None:
    assert encoding_of("Reply 1 for the menu") is Encoding.GSM7
    assert encoding_of("Reply 1 for 中文") is Encoding.UCS2
    assert segment_count("a" * 100) == 1
    assert segment_count("a" * 99 + "张") == 2


def test_characters_outside_the_bmp_take_two_ucs2_units() -> None:
    assert segment_count("🙂" * 35) == 1
    assert segment_count("🙂" * 36) == 2
    # 134 units would fill two parts, but the pair cannot straddle them: it moves whole
    assert segment_count("a" * 66 + "🙂" + "a" * 66) == 3
    assert segment_count("a" * 66 + "🙂" + "a" * 65) == 2


def test_gsm_accents_stay_gsm_but_others_do_not() -> None:
    assert encoding_of("Café à Zürich, ñ, Ø, £5, @home") is Encoding.GSM7
    assert encoding_of("naïve") is Encoding.UCS2  # ï is not in the GSM alphabet
    assert encoding_of("“quoted”") is Encoding.UCS2


GSM_AND_NOT = "aZ09 @£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n\r€[]{}^~|\\\f"
EDGE_CASES = "`中文🚗é\t\x1b\ud83d"


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(GSM_AND_NOT + EDGE_CASES), max_size=400))
def test_the_count_agrees_with_the_codec_character_by_character(text: str) -> None:
    """The fast count (one regular expression) against the gsm0338 codec, char by char."""
    septets = [len(char.encode("gsm03.38")) if _in_gsm(char) else 0 for char in text]
    if text and all(septets):
        units, limits = septets, (160, 153)
    else:
        units, limits = [2 if ord(char) > 0xFFFF else 1 for char in text], (70, 67)
    expected = 0 if not text else 1 if sum(units) <= limits[0] else _parts(units, limits[1])
    assert segment_count(text) == expected
    assert encoding_of(text) is (Encoding.GSM7 if all(septets) else Encoding.UCS2)


def _in_gsm(char: str) -> bool:
    try:
        char.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True


def _parts(units: list[int], per_part: int) -> int:
    parts, used = 1, 0
    for size in units:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts
