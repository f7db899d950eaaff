"""A user who registered on Telegram gets the account's urgent notices in that chat (the chat
became one of the account's contact points), and one-time codes still by SMS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.sender import TelegramSender, bot_for
from core.clock import ManualClock
from core.notices import NoticeKind, notify
from core.outbox import Channel
from core.ports import Sender
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from store.telegram_tables import TelegramChats
from tests.standins.telegram_api import (
    TOKEN,
    BotApiStandIn,
    TelegramUser,
    running_bot_api,
    settings_for,
    webhook_poster,
)
from tests.support import CapturingSender

PHONE = "+8613800138000"
PERSON_ID = "440304199001011233"
CHAT = 4242


@pytest.fixture
def bot_api(clock: ManualClock) -> Iterator[BotApiStandIn]:
    with running_bot_api(now=clock.now) as api:
        yield api


@pytest.fixture
def server(
    db: Engine, clock: ManualClock, sms: CapturingSender, bot_api: BotApiStandIn
) -> Iterator[App]:
    telegram = TelegramSender(bot_for(TOKEN, bot_api.url), chats=TelegramChats(db), clock=clock)
    senders: dict[Channel, Sender] = {Channel.SMS: sms, Channel.TELEGRAM: telegram}
    settings = settings_for(bot_api, str(db.url))
    yield build_app(settings, clock=clock, senders=senders, db=db, upgrade=False)
    telegram.close()


@pytest.fixture
def user(bot_api: BotApiStandIn, server: App) -> Iterator[TelegramUser]:
    with TestClient(create_web_app(server, run_workers=False)) as client:
        yield TelegramUser(bot_api, webhook_poster(client), user_id=CHAT)


def register_on_telegram(server: App, sms: CapturingSender, user: TelegramUser) -> None:
    user.say("/start")
    user.press("register")
    user.share_contact(PHONE)
    user.press("person")
    user.say("张三")
    user.say(PERSON_ID)
    user.press("skip")  # no permit: the ID names the certificate location, nothing is asked
    user.say("深圳市福田区深南大道1号")
    user.press("category:new_car_owner")
    user.press("confirm")
    server.dispatcher.run_once()
    user.say(sms.last_code(PHONE))
    assert "注册成功" in user.text


def test_a_chat_that_registered_gets_the_accounts_urgent_notices_and_codes_go_by_sms(
    server: App, sms: CapturingSender, clock: ManualClock, user: TelegramUser
) -> None:
    register_on_telegram(server, sms, user)
    with server.uow() as uow:
        account = uow.accounts.id_by_phone(PHONE)
        assert account is not None
        for kind, text in (
            (NoticeKind.URGENT, "您的出价已被超过"),
            (NoticeKind.CODE, "验证码 654321"),
        ):
            notify(
                uow,
                account_id=account,
                kind=kind,
                key="raw",
                params={"text": text},
                dedupe_key=f"test:{kind.name}",
                now=server.clock.now(),
            )
        uow.commit()
    codes_before = len(sms.sent)
    server.dispatcher.run_once()
    clock.advance(timedelta(seconds=1))  # the chat's pace: a second after the last reply
    server.dispatcher.run_once()
    assert user.text == "您的出价已被超过"
    assert sms.sent[codes_before:] == [(PHONE, "验证码 654321")]
