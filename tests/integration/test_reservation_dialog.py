"""Plate reservation as transcripts (SPEC §8): what the user types and sees, and the notices
they get, in zh and en, through every renderer, on every database under test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import reservations
from core.accounts import Account
from core.clock import ManualClock
from core.orders import OrderState
from core.plates import PlateKind
from core.pools import NumberState
from platebot.bootstrap import App
from sms.segments import segment_count
from tests.preselect_world import PERSON_PHONE, add_office, vin
from tests.reservation_world import (
    DEPOSIT,
    RIVAL_PHONE,
    START_PRICE,
    add_lot,
    bid,
    bidder,
    order,
    pay_by_gateway,
    publish_period,
    reservation,
    reservation_world,
    run_jobs,
    sms_to,
    staff,
    start,
    the_reservations,
)
from tests.support import SMS, CapturingSender, Renderer, Transcript, sms_pages

SAY = {
    "zh": {
        "home": "号牌预约：输入想要的号牌后五位",
        "ask_number": "请输入想预约的粤D号牌后五位",
        "ask_vin": "预约粤D·A8888。请输入车辆识别代号",
        "sent": "已提交：粤D·A8888",
        "history": "粤D·A8888（车架号尾号{vin}）：{state}",
        "pending": "待审核",
        "rejected": "未通过，原因：该号码暂不开放预约",
        "approved": "已通过，请于2026-11-23 10:30前支付预约保证金¥5,000",
        "placed": "已进入竞买：2026年第12期",
        "paid": "已付保证金，等待下一期竞买",
        "lapsed": "保证金逾期未付，已失效",
        "lost": "已由他人竞得，保证金退回",
        "won": "已由您竞得，保证金退回",
        "unsold": "无人出价，保证金退回",
        "pay_link": "支付粤D·A8888预约保证金",
        "invalid": "不是有效号码",
        "pooled": "粤D·10001在选号号池中，不能预约",
        "taken": "粤D·10002已被选用，不能预约",
        "for_sale": "粤D·10003正在按固定价格出售，不能预约",
        "in_auction": "粤D·B6666已在竞买中",
        "reserved": "粤D·C7777已被他人预约",
        "yours": "您已预约粤D·A8888，可在“历史预约”中查看",
        "next": "请输入其他号码",
        "vin_checksum": "校验位（第9位）不正确",
        "vin_invalid": "车辆识别代号为17位",
        "n_rejected": "您预约的粤D·A8888未通过审核，原因：该号码暂不开放预约",
        "n_approved": "您预约的粤D·A8888已审核通过。请于2026-11-23 10:30前支付预约保证金¥5,000：",
        "n_waiting": "已收到粤D·A8888的预约保证金¥5,000，号牌将进入下一期竞买",
        "n_paid_placed": "预约保证金¥5,000已收到，粤D·A8888已进入2026年第12期竞买",
        "n_placed": "粤D·A8888进入2026年第12期竞买",
        "n_lapsed": "粤D·A8888的预约保证金逾期未付，预约已失效",
        "n_lost": "粤D·A8888已由他人竞得，预约保证金¥5,000已退回",
        "n_won": "您竞得了粤D·A8888。预约保证金¥5,000已退回",
        "n_unsold": "粤D·A8888无人出价。预约保证金¥5,000已退回",
    },
    "en": {
        "home": "Reserve a plate: enter the last 5 characters",
        "ask_number": "Enter the last 5 characters of the Yue D plate you want",
        "ask_vin": "Reserving Yue D A8888. Enter your VIN",
        "sent": "Reservation sent: Yue D A8888. Staff will review it",
        "history": "Yue D A8888 (VIN ending {vin}): {state}",
        "pending": "waiting for review",
        "rejected": "rejected; reason: 该号码暂不开放预约",
        "approved": "approved; pay the deposit of ¥5,000 by 2026-11-23 10:30",
        "placed": "in the auction: Auction of 2026-11-24",
        "paid": "deposit paid, waiting for the next auction",
        "lapsed": "lapsed, deposit not paid in time",
        "lost": "won by another bidder, deposit refunded",
        "won": "won by you, deposit refunded",
        "unsold": "nobody bid, deposit refunded",
        "pay_link": "Pay the deposit for Yue D A8888",
        "invalid": "is not a valid number",
        "pooled": "Yue D 10001 is in the pool for new-car pre-selection, not for reservation",
        "taken": "Yue D 10002 is taken",
        "for_sale": "Yue D 10003 is for sale at a fixed price, not for reservation",
        "in_auction": "Yue D B6666 is in an auction already",
        "reserved": "Yue D C7777 is reserved by someone else",
        "yours": "You have reserved Yue D A8888 already: see Reservation history",
        "next": "Enter another number",
        "vin_checksum": "check digit (9th character) is wrong",
        "vin_invalid": "A VIN has 17 letters and digits",
        "n_rejected": "your reservation of Yue D A8888 was rejected: 该号码暂不开放预约",
        "n_approved": "your reservation of Yue D A8888 is approved. Pay the reservation deposit of ¥5,000 by 2026-11-23 10:30 (China time): ",  # noqa: E501
        "n_waiting": "reservation deposit of ¥5,000 for Yue D A8888 received",
        "n_paid_placed": 'deposit ¥5,000 received: Yue D A8888 is a lot of "Auction of 2026-11-24"',
        "n_placed": 'Yue D A8888 is a lot of the auction period "Auction of 2026-11-24"',
        "n_lapsed": "the deposit for Yue D A8888 was not paid in time; the reservation has lapsed",
        "n_lost": "Yue D A8888 was won by another bidder. Your reservation deposit of ¥5,000 has been refunded",  # noqa: E501
        "n_won": "you won Yue D A8888. Your reservation deposit of ¥5,000 has been refunded",
        "n_unsold": "nobody bid for Yue D A8888. Your reservation deposit of ¥5,000 has been refunded",  # noqa: E501
    },
}

REASON = "该号码暂不开放预约"


@pytest.fixture
def world(app: App) -> dict[str, int]:
    return reservation_world(app)


def reserve(chat: Transcript, say: dict[str, str], serial: str = "粤d a8888", n: int = 1) -> None:
    """From the main menu to a sent reservation of ``serial`` for vehicle ``n``."""
    chat.pick("reserve")
    assert say["home"] in chat.text
    chat.pick("start")
    assert say["ask_number"] in chat.text
    chat.say(serial)
    chat.say(vin(n))
    assert say["sent"] in chat.text


def history(chat: Transcript, say: dict[str, str], state: str, n: int = 1) -> None:
    chat.say("MENU")
    chat.pick("reserve")
    chat.pick("history")
    assert say["history"].format(vin=vin(n)[-6:], state=say[state]) in chat.text, chat.text


def approved(app: App, chat: Transcript, say: dict[str, str]) -> int:
    """Reserved, approved by staff; the deposit order's id."""
    reserve(chat, say)
    done = staff(app).approve(the_reservations(app)[0]["id"], staff="王芳")
    app.dispatcher.run_once()
    assert done["state"] == "approved" and done["deposit_fen"] == DEPOSIT
    order_id = done["order_id"]
    assert isinstance(order_id, int)
    return order_id


