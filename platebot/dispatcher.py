"""The outbox dispatcher: claims due messages, sends each through its channel, records how it
went. A message is claimed (with a lease) in one transaction and settled in another, so two
dispatchers never send the same row and a crash leaves a claimed row that is not resent
before its lease runs out. Recipients who opted out (SMS STOP) are skipped without a request;
their opt-outs are read inside the transactions the dispatcher runs anyway."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast, runtime_checkable

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
class OptedOut(Undeliverable):
    """Final, and about the recipient rather than the message: they asked for no more messages
    on this channel (an SMS number that sent STOP to the provider). The rest of the batch to
    them is skipped: the claim read their status before the provider told us."""


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
        # Which senders can put a message ahead (asked once: checking a runtime protocol costs
        # about 10 µs, a hundredth of a send).
        self.urgent = {
            channel for channel, sender in senders.items() if isinstance(sender, UrgentSender)
        }
        self.batch = batch
        self.code_key = code_key  # one-time codes are derived from their nonce when sent
        self._interrupted = threading.Event()

    def interrupt(self) -> None:
        """The process is stopping: the send under way finishes and is recorded; the rest of the
        batch is given back unsent, and later runs send nothing."""
        self._interrupted.set()

    def run_once(self) -> int:
        """Send what is due now; returns how many messages were settled.

        A batch is claimed under a lease. Before each send the dispatcher checks that the lease
        still has room for one more request; if not (or it was interrupted), it gives the rest
        back unsent, so another dispatcher that claims them after the lease never sends what
        this one is sending.

        What became of a message that may have reached the provider is recorded at once, in a
        transaction of its own: a crash before that commit would send it again after the
        lease. Messages not sent (postponed by the pacer, skipped) are recorded together with
        the next message's outcome: a crash before that only leaves them claimed until the
        lease runs out.

        Whether a recipient opted out (SMS STOP) is read without a transaction of its own: by
        the claim for the first message, then by the transaction that records a send for the
        message after it, so a STOP that comes in while the batch is being sent is seen before
        the next send. A provider's opt-out refusal (Twilio's 21610) skips the rest of the
        batch to that recipient.
        """
        if self._interrupted.is_set():
            return 0
        claims, lease_end = self._claim()
        settled = 0
        unrecorded: list[tuple[_Claim, Outcome]] = []
        opted_out = {(claim.channel, claim.recipient) for claim in claims if claim.opted_out}
        for index, claim in enumerate(claims):
            if self.clock.now() + SEND_ALLOWANCE > lease_end or self._interrupted.is_set():
                settled += self._record(unrecorded)[0]
                self._record([(rest, Deferred(timedelta(0))) for rest in claims[index:]])
                return settled
            if (claim.channel, claim.recipient) in opted_out:
                outcome: Outcome = Skipped("the recipient opted out (STOP)")
            else:
                outcome = self._deliver(claim)
            if isinstance(outcome, OptedOut):
                opted_out.add((claim.channel, claim.recipient))
            unrecorded.append((claim, outcome))
            if not isinstance(outcome, Skipped | Deferred):  # it may have reached the provider
                following = claims[index + 1] if index + 1 < len(claims) else None
                recorded, refused = self._record(unrecorded, screen=following)
                settled += recorded
                if following is not None and refused:
                    opted_out.add((following.channel, following.recipient))
                unrecorded = []
        return settled + self._record(unrecorded)[0]

    def _claim(self) -> tuple[list[_Claim], datetime]:
        with self.uow_factory() as uow:
            now = self.clock.now()
            claims = []
            for due in uow.outbox.claim_due(now, self.batch):
                message = due.message
                status, attempts = message.status, message.attempts
                try:
                    text = _text(message, self.code_key)
                except Exception as exc:  # one message that cannot be shown must not stop the rest
                    log.error("outbox %s cannot be rendered: %s", message.id, describe_error(exc))
                    message.failed(f"cannot be rendered: {type(exc).__name__}")
                    uow.outbox.update(message, if_status=status, if_attempts=attempts)
                    continue
                message.claim(now, LEASE)
                if uow.outbox.update(message, if_status=status, if_attempts=attempts):
                    claims.append(_Claim(message, message.attempts, text, due.opted_out))
            uow.commit()
            return claims, now + LEASE

    def _deliver(self, claim: _Claim) -> Outcome:
        sender = self.senders.get(claim.channel)
        if sender is None:
            return Undeliverable(f"no sender for channel {claim.channel}")
        try:
            if claim.urgent and claim.channel in self.urgent:
                return cast(UrgentSender, sender).send_urgent(claim.recipient, claim.text)
            return sender.send(claim.recipient, claim.text)
        except Exception as exc:  # a sender bug must not stop the dispatcher
            log.error("sender for %s failed: %s", claim.channel, describe_error(exc))
            return RetryLater(f"{type(exc).__name__}: {exc}")

    def _settle(self, claim: _Claim, outcome: Outcome) -> int:
        """Record one outcome, only if the row is still ours (claimed by this very claim)."""
        return self._record([(claim, outcome)])[0]

    def _record(
        self, outcomes: list[tuple[_Claim, Outcome]], *, screen: _Claim | None = None
    ) -> tuple[int, bool]:
        """Record outcomes in one transaction, each only if its row is still ours: one UPDATE
        per message that checks the status and the attempts of the claim. Returns how many
        were recorded, and whether the recipient of ``screen`` (the next message) opted out."""
        if not outcomes:
            return 0, False
        now = self.clock.now()
        for claim, outcome in outcomes:
            _apply(claim.message, outcome, now)
        try:
            return self._write(outcomes, screen)
        except Exception as error:
            # A lost database connection (PostgreSQL restarted) must not leave a message that
            # reached the provider claimed, to be sent again when the lease runs out. Writing
            # again is safe: each UPDATE applies only while the row is still as claimed.
            if getattr(error, "connection_invalidated", False) is not True:
                raise
            log.warning("outbox: the database connection was lost while recording; again")
            return self._write(outcomes, screen)

    def _write(
        self, outcomes: list[tuple[_Claim, Outcome]], screen: _Claim | None
    ) -> tuple[int, bool]:
        with self.uow_factory() as uow:
            recorded = 0
            for claim, _outcome in outcomes:
                message = claim.message
                if uow.outbox.update(
                    message, if_status=OutboxStatus.SENDING, if_attempts=claim.attempts
                ):
                    recorded += 1
                else:
                    log.warning(
                        "outbox %s was claimed again meanwhile; this result is dropped", message.id
                    )
            refused = screen is not None and uow.outbox.opted_out(screen.channel, screen.recipient)
            uow.commit()
            return recorded, refused


def _apply(message: OutboxMessage, outcome: Outcome, now: datetime) -> None:
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


@dataclass(frozen=True)
class _Claim:
    message: OutboxMessage  # as claimed (in memory, not tracked); the outcome is applied to it
    attempts: int  # the row's attempts once claimed: the row is ours while it still has them
    text: str
    opted_out: bool  # the recipient had opted out when the claim read the row

    @property
    def channel(self) -> Channel:
        return self.message.channel

    @property
    def recipient(self) -> str:
        return self.message.recipient

    @property
    def urgent(self) -> bool:
        """A one-time code (``OutboxMessage.sensitive``): ahead of the sender's queue."""
        return self.message.sensitive


def _text(message: OutboxMessage, code_key: bytes | None) -> str:
    params = otp.reveal(dict(message.params), code_key)
    return render_text(Text(message.key, params), message.language)
