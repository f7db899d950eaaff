"""Messages that are not the direct reply (codes, notices): written in the turn's transaction,
sent later by the dispatcher, so a crash never loses or doubles them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.accounts import Language

MAX_ATTEMPTS = 8
_BACKOFF = (2, 5, 15, 30, 60, 120, 300)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Channel(enum.StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    CONSOLE = "console"


@dataclass(eq=False)
class OutboxMessage:
    """One message to one recipient. ``key``/``params`` name a catalog text, rendered at send
    time in ``language``. ``sensitive`` params (a one-time code) are wiped once it is settled."""

    channel: Channel
    recipient: str
    key: str
    params: dict[str, Any]
    language: Language
    created_at: datetime
    due_at: datetime
    sensitive: bool = False
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    provider_id: str | None = None
    id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def claim(self, now: datetime, lease: timedelta) -> None:
        """Taken by one dispatcher; another one skips it until the lease runs out."""
        self.status = OutboxStatus.SENDING
        self.attempts += 1
        self.due_at = now + lease

    def delivered(self, now: datetime, provider_id: str | None = None) -> None:
        self.status = OutboxStatus.SENT
        self.sent_at = now
        self.provider_id = provider_id
        self.last_error = None
        self._settle()

    def retry_later(self, now: datetime, error: str, after: timedelta | None = None) -> None:
        """A passing failure (rate limit, server error): try again after a backoff."""
        self.last_error = error[:500]
        if self.attempts >= MAX_ATTEMPTS:
            self.status = OutboxStatus.FAILED
            self._settle()
            return
        self.status = OutboxStatus.PENDING
        backoff = timedelta(seconds=_BACKOFF[min(self.attempts - 1, len(_BACKOFF) - 1)])
        self.due_at = now + (after if after is not None else backoff)

    def postpone(self, until: datetime) -> None:
        """Not tried after all (the channel's own pacing said wait): due again at ``until``, and
        the claim's attempt is given back, so pacing never uses up a message's attempts."""
        self.status = OutboxStatus.PENDING
        self.attempts = max(0, self.attempts - 1)
        self.due_at = until

    def failed(self, error: str) -> None:
        """A final failure (number unreachable, opted out): never tried again."""
        self.status = OutboxStatus.FAILED
        self.last_error = error[:500]
        self._settle()

    def skipped(self, reason: str) -> None:
        self.status = OutboxStatus.SKIPPED
        self.last_error = reason[:500]
        self._settle()

    def _settle(self) -> None:
        if self.sensitive:
            self.params = {name: "******" for name in self.params}


@dataclass(frozen=True)
class Due:
    """A message that is due, as the dispatcher's claim reads it: with whether its recipient
    asked for no more messages on its channel (an SMS number that sent STOP), read in the same
    statement so that no transaction of its own is needed per message."""

    message: OutboxMessage
    opted_out: bool = False


def sms(
    *,
    phone: str,
    key: str,
    params: dict[str, Any],
    language: Language,
    now: datetime,
    sensitive: bool = False,
) -> OutboxMessage:
    return OutboxMessage(
        channel=Channel.SMS,
        recipient=phone,
        key=key,
        params=params,
        language=language,
        created_at=now,
        due_at=now,
        sensitive=sensitive,
    )
