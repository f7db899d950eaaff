"""Telegram staff commands through the real python-telegram-bot ``Application`` against the Bot
API stand-in: /broadcast (compose, preview, confirm), /broadcasts, /stats for the allow-listed
staff user ids (``PLATEBOT_TELEGRAM_STAFF_IDS``), refused for anyone else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.accounts import Language
from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from store.broadcast_tables import broadcasts
from tests.broadcast_world import BroadcastWorld
from tests.standins.telegram_api import (
    BotApiStandIn,
    TelegramUser,
    running_bot_api,
    settings_for,
    webhook_poster,
)
from tests.support import CapturingSender

STAFF_ID = 4242
OTHER_ID = 777
COMPOSED = "/broadcast everyone sms\n明天停办。\n---\nClosed tomorrow."


@pytest.fixture
def bot_api(clock: ManualClock) -> Iterator[BotApiStandIn]:
    with running_bot_api(now=clock.now) as api:
        yield api


@pytest.fixture
def server(db: Engine, clock: ManualClock, sms: CapturingSender, bot_api: BotApiStandIn) -> App:
    settings = settings_for(bot_api, str(db.url), telegram_staff_ids=f"{STAFF_ID}, 5151")
    return build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)


@pytest.fixture
def client(server: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(server, run_workers=False)) as running:
        yield running


def user(bot_api: BotApiStandIn, client: TestClient, user_id: int) -> TelegramUser:
    return TelegramUser(bot_api, webhook_poster(client), user_id=user_id, language_code="en")


@pytest.fixture
def staff(bot_api: BotApiStandIn, client: TestClient) -> TelegramUser:
    """An allow-listed staff member's Telegram, in English."""
    return user(bot_api, client, STAFF_ID)


@pytest.fixture
def world(db: Engine, clock: ManualClock) -> BroadcastWorld:
    return BroadcastWorld(db, clock)


def broadcasts_kept(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(broadcasts)).scalar_one())


def test_staff_compose_preview_and_confirm_a_broadcast_in_telegram(
    world: BroadcastWorld, server: App, staff: TelegramUser, sms: CapturingSender
) -> None:
    _, zh_phone = world.person()
    _, en_phone = world.person(language=Language.EN)
    world.person(opted_out=True)
    assert staff.say(COMPOSED) == 200
    assert staff.text == (
        "Broadcast #1 to everyone: 2 recipients, 0 by Telegram and 2 by SMS (2 SMS segments). "
        "Passed over: 1 opted out, 0 blocked, 0 without Telegram."
    )
    assert [label for label, _ in staff.screen.buttons] == ["Send now", "Discard"]
    server.dispatcher.run_once()
    assert sms.sent == [], "nothing is sent before it is confirmed"
    staff.press("broadcast:send:1")
    assert staff.text == "Broadcast #1 is being sent. /broadcasts shows how far it is."
    server.dispatcher.run_once()
    assert sorted(sms.sent) == sorted([(zh_phone, "明天停办。"), (en_phone, "Closed tomorrow.")])
    staff.say("/broadcasts")
    assert staff.text == (
        "#1 finished: 2 of 3 sent, 0 delivered, 0 failed, 1 opted out, 0 blocked, "
        "0 without Telegram, 0 left."
    )
    staff.say("/stats")
    assert staff.text == (
        "Today (2026-11-23, China time): 3 registrations, 0 pre-selections, 0 sales paid, 0 bids."
    )
    with server.uow() as uow:  # the staff member's actions are in the audit, as theirs
        recorded = uow.staff.audit(office_code=None, limit=10, before=None)
    assert [(e.actor, e.source, e.action) for e in reversed(recorded)] == [
        (f"telegram:{STAFF_ID}", "telegram", "broadcast.compose"),
        (f"telegram:{STAFF_ID}", "telegram", "broadcast.send"),
    ]


def test_a_draft_discarded_in_telegram_is_never_sent(
    world: BroadcastWorld, server: App, staff: TelegramUser, sms: CapturingSender
) -> None:
    world.person()
    staff.say(COMPOSED)
    staff.press("broadcast:discard:1")
    assert staff.text == "Broadcast #1 discarded; nothing was sent."
    server.dispatcher.run_once()
    assert sms.sent == []


def test_a_chinese_speaking_staff_member_reads_the_audience_in_chinese(
    world: BroadcastWorld, bot_api: BotApiStandIn, client: TestClient
) -> None:
    world.person()
    staff = TelegramUser(bot_api, webhook_poster(client), user_id=STAFF_ID, language_code="zh")
    assert staff.say("/broadcast region 4405 sms\n明天停办。\n---\nClosed tomorrow.") == 200
    assert staff.text.startswith("群发 #1（地区4405的用户）：共 1 人"), staff.text


def test_a_broadcast_written_wrongly_gets_how_to_write_it(staff: TelegramUser, db: Engine) -> None:
    staff.say("/broadcast tomorrow we close")
    assert staff.text.startswith("Write the broadcast after the command")
    staff.say("/broadcast region 9999\n停办\n---\nClosed")
    assert "No region called" in staff.text
    assert broadcasts_kept(db) == 0


@pytest.mark.parametrize("command", [COMPOSED, "/broadcasts", "/stats"])
def test_staff_commands_are_refused_for_a_user_id_not_allow_listed(
    client: TestClient, bot_api: BotApiStandIn, db: Engine, command: str
) -> None:
    other = user(bot_api, client, OTHER_ID)
    assert other.say(command) == 200
    assert other.text == "This command is for office staff only."
    assert broadcasts_kept(db) == 0


def test_a_confirmation_pressed_by_someone_not_allow_listed_sends_nothing(
    world: BroadcastWorld, server: App, staff: TelegramUser, sms: CapturingSender
) -> None:
    world.person()
    staff.say(COMPOSED)
    other = TelegramUser(staff.api, staff.post, user_id=OTHER_ID, language_code="en")
    other.press("broadcast:send:1", message=staff.screen)
    [answer] = staff.api.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "This command is for office staff only."
    server.dispatcher.run_once()
    assert sms.sent == []


def test_users_still_reach_the_menu_beside_the_staff_commands(
    client: TestClient, bot_api: BotApiStandIn
) -> None:
    other = user(bot_api, client, OTHER_ID)
    other.say("/start")
    assert other.screen.buttons, "the menu, with its buttons"
