"""The outbox: what a turn writes is sent once by the dispatcher, retried when the provider
stumbles, and a one-time code does not stay readable in the table once it is settled."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import verification
from core.accounts import Language
from core.clock import ManualClock, SystemClock
from core.outbox import (
    LEASE,
    Channel,
    OutboxStatus,
    Outcome,
    Outgoing,
    Priority,
    RetryLater,
    Sent,
    Undeliverable,
)
from platebot.bootstrap import App
from platebot.console import ConsoleChat
from platebot.dispatcher import ASK_FOR, IN_DOUBT_TWICE, LANE_LEASE, Dispatcher, LogSender
from platebot.settings import Settings
from sms.records import SmsRecords
from store.tables import dispatch_lanes, one_time_codes
from store.tables import outbox as outbox_table
from tests.support import outbox_row

PHONE = "+8613800138000"
KEY = b"test key"


@dataclass
class Scripted:
    """A provider that answers from a script, then accepts everything."""

    script: list[Outcome] = field(default_factory=list)
    delivered: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0

    def send(self, message: Outgoing) -> Outcome:
        self.calls += 1
        outcome = self.script.pop(0) if self.script else Sent("SM1")
        if isinstance(outcome, Sent):
            self.delivered.append((message.recipient, message.text))
        return outcome


def _write(app: App, *, key: str = "sms.code", sensitive: bool = True) -> None:
    with app.uow() as uow:
        uow.outbox.add(
            outbox_row(
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
    claimed = Dispatcher(app.uow, clock, {Channel.SMS: first})._claim(Channel.SMS)
    assert claimed is not None and len(claimed) == 1
    assert Dispatcher(app.uow, clock, {Channel.SMS: second}).run_once() == 0
    assert second.calls == 0


def test_a_process_without_a_telegram_sender_leaves_telegram_to_a_process_with_one(
    app: App, clock: ManualClock
) -> None:
    """A server process without a bot token has no Telegram lane and fails no Telegram message:
    a process with Telegram beside it sends them, however long they wait for it (what becomes
    of those nobody sends: tests/integration/test_notices_one_per_event.py)."""
    without = Dispatcher(app.uow, clock, {Channel.SMS: Scripted()})
    assert [name for name, _job in without.lanes()] == ["outbox:sms"]
    telegram = Scripted()
    beside = Dispatcher(app.uow, clock, {Channel.TELEGRAM: telegram})
    assert beside._keep_lane(Channel.TELEGRAM)  # it holds Telegram's lane, renewed every round
    _write_telegram(app)
    for _ in range(4):
        clock.advance(LANE_LEASE / 2)
        assert without.run_once() == 0 and dict(without.lanes())["outbox:sms"]() == 0
        assert beside._keep_lane(Channel.TELEGRAM)
    assert _rows(app)[0]["status"] == "pending"
    assert dict(beside.lanes())["outbox:telegram"]() == 1
    assert telegram.calls == 1 and _rows(app)[0]["status"] == "sent"


def test_the_console_leaves_telegram_messages_nobody_sends_to_a_server(
    app: App, clock: ManualClock
) -> None:
    """What the console sends by SMS only shows on its screen: a Telegram message that nobody
    has sent for long is not turned into one there, but left for a server."""
    console = Dispatcher(app.uow, clock, {Channel.SMS: Scripted()})
    console.asks = False  # as ``ConsoleChat`` builds it
    _write_telegram(app)
    clock.advance(LANE_LEASE * 3)
    assert console.run_once() == 0 and dict(console.lanes())["outbox:sms"]() == 0
    assert [(row["channel"], row["status"]) for row in _rows(app)] == [("telegram", "pending")]


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
        message = outbox_row(
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
        def send(self, message: Outgoing) -> Outcome:
            dispatcher.interrupt()  # the stop comes while this message is with the provider
            return super().send(message)

    provider = StoppedDuring()
    dispatcher = Dispatcher(app.uow, clock, {Channel.SMS: provider}, code_key=KEY)
    assert dispatcher.run_once() == 1
    rows = sorted(_rows(app), key=lambda row: row["id"])
    assert [row["status"] for row in rows] == ["sent", "pending", "pending"]
    assert [row["attempts"] for row in rows] == [1, 0, 0]
    assert dispatcher.run_once() == 0 and provider.calls == 1, "nothing more once stopping"
    fresh = Dispatcher(app.uow, clock, {Channel.SMS: provider}, code_key=KEY)
    assert fresh.run_once() == 2 and provider.calls == 3


def test_one_dispatcher_of_all_processes_holds_a_channels_lane_until_it_stops(
    app: App, clock: ManualClock
) -> None:
    """Two server processes' lanes: one sends on a channel (so the channel's pace holds
    overall); when it stops, the other takes the lane over a few seconds later."""
    first, second = Scripted(), Scripted()
    first_lanes = dict(Dispatcher(app.uow, clock, {Channel.SMS: first}).lanes())
    second_lanes = dict(Dispatcher(app.uow, clock, {Channel.SMS: second}).lanes())
    _write(app, sensitive=False)
    assert first_lanes["outbox:sms"]() == 1
    _write(app, sensitive=False)
    assert second_lanes["outbox:sms"]() == 0  # the first holds the lane
    clock.advance(LANE_LEASE / 2)
    assert first_lanes["outbox:sms"]() == 1  # and renews it every round
    _write(app, sensitive=False)
    clock.advance(LANE_LEASE - timedelta(seconds=1))
    assert second_lanes["outbox:sms"]() == 0
    clock.advance(timedelta(seconds=2))  # the first stopped: its lease ran out
    assert second_lanes["outbox:sms"]() == 1
    assert (first.calls, second.calls) == (2, 1)
    assert first_lanes["outbox:sms"]() == 0  # the lane is the second's now


def test_a_batch_that_outlasts_the_lanes_lease_keeps_the_lane_while_it_sends(
    app: App, clock: ManualClock
) -> None:
    """A paced batch takes longer than the lane's lease: the lane stays the sender's, so no
    other process sends on the channel beside it (the pace would double)."""
    second = Scripted()
    second_lanes = dict(Dispatcher(app.uow, clock, {Channel.SMS: second}).lanes())
    seen_by_second: list[int] = []

    @dataclass
    class Paced:
        calls: int = 0

        def send(self, outgoing: Outgoing) -> Outcome:
            self.calls += 1
            clock.advance(LANE_LEASE / 3)  # one paced send after another
            _write(app, sensitive=False)
            seen_by_second.append(second_lanes["outbox:sms"]())
            return Sent(f"SM{self.calls}")

    paced = Paced()
    first_lanes = dict(Dispatcher(app.uow, clock, {Channel.SMS: paced}, batch=6).lanes())
    for _ in range(6):
        _write(app, sensitive=False)
    assert first_lanes["outbox:sms"]() == 6
    assert paced.calls == 6 and seen_by_second == [0] * 6 and second.calls == 0


def _server_lanes(app: App, clock: ManualClock) -> tuple[dict[str, Scripted], Dispatcher]:
    """One server process's dispatcher, with a sender for each channel."""
    senders = {Channel.SMS: Scripted(), Channel.TELEGRAM: Scripted()}
    calls = {f"outbox:{channel}": sender for channel, sender in senders.items()}
    return calls, Dispatcher(app.uow, clock, dict(senders))


