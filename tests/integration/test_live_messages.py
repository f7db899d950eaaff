"""Rich notices: a message with choices shows them as buttons on Telegram and numbered lines by
SMS; a later update of a live message edits the one sent before (its Telegram message id is
kept), and updates queued while the chat is paced coalesce into one edit of the latest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.accounts import Language
from core.clock import ManualClock
from core.notices import NoticeKind, notify
from core.outbox import Channel
from core.ports import Sender
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from store.tables import outbox
from tests.integration.test_telegram_sender import SECOND, make_sender
from tests.preselect_world import PERSON_PHONE, add_accounts, person
from tests.standins.telegram_api import BotApiStandIn, running_bot_api
from tests.support import CapturingSender

CHAT = "42"


@pytest.fixture
def bot_api(clock: ManualClock) -> Iterator[BotApiStandIn]:
    with running_bot_api(now=clock.now) as api:
        yield api


@pytest.fixture
def server(
    db: Engine, clock: ManualClock, sms: CapturingSender, bot_api: BotApiStandIn
) -> Iterator[App]:
    telegram = make_sender(db, clock, bot_api)
    settings = Settings(database_url=str(db.url), secret_key="test-secret")
    senders: dict[Channel, Sender] = {Channel.SMS: sms, Channel.TELEGRAM: telegram}
    yield build_app(settings, clock=clock, senders=senders, db=db, upgrade=False)
    telegram.close()


def account_with_chat(app: App) -> int:
    (account,) = add_accounts(app, person())
    with app.uow() as uow:
        uow.contacts.link(channel="telegram", address=CHAT, account_id=account, now=app.clock.now())
        uow.commit()
    return account


def update(app: App, account: int, text: str, version: int, **extra: object) -> None:
    """The lot's live message, version ``version``."""
    with app.uow() as uow:
        notify(
            uow,
            account_id=account,
            kind=NoticeKind.URGENT,
            key="raw",
            params={"text": text},
            dedupe_key=f"lot:1:{version}",
            live_key="lot:1",
            now=app.clock.now(),
            **extra,  # type: ignore[arg-type]
        )
        uow.commit()


def rows(app: App) -> list[tuple[str, str | None]]:
    with app.db.connect() as conn:
        query = sa.select(outbox.c.status, outbox.c.provider_id).order_by(outbox.c.id)
        return [(str(status), provider) for status, provider in conn.execute(query)]


def test_three_updates_queued_while_the_chat_is_paced_become_one_edit(
    server: App, clock: ManualClock, bot_api: BotApiStandIn
) -> None:
    account = account_with_chat(server)
    update(server, account, "第1号拍品：当前价 1000 元", 1)
    server.dispatcher.run_once()
    (first,) = bot_api.shown(CHAT)
    for version, price in enumerate((1100, 1200, 1300), start=2):  # within the chat's second
        update(server, account, f"第1号拍品：当前价 {price} 元", version)
    server.dispatcher.run_once()
    assert bot_api.calls_to("editMessageText") == []  # the chat's next slot is a second away
    clock.advance(SECOND)
    server.dispatcher.run_once()
    (edit,) = bot_api.calls_to("editMessageText")
    assert (int(edit.params["message_id"]), edit.params["text"]) == (
        first.message_id,
        "第1号拍品：当前价 1300 元",
    )
    assert len(bot_api.calls_to("sendMessage")) == 1
    assert [m.text for m in bot_api.shown(CHAT)] == ["第1号拍品：当前价 1300 元"]
    message_id = str(first.message_id)
    assert rows(server) == [
        ("sent", message_id),
        ("skipped", None),
        ("skipped", None),
        ("sent", message_id),
    ]


def test_choices_are_buttons_on_telegram_and_numbered_lines_by_sms(
    server: App, clock: ManualClock, bot_api: BotApiStandIn, sms: CapturingSender
) -> None:
    account = account_with_chat(server)
    update(server, account, "出价被超过", 1, choices=["menu.account", "menu.help"])
    server.dispatcher.run_once()
    (shown,) = bot_api.shown(CHAT)
    assert [label for label, _data in shown.buttons] == ["我的账户", "帮助"]
    with server.uow() as uow:
        notify(
            uow,
            phone=PERSON_PHONE,
            kind=NoticeKind.CODE,
            key="raw",
            params={"text": "请选择"},
            dedupe_key="choices:sms",
            language=Language.EN,
            now=clock.now(),
            choices=["menu.account", "menu.help"],
        )
        uow.commit()
    server.dispatcher.run_once()
    assert sms.sent[-1] == (PERSON_PHONE, "请选择\n1 My account\n2 Help")


def test_a_live_message_that_can_no_longer_be_edited_is_sent_anew(
    server: App, clock: ManualClock, bot_api: BotApiStandIn
) -> None:
    account = account_with_chat(server)
    update(server, account, "第1号拍品：当前价 1000 元", 1)
    server.dispatcher.run_once()
    bot_api.refuse("editMessageText", "Bad Request: message can't be edited")
    clock.advance(SECOND)
    update(server, account, "第1号拍品：成交 1300 元", 2)
    server.dispatcher.run_once()
    assert [m.text for m in bot_api.shown(CHAT)] == [
        "第1号拍品：当前价 1000 元",
        "第1号拍品：成交 1300 元",
    ]
    assert [status for status, _ in rows(server)] == ["sent", "sent"]
