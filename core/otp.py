"""One-time codes (SPEC §2): 6 digits, 5 minutes, 5 wrong entries, 1 send a minute, 5 an hour.

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
HOUR = timedelta(hours=1)


@dataclass(eq=False)
class OneTimeCode:
    phone: str
    purpose: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    wrong_entries: int = 0
    used_at: datetime | None = None
    id: int | None = None

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


def check_send_allowed(recent_sends: list[datetime], now: datetime) -> None:
    """``recent_sends``: when codes went to this number within the last hour (any order)."""
    sends = sorted(as_utc(s) for s in recent_sends if now - as_utc(s) < HOUR)
    if sends and now - sends[-1] < RESEND_INTERVAL:
        wait = RESEND_INTERVAL - (now - sends[-1])
        raise CodeResendTooSoon(seconds=max(1, math.ceil(wait.total_seconds())))
    if len(sends) >= SENDS_PER_HOUR:
        retry_at = sends[-SENDS_PER_HOUR] + HOUR
        seconds = (retry_at - now).total_seconds()
        minutes = max(1, math.ceil(seconds / 60))
        raise CodeHourlyLimit(minutes=minutes)
