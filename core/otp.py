"""One-time codes (SPEC §2): 6 digits, 5 minutes, 5 wrong entries, 1 send a minute, 5 an hour.

Codes and their limits belong to who asked (a chat: its channel and user) as well as to the
number, so that nobody can spend another person's allowance or lock them out of their own
channel: the minute between sends is per number, purpose and chat (a registration code never
holds up the pre-selection code that follows it); 5 an hour per number and chat; 10 an hour
per chat whatever the numbers; 10 an hour per number from chats the channel cannot vouch are
its owner's (the number's own SMS, its own shared Telegram contact, a chat signed in with it are
always the owner's). Wrong entries count against the code they were entered for, which is the
asking chat's own.

Codes are stored only as an HMAC of (phone, purpose, code) under the server's secret key and
compared in constant time. The SMS that carries a code waits in the outbox with a random nonce,
not the code: the dispatcher derives the code from the nonce and the same key at the moment it
sends (``reveal``). No code is ever written down; with the key outside the database
(``PLATEBOT_SECRET_KEY``), a copy of the database alone gives none away either.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.clock import as_utc
from core.errors import (
    CodeAttemptsExhausted,
    CodeChatLimit,
    CodeExpired,
    CodeHourlyLimit,
    CodeMalformed,
    CodeResendTooSoon,
    CodeWrong,
)

CODE_LENGTH = 6
CODE_TTL = timedelta(minutes=5)
MAX_WRONG_ENTRIES = 5
RESEND_INTERVAL = timedelta(seconds=60)
SENDS_PER_HOUR = 5
SENDS_PER_CHAT_HOUR = 10
SENDS_PER_NUMBER_HOUR = 10  # to one number from chats not vouched to be its owner's
HOUR = timedelta(hours=1)
VERIFIED_FOR = timedelta(minutes=10)  # a code entered this long ago still verifies the phone


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks for (and enters) a code: a chat, named ``channel:user``, and whether its channel
    vouches that it is the number's owner (an SMS from the number, the user's own shared
    contact, a chat signed in with the number)."""

    key: str = ""
    vouched: bool = False


ANYONE = Requester()


@dataclass(frozen=True, slots=True)
class Sent:
    """A code sent within the last hour: to which number, for what, asked by whom, when."""

    phone: str
    purpose: str
    requester: str
    vouched: bool
    created_at: datetime


@dataclass(eq=False)
class OneTimeCode:
    phone: str
    purpose: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    wrong_entries: int = 0
    used_at: datetime | None = None
    requester: str = ""
    vouched: bool = False
    id: int | None = None

    def usable(self, now: datetime) -> bool:
        """Still good to enter: not used, not expired, wrong entries left."""
        return (
            self.used_at is None
            and self.wrong_entries < MAX_WRONG_ENTRIES
            and now < as_utc(self.expires_at)
        )

    def check(self, *, entered: str, key: bytes, now: datetime) -> None:
        """Accept the entered code or raise why not; a wrong entry is counted."""
        if self.used_at is not None or self.wrong_entries >= MAX_WRONG_ENTRIES:
            raise CodeAttemptsExhausted()
        if now >= as_utc(self.expires_at):
            raise CodeExpired()
        if not hmac.compare_digest(
            self.code_hash, hash_code(key, self.phone, self.purpose, entered)
        ):
            self.wrong_entries += 1
            left = MAX_WRONG_ENTRIES - self.wrong_entries
            if left == 0:
                raise CodeAttemptsExhausted()
            raise CodeWrong(left=left)
        self.used_at = now


def hash_code(key: bytes, phone: str, purpose: str, code: str) -> str:
    message = f"{phone}\x1f{purpose}\x1f{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def clean_entered_code(text: str) -> str:
    digits = "".join(text.split())
    if len(digits) != CODE_LENGTH or not digits.isascii() or not digits.isdigit():
        raise CodeMalformed(length=CODE_LENGTH)
    return digits


def new_nonce() -> str:
    """What a code is derived from; kept with the SMS that carries the code until it is sent."""
    return secrets.token_urlsafe(16)


def derive_code(key: bytes, nonce: str) -> str:
    """The code for ``nonce`` under ``key``: 6 uniformly spread digits (an HMAC, so nobody
    without the key can tell the code from the nonce)."""
    digest = hmac.new(key, b"otp-send\x1f" + nonce.encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_LENGTH:0{CODE_LENGTH}d}"


NONCE_PARAM = "code_nonce"


def reveal(params: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    """A message's params with the code derived from its nonce, for rendering at send time."""
    if NONCE_PARAM not in params:
        return params
    if key is None:
        raise ValueError("a one-time code SMS needs the secret key to be rendered")
    shown = {name: value for name, value in params.items() if name != NONCE_PARAM}
    shown["code"] = derive_code(key, str(params[NONCE_PARAM]))
    return shown


def check_send_allowed(
    *,
    phone: str,
    purpose: str,
    requester: Requester,
    recent: list[Sent],
    now: datetime,
) -> None:
    """Refuse a send to ``phone`` for ``purpose`` asked by ``requester`` that would break a
    limit. ``recent``: the codes sent to that number or asked for by that chat in the last
    hour (any order)."""
    sends = sorted(
        (s for s in recent if now - as_utc(s.created_at) < HOUR), key=lambda s: s.created_at
    )
    same = [
        s.created_at
        for s in sends
        if (s.phone, s.purpose, s.requester) == (phone, purpose, requester.key)
    ]
    if same and now - as_utc(same[-1]) < RESEND_INTERVAL:
        wait = RESEND_INTERVAL - (now - as_utc(same[-1]))
        raise CodeResendTooSoon(seconds=max(1, math.ceil(wait.total_seconds())))
    _within(
        [s.created_at for s in sends if (s.phone, s.requester) == (phone, requester.key)],
        SENDS_PER_HOUR,
        now,
        CodeHourlyLimit,
    )
    if requester.key:
        chat = [s.created_at for s in sends if s.requester == requester.key]
        _within(chat, SENDS_PER_CHAT_HOUR, now, CodeChatLimit)
    if not requester.vouched:
        others = [s.created_at for s in sends if s.phone == phone and not s.vouched]
        _within(others, SENDS_PER_NUMBER_HOUR, now, CodeHourlyLimit)


def _within(
    sends: list[datetime], limit: int, now: datetime, error: type[CodeHourlyLimit | CodeChatLimit]
) -> None:
    if len(sends) >= limit:
        retry_at = as_utc(sorted(sends)[-limit]) + HOUR
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
        raise error(minutes=minutes)
