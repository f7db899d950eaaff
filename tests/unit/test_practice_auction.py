"""The practice auction's rival and the countdown shown at send time: pure rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import practice_auction as practice
from core.outbox import at_send
from core.practice_auction import Bidder, Move

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
S = timedelta(seconds=1)
K = 100_000


def test_the_rival_answers_each_lead_with_the_smallest_raise_up_to_its_limit() -> None:
    lot = practice.new_lot(T0)
    moves = [lot.bid(K, T0 + n * S) for n in range(1, 5)]
    assert moves == [Move.ANSWERED, Move.ANSWERED, Move.ANSWERED, Move.ACCEPTED]
    assert [bid.amount_fen // 100 for bid in lot.bids] == [
        11_000,
        12_000,
        13_000,
        14_000,
        15_000,
        16_000,
        17_000,
    ]
    assert lot.leader is Bidder.ME and lot.deadline == T0 + 4 * S + practice.BID_COUNTDOWN
    assert lot.bid(K, T0 + 5 * S) is Move.ALREADY_LEADING
    assert lot.bid(K, lot.deadline) is Move.TOO_LATE, "at the deadline: closed"


def test_the_rival_opens_a_lot_nobody_bid_on_and_wins_it_when_left_alone() -> None:
    lot = practice.new_lot(T0)
    lot.catch_up(T0 + practice.RIVAL_OPENS_AFTER - S)
    assert lot.bids == []
    lot.catch_up(T0 + practice.RIVAL_OPENS_AFTER)
    assert (lot.leader, lot.price_fen) == (Bidder.RIVAL, practice.START_FEN)
    assert not lot.closed(lot.deadline - S) and lot.closed(lot.deadline)
    assert practice.from_data(practice.to_data(lot)) == lot


def test_an_increment_that_is_not_allowed_is_refused() -> None:
    lot = practice.new_lot(T0)
    assert lot.bid(500_000, T0) is Move.NOT_ALLOWED and lot.bids == []


def test_a_countdown_param_is_counted_when_the_message_is_rendered() -> None:
    params = {"left_until": (T0 + 50 * S).isoformat(), "plate": "粤D·88888"}
    assert at_send(params, T0 + 0.5 * S) == {"left": 50, "plate": "粤D·88888"}
    assert at_send(params, T0 + 60 * S) == {"left": 0, "plate": "粤D·88888"}


def test_the_starting_price_is_a_first_bid_only() -> None:
    lot = practice.new_lot(T0)
    assert lot.bid(None, T0 + S) is Move.ANSWERED, "the rival answers the starting price"
    assert [bid.amount_fen // 100 for bid in lot.bids] == [10_000, 11_000]
    assert lot.bid(None, T0 + 2 * S) is Move.HAS_PRICE
    assert len(lot.bids) == 2, "refused, not made a raise"
