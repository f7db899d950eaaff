"""Bidding on a lot (SPEC §7): the countdowns by the server's clock, every refusal kept in the
lot's audit trail, VINs locked while leading, and the close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from bench.auction_load import check_invariants
from core import auction_errors as errors
from core.accounts import Language
from core.auctions import YUAN, LotState, PeriodState
from core.bidding import BidPlaced, BidResult, LotClosed, MaximumExceeded, Outbid, PeriodClosed
from dialogs.catalog import render_text
from dialogs.replies import Text
from tests.auction_world import START_PRICE, AuctionWorld

MINUTE = timedelta(minutes=1)
MS = timedelta(milliseconds=1)
K = 1_000 * YUAN


@pytest.fixture
def world(db: Engine) -> AuctionWorld:
    return AuctionWorld(db)


def accepted(outcome: object) -> BidResult:
    assert isinstance(outcome, BidResult), outcome
    return outcome


def test_a_lot_opens_at_the_start_with_the_opening_countdown(world: AuctionWorld) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    alice = world.bidder(period)
    world.clock.set(world.starts_at - MS)
    assert isinstance(world.bid(alice, lot, increment=K), errors.LotNotOpen)
    world.start()
    assert world.lot_now(lot).deadline == world.starts_at + timedelta(minutes=5)
    world.clock.advance(timedelta(minutes=4, seconds=59))
    result = accepted(world.bid(alice, lot, increment=K))
    assert result.amount_fen == START_PRICE + K
    assert result.deadline == world.clock.now() + MINUTE, "the bid countdown from the bid"


def test_a_lot_nobody_bids_on_closes_unsold_when_the_opening_countdown_ends(
    world: AuctionWorld,
) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    world.start()
    world.clock.advance(timedelta(minutes=5) - MS)
    assert world.close_due() == 0
    world.clock.advance(MS)
    assert world.close_due() == 1
    closed = world.lot_now(lot)
    assert closed.state is LotState.UNSOLD and closed.closed_at == world.starts_at + 5 * MINUTE
    assert [e.sold for e in world.of_type(LotClosed)] == [False]


def test_each_accepted_bid_resets_the_deadline_and_the_lot_closes_exactly_at_it(
    world: AuctionWorld,
) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    world.clock.advance(timedelta(seconds=30))
    accepted(world.bid(alice, lot, amount=START_PRICE))
    world.clock.advance(timedelta(seconds=59))
    last = accepted(world.bid(bob, lot, increment=2 * K))
    assert last.deadline == world.clock.now() + MINUTE
    world.clock.set(last.deadline - MS)
    assert world.close_due() == 0, "not before the deadline"
    world.clock.set(last.deadline)
    assert world.close_due() == 1
    assert world.close_due() == 0, "closed once"
    closed = world.lot_now(lot)
    assert closed.state is LotState.SOLD
    assert (closed.price_fen, closed.leader_signup_id) == (START_PRICE + 2 * K, bob.signup_id)
    assert closed.closed_at == last.deadline
    assert check_invariants(world.engine, [lot]) == []
    (event,) = world.of_type(LotClosed)
    assert (event.sold, event.price_fen, event.winner_signup_id) == (
        True,
        START_PRICE + 2 * K,
        bob.signup_id,
    )


def test_a_bid_one_millisecond_after_the_deadline_is_refused_before_the_close_runs(
    world: AuctionWorld,
) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    first = accepted(world.bid(alice, lot, amount=START_PRICE))
    world.clock.set(first.deadline + MS)
    assert isinstance(world.bid(bob, lot, increment=K), errors.BidAfterDeadline)
    world.clock.set(first.deadline)
    assert isinstance(world.bid(bob, lot, increment=K), errors.BidAfterDeadline), "at it too"
    assert world.lot_now(lot).price_fen == START_PRICE
    refused = world.trail(lot)[1:]
    assert [(r.accepted, r.refusal) for r in refused] == [(False, "auction.after_deadline")] * 2


def test_every_refusal_is_kept_in_the_lots_trail_with_its_reason(world: AuctionWorld) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    other = world.lot(period, "66666")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    assert isinstance(world.bid(alice, lot, amount=START_PRICE - 1), errors.BidTooLow)
    accepted(world.bid(alice, lot, amount=START_PRICE))
    assert isinstance(world.bid(alice, lot, increment=K), errors.AlreadyLeading)
    assert isinstance(world.bid(bob, lot, amount=START_PRICE), errors.BidTooLow)
    assert isinstance(
        world.bid(bob, lot, amount=START_PRICE + 1500 * YUAN), errors.NotAnAllowedIncrement
    )
    assert isinstance(world.bid(bob, lot, increment=1500 * YUAN), errors.NotAnAllowedIncrement)
    assert isinstance(world.bid(alice, other, amount=START_PRICE), errors.VinLocked)
    accepted(world.bid(bob, lot, amount=START_PRICE + 5 * K))
    trail = world.trail(lot)
    assert [(r.accepted, r.refusal) for r in trail] == [
        (False, "auction.bid_too_low"),
        (True, None),
        (False, "auction.already_leading"),
        (False, "auction.bid_too_low"),
        (False, "auction.not_an_increment"),
        (False, "auction.not_an_increment"),
        (True, None),
    ]
    assert [r.seq for r in trail if r.accepted] == [1, 2]
    assert [(r.accepted, r.refusal) for r in world.trail(other)] == [(False, "auction.vin_locked")]


def test_a_vin_is_freed_when_outbid_and_used_up_when_its_lot_is_won(world: AuctionWorld) -> None:
    period = world.period()
    first, second, third = (world.lot(period, serial) for serial in ("88888", "66666", "99999"))
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    accepted(world.bid(alice, first, amount=START_PRICE))
    assert isinstance(world.bid(alice, second, amount=START_PRICE), errors.VinLocked)
    accepted(world.bid(bob, first, increment=K))
    assert [e.signup_id for e in world.of_type(Outbid)] == [alice.signup_id]
    accepted(world.bid(alice, second, amount=START_PRICE))  # free again once outbid
    world.clock.advance(2 * MINUTE)
    assert world.close_due() == 2, "the third lot, without bids, is open for 3 minutes more"
    assert isinstance(world.bid(bob, third, amount=START_PRICE), errors.VinLocked)
    with world.uow() as uow:
        assert uow.auctions.free_shares(bob.signup_id) == []


def test_a_bid_names_a_vin_only_when_more_than_one_is_free(world: AuctionWorld) -> None:
    period = world.period()
    first, second = world.lot(period, "88888"), world.lot(period, "66666")
    carol = world.bidder(period, shares=2)
    world.start()
    assert isinstance(world.bid(carol, first, amount=START_PRICE, share=None), errors.ChooseVin)
    accepted(world.bid(carol, first, amount=START_PRICE, share=0))
    result = accepted(world.bid(carol, second, amount=START_PRICE, share=None))
    assert result.leading
    assert world.lot_now(second).leader_share_id == carol.share_ids[1]
    assert isinstance(world.bid(carol, second, increment=K, share=None), errors.NoFreeVin)


def test_a_period_closes_with_its_last_lot_and_frees_the_vins_that_won_nothing(
    world: AuctionWorld,
) -> None:
    period = world.period()
    first, second = world.lot(period, "88888"), world.lot(period, "66666")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    accepted(world.bid(alice, first, amount=START_PRICE))
    world.clock.advance(timedelta(minutes=1))
    assert world.close_due() == 1
    assert world.of_type(PeriodClosed) == []
    world.clock.advance(timedelta(minutes=5))
    assert world.close_due() == 1
    assert [e.period_id for e in world.of_type(PeriodClosed)] == [period]
    with world.uow() as uow:
        stored = uow.auctions.period(period)
        assert stored is not None and stored.state is PeriodState.CLOSED
        assert uow.auctions.live_vins([*alice.vins, *bob.vins]) == set(alice.vins)
    assert len(world.of_type(BidPlaced)) == 1
    assert world.lot_now(second).state is LotState.UNSOLD


def test_a_maximum_answers_each_outbid_by_the_smallest_increment_until_exceeded(
    world: AuctionWorld,
) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    world.maximum(alice, lot, START_PRICE + 3 * K)
    assert world.lot_now(lot).price_fen == START_PRICE, "not leading: it bids at once"
    answered = accepted(world.bid(bob, lot, increment=K))
    assert (answered.leading, answered.price_fen, answered.automatic_bids) == (
        False,
        START_PRICE + 2 * K,
        1,
    )
    beyond = accepted(world.bid(bob, lot, increment=2 * K))
    assert (beyond.leading, beyond.price_fen) == (True, START_PRICE + 4 * K)
    (exceeded,) = world.of_type(MaximumExceeded)
    assert (exceeded.signup_id, exceeded.max_fen) == (alice.signup_id, START_PRICE + 3 * K)
    trail = [(r.signup_id, r.amount_fen, r.automatic) for r in world.trail(lot) if r.accepted]
    assert trail == [
        (alice.signup_id, START_PRICE, True),
        (bob.signup_id, START_PRICE + K, False),
        (alice.signup_id, START_PRICE + 2 * K, True),
        (bob.signup_id, START_PRICE + 4 * K, False),
    ]
    assert world.lot_now(lot).maxima == 0
    assert check_invariants(world.engine, [lot]) == []


def test_of_two_equal_maxima_the_earlier_leads(world: AuctionWorld) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    world.maximum(alice, lot, START_PRICE + 5 * K)
    world.clock.advance(timedelta(seconds=1))
    world.maximum(bob, lot, START_PRICE + 5 * K)
    stored = world.lot_now(lot)
    assert stored.leader_signup_id == alice.signup_id
    assert stored.price_fen is not None and stored.price_fen <= START_PRICE + 5 * K
    assert [e.signup_id for e in world.of_type(MaximumExceeded)] == [bob.signup_id]


def test_a_vin_behind_a_maximum_bids_on_no_other_lot(world: AuctionWorld) -> None:
    period = world.period()
    first, second = world.lot(period, "88888"), world.lot(period, "66666")
    carol, bob = world.bidder(period, shares=2), world.bidder(period)
    world.start()
    accepted(world.bid(carol, first, amount=START_PRICE, share=0))
    world.maximum(carol, first, START_PRICE + 5 * K, share=1)
    refused = world.bid(carol, second, amount=START_PRICE, share=1)
    assert isinstance(refused, errors.VinBehindMaximum) and refused.params["lot"] == first
    message = render_text(
        Text(f"error.{refused.code}", {**refused.params, "lot": "1"}), Language.EN
    )
    assert message == (  # why, and what frees it: not "leads or won", which it does not
        "Vehicle LGBH52E0XNY000002 bids automatically on lot 1 (your maximum there): it cannot "
        "bid on another lot. MAX 0 on that lot stops it."
    )
    accepted(world.bid(bob, first, increment=5 * K))  # beyond her maximum: it ends
    assert [e.signup_id for e in world.of_type(MaximumExceeded)] == [carol.signup_id]
    accepted(world.bid(carol, second, amount=START_PRICE, share=1))
