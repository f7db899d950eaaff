"""Use cases around a phone number: send a one-time code, check one, register an account."""

from __future__ import annotations

import logging

from core import otp, outbox
from core.accounts import Account, Language, PersonDetails, UnitDetails
from core.clock import Clock
from core.errors import CodeNotRequested, PhoneAlreadyRegistered
from core.masking import mask_phone
from core.ports import UnitOfWork

log = logging.getLogger(__name__)

REGISTER = "register"
SIGN_IN = "sign_in"


def send_code(
    uow: UnitOfWork, *, clock: Clock, key: bytes, phone: str, purpose: str, language: Language
) -> None:
    """Write a fresh code and the SMS that carries it; refused within the send limits."""
    now = clock.now()
    uow.codes.lock_phone(phone)
    otp.check_send_allowed(uow.codes.sent_since(phone, now - otp.HOUR), now)
    nonce = otp.new_nonce()
    code = otp.derive_code(key, nonce)
    uow.codes.add(
        otp.OneTimeCode(
            phone=phone,
            purpose=purpose,
            code_hash=otp.hash_code(key, phone, purpose, code),
            created_at=now,
            expires_at=now + otp.CODE_TTL,
        )
    )
    minutes = int(otp.CODE_TTL.total_seconds() // 60)
    uow.outbox.add(
        outbox.sms(
            phone=phone,
            key="sms.code",
            params={otp.NONCE_PARAM: nonce, "minutes": minutes},  # the code itself: at sending
            language=language,
            now=now,
            sensitive=True,
        )
    )
    log.info("one-time code (%s) written for %s", purpose, mask_phone(phone))


def check_code(
    uow: UnitOfWork, *, clock: Clock, key: bytes, phone: str, purpose: str, entered: str
) -> None:
    """Accept the latest code sent to ``phone`` for ``purpose`` or raise why not."""
    cleaned = otp.clean_entered_code(entered)
    uow.codes.lock_phone(phone)
    code = uow.codes.latest(phone, purpose)
    if code is None:
        raise CodeNotRequested()
    try:
        code.check(entered=cleaned, key=key, now=clock.now())
    finally:  # a wrong entry counts even though the turn goes on to say so
        uow.codes.save(code)


def register_person(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    phone: str,
    entered_code: str,
    details: PersonDetails,
    language: Language,
) -> Account:
    """Check the code and create the natural person's account, in one transaction."""
    account = Account.for_person(phone=phone, details=details, language=language, now=clock.now())
    return _register(uow, clock=clock, key=key, entered_code=entered_code, account=account)


def register_unit(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    phone: str,
    entered_code: str,
    details: UnitDetails,
    language: Language,
) -> Account:
    """Check the code and create the legal person's account, in one transaction."""
    account = Account.for_unit(phone=phone, details=details, language=language, now=clock.now())
    return _register(uow, clock=clock, key=key, entered_code=entered_code, account=account)


def _register(
    uow: UnitOfWork, *, clock: Clock, key: bytes, entered_code: str, account: Account
) -> Account:
    phone = account.phone
    check_code(uow, clock=clock, key=key, phone=phone, purpose=REGISTER, entered=entered_code)
    if uow.accounts.id_by_phone(phone) is not None:
        raise PhoneAlreadyRegistered()
    uow.accounts.add(account)
    return account


def sign_in(uow: UnitOfWork, *, clock: Clock, key: bytes, phone: str, entered_code: str) -> Account:
    """Check the code sent to an existing account's phone and return that account."""
    check_code(uow, clock=clock, key=key, phone=phone, purpose=SIGN_IN, entered=entered_code)
    account = uow.accounts.by_phone(phone)
    if account is None:  # pragma: no cover - the dialog only offers sign-in for known phones
        raise CodeNotRequested()
    return account
