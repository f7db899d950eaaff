"""The auction journey as transcripts (SPEC §7, issue 14 items 2-4): signup → deposit paid on
the sandbox pay page → bidder number and code (by SMS and on screen) → the room → a bid →
outbid by another bidder → a bid again → the close by the timer → won; in zh and en, through
every renderer, on every database under test."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.auctions import YUAN, SignupState
from core.orders import Cause
from core.payments import cancel_order
from platebot.bootstrap import App
from store.tables import outbox
from tests.auction_journey_world import PHONE, JourneyWorld
from tests.auction_world import vin
from tests.support import PLAIN, CapturingSender, Renderer, Transcript, flat

SAY = {
    "zh": {
        "notice": "竞买公告：2026年第12期",
        "lot": "拍品1：粤D·88888，起拍价¥10,000",
        "shares": "报名几份？每份保证金¥5,000",
        "vin": "请输入第1/1辆车的车辆识别代号",
        "summary": "保证金共¥5,000",
        "pay": "请在2026-11-23 10:30前支付保证金¥5,000",
        "sms": "2026年第12期保证金¥5,000已收到。竞买号(\\d{8})，验证码(\\d{6})",
        "active": "报名成功！竞买号{bidder}，验证码{code}",
        "history": "2026年第12期：1份，竞买号{bidder}，验证码{code}",
        "ask_bidder": "请输入竞买号",
        "room": "拍品1/1：粤D·88888",
        "start": "起拍价¥10,000，尚无出价",
        "opens_deadline": "截止11:05:00（剩300秒）",
        "bid_ok": "出价成功：粤D·88888 ¥11,000，您领先。截止11:01:10（剩60秒）",
        "outbid": "当前价¥12,000，领先{leader}",
        "mine": "我的出价¥11,000",
        "bid_again": "出价成功：粤D·88888 ¥13,000，您领先",
        "won": "已结束：您竞得",
        "results": "2026年第12期结果：成交1个，共1个",
        "sold": "1. 粤D·88888 成交¥13,000，竞买号{masked}",
    },
    "en": {
        "notice": "Auction notice: Auction of 2026-11-23",
        "lot": "Lot 1: Yue D 88888, starting price ¥10,000",
        "shares": "How many shares? Deposit ¥5,000 each",
        "vin": "Enter the VIN (17 characters) of vehicle 1 of 1",
        "summary": "deposit ¥5,000 in all",
        "pay": "Pay the deposit of ¥5,000 by 2026-11-23 10:30",
        "sms": "Auction of 2026-11-23: deposit ¥5,000 received, you are signed up. Bidder number "
        "(\\d{8}), code (\\d{6})",
        "active": "Signed up! Bidder number {bidder}, code {code}",
        "history": "Auction of 2026-11-23: 1 share, bidder number {bidder}, code {code}",
        "ask_bidder": "Enter your bidder number",
        "room": "Lot 1/1: Yue D 88888",
        "start": "Starting price ¥10,000, no bids yet",
        "opens_deadline": "Ends 11:05:00 (300 s left)",
        "bid_ok": "Bid accepted: Yue D 88888 ¥11,000, you lead. Ends 11:01:10 (60 s left)",
        "outbid": "Price ¥12,000, leader {leader}",
        "mine": "My bid ¥11,000",
        "bid_again": "Bid accepted: Yue D 88888 ¥13,000, you lead",
        "won": "Ended: you won",
        "results": "Auction of 2026-11-23 results: 1 of 1 sold",
        "sold": "1. Yue D 88888 sold ¥13,000, bidder {masked}",
    },
}


@pytest.fixture
def world(app: App) -> JourneyWorld:
    return JourneyWorld(app)


def sign_up(
    world: JourneyWorld, chat: Transcript, say: dict[str, str], sms: CapturingSender
) -> tuple[str, str]:
    """From the main menu to a paid signup; the bidder number and code from the SMS."""
    chat.pick("auction")
    assert say["notice"] in chat.text
    assert chat.reply is not None
    period_choice = next(c.id for c in chat.reply.choices if c.id.startswith("period:"))
    chat.pick(period_choice)
    assert say["lot"] in chat.text
    chat.pick("signup")
    assert say["shares"] in chat.text
    chat.pick("shares:1")
    assert say["vin"] in chat.text
    chat.say(vin(1))
    assert say["summary"] in flat(chat.text)
    chat.pick("confirm")
    assert say["pay"] in flat(chat.text)
    assert "/pay/" in chat.text or chat.renderer.name == "telegram"
    assert chat.reply is not None
    link = chat.reply.links[0].url
    world.pay_deposit(link)
    told = [text for phone, text in sms.sent if phone == PHONE and re.search(say["sms"], text)]
    assert len(told) == 1, sms.sent
    match = re.search(say["sms"], told[0])
    assert match
    bidder, code = match.group(1), match.group(2)
    chat.pick("check")
    assert say["active"].format(bidder=bidder, code=code) in flat(chat.text)
    return bidder, code


def to_payment(chat: Transcript, period_id: int) -> None:
    """From the main menu to the deposit's pay screen, with one share."""
    chat.pick("auction")
    chat.pick(f"period:{period_id}")
    chat.pick("signup")
    chat.pick("shares:1")
    chat.say(vin(1))
    chat.pick("confirm")


