"""Twilio's webhooks: ``POST /sms/twilio`` (an inbound SMS, answered with TwiML) and
``POST /sms/twilio/status`` (delivery status of a message we sent).

Every request's signature is checked with the twilio library's ``RequestValidator.validate``
against the configured public URL (``PLATEBOT_PUBLIC_URL`` + path: proxies change the URL Twilio
signed; with or without the default port) and the posted form. A
missing or wrong ``X-Twilio-Signature`` is refused with 403 before anything is stored; a signed
request without the fields it needs with 400.

An inbound SMS is always answered with TwiML once the request is valid: when no turn can be
run (the database cannot be written, its lock is held elsewhere, the turn process is down), the
answer asks the user to send the SMS again, in their language where it can be read. Twilio waits
15 s for an answer: a turn must have the database by ``TURN_DEADLINE`` after the SMS arrived or
it is not run at all (rolled back, "busy" answered), and the webhook answers by
``ANSWER_WITHIN`` whatever happens (the defaults of ``PLATEBOT_SMS_TURN_DEADLINE`` and
``PLATEBOT_SMS_ANSWER_WITHIN``, which ``mount`` is given); a turn that still ran after that
(the turn process stalled after taking the lock) has its answer sent as an SMS through the
outbox, so nobody's turn runs unseen.

The dialog turn never runs on the event loop: on SQLite under ``platebot serve`` it runs in a
process of its own (``PLATEBOT_TURN_PROCESS``, ``platebot/turn_process.py``), otherwise in one of
the app's turn threads (``App.turns``). What the event loop does per request is kept small: it is
most of what an SMS costs beside the turn itself (bench/README.md, "SMS webhook").
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import FastAPI, HTTPException, Request
from starlette.datastructures import ImmutableMultiDict
from starlette.responses import Response
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from core.errors import InvalidPhone
from core.masking import describe_error, mask_phone
from core.phone import normalise_phone
from platebot.settings import HEALTH_WAIT
from platebot.settings import SMS_ANSWER_WITHIN as ANSWER_WITHIN
from platebot.settings import SMS_TURN_DEADLINE as TURN_DEADLINE
from platebot.turn_process import ServiceLane
from sms.channel import BUSY_IN_EVERY_LANGUAGE, INBOUND_PATH, STATUS_PATH, IncomingSms, SmsChannel
from store import health
from store.db import write_lock_by
from web.health import add_health_check
from web.workers import JobThread

log = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_MAX_BODY = 64 * 1024
_ERROR_CODE = re.compile("[0-9]{1,9}")  # Twilio's error codes: five ASCII digits
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # no encoding can write one: shown as U+FFFD
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


class Answer(NamedTuple):
    """What the turn side answers an SMS with; ``ran``: a turn ran (False: "busy" answered and
    nothing changed)."""

    messages: list[str]
    ran: bool


class Form(ImmutableMultiDict[str, str]):
    """A posted form: each field's last value, and every value of a field (which the twilio
    library's signature covers) under ``getall``, the name its validator asks for first."""

    def getall(self, key: str) -> list[str]:
        return self.getlist(key)