def _round(dispatcher: Dispatcher) -> dict[str, int]:
    """One round of each of the dispatcher's lanes: how many messages each sent."""
    return {name: job() for name, job in dispatcher.lanes()}


def test_two_processes_send_one_channel_each_and_one_alone_sends_both(
    app: App, clock: ManualClock
) -> None:
    """The first process up takes both lanes; the second asks for one and is handed it at the
    first's next round, so each sends a channel (one interpreter each); when the second stops,
    the first takes its lane back after the lease."""
    first_senders, first = _server_lanes(app, clock)
    second_senders, second = _server_lanes(app, clock)
    _write(app, sensitive=False)
    _write_telegram(app)
    assert _round(first) == {"outbox:sms": 1, "outbox:telegram": 1}
    _write(app, sensitive=False)
    _write_telegram(app)
    assert _round(second) == {"outbox:sms": 0, "outbox:telegram": 0}  # held: it asks
    # The first holds both: it hands the SMS lane over and keeps Telegram's.
    assert _round(first) == {"outbox:sms": 0, "outbox:telegram": 1}
    assert _round(second) == {"outbox:sms": 1, "outbox:telegram": 0}
    for _ in range(3):  # and so it stays, round after round
        clock.advance(LANE_LEASE / 2)
        _write(app, sensitive=False)
        _write_telegram(app)
        assert _round(first) == {"outbox:sms": 0, "outbox:telegram": 1}
        assert _round(second) == {"outbox:sms": 1, "outbox:telegram": 0}
    assert [s.calls for s in first_senders.values()] == [1, 5]
    assert [s.calls for s in second_senders.values()] == [4, 0]

    # The second stops: once its lease has run out, the first sends both again.
    _write(app, sensitive=False)
    clock.advance(LANE_LEASE / 2)
    assert _round(first) == {"outbox:sms": 0, "outbox:telegram": 0}
    clock.advance(LANE_LEASE / 2 + timedelta(seconds=1))
    assert _round(first) == {"outbox:sms": 1, "outbox:telegram": 0}
    assert first_senders["outbox:sms"].calls == 2


