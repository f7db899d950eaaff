"""The outbox: what a turn writes is sent once by the dispatcher, retried when the provider
stumbles, and a one-time code does not stay readable in the table once it is settled."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from core import outbox, verification
from core.accounts import Language
from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import App
from platebot.dispatcher import Dispatcher, Outcome, RetryLater, Sent, Undeliverable
from sms.records import SmsRecords
from store.tables import one_time_codes
from store.tables import outbox as outbox_table

PHONE = "+8613800138000"
KEY = b"test key"


@dataclass
class Scripted:
    """A provider that answers from a script, then accepts everything."""

    script: list[Outcome] = field(default_factory=list)
    delivered: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0

    def send(self, recipient: str, text: str) -> Outcome:
        self.calls += 1
        outcome = self.script.pop(0) if self.script else Sent("SM1")
        if isinstance(outcome, Sent):
            self.delivered.append((recipient, text))
        return outcome


def _write(app: App, *, key: str = "sms.code", sensitive: bool = True) -> None:
    with app.uow() as uow:
        uow.outbox.add(
            outbox.sms(
                phone=PHONE,
                key=key,
                params={"code": "123456", "minutes": 5},
                language=Language.EN,
                now=app.clock.now(),
                sensitive=sensitive,
            )
        )
        uow.commit()


def _rows(app: App) -> list[sa.RowMapping]:
    with app.db.connect() as conn:
        return list(conn.execute(sa.select(outbox_table)).mappings())


def test_message_is_rendered_in_its_language_sent_once_and_its_code_wiped(
    app: App, clock: ManualClock
) -> None:
    provider = Scripted()
    dispatcher = Dispatcher(app.uow, clock, {Channel.SMS: provider})
    _write(app)
    assert dispatcher.run_once() == 1
    assert dispatcher.run_once() == 0
    assert provider.delivered == [(PHONE, "platebot code 123456, valid 5 min. Never share it.")]
    (row,) = _rows(app)
    assert row["status"] == "sent" and row["provider_id"] == "SM1"
    assert "123456" not in str(row["params"])


def test_passing_failures_are_retried_after_a_backoff_until_delivered(
    app: App, clock: ManualClock
) -> None:
    provider = Scripted(
        [RetryLater("429 too many requests", timedelta(seconds=7)), RetryLater("500 server error")]
    )
    dispatcher = Dispatcher(app.uow, clock, {Channel.SMS: provider})
    _write(app)
    dispatcher.run_once()
    assert _rows(app)[0]["status"] == "pending"
    clock.advance(timedelta(seconds=6))
    assert dispatcher.run_once() == 0  # the provider asked for 7 s
    clock.advance(timedelta(seconds=1))
    dispatcher.run_once()
    clock.advance(timedelta(seconds=4))
    assert dispatcher.run_once() == 0  # second backoff is 5 s
    clock.advance(timedelta(seconds=1))
    dispatcher.run_once()
    assert len(provider.delivered) == 1 and provider.calls == 3
    row = _rows(app)[0]
    assert (row["status"], row["attempts"]) == ("sent", 3)


def test_undeliverable_message_fails_for_good_and_keeps_no_code(
    app: App, clock: ManualClock
) -> None:
    provider = Scripted([Undeliverable("21211 invalid number")])
    dispatcher = Dispatcher(app.uow, clock, {Channel.SMS: provider})
    _write(app)
    dispatcher.run_once()
    clock.advance(timedelta(hours=1))
    assert dispatcher.run_once() == 0
    row = _rows(app)[0]
    assert (row["status"], row["last_error"]) == ("failed", "21211 invalid number")
    assert "123456" not in str(row["params"])


def test_a_message_claimed_by_one_dispatcher_is_not_sent_by_another(
    app: App, clock: ManualClock
) -> None:
    first, second = Scripted(), Scripted()
    _write(app, sensitive=False)
    claimed, _ = Dispatcher(app.uow, clock, {Channel.SMS: first})._claim()
    assert len(claimed) == 1
    assert Dispatcher(app.uow, clock, {Channel.SMS: second}).run_once() == 0
    assert second.calls == 0


def test_a_channel_without_a_sender_is_recorded_as_failed(app: App, clock: ManualClock) -> None:
    with app.uow() as uow:
        message = outbox.sms(
            phone=PHONE, key="raw", params={"text": "hi"}, language=Language.ZH, now=clock.now()
        )
        message.channel = Channel.TELEGRAM
        uow.outbox.add(message)
        uow.commit()
    Dispatcher(app.uow, clock, {Channel.SMS: Scripted()}).run_once()
    assert _rows(app)[0]["status"] == "failed"


def _send_code(app: App) -> None:
    with app.uow() as uow:
        verification.send_code(
            uow,
            clock=app.clock,
            key=KEY,
            phone=PHONE,
            purpose=verification.REGISTER,
            language=Language.EN,
        )
        uow.commit()


def _stored_text(app: App) -> str:
    with app.db.connect() as conn:
        rows = [
            *conn.execute(sa.select(outbox_table)).mappings(),
            *conn.execute(sa.select(one_time_codes)).mappings(),
        ]
    return " ".join(str(value) for row in rows for name, value in row.items() if "_at" not in name)


def test_a_one_time_code_is_never_written_to_the_database(app: App, clock: ManualClock) -> None:
    provider = Scripted()
    _send_code(app)
    waiting = _stored_text(app)
    assert Dispatcher(app.uow, clock, {Channel.SMS: provider}, code_key=KEY).run_once() == 1
    ((_, text),) = provider.delivered
    code = re.findall(r"\d{6}", text)[0]
    assert code not in waiting and code not in _stored_text(app)
    with app.uow() as uow:  # and it is the code that the check accepts
        verification.check_code(
            uow, clock=clock, key=KEY, phone=PHONE, purpose=verification.REGISTER, entered=code
        )


def test_a_code_that_cannot_be_rendered_fails_alone(app: App, clock: ManualClock) -> None:
    provider = Scripted()
    _send_code(app)  # needs the key to be shown, and this dispatcher has none
    _write(app, sensitive=False)
    assert Dispatcher(app.uow, clock, {Channel.SMS: provider}).run_once() == 1
    assert [row["status"] for row in _rows(app)] == ["failed", "sent"]
    assert len(provider.delivered) == 1


def test_an_sms_opt_out_does_not_hold_back_another_channels_messages(
    app: App, clock: ManualClock
) -> None:
    provider = Scripted()
    with SmsRecords.begin(app.db) as records:
        records.opt_out(PHONE, reason="STOP", now=clock.now())
    with app.uow() as uow:
        message = outbox.sms(
            phone=PHONE, key="raw", params={"text": "hi"}, language=Language.ZH, now=clock.now()
        )
        message.channel = Channel.TELEGRAM  # a recipient that reads like the opted-out number
        uow.outbox.add(message)
        uow.commit()
    Dispatcher(app.uow, clock, {Channel.TELEGRAM: provider}).run_once()
    assert provider.delivered == [(PHONE, "hi")]
    assert _rows(app)[0]["status"] == "sent"


def test_an_interrupted_dispatcher_finishes_its_send_and_gives_the_rest_back(
    app: App, clock: ManualClock
) -> None:
    """A stopping server: the message being sent is recorded as sent; the rest of the batch
    goes back unsent (its attempts not counted), for whoever runs next."""
    for _ in range(3):
        _write(app, sensitive=False)
    dispatcher: Dispatcher

    @dataclass
    class StoppedDuring(Scripted):
        def send(self, recipient: str, text: str) -> Outcome:
            dispatcher.interrupt()  # the stop comes while this message is with the provider
            return super().send(recipient, text)

    provider = StoppedDuring()
    dispatcher = Dispatcher(app.uow, clock, {Channel.SMS: provider}, code_key=KEY)
    assert dispatcher.run_once() == 1
    rows = sorted(_rows(app), key=lambda row: row["id"])
    assert [row["status"] for row in rows] == ["sent", "pending", "pending"]
    assert [row["attempts"] for row in rows] == [1, 0, 0]
    assert dispatcher.run_once() == 0 and provider.calls == 1, "nothing more once stopping"
    fresh = Dispatcher(app.uow, clock, {Channel.SMS: provider}, code_key=KEY)
    assert fresh.run_once() == 2 and provider.calls == 3
