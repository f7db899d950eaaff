"""Staff broadcasts (SPEC §10): the audience and the cost shown before sending, each recipient
in their language on the channels chosen, opted-out and blocked recipients passed over and
counted, pause, resume, cancel, a set time, and codes never behind a broadcast."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from core import broadcasts, verification
from core.accounts import Language
from core.broadcast_ports import (
    Audience,
    AudienceInvalid,
    AudienceKind,
    BroadcastStateRefused,
    BroadcastTextInvalid,
    Channels,
    NumbersInvalid,
)
from core.clock import ManualClock
from core.errors import UnknownRegion
from core.notices import NoticeKind, notify
from core.orders import Purpose
from core.outbox import Channel, Outcome, Outgoing
from core.payments import place_order
from core.timers import Timers
from platebot.dispatcher import IN_DOUBT
from tests.auction_world import AuctionWorld
from tests.broadcast_world import BroadcastWorld
from tests.support import CapturingSender

ZH = "明天上午车管所系统维护，暂停办理。"
EN = "The office system is down for maintenance tomorrow morning."


@pytest.fixture
def world(db: Engine, clock: ManualClock) -> BroadcastWorld:
    return BroadcastWorld(db, clock)


def test_the_preview_counts_recipients_per_channel_and_the_sms_segments(
    world: BroadcastWorld,
) -> None:
    world.person()  # SMS, Chinese: 1 segment (UCS-2, under 70 characters)
    world.person(language=Language.EN)  # SMS, English: 1 segment (GSM-7)
    world.person(chat="5001")  # Telegram
    world.person(chat="5002", blocked=True)  # the chat blocked the bot: SMS instead
    world.person(opted_out=True)  # sent STOP: passed over
    preview = world.compose(zh=ZH * 5)  # 85 characters: 2 UCS-2 segments (67 a part)
    assert (preview["recipients"], preview["telegram"], preview["sms"]) == (4, 1, 3)
    assert (preview["opted_out"], preview["blocked"], preview["unreachable"]) == (1, 0, 0)
    assert preview["sms_segments"] == 2 + 1 + 2


def test_telegram_only_passes_over_accounts_without_a_chat_and_blocked_chats(
    world: BroadcastWorld,
) -> None:
    world.person()
    world.person(chat="5001")
    world.person(chat="5002", blocked=True)
    preview = world.compose(channels=Channels.TELEGRAM)
    assert (preview["telegram"], preview["sms"], preview["sms_segments"]) == (1, 0, 0)
    assert (preview["blocked"], preview["unreachable"]) == (1, 1)


def test_sms_only_goes_to_every_number_even_with_a_chat(world: BroadcastWorld) -> None:
    world.person(chat="5001")
    world.person()
    preview = world.compose(channels=Channels.SMS)
    assert (preview["telegram"], preview["sms"]) == (0, 2)


def test_each_recipient_gets_the_text_in_their_language_on_their_channel(
    world: BroadcastWorld,
) -> None:
    _, zh_phone = world.person()
    _, en_phone = world.person(language=Language.EN)
    world.person(language=Language.EN, chat="5001")
    draft = world.compose()
    world.staff.send(draft["id"])
    world.dispatch()
    assert sorted(world.sms.sent) == sorted([(zh_phone, ZH), (en_phone, EN)])
    assert world.telegram.sent == [("5001", EN)]


def test_opted_out_and_blocked_recipients_are_not_sent_and_are_counted(
    world: BroadcastWorld,
) -> None:
    world.person(opted_out=True)
    world.person(chat="5001", blocked=True)
    _, phone = world.person()
    draft = world.compose(channels=Channels.TELEGRAM_ELSE_SMS)
    world.staff.send(draft["id"])
    world.dispatch()
    # the blocked chat's account is sent by SMS instead; the opted-out number not at all
    assert len(world.sms.sent) == 2
    assert phone in {recipient for recipient, _ in world.sms.sent}
    progress = world.staff.progress(draft["id"])
    assert (progress["total"], progress["sent"], progress["opted_out"]) == (3, 2, 1)
    assert (progress["left"], progress["status"]) == (0, "finished")


def test_a_number_that_sends_stop_after_the_broadcast_started_is_skipped_and_counted(
    world: BroadcastWorld,
) -> None:
    _, phone = world.person()
    draft = world.compose()
    world.staff.send(draft["id"])
    world.opt_out(phone)
    world.dispatch()
    assert world.sms.sent == []
    assert world.staff.progress(draft["id"])["opted_out"] == 1


def test_the_audience_of_one_region(world: BroadcastWorld) -> None:
    world.person(region="4405")
    world.person(region="4403")
    preview = world.compose(Audience(AudienceKind.REGION, region_code="4403"))
    assert preview["recipients"] == 1


def test_an_unknown_region_or_period_is_refused(world: BroadcastWorld) -> None:
    with pytest.raises(UnknownRegion):
        world.compose(Audience(AudienceKind.REGION, region_code="9999"))
    with pytest.raises(AudienceInvalid):
        world.compose(Audience(AudienceKind.BIDDERS, period_id=42))


def test_the_audience_of_the_bidders_of_one_period(db: Engine, world: BroadcastWorld) -> None:
    auction = AuctionWorld(db)
    period = auction.period()
    bidders = [auction.bidder(period).account_id for _ in range(2)]
    auction.signup(period, auction.new_vins(1))  # signed up, deposit not paid: not a bidder
    other = auction.period(name="2026年第13期")
    auction.bidder(other)
    draft = world.compose(Audience(AudienceKind.BIDDERS, period_id=period))
    world.staff.send(draft["id"])
    report = world.staff.report(draft["id"])
    assert sorted(row["account_id"] for row in report) == sorted(bidders)


def test_the_audience_of_accounts_with_an_unfinished_order(world: BroadcastWorld) -> None:
    owing, _ = world.person()
    world.person()  # nothing owed
    with world.app.uow() as uow:
        for listing in (1, 2):  # two pending orders: one message
            place_order(
                uow,
                account_id=owing,
                purpose=Purpose.PLATE_PURCHASE,
                reference=f"listing:{listing}",
                subject="粤D·A1234",
                amount=1_200_000,
                now=world.clock.now(),
            )
        uow.commit()
    draft = world.compose(Audience(AudienceKind.UNFINISHED_ORDERS))
    world.staff.send(draft["id"])
    assert [row["account_id"] for row in world.staff.report(draft["id"])] == [owing]


def test_a_list_of_numbers_reaches_accounts_as_themselves_and_other_numbers_by_sms(
    world: BroadcastWorld,
) -> None:
    world.person(language=Language.EN, chat="5001")
    csv = "phone\n+86 139 0000 0001\n13800138000\n13800138000\n"
    phones = broadcasts.phones_from_csv(csv)
    assert phones == ("+8613900000001", "+8613800138000")
    draft = world.compose(Audience(AudienceKind.NUMBERS, phones=phones))
    world.staff.send(draft["id"])
    world.dispatch()
    assert world.telegram.sent == [("5001", EN)]
    assert world.sms.sent == [("+8613800138000", ZH)]  # no account: Chinese


def test_a_list_with_lines_that_are_not_mobile_numbers_is_refused() -> None:
    with pytest.raises(NumbersInvalid) as refused:
        broadcasts.phones_from_csv("13800138000\nhello\n12345\n")
    assert refused.value.params == {"lines": "2, 3", "count": 2}


def test_pause_holds_what_is_left_resume_sends_it_and_cancel_drops_it(
    world: BroadcastWorld,
) -> None:
    for _ in range(5):
        world.person()
    draft = world.compose()
    world.staff.send(draft["id"])
    world.app.dispatcher.batch = 2
    world.app.dispatcher.run_channel(Channel.SMS)
    assert len(world.sms.sent) == 2
    paused = world.staff.pause(draft["id"])
    assert (paused["status"], paused["left"]) == ("paused", 3)
    world.clock.advance(timedelta(hours=1))
    world.dispatch()
    assert len(world.sms.sent) == 2, "nothing is sent while paused"
    world.staff.resume(draft["id"])
    world.app.dispatcher.run_channel(Channel.SMS)
    assert len(world.sms.sent) == 4
    cancelled = world.staff.cancel(draft["id"])
    world.dispatch()
    assert len(world.sms.sent) == 4, "nothing is sent once cancelled"
    assert (cancelled["status"], cancelled["sent"], cancelled["cancelled"]) == ("cancelled", 4, 1)
    with pytest.raises(BroadcastStateRefused):
        world.staff.resume(draft["id"])


def test_a_broadcast_set_for_later_starts_at_its_time(world: BroadcastWorld) -> None:
    world.person()
    draft = world.compose()
    world.staff.send(draft["id"], at=world.clock.now() + timedelta(hours=2))
    timers = Timers(world.app.uow, world.clock)
    timers.run_once()
    world.dispatch()
    assert world.sms.sent == []
    assert world.staff.progress(draft["id"])["status"] == "scheduled"
    world.clock.advance(timedelta(hours=2))
    timers.run_once()
    world.dispatch()
    assert len(world.sms.sent) == 1
    timers.run_once()  # run again: nobody twice
    world.dispatch()
    assert len(world.sms.sent) == 1


def test_a_sent_broadcast_cannot_be_sent_again(world: BroadcastWorld) -> None:
    world.person()
    draft = world.compose()
    world.staff.send(draft["id"])
    with pytest.raises(BroadcastStateRefused):
        world.staff.send(draft["id"])
    world.dispatch()
    assert len(world.sms.sent) == 1


@dataclass
class WritesOnce:
    """Sends through ``sender``; once ``after`` messages have gone, runs ``then`` first (once,
    whichever sending thread gets there)."""

    sender: CapturingSender
    after: int
    then: Callable[[], None]
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False

    def send(self, message: Outgoing) -> Outcome:
        with self.lock:
            if not self.done and len(self.sender.sent) >= self.after:
                self.done = True
                self.then()
        return self.sender.send(message)


def test_a_code_and_an_auction_notice_sent_while_a_broadcast_goes_out_go_before_the_rest(
    world: BroadcastWorld,
) -> None:
    bidder, bidder_phone = world.person()
    for _ in range(59):
        world.person()
    draft = world.compose()
    world.staff.send(draft["id"])
    key = world.app.dispatcher.code_key
    assert key is not None

    def code_and_notice() -> None:
        with world.app.uow() as uow:
            verification.send_code(
                uow,
                clock=world.clock,
                key=key,
                phone="+8613800138000",
                purpose=verification.REGISTER,
                language=Language.ZH,
            )
            notify(  # an auction notice: outbid
                uow,
                kind=NoticeKind.URGENT,
                key=broadcasts.BODY_KEY,
                params={"text": "您的出价已被超过。"},
                dedupe_key="outbid:1",
                now=world.clock.now(),
                account_id=bidder,
            )
            uow.commit()

    dispatcher = world.app.dispatcher
    dispatcher.batch = 10  # the broadcast goes batch after batch
    dispatcher.senders = {Channel.SMS: WritesOnce(world.sms, after=10, then=code_and_notice)}
    assert dict(dispatcher.lanes())["outbox:sms"]() == 62  # the server's SMS lane
    order = [recipient for recipient, _text in world.sms.sent]
    code = order.index("+8613800138000")
    assert world.sms.sent[code + 1] == (bidder_phone, "您的出价已被超过。"), "then the notice"
    # Ahead of the broadcast messages still waiting: behind at most those claimed already
    # (a batch) and those being sent (IN_DOUBT).
    assert code <= 10 + dispatcher.batch + IN_DOUBT[Channel.SMS], order
    assert len(order) - code > 10


def test_the_report_has_every_recipients_outcome(world: BroadcastWorld) -> None:
    world.person(opted_out=True)
    world.person(chat="5001")
    draft = world.compose()
    world.staff.send(draft["id"])
    world.dispatch()
    report = world.staff.report(draft["id"])
    assert sorted((r["channel"], r["status"]) for r in report) == [
        ("sms", "skipped"),
        ("telegram", "sent"),
    ]
    assert all(r["sent_at"] for r in report if r["status"] == "sent")


def test_a_text_missing_is_refused(world: BroadcastWorld) -> None:
    with pytest.raises(BroadcastTextInvalid):
        world.compose(en="  ")


def test_an_account_with_two_chats_gets_it_on_the_one_linked_last_that_has_not_blocked_the_bot(
    world: BroadcastWorld,
) -> None:
    account, _ = world.person(chat="5001")
    with world.app.uow() as uow:  # a second chat, linked later, that blocked the bot
        world.clock.advance(timedelta(minutes=1))
        uow.contacts.link(
            channel="telegram", address="5002", account_id=account, now=world.clock.now()
        )
        uow.commit()
    world.chat_seen("5002", blocked=True)
    draft = world.compose()
    assert (draft["telegram"], draft["sms"], draft["blocked"]) == (1, 0, 0)
    world.staff.send(draft["id"])
    world.dispatch()
    assert world.telegram.sent == [("5001", ZH)]


@pytest.mark.parametrize("kind", list(AudienceKind))
def test_what_is_sent_is_what_the_preview_counted_for_every_audience(
    db: Engine, world: BroadcastWorld, kind: AudienceKind
) -> None:
    auction = AuctionWorld(db)
    period = auction.period()
    auction.bidder(period)
    people = [
        world.person(region="4403"),
        world.person(region="4403", opted_out=True),
        world.person(chat="5001", language=Language.EN),
        world.person(chat="5002", blocked=True, opted_out=True),
        world.person(chat="5003", blocked=True),
    ]
    with world.app.uow() as uow:
        for account, _ in people[1:4]:
            place_order(
                uow,
                account_id=account,
                purpose=Purpose.PLATE_PURCHASE,
                reference=f"listing:{account}",
                subject="粤D·A1234",
                amount=1_200_000,
                now=world.clock.now(),
            )
        uow.commit()
    audience = {
        AudienceKind.EVERYONE: Audience(kind),
        AudienceKind.REGION: Audience(kind, region_code="4403"),
        AudienceKind.BIDDERS: Audience(kind, period_id=period),
        AudienceKind.UNFINISHED_ORDERS: Audience(kind),
        AudienceKind.NUMBERS: Audience(kind, phones=(*(p for _, p in people), "+8613800138000")),
    }[kind]
    expected = {  # (recipients, telegram, opted out) for each audience
        AudienceKind.EVERYONE: (4, 1, 2),  # and the bidder
        AudienceKind.REGION: (1, 0, 1),
        AudienceKind.BIDDERS: (1, 0, 0),
        AudienceKind.UNFINISHED_ORDERS: (1, 1, 2),
        AudienceKind.NUMBERS: (4, 1, 2),
    }[kind]
    for channels in Channels:
        draft = world.compose(audience, channels)
        if channels is Channels.TELEGRAM_ELSE_SMS:
            assert (draft["recipients"], draft["telegram"], draft["opted_out"]) == expected
        world.staff.send(draft["id"])
        report = world.staff.report(draft["id"])
        sent = [r for r in report if r["status"] == "pending"]
        skipped = [r for r in report if r["status"] == "skipped"]
        assert len(sent) == draft["recipients"], (kind, channels)
        assert len(sent) == draft["sms"] + draft["telegram"]
        passed_over = draft["opted_out"] + draft["blocked"] + draft["unreachable"]
        assert len(skipped) == passed_over, (kind, channels)  # everyone is in the report
        assert len([r for r in sent if r["channel"] == "sms"]) == draft["sms"]
        progress = world.staff.progress(draft["id"])
        assert (progress["opted_out"], progress["blocked"], progress["unreachable"]) == (
            draft["opted_out"],
            draft["blocked"],
            draft["unreachable"],
        )
        if sent:
            world.staff.cancel(draft["id"])