def test_a_lane_is_handed_only_from_a_process_with_two_to_one_with_none(
    app: App, clock: ManualClock
) -> None:
    """Three processes, two lanes: the third asks, but neither holder has a second lane to
    give, so the lanes stay where they are; and a process that stopped asking is forgotten."""
    first_senders, first = _server_lanes(app, clock)
    second_senders, second = _server_lanes(app, clock)
    third_senders, third = _server_lanes(app, clock)
    _round(first)
    _round(second)  # asks for both
    assert _round(first) == {"outbox:sms": 0, "outbox:telegram": 0}  # SMS handed over
    _round(second)
    for _ in range(2):
        assert _round(third) == {"outbox:sms": 0, "outbox:telegram": 0}  # asks
        _write(app, sensitive=False)
        _write_telegram(app)
        assert _round(first) == {"outbox:sms": 0, "outbox:telegram": 1}
        assert _round(second) == {"outbox:sms": 1, "outbox:telegram": 0}
    assert sum(s.calls for s in third_senders.values()) == 0

    # The second stops; the first takes its lane back, and keeps both: the third asked last
    # more than a lease ago, so nobody is waiting for one.
    clock.advance(LANE_LEASE + timedelta(seconds=1))
    _write(app, sensitive=False)
    _write_telegram(app)
    assert _round(first) == {"outbox:sms": 1, "outbox:telegram": 1}
    _write(app, sensitive=False)
    assert _round(first) == {"outbox:sms": 1, "outbox:telegram": 0}
    assert [s.calls for s in first_senders.values()] == [2, 3]
    assert [s.calls for s in second_senders.values()] == [2, 0]


def test_the_console_does_not_ask_for_a_lane_a_server_holds(app: App, clock: ManualClock) -> None:
    """``platebot chat`` on a server's database runs the lanes after each line typed: it sends
    only while no server does, and never asks for a lane (what it sends only shows on its
    screen, and it has no Telegram sender)."""
    server_senders, server = _server_lanes(app, clock)
    shown: list[str] = []
    console = Dispatcher(app.uow, clock, {Channel.SMS: LogSender(lambda _to, t: shown.append(t))})
    console.asks = False  # as ``ConsoleChat`` builds it
    _round(server)
    for _ in range(3):
        _write(app, sensitive=False)
        _write_telegram(app)
        assert _round(console) == {"outbox:sms": 0}  # no Telegram lane: it has no sender
        assert _round(server) == {"outbox:sms": 1, "outbox:telegram": 1}
    assert shown == [] and [s.calls for s in server_senders.values()] == [3, 3]


