"""Helpers for SMS tests: Twilio settings pointing at the local stand-in, and a phone that talks
to the HTTP app the way Twilio does (form posts signed by the twilio library, TwiML back)."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from platebot.settings import Settings
from sms.channel import INBOUND_PATH, STATUS_PATH
from tests.standins.twilio_api import TwilioStandIn

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "twilio-auth-token-for-tests"
OUR_NUMBER = "+15005550006"
PUBLIC_URL = "https://platebot.example.org"


def twilio_settings(db: Engine, standin: TwilioStandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url.render_as_string(hide_password=False),
        "secret_key": "test-secret",
        "public_url": PUBLIC_URL,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from": OUR_NUMBER,
        "twilio_api_base": standin.url,
        "sms_segments_per_second": 1000,
    }
    return Settings(**(values | overrides))


def new_sid() -> str:
    return "SM" + secrets.token_hex(16)


def sign(
    path: str, form: dict[str, str], token: str = AUTH_TOKEN, public_url: str = PUBLIC_URL
) -> str:
    """The X-Twilio-Signature Twilio sends for ``form`` posted to our public URL + ``path``."""
    return str(RequestValidator(token).compute_signature(public_url + path, form))


def inbound_form(phone: str, text: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    """An inbound SMS as Twilio posts it."""
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid or new_sid(),
        "NumMedia": "0",
        "SmsSid": sid or "",
        "SmsStatus": "received",
        "Body": text,
        "To": OUR_NUMBER,
        "NumSegments": "1",
        "MessageSid": sid or "",
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def messages_of(twiml: str) -> list[str]:
    """The texts of the ``<Message>`` elements of a TwiML response."""
    root = ET.fromstring(twiml)  # noqa: S314 - our own server's answer
    assert root.tag == "Response", twiml
    return [message.text or "" for message in root.iter("Message")]


class Phone:
    """A mobile phone texting platebot's number through Twilio: each ``send`` is a signed
    webhook post with a fresh MessageSid; returns the SMS that come back in the TwiML."""

    def __init__(self, client: TestClient, number: str) -> None:
        self.client = client
        self.number = number
        self.last_sid = ""
        self.text = ""

    def send(self, text: str, *, sid: str | None = None, **extra: str) -> list[str]:
        self.last_sid = sid or new_sid()
        form = inbound_form(self.number, text, self.last_sid, **extra)
        response = self.client.post(
            INBOUND_PATH, data=form, headers={"X-Twilio-Signature": sign(INBOUND_PATH, form)}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        messages = messages_of(response.text)
        self.text = "\n".join(messages)
        return messages


def status_form(sid: str, status: str, to: str, error_code: str = "") -> dict[str, str]:
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": to,
        "From": OUR_NUMBER,
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        form["ErrorCode"] = error_code
    return form


__all__ = ["STATUS_PATH", "Phone", "sign", "status_form", "twilio_settings"]