@dataclass
class SmsService:
    """What the SMS webhook's lane runs its calls on: the SMS channel and, in a turn process,
    the server's background jobs (outbox dispatcher, timers, housekeeping), which run there
    beside the turns: that process does the database work, this one the HTTP."""

    channel: SmsChannel
    jobs: JobThread | None = None
    health_wait: float = HEALTH_WAIT  # seconds ``probe`` waits for the database's write lock
    # Run once the jobs have stopped (the outbox dispatcher lets its sending lanes go).
    after_jobs: Callable[[], None] | None = None

    def receive(self, sms: IncomingSms, turn_by: float) -> Answer:
        """The answer to ``sms``, if its transactions can have the database by ``turn_by``
        (``time.monotonic()``); else (or if the database fails) none of it is kept and the
        user is asked to send it again."""
        try:
            with write_lock_by(turn_by):
                return Answer(self.channel.receive(sms), ran=True)
        except Exception as error:
            log.error("SMS %s not answered, busy: %s", sms.message_sid, describe_error(error))
            return Answer([self.channel.busy(sms.phone)], ran=False)

    def send_late(self, sms: IncomingSms, messages: list[str]) -> None:
        """The webhook answered "busy" before the turn of ``sms`` was done: its answer goes out
        as an SMS."""
        self.channel.send_later(sms.phone, messages)

    def probe(self) -> None:
        """For ``/healthz``: this lane answers and can write to the database."""
        health.probe(self.channel.db, self.channel.clock.now(), self.health_wait)

    def record_status(
        self, message_sid: str, status: str, error_code: int | None, phone: str | None
    ) -> None:
        self.channel.record_status(message_sid, status, error_code, phone)

    def close(self) -> None:
        """The turn process ends: the job running finishes (a message being sent is settled),
        then ``after_jobs``."""
        if self.jobs is not None:
            self.jobs.stop()
        if self.after_jobs is not None:
            self.after_jobs()


def mount(
    api: FastAPI,
    turns: ServiceLane[SmsService],
    *,
    auth_token: str | None,
    public_url: str,
    turn_deadline: float = TURN_DEADLINE,
    answer_within: float = ANSWER_WITHIN,
) -> None:
    """Add the Twilio webhooks to ``api``: their turns run in ``turns`` (started and stopped by
    the server); signatures are checked with ``auth_token`` for URLs under ``public_url``; an
    SMS's turn must have the database within ``turn_deadline`` seconds, and it is answered
    within ``answer_within``."""
    public_url = public_url.rstrip("/")
    validator = RequestValidator(auth_token) if auth_token is not None else None
    api.state.sms_turns = turns
    add_health_check(api, "sms turns", lambda: turns.run(SmsService.probe))
    if validator is None:
        log.warning("PLATEBOT_TWILIO_AUTH_TOKEN is not set: Twilio webhooks are refused")

    async def signed_form(request: Request) -> Form:
        """The posted form, if Twilio signed it for our public URL; 403 otherwise."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if validator is None or not signature:
            raise HTTPException(403, "missing Twilio signature")
        body = await request.body()
        if len(body) > _MAX_BODY:
            raise HTTPException(413, "request too large")
        try:
            form = Form(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise HTTPException(400, "not a form") from exc
        path = request.scope["path"]  # request.url.path, without building the URL
        url = public_url + path
        if request.scope.get("query_string"):
            url += "?" + request.url.query
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        if not validator.validate(url, form, signature, algorithm):
            log.warning("Twilio webhook with a wrong signature refused (%s)", path)
            raise HTTPException(403, "wrong Twilio signature")
        return form

    async def inbound_sms(request: Request) -> Response:
        """An inbound SMS: one dialog turn; the answer goes back as TwiML ``<Message>``s."""
        received = time.monotonic()
        sms = _incoming(await signed_form(request))
        messages = await _answer(turns, sms, received, turn_deadline, answer_within)
        return Response(content=twiml(messages), media_type="application/xml")

    async def sms_status(request: Request) -> Response:
        """Twilio's status callback for a message we sent."""
        form = await signed_form(request)
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "").strip().lower()
        if not _SID.match(sid) or not status or len(status) > 20:
            raise HTTPException(400, "MessageSid and MessageStatus are required")
        raw_code = form.get("ErrorCode") or ""
        if raw_code and not _ERROR_CODE.fullmatch(raw_code):  # not isdigit(): "²" is a digit
            raise HTTPException(400, "ErrorCode is not a number")
        error_code = int(raw_code) if raw_code else None
        phone = _phone_or_none(form.get("To", ""))
        await turns.run(SmsService.record_status, sid, status, error_code, phone)
        return Response(status_code=204)

    # Plain Starlette routes of the app (its middleware and exception handlers apply as to any
    # route): Twilio posts a form the handler reads and checks itself, so FastAPI's dependency
    # solving would only parse the query string and build what nothing reads, on every SMS
    # (a tenth of what the server process spends on one). They are Twilio's callbacks, not our
    # API: not in the OpenAPI document.
    api.router.add_route(INBOUND_PATH, inbound_sms, methods=["POST"], include_in_schema=False)
    api.router.add_route(STATUS_PATH, sms_status, methods=["POST"], include_in_schema=False)


