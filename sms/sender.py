"""Sending SMS through Twilio's REST API, for the outbox dispatcher.

- ``TwilioSender`` sends one message with the twilio client, paced to a rate in segments per
  second, and says what happened: 429 and 5xx are passing (the dispatcher retries them with
  backoff); other refusals are final; 21610 means the number opted out.
- ``OptOutGuard`` wraps whichever SMS sender is configured: nothing goes to a number that opted
  out (the message is settled as skipped), and a 21610 refusal opts the number out. Behind the
  dispatcher, the dispatcher reads the opt-outs (``guard_opt_outs``).

A message is never sent twice on purpose: it is retried only when Twilio certainly did not take
it (429, 5xx, no connection). If the connection breaks after the request went out, Twilio may
have taken it, so it is not retried but marked failed.

One-time codes live 5 minutes and must not queue behind a broadcast: ``send_urgent`` (used by
the dispatcher for ``OutboxMessage.sensitive`` messages) takes the pacer's next free slot ahead
of every message that was told to come back later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import requests
import urllib3
from sqlalchemy.engine import Engine as SqlEngine
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from core.clock import Clock
from core.masking import mask_phone
from core.outbox import Channel
from platebot.dispatcher import (
    Deferred,
    OptedOut,
    Outcome,
    RetryLater,
    Sender,
    Sent,
    Undeliverable,
)
from platebot.settings import Settings
from sms.channel import STATUS_PATH, UNSUBSCRIBED
from sms.records import SmsRecords
from sms.segments import segment_count
from sms.twilio_http import Urllib3HttpClient

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class RecipientOptedOut(OptedOut):
    """Twilio refused the message because the number replied STOP to it (error 21610)."""


class SegmentPacer:
    """Paces sending to ``per_second`` segments (GCRA, the token bucket as a time).

    ``reserve(n)`` returns None when ``n`` segments may go now (after waiting briefly, at most
    ``max_wait`` seconds), or how many seconds to come back after: the dispatcher then postpones
    the message (``Deferred``) instead of blocking the background jobs. Messages told to come
    back get successive slots, so they return one after the other at the rate. A burst of
    ``burst`` seconds' worth may go at once after a quiet spell.

    ``reserve(n, urgent=True)`` (a one-time code) does not queue behind the slots promised to
    postponed messages: it waits in place for the next free moment and goes. The pace keeps that
    wait within ``max_wait`` plus one message's worth (plus the codes just before it); only a
    wait longer than ``urgent_wait`` (a very low rate, a crowd of codes) postpones it, to that
    next free moment still. The slots promised after it move back by its length, so the rate
    holds; a postponed message that comes back to find its slot taken is given another.

    The pace holds across dispatcher runs. With several server processes each one paces itself:
    set the rate to the sender's rate divided by the number of processes. The lock only keeps
    this object's arithmetic consistent between threads.
    """

    def __init__(
        self,
        per_second: float,
        *,
        burst: float = 1.0,
        max_wait: float = 0.25,
        urgent_wait: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = per_second
        self.burst = burst
        self.max_wait = max_wait
        self.urgent_wait = urgent_wait
        self.monotonic = monotonic
        self.sleep = sleep
        self.busy_until = monotonic()  # when what was sent so far is paid for
        self.promised_until = self.busy_until  # the last slot given to a postponed message
        self._lock = threading.Lock()

    def reserve(self, segments: int, *, urgent: bool = False) -> float | None:
        with self._lock:
            now = self.monotonic()
            start = max(now, self.busy_until - self.burst)
            length = segments / self.rate
            if urgent:
                if self.promised_until > start:  # ahead of the promised slots: they move back
                    self.promised_until += length
                if start - now > self.urgent_wait:  # a very low rate: come back then
                    return start - now
            elif start - now > self.max_wait:
                slot = max(start, self.promised_until)
                self.promised_until = slot + length
                return slot - now
            self.busy_until = max(self.busy_until, now) + length
            if start > now:
                self.sleep(start - now)
            return None


def twilio_client(account_sid: str, auth_token: str, api_base: str | None = None) -> Client:
    """The twilio REST client; ``api_base`` points it at another host (a local stand-in).

    Its HTTP layer is urllib3 alone (``sms.twilio_http``), not ``requests``: a send cost about
    1.4 ms of CPU through ``requests``. What ``requests`` reads from the environment (a proxy
    for the API's host, a CA bundle) is read once, here, the way ``requests`` reads it."""
    client = Client(
        account_sid,
        auth_token,
        environment={},  # settings come from PLATEBOT_*, not from TWILIO_* variables
    )
    if api_base:
        client.api.base_url = api_base.rstrip("/")
    client.http_client = Urllib3HttpClient(client.api.base_url, timeout=TIMEOUT_SECONDS)
    return client


class TwilioSender:
    def __init__(
        self,
        client: Client,
        *,
        sender: str,
        pacer: SegmentPacer,
        status_callback: str | None = None,
    ) -> None:
        self.client = client
        self.sender = sender
        self.pacer = pacer
        self.status_callback = status_callback

    def send(self, recipient: str, text: str) -> Outcome:
        return self._send(recipient, text, urgent=False)

    def send_urgent(self, recipient: str, text: str) -> Outcome:
        """``send`` for a message that must not wait behind others (a one-time code)."""
        return self._send(recipient, text, urgent=True)

    def _send(self, recipient: str, text: str, *, urgent: bool) -> Outcome:
        later = self.pacer.reserve(segment_count(text), urgent=urgent)
        if later is not None:
            return Deferred(timedelta(seconds=later))
        origin = (
            {"messaging_service_sid": self.sender}
            if self.sender.startswith("MG")
            else {"from_": self.sender}
        )
        extra = {"status_callback": self.status_callback} if self.status_callback else {}
        try:
            message = self.client.messages.create(to=recipient, body=text, **origin, **extra)
        except TwilioException as exc:
            return _refused(exc, recipient)
        except (urllib3.exceptions.HTTPError, requests.RequestException) as exc:
            if _never_reached(exc):
                return RetryLater(f"Twilio unreachable: {type(exc).__name__}")
            log.warning("SMS to %s: Twilio's answer was lost (%s)", mask_phone(recipient), exc)
            return Undeliverable(
                f"no answer from Twilio ({type(exc).__name__}); not resent, so never sent twice"
            )
        return Sent(provider_id=str(message.sid))


def _refused(exc: TwilioException, recipient: str) -> Outcome:
    status = int(getattr(exc, "status", 0) or 0)
    code = getattr(exc, "code", None)
    error = f"Twilio {status} (error {code})"
    if code == UNSUBSCRIBED:
        return RecipientOptedOut(f"{error}: the number opted out")
    if status == 429 or status >= 500:
        return RetryLater(error)
    log.warning("SMS to %s refused: %s", mask_phone(recipient), error)
    # Twilio's own words may quote the number: kept with the message, not in the log.
    detail = getattr(exc, "msg", None) or getattr(exc, "title", None) or ""
    return Undeliverable(f"{error} {detail}".rstrip())


def _never_reached(exc: urllib3.exceptions.HTTPError | requests.RequestException) -> bool:
    """True when the request cannot have reached Twilio: no connection was made (refused, no
    such host, or the connection timed out). Anything else (a connection that broke, a read
    timeout, TLS or a proxy failing) may have come after Twilio took the message.

    ``twilio_client`` raises urllib3's exceptions; a client on ``requests`` (twilio's own)
    wraps the same ones, and is judged the same way."""
    if isinstance(exc, requests.RequestException):
        if isinstance(exc, requests.ConnectTimeout):
            return True
        if not isinstance(exc, requests.ConnectionError):
            return False
        cause = exc.args[0] if exc.args else None
        return isinstance(getattr(cause, "reason", cause), NewConnectionError)
    if isinstance(exc, MaxRetryError):  # urllib3's wrapper, when a pool retries
        return isinstance(exc.reason, ConnectTimeoutError)  # NewConnectionError is one too
    return isinstance(exc, ConnectTimeoutError)


class OptOutGuard:
    """A send that Twilio refuses with 21610 opts the number out. Nothing is sent to a number
    that opted out: the dispatcher reads opt-outs inside the transactions it runs anyway (the
    claim, and the one that records the message before), rather than in one of its own per
    message here (0.4 ms of CPU each)."""

    def __init__(self, sender: Sender, db: SqlEngine, clock: Clock) -> None:
        self.sender = sender
        self.db = db
        self.clock = clock

    def send(self, recipient: str, text: str) -> Outcome:
        return self._send(recipient, text, urgent=False)

    def send_urgent(self, recipient: str, text: str) -> Outcome:
        """The wrapped sender's ``send_urgent`` if it has one (else its ``send``)."""
        return self._send(recipient, text, urgent=True)

    def _send(self, recipient: str, text: str, *, urgent: bool) -> Outcome:
        send = getattr(self.sender, "send_urgent", None) if urgent else None
        outcome = send(recipient, text) if send is not None else self.sender.send(recipient, text)
        if isinstance(outcome, RecipientOptedOut):
            with SmsRecords.begin(self.db) as records:
                if records.opt_out(recipient, reason="twilio 21610", now=self.clock.now()):
                    log.info("%s opted out (Twilio 21610)", mask_phone(recipient))
        return outcome


def twilio_sender_from(settings: Settings) -> TwilioSender | None:
    """The Twilio sender ``PLATEBOT_TWILIO_*`` call for; None when they are not all set."""
    sid, token, origin = (
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_from,
    )
    if not (sid and token and origin):
        return None
    api_base = str(settings.twilio_api_base) if settings.twilio_api_base else None
    return TwilioSender(
        twilio_client(sid, token.get_secret_value(), api_base),
        sender=origin,
        pacer=SegmentPacer(settings.sms_segments_per_second),
        status_callback=str(settings.public_url).rstrip("/") + STATUS_PATH,
    )


def guard_opt_outs(
    senders: Mapping[Channel, Sender], db: SqlEngine, clock: Clock
) -> dict[Channel, Sender]:
    """``senders`` for the outbox dispatcher, with the SMS one behind the opt-out guard. The
    dispatcher itself skips numbers that opted out, so the guard only records the numbers
    Twilio refuses with 21610 (and the dispatcher skips the rest of its batch to them)."""
    guarded = dict(senders)
    if Channel.SMS in guarded and not isinstance(guarded[Channel.SMS], OptOutGuard):
        guarded[Channel.SMS] = OptOutGuard(guarded[Channel.SMS], db, clock)
    return guarded
