"""Broadcast messages are sent several at a time and their outcomes recorded a few at a time,
without giving up what a crash must not do: an SMS is never sent twice (Twilio is asked about
every message in doubt), and at most ``IN_DOUBT[TELEGRAM]`` Telegram messages are in doubt at any
moment (the Bot API cannot be asked: each may arrive twice after a crash)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.accounts import Language
from core.clock import ManualClock
from core.outbox import LEASE, Channel, Outcome, Outgoing, Priority, Sent
from platebot.bootstrap import App, build_app
from platebot.dispatcher import IN_DOUBT, Dispatcher, _Claim
from platebot.settings import Settings
from store.tables import outbox
from tests.sms_support import twilio_settings
from tests.standins.twilio_api import TwilioStandIn
from tests.support import outbox_row

PEOPLE = 40


def broadcast(app: App, channel: Channel, count: int = PEOPLE) -> list[str]:
    """``count`` broadcast messages (one each to as many recipients); their addresses."""
    if channel is Channel.SMS:
        addresses = [f"+86139{n:08d}" for n in range(1, count + 1)]
    else:
        addresses = [str(5000 + n) for n in range(1, count + 1)]
    with app.uow() as uow:
        for address in addresses:
            uow.outbox.add(
                outbox_row(
                    channel=channel,
                    phone=address,
                    key="raw",
                    params={"text": "车管所系统维护"},
                    language=Language.ZH,
                    now=app.clock.now(),
                    priority=Priority.BROADCAST,
                )
            )
        uow.commit()
    return addresses


def statuses(db: Engine) -> Counter[str]:
    with db.connect() as conn:
        return Counter(str(s) for s in conn.execute(sa.select(outbox.c.status)).scalars())


class KilledBeforeRecording(Dispatcher):
    """The process dies once messages reached the provider, before their outcomes are
    recorded (after ``after`` recordings of sends)."""

    after = 1

    def _record(
        self, outcomes: list[tuple[_Claim, Outcome]], *, screen: object = ()
    ) -> tuple[int, set[str]]:
        if any(isinstance(outcome, Sent) for _, outcome in outcomes):
            if self.after == 0:
                raise SystemExit("killed")
            self.after -= 1
        return super()._record(outcomes, screen=screen)  # type: ignore[arg-type]


def commits(db: Engine) -> list[int]:
    seen: list[int] = []
    sa.event.listen(db, "commit", lambda _conn: seen.append(1))
    return seen


def test_a_crash_between_sending_and_recording_sends_no_sms_twice(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    first = build_app(twilio_settings(db, standin), clock=clock, db=db, upgrade=False)
    numbers = broadcast(first, Channel.SMS)
    first.dispatcher.__class__ = KilledBeforeRecording
    with pytest.raises(SystemExit):
        first.dispatcher.run_channel(Channel.SMS)
    reached = len(standin.delivered)
    assert 0 < reached <= 2 * IN_DOUBT[Channel.SMS]
    clock.advance(LEASE + timedelta(seconds=1))  # the dead process's claims run out
    second = build_app(twilio_settings(db, standin), clock=clock, db=db, upgrade=False)
    while second.dispatcher.run_channel(Channel.SMS):
        pass
    got = Counter(r.to for r in standin.delivered)
    assert sorted(got) == sorted(numbers) and set(got.values()) == {1}, "each once"
    assert statuses(db) == {"sent": PEOPLE}


def test_broadcast_sms_outcomes_are_recorded_a_few_at_a_time(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    app = build_app(twilio_settings(db, standin), clock=clock, db=db, upgrade=False)
    broadcast(app, Channel.SMS)
    committed = commits(db)
    assert app.dispatcher.run_channel(Channel.SMS) == PEOPLE
    assert len(standin.delivered) == PEOPLE
    # the claim, then a transaction for every half of the messages allowed in doubt at most
    assert len(committed) <= 1 + PEOPLE // (IN_DOUBT[Channel.SMS] // 2) + 1


@dataclass
class Watching:
    """A Telegram sender that notes, at each send, how many messages are in doubt: sent (or
    being sent) and not yet recorded as sent."""

    db: Engine
    sent: list[str] = field(default_factory=list)
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: Outgoing) -> Outcome:
        with self.lock:
            self.sent.append(message.recipient)
            recorded = statuses(self.db)["sent"]
            self.most = max(self.most, len(self.sent) - recorded)
        return Sent(provider_id=str(len(self.sent)))


def telegram_app(db: Engine, clock: ManualClock, sender: object) -> App:
    settings = Settings(database_url=str(db.url), secret_key="test-secret")
    return build_app(
        settings,
        clock=clock,
        db=db,
        upgrade=False,
        senders={Channel.TELEGRAM: sender},  # type: ignore[dict-item]
    )


def test_at_most_a_few_telegram_messages_are_in_doubt_at_any_moment(
    db: Engine, clock: ManualClock
) -> None:
    watching = Watching(db)
    app = telegram_app(db, clock, watching)
    broadcast(app, Channel.TELEGRAM)
    assert app.dispatcher.run_channel(Channel.TELEGRAM) == PEOPLE
    assert len(watching.sent) == PEOPLE
    assert 1 < watching.most <= IN_DOUBT[Channel.TELEGRAM]


def test_a_crash_sends_at_most_the_telegram_messages_in_doubt_twice(
    db: Engine, clock: ManualClock
) -> None:
    watching = Watching(db)
    first = telegram_app(db, clock, watching)
    chats = broadcast(first, Channel.TELEGRAM)
    first.dispatcher.__class__ = KilledBeforeRecording
    with pytest.raises(SystemExit):
        first.dispatcher.run_channel(Channel.TELEGRAM)
    clock.advance(LEASE + timedelta(seconds=1))
    second = telegram_app(db, clock, watching)
    while second.dispatcher.run_channel(Channel.TELEGRAM):
        pass
    got = Counter(watching.sent)
    assert sorted(got) == sorted(chats), "nobody missed"
    twice = [chat for chat, n in got.items() if n > 1]
    assert 0 < len(twice) <= IN_DOUBT[Channel.TELEGRAM] and max(got.values()) == 2
    assert statuses(db) == {"sent": PEOPLE}
