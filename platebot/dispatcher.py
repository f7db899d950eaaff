"""The outbox dispatcher: claims due messages of one channel, most urgent first, sends each
through the channel's sender, records how it went. Each channel is a lane of its own (the
server runs ``lanes()`` in separate threads), so a paced SMS batch never holds up Telegram.
Personal messages go one at a time, each recorded at once; broadcast messages go several at a
time (``IN_DOUBT``), still through the channel's pacer, and are recorded a few at a time.

A message is claimed (with a lease) in one transaction and settled in another, so two
dispatchers never send the same row. A crash leaves claimed rows that are claimed again when
their lease runs out: seconds for a one-time code (it must still be valid when it arrives),
minutes for the rest. Such a row is in doubt (the dead dispatcher may have been sending it): a
sender whose provider can be asked (Twilio) is asked first, and a message the provider already
has is settled as sent instead of being sent again. Recipients who opted out (SMS STOP) are
skipped without a request; their opt-outs are read inside the transactions the dispatcher runs
anyway.

A process without a Telegram sender (no bot token) has no Telegram lane: a process with one may
run beside it. When none has held Telegram's lane for a lane's lease, the SMS lane of a server
process settles what has been due on Telegram that long (``core.telegram_off``: personal notices
by SMS instead), rather than leaving it queued, or failing it, for a channel nothing sends."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from core import otp, telegram_off
from core.clock import Clock
from core.masking import describe_error, mask_phone
from core.outbox import (
    LEASE,
    REPLACED_BY_LATER,
    Channel,
    ChoiceSpec,
    Deferred,
    OptedOut,
    OutboxMessage,
    OutboxStatus,
    Outcome,
    Outgoing,
    Priority,
    RetryLater,
    Sent,
    Skipped,
    Undeliverable,
    at_send,
    choice_parts,
)
from core.ports import Reconciling, Sender, UnitOfWork
from dialogs.catalog import render_text
from dialogs.replies import Text
from platebot.settings import LANE_LEASE_SECONDS

log = logging.getLogger(__name__)

# Room left in a lease for one more send: longer than any sender's request timeout (Twilio
# 15 s, Telegram 60 s), so a send started inside the lease also ends inside it.
SEND_ALLOWANCE = timedelta(seconds=90)
# A one-time code's lease: a dispatcher that dies while it holds one delays it by this much at
# most. Its allowance covers Twilio's request timeout (15 s) and the pacer's wait for a code
# (``SegmentPacer.urgent_wait``, 5 s).
URGENT_LEASE = timedelta(seconds=30)
URGENT_ALLOWANCE = timedelta(seconds=21)
# One dispatcher per channel sends for every server process (its pace then holds overall); it
# renews this lease every round, and another takes the lane this long after it stops (the
# default of ``PLATEBOT_LANE_LEASE_SECONDS``).
LANE_LEASE = timedelta(seconds=LANE_LEASE_SECONDS)
# How long a dispatcher that holds no lane asks for one (see ``SqlOutboxRepository.lead``): it
# asks again every round (a lane with nothing to send comes round every second), so a process
# that stopped, or died, is not handed a lane more than this long after its last round.
ASK_FOR = timedelta(seconds=3)
IN_DOUBT_TWICE = "in doubt after two crashes while sending; not sent a third time"
OPTED_OUT = "the recipient opted out (STOP)"
# Broadcast messages a channel's dispatcher has with the provider, or sent and not yet recorded,
# at any moment (sent side by side, still through the channel's pacer): what a kill -9 can
# leave in doubt. Twilio is asked about each before it goes again; Telegram cannot be asked,
# so each may arrive twice: keep it small.
IN_DOUBT = {Channel.SMS: 16, Channel.TELEGRAM: 4}


class LogSender:
    """Used when no SMS provider is configured: the message goes to the log (or a callback)."""

    def __init__(self, show: Callable[[str, str], None] | None = None) -> None:
        self.show = show

    def send(self, message: Outgoing) -> Outcome:
        text = "\n".join([message.text, *(label for _id, label in message.choices)])
        if self.show is not None:
            self.show(message.recipient, text)
        else:
            log.info("SMS to %s: %s", mask_phone(message.recipient), text)
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
        lane_lease: timedelta = LANE_LEASE,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.senders = senders
        self.batch = batch
        self.code_key = code_key  # one-time codes are derived from their nonce when sent
        self.holder = uuid.uuid4().hex  # this dispatcher, when it holds a channel's lane
        self.lane_lease = lane_lease  # how long a hold on a lane lasts unless renewed
        # Without a Telegram sender: when the SMS lane next settles what was queued for Telegram
        self._telegram_next: datetime | None = None
        # Asks for a lane when it holds none (a server process); the console does not: what it
        # sends only shows on its screen.
        self.asks = True
        self.in_doubt = dict(IN_DOUBT)  # broadcast messages sent at once, per channel
        self._interrupted = threading.Event()
        self._pools: dict[Channel, ThreadPoolExecutor] = {}
        self._pools_lock = threading.Lock()

    def _pool(self, channel: Channel) -> ThreadPoolExecutor:
        """The threads that send a channel's broadcast messages side by side."""
        with self._pools_lock:
            pool = self._pools.get(channel)
            if pool is None:
                pool = ThreadPoolExecutor(
                    max_workers=max(1, self.in_doubt.get(channel, 1)),
                    thread_name_prefix=f"outbox-{channel}",
                )
                self._pools[channel] = pool
            return pool

    def close(self) -> None:
        """Stop the threads that send broadcast messages side by side (after the lanes have
        stopped: nothing is being sent), and let go of this dispatcher's lanes, so another
        process takes them at once instead of a lease later; a later batch starts again."""
        with self._pools_lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=True)
        try:
            with self.uow_factory() as uow:
                uow.outbox.let_go(self.holder, self.clock.now())
                uow.commit()
        except Exception as error:  # stopping goes on: the leases run out by themselves
            log.warning("outbox: the lanes could not be let go: %s", describe_error(error))

    async def aclose(self) -> None:
        """``close`` as a server stop hook."""
        await asyncio.to_thread(self.close)

    def interrupt(self) -> None:
        """The process is stopping: the send under way finishes and is recorded; the rest of the
        batch is given back unsent, and later runs send nothing."""
        self._interrupted.set()

    def lanes(self) -> list[tuple[str, Callable[[], int]]]:
        """One job per channel it has a sender for (``outbox:sms``, ``outbox:telegram``), each
        to run in a lane of its own. Of all server processes, one dispatcher sends on a channel
        at a time (the one that holds its lane, see ``LANE_LEASE``): the channel's pace holds
        overall. A process without a sender for a channel never takes its lane (another process
        with one may send on it)."""
        return [
            (f"outbox:{channel}", partial(self.run_channel, channel, lead=True))
            for channel in self._channels()
        ]

    def run_once(self) -> int:
        """Every channel's due messages, here and now, one channel after the other (the
        console, tests: no lane is held)."""
        return sum(self.run_channel(channel) for channel in self._channels())

    def _channels(self) -> list[Channel]:
        return [channel for channel in Channel if channel in self.senders]

    def run_channel(self, channel: Channel, *, lead: bool = False) -> int:
        """Send what is due now on ``channel``; returns how many messages were settled.

        A batch is claimed under a lease; in the channel's lane (``lead``), a full batch of
        broadcast messages is followed by the next one, claimed while its last messages are
        being sent (in order of urgency, as always). Before each send the dispatcher checks that the
        message's lease still has room for one more request; if not (or it was interrupted), it
        gives the rest back unsent, so another dispatcher that claims them after the lease never
        sends what this one is sending.

        A personal message (a code, a notice) is sent alone, and what became of it is recorded
        at once, in a transaction of its own, before the next one goes. Broadcast messages go
        several at a time (``IN_DOUBT``: at most that many of them are with the provider or
        sent and not yet recorded, at any moment), still one after the other through the
        channel's pacer, and their outcomes are recorded a few at a time, one transaction each:
        a crash leaves at most ``IN_DOUBT`` broadcast messages in doubt. Messages not sent
        (postponed by the pacer, skipped) are recorded with the next outcomes: a crash before
        that only leaves them claimed until the lease runs out.

        Whether a recipient opted out (SMS STOP) is read by the claim, then by each transaction
        that records outcomes, for the messages about to go next, so a STOP that comes in while
        the batch is being sent is seen before long. A provider's opt-out refusal (Twilio's
        21610) skips the rest of the batch to that recipient.
        """
        if self._interrupted.is_set():
            return 0
        moved = 0
        # A server process's (the console's SMS only show on its screen: it leaves them), now
        # and then: what it settles has been due for a lane's lease at least.
        if channel is Channel.SMS and Channel.TELEGRAM not in self.senders and self.asks:
            now = self.clock.now()
            if self._telegram_next is None or now >= self._telegram_next:
                moved = self._telegram_by_sms(lead=lead)  # claimed below with the rest
                wait = self.lane_lease / 2 if moved < self.batch else timedelta(0)
                self._telegram_next = now + wait
        claims = self._claim(channel, lead=lead)
        return moved + _Run(self, channel, claims or [], lead=lead).run()

    def _telegram_by_sms(self, *, lead: bool) -> int:
        """Without a Telegram sender: what has been due on Telegram for a lane's lease, while
        nobody held its lane, is settled (``core.telegram_off``) in one transaction, by the
        holder of the SMS lane (``lead``); how many rows."""
        with self.uow_factory() as uow:
            now = self.clock.now()
            moved = 0
            if not lead or self._lead(uow, Channel.SMS, now):
                since = now - self.lane_lease
                moved = telegram_off.send_by_sms_instead(
                    uow, now=now, since=since, limit=self.batch
                )
            uow.commit()
            return moved

    def _lead(self, uow: UnitOfWork, channel: Channel, now: datetime) -> bool:
        ask_until = now + ASK_FOR if self.asks else None
        until = now + self.lane_lease
        return uow.outbox.lead(channel, self.holder, now, until, ask_until=ask_until)

    def _keep_lane(self, channel: Channel) -> bool:
        """Renew this dispatcher's hold on the channel's lane; False if another has it."""
        with self.uow_factory() as uow:
            held = self._lead(uow, channel, self.clock.now())
            uow.commit()
            return held

    def _claim(self, channel: Channel, *, lead: bool = False) -> list[_Claim] | None:
        """Claim a batch; with ``lead``, only while this dispatcher holds the channel's lane
        (taken or renewed in the same transaction): None when it does not (another has it, or
        it was just handed to a process that sends nothing)."""
        with self.uow_factory() as uow:
            now = self.clock.now()
            claims: list[_Claim] = []
            if lead and not self._lead(uow, channel, now):
                uow.commit()
                return None
            # Each row is written back only if it is still as the claim read it (status and
            # attempts), all of them in one statement.
            changes: list[tuple[OutboxMessage, OutboxStatus, int]] = []
            for due in uow.outbox.claim_due(channel, now, self.batch):
                message = due.message
                status, attempts = message.status, message.attempts
                changes.append((message, status, attempts))
                # Found claimed after its lease: its dispatcher died, perhaps while sending it.
                doubted_before = message.in_doubt and status is OutboxStatus.SENDING
                # Not one in doubt (found claimed, or put back after its provider could not say
                # whether it had it): ``_deliver`` asks the provider first.
                if due.superseded and status is OutboxStatus.PENDING and not message.in_doubt:
                    message.skipped(REPLACED_BY_LATER)
                    continue
                try:
                    text = _text(message, self.code_key, now)
                    choices = tuple(_choice(spec, message) for spec in message.choices)
                except Exception as exc:  # one message that cannot be shown must not stop the rest
                    log.error("outbox %s cannot be rendered: %s", message.id, describe_error(exc))
                    message.failed(f"cannot be rendered: {type(exc).__name__}")
                    continue
                lease = URGENT_LEASE if message.urgent else LEASE
                message.claim(now, lease)
                outgoing = Outgoing(
                    recipient=message.recipient,
                    text=text,
                    choices=choices,
                    replaces=due.replaces,
                    urgent=message.urgent,
                    # In doubt until settled (a failed check with the provider retries the
                    # check): it cannot have been sent before it was written.
                    tried_since=message.created_at if message.in_doubt else None,
                )
                claims.append(
                    _Claim(
                        message=message,
                        attempts=message.attempts,
                        outgoing=outgoing,
                        opted_out=due.opted_out,
                        lease_end=now + lease,
                        doubted_before=doubted_before,
                        superseded=due.superseded,
                    )
                )
            written = uow.outbox.update_all(changes)
            uow.commit()
            return [claim for claim in claims if claim.message.id in written]

    def _deliver(self, claim: _Claim) -> Outcome:
        sender = self.senders.get(claim.channel)
        if sender is None:
            return Undeliverable(f"no sender for channel {claim.channel}")
        outgoing = claim.outgoing
        try:
            if outgoing.tried_since is not None:  # its dispatcher died, perhaps while sending it
                if isinstance(sender, Reconciling):
                    found = sender.find_sent(outgoing)
                    if found is not None:
                        log.info("outbox %s in doubt: %s", claim.message.id, found)
                        return found
                elif claim.doubted_before and outgoing.replaces is None and not claim.superseded:
                    return Undeliverable(IN_DOUBT_TWICE)
                if claim.superseded:  # not sent, or not known: it would say what is out of date
                    return Skipped(REPLACED_BY_LATER)
            return sender.send(outgoing)
        except Exception as exc:  # a sender bug must not stop the dispatcher
            log.error("sender for %s failed: %s", claim.channel, describe_error(exc))
            return RetryLater(f"{type(exc).__name__}: {exc}")

    def _record(
        self, outcomes: list[tuple[_Claim, Outcome]], *, screen: Sequence[_Claim] = ()
    ) -> tuple[int, set[str]]:
        """Record outcomes in one transaction, each only if its row is still ours (it still has
        the status and the attempts of the claim; one statement for all of them on
        PostgreSQL). Returns how many were recorded, and which recipients of ``screen`` (the
        messages to go next) opted out."""
        if not outcomes:
            return 0, set()
        now = self.clock.now()
        for claim, outcome in outcomes:
            _apply(claim.message, outcome, now)
        try:
            return self._write(outcomes, screen)
        except Exception as error:
            # A lost database connection (PostgreSQL restarted) must not leave a message that
            # reached the provider claimed, to be sent again when the lease runs out. Writing
            # again is safe: each row is written only while it is still as claimed.
            if getattr(error, "connection_invalidated", False) is not True:
                raise
            log.warning("outbox: the database connection was lost while recording; again")
            return self._write(outcomes, screen)

    def _write(
        self, outcomes: list[tuple[_Claim, Outcome]], screen: Sequence[_Claim]
    ) -> tuple[int, set[str]]:
        with self.uow_factory() as uow:
            written = uow.outbox.update_all(
                [(claim.message, OutboxStatus.SENDING, claim.attempts) for claim, _ in outcomes]
            )
            for claim, _outcome in outcomes:
                if claim.message.id not in written:
                    log.warning(
                        "outbox %s was claimed again meanwhile; this result is dropped",
                        claim.message.id,
                    )
            refused = set()
            if screen:
                refused = uow.outbox.opted_out(screen[0].channel, {c.recipient for c in screen})
            uow.commit()
            return len(written), refused


