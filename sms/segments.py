"""How many SMS segments a text costs (SPEC §11).

A text that only uses the GSM 03.38 alphabet goes as GSM-7: 160 septets in one SMS, 153 per part
when split (the rest carries the part header). Characters of the extension table (``€ [ ] { }
^ ~ | \\`` and form feed) take two septets. Anything else (Chinese) makes the whole text UCS-2:
70 UTF-16 units in one SMS, 67 per part; a character outside the BMP (an emoji) takes two. A part
never splits an escape pair or a surrogate pair. The alphabet comes from the ``gsm0338`` codec.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec

_GSM = "gsm03.38"


class Encoding(enum.StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class Limits:
    single: int
    per_part: int


LIMITS = {Encoding.GSM7: Limits(160, 153), Encoding.UCS2: Limits(70, 67)}


@lru_cache(maxsize=4096)
def _septets(char: str) -> int:
    """Septets ``char`` takes in GSM-7 (1, or 2 for the extension table); 0: not in GSM-7."""
    try:
        return len(char.encode(_GSM))
    except UnicodeEncodeError:
        return 0


def _ucs2_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _alphabet() -> tuple[frozenset[str], frozenset[str]]:
    """The GSM-7 basic characters and those of the extension table, as the codec decodes them."""
    basic = {bytes([code]).decode(_GSM) for code in range(128) if code != 0x1B}
    basic.add("\x1b")  # the escape itself, which the codec also encodes as one septet
    extended = set()
    for code in range(128):
        try:
            char = bytes([0x1B, code]).decode(_GSM)
        except UnicodeDecodeError:
            continue
        if len(char) == 1 and char not in basic:
            extended.add(char)
    return frozenset(basic), frozenset(extended)


def _class_of(chars: frozenset[str]) -> str:
    return "".join(re.escape(char) for char in sorted(chars))


_BASIC, _EXTENDED = _alphabet()
# The same answers as the codec, char by char, but in one pass of the regular expression engine:
# the codec is pure Python, and every reply is counted before it is sent.
_NOT_GSM = re.compile(f"[^{_class_of(_BASIC | _EXTENDED)}]")
_EXTENDED_CHAR = re.compile(f"[{_class_of(_EXTENDED)}]")


def encoding_of(text: str) -> Encoding:
    return Encoding.GSM7 if _NOT_GSM.search(text) is None else Encoding.UCS2


def _length(text: str, encoding: Encoding) -> int:
    """Septets (GSM-7) or UTF-16 units (UCS-2) of the whole text."""
    if encoding is Encoding.GSM7:
        return len(text) + len(_EXTENDED_CHAR.findall(text))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2  # a lone surrogate: one unit


def _units(text: str, encoding: Encoding) -> list[int]:
    if encoding is Encoding.GSM7:
        return [_septets(char) for char in text]
    return [_ucs2_units(char) for char in text]


def segment_count(text: str) -> int:
    """Segments ``text`` is sent as; an empty text is none."""
    if not text:
        return 0
    encoding = encoding_of(text)
    limits = LIMITS[encoding]
    length = _length(text, encoding)
    if length <= limits.single:
        return 1
    if length == len(text):  # every character one unit: no pair a part could split
        return -(-length // limits.per_part)
    parts, used = 1, 0
    for size in _units(text, encoding):
        if used + size > limits.per_part:
            parts, used = parts + 1, 0
        used += size
    return parts


def fits(text: str, budget: int) -> bool:
    return segment_count(text) <= budget
