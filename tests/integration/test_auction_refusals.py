"""Every refusal of the auction journey as transcripts (SPEC §7): it says why and what to do
next; zh and en, every renderer, every database under test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.auctions import YUAN, LotState
from platebot.bootstrap import App
from platebot.staff_auctions import StaffAuctions
from tests.auction_journey_world import JourneyWorld
from tests.auction_world import vin
from tests.support import RENDERERS, Renderer, Transcript, flat

SAY = {
    "zh": {
        "closed": "不在报名时间内（2026-11-23 10:10至2026-11-23 11:00）",
        "duplicate": f"{vin(1)}已输入过，每份须是不同车辆",
        "taken": f"{vin(7)}已在另一报名中，请输入另一辆车的车辆识别代号",
        "wrong_code": "验证码不正确，还可输错4次，请重新输入",
        "exhausted": "验证码输错次数过多，已失效",
        "too_low": "自动出价最高额至少¥10,000，请重新输入",
        "increment": "加价须为¥1,000 ¥2,000 ¥3,000 ¥4,000 ¥5,000之一，如B 1000",
        "leading": "您已领先，不能给自己加价",
        "locked": f"车辆{vin(1)}正在拍品1 粤D·88888领先或已竞得，不能再出价",
        "late": "已过截止时间，出价无效",
        "pick_vin": "用哪辆车出价？",
        "accepted": "出价成功",
        "again": "您已报名本期，可在报名记录查看。",
    },
    "en": {
        "closed": "Signup is closed (it is open 2026-11-23 10:10 to 2026-11-23 11:00)",
        "duplicate": f"{vin(1)} was entered already: each share needs another vehicle",
        "taken": f"{vin(7)} is in another signup. Enter another vehicle's VIN.",
        "wrong_code": "Wrong code. 4 tries left; enter it again.",
        "exhausted": "Too many wrong codes: the code no longer works",
        "too_low": "The maximum must be at least ¥10,000. Enter it again.",
        "increment": "Raise by one of ¥1,000 ¥2,000 ¥3,000 ¥4,000 ¥5,000, e.g. B 1000.",
        "leading": "You lead already and cannot raise your own bid",
        "locked": f"Vehicle {vin(1)} leads or won lot 1 Yue D 88888: it cannot bid now.",
        "late": "Too late: the lot's deadline has passed",
        "pick_vin": "Bid with which vehicle?",
        "accepted": "Bid accepted",
        "again": "You have signed up for this auction already: see Signup history.",
    },
}


@pytest.fixture
def world(app: App) -> JourneyWorld:
    return JourneyWorld(app)


def enter_room(chat: Transcript, bidder: str, code: str) -> None:
    chat.pick("auction")
    chat.pick("room")
    chat.say(f"{bidder} {code}")
    assert chat.reply is not None
    assert "bid:100000" in [c.id for c in chat.reply.choices]


def test_signup_outside_its_window_is_refused(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period(opens_in=timedelta(minutes=10))
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick(f"period:{period_id}")
    chat.pick("signup")
    assert SAY[lang]["closed"] in flat(chat.text)
    world.clock.advance(timedelta(minutes=10))  # open now
    chat.pick("signup")
    assert chat.reply is not None
    assert "shares:1" in [c.id for c in chat.reply.choices]
    world.start()  # bidding starts: signup is closed
    chat.say("MENU")
    chat.pick("auction")
    chat.pick(f"period:{period_id}")
    assert chat.reply is not None
    assert "signup" not in [c.id for c in chat.reply.choices]


def test_a_vin_twice_or_in_another_signup_is_refused(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period()
    world.rival(period_id)  # signs up with vin(910)
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick(f"period:{period_id}")
    chat.pick("signup")
    chat.pick("shares:2")
    chat.say(vin(1))
    chat.say(vin(1))
    assert SAY[lang]["duplicate"] in flat(chat.text)
    chat.say(vin(910))  # in the rival's live signup
    assert SAY[lang]["taken"].replace(vin(7), vin(910)) in flat(chat.text)
    chat.say(vin(2))
    assert vin(1) in flat(chat.text) and vin(2) in flat(chat.text)  # the summary


CHANGED = {
    "zh": (
        "保证金共¥5,000",
        "车管所已将每份保证金改为¥8,000，请核对新的合计后再确认",
        "保证金共¥8,000",
    ),
    "en": (
        "deposit ¥5,000 in all",
        "The office changed the deposit to ¥8,000 a share: check the new total and confirm again",
        "deposit ¥8,000 in all",
    ),
}


def test_a_deposit_changed_while_the_user_confirms_is_shown_again_before_anything_is_signed(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period(opens_in=timedelta(minutes=10))  # staff may change it: not open
    world.clock.advance(timedelta(minutes=10))  # open now, nobody signed up yet
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick(f"period:{period_id}")
    chat.pick("signup")
    chat.pick("shares:1")
    chat.say(vin(1))
    shown, refusal, again = CHANGED[lang]
    assert shown in flat(chat.text)  # the summary the user reads
    StaffAuctions(world.app.uow, world.clock, world.app.payments).amend_period(
        period_id, deposit_fen=800_000
    )
    chat.pick("confirm")
    assert refusal in flat(chat.text) and again in flat(chat.text)  # the new total to confirm
    with world.app.uow() as uow:
        assert uow.auctions.signup_of(world.account_id, period_id) is None  # nothing signed
    chat.pick("confirm")
    with world.app.uow() as uow:
        signup = uow.auctions.signup_of(world.account_id, period_id)
    assert signup is not None and signup.deposit_fen == 800_000


def test_a_second_signup_for_the_same_period_is_refused_before_any_vin_is_asked(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period()
    world.signed_up(period_id, [vin(1)])  # this chat's account, signed up and paid
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick(f"period:{period_id}")
    chat.pick("signup")
    assert SAY[lang]["again"] in flat(chat.text)
    assert chat.reply is not None
    assert not any(c.id.startswith("shares:") for c in chat.reply.choices)


def test_wrong_codes_are_refused_and_limited(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period()
    me, code, _ = world.signed_up(period_id, [vin(1)])
    world.start()
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick("room")
    chat.say(me.bidder_number)
    wrong = "000000" if code != "000000" else "111111"
    chat.say(wrong)
    assert SAY[lang]["wrong_code"] in flat(chat.text)
    for _ in range(4):
        chat.say(wrong)
    assert SAY[lang]["exhausted"] in flat(chat.text)
    chat.say(code)  # too late: the code no longer works
    assert SAY[lang]["exhausted"] in flat(chat.text)


def test_bids_that_break_a_rule_are_refused_with_the_reason(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    period_id = world.period(bid_countdown_s=60)
    me, code, _ = world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    world.start()
    chat = world.chat(renderer, lang)
    enter_room(chat, me.bidder_number, code)
    chat.pick("max")
    chat.say("5000")  # a maximum below the lowest bid allowed
    assert say["too_low"] in flat(chat.text)
    chat.say("BACK")
    chat.say("B 1500")  # not an allowed increment
    assert say["increment"] in flat(chat.text)
    chat.say("B 1000")
    assert say["accepted"] in flat(chat.text)
    chat.say("B 1000")  # raising one's own leading bid
    assert say["leading"] in flat(chat.text)

    world.clock.advance(timedelta(seconds=5))
    world.rival_bids(rival, world.lot_ids[0])  # deadline: now + 60 s
    world.clock.advance(timedelta(seconds=60, milliseconds=1))  # 1 ms after it, not closed yet
    chat.say("B 1000")
    assert say["late"] in flat(chat.text)
    lot = world.lot_ids[0]
    with world.app.uow() as uow:
        found = uow.auctions.lot(lot)
        assert found is not None and found.state is LotState.OPEN
        assert found.price_fen == 12_000 * YUAN  # the refused bid changed nothing
        trail = list(uow.auctions.bids(lot))
    assert [bid.refusal for bid in trail if not bid.accepted] == [
        "auction.not_an_increment",
        "auction.already_leading",
        "auction.after_deadline",
    ]


def test_a_bid_one_millisecond_before_the_deadline_is_accepted(
    world: JourneyWorld, lang: str
) -> None:
    period_id = world.period(bid_countdown_s=60)
    me, code, _ = world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    world.start()
    world.rival_bids(rival, world.lot_ids[0])
    world.clock.advance(timedelta(seconds=60, milliseconds=-1))
    chat = world.chat(next(r for r in RENDERERS if r.name == "sms"), lang)
    enter_room(chat, me.bidder_number, code)
    chat.say("B 1000")
    assert SAY[lang]["accepted"] in flat(chat.text)


def test_a_raise_that_is_not_allowed_is_refused_before_a_vehicle_is_asked_for(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period()
    me, code, _ = world.signed_up(period_id, [vin(1), vin(2)])
    world.start()
    chat = world.chat(renderer, lang)
    enter_room(chat, me.bidder_number, code)
    chat.say("B 1500")
    assert SAY[lang]["increment"] in flat(chat.text)
    assert SAY[lang]["pick_vin"] not in chat.text and vin(1) not in chat.text
    with world.app.uow() as uow:  # kept in the lot's trail, with its reason
        trail = list(uow.auctions.bids(world.lot_ids[0]))
    assert [(bid.accepted, bid.refusal) for bid in trail] == [(False, "auction.not_an_increment")]


def test_a_vin_leading_another_lot_is_refused(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    period_id = world.period(lots=2)
    me, code, shares = world.signed_up(period_id, [vin(1), vin(2)])
    world.start()
    chat = world.chat(renderer, lang)
    enter_room(chat, me.bidder_number, code)
    chat.pick("lots")
    chat.pick(f"lot:{world.lot_ids[1]}")
    chat.pick("bid:100000")  # two VINs free: which one?
    assert say["pick_vin"] in chat.text
    # meanwhile the first VIN takes the lead on lot 1 (from the Telegram room message, say)
    world.rival_bids(me, world.lot_ids[0], share_id=shares[0])
    chat.pick(f"share:{shares[0]}")
    assert say["locked"] in flat(chat.text)
    chat.pick("bid:100000")  # one VIN free now: not asked
    assert say["accepted"] in flat(chat.text)


def test_a_bidder_with_one_vin_leading_another_lot_is_refused_by_sms(
    world: JourneyWorld, lang: str
) -> None:
    say = SAY[lang]
    period_id = world.period(lots=2)
    me, code, shares = world.signed_up(period_id, [vin(1)])
    world.start()
    chat = world.chat(next(r for r in RENDERERS if r.name == "sms"), lang)
    enter_room(chat, me.bidder_number, code)
    chat.say("L 2")
    world.rival_bids(me, world.lot_ids[0], share_id=shares[0])  # its one VIN leads lot 1
    chat.say("B 1000")
    assert say["locked"] in flat(chat.text)
    chat.say("B 1000")  # asked again: refused again, nothing else is read into it
    assert say["locked"] in flat(chat.text)


NOT_MINE = {
    "zh": "竞买号或验证码不正确",
    "en": "Wrong bidder number or code",
}


def test_another_accounts_wrong_codes_leave_the_bidders_code_working(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period()
    me, code, _ = world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    world.start()
    other = world.chat(renderer, lang, phone=rival.phone)
    other.pick("auction")
    other.pick("room")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(6):
        other.say(f"{me.bidder_number} {wrong}")
        assert NOT_MINE[lang] in flat(other.text)
        assert SAY[lang]["exhausted"] not in flat(other.text)
    with world.app.uow() as uow:
        signup = uow.auctions.signup(me.signup_id)
        assert signup is not None and signup.wrong_codes == 0  # nothing counted against me
    chat = world.chat(renderer, lang)
    enter_room(chat, me.bidder_number, code)


def test_anothers_bidder_number_is_answered_as_an_unknown_one_even_with_its_code(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period()
    me, code, _ = world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    world.start()
    other = world.chat(renderer, lang, phone=rival.phone)
    other.pick("auction")
    other.pick("room")
    wrong = "000000" if code != "000000" else "111111"
    unknown = "12345678" if me.bidder_number != "12345678" else "87654321"
    answers = []
    for typed in (
        f"{me.bidder_number} {wrong}",
        f"{unknown} {wrong}",
        f"{me.bidder_number} {code}",
    ):
        other.say(typed)
        answers.append(flat(other.text))
    assert answers[0] == answers[1] == answers[2]
    assert NOT_MINE[lang] in answers[0]
    other.say(me.bidder_number)  # one after the other: the same answer, asked for both again
    other.say(wrong)
    assert flat(other.text) == answers[0]
    assert other.reply is not None and "bid:100000" not in [c.id for c in other.reply.choices]


def test_the_bidders_own_wrong_codes_are_told_unknown_numbers_are_not(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period()
    me, code, _ = world.signed_up(period_id, [vin(1)])
    world.start()
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick("room")
    wrong = "000000" if code != "000000" else "111111"
    unknown = "12345678" if me.bidder_number != "12345678" else "87654321"
    chat.say(f"{unknown} {wrong}")
    assert NOT_MINE[lang] in flat(chat.text)
    chat.say(f"{me.bidder_number} {wrong}")
    assert SAY[lang]["wrong_code"] in flat(chat.text)


def test_a_chat_without_an_account_signs_in_before_the_room_asks_for_a_bidder_number(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    period_id = world.period()
    world.signed_up(period_id, [vin(1)])
    world.start()
    chat = world.chat(renderer, lang, phone="+8613900009999")  # no account
    chat.pick("auction")
    chat.pick("room")
    assert {"zh": "该业务需要账户", "en": "You need an account"}[lang] in flat(chat.text)
    assert "bidder number" not in flat(chat.text) and "竞买号" not in flat(chat.text)
