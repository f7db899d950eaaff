"""The Telegram bot as users meet it: the HTTP app with the real python-telegram-bot
``Application``, against a stand-in Bot API server on 127.0.0.1 that records what the bot sends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.outbox import Channel
from dialogs.replies import Inbound, Reply
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from store.tables import accounts, conversations, inbound_messages
from store.telegram_tables import telegram_chats, telegram_updates
from tests.standins.telegram_api import (
    SECRET,
    BotApiStandIn,
    TelegramUser,
    running_bot_api,
    settings_for,
    webhook_poster,
)
from tests.support import CapturingSender, Transcript

PHONE = "+8613800138000"
PERSON_ID = "440304199001011233"


@pytest.fixture
def bot_api(clock: ManualClock) -> Iterator[BotApiStandIn]:
    with running_bot_api(now=clock.now) as api:
        yield api


@pytest.fixture
def server(db: Engine, clock: ManualClock, sms: CapturingSender, bot_api: BotApiStandIn) -> App:
    settings = settings_for(bot_api, str(db.url))
    return build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)


@pytest.fixture
def client(server: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(server, run_workers=False)) as client:
        yield client


@pytest.fixture
def user(bot_api: BotApiStandIn, client: TestClient) -> TelegramUser:
    return TelegramUser(bot_api, webhook_poster(client), user_id=4242)


def count(db: Engine, table: sa.Table) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def conversation(db: Engine, chat_id: int) -> sa.RowMapping:
    with db.connect() as conn:
        return (
            conn.execute(
                sa.select(conversations).where(
                    conversations.c.channel == "telegram",
                    conversations.c.user_key == str(chat_id),
                )
            )
            .mappings()
            .one()
        )


def send_codes(app: App) -> None:
    """The outbox goes out (one-time codes by SMS)."""
    app.dispatcher.run_once()


def test_start_registers_the_webhook_with_its_secret_and_the_command_menu_in_both_languages(
    bot_api: BotApiStandIn, client: TestClient
) -> None:
    [webhook] = bot_api.calls_to("setWebhook")
    assert webhook.params["url"] == "https://platebot.example/telegram/webhook"
    assert webhook.params["secret_token"] == SECRET
    menus = {
        c.params.get("language_code"): c.params["commands"]
        for c in bot_api.calls_to("setMyCommands")
    }
    assert set(menus) == {None, "zh", "en"}
    assert [c["command"] for c in menus["en"]] == ["start", "menu", "cancel", "help", "lang"]
    assert menus["en"][0]["description"].startswith("Start")
    assert menus["zh"][1]["description"] == "主菜单"
    assert menus[None] == menus["zh"]  # Chinese is the default language


def test_user_starts_links_phone_by_contact_and_code_registers_and_changes_language(
    server: App, sms: CapturingSender, bot_api: BotApiStandIn, user: TelegramUser
) -> None:
    assert user.say("/start") == 200
    assert "欢迎使用号牌助手" in user.text and "主菜单" in user.text
    assert ("3 注册/登录", True) in [
        (label, data.endswith("|register")) for label, data in user.screen.buttons
    ]

    user.press("register")
    assert bot_api.calls_to("answerCallbackQuery")  # the button stops spinning
    assert "请输入手机号" in user.text
    assert user.screen.keyboard == [("📱 发送我的手机号", True)]

    user.share_contact("8613800138000")  # Telegram sends it without the '+'
    assert "注册类型" in user.text
    asked = user.screen
    user.press("person")
    assert user.screen.message_id == asked.message_id  # the menu changed in place
    assert "真实姓名" in user.text
    user.say("张三")
    user.say(PERSON_ID)
    user.press("skip")  # the ID names the region: not asked
    user.say("深圳市福田区深南大道1号")
    user.press("category:new_car_owner")
    assert "请核对" in user.text and "4403**********1233" in user.text
    user.press("confirm")
    send_codes(server)
    assert "6位验证码" in user.text and "+86138****8000" in user.text
    user.say(sms.last_code(PHONE))
    assert "注册成功，欢迎您，张三" in user.text

    with server.db.connect() as conn:
        account = conn.execute(sa.select(accounts)).mappings().one()
    assert account["phone"] == PHONE
    assert conversation(server.db, user.chat_id)["account_id"] == account["id"]

    user.say("/lang")
    assert "Language: English." in user.text and "Main menu" in user.text
    user.press("account")
    assert "My account" in user.text and "4403**********1233" in user.text


def test_contact_of_a_number_with_an_sms_account_links_to_that_same_account(
    server: App, sms: CapturingSender, clock: ManualClock, user: TelegramUser
) -> None:
    by_sms = Transcript(server, channel="sms", user_key=PHONE, sender_phone=PHONE)
    by_sms.say("菜单")
    by_sms.pick("register")
    by_sms.pick("person")
    for answer in ("张三", PERSON_ID):
        by_sms.say(answer)
    by_sms.pick("skip")
    by_sms.say("深圳市福田区深南大道1号")
    by_sms.pick("category:new_car_owner")
    by_sms.pick("confirm")
    by_sms.say(sms.last_code(PHONE))
    clock.advance(timedelta(minutes=2))  # the next code may be sent

    user.say("/start")
    user.press("register")
    user.share_contact("+8613800138000")
    send_codes(server)
    assert "已有账户" in user.text
    user.say(sms.last_code(PHONE))
    assert "已登录：张三" in user.text
    assert count(server.db, accounts) == 1
    with server.db.connect() as conn:
        linked = conn.execute(
            sa.select(conversations.c.channel, conversations.c.account_id).order_by(
                conversations.c.channel
            )
        ).all()
    assert [channel for channel, _ in linked] == ["sms", "telegram"]
    assert linked[0].account_id == linked[1].account_id is not None


def test_someone_elses_contact_is_refused_and_no_code_is_sent(
    server: App, sms: CapturingSender, user: TelegramUser
) -> None:
    user.say("/start")
    user.press("register")
    user.share_contact("+8613800138000", owner_id=777)
    send_codes(server)
    assert "这是他人的联系人" in user.text and "请输入手机号" in user.text
    assert user.screen.keyboard == [("📱 发送我的手机号", True)]
    assert sms.sent == []
    assert conversation(server.db, user.chat_id)["phone"] is None
    user.share_contact("+8613800138000")
    assert "注册类型" in user.text  # the user's own contact is taken


def test_webhook_without_the_secret_or_with_a_wrong_one_is_refused_and_stores_nothing(
    client: TestClient, server: App, bot_api: BotApiStandIn
) -> None:
    refused = [
        TelegramUser(bot_api, webhook_poster(client, secret=None), user_id=1),
        TelegramUser(bot_api, webhook_poster(client, secret="not-the-secret"), user_id=2),
        TelegramUser(bot_api, webhook_poster(client, secret=SECRET + "x"), user_id=3),
    ]
    for stranger in refused:
        assert stranger.say("/start") == 403
    for table in (inbound_messages, conversations, telegram_updates, telegram_chats):
        assert count(server.db, table) == 0
    assert bot_api.calls_to("sendMessage") == []


def test_a_body_that_is_not_an_update_is_refused_with_400(client: TestClient) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert client.post("/telegram/webhook", content=b"{", headers=headers).status_code == 400
    assert client.post("/telegram/webhook", json=[1], headers=headers).status_code == 400


def test_an_update_delivered_twice_is_answered_once_and_changes_nothing(
    server: App, bot_api: BotApiStandIn, user: TelegramUser
) -> None:
    user.say("/start")
    user.press("register")
    pressed = user.last_update
    before = conversation(server.db, user.chat_id)
    sent = len(bot_api.calls)
    assert user.post(pressed) == 200
    assert user.post(pressed) == 200
    assert len(bot_api.calls) == sent
    after = conversation(server.db, user.chat_id)
    assert (after["state"], after["version"]) == (before["state"], before["version"])
    assert count(server.db, telegram_updates) == 2


def test_a_button_on_an_old_message_answers_with_a_toast_and_adds_no_message(
    server: App, bot_api: BotApiStandIn, user: TelegramUser
) -> None:
    user.say("/start")
    old_menu = user.screen
    user.say("/menu")  # a new menu with the same buttons
    assert user.screen.message_id != old_menu.message_id
    shown = len(user.messages)
    user.press("register", message=old_menu)
    [toast] = bot_api.calls_to("answerCallbackQuery")
    assert "该菜单已过期" in toast.params["text"]
    assert len(user.messages) == shown  # no new message for a press on an old one
    assert conversation(server.db, user.chat_id)["flow"] == "menu"  # the old press did nothing
    user.press("register", message=old_menu)
    assert len(user.messages) == shown
    user.press("register")  # the current menu's buttons still work after the stale presses
    assert "请输入手机号" in user.text


def test_a_press_answered_too_late_still_gets_its_reply(
    bot_api: BotApiStandIn, user: TelegramUser
) -> None:
    user.say("/start")
    bot_api.refuse("answerCallbackQuery", "Bad Request: query is too old")
    assert user.press("register") == 200
    assert "请输入手机号" in user.text


def test_typed_numbers_and_words_work_where_buttons_do(user: TelegramUser) -> None:
    user.say("/start")
    user.say("3")
    assert "请输入手机号" in user.text
    user.say("13800138000")  # a typed number could be anyone's: only the shared contact
    assert "请点击下方按钮分享您本人的联系方式" in user.text and "请输入手机号" in user.text
    user.share_contact("+8613800138000")
    user.say("自然人")
    assert "真实姓名" in user.text


def test_cancel_help_and_unreadable_messages_answer_with_the_current_step(
    user: TelegramUser,
) -> None:
    user.say("/start")
    user.press("register")
    user.say("/help")
    assert "注册将手机号与身份绑定" in user.text
    user.send_sticker()
    assert "只能识别文字、按钮" in user.text and "请输入手机号" in user.text
    user.say("/cancel")
    assert "已取消" in user.text and "主菜单" in user.text


def test_a_reply_that_meets_flood_control_waits_as_told_and_is_sent(
    server: App, bot_api: BotApiStandIn, user: TelegramUser
) -> None:
    waited: list[float] = []

    async def pause(seconds: float) -> None:
        waited.append(seconds)

    assert server.telegram is not None
    server.telegram.handlers.pause = pause
    bot_api.flood(times=1, retry_after=3)
    assert user.say("/start") == 200
    assert waited == [3]
    assert "主菜单" in user.text


def test_a_reply_that_cannot_be_sent_is_sent_when_telegram_delivers_the_update_again(
    server: App, bot_api: BotApiStandIn, user: TelegramUser
) -> None:
    bot_api.flood(times=1, retry_after=60)  # longer than a reply may wait
    assert user.say("/start") == 500
    assert bot_api.shown(user.chat_id) == []
    assert user.post(user.last_update) == 200
    assert "主菜单" in user.text
    assert count(server.db, telegram_updates) == 1


def test_a_user_who_blocked_the_bot_is_unreachable_until_they_write_again(
    server: App, bot_api: BotApiStandIn, user: TelegramUser
) -> None:
    bot_api.block(user.chat_id)
    assert user.say("/start") == 200
    with server.db.connect() as conn:
        assert conn.execute(sa.select(telegram_chats.c.unreachable_since)).scalar() is not None
    bot_api.blocked.clear()
    user.say("/start")
    with server.db.connect() as conn:
        assert conn.execute(sa.select(telegram_chats.c.unreachable_since)).scalar() is None
    assert "主菜单" in user.text


def test_group_chats_are_ignored(bot_api: BotApiStandIn, user: TelegramUser) -> None:
    user.chat = {"id": -100, "type": "group", "title": "office"}
    assert user.say("/start") == 200
    assert bot_api.calls_to("sendMessage") == []


def test_telegram_turns_run_in_the_apps_turn_threads_not_on_the_event_loop(
    server: App, user: TelegramUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMS and Telegram share them: on SQLite one thread, so turns queue instead of contending
    for the write lock."""
    threads: list[str] = []
    handle = server.dialogs.handle

    def recording(inbound: Inbound) -> Reply:
        threads.append(threading.current_thread().name)
        return handle(inbound)

    monkeypatch.setattr(server.dialogs, "handle", recording)
    user.say("/start")
    user.press("register")
    expected = "turns-0" if server.db.dialect.name == "sqlite" else "turns-"
    assert len(threads) == 2 and all(name.startswith(expected) for name in threads)
    assert server.turns.size == (1 if server.db.dialect.name == "sqlite" else 16)
