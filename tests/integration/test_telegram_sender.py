"""Notices to Telegram chats through the outbox: the real python-telegram-bot ``Bot`` against a
stand-in Bot API server. Time is a manual clock: the sender's waits move it, and the stand-in
records each call at that clock's time, so the schedule is checked without waiting for it."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from http import HTTPStatus
from itertools import pairwise

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.sender import TelegramSender, bot_for
from core.accounts import Language
from core.clock import ManualClock, as_utc
from core.outbox import Channel, Deferred, OutboxStatus, Outgoing, Priority, Sent
from core.ports import Sender
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from store.tables import outbox
from store.telegram_tables import Reservation, Slot, TelegramChats, telegram_chats
from tests.standins.telegram_api import TOKEN, BotApiStandIn, running_bot_api
from tests.support import CapturingSender, moved_on, outbox_row

SECOND = timedelta(seconds=1)


@pytest.fixture
def bot_api(clock: ManualClock) -> Iterator[BotApiStandIn]:
    with running_bot_api(now=clock.now) as api:
        yield api


def make_sender(db: Engine, clock: ManualClock, api: BotApiStandIn) -> TelegramSender:
    return TelegramSender(
        bot_for(TOKEN, api.url),
        chats=TelegramChats(db),
        clock=clock,
        sleep=moved_on(clock),
    )


@pytest.fixture
def sender(db: Engine, clock: ManualClock, bot_api: BotApiStandIn) -> Iterator[TelegramSender]:
    sender = make_sender(db, clock, bot_api)
    yield sender
    sender.close()


@pytest.fixture
def server(db: Engine, clock: ManualClock, sms: CapturingSender, sender: TelegramSender) -> App:
    settings = Settings(database_url=str(db.url), secret_key="test-secret")
    senders: dict[Channel, Sender] = {Channel.SMS: sms, Channel.TELEGRAM: sender}
    return build_app(settings, clock=clock, senders=senders, db=db, upgrade=False)


def notify(app: App, notices: list[tuple[int, str]]) -> None:
    """Write notices to chats into the outbox, all due now (as a broadcast does)."""
    now = app.clock.now()
    with app.uow() as uow:
        for chat_id, text in notices:
            uow.outbox.add(
                outbox_row(
                    channel=Channel.TELEGRAM,
                    phone=str(chat_id),
                    key="raw",
                    params={"text": text},
                    language=Language.ZH,
                    now=now,
                    priority=Priority.BROADCAST,
                )
            )
        uow.commit()


def dispatch_until_settled(app: App, clock: ManualClock) -> None:
    """Run the dispatcher as the server's worker does; when nothing is due, move the clock to
    the next due message."""
    for _ in range(5_000):
        if app.dispatcher.run_once():
            continue
        with app.db.connect() as conn:
            due = conn.execute(
                sa.select(sa.func.min(outbox.c.due_at)).where(
                    outbox.c.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
                )
            ).scalar()
        if due is None:
            return
        clock.set(max(clock.now(), as_utc(due)))
    raise AssertionError("the outbox never settled")


def notify_and_dispatch(app: App, clock: ManualClock, notices: list[tuple[int, str]]) -> None:
    notify(app, notices)
    dispatch_until_settled(app, clock)


def statuses(app: App, chat_id: int) -> list[str]:
    with app.db.connect() as conn:
        return list(
            conn.execute(
                sa.select(outbox.c.status)
                .where(outbox.c.recipient == str(chat_id))
                .order_by(outbox.c.id)
            ).scalars()
        )


def test_a_broadcast_burst_keeps_within_the_limits_and_loses_nothing_despite_429s(
    server: App, clock: ManualClock, bot_api: BotApiStandIn
) -> None:
    chats = range(1001, 1101)  # 100 chats, 3 notices each, each chat's notices in a row
    notices = [(chat, f"notice {n} to {chat}") for chat in chats for n in range(3)]
    bot_api.flood_every(40, retry_after=2)
    start = clock.now()

    notify_and_dispatch(server, clock, notices)

    calls = bot_api.calls_to("sendMessage")
    delivered = Counter((c.chat_id, c.params["text"]) for c in bot_api.delivered())
    assert delivered == Counter((str(chat), text) for chat, text in notices)  # all, once each
    floods = [c for c in calls if c.status == HTTPStatus.TOO_MANY_REQUESTS]
    assert len(floods) >= 5
    with server.db.connect() as conn:
        settled = conn.execute(sa.select(outbox.c.status, outbox.c.attempts)).all()
    assert {tuple(row) for row in settled} == {("sent", 1)}  # pacing used up no attempts

    times = [c.at for c in calls]
    assert all(later - first >= SECOND for first, later in zip(times, times[30:], strict=False))
    by_chat: dict[str | None, list[datetime]] = defaultdict(list)
    for call in calls:
        by_chat[call.chat_id].append(call.at)
    for sent in by_chat.values():
        assert all(b - a >= SECOND for a, b in pairwise(sent))
    for flood in floods:
        paused_until = flood.at + 2 * SECOND
        assert not [c for c in calls if flood.at < c.at < paused_until]
    assert times[-1] - start < 60 * SECOND  # 10 s at 30/s, the pauses, and little more


def test_a_chat_that_blocked_the_bot_is_marked_unreachable_and_skipped_after(
    server: App, clock: ManualClock, bot_api: BotApiStandIn
) -> None:
    bot_api.block(7)
    notify_and_dispatch(server, clock, [(7, "a"), (8, "b"), (7, "c"), (7, "d"), (8, "e")])
    assert len(bot_api.calls_to("sendMessage", 7)) == 1  # nothing more after the 403
    assert statuses(server, 7) == ["failed", "skipped", "skipped"]
    assert statuses(server, 8) == ["sent", "sent"]
    with server.db.connect() as conn:
        reason = conn.execute(
            sa.select(telegram_chats.c.unreachable_reason).where(telegram_chats.c.chat_id == "7")
        ).scalar_one()
    assert "blocked" in reason

    notify_and_dispatch(server, clock, [(7, "later")])
    assert len(bot_api.calls_to("sendMessage", 7)) == 1
    assert statuses(server, 7)[-1] == "skipped"


def test_a_chat_is_paced_together_by_every_process(
    db: Engine, clock: ManualClock, bot_api: BotApiStandIn, sender: TelegramSender
) -> None:
    other_process = make_sender(db, clock, bot_api)
    try:
        assert isinstance(sender.send(Outgoing("5", "first")), Sent)
        assert other_process.send(Outgoing("5", "second")) == Deferred(SECOND)
        assert isinstance(other_process.send(Outgoing("6", "another chat")), Sent)
        clock.advance(SECOND)
        assert isinstance(other_process.send(Outgoing("5", "second")), Sent)
    finally:
        other_process.close()
    assert [c.params["text"] for c in bot_api.delivered(5)] == ["first", "second"]


def unreachable(db: Engine, chat_id: str) -> bool:
    with db.connect() as conn:
        since = conn.execute(
            sa.select(telegram_chats.c.unreachable_since).where(telegram_chats.c.chat_id == chat_id)
        ).scalar_one()
    return since is not None


def test_a_user_writing_again_makes_the_chat_reachable(db: Engine, clock: ManualClock) -> None:
    chats = TelegramChats(db)
    chats.mark_unreachable("9", clock.now(), "Forbidden: bot was blocked by the user")
    assert unreachable(db, "9")
    assert chats.answer_once(update_id=1, chat_id="9", user_id=9, now=clock.now())
    assert not unreachable(db, "9")
    assert not chats.answer_once(update_id=1, chat_id="9", user_id=9, now=clock.now())


def test_a_reply_keeps_a_chats_later_sending_slot(db: Engine, clock: ManualClock) -> None:
    chats = TelegramChats(db)
    later = clock.now() + 3 * SECOND
    assert chats.reserve("9", later).slot is Slot.GO
    chats.answer_once(update_id=2, chat_id="9", user_id=9, now=clock.now())
    assert chats.reserve("9", later) == Reservation(Slot.WAIT, later + SECOND)


def send_with_stall(
    sender: TelegramSender, clock: ManualClock, bot_api: BotApiStandIn, stall: timedelta
) -> list[datetime]:
    """90 notices in a row, the dispatcher stalled for ``stall`` before the 41st; when each
    reached Telegram."""
    for n in range(90):
        if n == 40:
            clock.advance(stall)
        assert isinstance(sender.send(Outgoing(str(2000 + n), f"notice {n}")), Sent)
    times = [c.at for c in bot_api.calls_to("sendMessage")]
    assert len(times) == 90
    return times


def test_a_late_send_is_made_up_by_the_next_ones_within_the_limit(
    sender: TelegramSender, clock: ManualClock, bot_api: BotApiStandIn
) -> None:
    """About 30 messages a second is a pace kept over time: a send that comes late (its thread
    was slow) does not lose its moment for good, the ones after it go closer until the pace is
    made up. Still no second ever carries more than 30, and no two messages go closer than half
    of 1/30 s."""
    times = send_with_stall(sender, clock, bot_api, timedelta(milliseconds=200))

    spacing = timedelta(microseconds=math.ceil(1_000_000 / 30))
    assert all(later - first >= SECOND for first, later in zip(times, times[30:], strict=False))
    assert all(b - a >= timedelta(microseconds=math.ceil(500_000 / 30)) for a, b in pairwise(times))
    assert times[40] - times[39] >= timedelta(milliseconds=200)  # the stall
    # Made up within about a second after it: the last goes when it would have without the stall
    # (or the window pushes it by a hair), not 0.2 s later.
    assert times[-1] - times[0] < 89 * spacing + timedelta(milliseconds=40)


def test_the_pace_is_even_and_a_quiet_spell_is_not_made_up_with_a_burst(
    sender: TelegramSender, clock: ManualClock, bot_api: BotApiStandIn
) -> None:
    """Messages in a row go 1/30 s apart, not 30 at once and then a wait: Telegram sees an even
    pace. A pause longer than the sender makes up (a quiet spell) starts the pace again from
    there, with no burst to make up for it."""
    times = send_with_stall(sender, clock, bot_api, timedelta(seconds=2))

    spacing = timedelta(microseconds=math.ceil(1_000_000 / 30))
    gaps = [b - a for a, b in pairwise(times)]
    assert gaps[:39] == [spacing] * 39
    assert gaps[39] >= 2 * SECOND
    assert gaps[40:] == [spacing] * 49


def test_a_moment_a_busy_chat_could_not_use_goes_to_the_next_message(
    sender: TelegramSender, clock: ManualClock, bot_api: BotApiStandIn
) -> None:
    """A message whose chat is not free yet (one a second per chat) is deferred, and its moment
    of the overall pace is not lost: the next message, to another chat, takes it."""
    assert isinstance(sender.send(Outgoing("3001", "first")), Sent)
    assert isinstance(sender.send(Outgoing("3001", "second, too soon")), Deferred)
    assert isinstance(sender.send(Outgoing("3002", "to another chat")), Sent)

    first, other = bot_api.calls_to("sendMessage")
    assert other.at - first.at == timedelta(microseconds=math.ceil(1_000_000 / 30))


def test_after_a_429_pause_the_pace_starts_afresh_without_a_burst(
    sender: TelegramSender, clock: ManualClock, bot_api: BotApiStandIn
) -> None:
    """Telegram's flood control asked for a pause: the messages after it wait it out and then go
    at the even pace, not twice as fast to make up the paused time."""
    for n in range(10):
        assert isinstance(sender.send(Outgoing(str(4000 + n), f"notice {n}")), Sent)
    bot_api.flood(retry_after=2)
    assert isinstance(sender.send(Outgoing("4010", "refused")), Deferred)
    for n in range(11, 31):
        assert isinstance(sender.send(Outgoing(str(4000 + n), f"notice {n}")), Sent)

    calls = bot_api.calls_to("sendMessage")
    flood = next(c for c in calls if c.status == HTTPStatus.TOO_MANY_REQUESTS)
    after = [c.at for c in calls if c.at > flood.at]
    assert len(after) == 20 and after[0] - flood.at >= 2 * SECOND
    spacing = timedelta(microseconds=math.ceil(1_000_000 / 30))
    assert [b - a for a, b in pairwise(after)] == [spacing] * 19
