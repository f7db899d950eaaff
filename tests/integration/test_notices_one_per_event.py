"""One event, one notice (SPEC §12; every SMS costs the office money): a deposit refunded or
forfeited, a period cancelled, a reservation's deposit refunded or lapsed is told in one message
that says it all, in the user's language and one SMS segment; and notices go where the server
can send them: without Telegram (no bot token), a chat linked before is not reached, so what
would go there goes by SMS, and a broadcast for Telegram only is counted as reaching nobody
there instead of being queued for a channel that is off; what was queued for a chat before the
server restarted without Telegram goes by SMS instead (or is skipped, with the reason), never
failed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import auctions
from core.accounts import Language
from core.auctions import YUAN
from core.broadcast_ports import Channels
from core.clock import ManualClock, format_local
from core.notices import NoticeKind, notify
from core.orders import Cause, DepositHeld, OrderState
from core.otp import reveal
from core.outbox import Channel
from core.payments import cancel_order
from core.settlement import refund_due_deposits
from core.telegram_off import CODE_BY_SMS, LIVE_TELEGRAM_OFF, SENT_BY_SMS
from core.timers import Timers
from dialogs.catalog import render_text
from dialogs.replies import Text
from platebot.bootstrap import App, build_app
from platebot.dispatcher import OPTED_OUT
from platebot.settings import Settings
from platebot.staff_auctions import StaffAuctions
from platebot.staff_broadcasts import StaffBroadcasts
from platebot.staff_orders import StaffOrders
from sms.render import broadcast_segments
from sms.segments import segment_count
from store.sms_tables import sms_opt_outs
from store.tables import outbox
from tests.auction_world import START_PRICE
from tests.broadcast_world import BroadcastWorld
from tests.preselect_world import PERSON_PHONE, vin
from tests.reservation_world import (
    add_lot,
    bid,
    bidder,
    pay_by_gateway,
    pending_reservation,
    publish_period,
    reservation_world,
    run_jobs,
    staff,
)
from tests.settlement_world import GATEWAY, PaidBidder, SettlementWorld
from tests.support import CapturingSender

K = 1_000 * YUAN
CHAT = "4242"
KEY = b"test-secret"  # the apps' secret key: a bidder's code is made from it when sent


# -- what an account was told -------------------------------------------------------------------


def last_row(engine: Engine) -> int:
    """Where the outbox stands: rows written later have a greater id."""
    with engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0))).scalar_one()
        )


def told_since(engine: Engine, mark: int, account_id: int) -> list[tuple[str, str]]:
    """(channel, text as it is sent there) of each message written for the account after
    ``mark``: one per outbox row, each one a message the office pays for."""
    query = (
        sa.select(outbox.c.channel, outbox.c.key, outbox.c.params, outbox.c.language)
        .where(outbox.c.id > mark, outbox.c.account_id == account_id)
        .order_by(outbox.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        (str(channel), render_text(Text(key, reveal(params, KEY)), Language(language), channel))
        for channel, key, params, language in rows
    ]


def one_sms(told: list[tuple[str, str]]) -> str:
    """The one message told, by SMS and in one segment."""
    assert len(told) == 1, told
    (channel, text), *_ = told
    assert channel == "sms" and segment_count(text) == 1, (channel, segment_count(text), text)
    return text


def speaks(world: SettlementWorld, account_id: int, lang: str) -> None:
    with world.uow() as uow:
        uow.accounts.set_language(account_id, Language(lang))
        uow.commit()


def period_in(world: SettlementWorld, period_id: int, lang: str) -> str:
    """The period's name as a user of ``lang`` reads it."""
    with world.uow() as uow:
        period = uow.auctions.period(period_id)
    assert period is not None
    return period.name_in(Language(lang))


@pytest.fixture
def world(db: Engine) -> SettlementWorld:
    return SettlementWorld(db)


def won_auction(world: SettlementWorld, lang: str) -> tuple[int, PaidBidder, PaidBidder, int]:
    """Alice (one share) bids the starting price, Bob (two shares) ¥11,000 and wins with his
    first VIN; the lot closed and the period with it, the refunds not made yet."""
    period = world.period()
    lot = world.lot(period, "88888")
    alice = world.paid_bidder(period)
    bob = world.paid_bidder(period, shares=2)
    for someone in (alice, bob):
        speaks(world, someone.account_id, lang)
    world.start()
    world.bid(alice, lot, amount=START_PRICE)
    world.bid(bob, lot, increment=K)
    world.clock.advance(timedelta(hours=2))
    for _ in range(2):  # the lot's close, then the period's
        Timers(world.uow, world.clock, world.wiring.timers).run_once()
    return period, alice, bob, lot


