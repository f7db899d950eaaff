"""A message is a duplicate only when the same sender sends the same id again: a MessageSid that
comes from another phone, or a Telegram update id from another chat, runs its own turn and gets
its own answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from sms.records import SmsRecords
from store.tables import conversations
from tests.sms_support import Phone, new_sid, twilio_settings
from tests.standins.telegram_api import (
    BotApiStandIn,
    TelegramUser,
    running_bot_api,
    settings_for,
    webhook_poster,
)
from tests.standins.twilio_api import TwilioStandIn
from tests.support import CapturingSender

FIRST, SECOND = "+8613800138000", "+8613900139000"


@pytest.fixture
def sms_app(db: Engine, clock: ManualClock, standin: TwilioStandIn) -> App:
    return build_app(twilio_settings(db, standin), clock=clock, db=db, upgrade=False)


@pytest.fixture
def client(sms_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(sms_app, run_workers=False)) as running:
        yield running


def test_a_message_sid_reused_by_another_phone_runs_its_own_turn(
    sms_app: App, client: TestClient
) -> None:
    first, second = Phone(client, FIRST), Phone(client, SECOND)
    first.send("hi")
    sid = new_sid()
    assert "Main menu" in first.send("EN", sid=sid)[0]
    assert "主菜单" in second.send("hi", sid=sid)[0]  # its own turn, in its own language
    assert "Main menu" in first.send("EN", sid=sid)[0]  # the first phone's, delivered again
    with sms_app.db.connect() as conn:
        users = conn.execute(sa.select(conversations.c.user_key)).scalars().all()
    assert sorted(users) == [FIRST, SECOND]


def test_a_message_sid_reused_by_another_phone_for_a_channel_word_is_its_own(
    sms_app: App, client: TestClient
) -> None:
    first, second = Phone(client, FIRST), Phone(client, SECOND)
    sid = new_sid()
    first.send("HELP", sid=sid)
    assert second.send("STOP", sid=sid) == [
        "已退订，我们不再给您发短信（含验证码）。回复START恢复。"
    ]
    with SmsRecords.begin(sms_app.db) as records:
        assert records.is_opted_out(SECOND)
        assert not records.is_opted_out(FIRST)


def test_an_update_id_from_another_chat_runs_its_own_turn(
    db: Engine, clock: ManualClock, sms: CapturingSender
) -> None:
    with running_bot_api(now=clock.now) as bot_api:
        settings = settings_for(bot_api, str(db.url))
        app = build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)
        with TestClient(create_web_app(app, run_workers=False)) as client:
            first = TelegramUser(bot_api, webhook_poster(client), user_id=4242)
            second = TelegramUser(bot_api, webhook_poster(client), user_id=4343)
            assert first.send({"update_id": 77, "message": first._message(text="/start")}) == 200
            assert second.send({"update_id": 77, "message": second._message(text="/start")}) == 200
            assert "主菜单" in _shown(bot_api, second)
            assert len(bot_api.shown(first.chat_id)) == 1


def _shown(bot_api: BotApiStandIn, user: TelegramUser) -> str:
    shown = bot_api.shown(user.chat_id)
    assert shown, "the second chat got no answer"
    return shown[-1].text
