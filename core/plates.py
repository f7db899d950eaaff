"""Plate numbers (SPEC §3): ``省 + office letter + serial``, shown as ``粤D·12345``.

Serials use digits and the letters A–Z without I and O. Ordinary plates (small and large cars)
have 5 characters with at most 2 letters; small new-energy plates 6 (``D``/``F``, a letter or
digit, 4 digits); large new-energy plates 5 digits then ``D``/``F``. Input is forgiving:
full-width characters, lower case, spaces, ``·`` and a leading ``粤D`` are accepted.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from itertools import product

from core.accounts import Language
from core.plate_errors import (
    InvalidPattern,
    InvalidPlateNumber,
    PatternNotAllowed,
    UnknownPlateKind,
)

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A–Z without I and O
DIGITS = "0123456789"
SERIAL_ALPHABET = DIGITS + LETTERS
OFFICE_LETTERS = LETTERS
ENERGY_MARKS = "DF"  # D battery electric, F other new energy
MAX_LETTERS = 2

_SEPARATORS = re.compile(r"[\s·•．.\-_]")
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# The one-character names of the provinces as English texts write them (``Yue D`` for 粤D).
_PINYIN = (
    "Jing Jin Hu Yu Ji Yu Yun Liao Hei Xiang Wan Lu Xin Su Zhe Gan E Gui Gan Jin Meng Shan Ji Min "
    "Gui Yue Qing Zang Chuan Ning Qiong"
)
PROVINCES_PINYIN = dict(zip(PROVINCES, _PINYIN.split(), strict=True))
# An office code as English screens write it, typed before a serial (``Yue D 12345``, ``yue d
# 12345``, ``Yue D12345``): the province's name as its own word, a space, then the letter, then
# a whole serial (so ``E A123`` stays the serial EA123 and is not read as 鄂A plus 123).
_ENGLISH_CODE = re.compile(
    rf"(?<![0-9A-Za-z])(?:{'|'.join(sorted(set(PROVINCES_PINYIN.values())))})\s+[A-Za-z]"
    r"\s*[·•．.\-_]?\s*(?=[0-9A-Za-z]{5,6}(?![0-9A-Za-z]))",
    re.IGNORECASE,
)


class PlateKind(enum.StrEnum):
    SMALL = "small"
    LARGE = "large"
    SMALL_NEV = "small_nev"
    LARGE_NEV = "large_nev"

    @property
    def ordinary(self) -> bool:
        return self in (PlateKind.SMALL, PlateKind.LARGE)


_KIND_WORDS = {
    "小型汽车": PlateKind.SMALL,
    "小型": PlateKind.SMALL,
    "大型汽车": PlateKind.LARGE,
    "大型": PlateKind.LARGE,
    "小型新能源汽车": PlateKind.SMALL_NEV,
    "小型新能源": PlateKind.SMALL_NEV,
    "大型新能源汽车": PlateKind.LARGE_NEV,
    "大型新能源": PlateKind.LARGE_NEV,
}


def parse_kind(text: str) -> PlateKind:
    """``small``, ``SMALL_NEV`` or ``小型新能源汽车`` → the plate kind."""
    word = unicodedata.normalize("NFKC", text).strip()
    if word in _KIND_WORDS:
        return _KIND_WORDS[word]
    try:
        return PlateKind(word.casefold())
    except ValueError as exc:
        raise UnknownPlateKind(kind=word[:20]) from exc


def clean_serial(text: str) -> str:
    """Full-width to half-width, upper case, separators and a ``粤D`` (or, as English screens
    write it, ``Yue D``) prefix dropped."""
    value = _ENGLISH_CODE.sub("", unicodedata.normalize("NFKC", text), count=1)
    value = _SEPARATORS.sub("", value).upper()
    if len(value) >= 2 and value[0] in PROVINCES and value[1] in OFFICE_LETTERS:
        value = value[2:]
    return value


def is_serial_of(kind: PlateKind, serial: str) -> bool:
    if not serial or any(ch not in SERIAL_ALPHABET for ch in serial):
        return False
    if kind.ordinary:
        return len(serial) == 5 and sum(ch in LETTERS for ch in serial) <= MAX_LETTERS
    if kind is PlateKind.SMALL_NEV:
        return len(serial) == 6 and serial[0] in ENERGY_MARKS and serial[2:].isdigit()
    return len(serial) == 6 and serial[:5].isdigit() and serial[5] in ENERGY_MARKS


def parse_serial(kind: PlateKind, text: str) -> str:
    """A typed serial of ``kind``, cleaned; raises ``InvalidPlateNumber`` naming the format."""
    serial = clean_serial(text)
    if not is_serial_of(kind, serial):
        raise InvalidPlateNumber(format_key=f"plate.format.{kind.value}", typed=text.strip()[:12])
    return serial


def split_candidates(text: str) -> list[str]:
    """``12345, ab123；粤D·3K2J8, Yue D 3K2J9`` → the typed candidates, in the order given."""
    typed = _ENGLISH_CODE.sub("", unicodedata.normalize("NFKC", text))
    parts = re.split(r"[\s,，;；、/]+", typed.strip())
    return [part for part in parts if part]


def has_four(serial: str) -> bool:
    return "4" in serial


def display(province: str, letter: str, serial: str) -> str:
    """``粤``, ``D``, ``12345`` → ``粤D·12345``."""
    return f"{province}{letter}·{serial}"


def plate_in(province: str, letter: str, serial: str, language: Language) -> str:
    """``粤D·88888``; in English ``Yue D 88888`` (GSM-7, so English SMS stay cheap)."""
    if language is Language.EN:
        return f"{PROVINCES_PINYIN.get(province, province)} {letter} {serial}"
    return display(province, letter, serial)


# A plate as Chinese writes it inside a text: ``粤D·88888``, or ``粤D·`` heading its serials.
_CHINESE_PLATE = re.compile(f"([{''.join(PROVINCES_PINYIN)}])([{OFFICE_LETTERS}])·([0-9A-Z]*)")


def plates_in_text(text: str, language: Language) -> str:
    """``text`` with every plate written in it as Chinese shows it (``粤D·88888``) as
    ``language`` shows it (``plate_in``: ``Yue D 88888`` in English; a bare ``粤D·`` before
    serials listed apart, ``Yue D``): what a user reads in English stays GSM-7 (SPEC §13)."""
    if language is not Language.EN or "·" not in text:
        return text
    return _CHINESE_PLATE.sub(
        lambda found: plate_in(found[1], found[2], found[3], language).rstrip(), text
    )


# -- self-choice patterns: L a letter, D a digit, * either, anything else itself ------------

_PATTERN = re.compile(r"^[LD*0-9A-HJ-NP-Z]{5}$")


def parse_pattern(text: str) -> str:
    """A self-choice pattern for ordinary plates, e.g. ``LLDDD`` or ``*DDDD``."""
    pattern = clean_serial(text)
    if not _PATTERN.match(pattern):
        raise InvalidPattern(pattern=text.strip()[:12])
    return pattern


def matches(pattern: str, serial: str) -> bool:
    if len(pattern) != len(serial):
        return False
    for want, ch in zip(pattern, serial, strict=True):
        if want == "L":
            if ch not in LETTERS:
                return False
        elif want == "D":
            if ch not in DIGITS:
                return False
        elif want not in ("*", ch):
            return False
    return True


def check_self_choice(kind: PlateKind, serial: str, patterns: Sequence[str]) -> None:
    """An ordinary serial must match one of the office's patterns (none: any serial will do)."""
    if kind.ordinary and patterns and not any(matches(p, serial) for p in patterns):
        raise PatternNotAllowed(serial=serial, patterns=" ".join(patterns))