class _Run:
    """One ``run_channel``: the batch claimed, sent (broadcast messages side by side), recorded."""

    def __init__(
        self, dispatcher: Dispatcher, channel: Channel, claims: list[_Claim], *, lead: bool
    ) -> None:
        self.d = dispatcher
        self.channel = channel
        self.lead = lead
        self.queue = deque(claims)
        self.bound = max(1, dispatcher.in_doubt.get(channel, 1))
        self.opted_out = {claim.recipient for claim in claims if claim.opted_out}
        self.flying: dict[Future[Outcome], _Claim] = {}
        self.done: list[tuple[_Claim, Outcome]] = []  # not recorded yet
        self.reached = 0  # of ``done``: outcomes of a send that may have reached the provider
        self.alone = False  # ``done`` has a personal message's outcome: record it at once
        self.settled = 0
        self.stopped = False
        self.lane_until = dispatcher.clock.now() + dispatcher.lane_lease
        # In a lane of its own only: ``run_once`` sends one batch of each channel in turn.
        self.more = lead and _more(claims, dispatcher.batch)

    def _refill(self) -> None:
        """In a channel's lane, a full batch of broadcast messages is followed by the next one,
        claimed while its last messages are being sent, so the channel does not wait for a
        claim between two batches. A personal message claimed with it (one that came in
        meanwhile) goes before the broadcast messages still waiting."""
        if not self.more or len(self.queue) + len(self.flying) > self.bound or self.stopped:
            return  # claimed and not sent yet: at most a batch and ``bound`` more
        if self.d._interrupted.is_set():
            return
        claims = self.d._claim(self.channel, lead=self.lead)
        if claims is None:  # the lane is another's now: the rest is given back, for it to send
            self.stopped = True
            return
        self.more = _more(claims, self.d.batch)
        self.queue.extendleft(
            reversed([c for c in claims if c.message.priority < Priority.BROADCAST])
        )
        self.queue.extend(c for c in claims if c.message.priority >= Priority.BROADCAST)
        self.opted_out |= {claim.recipient for claim in claims if claim.opted_out}

    def run(self) -> int:
        while (self.queue and not self.stopped) or self.flying or self.done:
            self._refill()
            self._start()
            if self.flying and not self._record_due():
                finished, _ = wait(self.flying, return_when=FIRST_COMPLETED)
                for future in finished:
                    self._done(self.flying.pop(future), future.result())  # a crash goes on up
            if self.done and self._record_due():
                self._record()
        if self.queue:  # stopped: given back unsent, for whoever runs next
            self.d._record([(rest, Deferred(timedelta(0))) for rest in self.queue])
        return self.settled

    def _start(self) -> None:
        """Send what may go now: a personal message alone (here, at once), broadcast messages
        side by side as long as fewer than ``bound`` are in doubt."""
        while self.queue and not self.stopped and not self.alone:
            claim = self.queue[0]
            together = claim.message.priority >= Priority.BROADCAST and self.bound > 1
            in_doubt = len(self.flying) + self.reached
            if in_doubt >= (self.bound if together else 1):
                return
            if any(other.recipient == claim.recipient for other in self.flying.values()):
                return  # one message to a recipient at a time, in order: after the one before
            if not self._may_send(claim):
                self.stopped = True
                return
            self.queue.popleft()
            if claim.recipient in self.opted_out:
                self._done(claim, Skipped(OPTED_OUT))
            elif together:
                self.flying[self.d._pool(self.channel).submit(self.d._deliver, claim)] = claim
            else:
                self._done(claim, self.d._deliver(claim))

    def _may_send(self, claim: _Claim) -> bool:
        """The lane is still ours (renewed when half its lease is gone), the claim's lease has
        room for one more request, and the process is not stopping."""
        now = self.d.clock.now()
        if self.lead and now + self.d.lane_lease / 2 > self.lane_until:
            # A paced batch outlasts the lane's lease: keep the lane while sending, or another
            # process would take it and send beside this one (twice the pace).
            if not self.d._keep_lane(self.channel):
                return False
            self.lane_until = now + self.d.lane_lease
        return now + claim.allowance <= claim.lease_end and not self.d._interrupted.is_set()

    def _done(self, claim: _Claim, outcome: Outcome) -> None:
        if isinstance(outcome, OptedOut):
            self.opted_out.add(claim.recipient)
        self.done.append((claim, outcome))
        if not isinstance(outcome, Skipped | Deferred):  # it may have reached the provider
            self.reached += 1
            if claim.message.priority < Priority.BROADCAST or self.bound == 1:
                self.alone = True

    def _record_due(self) -> bool:
        """Outcomes are recorded at once for a personal message, else a few at a time: when
        half the messages allowed in doubt are done, or nothing else is being sent."""
        if not self.done:
            return False
        return (
            self.alone or not self.flying or self.reached >= max(1, self.bound // 2) or self.stopped
        )

    def _record(self) -> None:
        screen = list(itertools.islice(self.queue, self.bound))
        recorded, refused = self.d._record(self.done, screen=screen)
        self.settled += recorded
        self.opted_out |= refused
        self.done, self.reached, self.alone = [], 0, False


def _more(claims: Sequence[_Claim], batch: int) -> bool:
    """Whether more broadcast messages are likely due after ``claims``: a full batch that
    ends with one."""
    return len(claims) == batch and claims[-1].message.priority >= Priority.BROADCAST


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
    outgoing: Outgoing
    opted_out: bool  # the recipient had opted out when the claim read the row
    lease_end: datetime
    doubted_before: bool  # in doubt now, and was after an earlier crash already
    superseded: bool = False  # in doubt, and one written later about the same thing since

    @property
    def channel(self) -> Channel:
        return self.message.channel

    @property
    def recipient(self) -> str:
        return self.message.recipient

    @property
    def allowance(self) -> timedelta:
        """Room the lease must still have for this message's send to end inside it."""
        return URGENT_ALLOWANCE if self.message.urgent else SEND_ALLOWANCE


def _text(message: OutboxMessage, code_key: bytes | None, now: datetime) -> str:
    """In the channel's own wording where it has one (``sms/<key>``, ``telegram/<key>``)."""
    params = at_send(otp.reveal(dict(message.params), code_key), now)
    return render_text(Text(message.key, params), message.language, message.channel.value)


def _choice(spec: ChoiceSpec, message: OutboxMessage) -> tuple[str, str]:
    id_, key, params = choice_parts(spec)
    return id_, render_text(Text(key, params), message.language, message.channel.value)
