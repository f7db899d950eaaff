"""Mobile numbers: accepted as typed, kept in E.164."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from core.errors import InvalidPhone

DEFAULT_REGION = "CN"
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """``138 0013 8000`` or ``+86 138-0013-8000`` → ``+8613800138000``; anything else is refused.

    Only numbers that can receive SMS (mobile numbers) are accepted.
    """
    candidate = text.strip()
    if not candidate or len(candidate) > 40:
        raise InvalidPhone()
    try:
        parsed = phonenumbers.parse(candidate, region)
    except NumberParseException as exc:
        raise InvalidPhone() from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone()
    if phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise InvalidPhone()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