def make_refunds(world: SettlementWorld) -> None:
    """The refund lane's step, as the server runs it a moment after the close."""
    Timers(world.uow, world.clock, [refund_due_deposits(GATEWAY)]).run_once()


# -- one segment, whatever the period's name -----------------------------------------------------

LONGEST_NAME = "Spring Auction 2027 No. 12 (B)"  # English names are capped at 30 characters
ENGLISH_PLATE = "Yue D 12345"
TIME = "2026-12-19 17:00"


@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("settlement.refund.lost", {"amount": "¥100,000"}),
        ("settlement.refund.lost_counter", {"amount": "¥100,000"}),
        ("settlement.period_cancelled_counter", {"deposit": "¥100,000"}),
        ("settlement.rescheduled", {"starts": TIME, "signup_closes": TIME}),
        ("settlement.rescheduled_at_start", {"starts": TIME}),
        ("settlement.lot_withdrawn_last", {"plate": ENGLISH_PLATE}),
        ("settlement.lot_withdrawn", {"plate": ENGLISH_PLATE}),
        ("settlement.period_cancelled", {"deposit": "¥100,000"}),
        ("settlement.period_cancelled_unpaid", {"deposit": "¥100,000"}),
        (
            "reservation.notice.placed",
            {"plate": ENGLISH_PLATE, "signup_closes": TIME, "starts": TIME},
        ),
    ],
)
def test_an_english_notice_naming_a_period_is_one_segment_with_the_longest_name(
    key: str, params: dict[str, str]
) -> None:
    assert len(LONGEST_NAME) == 30
    text = render_text(Text(key, {"period": LONGEST_NAME, **params}), Language.EN, "sms")
    assert all(value in text for value in (LONGEST_NAME, *params.values())), text
    assert segment_count(text) == 1, (len(text), text)


# -- auction deposits -----------------------------------------------------------------------------


LOST = {
    "zh": "号牌助手：竞价期“{period}”已结束，保证金中未用于价款的¥5,000已原路退回。",
    "en": 'platebot: the auction period "{period}" is over. ¥5,000 of your deposit not used for a '
    "plate price is refunded the way you paid it.",
}


def test_shares_that_won_nothing_are_refunded_with_one_notice(
    world: SettlementWorld, lang: str
) -> None:
    period, alice, bob, _ = won_auction(world, lang)
    mark = last_row(world.engine)
    make_refunds(world)
    assert world.order(alice.deposit_order_id).state is OrderState.REFUNDED
    assert world.order(bob.deposit_order_id).refunded == 5_000 * YUAN  # his share that lost
    name = period_in(world, period, lang)
    for someone in (alice, bob):
        assert one_sms(told_since(world.engine, mark, someone.account_id)) == LOST[lang].format(
            period=name
        )


def test_a_period_whose_last_lot_was_withdrawn_refunds_each_deposit_with_one_notice(
    world: SettlementWorld, lang: str
) -> None:
    period = world.period()
    lot = world.lot(period, "66666")
    paid = world.paid_bidder(period, shares=2)
    speaks(world, paid.account_id, lang)
    staff = StaffAuctions(world.uow, world.clock, GATEWAY)
    mark = last_row(world.engine)
    staff.withdraw_lot(lot)
    [(_, withdrawn)] = told_since(world.engine, mark, paid.account_id)  # deposits back later
    assert "66666" in withdrawn
    world.start()  # no lot to bid on: the period closes at its start, the deposits go back
    mark = last_row(world.engine)
    world.run_timers()
    assert world.order(paid.deposit_order_id).state is OrderState.REFUNDED
    expected = LOST[lang].replace("5,000", "10,000").format(period=period_in(world, period, lang))
    assert one_sms(told_since(world.engine, mark, paid.account_id)) == expected


CANCELLED = {
    "zh": (
        "号牌助手：竞价期“{period}”已取消，已交保证金¥10,000将原路退回。",
        "号牌助手：竞价期“{period}”已取消，您的报名和未支付的保证金订单（¥5,000）已一并取消。",
    ),
    "en": (
        'platebot: the auction period "{period}" is cancelled. The deposit you paid (¥10,000) is '
        "refunded the way you paid it.",
        'platebot: the auction period "{period}" is cancelled, and so are your signup and its '
        "unpaid deposit order (¥5,000).",
    ),
}


