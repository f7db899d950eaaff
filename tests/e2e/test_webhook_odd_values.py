"""Signed webhook requests with odd values never get a 500: every field the SMS and Telegram
webhooks parse, given odd digits (❶ ፩ ²), huge integers, lone surrogates and the like, is either
answered (TwiML, 204, 200) or refused as a bad request (400). Text with a lone surrogate typed
at a step is shown back with U+FFFD, and its reply can be sent again when the update comes
again."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from sms.channel import INBOUND_PATH, STATUS_PATH
from store.sms_tables import sms_deliveries
from tests.sms_support import inbound_form, new_sid, sign, status_form, twilio_settings
from tests.standins.telegram_api import (
    SECRET,
    BotApiStandIn,
    TelegramUser,
    running_bot_api,
    settings_for,
    webhook_poster,
)
from tests.standins.twilio_api import TwilioStandIn
from tests.support import CapturingSender

PHONE = "+8613800138000"
ODD_TEXTS = [
    "❶",
    "፩",
    "²",
    "1❶",
    "\ud800",
    "x\udc80y",
    str(2**63),
    "9" * 40,
    "-1",
    "",
    " ",
    "\x00",
    "\u202e1",
    "+86138001380❶0",
    "+8613800138000\ud800",
    "SM" + "❶" * 32,
]
ODD_INTEGERS = [2**63, -(2**63) - 1, 10**40, 2**62, -1, 0]


def form_post(client: TestClient, path: str, form: dict[str, str]) -> int:
    """Post ``form`` as a client that writes lone surrogates as their UTF-8-like bytes (what a
    hostile sender can put on the wire), signed for what the server reads from those bytes."""
    body = urlencode(form, encoding="utf-8", errors="surrogatepass")
    as_read = dict(parse_qsl(body, keep_blank_values=True))
    response = client.post(
        path,
        content=body.encode(),
        headers={
            "X-Twilio-Signature": sign(path, as_read),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    if response.status_code == 200:
        ET.fromstring(response.text)  # noqa: S314 - TwiML that parses
    return response.status_code


@pytest.fixture
def sms_client(db: Engine, clock: ManualClock, standin: TwilioStandIn) -> Iterator[TestClient]:
    app = build_app(twilio_settings(db, standin), clock=clock, db=db, upgrade=False)
    with TestClient(create_web_app(app, run_workers=False), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("code", ["²", "፩", "❶", "9" * 40, "1.5", "-1"])
def test_a_status_callback_with_an_odd_error_code_is_refused_with_400(
    sms_client: TestClient, code: str
) -> None:
    assert form_post(sms_client, STATUS_PATH, status_form(new_sid(), "failed", PHONE, code)) == 400


def test_a_status_callback_with_a_real_error_code_is_kept(
    db: Engine, sms_client: TestClient
) -> None:
    sid = new_sid()
    assert form_post(sms_client, STATUS_PATH, status_form(sid, "failed", PHONE, "30003")) == 204
    with db.connect() as conn:
        code = conn.execute(
            sa.select(sms_deliveries.c.error_code).where(sms_deliveries.c.message_sid == sid)
        ).scalar_one()
    assert code == 30003


def test_odd_values_in_any_parsed_field_of_an_sms_never_give_500(sms_client: TestClient) -> None:
    inbound_fields = ["MessageSid", "SmsSid", "From", "Body", "OptOutType"]
    status_fields = ["MessageSid", "MessageStatus", "ErrorCode", "To"]

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        inbound=st.booleans(),
        changes=st.lists(
            st.tuples(
                st.sampled_from(inbound_fields + status_fields),
                st.sampled_from(ODD_TEXTS) | st.text(max_size=30),
            ),
            min_size=1,
            max_size=3,
        ),
    )
    def check(inbound: bool, changes: list[tuple[str, str]]) -> None:
        sid = new_sid()
        if inbound:
            form, path = inbound_form(PHONE, "hi", sid), INBOUND_PATH
            fields = inbound_fields
        else:
            form, path = status_form(sid, "delivered", PHONE, "30003"), STATUS_PATH
            fields = status_fields
        form.update((name, value) for name, value in changes if name in fields)
        assert form_post(sms_client, path, form) in {200, 204, 400}

    check()


# -- Telegram ---------------------------------------------------------------------------------


@pytest.fixture
def bot_api(clock: ManualClock) -> Iterator[BotApiStandIn]:
    with running_bot_api(now=clock.now) as api:
        yield api


@pytest.fixture
def telegram(
    db: Engine, clock: ManualClock, sms: CapturingSender, bot_api: BotApiStandIn
) -> Iterator[tuple[TestClient, TelegramUser]]:
    settings = settings_for(bot_api, str(db.url))
    app: App = build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)
    with TestClient(create_web_app(app, run_workers=False), raise_server_exceptions=False) as c:
        yield c, TelegramUser(bot_api, webhook_poster(c), user_id=4242)


def post_raw(client: TestClient, update: dict[str, Any]) -> int:
    """An update as JSON text, lone surrogates written as ``\\ud800`` escapes (valid JSON)."""
    response = client.post(
        "/telegram/webhook",
        content=json.dumps(update).encode(),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    return response.status_code


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("update_id",), 2**63),
        (("update_id",), True),
        (("message", "chat", "id"), 10**40),
        (("message", "from", "id"), 2**64),
        (("message", "date"), 2**62),
        (("message", "chat"), None),
    ],
)
def test_an_update_with_an_impossible_value_is_refused_with_400(
    telegram: tuple[TestClient, TelegramUser], path: tuple[str, ...], value: object
) -> None:
    client, user = telegram
    update = {"update_id": 1, "message": user._message(text="/start")}
    _set(update, path, value)
    assert post_raw(client, update) == 400


def test_a_lone_surrogate_typed_at_a_step_is_shown_as_a_replacement_character(
    telegram: tuple[TestClient, TelegramUser], bot_api: BotApiStandIn
) -> None:
    client, user = telegram
    user.say("/start")
    user.press("register")
    user.share_contact(PHONE)
    # with a permit the certificate location is asked: the surrogate is typed there
    for text in ("1", "张三", "440304199001011233", "A12345678"):
        user.say(text)
    assert "证件所在地" in user.text
    update = {"update_id": 900, "message": user._message(text="深圳\ud800")}
    assert post_raw(client, update) == 200
    assert "找不到“深圳\ufffd”" in user.text
    assert post_raw(client, update) == 200  # delivered again: answered once, no error


def test_odd_values_in_any_parsed_field_of_an_update_never_give_500(
    telegram: tuple[TestClient, TelegramUser],
) -> None:
    client, user = telegram
    user.say("/start")
    paths = [
        ("update_id",),
        ("message", "text"),
        ("message", "message_id"),
        ("message", "date"),
        ("message", "chat", "id"),
        ("message", "from", "id"),
        ("message", "contact", "phone_number"),
        ("message", "contact", "user_id"),
        ("callback_query", "data"),
        ("callback_query", "id"),
        ("callback_query", "message", "message_id"),
    ]
    values: list[object] = [*ODD_TEXTS, *ODD_INTEGERS, None, True, [], {}]
    update_ids = iter(range(10_000, 100_000))

    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(changes=st.lists(st.tuples(st.sampled_from(paths), st.sampled_from(values)), max_size=3))
    def check(changes: list[tuple[tuple[str, ...], object]]) -> None:
        message = user._message(text="1")
        message["contact"] = {"phone_number": PHONE, "first_name": "x", "user_id": user.chat_id}
        query = {
            "id": "cq1",
            "from": user.user,
            "chat_instance": "ci",
            "data": "0|register",
            "message": dict(message),
        }
        for kind, body in (("message", message), ("callback_query", query)):
            update: dict[str, Any] = {"update_id": next(update_ids), kind: body}
            for path, value in changes:
                if path[0] in (kind, "update_id"):
                    _set(update, path, value)
            assert post_raw(client, update) in {200, 400}, update

    check()


def _set(update: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    target = update
    for name in path[:-1]:
        target = target[name]
        if not isinstance(target, dict):
            return
    target[path[-1]] = value
