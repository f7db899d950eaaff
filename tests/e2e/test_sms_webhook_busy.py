"""An SMS is always answered with TwiML once the request is valid: when its turn cannot be run
(the database refuses the write, the turn lane is down), the user is asked to send it again in
their own language (in both when even that cannot be read); a turn that ran after all sends its
reply by SMS."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from dialogs.replies import Inbound, Reply
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from store.tables import outbox
from tests.sms_support import Phone, twilio_settings
from tests.standins.twilio_api import TwilioStandIn

PHONE = "+8613800138000"
BUSY = {
    "zh": "号牌助手暂时繁忙，请稍后重发刚才的短信。",
    "en": "platebot is busy: please send your last SMS again shortly.",
}


@pytest.fixture
def server(db: Engine, clock: ManualClock, standin: TwilioStandIn) -> App:
    return build_app(twilio_settings(db, standin), clock=clock, db=db, upgrade=False)


@pytest.fixture
def client(server: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(server, run_workers=False)) as running:
        yield running


def disk_full(_inbound: Inbound) -> Reply:
    raise sa.exc.OperationalError(
        "COMMIT", {}, sqlite3.OperationalError("database or disk is full")
    )


@pytest.mark.parametrize("language", ["zh", "en"])
def test_an_sms_whose_turn_the_database_refuses_is_answered_busy_in_the_users_language(
    server: App, client: TestClient, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    phone = Phone(client, PHONE)
    phone.send("EN" if language == "en" else "hi")
    monkeypatch.setattr(server.dialogs, "handle", disk_full)
    assert phone.send("1") == [BUSY[language]]
    monkeypatch.undo()
    phone.send("1")  # nothing of the refused turn was kept: "1" at the main menu again
    assert ("Register as" if language == "en" else "注册类型") in phone.text


def test_a_newcomer_is_answered_busy_in_the_default_language(
    server: App, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.dialogs, "handle", disk_full)
    assert Phone(client, PHONE).send("hello") == [BUSY["zh"]]


def test_a_turn_that_finishes_after_the_answer_went_out_sends_its_reply_by_sms(
    db: Engine, clock: ManualClock, standin: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn had the database in time but came back after the webhook had to answer (the
    turn process stalled): the user is not left with a turn run unseen."""
    settings = twilio_settings(db, standin, sms_answer_within=0.1)
    server = build_app(settings, clock=clock, db=db, upgrade=False)
    handle = server.dialogs.handle

    def stalled(inbound: Inbound) -> Reply:
        time.sleep(0.5)
        return handle(inbound)

    monkeypatch.setattr(server.dialogs, "handle", stalled)
    with TestClient(create_web_app(server, run_workers=False)) as client:
        assert Phone(client, PHONE).send("hi") == [BUSY["zh"] + "\n" + BUSY["en"]]
        for _ in range(100):
            with server.db.connect() as conn:
                late = conn.execute(
                    sa.select(outbox.c.recipient, outbox.c.params).where(outbox.c.key == "raw")
                ).all()
            if late:
                break
            time.sleep(0.05)
    assert [(recipient, "主菜单" in params["text"]) for recipient, params in late] == [
        (PHONE, True)
    ]
