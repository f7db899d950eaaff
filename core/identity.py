"""Identity documents of SPEC §2, checked with python-stdnum where it has the standard.

python-stdnum implements GB 11643 (resident ID, ``stdnum.cn.ric``) and GB 32100 (unified social
credit code, ``stdnum.cn.uscc``); it has no GB 11714 (legacy organisation code), so that check
digit is computed here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from core.errors import (
    IdBirthDateImpossible,
    IdChecksumWrong,
    InvalidAddress,
    InvalidIdNumber,
    InvalidName,
    InvalidPermitNumber,
    InvalidUnitCode,
    UnitCodeChecksumWrong,
)

_SEPARATORS = re.compile(r"[\s\-·.]")
_NAME_MAX = 60
_ADDRESS_MAX = 120
_EARLIEST_BIRTH = date(1900, 1, 1)


def clean_code(text: str) -> str:
    """Full-width to half-width, separators dropped, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def _plain_text(text: str, *, maximum: int) -> str | None:
    value = " ".join(unicodedata.normalize("NFKC", text).split())
    if not value or len(value) > maximum:
        return None
    if any(unicodedata.category(ch)[0] in {"C"} for ch in value):
        return None
    if not any(ch.isalpha() for ch in value):
        return None
    return value


def validate_name(text: str) -> str:
    """A person's or a unit's name: 1–60 printable characters with at least one letter."""
    value = _plain_text(text, maximum=_NAME_MAX)
    if value is None:
        raise InvalidName(maximum=_NAME_MAX)
    return value


def validate_address(text: str) -> str:
    value = _plain_text(text, maximum=_ADDRESS_MAX)
    if value is None or len(value) < 4:
        raise InvalidAddress(maximum=_ADDRESS_MAX)
    return value


def validate_resident_id(text: str, *, today: date) -> str:
    """An 18-character resident ID (GB 11643): digits, check character, a real past birth date."""
    number = clean_code(text)
    if (
        len(number) != 18
        or not number.isascii()  # ``isdigit()`` holds for ❶ and ፩ too, which ``int()`` refuses
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise InvalidIdNumber()
    try:
        birth = ric.get_birth_date(number)
    except stdnum_errors.ValidationError as exc:
        raise IdBirthDateImpossible() from exc
    if birth > today or birth < _EARLIEST_BIRTH:
        raise IdBirthDateImpossible()
    if ric.calc_check_digit(number) != number[17]:
        raise IdChecksumWrong()
    return number


def validate_permit_number(text: str) -> str:
    """A temporary residence permit number: 6–30 letters and digits (formats differ by city)."""
    number = clean_code(text)
    if not 6 <= len(number) <= 30 or not number.isascii() or not number.isalnum():
        raise InvalidPermitNumber()
    return number


_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_check_digit(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(_ORG_ALPHABET.index(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate_unit_code(text: str) -> str:
    """A unified social credit code (18, GB 32100) or a legacy organisation code (9, GB 11714)."""
    code = clean_code(text)
    if len(code) == 18:
        try:
            return str(uscc.validate(code))
        except stdnum_errors.InvalidChecksum as exc:
            raise UnitCodeChecksumWrong() from exc
        except stdnum_errors.ValidationError as exc:
            raise InvalidUnitCode() from exc
    if len(code) == 9:
        body, check = code[:8], code[8]
        if not all(ch in _ORG_ALPHABET for ch in body) or check not in "0123456789X":
            raise InvalidUnitCode()
        if organisation_check_digit(body) != check:
            raise UnitCodeChecksumWrong()
        return code
    raise InvalidUnitCode()


def region_hint_of_id(number: str) -> str:
    """The 6-digit administrative division code at the start of a resident ID."""
    return number[:6]


def region_hint_of_unit_code(code: str) -> str | None:
    """A unified social credit code carries its registering region in positions 3–8."""
    return code[2:8] if len(code) == 18 else None