def test_the_console_chat_leaves_telegram_to_a_server_and_asks_for_no_lane(app: App) -> None:
    """``platebot chat`` on the database of a server that holds the SMS lane: a line typed
    sends no SMS and asks for nothing; a Telegram notice waits for a server (the console has no
    Telegram sender) instead of failing. On the real clock, as the console runs."""
    clock = SystemClock()
    sms = Scripted()
    server = Dispatcher(app.uow, clock, {Channel.SMS: sms, Channel.TELEGRAM: Scripted()})
    assert dict(server.lanes())["outbox:sms"]() == 0  # it holds the SMS lane
    with app.uow() as uow:
        for channel, to in ((Channel.TELEGRAM, "42"), (Channel.SMS, PHONE)):
            uow.outbox.add(
                outbox_row(
                    channel=channel,
                    phone=to,
                    key="raw",
                    params={"text": "hi"},
                    language=Language.EN,
                    now=clock.now(),
                )
            )
        uow.commit()
    settings = Settings(database_url=app.db.url.render_as_string(hide_password=False))
    out = io.StringIO()
    console = ConsoleChat(settings, phone=None, language=None, out=out, interactive=False)
    try:
        console.say("hi")
    finally:
        console.app.db.dispose()
    assert "[SMS to" not in out.getvalue()
    with app.db.connect() as conn:
        lanes = conn.execute(sa.select(dispatch_lanes.c.channel, dispatch_lanes.c.wanted_by))
        assert {channel: asker for channel, asker in lanes} == {Channel.SMS: None}
        waiting = conn.execute(sa.select(outbox_table.c.channel, outbox_table.c.status)).all()
        assert set(waiting) == {
            (Channel.TELEGRAM, OutboxStatus.PENDING),
            (Channel.SMS, OutboxStatus.PENDING),
        }
    assert dict(server.lanes())["outbox:sms"]() == 1 and sms.calls == 1


def test_a_process_that_stops_lets_its_lanes_go_at_once_and_asks_no_more(
    app: App, clock: ManualClock
) -> None:
    """A server process that stops (not one that dies) frees its lanes as it goes, so another
    sends at once, not a lease later; and one that asked and stopped is not handed a lane (or,
    handed one as it stopped, lets it go again)."""
    first_senders, first = _server_lanes(app, clock)
    second_senders, second = _server_lanes(app, clock)
    _round(first)
    _round(second)  # asks for both
    first.close()  # stops
    _write(app, sensitive=False)
    _write_telegram(app)
    assert _round(second) == {"outbox:sms": 1, "outbox:telegram": 1}  # at once

    third_senders, third = _server_lanes(app, clock)
    _round(third)  # asks
    third.interrupt()
    _round(second)  # the SMS lane handed to the third as it stops...
    third.close()  # ...which lets it go
    _write(app, sensitive=False)
    assert _round(second) == {"outbox:sms": 1, "outbox:telegram": 0}

    fourth_senders, fourth = _server_lanes(app, clock)
    _round(fourth)  # asks
    fourth.close()  # and stops: the ask goes with it
    _write(app, sensitive=False)
    _write_telegram(app)
    assert _round(second) == {"outbox:sms": 1, "outbox:telegram": 1}

    fifth_senders, _fifth = _server_lanes(app, clock)
    _round(_fifth)  # asks, then dies: its ask is forgotten after a few seconds
    clock.advance(ASK_FOR + timedelta(milliseconds=1))
    _write(app, sensitive=False)
    assert _round(second) == {"outbox:sms": 1, "outbox:telegram": 0}
    assert sum(s.calls for s in [*third_senders.values(), *fourth_senders.values()]) == 0
    assert sum(s.calls for s in fifth_senders.values()) == 0
    assert [s.calls for s in first_senders.values()] == [0, 0]
    assert [s.calls for s in second_senders.values()] == [4, 2]

    # One killed within 3 s of asking may still be handed a lane: it waits out the lease.
    _sixth_senders, sixth = _server_lanes(app, clock)
    _round(sixth)  # asks, then dies
    _write(app, sensitive=False)
    assert _round(second) == {"outbox:sms": 0, "outbox:telegram": 0}  # handed to the dead one
    clock.advance(LANE_LEASE)
    assert _round(second) == {"outbox:sms": 1, "outbox:telegram": 0}


