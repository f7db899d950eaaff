"""Twilio's webhooks: ``POST /sms/twilio`` (an inbound SMS, answered with TwiML) and
``POST /sms/twilio/status`` (delivery status of a message we sent).

Every request is checked with the twilio library's ``RequestValidator`` against the configured
public URL (``PLATEBOT_PUBLIC_URL`` + path: proxies change the URL Twilio signed) and the posted
form. A missing or wrong ``X-Twilio-Signature`` is refused with 403 before anything is stored; a
signed request without the fields it needs with 400.

The dialog turn runs in one of the app's turn threads (``App.turns``: one thread for SQLite, which
takes one writer at a time), never on the event loop. What the event loop does per request is
kept small: it is most of what an SMS costs beside the turn itself (bench/README.md, "SMS
webhook").
"""

from __future__ import annotations

import functools
import logging
import re
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
from core.masking import mask_phone
from core.phone import normalise_phone
from platebot.bootstrap import App
from sms.channel import INBOUND_PATH, STATUS_PATH, IncomingSms, SmsChannel

log = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_MAX_BODY = 64 * 1024
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


# A posted form: each field's last value, and with ``getall`` every value (which the twilio
# library's signature covers).
Form = ImmutableMultiDict[str, str]


def channel_of(app: App) -> SmsChannel:
    settings = app.settings
    return SmsChannel(
        app.dialogs,
        app.db,
        app.clock,
        budget=settings.sms_segment_budget,
        default_language=settings.default_language,
        idle_minutes=settings.idle_minutes,
    )


def mount(api: FastAPI, app: App) -> None:
    """Add the Twilio webhooks to ``api``."""
    channel = channel_of(app)
    token = app.settings.twilio_auth_token
    public_url = str(app.settings.public_url).rstrip("/")
    validator = RequestValidator(token.get_secret_value()) if token is not None else None
    turns = app.turns
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
            form = ImmutableMultiDict(
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

    @api.post(INBOUND_PATH, tags=["sms"], response_class=Response)
    async def inbound_sms(request: Request) -> Response:
        """An inbound SMS: one dialog turn; the answer goes back as TwiML ``<Message>``s."""
        sms = _incoming(await signed_form(request))
        messages = await turns.run(channel.receive, sms)
        return Response(content=twiml(messages), media_type="application/xml")

    @api.post(STATUS_PATH, tags=["sms"], status_code=204, response_class=Response)
    async def sms_status(request: Request) -> Response:
        """Twilio's status callback for a message we sent."""
        form = await signed_form(request)
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "").strip().lower()
        if not _SID.match(sid) or not status or len(status) > 20:
            raise HTTPException(400, "MessageSid and MessageStatus are required")
        raw_code = form.get("ErrorCode") or ""
        if raw_code and not raw_code.isdigit():
            raise HTTPException(400, "ErrorCode is not a number")
        error_code = int(raw_code) if raw_code else None
        phone = _phone_or_none(form.get("To", ""))
        await turns.run(channel.record_status, sid, status, error_code, phone)
        return Response(status_code=204)


def _incoming(form: Form) -> IncomingSms:
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not _SID.match(sid):
        raise HTTPException(400, "MessageSid is missing or malformed")
    phone = _phone_or_none(form.get("From", ""))
    if phone is None:
        raise HTTPException(400, "From is not a mobile number")
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
