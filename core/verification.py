"""Use cases around a phone number: send a one-time code, check one, register an account."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from core import otp
from core.accounts import Account, Language, PersonDetails, UnitDetails
from core.clock import Clock
from core.errors import CodeNotRequested, CodeResendTooSoon, PhoneAlreadyRegistered
from core.events import Event
from core.masking import mask_phone
from core.notices import NoticeKind, notify
from core.ports import UnitOfWork
from core.wiring import Wiring

log = logging.getLogger(__name__)

REGISTER = "register"
SIGN_IN = "sign_in"


class Sending(enum.Enum):
    SENT = "sent"
    STILL_VALID = "still_valid"  # the code sent less than a minute ago may still be entered


def send_code(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    phone: str,
    purpose: str,
    language: Language,
    requester: otp.Requester = otp.ANYONE,
    reuse_recent: bool = False,
) -> Sending:
    """Write a fresh code and the SMS that carries it; refused within the send limits.

    ``reuse_recent``: when this chat was sent a code for ``purpose`` less than a minute ago and
    that code can still be entered, say so instead of refusing (``STILL_VALID``)."""
    now = clock.now()
    uow.codes.lock_phone(phone)
    recent = uow.codes.sent_since(phone, requester.key, now - otp.HOUR)
    try:
        otp.check_send_allowed(
            phone=phone, purpose=purpose, requester=requester, recent=recent, now=now
        )
    except CodeResendTooSoon:
        latest = uow.codes.latest(phone, purpose, requester.key)
        if reuse_recent and latest is not None and latest.usable(now):
            return Sending.STILL_VALID
        raise
    nonce = otp.new_nonce()
    code = otp.derive_code(key, nonce)
    uow.codes.add(
        otp.OneTimeCode(
            phone=phone,
            purpose=purpose,
            code_hash=otp.hash_code(key, phone, purpose, code),
            created_at=now,
            expires_at=now + otp.CODE_TTL,
            requester=requester.key,
            vouched=requester.vouched,
        )
    )
    uow.record(CodeIssued(phone=phone, purpose=purpose, nonce=nonce, language=language, at=now))
    log.info("one-time code (%s) written for %s", purpose, mask_phone(phone))
    return Sending.SENT


@dataclass(frozen=True)
class CodeIssued(Event):
    """A one-time code was made for ``phone``; the code itself is derived from ``nonce`` and the
    server's key only when its SMS is sent, so it is never written anywhere."""

    phone: str
    purpose: str
    nonce: str
    language: Language
    at: datetime


def send_code_sms(uow: UnitOfWork, event: CodeIssued) -> None:
    """The SMS that carries the code: to the number itself (codes go by SMS only), first."""
    minutes = int(otp.CODE_TTL.total_seconds() // 60)
    notify(
        uow,
        phone=event.phone,
        kind=NoticeKind.CODE,
        key="sms.code",
        params={otp.NONCE_PARAM: event.nonce, "minutes": minutes},  # the code: at sending
        dedupe_key=f"code:{event.nonce}",
        language=event.language,
        now=event.at,
    )


def wire(wiring: Wiring) -> None:
    wiring.bus.subscribe(CodeIssued, send_code_sms)


def check_code(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    phone: str,
    purpose: str,
    entered: str,
    requester: otp.Requester = otp.ANYONE,
) -> None:
    """Accept the latest code sent to ``phone`` for ``purpose`` at ``requester``'s request, or
    raise why not (wrong entries count against that chat's code only)."""
    cleaned = otp.clean_entered_code(entered)
    uow.codes.lock_phone(phone)
    code = uow.codes.latest(phone, purpose, requester.key)
    if code is None:
        raise CodeNotRequested()
    try:
        code.check(entered=cleaned, key=key, now=clock.now())
    finally:  # a wrong entry counts even though the turn goes on to say so
        uow.codes.save(code)


def verified_recently(
    uow: UnitOfWork, *, clock: Clock, phone: str, requester: otp.Requester
) -> bool:
    """Whether this chat entered a right code for ``phone`` (any purpose) within
    ``otp.VERIFIED_FOR``: the next step of the same journey needs no new code."""
    if not requester.key:
        return False
    return uow.codes.verified_since(phone, requester.key, clock.now() - otp.VERIFIED_FOR)


def register_person(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    phone: str,
    entered_code: str,
    details: PersonDetails,
    language: Language,
    requester: otp.Requester = otp.ANYONE,
) -> Account:
    """Check the code and create the natural person's account, in one transaction."""
    account = Account.for_person(phone=phone, details=details, language=language, now=clock.now())
    return _register(
        uow, clock=clock, key=key, entered_code=entered_code, account=account, requester=requester
    )


def register_unit(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    phone: str,
    entered_code: str,
    details: UnitDetails,
    language: Language,
    requester: otp.Requester = otp.ANYONE,
) -> Account:
    """Check the code and create the legal person's account, in one transaction."""
    account = Account.for_unit(phone=phone, details=details, language=language, now=clock.now())
    return _register(
        uow, clock=clock, key=key, entered_code=entered_code, account=account, requester=requester
    )


def _register(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    entered_code: str,
    account: Account,
    requester: otp.Requester,
) -> Account:
    phone = account.phone
    check_code(
        uow,
        clock=clock,
        key=key,
        phone=phone,
        purpose=REGISTER,
        entered=entered_code,
        requester=requester,
    )
    if uow.accounts.id_by_phone(phone) is not None:
        raise PhoneAlreadyRegistered()
    uow.accounts.add(account)
    return account


def sign_in(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    phone: str,
    entered_code: str,
    requester: otp.Requester = otp.ANYONE,
) -> Account:
    """Check the code sent to an existing account's phone and return that account."""
    check_code(
        uow,
        clock=clock,
        key=key,
        phone=phone,
        purpose=SIGN_IN,
        entered=entered_code,
        requester=requester,
    )
    account = uow.accounts.by_phone(phone)
    if account is None:  # pragma: no cover - the dialog only offers sign-in for known phones
        raise CodeNotRequested()
    return account