def test_a_holder_sending_a_long_batch_hands_a_lane_over_when_it_renews_it(
    app: App, clock: ManualClock
) -> None:
    """A paced batch outlasts half the lane's lease: the holder renews the lane before its next
    send, and a process that has been asking meanwhile is handed it then; the rest of the batch
    is given back, for it to send."""
    second_senders, second = _server_lanes(app, clock)

    @dataclass
    class Paced(Scripted):
        def send(self, message: Outgoing) -> Outcome:
            clock.advance(LANE_LEASE / 3)  # one paced send after another
            _round(second)  # which keeps asking
            return super().send(message)

    paced = Paced()
    first = Dispatcher(app.uow, clock, {Channel.SMS: paced, Channel.TELEGRAM: Scripted()})
    _write_telegram(app)
    assert _round(first) == {"outbox:sms": 0, "outbox:telegram": 1}  # it holds both lanes
    for _ in range(6):
        _write(app, sensitive=False)
    assert first.run_channel(Channel.SMS, lead=True) == 2  # then the renewal hands it over
    assert _round(second)["outbox:sms"] == 4
    assert (paced.calls, second_senders["outbox:sms"].calls) == (2, 4)


def test_a_process_that_hands_a_lane_over_mid_broadcast_gives_back_what_it_has_not_sent(
    app: App, clock: ManualClock
) -> None:
    """The first process is sending a broadcast by SMS, and Telegram's lane is its too, when a
    second one starts and asks for a lane: the first hands SMS over when it claims its next batch
    and gives back the messages it had claimed and not sent, so the two do not both go on
    sending SMS (the pace would double); only those it already had under way still finish."""
    _second_senders, second = _server_lanes(app, clock)
    asked: list[dict[str, int]] = []

    @dataclass
    class AsksWhileSending(Scripted):
        def send(self, message: Outgoing) -> Outcome:
            if not asked:  # the second process starts while the first message is being sent
                asked.append(_round(second))
            return super().send(message)

    sms = AsksWhileSending()
    first = Dispatcher(app.uow, clock, {Channel.SMS: sms, Channel.TELEGRAM: Scripted()}, batch=6)
    first.in_doubt = {Channel.SMS: 1, Channel.TELEGRAM: 1}  # one at a time: in a known order
    _write_telegram(app)
    assert _round(first) == {"outbox:sms": 0, "outbox:telegram": 1}  # it holds both lanes
    with app.uow() as uow:
        for n in range(12):
            uow.outbox.add(
                outbox_row(
                    phone=f"+86138001381{n:02d}",
                    key="raw",
                    params={"text": f"notice {n}"},
                    language=Language.EN,
                    now=clock.now(),
                    priority=Priority.BROADCAST,
                )
            )
        uow.commit()

    # Five of the first batch of six go; claiming the next, the lane is handed over.
    assert first.run_channel(Channel.SMS, lead=True) == 5
    assert asked == [{"outbox:sms": 0, "outbox:telegram": 0}]
    assert sms.calls == 5
    assert _round(second)["outbox:sms"] == 7  # the one given back, and the rest
    with app.db.connect() as conn:
        statuses = conn.execute(
            sa.select(outbox_table.c.status).where(outbox_table.c.channel == Channel.SMS)
        ).scalars()
        assert set(statuses) == {OutboxStatus.SENT}


