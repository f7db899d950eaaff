"""Telegram reads like Telegram (issue 11): a newcomer's whole journey, registration and
pre-selection, through the real python-telegram-bot ``Application`` against the stand-in Bot
API, in the language of the user's app; no text tells them to "reply" as to an SMS, and what
they confirmed stays in the chat."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.outbox import Channel
from core.plates import PlateKind
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from tests.preselect_world import OTHER_ID, add_numbers, add_office, add_vehicles, cert, vin
from tests.standins.telegram_api import (
    BotApiStandIn,
    TelegramUser,
    running_bot_api,
    settings_for,
    webhook_poster,
)
from tests.support import CapturingSender

PHONE = "+8613800138000"
# What only an SMS says: one replies to it. On Telegram buttons are pressed and text is typed.
DUMP = False
SMS_WORDING = re.compile(r"回复|\breply\b", re.IGNORECASE)
SAY = {
    "zh": {
        "menu": "主菜单",
        "summary": "请核对",
        "notice": "请如实填写车辆信息",
        "result": "预选成功：粤D·",
    },
    "en": {
        "menu": "Main menu",
        "summary": "Please check",
        "notice": "Give true vehicle information.",
        "result": "Pre-selected: Yue D ",
    },
}


@pytest.fixture
def bot_api(clock: ManualClock) -> Iterator[BotApiStandIn]:
    with running_bot_api(now=clock.now) as api:
        yield api


@pytest.fixture
def server(db: Engine, clock: ManualClock, sms: CapturingSender, bot_api: BotApiStandIn) -> App:
    settings = settings_for(bot_api, str(db.url))
    app = build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)
    add_office(app, notice_en="Give true vehicle information.")
    add_numbers(app, [f"{10000 + i}" for i in range(30)])
    add_vehicles(app, [(vin(1), cert(1), OTHER_ID, PlateKind.SMALL)])
    return app


@pytest.fixture
def client(server: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(server, run_workers=False)) as client:
        yield client


def everything_shown(bot_api: BotApiStandIn) -> list[str]:
    """Every text the bot showed: messages, their edits, buttons and toasts."""
    shown: list[str] = []
    for call in bot_api.calls:
        params: dict[str, Any] = call.params
        if call.method in {"sendMessage", "editMessageText", "answerCallbackQuery"}:
            shown.append(str(params.get("text") or ""))
        markup = params.get("reply_markup") or {}
        for row in [*markup.get("inline_keyboard", []), *markup.get("keyboard", [])]:
            shown += [str(button["text"]) for button in row]
    return [text for text in shown if text]


def journey(server: App, sms: CapturingSender, clock: ManualClock, user: TelegramUser) -> None:
    """A newcomer picks pre-selection, registers on the way, and pre-selects a plate."""
    user.say("/start")
    user.press("preselect")
    user.share_contact("8613800138000")
    user.press("person")
    user.say("张三")
    user.say(OTHER_ID)
    user.press("skip")
    user.say("汕头市龙湖区长平路1号")
    user.press("category:new_car_owner")
    user.press("confirm")
    server.dispatcher.run_once()
    user.say(sms.last_code(PHONE))
    user.press("start")
    user.press("next")
    user.press("agree")
    user.say(vin(1))
    user.say(cert(1))
    clock.advance(timedelta(minutes=2))
    user.press("verify")
    server.dispatcher.run_once()
    if any(d.endswith("|resend") for _, d in user.last_with_buttons().buttons):
        user.say(sms.last_code(PHONE))
    user.press("draw")
    take = next(d for _, d in user.last_with_buttons().buttons if "|take:" in d)
    user.press(take.split("|", 1)[1])


@pytest.mark.parametrize("language_code", ["zh-hans", "en"])
def test_a_newcomers_journey_on_telegram_has_no_sms_wording_and_keeps_what_was_confirmed(
    *,
    server: App,
    client: TestClient,
    sms: CapturingSender,
    clock: ManualClock,
    bot_api: BotApiStandIn,
    language_code: str,
) -> None:
    lang = language_code[:2]
    say = SAY[lang]
    user = TelegramUser(bot_api, webhook_poster(client), user_id=4242, language_code=language_code)
    journey(server, sms, clock, user)
    assert say["result"] in user.text

    shown = everything_shown(bot_api)
    if DUMP:
        print("\n---\n".join(m.text for m in user.messages))
    assert say["menu"] in shown[0]  # the language of the user's app, before any choice
    smsy = [text for text in shown if SMS_WORDING.search(text)]
    assert smsy == []
    # what the user confirmed and agreed to is still there to read, above what came after
    texts = [message.text for message in user.messages]
    assert any(say["summary"] in text for text in texts)
    assert any(say["notice"] in text for text in texts)


def test_a_new_user_without_a_chinese_app_is_spoken_to_in_english_until_they_choose(
    client: TestClient, bot_api: BotApiStandIn
) -> None:
    user = TelegramUser(bot_api, webhook_poster(client), user_id=77, language_code="de")
    user.say("/start")
    assert "Main menu" in user.text
    user.press("lang")
    assert "主菜单" in user.text
    user.say("/start")
    assert "主菜单" in user.text  # chosen: the app's language no longer decides


def test_pressing_a_kept_screens_button_leaves_it_and_answers_below(
    server: App, client: TestClient, bot_api: BotApiStandIn
) -> None:
    user = TelegramUser(bot_api, webhook_poster(client), user_id=78)
    user.say("/start")
    user.press("register")
    user.share_contact("8613800138000")
    kinds = user.screen
    user.press("person")
    assert user.screen.message_id == kinds.message_id  # a menu changes in place
    user.say("张三")
    user.say(OTHER_ID)
    user.press("skip")
    user.say("汕头市龙湖区长平路1号")
    user.press("category:new_car_owner")
    summary = user.screen
    assert "请核对" in summary.text
    user.press("confirm")
    assert user.screen.message_id != summary.message_id
    assert "请核对" in next(m for m in user.messages if m.message_id == summary.message_id).text
