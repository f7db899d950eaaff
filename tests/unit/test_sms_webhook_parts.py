"""The pieces of the SMS webhook that run on the event loop: the TwiML answer is what twilio's
``MessagingResponse`` renders, to the character (less what XML or no encoding can carry); the
form gives twilio's ``RequestValidator`` every value of a field to sign."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from sms.webhook import Form, twiml

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
    """And it is always valid XML: what XML cannot carry at all is left out."""
    carried = [re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", m) for m in messages]
    assert twiml(messages) == twilio_twiml(carried)
    ET.fromstring(twiml(messages))  # noqa: S314 - our own output


def test_control_characters_are_left_out_rather_than_breaking_the_answer() -> None:
    answer = twiml(["a\x00b\x1bc\td"])
    assert [m.text for m in ET.fromstring(answer).iter("Message")] == ["abc\td"]  # noqa: S314


def test_a_lone_surrogate_is_shown_as_a_replacement_character_in_valid_utf8() -> None:
    """No encoding can write one (a reply kept from a console, or from before the webhooks cleaned
    what users type): the answer must still go out, with U+FFFD in its place."""
    answer = twiml(["深圳\ud800市", "x\udc80"])
    texts = [m.text for m in ET.fromstring(answer.encode()).iter("Message")]  # noqa: S314
    assert texts == ["深圳\ufffd市", "x\ufffd"]


def form_of(fields: list[tuple[str, str]]) -> Form:
    return Form(parse_qsl(urlencode(fields), keep_blank_values=True))


FIELDS = [
    ("MessageSid", "SM" + "a" * 32),
    ("From", "+8613800138000"),
    ("Body", "深圳 & <x>"),
    ("Body", "a second Body"),  # repeated fields are all signed
    ("Empty", ""),
]


def test_form_gives_the_last_value_and_signs_them_all() -> None:
    form = form_of(FIELDS)
    assert form["Body"] == "a second Body"
    assert form.getlist("Body") == ["深圳 & <x>", "a second Body"]
    assert form.get("Missing", "") == ""
    validator, url = RequestValidator(TOKEN), "https://platebot.example.org/sms/twilio"
    signature = validator.compute_signature(url, form)
    assert validator.validate(url, form, signature)
    assert not validator.validate(url, form_of(FIELDS[:3]), signature)  # every Body is signed