def test_a_free_number_becomes_a_pending_reservation_shown_in_history(
    app: App, world: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    chat.pick("reserve")
    assert say["home"] in chat.text
    chat.pick("start")  # one office to choose: not asked
    assert say["ask_number"] in chat.text
    chat.say("粤d a8888")
    assert say["ask_vin"] in chat.text
    chat.say(vin(1).lower())
    assert say["sent"] in chat.text
    chat.pick("history")
    assert say["history"].format(vin=vin(1)[-6:], state=say["pending"]) in chat.text
    [row] = the_reservations(app)
    assert (row["state"], row["plate"], row["vin"], row["account_id"]) == (
        "pending",
        "粤D·A8888",
        vin(1),
        world["me"],
    )


def test_a_user_who_may_choose_among_offices_picks_one_first(
    app: App, world: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    add_office(app, code="粤X", name="汕头市第二车辆管理所")
    chat = start(app, renderer, lang)
    chat.pick("reserve")
    chat.pick("start")
    assert [c.id for c in chat.reply.choices][:2] == ["office:粤D", "office:粤X"]  # type: ignore[union-attr]
    chat.pick("office:粤X")
    assert say["ask_number"].replace("D", "X") in chat.text
    chat.say("A8888")
    chat.say(vin(1))
    assert [row["plate"] for row in the_reservations(app)] == ["粤X·A8888"]


def test_every_refusal_says_why_and_asks_again(
    app: App, world: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    add_lot(app, publish_period(app), "B6666")
    with app.uow() as uow:
        office = uow.offices.by_code("粤D")
        assert office is not None and office.id is not None
        uow.pool.set_state(office.id, PlateKind.SMALL, "10002", NumberState.PRESELECTED)
        uow.pool.set_state(office.id, PlateKind.SMALL, "10003", NumberState.FOR_SALE)
        uow.commit()
    with app.uow() as uow:
        rival = uow.accounts.view(world["rival"])
        assert isinstance(rival, Account)
        reservations.reserve(
            uow, now=app.clock.now(), account=rival, office_code="粤D", serial="C7777", vin=vin(9)
        )
        uow.commit()
    chat = start(app, renderer, lang)
    reserve(chat, say)
    chat.pick("start")
    for typed, refusal in (
        ("12", "invalid"),
        ("10001", "pooled"),
        ("10002", "taken"),
        ("10003", "for_sale"),
        ("b6666", "in_auction"),
        ("C7777", "reserved"),
        ("A8888", "yours"),
    ):
        chat.say(typed)
        assert say[refusal] in chat.text, (typed, chat.text)
        assert say["ask_number"] in chat.text  # asked again, at the step that can fix it
    assert say["next"] in chat.text
    chat.say("A9999")
    assert say["ask_vin"].replace("A8888", "A9999") in chat.text
    wrong = vin(2)[:8] + ("1" if vin(2)[8] != "1" else "2") + vin(2)[9:]
    chat.say(wrong)
    assert say["vin_checksum"] in chat.text
    chat.say("LGB123")
    assert say["vin_invalid"] in chat.text
    chat.say(vin(2))
    assert say["sent"].replace("A8888", "A9999") in chat.text
    assert [r["serial"] for r in the_reservations(app)] == ["C7777", "A8888", "A9999"]


def test_a_number_sold_at_auction_is_taken_while_the_winner_may_pay(
    app: App, world: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    period_id = publish_period(app, hours=1)
    lot_id = add_lot(app, period_id, "C1111")
    signup_id, share_id = bidder(app, period_id, world["rival"], vin(5))
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(hours=1))
    bid(app, signup_id, share_id, lot_id, START_PRICE)
    app.clock.advance(timedelta(hours=1))
    run_jobs(app)  # sold: the rival's balance is due
    chat = start(app, renderer, lang)
    chat.pick("reserve")
    chat.pick("start")
    chat.say("C1111")
    assert say["taken"].replace("10002", "C1111") in chat.text, chat.text
    assert say["ask_number"] in chat.text  # asked again
    assert the_reservations(app) == []


def test_a_rejected_reservation_tells_the_user_the_reason_and_frees_the_number(
    app: App, world: dict[str, int], sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    reserve(chat, say)
    done = staff(app).reject(the_reservations(app)[0]["id"], staff="王芳", reason=f"  {REASON} ")
    assert (done["state"], done["reason"], done["reviewed_by"]) == ("rejected", REASON, "王芳")
    app.dispatcher.run_once()
    assert any(say["n_rejected"] in text for text in sms_to(sms)), sms.sent
    history(chat, say, "rejected")
    rival = start(app, renderer, lang, phone=RIVAL_PHONE)
    reserve(rival, say, n=5)  # the number is free again


def test_approved_paid_deposit_places_the_plate_in_the_open_period_and_tells_the_user(
    app: App, world: dict[str, int], sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    period_id = publish_period(app)
    chat = start(app, renderer, lang)
    order_id = approved(app, chat, say)
    url = app.payments.pay_url(order(app, order_id))
    assert any(say["n_approved"] + url in text for text in sms_to(sms)), sms.sent
    history(chat, say, "approved")
    assert say["pay_link"] in chat.text and url in chat.text  # a URL button on Telegram
    assert order(app, order_id).amount == DEPOSIT
    pay_by_gateway(app, order_id)
    assert any(say["n_paid_placed"] in text for text in sms_to(sms)), sms.sent
    row = the_reservations(app)[0]
    assert (row["state"], row["period_id"]) == ("placed", period_id)
    with app.uow() as uow:
        lot = uow.auctions.lot(row["lot_id"])
    assert lot is not None
    assert (lot.serial, lot.starting_price_fen, lot.period_id) == ("A8888", START_PRICE, period_id)
    history(chat, say, "placed")


def test_a_paid_reservation_waits_for_the_next_period_published(
    app: App, world: dict[str, int], sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    order_id = approved(app, chat, say)
    pay_by_gateway(app, order_id)
    assert any(say["n_waiting"] in text for text in sms_to(sms)), sms.sent
    history(chat, say, "paid")
    period_id = publish_period(app)
    assert any(say["n_placed"] in text for text in sms_to(sms)), sms.sent
    assert the_reservations(app)[0]["period_id"] == period_id
    history(chat, say, "placed")


def test_an_unpaid_deposit_lapses_the_reservation_and_frees_the_number(
    app: App, world: dict[str, int], sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    order_id = approved(app, chat, say)
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(minutes=31))
    run_jobs(app)
    assert order(app, order_id).state is OrderState.EXPIRED
    assert any(say["n_lapsed"] in text for text in sms_to(sms)), sms.sent
    history(chat, say, "lapsed")
    rival = start(app, renderer, lang, phone=RIVAL_PHONE)
    reserve(rival, say, n=5)


@pytest.mark.parametrize("winner", ["rival", "me", "nobody"])
def test_the_deposit_is_refunded_when_the_lot_closes(  # noqa: PLR0917 - fixtures
    app: App,
    world: dict[str, int],
    sms: CapturingSender,
    renderer: Renderer,
    lang: str,
    winner: str,
) -> None:
    """Whoever wins (the reserver bids like everyone, SPEC §7), or if nobody bids, the
    reservation deposit goes back once the lot closes."""
    say = SAY[lang]
    period_id = publish_period(app)
    chat = start(app, renderer, lang)
    order_id = approved(app, chat, say)
    pay_by_gateway(app, order_id)
    lot_id = the_reservations(app)[0]["lot_id"]
    if winner != "nobody":
        signup_id, share_id = bidder(app, period_id, world[winner], vin(20))
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(hours=24))  # the auction starts
    if winner != "nobody":
        bid(app, signup_id, share_id, lot_id, START_PRICE)
    app.clock.advance(timedelta(hours=1))
    run_jobs(app)
    outcome = {"rival": "lost", "me": "won", "nobody": "unsold"}[winner]
    paid = order(app, order_id)
    assert (paid.state, paid.refunded) == (OrderState.REFUNDED, DEPOSIT)
    assert any(say[f"n_{outcome}"] in text for text in sms_to(sms)), sms.sent
    assert reservation(app, the_reservations(app)[0]["id"]).refund_due is False
    history(chat, say, outcome)
    run_jobs(app)  # nothing is refunded twice
    assert order(app, order_id).refunded == DEPOSIT
    assert PERSON_PHONE in {recipient for recipient, _ in sms.sent}


@pytest.mark.parametrize(("language", "most"), [("zh", 5), ("en", 9)])
def test_reserving_by_sms_costs_one_or_two_segments_a_reply(
    app: App, world: dict[str, int], language: str, most: int
) -> None:
    """Menu → reserve → number → VIN → history, by SMS: no reply over 2 segments (an English
    reply with the plate is UCS-2, as the plate is Chinese)."""
    chat = start(app, SMS, language)
    costs = []
    for step, value in (
        (chat.pick, "reserve"),
        (chat.pick, "start"),
        (chat.say, "A8888"),
        (chat.say, vin(1)),
        (chat.pick, "history"),
    ):
        step(value)
        assert chat.reply is not None
        costs.append(sum(segment_count(page) for page in sms_pages(chat.reply)))
    assert max(costs) <= 2 and sum(costs) <= most, costs
