"""The outbox dispatcher sending SMS through the real twilio client to a local stand-in of
Twilio's Messages API that answers what each test scripts: every message is delivered exactly
once, whatever Twilio answers and wherever the process stops."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.accounts import Language
from core.broadcast_ports import Audience, AudienceKind, Channels
from core.clock import ManualClock
from core.notices import NoticeKind, notify
from core.outbox import LEASE, Channel, OutboxStatus, Outcome, Outgoing
from core.ports import Sender
from platebot.bootstrap import App, build_app, default_senders, twilio_sender_from
from platebot.dispatcher import URGENT_LEASE
from platebot.staff_broadcasts import StaffBroadcasts
from sms.records import SmsRecords
from sms.render import broadcast_segments
from sms.sender import SegmentPacer, TwilioSender, twilio_client
from store.tables import outbox
from tests.sms_support import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, twilio_settings
from tests.standins.twilio_api import DROP, Answer, TwilioStandIn
from tests.support import CapturingSender, outbox_row

PHONE = "+8613800138000"


def server(db: Engine, clock: ManualClock, standin: TwilioStandIn, **senders: Sender) -> App:
    """A server process's app on the shared database (a new one after a restart); with
    ``telegram``, as with a bot token (its SMS lane then leaves Telegram's rows to it)."""
    settings = twilio_settings(db, standin)
    chosen: dict[Channel, Sender] = {}
    if "sms" in senders or "telegram" in senders:
        chosen = dict(default_senders(settings, db, clock))
        chosen.update({Channel(name): sender for name, sender in senders.items()})
    return build_app(settings, clock=clock, db=db, upgrade=False, senders=chosen or None)


def notices(app: App, *texts: str, phone: str = PHONE) -> list[int]:
    """Notices written to the outbox, as a broadcast would."""
    messages = [
        outbox_row(
            phone=phone, key="raw", params={"text": t}, language=Language.ZH, now=app.clock.now()
        )
        for t in texts
    ]
    with app.uow() as uow:
        for message in messages:
            uow.outbox.add(message)
        uow.commit()
    return [m.id for m in messages if m.id is not None]


def rows(app: App) -> list[dict[str, Any]]:
    with app.db.connect() as conn:
        query = sa.select(outbox.c.id, outbox.c.status, outbox.c.attempts, outbox.c.due_at)
        return [dict(row) for row in conn.execute(query.order_by(outbox.c.id)).mappings()]


def statuses(app: App) -> list[OutboxStatus]:
    return [OutboxStatus(str(row["status"])) for row in rows(app)]


@pytest.mark.parametrize(
    "refusal",
    [Answer(429, 20429, "Too Many Requests"), Answer(500), Answer(503, None, "Unavailable")],
    ids=["429", "500", "503"],
)
def test_passing_refusal_is_retried_with_backoff_and_delivered_once(
    db: Engine, clock: ManualClock, standin: TwilioStandIn, refusal: Answer
) -> None:
    app = server(db, clock, standin)
    standin.answer(refusal)
    notices(app, "明日停电")
    app.dispatcher.run_once()
    [row] = rows(app)
    assert (row["status"], row["attempts"]) == (OutboxStatus.PENDING, 1)
    assert row["due_at"] > clock.now()  # backoff: not at once
    assert app.dispatcher.run_once() == 0
    clock.advance(timedelta(seconds=2))
    app.dispatcher.run_once()
    clock.advance(timedelta(hours=1))
    app.dispatcher.run_once()
    assert [r.answered for r in standin.requests] == [refusal.status, 201]
    assert [r.body for r in standin.delivered] == ["明日停电"]
    assert statuses(app) == [OutboxStatus.SENT]


def test_restart_between_runs_sends_nothing_twice(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    texts = [f"通知{n}" for n in range(5)]
    first = server(db, clock, standin)
    standin.answer(Answer(), Answer(429, 20429), Answer(), Answer(500), Answer())
    notices(first, *texts)
    first.dispatcher.run_once()
    assert len(standin.delivered) == 3
    first.db.dispose()  # the process stops; a new one starts on the same database
    clock.advance(timedelta(minutes=10))
    second = server(db, clock, standin)
    second.dispatcher.run_once()
    second.dispatcher.run_once()
    assert sorted(r.body for r in standin.delivered) == sorted(texts)
    assert statuses(second) == [OutboxStatus.SENT] * 5


class KilledAfter:
    """The server process is killed while sending: after ``sends`` messages, nothing more runs."""

    def __init__(self, sender: Sender, sends: int) -> None:
        self.sender = sender
        self.left = sends

    def send(self, message: Outgoing) -> Outcome:
        if self.left == 0:
            raise SystemExit("killed")
        self.left -= 1
        return self.sender.send(message)


def test_process_killed_mid_batch_sends_nothing_twice(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    sender = twilio_sender_from(twilio_settings(db, standin))
    assert sender is not None
    first = server(db, clock, standin, sms=KilledAfter(sender, 1))
    notices(first, "甲", "乙", "丙")
    with pytest.raises(SystemExit):
        first.dispatcher.run_once()
    assert [r.body for r in standin.delivered] == ["甲"]
    second = server(db, clock, standin)
    assert second.dispatcher.run_once() == 0  # the dead process's claim still holds
    clock.advance(LEASE + timedelta(seconds=1))
    second.dispatcher.run_once()
    assert [r.body for r in standin.delivered] == ["甲", "乙", "丙"]
    assert statuses(second) == [OutboxStatus.SENT] * 3


def test_message_whose_answer_was_lost_is_not_resent(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    app = server(db, clock, standin)
    standin.answer(Answer(DROP))
    notices(app, "验证码123456")
    app.dispatcher.run_once()
    clock.advance(LEASE * 3)
    app.dispatcher.run_once()
    assert len(standin.requests) == 1  # Twilio may have taken it: never risk sending it twice
    assert statuses(app) == [OutboxStatus.FAILED]


def test_other_refusals_are_final(db: Engine, clock: ManualClock, standin: TwilioStandIn) -> None:
    app = server(db, clock, standin)
    standin.answer(Answer(400, 21211, "The 'To' number is not a valid phone number."))
    notices(app, "通知")
    app.dispatcher.run_once()
    clock.advance(timedelta(hours=1))
    app.dispatcher.run_once()
    assert len(standin.requests) == 1
    assert statuses(app) == [OutboxStatus.FAILED]
    with app.db.connect() as conn:
        assert "21211" in str(conn.execute(sa.select(outbox.c.last_error)).scalar_one())


def test_refusal_21610_opts_the_number_out_and_nothing_more_is_sent_to_it(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    app = server(db, clock, standin)
    standin.answer(Answer(400, 21610, "Attempt to send to unsubscribed recipient"))
    notices(app, "第一条", "第二条")
    notices(app, "别人的", phone="+8613900139000")
    app.dispatcher.run_once()
    assert [r.body for r in standin.requests] == ["第一条", "别人的"]
    assert statuses(app) == [OutboxStatus.FAILED, OutboxStatus.SKIPPED, OutboxStatus.SENT]
    with SmsRecords.begin(app.db) as records:
        assert records.is_opted_out(PHONE)
        assert not records.is_opted_out("+8613900139000")


def test_messages_go_from_the_configured_number_or_messaging_service(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    notices(server(db, clock, standin), "一")
    service = "MG" + "1" * 32
    other = build_app(
        twilio_settings(db, standin, twilio_from=service), clock=clock, db=db, upgrade=False
    )
    other.dispatcher.run_once()
    assert [r.origin for r in standin.delivered] == [service]
    notices(other, "二")
    server(db, clock, standin).dispatcher.run_once()
    assert [r.origin for r in standin.delivered] == [service, OUR_NUMBER]


class FrozenTime:
    """The pacer's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_sending_keeps_to_the_rate_across_runs_without_using_up_attempts(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    time = FrozenTime()
    pacer = SegmentPacer(1.0, burst=1.0, max_wait=0.25, monotonic=time, sleep=time.sleep)
    sender = TwilioSender(
        twilio_client(ACCOUNT_SID, AUTH_TOKEN, standin.url), sender=OUR_NUMBER, pacer=pacer
    )
    app = server(db, clock, standin, sms=sender)
    notices(app, "一", "二", "三", "四")  # one segment each, 1 segment/s
    app.dispatcher.run_once()
    assert [r.body for r in standin.delivered] == ["一", "二"]  # the burst, then wait
    waiting = rows(app)[2:]
    assert [row["attempts"] for row in waiting] == [0, 0]
    assert [row["due_at"] - clock.now() for row in waiting] == [
        timedelta(seconds=1),
        timedelta(seconds=2),
    ]
    for _ in range(2):
        time.now += 1
        clock.advance(timedelta(seconds=1))
        app.dispatcher.run_once()
    assert [r.body for r in standin.delivered] == ["一", "二", "三", "四"]
    assert [row["attempts"] for row in rows(app)] == [1, 1, 1, 1]


class PacedOffice:
    """A server whose SMS go to the Twilio stand-in at 2 segments a second, the pacer's clock
    moved with the app's, and the staff's broadcasts by SMS to lists of numbers."""

    def __init__(self, db: Engine, clock: ManualClock, standin: TwilioStandIn) -> None:
        self.clock = clock
        self.time = FrozenTime()
        pacer = SegmentPacer(
            2.0, burst=1.0, max_wait=0.25, monotonic=self.time, sleep=self.time.sleep
        )
        client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, standin.url)
        self.app = server(
            db, clock, standin, sms=TwilioSender(client, sender=OUR_NUMBER, pacer=pacer)
        )
        self.staff = StaffBroadcasts(self.app.uow, clock, broadcast_segments)
        self.numbers = 0

    def broadcast(self, recipients: int) -> int:
        """A broadcast of one segment to ``recipients`` new numbers, sent now."""
        phones = tuple(f"+86138{self.numbers + n:08d}" for n in range(recipients))
        self.numbers += recipients
        draft = self.staff.compose(
            text_zh="明天上午车管所系统维护，暂停办理。",
            text_en="The office system is down for maintenance tomorrow morning.",
            audience=Audience(AudienceKind.NUMBERS, phones=phones),
            channels=Channels.SMS,
            created_by="王科长",
        )
        assert draft["sms_segments"] == recipients
        self.staff.send(draft["id"])
        return int(draft["id"])

    def seconds_pass(self, seconds: int) -> None:
        """The dispatcher sends what is due at each second."""
        for _ in range(seconds):
            self.time.now += 1
            self.clock.advance(timedelta(seconds=1))
            self.app.dispatcher.run_channel(Channel.SMS)


def test_a_paused_broadcast_resumed_goes_on_at_the_pace_at_once(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    """The pacer told the broadcast's messages when to come back (one every half second over
    the next 19 s); paused, they did not come. Resumed 3 s later, they go on at 2 a second at
    once, not after the moments nobody used."""
    office = PacedOffice(db, clock, standin)
    broadcast = office.broadcast(40)
    office.app.dispatcher.run_channel(Channel.SMS)
    assert len(standin.delivered) == 3  # the burst; 37 told to come back
    office.staff.pause(broadcast)
    office.seconds_pass(3)
    office.staff.resume(broadcast)
    office.app.dispatcher.run_channel(Channel.SMS)
    assert len(standin.delivered) == 3 + 3  # the burst again
    office.seconds_pass(5)
    assert office.staff.progress(broadcast)["sent"] == len(standin.delivered) == 6 + 2 * 5


def test_a_cancelled_broadcast_does_not_hold_back_the_next_one(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    """The cancelled broadcast's messages told to come back never come: the next broadcast
    goes at 2 a second at once, not after the moments they were given."""
    office = PacedOffice(db, clock, standin)
    cancelled = office.broadcast(40)
    office.app.dispatcher.run_channel(Channel.SMS)
    assert len(standin.delivered) == 3  # the burst; 37 told to come back
    office.staff.cancel(cancelled)
    office.seconds_pass(3)
    following = office.broadcast(20)
    office.app.dispatcher.run_channel(Channel.SMS)
    office.seconds_pass(5)
    assert office.staff.progress(following)["sent"] == 3 + 2 * 5  # the burst, then 2 a second


@contextmanager
def statements_on(db: Engine, table: str) -> Iterator[list[str]]:
    """SQL statements run through SQLAlchemy on ``db`` that name ``table``, while inside."""
    seen: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if table in statement:
            seen.append(statement)

    sa.event.listen(db, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        sa.event.remove(db, "before_cursor_execute", keep)


@contextmanager
def commits(db: Engine) -> Iterator[list[int]]:
    """One entry per transaction committed on ``db`` while inside."""
    seen: list[int] = []

    def keep(conn: Any) -> None:
        seen.append(1)

    sa.event.listen(db, "commit", keep)
    try:
        yield seen
    finally:
        sa.event.remove(db, "commit", keep)


def test_without_telegram_the_sms_lane_looks_for_telegrams_rows_only_now_and_then(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    """A server without a bot token settles what was queued for Telegram (``core.telegram_off``)
    in a transaction of its own, not at every turn of its SMS lane: once in half a lease."""
    app = server(db, clock, standin)  # no Telegram sender
    notices(app, "第一条")
    with commits(app.db) as committed:
        assert app.dispatcher.run_channel(Channel.SMS) == 1
    assert len(committed) == 1 + 1 + 1  # Telegram's rows looked for, the claim, the send
    for text, looked in (("第二条", False), ("第三条", True)):
        if looked:
            clock.advance(app.dispatcher.lane_lease / 2)
        notices(app, text)
        with commits(app.db) as committed:
            assert app.dispatcher.run_channel(Channel.SMS) == 1
        assert len(committed) == 2 + looked, text
    assert [r.body for r in standin.requests] == ["第一条", "第二条", "第三条"]


def test_numbers_that_opted_out_are_read_once_by_the_claim_and_get_nothing(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    """Not a look-up (a transaction) per message: the claim reads every recipient's opt-out,
    and a transaction that records a send reads those of the next ones (here: once)."""
    app = server(db, clock, standin, telegram=CapturingSender())  # SMS lane alone
    with SmsRecords.begin(app.db) as records:
        records.opt_out(PHONE, reason="STOP", now=clock.now())
    notices(app, "第一条", "第二条")
    notices(app, "别人的", "别人的第二条", phone="+8613900139000")
    with statements_on(app.db, "sms_opt_outs") as looked_up:
        app.dispatcher.run_channel(Channel.SMS)
    assert [r.body for r in standin.requests] == ["别人的", "别人的第二条"]
    assert statuses(app) == [OutboxStatus.SKIPPED] * 2 + [OutboxStatus.SENT] * 2
    assert len(looked_up) == 2  # the claim; the record of the first send, for the second


def test_messages_the_pacer_postpones_are_recorded_together(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    """Each message sent is recorded at once (a crash must not send it again); the ones told
    to come back later share one transaction."""
    time = FrozenTime()
    pacer = SegmentPacer(1.0, burst=1.0, max_wait=0.25, monotonic=time, sleep=time.sleep)
    sender = TwilioSender(
        twilio_client(ACCOUNT_SID, AUTH_TOKEN, standin.url), sender=OUR_NUMBER, pacer=pacer
    )
    app = server(db, clock, standin, sms=sender, telegram=CapturingSender())
    notices(app, *(f"通知{n}" for n in range(10)))
    with commits(app.db) as committed:
        assert app.dispatcher.run_channel(Channel.SMS) == 10
    assert len(standin.delivered) == 2  # the burst
    assert len(committed) == 1 + 2 + 1  # the claim, each message sent, the postponed ones
    assert statuses(app) == [OutboxStatus.SENT] * 2 + [OutboxStatus.PENDING] * 8
    assert [row["attempts"] for row in rows(app)] == [1] * 2 + [0] * 8


class StopWhileSending:
    """The webhook takes the number's STOP while the message before its own is being sent."""

    def __init__(self, sender: Sender, db: Engine, clock: ManualClock) -> None:
        self.sender = sender
        self.db = db
        self.clock = clock

    def send(self, message: Outgoing) -> Outcome:
        with SmsRecords.begin(self.db) as records:
            records.opt_out(PHONE, reason="STOP", now=self.clock.now())
        return self.sender.send(message)


def test_a_stop_that_comes_in_while_the_batch_is_sent_holds_back_the_next_message(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    sender = twilio_sender_from(twilio_settings(db, standin))
    assert sender is not None
    app = server(db, clock, standin, sms=StopWhileSending(sender, db, clock))
    notices(app, "别人的", phone="+8613900139000")
    notices(app, "第一条")
    app.dispatcher.run_once()
    assert [r.body for r in standin.requests] == ["别人的"]
    assert statuses(app) == [OutboxStatus.SENT, OutboxStatus.SKIPPED]


# -- a crash while sending: the short lease of a code, and asking Twilio before sending again ---


def code(app: App, text: str = "验证码 123456") -> None:
    """A one-time code into the outbox (as registration writes it: urgent, SMS only)."""
    with app.uow() as uow:
        notify(
            uow,
            phone=PHONE,
            kind=NoticeKind.CODE,
            key="raw",
            params={"text": text},
            dedupe_key=f"code:{text}",
            language=Language.ZH,
            now=app.clock.now(),
        )
        uow.commit()


class DiedAfterTwilioTookIt:
    """The process dies after Twilio took the message, before its answer is recorded."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    def send(self, message: Outgoing) -> Outcome:
        self.sender.send(message)
        raise SystemExit("killed")


def test_a_code_whose_process_died_after_twilio_took_it_is_settled_not_sent_again(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    sender = twilio_sender_from(twilio_settings(db, standin))
    assert sender is not None
    first = server(db, clock, standin, sms=DiedAfterTwilioTookIt(sender))
    code(first)
    with pytest.raises(SystemExit):
        first.dispatcher.run_once()
    second = server(db, clock, standin)
    clock.advance(URGENT_LEASE - timedelta(seconds=1))
    assert second.dispatcher.run_once() == 0  # the dead process's claim holds a little longer
    clock.advance(timedelta(seconds=2))  # seconds, not the minutes of a broadcast's lease
    assert second.dispatcher.run_once() == 1
    assert standin.listed == 1  # Twilio was asked whether it has the message: it has
    assert [r.body for r in standin.requests] == ["验证码 123456"]
    with db.connect() as conn:
        row = conn.execute(
            sa.select(outbox.c.status, outbox.c.provider_id, outbox.c.in_doubt)
        ).one()
    assert tuple(row) == (OutboxStatus.SENT, standin.requests[0].sid, True)


def test_a_code_whose_process_died_before_twilio_took_it_goes_out_within_seconds(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    notices(server(db, clock, standin), "别的通知")  # to the same number, another text
    server(db, clock, standin).dispatcher.run_once()
    sender = twilio_sender_from(twilio_settings(db, standin))
    assert sender is not None
    first = server(db, clock, standin, sms=KilledAfter(sender, 0))
    code(first)
    with pytest.raises(SystemExit):
        first.dispatcher.run_once()
    clock.advance(URGENT_LEASE + timedelta(seconds=1))
    assert server(db, clock, standin).dispatcher.run_once() == 1
    assert standin.listed == 1  # Twilio has another message to the number, not this one
    assert [r.body for r in standin.delivered] == ["别的通知", "验证码 123456"]
    assert statuses(first) == [OutboxStatus.SENT, OutboxStatus.SENT]


def test_a_message_in_doubt_waits_while_twilio_cannot_be_asked(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    sender = twilio_sender_from(twilio_settings(db, standin))
    assert sender is not None
    first = server(db, clock, standin, sms=DiedAfterTwilioTookIt(sender))
    code(first)
    with pytest.raises(SystemExit):
        first.dispatcher.run_once()
    clock.advance(URGENT_LEASE + timedelta(seconds=1))
    second = server(db, clock, standin)
    standin.answer(Answer(503, None, "Unavailable"))  # the list fails: nothing is sent blind
    second.dispatcher.run_once()
    assert len(standin.requests) == 1 and statuses(second) == [OutboxStatus.PENDING]
    clock.advance(timedelta(seconds=5))  # the backoff; then Twilio is asked again
    second.dispatcher.run_once()
    assert len(standin.requests) == 1 and statuses(second) == [OutboxStatus.SENT]
    assert standin.listed == 1  # the failed list was not counted by the stand-in


def outbid(app: App, price: str) -> None:
    """An outbid notice into the outbox, as the auction room writes it: one waiting per bidder
    and lot (its coalesce key), written over by a later one while it waits."""
    with app.uow() as uow:
        notify(
            uow,
            phone=PHONE,
            kind=NoticeKind.URGENT,
            key="raw",
            params={"text": f"outbid: now {price}"},
            dedupe_key=f"outbid:1:1:{price}",
            coalesce_key="outbid:1:1",
            language=Language.ZH,
            now=app.clock.now(),
        )
        uow.commit()


@pytest.mark.parametrize("twilio_took_it", [True, False])
def test_a_notice_in_doubt_that_a_later_one_replaced_is_asked_about_then_not_sent_again(
    db: Engine, clock: ManualClock, standin: TwilioStandIn, twilio_took_it: bool
) -> None:
    """The process died sending an outbid notice, and a later one was written before the next
    process took it up: Twilio is asked; if it has it, it is settled as sent, else skipped (a
    copy now would be out of date). The later one goes either way."""
    sender = twilio_sender_from(twilio_settings(db, standin))
    assert sender is not None
    dies: Sender = DiedAfterTwilioTookIt(sender) if twilio_took_it else KilledAfter(sender, 0)
    first = server(db, clock, standin, sms=dies)
    outbid(first, "¥12,000")
    with pytest.raises(SystemExit):
        first.dispatcher.run_once()
    clock.advance(timedelta(seconds=1))
    outbid(first, "¥14,000")  # the first is being sent: this one is a notice of its own
    clock.advance(LEASE)
    second = server(db, clock, standin)
    second.dispatcher.run_once()
    assert standin.listed == 1  # Twilio was asked about the one in doubt
    took = ["outbid: now ¥12,000"] if twilio_took_it else []
    assert [r.body for r in standin.delivered] == [*took, "outbid: now ¥14,000"]
    first_status = OutboxStatus.SENT if twilio_took_it else OutboxStatus.SKIPPED
    assert statuses(second) == [first_status, OutboxStatus.SENT]