def cancel_by_staff(world: SettlementWorld, period: int) -> None:
    """As staff cancel it: the paid deposits are refunded at once."""
    StaffAuctions(world.uow, world.clock, GATEWAY).cancel_period(period)


def cancel_then_refund_later(world: SettlementWorld, period: int) -> None:
    """Cancelled; the refunds are made by the refund lane when it comes by."""
    with world.uow() as uow:
        auctions.cancel_period(uow, clock=world.clock, period_id=period)
        uow.commit()


@pytest.mark.parametrize(
    ("cancel", "deposit"),
    [(cancel_by_staff, OrderState.REFUNDED), (cancel_then_refund_later, OrderState.PAID)],
)
def test_a_cancelled_period_tells_each_bidder_once_paid_or_not(
    world: SettlementWorld,
    lang: str,
    cancel: Callable[[SettlementWorld, int], None],
    deposit: OrderState,
) -> None:
    period = world.period()
    world.lot(period, "88888")
    paid = world.paid_bidder(period, shares=2)
    unpaid = world.account()
    world.deposit_order(unpaid, world.signup(period, world.new_vins(1), unpaid))
    for account_id in (paid.account_id, unpaid):
        speaks(world, account_id, lang)
    mark = last_row(world.engine)
    cancel(world, period)
    assert world.order(paid.deposit_order_id).state is deposit
    name = period_in(world, period, lang)
    told_paid, told_unpaid = CANCELLED[lang]
    assert one_sms(told_since(world.engine, mark, paid.account_id)) == told_paid.format(period=name)
    assert one_sms(told_since(world.engine, mark, unpaid)) == told_unpaid.format(period=name)
    make_refunds(world)  # the refund lane comes by: it refunds what was not refunded yet
    assert world.order(paid.deposit_order_id).state is OrderState.REFUNDED
    assert len(told_since(world.engine, mark, paid.account_id)) == 1  # and tells nothing more


# -- deposits paid at the counter -----------------------------------------------------------------

AT_COUNTER_LOST = {
    "zh": "号牌助手：竞价期“{period}”已结束，保证金中未用于价款的¥5,000请到缴款窗口领取。",
    "en": 'platebot: the auction period "{period}" is over. Collect ¥5,000 of your deposit not '
    "used for a plate price at the counter.",
}
AT_COUNTER_CANCELLED = {
    "zh": "号牌助手：竞价期“{period}”已取消，已交保证金¥5,000请到缴款窗口领取。",
    "en": 'platebot: the auction period "{period}" is cancelled. Collect the deposit you paid '
    "(¥5,000) at the counter where you paid it.",
}


def hand_back(world: SettlementWorld, order_id: int) -> None:
    """A supervisor hands the deposit back at the counter, with a receipt."""
    staff = StaffOrders(world.uow, world.clock, GATEWAY)
    staff.refund(order_id, staff="王芳", receipt="R-77")


def refund_rows(world: SettlementWorld, signup_id: int) -> list[tuple[str, str]]:
    return [(row.reason.value, row.state.value) for row in world.refunds(signup_id)]


def test_a_share_that_won_nothing_paid_at_the_counter_is_told_to_be_collected_there(
    world: SettlementWorld, lang: str
) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    carol = world.paid_bidder(period, receipt="R-1")
    dave = world.paid_bidder(period)
    for someone in (carol, dave):
        speaks(world, someone.account_id, lang)
    world.start()
    world.bid(dave, lot, amount=START_PRICE)  # Dave wins; Carol's share won nothing
    world.clock.advance(timedelta(hours=2))
    world.run_timers()
    world.run_timers()  # the lot's close, then the period's and its refunds
    assert world.order(carol.deposit_order_id).state is OrderState.PAID  # not through a gateway
    assert refund_rows(world, carol.signup_id) == [("lost", "at_counter")]
    # told once, by the close: where to collect it, not "refunded the way you paid it"
    told = told_since(world.engine, 0, carol.account_id)
    expected = AT_COUNTER_LOST[lang].format(period=period_in(world, period, lang))
    assert [text for _, text in told].count(expected) == 1, told
    mark = last_row(world.engine)
    world.run_timers()  # the refund lane again: nothing more to do, nothing more said
    assert told_since(world.engine, mark, carol.account_id) == []
    hand_back(world, carol.deposit_order_id)
    assert world.order(carol.deposit_order_id).state is OrderState.REFUNDED
    assert refund_rows(world, carol.signup_id) == [("lost", "done")]  # staff see it handed back
    [(_, receipt)] = told_since(world.engine, mark, carol.account_id)
    assert "5,000" in receipt


