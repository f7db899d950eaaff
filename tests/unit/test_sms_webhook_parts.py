"""The pieces of the SMS webhook that run on the event loop: the TwiML answer is what twilio's
``MessagingResponse`` renders, to the character; the signature check accepts and refuses exactly
what twilio's ``RequestValidator.validate`` does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import HMAC_SHA256, RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from sms.webhook import Form, TwilioSignature, twiml

TOKEN = "twilio-auth-token-for-tests"
TRICKY = [
    "fish & chips",
    "<Message>not a tag</Message>",
    "a > b < c",
    "\"double\" and 'single' quotes",
    "您好！请回复数字选择：\n1 注册\n2 我的账户",
    "line one\r\nline two\ttabbed",
    "]]> &amp; already escaped &lt;",
    "emoji 🚗 and € [ ] { } ^ ~ | \\",
]


def twilio_twiml(messages: list[str]) -> str:
    response = MessagingResponse()
    for text in messages:
        response.message(text)
    return str(response)


@pytest.mark.parametrize("text", TRICKY)
def test_twiml_is_what_messaging_response_renders(text: str) -> None:
    assert twiml([text]) == twilio_twiml([text])
    assert [m.text for m in ET.fromstring(twiml([text])).iter("Message")] == [  # noqa: S314
        text.replace("\r\n", "\n")  # XML parsers normalise line ends
    ]


def test_twiml_of_several_messages_none_and_an_empty_one() -> None:
    for messages in ([], [""], TRICKY, ["", "x", ""]):
        assert twiml(messages) == twilio_twiml(messages)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=3))
def test_twiml_matches_messaging_response_for_any_text(messages: list[str]) -> None:
    assert twiml(messages) == twilio_twiml(messages)


def form_of(fields: list[tuple[str, str]]) -> Form:
    return Form(parse_qsl(urlencode(fields), keep_blank_values=True))


FIELDS = [
    ("MessageSid", "SM" + "a" * 32),
    ("From", "+8613800138000"),
    ("Body", "深圳 & <x>"),
    ("Body", "a second Body"),  # repeated fields are all signed
    ("Empty", ""),
]
BASES = [
    "https://platebot.example.org",
    "https://platebot.example.org:443",
    "http://127.0.0.1:8000",
    "http://platebot.example.org",
]


@pytest.mark.parametrize("public_url", BASES)
@pytest.mark.parametrize("signed_base", [*BASES, "https://platebot.example.org:8443"])
@pytest.mark.parametrize("query", ["", "a=1&b=%20x"])
@pytest.mark.parametrize("algorithm", ["HMAC_SHA1", HMAC_SHA256, "HMAC_MD5"])
def test_signature_check_agrees_with_request_validator(
    public_url: str, signed_base: str, query: str, algorithm: str
) -> None:
    validator = RequestValidator(TOKEN)
    form = form_of(FIELDS)
    url = signed_base + "/sms/twilio" + (f"?{query}" if query else "")
    signature = (
        validator.compute_signature(url, form, algorithm) if algorithm != "HMAC_MD5" else "x"
    )
    check = TwilioSignature(validator, public_url)
    expected = validator.validate(
        public_url + "/sms/twilio" + (f"?{query}" if query else ""), form, signature, algorithm
    )
    for _ in range(2):  # the URLs worked out once give the same answer the next time
        assert check.valid("/sms/twilio", query, form, signature, algorithm) == expected


def test_signature_of_another_token_body_or_path_is_refused() -> None:
    validator = RequestValidator(TOKEN)
    form = form_of(FIELDS)
    base = "https://platebot.example.org"
    check = TwilioSignature(validator, base)
    good = validator.compute_signature(base + "/sms/twilio", form)
    assert check.valid("/sms/twilio", "", form, good, "HMAC_SHA1")
    other_token = RequestValidator("someone-else").compute_signature(base + "/sms/twilio", form)
    assert not check.valid("/sms/twilio", "", form, other_token, "HMAC_SHA1")
    changed = form_of([*FIELDS[:-1], ("Empty", "x")])
    assert not check.valid("/sms/twilio", "", changed, good, "HMAC_SHA1")
    assert not check.valid("/sms/twilio/status", "", form, good, "HMAC_SHA1")
    assert not check.valid("/sms/twilio", "", form, good + "é", "HMAC_SHA1")


def test_form_gives_the_last_value_and_signs_them_all() -> None:
    form = form_of(FIELDS)
    assert form["Body"] == "a second Body"
    assert form.getall("Body") == ["深圳 & <x>", "a second Body"]
    assert form.get("Missing", "") == ""
