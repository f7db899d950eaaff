"""Domain errors. Each has a stable ``code``; adapters map the code to a message or status."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A rule of the office was not met. ``params`` fill the user-facing message."""

    code: ClassVar[str] = "error"

    def __init__(self, **params: str | int) -> None:
        super().__init__(self.code, params)
        self.params: dict[str, str | int] = dict(params)


class InvalidPhone(DomainError):
    code = "phone.invalid"


class ContactRequired(DomainError):
    """A channel that vouches for numbers only as the user's own shared contact got one typed."""

    code = "phone.contact_required"


class InvalidName(DomainError):
    code = "name.invalid"


class InvalidAddress(DomainError):
    code = "address.invalid"


class InvalidIdNumber(DomainError):
    """Wrong length or characters of a resident ID number."""

    code = "id.invalid"


class IdChecksumWrong(DomainError):
    code = "id.checksum"


class IdBirthDateImpossible(DomainError):
    code = "id.birth_date"


class InvalidPermitNumber(DomainError):
    code = "permit.invalid"


class InvalidUnitCode(DomainError):
    """Neither an 18-character unified social credit code nor a 9-character organisation code."""

    code = "unit_code.invalid"


class UnitCodeChecksumWrong(DomainError):
    code = "unit_code.checksum"


class UnknownRegion(DomainError):
    code = "region.unknown"


class CodeMalformed(DomainError):
    code = "otp.malformed"


class CodeNotRequested(DomainError):
    code = "otp.not_requested"


class CodeWrong(DomainError):
    code = "otp.wrong"


class CodeAttemptsExhausted(DomainError):
    code = "otp.exhausted"


class CodeExpired(DomainError):
    code = "otp.expired"


class CodeResendTooSoon(DomainError):
    code = "otp.too_soon"


class CodeHourlyLimit(DomainError):
    code = "otp.hourly_limit"


class CodeChatLimit(DomainError):
    """Too many codes asked for from one chat, whatever the numbers."""

    code = "otp.chat_limit"


class PhoneAlreadyRegistered(DomainError):
    code = "account.phone_taken"


class AccountRequired(DomainError):
    code = "account.required"