def test_a_cancelled_period_tells_a_bidder_who_paid_at_the_counter_to_collect_it_there(
    world: SettlementWorld, lang: str
) -> None:
    period = world.period()
    world.lot(period, "88888")
    carol = world.paid_bidder(period, receipt="R-1")
    speaks(world, carol.account_id, lang)
    mark = last_row(world.engine)
    cancel_by_staff(world, period)
    expected = AT_COUNTER_CANCELLED[lang].format(period=period_in(world, period, lang))
    assert one_sms(told_since(world.engine, mark, carol.account_id)) == expected
    make_refunds(world)
    assert world.order(carol.deposit_order_id).state is OrderState.PAID
    assert refund_rows(world, carol.signup_id) == [("cancelled", "at_counter")]
    assert len(told_since(world.engine, mark, carol.account_id)) == 1  # nothing more said
    hand_back(world, carol.deposit_order_id)
    assert refund_rows(world, carol.signup_id) == [("cancelled", "done")]


def test_a_part_handed_back_leaves_the_row_waiting_at_the_counter(world: SettlementWorld) -> None:
    period = world.period()
    world.lot(period, "88888")
    carol = world.paid_bidder(period, shares=2, receipt="R-1")
    cancel_by_staff(world, period)
    make_refunds(world)
    StaffOrders(world.uow, world.clock, GATEWAY).refund(
        carol.deposit_order_id, staff="王芳", amount=5_000 * YUAN, receipt="R-78"
    )
    assert refund_rows(world, carol.signup_id) == [("cancelled", "at_counter")]  # ¥5,000 to go
    hand_back(world, carol.deposit_order_id)
    assert refund_rows(world, carol.signup_id) == [("cancelled", "done")]


def test_a_winners_deposit_handed_back_at_the_counter_keeps_the_share_held_for_the_price(
    world: SettlementWorld,
) -> None:
    """Two shares paid at the counter, one wins: staff hand back the other one's deposit, never
    the won one's, which the balance payment counts to the price (or the office keeps)."""
    period = world.period()
    lot = world.lot(period, "88888")
    carol = world.paid_bidder(period, shares=2, receipt="R-1")
    world.start()
    world.bid(carol, lot, amount=START_PRICE)
    world.clock.advance(timedelta(hours=2))
    world.run_timers()
    world.run_timers()  # the lot's close, then the period's and its refunds
    assert refund_rows(world, carol.signup_id) == [("lost", "at_counter")]
    desk = StaffOrders(world.uow, world.clock, GATEWAY)
    with pytest.raises(DepositHeld) as held:
        desk.refund(carol.deposit_order_id, staff="王芳", amount=10_000 * YUAN, receipt="R-9")
    assert held.value.params == {"held": 500_000, "most": 500_000}
    message = render_text(Text("error.order.deposit_held", held.value.params), Language.EN)
    assert message.startswith("¥5,000 of this deposit is held for the price")
    assert message.endswith("¥5,000 may be refunded now.")
    hand_back(world, carol.deposit_order_id)  # all it may: the share that won nothing
    assert world.order(carol.deposit_order_id).refunded == 5_000 * YUAN
    assert refund_rows(world, carol.signup_id) == [("lost", "done")]
    with pytest.raises(DepositHeld) as nothing_left:  # not "the order holds 500000 fen"
        hand_back(world, carol.deposit_order_id)
    assert nothing_left.value.params == {"held": 500_000, "most": 0}
    balance = world.settlement(lot).balance_order_id
    assert balance is not None
    world.pay(world.order(balance))  # the won share's deposit still counts to the price
    assert world.settlement(lot).state.value == "issued"


def test_a_counter_deposit_handed_back_before_the_refund_lane_came_by_is_done(
    world: SettlementWorld,
) -> None:
    period = world.period()
    world.lot(period, "88888")
    carol = world.paid_bidder(period, receipt="R-1")
    with world.uow() as uow:
        auctions.cancel_period(uow, clock=world.clock, period_id=period)
        uow.commit()
    hand_back(world, carol.deposit_order_id)  # before the lane made the row at_counter
    make_refunds(world)
    assert refund_rows(world, carol.signup_id) == [("cancelled", "done")]  # not "failed"


