"""Twilio's webhooks: ``POST /sms/twilio`` (an inbound SMS, answered with TwiML) and
``POST /sms/twilio/status`` (delivery status of a message we sent).

Every request's signature is checked with the twilio library's ``RequestValidator`` (accepting
exactly what its ``validate`` accepts, see ``signed_by_twilio``) against the configured public URL
(``PLATEBOT_PUBLIC_URL`` + path: proxies change the URL Twilio signed) and the posted form. A
missing or wrong ``X-Twilio-Signature`` is refused with 403 before anything is stored; a signed
request without the fields it needs with 400.

The dialog turn never runs on the event loop: on SQLite under ``platebot serve`` it runs in a
process of its own (``PLATEBOT_TURN_PROCESS``, ``platebot/turn_process.py``), otherwise in one of
the app's turn threads (``App.turns``). What the event loop does per request is kept small: it is
most of what an SMS costs beside the turn itself (bench/README.md, "SMS webhook").
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlparse
from xml.sax.saxutils import escape

from fastapi import FastAPI, HTTPException, Request
from starlette.datastructures import ImmutableMultiDict
from starlette.responses import Response
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    add_port,
    get_signature_algorithm,
    remove_port,
)

from core.accounts import Language
from core.errors import InvalidPhone
from core.masking import mask_phone
from core.phone import normalise_phone
from dialogs.catalog import render_text
from dialogs.replies import Text
from platebot.turn_process import ServiceLane, TurnProcessFailed
from sms.channel import INBOUND_PATH, STATUS_PATH, IncomingSms, SmsChannel
from web.workers import JobThread

log = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_MAX_BODY = 64 * 1024
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
# When no turn could be run (the sender's language is in the database, out of reach): both.
_BUSY = "\n".join(render_text(Text("sms.busy"), language) for language in Language)


class Form(ImmutableMultiDict[str, str]):
    """A posted form: each field's last value, and with ``getlist`` every value (which the twilio
    library's signature covers). ``getall`` is the name twilio's validator asks for first; without
    it, the validator pays an ``AttributeError`` for every field of every request."""

    def getall(self, key: str) -> list[str]:
        return self._values.get(key, [])

    @functools.cached_property
    def _values(self) -> dict[str, list[str]]:
        """Every value of each field, gathered once (``getlist`` walks the whole form per field:
        the signature asks for every field)."""
        values: dict[str, list[str]] = {}
        for key, value in self.multi_items():
            values.setdefault(key, []).append(value)
        return values


@functools.lru_cache(maxsize=64)
def _signed_urls(url: str) -> tuple[str, str]:
    """The URL as Twilio may have signed it: as configured first (what Twilio calls), then with
    the default port added or taken out, as twilio's own ``add_port`` and ``remove_port`` give
    it (``RequestValidator.validate`` accepts either)."""
    parsed = urlparse(url)
    other = remove_port(parsed) if parsed.port else add_port(parsed)
    return url, other


def signed_by_twilio(
    validator: RequestValidator, url: str, form: Form, signature: str, algorithm: str
) -> bool:
    """What ``RequestValidator.validate`` answers for a form post, with the library's own
    ``compute_signature``, but stopping at the first URL whose signature matches: ``validate``
    computes both every time, and the signature is most of what an SMS costs the event loop
    beside the HTTP itself."""
    given = signature.encode()
    try:
        computed = (validator.compute_signature(u, form, algorithm) for u in _signed_urls(url))
        return any(hmac.compare_digest(c.encode(), given) for c in computed)
    except ValueError:  # an algorithm this version of the twilio library does not know
        log.warning("Twilio webhook signed with %r, which is not supported", algorithm[:40])
        return False


@dataclass
class SmsService:
    """What the SMS webhook's lane runs its calls on: the SMS channel and, in a turn process,
    the server's background jobs (outbox dispatcher, timers, housekeeping), which run there
    beside the turns: that process does the database work, this one the HTTP."""

    channel: SmsChannel
    jobs: JobThread | None = None

    def receive(self, sms: IncomingSms) -> list[str]:
        return self.channel.receive(sms)

    def record_status(
        self, message_sid: str, status: str, error_code: int | None, phone: str | None
    ) -> None:
        self.channel.record_status(message_sid, status, error_code, phone)

    def close(self) -> None:
        """The turn process ends: the job running finishes (a message being sent is settled)."""
        if self.jobs is not None:
            self.jobs.stop()


def mount(
    api: FastAPI, turns: ServiceLane[SmsService], *, auth_token: str | None, public_url: str
) -> None:
    """Add the Twilio webhooks to ``api``: their turns run in ``turns`` (started and stopped by
    the server); signatures are checked with ``auth_token`` for URLs under ``public_url``."""
    public_url = public_url.rstrip("/")
    validator = RequestValidator(auth_token) if auth_token is not None else None
    api.state.sms_turns = turns
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
        if not signed_by_twilio(validator, url, form, signature, algorithm):
            log.warning("Twilio webhook with a wrong signature refused (%s)", path)
            raise HTTPException(403, "wrong Twilio signature")
        return form

    async def inbound_sms(request: Request) -> Response:
        """An inbound SMS: one dialog turn; the answer goes back as TwiML ``<Message>``s."""
        messages = await _answer(turns, _incoming(await signed_form(request)))
        return Response(content=twiml(messages), media_type="application/xml")

    async def sms_status(request: Request) -> Response:
        """Twilio's status callback for a message we sent."""
        form = await signed_form(request)
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "").strip().lower()
        if not _SID.match(sid) or not status or len(status) > 20:
            raise HTTPException(400, "MessageSid and MessageStatus are required")
        raw_code = form.get("ErrorCode") or ""
        # isdigit() holds for ²/፩, which int() refuses; Twilio's codes have 5 digits
        if raw_code and not (raw_code.isascii() and raw_code.isdigit() and len(raw_code) <= 9):
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


async def _answer(turns: ServiceLane[SmsService], sms: IncomingSms) -> list[str]:
    """The SMS that answer ``sms``. If no turn could be run (the turn process died under it
    twice, or cannot start), the user is asked to send it again: Twilio does not post again."""
    try:
        return await turns.run(SmsService.receive, sms)
    except TurnProcessFailed as error:
        log.error("SMS %s not answered: %s", sms.message_sid, error)
        return [_BUSY]


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
    texts = [_NOT_IN_XML.sub("", text) for text in messages]
    parts = [f"<Message>{escape(text)}</Message>" if text else "<Message />" for text in texts]
    return f"{_XML_DECLARATION}<Response>{''.join(parts)}</Response>"
