"""How the server runs the bot: polling for development, and the settings it refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.sender import TelegramSender
from core.accounts import Language
from core.clock import ManualClock
from core.outbox import Channel, Outgoing, RetryLater
from platebot.bootstrap import build_app
from platebot.cli import app as cli
from platebot.server import create_web_app
from platebot.settings import SettingsError
from tests.standins.telegram_api import (
    SECRET,
    TOKEN,
    BotApiStandIn,
    TelegramUser,
    running_bot_api,
    settings_for,
)
from tests.support import CapturingSender, outbox_row


@pytest.fixture
def bot_api(clock: ManualClock) -> Iterator[BotApiStandIn]:
    with running_bot_api(now=clock.now) as api:
        yield api


def test_polling_mode_answers_updates_it_fetches_itself_and_takes_no_webhook(
    db: Engine, clock: ManualClock, sms: CapturingSender, bot_api: BotApiStandIn
) -> None:
    settings = settings_for(bot_api, str(db.url), telegram_secret=None)
    app = build_app(
        settings,
        clock=clock,
        senders={Channel.SMS: sms},
        db=db,
        upgrade=False,
        telegram_polling=True,
    )
    with TestClient(create_web_app(app, run_workers=False)) as client:
        assert bot_api.calls_to("deleteWebhook") and not bot_api.calls_to("setWebhook")
        user = TelegramUser(bot_api, bot_api.push_update, user_id=4242)
        user.say("/start")
        bot_api.wait_for_calls("sendMessage", 1)
        assert "主菜单" in user.text
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        refused = client.post("/telegram/webhook", json=user.last_update, headers=headers)
        assert refused.status_code == 403  # no secret configured: no webhook either
    assert len(bot_api.calls_to("sendMessage")) == 1


@pytest.mark.parametrize("secret", [None, "has spaces", "x" * 257])
def test_webhook_mode_needs_a_valid_secret(
    db: Engine, bot_api: BotApiStandIn, secret: str | None
) -> None:
    with pytest.raises(SettingsError, match="PLATEBOT_TELEGRAM_SECRET"):
        build_app(settings_for(bot_api, str(db.url), telegram_secret=secret), db=db)


def test_with_a_token_notices_to_chats_go_out_through_the_bot_api_until_the_server_stops(
    db: Engine, bot_api: BotApiStandIn
) -> None:
    app = build_app(settings_for(bot_api, str(db.url)), db=db)
    sender = app.senders[Channel.TELEGRAM]
    assert isinstance(sender, TelegramSender)
    with TestClient(create_web_app(app, run_workers=False)):
        now = app.clock.now()
        with app.uow() as uow:
            uow.outbox.add(
                outbox_row(
                    channel=Channel.TELEGRAM,
                    phone="42",
                    key="raw",
                    params={"text": "您的预选号牌即将到期"},
                    language=Language.ZH,
                    now=now,
                )
            )
            uow.commit()
        assert app.dispatcher.run_once() == 1
    assert [c.params["text"] for c in bot_api.delivered(42)] == ["您的预选号牌即将到期"]
    assert not sender.bot.running  # closed with the server


def test_a_token_the_bot_api_refuses_stops_start_up_and_is_never_shown(
    db: Engine, bot_api: BotApiStandIn
) -> None:
    app = build_app(settings_for(bot_api, str(db.url), telegram_token="999:wrong"), db=db)
    with (
        pytest.raises(SettingsError, match="PLATEBOT_TELEGRAM_TOKEN") as refused,
        TestClient(create_web_app(app, run_workers=False)),
    ):
        pass
    assert "999:wrong" not in str(refused.value)
    sender = app.senders[Channel.TELEGRAM]
    assert isinstance(sender, TelegramSender)
    outcome = sender.send(Outgoing("42", "您好"))
    assert isinstance(outcome, RetryLater) and "999:wrong" not in outcome.error
    assert not sender.bot.running
    # the failed start closed the Bot API connections it had opened (none left for the process)
    assert bot_api.all_connections_closed()


def test_a_webhook_address_telegram_refuses_stops_start_up_naming_the_setting(
    db: Engine, bot_api: BotApiStandIn
) -> None:
    app = build_app(settings_for(bot_api, str(db.url), public_url="http://127.0.0.1:8000"), db=db)
    bot_api.refuse("setWebhook", "Bad Request: bad webhook: An HTTPS URL must be provided")
    with (
        pytest.raises(SettingsError, match="PLATEBOT_PUBLIC_URL"),
        TestClient(create_web_app(app, run_workers=False)),
    ):
        pass
    assert bot_api.all_connections_closed()  # the failed start left no connection open


def test_telegram_is_off_without_a_token(db: Engine, bot_api: BotApiStandIn) -> None:
    app = build_app(settings_for(bot_api, str(db.url), telegram_token=None), db=db)
    assert app.telegram is None and Channel.TELEGRAM not in app.senders
    with TestClient(create_web_app(app, run_workers=False)) as client:
        assert client.post("/telegram/webhook", json={"update_id": 1}).status_code == 404
    assert bot_api.calls == []


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"PLATEBOT_TELEGRAM_TOKEN": None}, ["--telegram-polling"]),
        ({"PLATEBOT_TELEGRAM_TOKEN": TOKEN}, ["--telegram-polling", "--workers", "2"]),
    ],
)
def test_serve_with_polling_needs_a_token_and_one_process(
    env: dict[str, str | None], args: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["serve", *args], env=env)
    assert result.exit_code == 2
    assert "--telegram-polling" in result.output
