"""Settlement of an auction (SPEC §7, issue 14 item 8) on the real database: a sold lot's balance
order due by working days (office holidays skipped), the plate issued when it is paid, the
deposit share forfeited and the plate back with staff when it is not, the shares that won
nothing refunded once, and a period cancelled before its start refunding every deposit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy.engine import Engine

from core import auctions, office_admin
from core.accounts import Language
from core.auction_errors import PlateNotHeldBack
from core.auctions import YUAN, LotState
from core.bidding import PeriodClosed
from core.orders import Cause, MoveKind, OrderState, Purpose
from core.payments import cancel_order, pay_at_counter
from core.plates import PlateKind
from core.settlement import RefundState, SettlementState, refund_losing_shares
from platebot.staff_auctions import StaffAuctions
from store import migrate
from tests.auction_world import OFFICE, START_PRICE
from tests.settlement_world import GATEWAY, PaidBidder, SettlementWorld

K = 1_000 * YUAN
DEPOSIT = 5_000 * YUAN


@pytest.fixture
def world(db: Engine) -> SettlementWorld:
    return SettlementWorld(db)


def won_auction(world: SettlementWorld) -> tuple[int, PaidBidder, PaidBidder, int]:
    """Alice (one share) bids the starting price, Bob (two shares) one increment more and wins
    ¥11,000 with his first VIN. The manual clock starts on Monday 2026-11-23, 10:00 China time;
    the lot closes the same morning."""
    period = world.period()
    lot = world.lot(period, "88888")
    alice = world.paid_bidder(period)
    bob = world.paid_bidder(period, shares=2)
    world.start()
    world.bid(alice, lot, amount=START_PRICE)
    world.bid(bob, lot, increment=K)
    world.close_and_settle()
    return period, alice, bob, lot


def assert_not_a_lot_again(world: SettlementWorld) -> None:
    """The sold number cannot be a lot of another period."""
    period = world.later_period()
    with world.uow() as uow, pytest.raises(PlateNotHeldBack):
        auctions.add_lot(
            uow,
            clock=world.clock,
            period_id=period,
            office_code=OFFICE,
            kind=PlateKind.SMALL,
            serial="88888",
            starting_price_fen=START_PRICE,
        )


def numbers_now(world: SettlementWorld, period_id: int) -> list[str]:
    """Where each lot's number is now, as the staff's lot list shows it."""
    staff = StaffAuctions(world.uow, world.clock, GATEWAY)
    return [lot["number"] for lot in staff.lots(period_id)]


def lot_again(world: SettlementWorld, serial: str) -> int:
    """The number as a lot of another period (refused unless it is back with the office)."""
    lot = world.lot(world.later_period(), serial)
    assert world.lot_now(lot).state is LotState.OPEN
    return lot


def test_a_sold_lot_asks_the_winner_for_the_price_less_one_deposit_share_by_working_days(
    world: SettlementWorld,
) -> None:
    with world.uow() as uow:  # Wednesday is a holiday of the office
        office_admin.set_holidays(uow, code=OFFICE, days=[date(2026, 11, 25)])
        uow.commit()
    _, _, bob, lot = won_auction(world)
    settlement = world.settlement(lot)
    assert world.lot_now(lot).state is LotState.SOLD
    assert (settlement.price_fen, settlement.deposit_fen, settlement.balance_fen) == (
        11 * K,
        DEPOSIT,
        6 * K,
    )
    # Tue, (Wed off), Thu, Fri, Mon, Tue 1 Dec: due by the end of that day, China time
    assert settlement.due_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert settlement.balance_order_id is not None
    balance = world.order(settlement.balance_order_id)
    assert (balance.purpose, balance.amount, balance.state) == (
        Purpose.AUCTION_BALANCE,
        6 * K,
        OrderState.PENDING,
    )
    assert balance.deadline == settlement.due_at
    staff = StaffAuctions(world.uow, world.clock, GATEWAY)
    assert [p["state"] for p in staff.periods()] == ["closed"]
    assert [(lot["state"], lot["price_fen"], lot["settlement"], lot["balance_due"]) for lot in
            staff.lots(world.settlement(lot).period_id)] == [
        ("sold", 11 * K, "awaiting_balance", "2026-12-01 24:00")  # the end of Tuesday
    ]  # fmt: skip
    url = GATEWAY.pay_url(balance)
    told = world.told(bob.account_id)
    assert told[0] == (  # one message: won, price, balance, deadline, pay link
        f"号牌助手：恭喜竞得粤D·88888，成交价¥11,000，保证金¥5,000已抵价款。请于2026-12-01 24:00前"
        f"支付余款¥6,000（订单{balance.id}），逾期保证金不予退还。付款：{url}"
    )
    assert told[1:] == [  # his other share
        "号牌助手：竞价期“2026年第12期”已结束，保证金中未用于价款的¥5,000已原路退回。"
    ]


def test_a_close_on_friday_evening_counts_from_monday(world: SettlementWorld) -> None:
    friday_evening = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 20:00 China time
    world.clock.set(friday_evening - timedelta(hours=2))
    world.opened_at = world.clock.now()
    world.starts_at = friday_evening
    period = world.period(balance_working_days=1)
    lot = world.lot(period, "66666")
    bidder = world.paid_bidder(period)
    world.start()
    world.bid(bidder, lot, amount=START_PRICE)
    world.close_and_settle()
    # closed Friday 20:01 China time: one working day is Monday 30 Nov, due at its end
    assert world.settlement(lot).due_at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def test_a_paid_balance_issues_the_plate_to_the_winning_vin(world: SettlementWorld) -> None:
    _, _, bob, lot = won_auction(world)
    settlement = world.settlement(lot)
    assert settlement.balance_order_id is not None
    world.pay(world.order(settlement.balance_order_id))
    settled = world.settlement(lot)
    assert (settled.state, settled.vin) == (SettlementState.ISSUED, bob.vins[0])
    assert world.pool_state("88888") == "issued"
    assert numbers_now(world, settled.period_id) == ["issued"]
    deposit = world.order(bob.deposit_order_id)
    # one share refunded (it won nothing), the other counted towards the price: nothing left
    assert (deposit.state, deposit.refunded, deposit.kept, deposit.refundable) == (
        OrderState.PAID,
        DEPOSIT,
        DEPOSIT,
        0,
    )
    assert world.told(bob.account_id)[-1] == (
        f"号牌助手：余款¥6,000已收到，号牌粤D·88888已登记给车架号{bob.vins[0]}的车辆。"
    )
    assert_not_a_lot_again(world)


def test_an_unpaid_balance_forfeits_the_deposit_share_and_the_plate_goes_back_to_staff(
    world: SettlementWorld,
) -> None:
    period, _, bob, lot = won_auction(world)
    settlement = world.settlement(lot)
    assert_not_a_lot_again(world)  # the winner may still pay
    assert numbers_now(world, period) == ["awaiting_balance"]
    world.clock.set(settlement.due_at)
    world.run_timers()
    assert world.settlement(lot).state is SettlementState.AWAITING_BALANCE, "not before the end"
    world.clock.advance(timedelta(seconds=1))
    world.run_timers()
    assert world.settlement(lot).state is SettlementState.FORFEITED
    assert settlement.balance_order_id is not None
    assert world.order(settlement.balance_order_id).state is OrderState.EXPIRED
    deposit = world.order(bob.deposit_order_id)
    assert (deposit.state, deposit.refunded, deposit.kept) == (
        OrderState.FORFEITED,
        DEPOSIT,
        DEPOSIT,
    )
    assert world.told(bob.account_id, language=Language.EN)[-1] == (
        "platebot: the balance for 粤D·88888 was not paid in time. Your deposit of ¥5,000 is "
        "forfeited and the plate goes back to the office."
    )
    # back with staff: held back (so the lot list says), a lot of another period again, and the
    # VIN free for another signup
    assert numbers_now(world, period) == ["held_back"]
    relisted = world.lot(world.later_period(), "88888")
    assert world.lot_now(relisted).state is LotState.OPEN
    assert numbers_now(world, period) == ["in_auction"]
    with world.uow() as uow:
        assert uow.auctions.live_vins([bob.vins[0]]) == set()


def test_shares_that_won_nothing_are_refunded_once(world: SettlementWorld) -> None:
    period, alice, bob, _ = won_auction(world)
    alice_deposit = world.order(alice.deposit_order_id)
    assert (alice_deposit.state, alice_deposit.refunded) == (OrderState.REFUNDED, DEPOSIT)
    assert world.order(bob.deposit_order_id).refunded == DEPOSIT  # his share that lost
    assert world.told(alice.account_id) == [
        "号牌助手：竞价期“2026年第12期”已结束，保证金中未用于价款的¥5,000已原路退回。"
    ]
    # the close's consequences again (a timer run twice, a handler retried): nothing more
    world.run_timers()
    with world.uow() as uow:
        refund_losing_shares(uow, PeriodClosed(period_id=period, closed_at=world.clock.now()))
        uow.commit()
    world.run_timers()
    for bidder in (alice, bob):
        assert [r.state for r in world.refunds(bidder.signup_id)] == [RefundState.DONE]
        with world.uow() as uow:
            refunds = [m for m in uow.orders.moves(bidder.deposit_order_id)]
        assert [m.kind for m in refunds].count(MoveKind.REFUNDED) == 1
    assert world.order(alice.deposit_order_id).refunded == DEPOSIT
    assert len(world.told(alice.account_id)) == 1


def test_an_unsold_period_refunds_every_deposit(world: SettlementWorld) -> None:
    period = world.period()
    lot = world.lot(period, "99999")
    carol = world.paid_bidder(period, shares=3)
    world.start()
    world.close_and_settle()
    assert world.lot_now(lot).state is LotState.UNSOLD
    deposit = world.order(carol.deposit_order_id)
    assert (deposit.state, deposit.refunded) == (OrderState.REFUNDED, 3 * DEPOSIT)
    assert world.told(carol.account_id) == [
        "号牌助手：竞价期“2026年第12期”已结束，保证金中未用于价款的¥15,000已原路退回。"
    ]


def test_cancelling_a_period_before_it_starts_refunds_deposits_and_tells_every_bidder(
    world: SettlementWorld,
) -> None:
    period = world.period()
    world.lot(period, "88888")
    paid = world.paid_bidder(period, shares=2)
    unpaid_account = world.account()
    unpaid_signup = world.signup(period, world.new_vins(1), unpaid_account)
    pending = world.deposit_order(unpaid_account, unpaid_signup)
    staff = StaffAuctions(world.uow, world.clock, GATEWAY)
    cancelled = staff.cancel_period(period)
    assert cancelled["state"] == "cancelled"
    assert [lot["state"] for lot in staff.lots(period)] == ["withdrawn"]
    deposit = world.order(paid.deposit_order_id)
    assert (deposit.state, deposit.refunded) == (OrderState.REFUNDED, 2 * DEPOSIT)
    assert pending.id is not None and world.order(pending.id).state is OrderState.CANCELLED
    assert world.told(paid.account_id) == [  # one message: the refund is made with it
        "号牌助手：竞价期“2026年第12期”已取消，已交保证金¥10,000将原路退回。",
    ]
    assert world.told(unpaid_account, language=Language.EN) == [
        'platebot: the auction period "2026年第12期" is cancelled, and so are your signup and '
        "its unpaid deposit order (¥5,000)."
    ]
    with world.uow() as uow:  # the VINs are free for another period
        assert uow.auctions.live_vins(paid.vins) == set()


def test_a_deposit_paid_at_the_counter_is_left_for_the_counter_to_hand_back(
    world: SettlementWorld,
) -> None:
    period = world.period()
    world.lot(period, "99999")
    account_id = world.account()
    signup_id = world.signup(period, world.new_vins(1), account_id)
    order = world.deposit_order(account_id, signup_id)
    with world.uow() as uow:
        pay_at_counter(
            uow, order_id=order.id or 0, receipt="R-1", staff="王芳", now=world.clock.now()
        )
        auctions.deposit_paid(uow, clock=world.clock, signup_id=signup_id)
        uow.commit()
    world.start()
    world.close_and_settle()
    assert [r.state for r in world.refunds(signup_id)] == [RefundState.AT_COUNTER]
    staff = StaffAuctions(world.uow, world.clock, GATEWAY)
    assert [(r["order_id"], r["amount"], r["state"]) for r in staff.refunds(period)] == [
        (order.id, "¥5,000", "at_counter")
    ]
    assert world.order(order.id or 0).state is OrderState.PAID  # staff refund it with a receipt


def test_a_winner_who_cancels_the_balance_order_forfeits_the_deposit_share(
    world: SettlementWorld,
) -> None:
    _, _, bob, lot = won_auction(world)
    balance = world.settlement(lot).balance_order_id
    with world.uow() as uow:
        cancel_order(uow, order_id=balance or 0, now=world.clock.now(), cause=Cause.USER)
        uow.commit()
    assert world.settlement(lot).state is SettlementState.FORFEITED
    assert world.order(bob.deposit_order_id).state is OrderState.FORFEITED
    told = world.told(bob.account_id)[-1]  # why: given up, not "not paid in time"
    assert told.endswith("的余款订单已取消，号牌退回车管所，保证金¥5,000不予退还。"), told


def test_a_price_below_one_deposit_share_is_settled_at_once_and_the_rest_refunded(
    world: SettlementWorld,
) -> None:
    period = world.period()
    lot = world.lot(period, "99999", price=3 * K)
    dave = world.paid_bidder(period)
    world.start()
    world.bid(dave, lot, amount=3 * K)
    world.close_and_settle()
    settled = world.settlement(lot)
    assert (settled.state, settled.balance_fen, settled.balance_order_id) == (
        SettlementState.ISSUED,
        0,
        None,
    )
    assert world.pool_state("99999") == "issued"
    assert world.told(dave.account_id)[0] == (  # one message: won, and the plate is theirs
        f"号牌助手：您以¥3,000竞得粤D·99999，保证金已抵全款，号牌已登记给车架号{dave.vins[0]}的车辆。"
    )
    deposit = world.order(dave.deposit_order_id)
    assert (deposit.kept, deposit.refunded, deposit.refundable) == (3 * K, 2 * K, 0)


def test_winners_told_before_migration_0019_are_not_told_again(
    world: SettlementWorld, db: Engine
) -> None:
    """Before 0019 the close's handler told the winner at once: the upgrade marks those told."""
    *_, lot = won_auction(world)
    config = migrate.alembic_config(db)
    try:
        command.downgrade(config, "0018_staff_accounts")
    finally:
        migrate.upgrade(db)
    settlement = world.settlement(lot)
    assert settlement.winner_told_at == settlement.created_at
    with world.uow() as uow:
        assert uow.settlements.claim_untold(10) == []