# -- an unpaid balance ---------------------------------------------------------------------------


def past_the_deadline(world: SettlementWorld, balance_order: int) -> None:
    world.clock.set(world.order(balance_order).deadline + timedelta(seconds=1))
    world.run_timers()


def cancelled_by(cause: Cause) -> Callable[[SettlementWorld, int], None]:
    def cancel(world: SettlementWorld, balance_order: int) -> None:
        with world.uow() as uow:
            cancel_order(uow, order_id=balance_order, now=world.clock.now(), cause=cause)
            uow.commit()

    return cancel


FORFEITED = {
    "zh": "号牌助手：{plate}余款未按期支付，保证金¥5,000不予退还，号牌已收回。",
    "en": "platebot: the balance for {plate} was not paid in time. Your deposit of ¥5,000 is "
    "forfeited and the plate goes back to the office.",
}
GIVEN_UP = {
    "zh": "号牌助手：{plate}的余款订单已取消，号牌退回车管所，保证金¥5,000不予退还。",
    "en": "platebot: the balance order for {plate} was cancelled, so the plate goes back to the "
    "office and your deposit of ¥5,000 is forfeited.",
}
PLATE = {"zh": "粤D·88888", "en": "Yue D 88888"}


@pytest.mark.parametrize(
    ("how", "end", "told"),
    [
        ("deadline", past_the_deadline, FORFEITED),
        ("winner cancels", cancelled_by(Cause.USER), GIVEN_UP),
        ("office cancels", cancelled_by(Cause.STAFF), GIVEN_UP),
    ],
)
def test_an_unpaid_balance_forfeits_the_deposit_share_with_one_notice(
    world: SettlementWorld,
    lang: str,
    how: str,
    end: Callable[[SettlementWorld, int], None],
    told: dict[str, str],
) -> None:
    _, _, bob, lot = won_auction(world, lang)
    make_refunds(world)
    balance = world.settlement(lot).balance_order_id
    assert balance is not None
    mark = last_row(world.engine)
    end(world, balance)
    assert world.order(bob.deposit_order_id).state is OrderState.FORFEITED, how
    assert one_sms(told_since(world.engine, mark, bob.account_id)) == told[lang].format(
        plate=PLATE[lang]
    )


# -- reservation deposits ------------------------------------------------------------------------


RESERVATION = {
    "unsold": {
        "zh": "号牌助手：粤D·A8888无人出价。预约保证金¥5,000已退回。",
        "en": "platebot: nobody bid for Yue D A8888. Your reservation deposit of ¥5,000 has been "
        "refunded.",
    },
    "expired": {
        "zh": "号牌助手：粤D·A8888的预约保证金逾期未付，预约已失效。",
        "en": "platebot: the deposit for Yue D A8888 was not paid in time; the reservation has "
        "lapsed.",
    },
    "cancelled": {
        "zh": "号牌助手：粤D·A8888的预约保证金订单已取消，预约已失效。",
        "en": "platebot: the deposit order for Yue D A8888 was cancelled; the reservation has "
        "lapsed.",
    },
}


def reserver(app: App, lang: str) -> int:
    me = reservation_world(app)["me"]
    with app.uow() as uow:
        uow.accounts.set_language(me, Language(lang))
        uow.commit()
    return me


def test_a_reservation_deposit_refunded_when_its_lot_closes_is_one_notice(
    app: App, lang: str
) -> None:
    me = reserver(app, lang)
    publish_period(app)
    order_id = staff(app).approve(pending_reservation(app, me), staff="王芳")["order_id"]
    pay_by_gateway(app, order_id)
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(hours=26))  # nobody bids: the lot closes unsold
    mark = last_row(app.db)
    run_jobs(app)
    assert one_sms(told_since(app.db, mark, me)) == RESERVATION["unsold"][lang]