def test_each_channel_has_its_own_lane(app: App, clock: ManualClock) -> None:
    sms, telegram = Scripted(), Scripted()
    sms_lanes = dict(Dispatcher(app.uow, clock, {Channel.SMS: sms}).lanes())
    telegram_lanes = dict(Dispatcher(app.uow, clock, {Channel.TELEGRAM: telegram}).lanes())
    with app.uow() as uow:
        uow.outbox.add(
            outbox_row(
                channel=Channel.TELEGRAM,
                phone="42",
                key="raw",
                params={"text": "hi"},
                language=Language.ZH,
                now=clock.now(),
            )
        )
        uow.commit()
    _write(app, sensitive=False)
    assert sms_lanes["outbox:sms"]() == 1
    assert telegram_lanes["outbox:telegram"]() == 1
    assert (sms.calls, telegram.calls) == (1, 1)


@dataclass
class Crashing(Scripted):
    """The process dies while this sender is sending (the provider may have the message)."""

    def send(self, message: Outgoing) -> Outcome:
        self.calls += 1
        raise SystemExit("killed")


def _write_telegram(app: App) -> None:
    with app.uow() as uow:
        uow.outbox.add(
            outbox_row(
                channel=Channel.TELEGRAM,
                phone="42",
                key="raw",
                params={"text": "出价被超过"},
                language=Language.ZH,
                now=app.clock.now(),
                priority=Priority.URGENT,
            )
        )
        uow.commit()


def test_a_telegram_message_in_doubt_after_a_crash_is_sent_again_once(
    app: App, clock: ManualClock
) -> None:
    """Telegram cannot be asked what it delivered: a message its dispatcher was sending when it
    died goes again (it may arrive twice); in doubt a second time, it is not sent a third."""
    _write_telegram(app)
    with pytest.raises(SystemExit):
        Dispatcher(app.uow, clock, {Channel.TELEGRAM: Crashing()}).run_once()
    clock.advance(LEASE + timedelta(seconds=1))
    again = Scripted()
    assert Dispatcher(app.uow, clock, {Channel.TELEGRAM: again}).run_once() == 1
    assert again.delivered == [("42", "出价被超过")]

    _write_telegram(app)  # another one, whose dispatchers die twice while sending it
    for _ in range(2):
        with pytest.raises(SystemExit):
            Dispatcher(app.uow, clock, {Channel.TELEGRAM: Crashing()}).run_once()
        clock.advance(LEASE + timedelta(seconds=1))
    third = Scripted()
    assert Dispatcher(app.uow, clock, {Channel.TELEGRAM: third}).run_once() == 1
    assert third.calls == 0
    last = max(_rows(app), key=lambda row: row["id"])
    assert (last["status"], last["last_error"], last["in_doubt"]) == (
        "failed",
        IN_DOUBT_TWICE,
        True,
    )


def test_a_batch_write_leaves_a_row_another_dispatcher_claimed_meanwhile(
    app: App, clock: ManualClock
) -> None:
    """The outcomes of a batch are written together, each only where the row is still the
    first dispatcher's: one whose lease ran out and that another dispatcher claimed keeps
    that claim (and is not recorded as sent by the first)."""
    _write(app, key="sms.code", sensitive=False)
    _write(app, key="sms.code", sensitive=False)
    with app.uow() as uow:
        mine = [due.message for due in uow.outbox.claim_due(Channel.SMS, clock.now(), 10)]
        read = [(message, message.status, message.attempts) for message in mine]
        for message in mine:
            message.claim(clock.now(), LEASE)
        assert uow.outbox.update_all(read) == {message.id for message in mine}
        uow.commit()
    first, second = mine
    clock.advance(LEASE + timedelta(seconds=1))  # the first dispatcher's lease runs out
    with app.uow() as uow:
        (taken,) = [
            due.message
            for due in uow.outbox.claim_due(Channel.SMS, clock.now(), 10)
            if due.message.id == second.id
        ]
        status, attempts = taken.status, taken.attempts
        taken.claim(clock.now(), LEASE)  # another dispatcher claims the second one
        assert uow.outbox.update_all([(taken, status, attempts)]) == {second.id}
        uow.commit()
    for message in mine:
        message.delivered(clock.now(), "SM-late")
    with app.uow() as uow:
        written = uow.outbox.update_all([(message, OutboxStatus.SENDING, 1) for message in mine])
        uow.commit()
    assert written == {first.id}
    rows = {row["id"]: row for row in _rows(app)}
    assert rows[first.id]["status"] == "sent"
    assert rows[second.id]["status"] == "sending" and rows[second.id]["attempts"] == 2
    assert rows[second.id]["provider_id"] is None