_late: set[asyncio.Task[None]] = set()  # answers on their way through the outbox


async def _answer(
    turns: ServiceLane[SmsService],
    sms: IncomingSms,
    received: float,
    turn_deadline: float,
    answer_within: float,
) -> list[str]:
    """The SMS that answer ``sms``. If no turn could be run (the database failed or stayed
    locked, the turn process died under it twice or cannot start, or nothing came back in time),
    the user is asked to send it again: Twilio does not post again. The language is unknown
    here (it is in the database): the request is answered in both."""
    call = asyncio.ensure_future(turns.run(SmsService.receive, sms, received + turn_deadline))
    wait = received + answer_within - time.monotonic()
    try:
        answer = await asyncio.wait_for(asyncio.shield(call), timeout=max(0.0, wait))
    except TimeoutError:
        log.error("SMS %s not answered in %s s: busy", sms.message_sid, answer_within)
        call.add_done_callback(functools.partial(_answer_late, turns, sms))
        return [BUSY_IN_EVERY_LANGUAGE]
    except Exception as error:
        log.error("SMS %s not answered: %s", sms.message_sid, describe_error(error))
        return [BUSY_IN_EVERY_LANGUAGE]
    return answer.messages


def _answer_late(
    turns: ServiceLane[SmsService], sms: IncomingSms, call: asyncio.Future[Answer]
) -> None:
    """The turn of ``sms`` came back after the webhook had answered "busy": if it ran, its
    answer goes out through the outbox."""
    if call.cancelled() or call.exception() is not None or not call.result().ran:
        return
    task = asyncio.ensure_future(_send_late(turns, sms, call.result().messages))
    _late.add(task)
    task.add_done_callback(_late.discard)


async def _send_late(turns: ServiceLane[SmsService], sms: IncomingSms, messages: list[str]) -> None:
    try:
        await turns.run(SmsService.send_late, sms, messages)
    except Exception as error:
        log.error("the late answer to SMS %s was lost: %s", sms.message_sid, describe_error(error))


def _incoming(form: Form) -> IncomingSms:
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not _SID.match(sid):
        raise HTTPException(400, "MessageSid is missing or malformed")
    phone = _phone_or_none(form.get("From", ""))
    if phone is None:
        raise HTTPException(400, "From is not a mobile number")
    if log.isEnabledFor(logging.INFO):  # masking costs, even with the log off
        log.info("SMS %s from %s", sid, mask_phone(phone))
    return IncomingSms(
        message_sid=sid,
        phone=phone,
        text=form.get("Body", ""),
        opt_out_type=form.get("OptOutType") or None,
    )


@functools.lru_cache(maxsize=4096)  # the same numbers text again and again
def _phone_or_none(value: str) -> str | None:
    try:
        return normalise_phone(value) if value.startswith("+") else None
    except InvalidPhone:
        return None


def twiml(messages: list[str]) -> str:
    """The TwiML twilio's ``MessagingResponse`` renders with one ``<Message>`` per text, to the
    character (ElementTree escapes ``&``, ``<`` and ``>`` in text, as ``escape`` does), without
    building the element tree; less the characters XML cannot carry at all (control characters
    but tab and line ends), which would make the whole answer invalid."""
    if not messages:
        return _XML_DECLARATION + "<Response />"
    texts = [_LONE_SURROGATE.sub("\ufffd", _NOT_IN_XML.sub("", text)) for text in messages]
    parts = [f"<Message>{escape(text)}</Message>" if text else "<Message />" for text in texts]
    return f"{_XML_DECLARATION}<Response>{''.join(parts)}</Response>"