@pytest.mark.parametrize(
    "key",
    [
        "reservation.notice.placed",
        "reservation.notice.placed_at_start",
        "reservation.notice.placed_before_signup",
        "reservation.notice.paid_placed_at_start",
        "reservation.notice.paid_placed_before_signup",
    ],
)
@pytest.mark.parametrize(
    ("language", "name"),
    [(Language.ZH, "2027年春季第12期竞价"), (Language.EN, LONGEST_NAME)],
)
def test_a_plate_placed_in_a_period_is_told_in_one_segment(
    key: str, language: Language, name: str
) -> None:
    """With two times in the text (signup closing before bidding starts, or not open yet), in
    Chinese with a period name of 13 characters, in English with the longest there is."""
    params: dict[str, str | int] = {
        "plate": "粤D·A8888",
        "period": name,
        "amount": 500_000,
        "signup_opens": "2026-12-18 09:00",
        "signup_closes": "2026-12-18 17:00",
        "starts": TIME,
    }
    text = render_text(Text(key, params), language, "sms")
    assert name in text and segment_count(text) == 1, (len(text), text)


PLACED_AT_START = {
    "zh": "号牌助手：粤D·A8888进入2026年第12期竞买，{starts}开拍，开拍前均可报名。",
    "en": 'platebot: Yue D A8888 is a lot of the auction period "Auction of {day}". Sign up '
    "before bidding starts at {starts} (China time).",
}


def test_a_waiting_reservation_placed_in_a_new_period_is_told_in_one_segment(
    app: App, lang: str
) -> None:
    me = reserver(app, lang)
    order_id = staff(app).approve(pending_reservation(app, me), staff="王芳")["order_id"]
    pay_by_gateway(app, order_id)  # no period open: the plate waits for one
    mark = last_row(app.db)
    publish_period(app)  # signup open until bidding starts, 24 hours from now
    starts = format_local(app.clock.now() + timedelta(hours=24))
    expected = PLACED_AT_START[lang].format(starts=starts, day=starts[:10])
    assert one_sms(told_since(app.db, mark, me)) == expected


@pytest.mark.parametrize("how", ["expired", "cancelled"])
def test_a_reservation_whose_deposit_is_not_paid_lapses_with_one_notice(
    app: App, lang: str, how: str
) -> None:
    me = reserver(app, lang)
    order_id = staff(app).approve(pending_reservation(app, me), staff="王芳")["order_id"]
    mark = last_row(app.db)
    if how == "expired":
        assert isinstance(app.clock, ManualClock)
        app.clock.advance(timedelta(minutes=31))
        run_jobs(app)
    else:  # by the office
        with app.uow() as uow:
            cancel_order(uow, order_id=order_id, now=app.clock.now(), cause=Cause.STAFF)
            uow.commit()
    assert one_sms(told_since(app.db, mark, me)) == RESERVATION[how][lang]


# -- a server without Telegram -------------------------------------------------------------------


def server(db: Engine, clock: ManualClock, sms: CapturingSender, *, telegram: bool) -> App:
    """As ``platebot serve`` builds it: with a bot token (Telegram's sender), or without one."""
    settings = Settings(database_url=str(db.url), secret_key=KEY.decode())
    senders = {Channel.SMS: sms} | ({Channel.TELEGRAM: CapturingSender()} if telegram else {})
    return build_app(settings, clock=clock, senders=senders, db=db, upgrade=False)


def test_auction_notices_go_to_a_linked_chat_only_while_the_server_has_telegram(
    db: Engine, clock: ManualClock, sms: CapturingSender
) -> None:
    off = server(db, clock, sms, telegram=False)
    ids = reservation_world(off)
    with off.uow() as uow:  # both linked a chat while the server ran with Telegram
        for who, chat in (("me", CHAT), ("rival", "4343")):
            uow.contacts.link(
                channel="telegram", address=chat, account_id=ids[who], now=clock.now()
            )
        uow.commit()
    period_id = publish_period(off)
    lot_id = add_lot(off, period_id, "88888")
    mark = last_row(off.db)
    mine = bidder(off, period_id, ids["me"], vin(1))  # the bidder number: by SMS only
    rival = bidder(off, period_id, ids["rival"], vin(2))
    clock.advance(timedelta(hours=24))  # bidding starts
    bid(off, *mine, lot_id, START_PRICE)
    bid(off, *rival, lot_id, START_PRICE + K)
    run_jobs(off)  # the room's step tells the one outbid
    told = told_since(off.db, mark, ids["me"])
    assert [where for where, _ in told] == ["sms", "sms"], told
    outbid = told[-1][1]
    assert "¥11,000" in outbid and "88888" in outbid
    assert [text for phone, text in sms.sent if phone == PERSON_PHONE][-1] == outbid
    # The same server with its bot token again: a linked chat is where a notice goes.
    on = server(db, clock, sms, telegram=True)
    mark = last_row(on.db)
    bid(on, *mine, lot_id, START_PRICE + 2 * K)
    run_jobs(on)
    assert [where for where, _ in told_since(on.db, mark, ids["rival"])] == ["telegram"]


