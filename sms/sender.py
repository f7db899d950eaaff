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

One-time codes live 5 minutes and must not queue behind a broadcast: an urgent message (the
dispatcher claims them first) takes the pacer's next free slot ahead of every message that was
told to come back later.

A message whose dispatcher died while it may have been sending it is in doubt: ``find_sent``
asks Twilio's Messages list (to the same number, sent since the message was claimed, the same
body) before it goes again, so a crash does not send a code twice.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec
from urllib.parse import urlsplit

import requests
import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH, select_proxy
from sqlalchemy.engine import Engine as SqlEngine
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from core.clock import Clock
from core.masking import mask_phone
from core.outbox import (
    Channel,
    Deferred,
    OptedOut,
    Outcome,
    Outgoing,
    RetryLater,
    Sent,
    Undeliverable,
)
from core.ports import Reconciling, Sender
from sms.channel import UNSUBSCRIBED
from sms.records import SmsRecords
from sms.segments import segment_count

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
    next free moment still, which is then held for a code: paid for at once, so that no message
    that comes back meanwhile takes it, and given to the first code that asks from that moment
    on. The slots promised after it move back by its length, so the rate holds; a postponed
    message that comes back to find its slot taken is given another.

    Promises are kept only while they are used: messages told to come back come one after the
    other, each when the one before has left room (``busy_until - burst``). When that moment has
    passed by ``promise_grace`` with none of them back, they were held or dropped (a broadcast
    paused or cancelled), and every promise is let go: messages asking from then on get the next
    free slots instead of queueing behind slots nobody will use. One that does come back late
    is served like any other. Only sending is paced (``busy_until``): promises only say when to
    come back, so letting them go never sends faster than the rate.

    The pace holds across dispatcher runs, and for the whole server: of all server processes,
    one dispatcher sends SMS at a time (``platebot.dispatcher.LANE_LEASE``). The lock only keeps
    this object's arithmetic consistent between threads.
    """

    def __init__(
        self,
        per_second: float,
        *,
        burst: float = 1.0,
        max_wait: float = 0.25,
        urgent_wait: float = 5.0,
        promise_grace: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = per_second
        self.burst = burst
        self.max_wait = max_wait
        self.urgent_wait = urgent_wait
        # Longer than a postponed message takes to come back after its moment: the dispatcher's
        # lane comes round every second when it has nothing to do.
        self.promise_grace = promise_grace
        self.monotonic = monotonic
        self.sleep = sleep
        self.busy_until = monotonic()  # when what was sent so far is paid for
        self.promised_until = self.busy_until  # the last slot given to a postponed message
        self.held: list[float] = []  # moments paid for, kept for postponed codes (in order)
        self._lock = threading.Lock()

    def reserve(self, segments: int, *, urgent: bool = False) -> float | None:
        with self._lock:
            now = self.monotonic()
            if now - (self.busy_until - self.burst) > self.promise_grace:  # nobody came back
                self.promised_until = now
            start = max(now, self.busy_until - self.burst)
            length = segments / self.rate
            if urgent:
                # a moment held for a postponed code that has come (a stale one is let go)
                while self.held and self.held[0] < now - self.urgent_wait:
                    self.held.pop(0)
                if self.held and self.held[0] - now <= self.max_wait:
                    moment = self.held.pop(0)
                    if moment > now:
                        self.sleep(moment - now)
                    return None
                if self.promised_until > start:  # ahead of the promised slots: they move back
                    self.promised_until += length
                if start - now > self.urgent_wait:  # a very low rate: hold that moment for it
                    self.busy_until = max(self.busy_until, now) + length
                    self.held.append(start)
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
    """The twilio REST client on twilio's own HTTP client (``requests``); ``api_base`` points
    it at another host (a local stand-in).

    What ``requests`` takes from the environment (the proxy for the API's host: ``HTTPS_PROXY``,
    ``ALL_PROXY``, ``NO_PROXY``...; the CA bundle: ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``,
    else certifi's) is read once, here, and checked: a bundle that cannot be read, or a SOCKS
    proxy without PySocks, stops the start rather than every message failing later. The session
    then reads nothing more from the environment. ``requests`` retries nothing here (its
    default): whether a failed request may be sent again is ``TwilioSender``'s call."""
    client = Client(
        account_sid,
        auth_token,
        environment={},  # settings come from PLATEBOT_*, not from TWILIO_* variables
    )
    if api_base:
        client.api.base_url = api_base.rstrip("/")
    base = str(client.api.base_url)
    environment = requests.Session().merge_environment_settings(base, {}, None, None, None)
    proxy = select_proxy(base, environment["proxies"])
    verify = environment["verify"]
    ca_bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
    _check_ca_bundle(ca_bundle)
    if proxy is not None and proxy.lower().startswith("socks") and find_spec("socks") is None:
        raise RuntimeError(
            "the environment names a SOCKS proxy for Twilio; that needs PySocks "
            "(pip install 'requests[socks]')"
        )
    http = TwilioHttpClient(
        timeout=TIMEOUT_SECONDS,
        proxy={urlsplit(base).scheme: proxy} if proxy is not None else None,
    )
    if http.session is not None:  # pool_connections=True: one kept-alive session
        http.session.trust_env = False  # the environment was read above, once
        http.session.verify = ca_bundle
    client.http_client = http
    return client


def _check_ca_bundle(ca_bundle: str) -> None:
    """Load ``ca_bundle`` (a file or a directory, as ``requests`` takes it) once, at start."""
    context = ssl.create_default_context()
    try:
        if os.path.isdir(ca_bundle):
            context.load_verify_locations(capath=ca_bundle)
        else:
            context.load_verify_locations(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as error:
        raise RuntimeError(f"the CA bundle for Twilio cannot be read: {ca_bundle}") from error


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

    def send(self, message: Outgoing) -> Outcome:
        """One SMS (``message.urgent``: ahead of the paced queue); an SMS cannot be edited, so
        a message that replaces another is sent anew."""
        recipient, text = message.recipient, sms_body(message)
        later = self.pacer.reserve(segment_count(text), urgent=message.urgent)
        if later is not None:
            return Deferred(timedelta(seconds=later))
        origin = (
            {"messaging_service_sid": self.sender}
            if self.sender.startswith("MG")
            else {"from_": self.sender}
        )
        extra = {"status_callback": self.status_callback} if self.status_callback else {}
        try:
            sent = self.client.messages.create(to=recipient, body=text, **origin, **extra)
        except TwilioException as exc:
            return _refused(exc, recipient)
        except (urllib3.exceptions.HTTPError, requests.RequestException) as exc:
            if _never_reached(exc):
                return RetryLater(f"Twilio unreachable: {type(exc).__name__}")
            log.warning("SMS to %s: Twilio's answer was lost (%s)", mask_phone(recipient), exc)
            return Undeliverable(
                f"no answer from Twilio ({type(exc).__name__}); not resent, so never sent twice"
            )
        return Sent(provider_id=str(sent.sid))

    def find_sent(self, message: Outgoing) -> Outcome | None:
        """Whether Twilio has this message already (Messages list filtered by the recipient and
        the day it was written, a minute earlier for clocks that differ; the same text):
        ``Sent`` with its sid, None if not, ``RetryLater`` if Twilio cannot be asked now."""
        if message.tried_since is None:  # never tried: nothing to look for
            return None
        # Twilio filters by the day sent (GMT), which is as fine as it goes.
        since = datetime.combine(
            (message.tried_since - timedelta(minutes=1)).date(), datetime.min.time(), UTC
        )
        body = sms_body(message)
        try:
            found = self.client.messages.list(to=message.recipient, date_sent_after=since, limit=50)
        except (TwilioException, urllib3.exceptions.HTTPError, requests.RequestException) as exc:
            return RetryLater(f"Twilio cannot say whether it has the message: {exc}")
        for earlier in found:
            if earlier.body == body and earlier.status not in {"failed", "canceled"}:
                return Sent(provider_id=str(earlier.sid))
        return None


def sms_body(message: Outgoing) -> str:
    """The SMS text: the message and its choices, numbered (a reply of the number picks one)."""
    lines = [f"{n} {label}" for n, (_id, label) in enumerate(message.choices, start=1)]
    return "\n".join([message.text, *lines])


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

    twilio's client raises ``requests``' exceptions, which wrap urllib3's; a bare urllib3 one
    is judged the same way."""
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

    def send(self, message: Outgoing) -> Outcome:
        outcome = self.sender.send(message)
        if isinstance(outcome, RecipientOptedOut):
            with SmsRecords.begin(self.db) as records:
                if records.opt_out(message.recipient, reason="twilio 21610", now=self.clock.now()):
                    log.info("%s opted out (Twilio 21610)", mask_phone(message.recipient))
        return outcome

    def find_sent(self, message: Outgoing) -> Outcome | None:
        """The wrapped sender's answer, if its provider can be asked (else: not sent)."""
        if isinstance(self.sender, Reconciling):
            return self.sender.find_sent(message)
        return None


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
