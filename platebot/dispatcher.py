"""The outbox dispatcher: claims due messages, sends each through its channel, records how it
went. A message is claimed (with a lease) in one transaction and settled in another, so two
dispatchers never send the same row and a crash leaves a claimed row that is not resent
before its lease runs out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from core.clock import Clock
from core.masking import mask_phone
from core.outbox import Channel, OutboxMessage
from core.ports import UnitOfWork
from dialogs.catalog import render_text
from dialogs.replies import Text

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


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
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.senders = senders
        self.batch = batch

    def run_once(self) -> int:
        """Send what is due now; returns how many messages were settled."""
        claimed = self._claim()
        for message_id, channel, recipient, text in claimed:
            outcome = self._deliver(channel, recipient, text)
            self._settle(message_id, outcome)
        return len(claimed)

    def _claim(self) -> list[tuple[int, Channel, str, str]]:
        with self.uow_factory() as uow:
            now = self.clock.now()
            claimed = []
            for message in uow.outbox.claim_due(now, self.batch):
                message.claim(now, LEASE)
                claimed.append((_id(message), message.channel, message.recipient, _text(message)))
            uow.commit()
            return claimed

    def _deliver(self, channel: Channel, recipient: str, text: str) -> Outcome:
        sender = self.senders.get(channel)
        if sender is None:
            return Undeliverable(f"no sender for channel {channel}")
        try:
            return sender.send(recipient, text)
        except Exception as exc:  # a sender bug must not stop the dispatcher
            log.exception("sender for %s failed", channel)
            return RetryLater(f"{type(exc).__name__}: {exc}")

    def _settle(self, message_id: int, outcome: Outcome) -> None:
        with self.uow_factory() as uow:
            message = uow.outbox.get(message_id)
            if message is None:
                return
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


def _id(message: OutboxMessage) -> int:
    if message.id is None:  # pragma: no cover - rows read from the table have ids
        raise RuntimeError("outbox message without an id")
    return message.id


def _text(message: OutboxMessage) -> str:
    return render_text(Text(message.key, dict(message.params)), message.language)