def test_a_batch_write_wipes_a_codes_params_and_keeps_the_others(
    app: App, clock: ManualClock
) -> None:
    _write(app, sensitive=True)
    _write(app, key="sms.code", sensitive=False)
    with app.uow() as uow:
        messages = [due.message for due in uow.outbox.claim_due(Channel.SMS, clock.now(), 10)]
        read = [(message, message.status, message.attempts) for message in messages]
        for message in messages:
            message.delivered(clock.now(), "SM1")
        assert uow.outbox.update_all(read) == {message.id for message in messages}
        uow.commit()
    params = {row["sensitive"]: row["params"] for row in _rows(app)}
    assert params[True] == {"code": "******", "minutes": "******"}
    assert params[False] == {"code": "123456", "minutes": 5}


def test_a_broadcast_goes_batch_after_batch_in_one_run_and_a_notice_that_comes_in_goes_first(
    app: App, clock: ManualClock
) -> None:
    """In the channel's lane, the next batch of a broadcast is claimed while the last messages
    of the one before are being sent; a personal message written meanwhile is claimed with it
    and goes ahead of the broadcast messages still waiting."""

    def message(chat: str, text: str, priority: int) -> None:
        with app.uow() as uow:
            uow.outbox.add(
                outbox_row(
                    channel=Channel.TELEGRAM,
                    phone=chat,
                    key="raw",
                    params={"text": text},
                    language=Language.EN,
                    now=clock.now(),
                    priority=priority,
                    dedupe_key=f"{chat}:{text}",  # written once
                )
            )
            uow.commit()

    for n in range(60):
        message(str(1000 + n), "maintenance tomorrow", Priority.BROADCAST)

    @dataclass
    class Noticing(Scripted):
        def send(self, message_: Outgoing) -> Outcome:
            if self.calls == 3:
                message("42", "you were outbid", Priority.NOTICE)
            return super().send(message_)

    telegram = Noticing()
    lanes = dict(Dispatcher(app.uow, clock, {Channel.TELEGRAM: telegram}, batch=5).lanes())
    assert lanes["outbox:telegram"]() == 61
    order = [recipient for recipient, _text in telegram.delivered]
    assert len(set(order)) == 61
    assert order.index("42") < 15  # not behind the 50-odd broadcast messages left then


def _outbid(app: App, price: str, written: timedelta) -> bool:
    """An outbid notice for one bidder and lot, written ``written`` after now."""
    row = outbox_row(
        phone=PHONE,
        key="room.outbid",
        params={"price": price},
        language=Language.EN,
        now=app.clock.now() + written,
        dedupe_key=f"outbid:1:1:{price}",
    )
    row.coalesce_key = "outbid:1:1"
    with app.uow() as uow:
        added = uow.outbox.add(row)
        uow.commit()
    return added


def test_a_waiting_notice_is_written_over_by_a_later_one_and_never_by_an_earlier_one(
    app: App,
) -> None:
    """Two server processes may tell one bidder's changes at once, in either order: the notice
    that waits is the latest one written, with its price."""
    assert _outbid(app, "¥12,000", timedelta(seconds=1))
    assert _outbid(app, "¥15,000", timedelta(seconds=3))  # later: takes the row
    assert not _outbid(app, "¥13,000", timedelta(seconds=2))  # earlier: nothing written
    rows = _rows(app)
    assert [(row["status"], row["params"]["price"]) for row in rows] == [
        (OutboxStatus.PENDING, "¥15,000")
    ]
    assert rows[0]["dedupe_key"] == "outbid:1:1:¥15,000"