def expand_pattern(pattern: str) -> Iterator[str]:
    """Every serial a pattern stands for (ordinary rules apply: at most 2 letters)."""
    pools = [
        LETTERS if ch == "L" else DIGITS if ch == "D" else SERIAL_ALPHABET if ch == "*" else ch
        for ch in parse_pattern(pattern)
    ]
    for chars in product(*pools):
        serial = "".join(chars)
        if sum(ch in LETTERS for ch in serial) <= MAX_LETTERS:
            yield serial


def expand_range(kind: PlateKind, first: str, last: str) -> Iterator[str]:
    """``10000``–``10099``: the serials between two of the same shape, numeric part counting."""
    a, b = parse_serial(kind, first), parse_serial(kind, last)
    prefix_a, digits_a = _split_number(a)
    prefix_b, digits_b = _split_number(b)
    suffix = a[len(prefix_a) + len(digits_a) :]
    same_shape = prefix_a == prefix_b and suffix == b[len(prefix_b) + len(digits_b) :]
    if not same_shape or len(digits_a) != len(digits_b) or int(digits_a) > int(digits_b):
        raise InvalidPattern(pattern=f"{first}-{last}")
    width = len(digits_a)
    for number in range(int(digits_a), int(digits_b) + 1):
        yield f"{prefix_a}{number:0{width}d}{suffix}"


def _split_number(serial: str) -> tuple[str, str]:
    """The longest run of digits with what stands before it (``D12345`` → ``D``, ``12345``)."""
    match = max(re.finditer(r"\d+", serial), key=lambda m: len(m.group()), default=None)
    if match is None:
        return serial, ""
    return serial[: match.start()], match.group()


def unique_in_order(serials: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(serials))