def test_a_lot_that_closes_unsold_gives_the_number_back_to_the_office(
    world: SettlementWorld,
) -> None:
    period = world.period()
    lot = world.lot(period, "66666")
    world.paid_bidder(period)  # signed up, never bids
    assert numbers_now(world, period) == ["in_auction"]
    world.start()
    world.close_and_settle()
    assert world.lot_now(lot).state is LotState.UNSOLD
    assert numbers_now(world, period) == ["held_back"]
    assert world.pool_state("66666") is None  # never pooled: held back for the office
    lot_again(world, "66666")
    assert numbers_now(world, period) == ["in_auction"]


def test_a_withdrawn_lot_or_a_cancelled_period_gives_the_number_back_to_the_office(
    world: SettlementWorld,
) -> None:
    period = world.period()
    withdrawn = world.lot(period, "66666")
    world.lot(period, "99999")
    staff = StaffAuctions(world.uow, world.clock, GATEWAY)
    staff.withdraw_lot(withdrawn)
    assert numbers_now(world, period) == ["held_back", "in_auction"]
    staff.cancel_period(period)
    assert numbers_now(world, period) == ["held_back", "held_back"]
    lot_again(world, "66666")
    lot_again(world, "99999")


@pytest.mark.parametrize("lots", ["withdrawn", "none"])
def test_a_period_that_starts_with_no_lot_to_bid_on_closes_and_refunds_its_deposits(
    world: SettlementWorld, lots: str
) -> None:
    period = world.period()
    staff = StaffAuctions(world.uow, world.clock, GATEWAY)
    kept, withdrawn = world.lot(period, "66666"), world.lot(period, "88888")
    paid = world.paid_bidder(period, shares=2)
    unpaid = world.account()  # signed up, deposit not paid yet: told too
    world.signup(period, world.new_vins(1), unpaid)
    staff.withdraw_lot(withdrawn)
    for account in (paid.account_id, unpaid):
        assert world.told(account)[-1] == (
            "号牌助手：竞价期“2026年第12期”的号牌粤D·88888已由车管所撤拍，其余号牌照常竞买。"
        )
    if lots == "withdrawn":  # the last one too
        staff.withdraw_lot(kept)
        assert world.told(paid.account_id)[-1] == (
            "号牌助手：竞价期“2026年第12期”的号牌粤D·66666已由车管所撤拍，本期已无号牌可竞买："
            "到开始时间即结束，已交保证金原路退回。"
        )
    world.run_timers()
    assert staff.periods()[0]["state"] == "signup"  # not started yet: nothing closes
    world.start()
    world.run_timers()
    if lots == "none":  # the lot left was bid on as usual
        assert [(p["id"], p["state"]) for p in staff.periods()] == [(period, "bidding")]
        return
    assert [(p["id"], p["state"]) for p in staff.periods()] == [(period, "closed")]
    deposit = world.order(paid.deposit_order_id)
    assert (deposit.state, deposit.refunded) == (OrderState.REFUNDED, 2 * DEPOSIT)
    assert world.told(paid.account_id)[-1] == (
        "号牌助手：竞价期“2026年第12期”已结束，保证金中未用于价款的¥10,000已原路退回。"
    )
    with world.uow() as uow:  # the VINs are free for another period
        assert uow.auctions.live_vins(paid.vins) == set()
    world.run_timers()
    assert world.order(paid.deposit_order_id).refunded == 2 * DEPOSIT  # refunded once


def test_a_period_published_without_lots_closes_at_its_start_and_refunds_its_deposits(
    world: SettlementWorld,
) -> None:
    period = world.period()
    paid = world.paid_bidder(period, shares=1)
    world.start()
    world.run_timers()
    staff = StaffAuctions(world.uow, world.clock, GATEWAY)
    assert [(p["id"], p["state"]) for p in staff.periods()] == [(period, "closed")]
    deposit = world.order(paid.deposit_order_id)
    assert (deposit.state, deposit.refunded) == (OrderState.REFUNDED, DEPOSIT)