@pytest.fixture
def broadcasts_off(db: Engine, clock: ManualClock) -> BroadcastWorld:
    """Staff broadcasts on a server without Telegram, to people some of whom linked a chat
    while it had it."""
    world = BroadcastWorld(db, clock)
    world.app = server(db, clock, world.sms, telegram=False)
    world.staff = StaffBroadcasts(world.app.uow, clock, broadcast_segments)
    return world


def test_without_telegram_a_broadcast_for_telegram_only_reaches_nobody_and_says_so(
    broadcasts_off: BroadcastWorld,
) -> None:
    world = broadcasts_off
    world.person(chat="5001")
    world.person()
    preview = world.compose(channels=Channels.TELEGRAM)
    assert (preview["recipients"], preview["telegram"], preview["unreachable"]) == (0, 0, 2)
    sent = world.staff.send(preview["id"])
    assert (sent["total"], sent["left"], sent["unreachable"]) == (2, 0, 2)  # nothing queued
    world.dispatch()
    assert world.telegram.sent == [] and world.sms.sent == []
    assert world.staff.progress(preview["id"])["failed"] == 0


def test_without_telegram_a_broadcast_for_telegram_where_linked_goes_by_sms(
    broadcasts_off: BroadcastWorld,
) -> None:
    world = broadcasts_off
    _, linked = world.person(chat="5001")
    _, other = world.person()
    preview = world.compose(channels=Channels.TELEGRAM_ELSE_SMS)
    assert (preview["recipients"], preview["telegram"], preview["sms"]) == (2, 0, 2)
    world.staff.send(preview["id"])
    world.dispatch()
    assert sorted(phone for phone, _ in world.sms.sent) == sorted([linked, other])


# -- what was queued for Telegram when the server restarts without it ---------------------------


def queued_for_the_chat(db: Engine, clock: ManualClock, sms: CapturingSender) -> tuple[int, int]:
    """A server with Telegram wrote my bidder number (by SMS, and a copy in my chat), that I was
    outbid and the auction room's live message, for my chat; then it stopped before sending
    any. (My account, where the outbox stood before.)"""
    on = server(db, clock, sms, telegram=True)
    ids = reservation_world(on)
    with on.uow() as uow:
        uow.contacts.link(channel="telegram", address=CHAT, account_id=ids["me"], now=clock.now())
        uow.commit()
    period_id = publish_period(on)
    lot_id = add_lot(on, period_id, "88888")
    mark = last_row(db)
    mine = bidder(on, period_id, ids["me"], vin(1))
    rival = bidder(on, period_id, ids["rival"], vin(2))
    clock.advance(timedelta(hours=24))
    bid(on, *mine, lot_id, START_PRICE)
    bid(on, *rival, lot_id, START_PRICE + K)
    Timers(on.uow, on.clock).run_once()  # the room's step writes the outbid notice
    with on.uow() as uow:
        assert notify(uow, kind=NoticeKind.ROOM, **room_message(ids["me"], 1), now=clock.now())
        uow.commit()
    return ids["me"], mark


def room_message(account_id: int, n: int) -> dict[str, Any]:
    """The ``n``-th update of the auction room's live message to the account."""
    return {
        "account_id": account_id,
        "key": "raw",
        "params": {"text": f"Lot 1, update {n}"},
        "dedupe_key": f"room:test:{n}",
        "live_key": "room:1",
    }


def rows_since(db: Engine, mark: int, account_id: int) -> list[tuple[str, str, str, str | None]]:
    """(channel, key, status, why) of the account's outbox rows written after ``mark``."""
    query = (
        sa.select(outbox.c.channel, outbox.c.key, outbox.c.status, outbox.c.last_error)
        .where(outbox.c.id > mark, outbox.c.account_id == account_id)
        .order_by(outbox.c.id)
    )
    with db.connect() as conn:
        return [(str(c), k, str(s), e) for c, k, s, e in conn.execute(query)]


def sms_lane(app: App) -> int:
    """The server's SMS lane, one round; it has no Telegram lane (no sender for it)."""
    lanes = dict(app.dispatcher.lanes())
    assert list(lanes) == ["outbox:sms"]
    return lanes["outbox:sms"]()