def test_signup_deposit_room_bid_outbid_win_and_results(
    world: JourneyWorld, renderer: Renderer, lang: str, sms: CapturingSender
) -> None:
    say = SAY[lang]
    period_id = world.period(bid_countdown_s=60)
    lot_id = world.lot_ids[0]
    chat = world.chat(renderer, lang)
    bidder, code = sign_up(world, chat, say, sms)
    chat.pick("history")
    assert say["history"].format(bidder=bidder, code=code) in flat(chat.text)

    rival = world.rival(period_id)
    world.start()  # an hour later: the conversation has ended meanwhile
    chat.say("MENU")
    chat.pick("auction")
    chat.pick("room")
    assert say["ask_bidder"] in chat.text
    chat.say(bidder)
    chat.say(code)
    assert say["room"] in flat(chat.text)
    assert say["start"] in flat(chat.text)
    assert say["opens_deadline"] in flat(chat.text)
    assert chat.reply is not None
    assert [c.id for c in chat.reply.choices][:6] == [
        "bid:start",  # no bid yet: the starting price first, then the raises
        *(f"bid:{n * 1_000 * YUAN}" for n in range(1, 6)),
    ]

    world.clock.advance(timedelta(seconds=10))
    chat.pick(f"bid:{1_000 * YUAN}")
    assert say["bid_ok"] in flat(chat.text)

    world.clock.advance(timedelta(seconds=5))
    world.rival_bids(rival, lot_id)  # outbid: ¥12,000
    chat.pick("refresh")
    leader = rival.bidder_number[:2] + "****" + rival.bidder_number[-2:]
    assert say["outbid"].format(leader=leader) in flat(chat.text)
    assert say["mine"] in flat(chat.text)
    assert leader in flat(chat.text)  # among the recent bids too

    chat.pick(f"bid:{1_000 * YUAN}")
    assert say["bid_again"] in flat(chat.text)

    world.clock.advance(timedelta(seconds=60))  # the deadline: the timer closes the lot
    world.run_timers()
    chat.pick("refresh")
    assert say["won"] in flat(chat.text)

    chat.say("MENU")
    chat.pick("auction")
    chat.pick("results")
    chat.pick(f"result:{period_id}")
    masked = bidder[:2] + "****" + bidder[-2:]
    assert say["results"] in flat(chat.text)
    assert say["sold"].format(masked=masked) in flat(chat.text)
    assert bidder not in chat.text


def test_unpaid_deposit_cancels_the_signup_and_frees_its_vins(
    world: JourneyWorld, sms: CapturingSender
) -> None:
    period_id = world.period()
    chat = world.chat(next_renderer(), "en")
    to_payment(chat, period_id)
    world.clock.advance(timedelta(minutes=31))
    world.run_timers()
    with world.app.uow() as uow:
        signup = uow.auctions.signup_of(world.account_id, period_id)
        assert signup is None  # no live signup
        assert not uow.auctions.live_vins([vin(1)])
    assert any("the deposit of ¥5,000 was not paid in time" in text for _, text in sms.sent)
    chat.say("MENU")  # the conversation ended meanwhile
    chat.pick("auction")
    chat.pick(f"period:{period_id}")
    chat.pick("signup")
    chat.pick("shares:1")
    chat.say(vin(1))
    assert "Please confirm" in chat.text


def next_renderer() -> Renderer:
    return PLAIN


def test_a_cancelled_deposit_order_cancels_the_signup(world: JourneyWorld) -> None:
    period_id = world.period()
    chat = world.chat(next_renderer(), "zh")
    to_payment(chat, period_id)
    assert "Pay the deposit" in chat.text or "支付保证金" in chat.text
    with world.app.uow() as uow:
        orders = uow.orders.listed(account_id=world.account_id)
        cancel_order(uow, order_id=orders[0].id or 0, now=world.clock.now(), cause=Cause.USER)
        uow.commit()
    with world.app.uow() as uow:
        signups = uow.auctions.signups(period_id, states=[SignupState.CANCELLED])
        assert len(signups) == 1


def test_the_bidder_number_also_reaches_a_linked_telegram_chat(world: JourneyWorld) -> None:
    period_id = world.period()
    with world.app.uow() as uow:
        uow.contacts.link(
            channel="telegram", address="4242", account_id=world.account_id, now=world.clock.now()
        )
        uow.commit()
    chat = world.chat(PLAIN, "zh")
    to_payment(chat, period_id)
    assert chat.reply is not None
    world.pay_deposit(chat.reply.links[0].url)
    with world.app.db.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.channel, outbox.c.recipient).where(
                outbox.c.key == "auction.notice.deposit_paid"
            )
        ).all()
    assert sorted((str(channel), recipient) for channel, recipient in rows) == [
        ("sms", PHONE),
        ("telegram", "4242"),
    ]


@pytest.mark.parametrize("typed", ["Yue D 88887", "yue d 88887", "粤D·88887", "粤d·88887"])
def test_a_lot_is_picked_in_the_room_by_typing_its_plate_as_either_language_writes_it(
    world: JourneyWorld, renderer: Renderer, lang: str, typed: str
) -> None:
    """The lots are offered as the user's language writes their plates (``Yue D 88887`` in
    English, GSM-7 by SMS); typed in either form, the plate picks its lot."""
    period_id = world.period(lots=2)
    me, code, _ = world.signed_up(period_id, [vin(1)])
    world.start()
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick("room")
    chat.say(f"{me.bidder_number} {code}")
    chat.pick("lots")
    assert ("1 Yue D 88888 ¥10,000" if lang == "en" else "1 粤D·88888 ¥10,000") in chat.text
    assert ("2 Yue D 88887 ¥10,000" if lang == "en" else "2 粤D·88887 ¥10,000") in chat.text
    chat.say(typed)
    chosen = "Lot 2/2: Yue D 88887" if lang == "en" else "拍品2/2：粤D·88887"
    assert chosen in chat.text
    assert lang == "zh" or "粤" not in chat.text
