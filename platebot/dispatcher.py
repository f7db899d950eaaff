"""The outbox dispatcher: claims due messages, sends each through its channel, records how it
went. A message is claimed (with a lease) in one transaction and settled in another, so two
dispatchers never send the same row and a crash leaves a claimed row that is not resent
before its lease runs out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from core import otp
from core.clock import Clock
from core.masking import describe_error, mask_phone
from core.outbox import Channel, OutboxMessage, OutboxStatus
from core.ports import UnitOfWork
from dialogs.catalog import render_text
from dialogs.replies import Text

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# Room left in the lease for one more send: longer than any sender's request timeout (Twilio
# 15 s, Telegram 60 s), so a send started inside the lease also ends inside it.
SEND_ALLOWANCE = timedelta(seconds=90)


@dataclass(frozen=True)
class Sent:
    provider_id: str | None = None


@dataclass(frozen=True)
class RetryLater:
    error: str
    after: timedelta | None = None


@dataclass(frozen=True)
class Undeliverable:
    error: str


@dataclass(frozen=True)
class Skipped:
    """Deliberately not sent (the recipient opted out): settled as skipped, never retried."""

    reason: str


@dataclass(frozen=True)
class Deferred:
    """Not tried: the channel's own rate limit says wait ``after`` (uses none of the attempts)."""

    after: timedelta


Outcome = Sent | RetryLater | Undeliverable | Skipped | Deferred


class Sender(Protocol):
    def send(self, recipient: str, text: str) -> Outcome:
        """Deliver ``text``; never raises for a delivery problem, returns it."""
        ...


@runtime_checkable
class UrgentSender(Protocol):
    """A sender that can put a message ahead of those waiting in its own pace (SMS: a one-time
    code must not queue behind a broadcast)."""

    def send_urgent(self, recipient: str, text: str) -> Outcome: ...


class LogSender:
    """Used when no SMS provider is configured: the message goes to the log (or a callback)."""

    def __init__(self, show: Callable[[str, str], None] | None = None) -> None:
        self.show = show

    def send(self, recipient: str, text: str) -> Outcome:
        if self.show is not None:
            self.show(recipient, text)
        else:
            log.info("SMS to %s: %s", mask_phone(recipient), text)
        return Sent()


class Dispatcher:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        senders: Mapping[Channel, Sender],
        batch: int = 50,
        *,
        code_key: bytes | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.senders = senders
        self.batch = batch
        self.code_key = code_key  # one-time codes are derived from their nonce when sent

    def run_once(self) -> int:
        """Send what is due now; returns how many messages were settled.

        A batch is claimed under a lease. Before each send the dispatcher checks that the lease
        still has room for one more request; if not, it gives the rest back unsent, so another
        dispatcher that claims them after the lease never sends what this one is sending.
        """
        claims, lease_end = self._claim()
        settled = 0
        for index, claim in enumerate(claims):
            if self.clock.now() + SEND_ALLOWANCE > lease_end:
                self._release(claims[index:])
                break
            outcome = self._deliver(claim)
            settled += self._settle(claim, outcome)
        return settled

    def _claim(self) -> tuple[list[_Claim], datetime]:
        with self.uow_factory() as uow:
            now = self.clock.now()
            claims = []
            for message in uow.outbox.claim_due(now, self.batch):
                try:
                    text = _text(message, self.code_key)
                except Exception as exc:  # one message that cannot be shown must not stop the rest
                    log.error("outbox %s cannot be rendered: %s", message.id, describe_error(exc))
                    message.failed(f"cannot be rendered: {type(exc).__name__}")
                    continue
                message.claim(now, LEASE)
                claims.append(
                    _Claim(
                        _id(message),
                        message.attempts,
                        message.channel,
                        message.recipient,
                        text,
                        message.sensitive,
                    )
                )
            uow.commit()
            return claims, now + LEASE

    def _deliver(self, claim: _Claim) -> Outcome:
        sender = self.senders.get(claim.channel)
        if sender is None:
            return Undeliverable(f"no sender for channel {claim.channel}")
        try:
            if claim.urgent and isinstance(sender, UrgentSender):
                return sender.send_urgent(claim.recipient, claim.text)
            return sender.send(claim.recipient, claim.text)
        except Exception as exc:  # a sender bug must not stop the dispatcher
            log.error("sender for %s failed: %s", claim.channel, describe_error(exc))
            return RetryLater(f"{type(exc).__name__}: {exc}")

    def _settle(self, claim: _Claim, outcome: Outcome) -> int:
        """Record the outcome, only if the row is still ours (claimed by this very claim)."""
        with self.uow_factory() as uow:
            message = uow.outbox.lock(claim.id)
            if message is None or not _still_ours(message, claim):
                log.warning(
                    "outbox %s was claimed again meanwhile; this result is dropped", claim.id
                )
                return 0
            now = self.clock.now()
            if isinstance(outcome, Sent):
                message.delivered(now, outcome.provider_id)
            elif isinstance(outcome, RetryLater):
                message.retry_later(now, outcome.error, outcome.after)
            elif isinstance(outcome, Skipped):
                message.skipped(outcome.reason)
            elif isinstance(outcome, Deferred):
                message.postpone(now + outcome.after)
            else:
                message.failed(outcome.error)
            uow.commit()
            return 1

    def _release(self, claims: list[_Claim]) -> None:
        """Give unsent claims back, due now, without counting an attempt."""
        with self.uow_factory() as uow:
            now = self.clock.now()
            for claim in claims:
                message = uow.outbox.lock(claim.id)
                if message is not None and _still_ours(message, claim):
                    message.postpone(now)
            uow.commit()


@dataclass(frozen=True)
class _Claim:
    id: int
    attempts: int
    channel: Channel
    recipient: str
    text: str
    urgent: bool  # a one-time code (``OutboxMessage.sensitive``): ahead of the sender's queue


def _still_ours(message: OutboxMessage, claim: _Claim) -> bool:
    return message.status is OutboxStatus.SENDING and message.attempts == claim.attempts


def _id(message: OutboxMessage) -> int:
    if message.id is None:  # pragma: no cover - rows read from the table have ids
        raise RuntimeError("outbox message without an id")
    return message.id


def _text(message: OutboxMessage, code_key: bytes | None) -> str:
    params = otp.reveal(dict(message.params), code_key)
    return render_text(Text(message.key, params), message.language)