def test_notices_queued_for_a_chat_go_by_sms_once_the_server_runs_without_telegram(
    db: Engine, clock: ManualClock, sms: CapturingSender
) -> None:
    """Restarted without its bot token, the server fails nothing it had queued for Telegram: a
    personal notice goes to the account's number instead (once), the chat's copy of a code
    (sent by SMS as well) and the room's live message are skipped, each with the reason."""
    me, mark = queued_for_the_chat(db, clock, sms)
    off = server(db, clock, sms, telegram=False)
    with off.uow() as uow:  # a room message now reaches nobody: only a chat shows it
        assert notify(uow, kind=NoticeKind.ROOM, **room_message(me, 2), now=clock.now()) == 0
    sms_lane(off)
    [number] = [text for phone, text in sms.sent if phone == PERSON_PHONE]
    assert "竞买号" in number  # my bidder number, by SMS as it was written
    # The code's copy for the chat, due a day ago, is settled; what is due just now waits (a
    # process with Telegram, starting, may still send it).
    telegram = [status for where, _, status, _ in rows_since(db, mark, me) if where == "telegram"]
    assert telegram == ["skipped", "pending", "pending"]
    before = len(sms.sent)
    clock.advance(off.dispatcher.lane_lease)  # nobody has sent on Telegram since
    sms_lane(off)
    sms_lane(off)  # and again: nothing twice
    assert rows_since(db, mark, me) == [
        ("sms", "auction.notice.deposit_paid", "sent", None),
        ("telegram", "auction.notice.deposit_paid", "skipped", CODE_BY_SMS),
        ("telegram", "room.outbid", "skipped", SENT_BY_SMS),
        ("telegram", "raw", "skipped", LIVE_TELEGRAM_OFF),
        ("sms", "room.outbid", "sent", None),
    ]
    outbid = told_since(db, mark, me)[-1][1]
    assert "¥11,000" in outbid and "88888" in outbid
    assert [text for phone, text in sms.sent[before:] if phone == PERSON_PHONE] == [outbid]


def test_a_notice_queued_for_a_chat_is_not_sent_by_sms_to_a_number_that_sent_stop(
    db: Engine, clock: ManualClock, sms: CapturingSender
) -> None:
    me, mark = queued_for_the_chat(db, clock, sms)
    off = server(db, clock, sms, telegram=False)
    with db.begin() as conn:
        conn.execute(
            sa.insert(sms_opt_outs).values(
                phone=PERSON_PHONE, reason="STOP", opted_out_at=clock.now()
            )
        )
    clock.advance(off.dispatcher.lane_lease)
    sms_lane(off)
    assert ("sms", "room.outbid", "skipped", OPTED_OUT) in rows_since(db, mark, me)
    assert [text for phone, text in sms.sent if phone == PERSON_PHONE] == []


def test_broadcast_messages_queued_for_telegram_go_by_sms_where_the_staff_chose_sms_else(
    db: Engine, clock: ManualClock
) -> None:
    """A broadcast sent while the server had Telegram, not yet delivered when it restarted
    without it: Telegram where linked goes by SMS (the chat cannot be reached), Telegram only
    reaches nobody there; each recipient counted and reported once."""
    world = BroadcastWorld(db, clock)
    _, linked = world.person(chat="5001")
    world.person()
    else_sms = world.compose(channels=Channels.TELEGRAM_ELSE_SMS)["id"]
    only = world.compose(channels=Channels.TELEGRAM)["id"]
    for broadcast in (else_sms, only):
        world.staff.send(broadcast)  # written, not sent yet
    world.app = server(db, clock, world.sms, telegram=False)
    world.staff = StaffBroadcasts(world.app.uow, clock, broadcast_segments)
    clock.advance(world.app.dispatcher.lane_lease)
    world.dispatch()
    assert [phone for phone, _ in world.sms.sent].count(linked) == 1  # the first one's
    assert world.telegram.sent == []
    shown = world.staff.progress(else_sms)
    assert (shown["total"], shown["sent"], shown["left"], shown["failed"]) == (2, 2, 0, 0)
    assert sorted(o["channel"] for o in world.staff.report(else_sms)) == ["sms", "sms"]
    shown = world.staff.progress(only)
    assert (shown["total"], shown["unreachable"], shown["left"], shown["failed"]) == (2, 2, 0, 0)
